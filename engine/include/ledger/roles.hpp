// The roles of API.md and what their scope names.
#pragma once

#include <string_view>

namespace ledger {

enum class ScopeKind { none, region, dealer, store, member };

struct RoleInfo {
  std::string_view name;
  ScopeKind scope;
};

inline constexpr RoleInfo roles[] = {
    {"hq_admin", ScopeKind::none}, {"region_manager", ScopeKind::region}, {"sales_director", ScopeKind::none},
    {"finance", ScopeKind::none},  {"dealer", ScopeKind::dealer},         {"store", ScopeKind::store},
    {"member", ScopeKind::member}, {"auditor", ScopeKind::none},
};

inline const RoleInfo* find_role(std::string_view name) {
  for (const auto& r : roles) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace ledger

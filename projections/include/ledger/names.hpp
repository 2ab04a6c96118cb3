// Interned names: projections key their tables by small integers instead of strings. Index 0 is the
// empty name, so "no dealer" or "no store" costs nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger_state.hpp"
#include "ledger/snapshot.hpp"

namespace ledger {

class Names {
 public:
  Names() { intern(""); }
  std::uint32_t intern(std::string_view name) {
    auto it = index_.find(name);
    if (it != index_.end()) return it->second;
    auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    index_.emplace(std::string(name), id);
    return id;
  }
  // 0 ("") when never interned.
  std::uint32_t find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? 0 : it->second;
  }
  bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }
  const std::string& operator[](std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

  void save(SnapshotWriter& out) const {
    out.u64(names_.size());
    for (const auto& n : names_) out.str(n);
  }
  bool load(SnapshotReader& in) {
    *this = Names{};
    std::uint64_t n = in.count(8);
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
      std::string name = in.str();
      if (i == 0) {
        if (!name.empty()) in.fail();
        continue;
      }
      if (contains(name)) in.fail();  // a duplicate would break the id order
      intern(name);
    }
    return in.ok() && n >= 1;
  }

 private:
  std::vector<std::string> names_;
  StringMap<std::uint32_t> index_;
};

}  // namespace ledger

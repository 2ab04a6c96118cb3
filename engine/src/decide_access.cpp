// Access tokens as events: issuing stores the token's SHA-256 with its role and scope; revoking
// marks it. The token itself never reaches the log.
#include <fmt/format.h>

#include "decide.hpp"
#include "ledger/location.hpp"
#include "ledger/roles.hpp"

namespace ledger {

namespace {

Status check_scope(const LedgerState& state, const RoleInfo& role, const std::string& scope) {
  if (role.scope == ScopeKind::none) {
    if (!scope.empty()) {
      return make_error(ErrorCode::invalid_argument, fmt::format("role {} takes no scope", role.name)).with("field", "scope");
    }
    return Ok{};
  }
  if (auto st = check_id(scope, "scope"); !st) return st;
  bool known = true;
  switch (role.scope) {
    case ScopeKind::region: known = state.region(scope) != nullptr; break;
    case ScopeKind::dealer: known = state.dealer(scope) != nullptr; break;
    case ScopeKind::store: known = state.store(scope) != nullptr; break;
    default: break;  // members are defined by the marketing issue; any member id is accepted
  }
  if (!known) {
    return make_error(ErrorCode::unknown_id, fmt::format("scope '{}' of role {} is not defined", scope, role.name))
        .with("field", "scope");
  }
  return Ok{};
}

Status issue_token(const LedgerState& state, const IssueToken& c, EventSink& sink) {
  if (auto st = check_id(c.prefix, "prefix"); !st) return st;
  if (state.token(c.prefix) != nullptr) {
    return make_error(ErrorCode::already_exists, fmt::format("token prefix '{}' is taken", c.prefix)).with("field", "prefix");
  }
  const RoleInfo* role = find_role(c.role);
  if (role == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("'{}' is not a role: hq_admin, region_manager, sales_director, finance, dealer, "
                                  "store, member or auditor",
                                  c.role))
        .with("field", "role");
  }
  if (auto st = check_scope(state, *role, c.scope); !st) return st;
  auto& b = sink.builder();
  fb::Hash32 hash(flatbuffers::span<const std::uint8_t, 32>(c.token_sha256.data(), 32));
  auto body = fb::CreateTokenIssuedDirect(b, c.prefix.c_str(), &hash, c.role.c_str(), c.scope.c_str());
  sink.emit(fmt::format("token:{}", c.prefix), fb::Body::TokenIssued, body.Union());
  return Ok{};
}

Status revoke_token(const LedgerState& state, const RevokeToken& c, EventSink& sink) {
  if (auto st = check_id(c.prefix, "prefix"); !st) return st;
  const TokenRecord* t = state.token(c.prefix);
  if (t == nullptr) return make_error(ErrorCode::unknown_id, fmt::format("no token with prefix '{}'", c.prefix));
  if (t->revoked) {
    return make_error(ErrorCode::illegal_transition, fmt::format("token '{}' is already revoked", c.prefix));
  }
  auto& b = sink.builder();
  auto body = fb::CreateTokenRevokedDirect(b, c.prefix.c_str());
  sink.emit(fmt::format("token:{}", c.prefix), fb::Body::TokenRevoked, body.Union());
  return Ok{};
}

}  // namespace

Status decide_access(const LedgerState& state, const CommandBody& body, EventSink& sink) {
  if (const auto* c = std::get_if<IssueToken>(&body)) return issue_token(state, *c, sink);
  if (const auto* c = std::get_if<RevokeToken>(&body)) return revoke_token(state, *c, sink);
  return make_error(ErrorCode::invalid_argument, "not an access command");
}

}  // namespace ledger

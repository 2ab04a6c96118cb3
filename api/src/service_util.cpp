#include "service_util.hpp"

#include <charconv>

#include "ledger/event_json.hpp"

namespace ledger::api {


std::string percent_decode(std::string_view in, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

// A whole decimal u64, nothing else: no sign, spaces, junk or overflow.
std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string json_str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string hex_of(const Hash32& h, std::size_t chars) { return to_hex(h).substr(0, chars); }

ApiError forbidden(std::string message) { return ApiError{403, "forbidden", std::move(message), {}, 0}; }
ApiError not_found(std::string message) { return ApiError{404, "not_found", std::move(message), {}, 0}; }

const std::string* region_of_location(const LedgerState& s, const Location& l) {
  switch (l.kind) {
    case LocationKind::warehouse: return s.warehouse(l.id) ? &s.warehouse(l.id)->region : nullptr;
    case LocationKind::dealer: return s.dealer(l.id) ? &s.dealer(l.id)->region : nullptr;
    case LocationKind::store: return s.store(l.id) ? &s.store(l.id)->region : nullptr;
    default: return nullptr;
  }
}

// A principal sees a location when it is in its scope (API.md: a dealer never sees another
// dealer's stock). Transit and virtual locations are for the global roles only.
bool can_see(const Principal& p, const LedgerState& s, std::string_view location) {
  if (p.global_read()) return true;
  auto l = parse_location(location);
  if (!l) return false;
  if (p.role == "region_manager") {
    const std::string* region = region_of_location(s, *l);
    return region != nullptr && *region == p.scope;
  }
  if (p.role == "dealer") {
    if (l->kind == LocationKind::dealer) return l->id == p.scope;
    return l->kind == LocationKind::store && s.store(l->id) != nullptr && s.store(l->id)->dealer == p.scope;
  }
  if (p.role == "store") return l->kind == LocationKind::store && l->id == p.scope;
  return false;
}

// Moving stock out of a location: HQ anywhere; a region, dealer or store within its scope.
bool can_move_from(const Principal& p, const LedgerState& s, std::string_view location) {
  if (p.role == "hq_admin") return true;
  if (p.role == "region_manager" || p.role == "dealer" || p.role == "store") return can_see(p, s, location);
  return false;
}

// Where a scoped principal may send stock: within its scope, back to an HQ warehouse, and for a
// store also to its dealer and sibling stores (DESIGN.md: stores transfer with a sibling store).
bool can_ship_to(const Principal& p, const LedgerState& s, std::string_view to) {
  if (p.role == "hq_admin") return true;
  if (can_see(p, s, to)) return true;
  auto l = parse_location(to);
  if (!l) return false;
  if (l->kind == LocationKind::warehouse) return true;
  if (p.role == "store" && s.store(p.scope) != nullptr) {
    const std::string& dealer = s.store(p.scope)->dealer;
    if (l->kind == LocationKind::dealer) return l->id == dealer;
    if (l->kind == LocationKind::store) return s.store(l->id) != nullptr && s.store(l->id)->dealer == dealer;
  }
  return false;
}


Response json_response(const Request& req, http::status status, std::string body, std::uint64_t seq) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set("X-Ledger-Seq", std::to_string(seq));
  res.body() = std::move(body);
  return res;
}

bool acts_for(const Principal& p, std::string_view party) {
  if (p.role == "hq_admin") return true;
  if (party == "hq") return false;
  auto colon = party.find(':');
  if (colon == std::string_view::npos) return false;
  return party.substr(0, colon) == p.role && party.substr(colon + 1) == p.scope;
}

bool dealer_visible(const Principal& p, const LedgerState& s, std::string_view dealer) {
  const DealerRecord* d = s.dealer(dealer);
  if (d == nullptr) return false;
  if (p.global_read()) return true;
  if (p.role == "region_manager") return d->region == p.scope;
  return p.role == "dealer" && p.scope == dealer;
}

bool member_visible(const Principal& p, const LedgerState& s, std::string_view member) {
  const MemberRecord* m = s.member(member);
  if (m == nullptr) return false;
  if (p.global_read()) return true;
  if (p.role == "member") return p.scope == member;
  const StoreRecord* home = s.store(m->home_store);
  if (home == nullptr) return false;
  if (p.role == "store") return p.scope == m->home_store;
  if (p.role == "dealer") return p.scope == home->dealer;
  return p.role == "region_manager" && p.scope == home->region;
}

bool Principal::global_read() const {
  return role == "hq_admin" || role == "auditor" || role == "sales_director" || role == "finance";
}

}  // namespace ledger::api

// Small pieces the request handlers share: parsing, JSON strings, and who may see or move what.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_error.hpp"
#include "ledger/hash.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/location.hpp"
#include "service.hpp"

namespace ledger::api {

inline constexpr std::size_t page_rows_default = 1000;
inline constexpr std::size_t page_rows_max = 10000;

std::string percent_decode(std::string_view in, bool plus_is_space);
// A whole decimal u64, nothing else: no sign, spaces, junk or overflow.
std::optional<std::uint64_t> parse_u64(std::string_view text);
std::vector<std::string> split(std::string_view s, char sep);
std::string json_str(std::string_view s);
std::string hex_of(const Hash32& h, std::size_t chars);
ApiError forbidden(std::string message);
Response json_response(const Request& req, http::status status, std::string body, std::uint64_t seq);
ApiError not_found(std::string message);

const std::string* region_of_location(const LedgerState& s, const Location& l);
// A principal sees a location when it is in its scope (API.md: a dealer never sees another
// dealer's stock). Transit and virtual locations are for the global roles only.
bool can_see(const Principal& p, const LedgerState& s, std::string_view location);
// Moving stock out of a location: HQ anywhere; a region, dealer or store within its scope.
bool can_move_from(const Principal& p, const LedgerState& s, std::string_view location);
// Where a scoped principal may send stock: within its scope, back to an HQ warehouse, and for a
// store also to its dealer and sibling stores (DESIGN.md: stores transfer with a sibling store).
bool can_ship_to(const Principal& p, const LedgerState& s, std::string_view to);

// A principal acts for `party` (hq, dealer:D, store:S, member:M) when it is that party; hq_admin
// acts for everyone.
bool acts_for(const Principal& p, std::string_view party);
// The global readers, the dealer itself and its region's manager see a dealer's health and credit.
bool dealer_visible(const Principal& p, const LedgerState& s, std::string_view dealer);

// A member is seen by itself, its home store, that store's dealer, the home region's manager and the
// global readers (member records, points, coupons, recommendations).
bool member_visible(const Principal& p, const LedgerState& s, std::string_view member);

}  // namespace ledger::api

// What the projections attribute an order to, one rule for all of them.
#pragma once

#include <string_view>

#include "ledger/ledger_state.hpp"

namespace ledger {

// region: the region the order ships to. dealer: the dealer in its chain (the dealer selling or
// buying, or the dealer of the store selling or buying). store: the store selling or buying. Empty
// when there is none (an hq -> dealer order has no store).
struct OrderKeys {
  std::string_view region, channel, dealer, store;
};
OrderKeys order_keys(const LedgerState& state, const OrderRecord& order);

// Rule breaks visible in an order at placement (DESIGN.md, channel control). below_floor: a line priced
// under the floor for the buyer's level (乱价), the first such SKU named. outside_territory: a dealer
// selling to a store whose region is neither the dealer's region nor in its territory (窜货).
// offender: the dealer answerable, the seller or the selling store's dealer.
struct OrderViolations {
  std::string_view below_floor_sku;
  std::int64_t below_floor_price_cents = 0, floor_cents = 0;
  bool outside_territory = false;
  std::string_view offender;
};
OrderViolations order_violations(const LedgerState& state, const OrderRecord& order);
// A region that is neither the dealer's own nor in its territory: where its goods must not be sold.
// One rule for orders (above) and lots (lot_trace.hpp).
bool outside_territory(const DealerRecord& dealer, std::string_view region);

// Warehouses, dealers and stores: where stock is held and sold from (not transit or virtual locations).
bool is_stocking_location(std::string_view location);

// "dealer:D" -> "D" when `party` is of that kind, else empty.
std::string_view party_id(std::string_view party, std::string_view kind);

// Time buckets. Hours are UTC hours; days and months are China days and months (UTC+8), the
// business's own calendar. Each returns the bucket's start in microseconds since the epoch (UTC).
inline constexpr std::int64_t us_per_hour = 3600LL * 1'000'000;
inline constexpr std::int64_t us_per_day = 24 * us_per_hour;
inline constexpr std::int64_t china_offset_us = 8 * us_per_hour;
std::int64_t hour_start_us(std::int64_t ts_us);
std::int64_t china_day_start_us(std::int64_t ts_us);
std::int64_t china_month_start_us(std::int64_t ts_us);

}  // namespace ledger

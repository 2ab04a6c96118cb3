// Orders as the fold keeps them: one record per order, plus the data that decides orders (approval
// policy, sourcing weights, presale batches, dealer credit and health, warehouse load).
//
// An order's stock is held by reservations named `order.ID.N` that move stock to `transit:order.ID`
// when posted (shipment); delivery moves it on to the buyer. The held, shipped, delivered and
// returned units are kept per SKU, and the status is derived from them, so it can never disagree
// with the stock ledger.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/commands.hpp"
#include "ledger/matcher.hpp"

namespace ledger {

enum class OrderStatus : std::uint8_t {
  placed,             // waiting for approval steps
  approved,           // approved, some units not allocated yet (presale, backorder)
  allocated,          // every unit held at a source location
  partially_shipped,  // some units on the road or delivered
  shipped,            // every unit shipped
  delivered,          // every unit delivered
  completed,          // closed after delivery
  cancelled,          // cancelled before shipment (or its hold expired)
  rejected,           // an approval step said no
};
const char* order_status_name(OrderStatus status);
bool order_status_from_name(std::string_view name, OrderStatus& out);
const char* order_type_name(OrderType type);
bool order_type_from_name(std::string_view name, OrderType& out);

// Sales channels: regional_storefront, dealer_storefront, store, o2o.
bool is_channel(std::string_view name);

// Order ids are at most this long, so that `transit:order.ID` is still a location id.
inline constexpr std::size_t order_id_bytes_max = 48;
std::string order_transit_location(std::string_view order_id);
std::string order_reservation_id(std::string_view order_id, std::uint32_t n);
// The order a reservation or transit location belongs to; empty when none.
std::string_view order_of_transit(std::string_view location);

// Milestones (delay warnings): approval within 4 hours of placement; shipment a day before the
// promised date (at least 12 hours after placement); delivery by the promised date.
inline constexpr std::int64_t approval_due_after_us = 4LL * 3600 * 1'000'000;
inline constexpr std::int64_t shipment_lead_us = 24LL * 3600 * 1'000'000;
inline constexpr std::int64_t shipment_due_after_min_us = 12LL * 3600 * 1'000'000;
// An order's stock is held this long past its promised date; a hold that runs out cancels the order
// (nothing shipped) or returns the units to be allocated again (partly shipped).
inline constexpr std::int64_t order_hold_after_promise_us = 7LL * 24 * 3600 * 1'000'000;
// Days for warehouse load are counted in China time (UTC+8).
inline std::int64_t china_day_of(std::int64_t ts_us) { return (ts_us + 8LL * 3600 * 1'000'000) / (86400LL * 1'000'000); }

// The records below are kept in LedgerState and written to snapshots by engine/src/state_codec.cpp:
// a member added to one must be encoded there too (and ledger_state_snapshot_version bumped).

struct OrderUnits {  // per SKU
  std::int64_t ordered = 0, shipped = 0, delivered = 0, returned = 0;
};

struct OrderApproval {
  std::string step, principal;
  std::int64_t at_us = 0;
};

struct OrderTimelineEntry {
  std::uint64_t seq = 0;
  std::int64_t ts_us = 0;
  std::string kind, principal, note;
};

struct OrderRecord {
  OrderType type = OrderType::spot;
  std::string buyer, seller, channel, ship_to_region;
  std::int32_t ship_to_lat_e6 = 0, ship_to_lon_e6 = 0;
  std::vector<OrderLineInput> lines;
  std::vector<std::string> coupons;
  std::int64_t promised_by_us = 0, pickup_at_us = 0;
  std::int64_t total_cents = 0, discount_cents = 0;
  bool allow_backorder = false;
  std::vector<std::string> approvals_required;
  std::vector<OrderApproval> approvals;
  std::uint64_t placed_seq = 0;
  std::int64_t placed_at_us = 0;
  std::int64_t approved_at_us = 0;  // 0 until every step approved (placed_at_us when none needed)
  std::vector<AllocationInput> allocation;  // every allocation made, in order (reservations may end)
  std::vector<std::string> reservations;    // every reservation that held its stock, in order
  std::map<std::string, OrderUnits, std::less<>> units;  // by SKU
  std::map<std::string, std::string, std::less<>> presale_batch;  // SKU -> batch its quota came from
  std::uint32_t shipments = 0;
  std::int64_t approval_due_us = 0, shipment_due_us = 0, delivery_due_us = 0;  // 0: reached or none
  bool completed = false, cancelled = false, rejected = false;
  std::string end_reason;
  std::vector<OrderTimelineEntry> timeline;

  // Derived by the fold (never set directly): units held by the order's pending reservations.
  std::map<std::string, std::int64_t, std::less<>> held;

  bool approvals_pending() const { return approvals.size() < approvals_required.size(); }
  std::int64_t unallocated(std::string_view sku) const;  // ordered - held - shipped
  std::int64_t in_transit(std::string_view sku) const;   // shipped - delivered
  bool anything_shipped() const;
  bool ended() const { return completed || cancelled || rejected; }
  OrderStatus status() const;
  // The stock location units go to: dealer:D, store:S, or customer for members.
  std::string buyer_location() const;
};

// The floor an order line's unit price is held to: wholesale for a dealer buyer, supply for a store,
// retail for a member. One rule for the writer's approvals and the projections' price alerts.
std::int64_t floor_cents_for(const Prices& floors, std::string_view buyer);

struct PresaleBatchRecord {
  std::string sku, warehouse;
  std::int64_t quota_qty = 0, sold_qty = 0, expected_at_us = 0;
  bool received = false;
  std::vector<std::string> waiting;  // orders to allocate when it arrives, first placed first
};

struct MemberRecord {
  std::string name, home_store;
};

struct DealerAccount {  // what the writer knows of a dealer as a buyer
  std::int64_t credit_used_cents = 0;  // open order value: placed, not cancelled, not returned
  std::int64_t delivered_units = 0, returned_units = 0;
  std::int64_t shipped_cents = 0;  // value of the units shipped to it, less what it returned
  std::int64_t paid_cents = 0;     // payments received (PaymentReceived)

  // What it owes for goods it has: shipped value less payments (negative: paid ahead).
  std::int64_t receivable_cents() const { return shipped_cents - paid_cents; }
  // What its credit line carries: every open order, shipped or not, less payments.
  std::int64_t exposure_cents() const { return credit_used_cents - paid_cents; }
};

// The dealer's health tier, 1 (worst) to 4, as the writer decides approvals with it: credit use and
// return rate. The health projection (boards) scores more; this is the part that gates orders.
int dealer_health_tier(const DealerAccount& account, std::int64_t credit_limit_cents);

struct WarehouseLoad {
  std::int64_t day = 0;    // days since the epoch, China time
  std::int64_t cases = 0;  // cases allocated that day
};

}  // namespace ledger

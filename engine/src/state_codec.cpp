// The LedgerState snapshot codec (ledger/snapshot.hpp): every member of the state, written so that
// decoding gives the same state exactly, and the same state always gives the same bytes.
//
// When a record struct (ledger_state.hpp, orders.hpp, the input structs of commands.hpp kept in the
// state) or LedgerState itself gains a member, the static_asserts at the end of this file fail:
// encode and decode the new member here, bump ledger_state_snapshot_version, then update the count.
#include <fmt/format.h>

#include <algorithm>
#include <boost/pfr.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/location.hpp"
#include "ledger/snapshot.hpp"

namespace ledger {

namespace {

// ---- lower bounds of the encoded size of each type, for SnapshotReader::count: a corrupt count
// fails before anything is allocated for it. Never above the real minimum (that would refuse valid
// snapshots): strings and containers count their 8-byte length only.
constexpr std::size_t min_bytes(const std::string*) { return 8; }
constexpr std::size_t min_bytes(const std::int64_t*) { return 8; }
constexpr std::size_t min_bytes(const std::uint64_t*) { return 8; }
constexpr std::size_t min_bytes(const Prices*) { return 24; }
constexpr std::size_t min_bytes(const StockLineInput*) { return 24; }
constexpr std::size_t min_bytes(const OrderLineInput*) { return 24; }
constexpr std::size_t min_bytes(const AllocationInput*) { return 32; }
constexpr std::size_t min_bytes(const ApprovalRuleInput*) { return 30; }
constexpr std::size_t min_bytes(const Weights*) { return 4 * dimension_count; }
constexpr std::size_t min_bytes(const RegionRecord*) { return 8; }
constexpr std::size_t min_bytes(const WarehouseRecord*) { return 28; }
constexpr std::size_t min_bytes(const DealerRecord*) { return 32; }
constexpr std::size_t min_bytes(const StoreRecord*) { return 32; }
constexpr std::size_t min_bytes(const SkuRecord*) { return 60; }
constexpr std::size_t min_bytes(const TokenRecord*) { return 49; }
constexpr std::size_t min_bytes(const TransferRecord*) { return 25; }
constexpr std::size_t min_bytes(const ReservationRecord*) { return 33; }
constexpr std::size_t min_bytes(const MemberRecord*) { return 16; }
constexpr std::size_t min_bytes(const OrderUnits*) { return 32; }
constexpr std::size_t min_bytes(const OrderApproval*) { return 24; }
constexpr std::size_t min_bytes(const OrderTimelineEntry*) { return 40; }
constexpr std::size_t min_bytes(const OrderRecord*) { return 200; }
constexpr std::size_t min_bytes(const PresaleBatchRecord*) { return 49; }
constexpr std::size_t min_bytes(const DealerAccount*) { return 40; }
constexpr std::size_t min_bytes(const SpendTierInput*) { return 16; }
constexpr std::size_t min_bytes(const CampaignRecord*) { return 150; }
constexpr std::size_t min_bytes(const CouponRecord*) { return 32; }
constexpr std::size_t min_bytes(const PointsLot*) { return 16; }
constexpr std::size_t min_bytes(const SpendEntry*) { return 24; }
constexpr std::size_t min_bytes(const MemberAccount*) { return 56; }
constexpr std::size_t min_bytes(const OrderMarketing*) { return 41; }
constexpr std::size_t min_bytes(const WarehouseLoad*) { return 16; }
template <typename T>
constexpr std::size_t min_bytes(const std::vector<T>*) {
  return 8;
}
template <typename T>
constexpr std::size_t min_of() {
  return min_bytes(static_cast<const T*>(nullptr));
}

// ---- scalars (the ones kept in containers; fields are written with the writer's own calls)

void put(SnapshotWriter& w, const std::string& v) { w.str(v); }
void put(SnapshotWriter& w, std::int64_t v) { w.i64(v); }
void put(SnapshotWriter& w, std::uint64_t v) { w.u64(v); }
void get(SnapshotReader& r, std::string& v) { v = r.str(); }
void get(SnapshotReader& r, std::int64_t& v) { v = r.i64(); }
void get(SnapshotReader& r, std::uint64_t& v) { v = r.u64(); }

// ---- records: declared first, so the container templates below see every overload.
#define LEDGER_CODEC_RECORD(T)             \
  void put(SnapshotWriter& w, const T& v); \
  void get(SnapshotReader& r, T& v);
LEDGER_CODEC_RECORD(Prices)
LEDGER_CODEC_RECORD(StockLineInput)
LEDGER_CODEC_RECORD(OrderLineInput)
LEDGER_CODEC_RECORD(AllocationInput)
LEDGER_CODEC_RECORD(ApprovalRuleInput)
LEDGER_CODEC_RECORD(Weights)
LEDGER_CODEC_RECORD(RegionRecord)
LEDGER_CODEC_RECORD(WarehouseRecord)
LEDGER_CODEC_RECORD(DealerRecord)
LEDGER_CODEC_RECORD(StoreRecord)
LEDGER_CODEC_RECORD(SkuRecord)
LEDGER_CODEC_RECORD(TokenRecord)
LEDGER_CODEC_RECORD(TransferRecord)
LEDGER_CODEC_RECORD(ReservationRecord)
LEDGER_CODEC_RECORD(MemberRecord)
LEDGER_CODEC_RECORD(OrderUnits)
LEDGER_CODEC_RECORD(OrderApproval)
LEDGER_CODEC_RECORD(OrderTimelineEntry)
LEDGER_CODEC_RECORD(OrderRecord)
LEDGER_CODEC_RECORD(PresaleBatchRecord)
LEDGER_CODEC_RECORD(DealerAccount)
LEDGER_CODEC_RECORD(WarehouseLoad)
LEDGER_CODEC_RECORD(Balance)
LEDGER_CODEC_RECORD(SpendTierInput)
LEDGER_CODEC_RECORD(CampaignScopeInput)
LEDGER_CODEC_RECORD(CreateCampaign)
LEDGER_CODEC_RECORD(CampaignRecord)
LEDGER_CODEC_RECORD(CouponRecord)
LEDGER_CODEC_RECORD(PointsLot)
LEDGER_CODEC_RECORD(SpendEntry)
LEDGER_CODEC_RECORD(MemberAccount)
LEDGER_CODEC_RECORD(OrderMarketing)
LEDGER_CODEC_RECORD(MarketingState)
#undef LEDGER_CODEC_RECORD

// ---- containers

template <typename T>
void put(SnapshotWriter& w, const std::vector<T>& v) {
  w.u64(v.size());
  for (const auto& x : v) put(w, x);
}
template <typename T>
void get(SnapshotReader& r, std::vector<T>& v) {
  std::uint64_t n = r.count(min_of<T>());
  v.clear();
  v.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) get(r, v.emplace_back());
}

template <typename V>
void put(SnapshotWriter& w, const std::map<std::string, V, std::less<>>& m) {
  w.u64(m.size());
  for (const auto& [k, v] : m) {
    w.str(k);
    put(w, v);
  }
}
template <typename V>
void get(SnapshotReader& r, std::map<std::string, V, std::less<>>& m) {
  std::uint64_t n = r.count(8 + min_of<V>());
  m.clear();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    V v{};
    get(r, v);
    m.emplace_hint(m.end(), std::move(k), std::move(v));
  }
  if (m.size() != n) r.fail();  // a key twice
}

// Hashed maps: written in key order, so the same state always gives the same bytes.
template <typename V>
void put(SnapshotWriter& w, const StringMap<V>& m) {
  std::vector<const std::pair<const std::string, V>*> rows;
  rows.reserve(m.size());
  for (const auto& row : m) rows.push_back(&row);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });
  w.u64(rows.size());
  for (const auto* row : rows) {
    w.str(row->first);
    put(w, row->second);
  }
}
template <typename V>
void get(SnapshotReader& r, StringMap<V>& m) {
  std::uint64_t n = r.count(8 + min_of<V>());
  m.clear();
  m.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    V v{};
    get(r, v);
    if (!m.emplace(std::move(k), std::move(v)).second) r.fail();  // a key twice
  }
}

template <typename V>
void put(SnapshotWriter& w, const boost::unordered_flat_map<std::uint64_t, V>& m) {
  std::vector<std::pair<std::uint64_t, V>> rows(m.begin(), m.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  w.u64(rows.size());
  for (const auto& [k, v] : rows) {
    w.u64(k);
    put(w, v);
  }
}
template <typename V>
void get(SnapshotReader& r, boost::unordered_flat_map<std::uint64_t, V>& m, std::size_t value_min_bytes) {
  std::uint64_t n = r.count(8 + value_min_bytes);
  m.clear();
  m.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::uint64_t k = r.u64();
    V v{};
    get(r, v);
    if (!m.emplace(k, v).second) r.fail();
  }
}

// ---- records

void put(SnapshotWriter& w, const Prices& v) {
  w.i64(v.wholesale_cents);
  w.i64(v.supply_cents);
  w.i64(v.retail_cents);
}
void get(SnapshotReader& r, Prices& v) {
  v.wholesale_cents = r.i64();
  v.supply_cents = r.i64();
  v.retail_cents = r.i64();
}

void put(SnapshotWriter& w, const StockLineInput& v) {
  w.str(v.sku);
  w.i64(v.qty);
  w.str(v.lot);
}
void get(SnapshotReader& r, StockLineInput& v) {
  v.sku = r.str();
  v.qty = r.i64();
  v.lot = r.str();
}

void put(SnapshotWriter& w, const OrderLineInput& v) {
  w.str(v.sku);
  w.i64(v.qty);
  w.i64(v.unit_price_cents);
}
void get(SnapshotReader& r, OrderLineInput& v) {
  v.sku = r.str();
  v.qty = r.i64();
  v.unit_price_cents = r.i64();
}

void put(SnapshotWriter& w, const AllocationInput& v) {
  w.str(v.location);
  w.str(v.sku);
  w.i64(v.qty);
  w.str(v.reservation);
}
void get(SnapshotReader& r, AllocationInput& v) {
  v.location = r.str();
  v.sku = r.str();
  v.qty = r.i64();
  v.reservation = r.str();
}

void put(SnapshotWriter& w, const ApprovalRuleInput& v) {
  w.str(v.step);
  w.i64(v.min_amount_cents);
  w.boolean(v.below_floor);
  w.str(v.order_type);
  w.i32(v.health_tier_at_most);
  w.boolean(v.credit_overrun);
}
void get(SnapshotReader& r, ApprovalRuleInput& v) {
  v.step = r.str();
  v.min_amount_cents = r.i64();
  v.below_floor = r.boolean();
  v.order_type = r.str();
  v.health_tier_at_most = r.i32();
  v.credit_overrun = r.boolean();
}

void put(SnapshotWriter& w, const Weights& v) {
  for (std::int32_t x : v) w.i32(x);
}
void get(SnapshotReader& r, Weights& v) {
  for (std::int32_t& x : v) x = r.i32();
}

void put(SnapshotWriter& w, const RegionRecord& v) { w.str(v.name); }
void get(SnapshotReader& r, RegionRecord& v) { v.name = r.str(); }

void put(SnapshotWriter& w, const WarehouseRecord& v) {
  w.str(v.name);
  w.str(v.region);
  w.i32(v.lat_e6);
  w.i32(v.lon_e6);
  w.i32(v.daily_capacity_cases);
}
void get(SnapshotReader& r, WarehouseRecord& v) {
  v.name = r.str();
  v.region = r.str();
  v.lat_e6 = r.i32();
  v.lon_e6 = r.i32();
  v.daily_capacity_cases = r.i32();
}

void put(SnapshotWriter& w, const DealerRecord& v) {
  w.str(v.name);
  w.str(v.region);
  put(w, v.territory);
  w.i64(v.credit_limit_cents);
}
void get(SnapshotReader& r, DealerRecord& v) {
  v.name = r.str();
  v.region = r.str();
  get(r, v.territory);
  v.credit_limit_cents = r.i64();
}

void put(SnapshotWriter& w, const StoreRecord& v) {
  w.str(v.name);
  w.str(v.dealer);
  w.str(v.region);
  w.i32(v.lat_e6);
  w.i32(v.lon_e6);
}
void get(SnapshotReader& r, StoreRecord& v) {
  v.name = r.str();
  v.dealer = r.str();
  v.region = r.str();
  v.lat_e6 = r.i32();
  v.lon_e6 = r.i32();
}

void put(SnapshotWriter& w, const SkuRecord& v) {
  w.str(v.name);
  w.i32(v.case_units);
  put(w, v.prices);
  put(w, v.floors);
}
void get(SnapshotReader& r, SkuRecord& v) {
  v.name = r.str();
  v.case_units = r.i32();
  get(r, v.prices);
  get(r, v.floors);
}

void put(SnapshotWriter& w, const TokenRecord& v) {
  w.hash(v.token_sha256);
  w.str(v.role);
  w.str(v.scope);
  w.boolean(v.revoked);
}
void get(SnapshotReader& r, TokenRecord& v) {
  v.token_sha256 = r.hash();
  v.role = r.str();
  v.scope = r.str();
  v.revoked = r.boolean();
}

void put(SnapshotWriter& w, const TransferRecord& v) {
  w.str(v.from);
  w.str(v.to);
  put(w, v.lines);
  w.u8(static_cast<std::uint8_t>(v.status));
}
void get(SnapshotReader& r, TransferRecord& v) {
  v.from = r.str();
  v.to = r.str();
  get(r, v.lines);
  std::uint8_t status = r.u8();
  if (status > static_cast<std::uint8_t>(TransferStatus::received)) r.fail();
  v.status = static_cast<TransferStatus>(status);
}

void put(SnapshotWriter& w, const ReservationRecord& v) {
  w.str(v.from);
  w.str(v.to);
  put(w, v.lines);
  w.i64(v.deadline_us);
  w.u8(static_cast<std::uint8_t>(v.status));
}
void get(SnapshotReader& r, ReservationRecord& v) {
  v.from = r.str();
  v.to = r.str();
  get(r, v.lines);
  v.deadline_us = r.i64();
  std::uint8_t status = r.u8();
  if (status > static_cast<std::uint8_t>(ReservationStatus::expired)) r.fail();
  v.status = static_cast<ReservationStatus>(status);
}

void put(SnapshotWriter& w, const MemberRecord& v) {
  w.str(v.name);
  w.str(v.home_store);
}
void get(SnapshotReader& r, MemberRecord& v) {
  v.name = r.str();
  v.home_store = r.str();
}

void put(SnapshotWriter& w, const OrderUnits& v) {
  w.i64(v.ordered);
  w.i64(v.shipped);
  w.i64(v.delivered);
  w.i64(v.returned);
}
void get(SnapshotReader& r, OrderUnits& v) {
  v.ordered = r.i64();
  v.shipped = r.i64();
  v.delivered = r.i64();
  v.returned = r.i64();
}

void put(SnapshotWriter& w, const OrderApproval& v) {
  w.str(v.step);
  w.str(v.principal);
  w.i64(v.at_us);
}
void get(SnapshotReader& r, OrderApproval& v) {
  v.step = r.str();
  v.principal = r.str();
  v.at_us = r.i64();
}

void put(SnapshotWriter& w, const OrderTimelineEntry& v) {
  w.u64(v.seq);
  w.i64(v.ts_us);
  w.str(v.kind);
  w.str(v.principal);
  w.str(v.note);
}
void get(SnapshotReader& r, OrderTimelineEntry& v) {
  v.seq = r.u64();
  v.ts_us = r.i64();
  v.kind = r.str();
  v.principal = r.str();
  v.note = r.str();
}

void put(SnapshotWriter& w, const OrderRecord& v) {
  // The type as its raw byte: the fold takes it from the event as is.
  w.u8(static_cast<std::uint8_t>(v.type));
  w.str(v.buyer);
  w.str(v.seller);
  w.str(v.channel);
  w.str(v.ship_to_region);
  w.i32(v.ship_to_lat_e6);
  w.i32(v.ship_to_lon_e6);
  put(w, v.lines);
  put(w, v.coupons);
  w.i64(v.promised_by_us);
  w.i64(v.pickup_at_us);
  w.i64(v.total_cents);
  w.i64(v.discount_cents);
  w.boolean(v.allow_backorder);
  put(w, v.approvals_required);
  put(w, v.approvals);
  w.u64(v.placed_seq);
  w.i64(v.placed_at_us);
  w.i64(v.approved_at_us);
  put(w, v.allocation);
  put(w, v.reservations);
  put(w, v.units);
  put(w, v.presale_batch);
  w.u32(v.shipments);
  w.i64(v.approval_due_us);
  w.i64(v.shipment_due_us);
  w.i64(v.delivery_due_us);
  w.boolean(v.completed);
  w.boolean(v.cancelled);
  w.boolean(v.rejected);
  w.str(v.end_reason);
  put(w, v.timeline);
  put(w, v.held);
}
void get(SnapshotReader& r, OrderRecord& v) {
  v.type = static_cast<OrderType>(r.u8());
  v.buyer = r.str();
  v.seller = r.str();
  v.channel = r.str();
  v.ship_to_region = r.str();
  v.ship_to_lat_e6 = r.i32();
  v.ship_to_lon_e6 = r.i32();
  get(r, v.lines);
  get(r, v.coupons);
  v.promised_by_us = r.i64();
  v.pickup_at_us = r.i64();
  v.total_cents = r.i64();
  v.discount_cents = r.i64();
  v.allow_backorder = r.boolean();
  get(r, v.approvals_required);
  get(r, v.approvals);
  v.placed_seq = r.u64();
  v.placed_at_us = r.i64();
  v.approved_at_us = r.i64();
  get(r, v.allocation);
  get(r, v.reservations);
  get(r, v.units);
  get(r, v.presale_batch);
  v.shipments = r.u32();
  v.approval_due_us = r.i64();
  v.shipment_due_us = r.i64();
  v.delivery_due_us = r.i64();
  v.completed = r.boolean();
  v.cancelled = r.boolean();
  v.rejected = r.boolean();
  v.end_reason = r.str();
  get(r, v.timeline);
  get(r, v.held);
}

void put(SnapshotWriter& w, const PresaleBatchRecord& v) {
  w.str(v.sku);
  w.str(v.warehouse);
  w.i64(v.quota_qty);
  w.i64(v.sold_qty);
  w.i64(v.expected_at_us);
  w.boolean(v.received);
  put(w, v.waiting);
}
void get(SnapshotReader& r, PresaleBatchRecord& v) {
  v.sku = r.str();
  v.warehouse = r.str();
  v.quota_qty = r.i64();
  v.sold_qty = r.i64();
  v.expected_at_us = r.i64();
  v.received = r.boolean();
  get(r, v.waiting);
}

void put(SnapshotWriter& w, const DealerAccount& v) {
  w.i64(v.credit_used_cents);
  w.i64(v.delivered_units);
  w.i64(v.returned_units);
  w.i64(v.shipped_cents);
  w.i64(v.paid_cents);
}
void get(SnapshotReader& r, DealerAccount& v) {
  v.credit_used_cents = r.i64();
  v.delivered_units = r.i64();
  v.returned_units = r.i64();
  v.shipped_cents = r.i64();
  v.paid_cents = r.i64();
}

// ---- marketing

void put(SnapshotWriter& w, const SpendTierInput& v) {
  w.i64(v.threshold_cents);
  w.i64(v.save_cents);
}
void get(SnapshotReader& r, SpendTierInput& v) {
  v.threshold_cents = r.i64();
  v.save_cents = r.i64();
}

void put(SnapshotWriter& w, const CampaignScopeInput& v) {
  put(w, v.regions);
  put(w, v.skus);
  put(w, v.channels);
  put(w, v.tiers);
}
void get(SnapshotReader& r, CampaignScopeInput& v) {
  get(r, v.regions);
  get(r, v.skus);
  get(r, v.channels);
  get(r, v.tiers);
}

void put(SnapshotWriter& w, const CreateCampaign& v) {
  w.str(v.id);
  w.str(v.issuer);
  w.u8(static_cast<std::uint8_t>(v.kind));
  w.i64(v.amount_off_cents);
  w.i32(v.percent_off_bp);
  put(w, v.tiers);
  w.i32(v.points_multiplier_permille);
  put(w, v.scope);
  w.i64(v.max_redemptions);
  w.i64(v.max_discount_cents);
  w.i32(v.per_member_limit);
  w.i64(v.valid_from_us);
  w.i64(v.valid_to_us);
  w.boolean(v.restore_on_cancel);
}
void get(SnapshotReader& r, CreateCampaign& v) {
  v.id = r.str();
  v.issuer = r.str();
  std::uint8_t kind = r.u8();
  if (kind > static_cast<std::uint8_t>(CampaignKind::points_multiplier)) r.fail();
  v.kind = static_cast<CampaignKind>(kind);
  v.amount_off_cents = r.i64();
  v.percent_off_bp = r.i32();
  get(r, v.tiers);
  v.points_multiplier_permille = r.i32();
  get(r, v.scope);
  v.max_redemptions = r.i64();
  v.max_discount_cents = r.i64();
  v.per_member_limit = r.i32();
  v.valid_from_us = r.i64();
  v.valid_to_us = r.i64();
  v.restore_on_cancel = r.boolean();
}

void put(SnapshotWriter& w, const CampaignRecord& v) {
  put(w, v.terms);
  w.i64(v.redemptions);
  w.i64(v.discount_cents);
  w.i64(v.coupons_issued);
}
void get(SnapshotReader& r, CampaignRecord& v) {
  get(r, v.terms);
  v.redemptions = r.i64();
  v.discount_cents = r.i64();
  v.coupons_issued = r.i64();
}

void put(SnapshotWriter& w, const CouponRecord& v) {
  w.str(v.campaign);
  w.str(v.member);
  w.str(v.order);
  w.i64(v.discount_cents);
}
void get(SnapshotReader& r, CouponRecord& v) {
  v.campaign = r.str();
  v.member = r.str();
  v.order = r.str();
  v.discount_cents = r.i64();
}

void put(SnapshotWriter& w, const PointsLot& v) {
  w.i64(v.expires_at_us);
  w.i64(v.points);
}
void get(SnapshotReader& r, PointsLot& v) {
  v.expires_at_us = r.i64();
  v.points = r.i64();
}

void put(SnapshotWriter& w, const SpendEntry& v) {
  w.i64(v.at_us);
  w.i64(v.cents);
  w.str(v.order);
}
void get(SnapshotReader& r, SpendEntry& v) {
  v.at_us = r.i64();
  v.cents = r.i64();
  v.order = r.str();
}

void put(SnapshotWriter& w, const MemberAccount& v) {
  w.i64(v.points);
  put(w, v.lots);
  w.str(v.tier);
  put(w, v.spend);
  put(w, v.coupons);
  put(w, v.redemptions);
  w.i64(v.due_us);
}
void get(SnapshotReader& r, MemberAccount& v) {
  v.points = r.i64();
  get(r, v.lots);
  v.tier = r.str();
  get(r, v.spend);
  get(r, v.coupons);
  get(r, v.redemptions);
  v.due_us = r.i64();
}

void put(SnapshotWriter& w, const OrderMarketing& v) {
  w.str(v.member);
  w.i64(v.points_spent);
  w.i64(v.points_earned);
  w.i64(v.spend_cents);
  w.boolean(v.points_refunded);
  put(w, v.spent_lots);
}
void get(SnapshotReader& r, OrderMarketing& v) {
  v.member = r.str();
  v.points_spent = r.i64();
  v.points_earned = r.i64();
  v.spend_cents = r.i64();
  v.points_refunded = r.boolean();
  get(r, v.spent_lots);
}

void put(SnapshotWriter& w, const MarketingState& v) {
  put(w, v.campaigns);
  put(w, v.coupons);
  put(w, v.members);
  put(w, v.orders);
  w.i32(v.price_alert_threshold_bp);
  w.boolean(v.reject_below_floor);
}
void get(SnapshotReader& r, MarketingState& v) {
  get(r, v.campaigns);
  get(r, v.coupons);
  get(r, v.members);
  get(r, v.orders);
  v.price_alert_threshold_bp = r.i32();
  v.reject_below_floor = r.boolean();
}

void put(SnapshotWriter& w, const WarehouseLoad& v) {
  w.i64(v.day);
  w.i64(v.cases);
}
void get(SnapshotReader& r, WarehouseLoad& v) {
  v.day = r.i64();
  v.cases = r.i64();
}

void put(SnapshotWriter& w, const Balance& v) {
  w.i64(v.on_hand);
  w.i64(v.reserved);
}
void get(SnapshotReader& r, Balance& v) {
  v.on_hand = r.i64();
  v.reserved = r.i64();
}

Error malformed(const SnapshotReader& r, std::string_view section, std::string_view what = {}) {
  return make_error(ErrorCode::corruption,
                    what.empty()
                        ? fmt::format("snapshot payload is malformed in {} (at byte {})", section, r.position())
                        : fmt::format("snapshot payload is malformed in {}: {}", section, what))
      .with("section", std::string(section));
}

}  // namespace

// Friend of LedgerState.
class StateCodec {
 public:
  static void encode(const LedgerState& s, SnapshotWriter& w);
  static Status decode(SnapshotReader& r, LedgerState& s);

 private:
  using S = LedgerState;
  static constexpr std::size_t known_members_bytes =
      sizeof(S::regions_) + sizeof(S::warehouses_) + sizeof(S::dealers_) + sizeof(S::stores_) + sizeof(S::skus_) +
      sizeof(S::transfers_) + sizeof(S::reservations_) + sizeof(S::tokens_) + sizeof(S::members_) +
      sizeof(S::warehouse_ids_) + sizeof(S::pending_deadlines_) + sizeof(S::orders_) + sizeof(S::presale_batches_) +
      sizeof(S::backorders_) + sizeof(S::presale_by_sku_) + sizeof(S::approval_policy_) + sizeof(S::sourcing_weights_) +
      sizeof(S::dealer_accounts_) + sizeof(S::warehouse_loads_) + sizeof(S::milestones_) + sizeof(S::stock_since_us_) +
      sizeof(S::marketing_) + sizeof(S::member_due_) + sizeof(S::location_index_) + sizeof(S::location_names_) +
      sizeof(S::location_class_) + sizeof(S::sku_index_) + sizeof(S::sku_names_) + sizeof(S::balances_) +
      sizeof(S::inbound_) + sizeof(S::change_log_) + sizeof(S::stream_versions_) + sizeof(S::last_seq_) +
      sizeof(S::chain_head_) + sizeof(S::last_ts_us_);
  // LedgerState is no aggregate: its size must be the sum of the members this codec knows (each a
  // multiple of 8 bytes, so there is no padding). A new member makes it larger.
  static_assert(sizeof(LedgerState) == known_members_bytes,
                "LedgerState gained a member: encode it in engine/src/state_codec.cpp (or say why it is transient), "
                "bump ledger_state_snapshot_version, then add it to StateCodec::known_members_bytes");

 private:
  static Status check_references(const SnapshotReader& r, const LedgerState& s);
};

void StateCodec::encode(const LedgerState& s, SnapshotWriter& w) {
  w.u64(s.last_seq_);
  w.hash(s.chain_head_);
  w.i64(s.last_ts_us_);
  // Interned names in index order: balance keys are indexes into these. The index maps and the
  // location classes are derived from them on decode, by the same code that interns.
  put(w, s.location_names_);
  put(w, s.sku_names_);

  put(w, s.regions_);
  put(w, s.warehouses_);
  put(w, s.dealers_);
  put(w, s.stores_);
  put(w, s.skus_);
  put(w, s.transfers_);
  put(w, s.reservations_);
  put(w, s.tokens_);
  put(w, s.members_);
  put(w, s.warehouse_ids_);
  w.u64(s.pending_deadlines_.size());
  for (const auto& [deadline, id] : s.pending_deadlines_) {
    w.i64(deadline);
    w.str(id);
  }

  put(w, s.orders_);
  put(w, s.presale_batches_);
  w.u64(s.backorders_.size());
  for (const auto& [seq, id] : s.backorders_) {
    w.u64(seq);
    w.str(id);
  }
  put(w, s.presale_by_sku_);
  put(w, s.approval_policy_);
  put(w, s.sourcing_weights_);
  put(w, s.dealer_accounts_);
  put(w, s.warehouse_loads_);
  w.u64(s.milestones_.size());
  for (const auto& [due, order, milestone] : s.milestones_) {
    w.i64(due);
    w.str(order);
    w.str(milestone);
  }

  put(w, s.marketing_);  // member_due_ is derived from it on decode

  put(w, s.stock_since_us_);
  put(w, s.balances_);
  put(w, s.inbound_);
  put(w, s.stream_versions_);
  // change_log_ is the caller's transient hook, not state.
}

Status StateCodec::decode(SnapshotReader& r, LedgerState& s) {
  s = LedgerState{};
  s.last_seq_ = r.u64();
  s.chain_head_ = r.hash();
  s.last_ts_us_ = r.i64();
  if (!r.ok()) return malformed(r, "the log position");

  std::vector<std::string> names;
  get(r, names);
  if (!r.ok()) return malformed(r, "the location names");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (s.intern_location(names[i]) != i) return malformed(r, "the location names", "a name twice");
  }
  get(r, names);
  if (!r.ok()) return malformed(r, "the SKU names");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (s.intern_sku(names[i]) != i) return malformed(r, "the SKU names", "a name twice");
  }

  get(r, s.regions_);
  get(r, s.warehouses_);
  get(r, s.dealers_);
  get(r, s.stores_);
  get(r, s.skus_);
  if (!r.ok()) return malformed(r, "the master data");
  get(r, s.transfers_);
  get(r, s.reservations_);
  get(r, s.tokens_);
  get(r, s.members_);
  get(r, s.warehouse_ids_);
  if (!r.ok()) return malformed(r, "transfers, reservations, tokens and members");
  for (std::uint64_t i = 0, n = r.count(16); i < n && r.ok(); ++i) {
    std::int64_t deadline = r.i64();
    s.pending_deadlines_.emplace_hint(s.pending_deadlines_.end(), deadline, r.str());
    if (s.pending_deadlines_.size() != i + 1) r.fail();  // twice
  }
  if (!r.ok()) return malformed(r, "the pending deadlines");

  get(r, s.orders_);
  if (!r.ok()) return malformed(r, "the orders");
  get(r, s.presale_batches_);
  if (!r.ok()) return malformed(r, "the presale batches");
  for (std::uint64_t i = 0, n = r.count(16); i < n && r.ok(); ++i) {
    std::uint64_t seq = r.u64();
    s.backorders_.emplace_hint(s.backorders_.end(), seq, r.str());
    if (s.backorders_.size() != i + 1) r.fail();
  }
  get(r, s.presale_by_sku_);
  get(r, s.approval_policy_);
  get(r, s.sourcing_weights_);
  get(r, s.dealer_accounts_);
  get(r, s.warehouse_loads_);
  if (!r.ok()) return malformed(r, "the order policies and accounts");
  for (std::uint64_t i = 0, n = r.count(24); i < n && r.ok(); ++i) {
    std::int64_t due = r.i64();
    std::string order = r.str();
    s.milestones_.emplace_hint(s.milestones_.end(), due, std::move(order), r.str());
    if (s.milestones_.size() != i + 1) r.fail();
  }
  if (!r.ok()) return malformed(r, "the milestones");
  get(r, s.marketing_);
  if (!r.ok()) return malformed(r, "the campaigns, coupons and members' accounts");
  for (const auto& [member, a] : s.marketing_.members) {
    if (a.due_us != 0) s.member_due_.emplace(a.due_us, member);
  }

  get(r, s.stock_since_us_, 8);
  get(r, s.balances_, 16);
  get(r, s.inbound_, 8);
  if (!r.ok()) return malformed(r, "the balances");
  get(r, s.stream_versions_);
  if (!r.ok()) return malformed(r, "the stream versions");
  if (!r.at_end()) return malformed(r, "the end", fmt::format("{} bytes follow the state", r.remaining()));
  if (auto st = check_references(r, s); !st) return st;
  if (auto st = s.check_invariants(); !st) return malformed(r, "the balances", st.error().message);
  return Ok{};
}

// What the engine's code dereferences without looking (the fold made them so): checked here, so a
// snapshot that decodes is one the engine can run on.
Status StateCodec::check_references(const SnapshotReader& r, const LedgerState& s) {
  auto key_ok = [&](std::uint64_t key) {
    return (key >> 32) < s.location_names_.size() && (key & 0xffffffffu) < s.sku_names_.size();
  };
  for (const auto& [key, b] : s.balances_) {
    if (!key_ok(key)) return malformed(r, "the balances", "a balance of an unknown location or SKU");
  }
  for (const auto& [key, ts] : s.stock_since_us_) {
    if (!key_ok(key)) return malformed(r, "the stock ages", "an unknown location or SKU");
  }
  for (const auto& [key, qty] : s.inbound_) {
    if (!key_ok(key)) return malformed(r, "the inbound stock", "an unknown location or SKU");
  }
  if (s.warehouse_ids_.size() != s.warehouses_.size()) {
    return malformed(r, "the warehouse ids", "they are not the warehouses' ids");
  }
  for (std::size_t i = 0; i < s.warehouse_ids_.size(); ++i) {
    if ((i > 0 && s.warehouse_ids_[i - 1] >= s.warehouse_ids_[i]) || s.warehouse(s.warehouse_ids_[i]) == nullptr) {
      return malformed(r, "the warehouse ids", "they are not the warehouses' ids in order");
    }
  }
  for (const auto& [sku, ids] : s.presale_by_sku_) {
    for (const auto& id : ids) {
      if (s.presale_batch(id) == nullptr) return malformed(r, "the presale batches", "an unknown batch");
    }
  }
  for (const auto& [code, c] : s.marketing_.coupons) {
    if (s.campaign(c.campaign) == nullptr) return malformed(r, "the coupons", "a coupon of an unknown campaign");
  }
  for (const auto& [member, a] : s.marketing_.members) {
    std::int64_t points = 0;
    for (const auto& lot : a.lots) points += lot.points;
    if (points != a.points || a.points < 0 || !is_tier(a.tier)) {
      return malformed(r, "the members' accounts", "points that are not the sum of their lots, or an unknown tier");
    }
  }
  for (const auto& [id, o] : s.orders_) {
    for (const auto& [sku, batch] : o.presale_batch) {
      if (s.presale_batch(batch) == nullptr) return malformed(r, "the orders", "an unknown presale batch");
    }
  }
  return Ok{};
}

void encode_state(const LedgerState& state, SnapshotWriter& out) { StateCodec::encode(state, out); }

Status decode_state(SnapshotReader& in, LedgerState& state) { return StateCodec::decode(in, state); }

// A member added to a record must be encoded above, and the version bumped: these are the member
// counts the codec was written for (Boost.PFR counts an aggregate's members).
#define LEDGER_CODEC_FIELDS(T, n)                                       \
  static_assert(boost::pfr::tuple_size_v<T> == (n), #T                  \
                " changed: encode the new member in engine/src/"        \
                "state_codec.cpp, bump ledger_state_snapshot_version, " \
                "then update this count")
LEDGER_CODEC_FIELDS(Prices, 3);
LEDGER_CODEC_FIELDS(StockLineInput, 3);
LEDGER_CODEC_FIELDS(OrderLineInput, 3);
LEDGER_CODEC_FIELDS(AllocationInput, 4);
LEDGER_CODEC_FIELDS(ApprovalRuleInput, 6);
LEDGER_CODEC_FIELDS(Balance, 2);
LEDGER_CODEC_FIELDS(RegionRecord, 1);
LEDGER_CODEC_FIELDS(WarehouseRecord, 5);
LEDGER_CODEC_FIELDS(DealerRecord, 4);
LEDGER_CODEC_FIELDS(StoreRecord, 5);
LEDGER_CODEC_FIELDS(SkuRecord, 4);
LEDGER_CODEC_FIELDS(TokenRecord, 4);
LEDGER_CODEC_FIELDS(TransferRecord, 4);
LEDGER_CODEC_FIELDS(ReservationRecord, 5);
LEDGER_CODEC_FIELDS(MemberRecord, 2);
LEDGER_CODEC_FIELDS(OrderUnits, 4);
LEDGER_CODEC_FIELDS(OrderApproval, 3);
LEDGER_CODEC_FIELDS(OrderTimelineEntry, 5);
LEDGER_CODEC_FIELDS(OrderRecord, 33);
LEDGER_CODEC_FIELDS(PresaleBatchRecord, 7);
LEDGER_CODEC_FIELDS(DealerAccount, 5);
LEDGER_CODEC_FIELDS(SpendTierInput, 2);
LEDGER_CODEC_FIELDS(CampaignScopeInput, 4);
LEDGER_CODEC_FIELDS(CreateCampaign, 14);
LEDGER_CODEC_FIELDS(CampaignRecord, 4);
LEDGER_CODEC_FIELDS(CouponRecord, 4);
LEDGER_CODEC_FIELDS(PointsLot, 2);
LEDGER_CODEC_FIELDS(SpendEntry, 3);
LEDGER_CODEC_FIELDS(MemberAccount, 7);
LEDGER_CODEC_FIELDS(OrderMarketing, 6);
LEDGER_CODEC_FIELDS(MarketingState, 6);
LEDGER_CODEC_FIELDS(WarehouseLoad, 2);
#undef LEDGER_CODEC_FIELDS
static_assert(std::tuple_size_v<Weights> == dimension_count);

}  // namespace ledger

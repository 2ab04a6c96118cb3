// The decision state: master data and the double-entry stock ledger, as folded from the log.
// The writer owns the live instance; readers see it through Engine::inspect (on the writer thread
// between batches) or fold their own copy from the log (replay, verify).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <string_view>
#include <unordered_map>

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <utility>
#include <vector>

#include "ledger/commands.hpp"
#include "ledger/hash.hpp"
#include "ledger/marketing.hpp"
#include "ledger/orders.hpp"

namespace ledger {

// Every record kept in LedgerState is written to snapshots by engine/src/state_codec.cpp: a member
// added to one must be encoded there too, and ledger_state_snapshot_version bumped (static_asserts
// on the member counts fail until it is).

struct Balance {
  std::int64_t on_hand = 0;   // units in minus units out
  std::int64_t reserved = 0;  // held by pending reservations
  std::int64_t available() const { return on_hand - reserved; }
  bool is_zero() const { return on_hand == 0 && reserved == 0; }
  bool operator==(const Balance&) const = default;
};

struct RegionRecord {
  std::string name;
};
struct WarehouseRecord {
  std::string name, region;
  std::int32_t lat_e6 = 0, lon_e6 = 0, daily_capacity_cases = 0;
};
struct DealerRecord {
  std::string name, region;
  std::vector<std::string> territory;
  std::int64_t credit_limit_cents = 0;
};
struct StoreRecord {
  std::string name, dealer, region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
};
struct SkuRecord {
  std::string name;
  std::int32_t case_units = 1;
  Prices prices, floors;
};

struct TokenRecord {
  Hash32 token_sha256{};
  std::string role, scope;
  bool revoked = false;
};

enum class TransferStatus { in_transit, received };
struct TransferRecord {
  std::string from, to;
  std::vector<StockLineInput> lines;
  TransferStatus status = TransferStatus::in_transit;
};

enum class ReservationStatus { pending, posted, voided, expired };
const char* reservation_status_name(ReservationStatus status);
struct ReservationRecord {
  std::string from, to;
  std::vector<StockLineInput> lines;
  std::int64_t deadline_us = 0;
  ReservationStatus status = ReservationStatus::pending;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return boost::hash<std::string_view>{}(s); }
};
// Open addressing (no node per entry): the writer spends most of its time in these lookups.
// Elements move on rehash: never hold a reference into one of these across an insert.
template <typename V>
using StringMap = boost::unordered_flat_map<std::string, V, StringHash, std::equal_to<>>;

class LedgerState {
 public:
  // ---- master data
  const RegionRecord* region(std::string_view id) const { return find(regions_, id); }
  const WarehouseRecord* warehouse(std::string_view id) const { return find(warehouses_, id); }
  const DealerRecord* dealer(std::string_view id) const { return find(dealers_, id); }
  const StoreRecord* store(std::string_view id) const { return find(stores_, id); }
  const SkuRecord* sku(std::string_view id) const { return find(skus_, id); }
  const TransferRecord* transfer(std::string_view id) const { return find(transfers_, id); }
  const ReservationRecord* reservation(std::string_view id) const { return find(reservations_, id); }
  const TokenRecord* token(std::string_view prefix) const { return find(tokens_, prefix); }
  const MemberRecord* member(std::string_view id) const { return find(members_, id); }
  // Warehouse ids in ascending order: the matcher's candidate order (its tie-break).
  const std::vector<std::string>& warehouse_ids() const { return warehouse_ids_; }

  // ---- orders
  const OrderRecord* order(std::string_view id) const { return find(orders_, id); }
  template <typename F>
  void for_each_order(F&& fn) const {
    for (const auto& [id, o] : orders_) fn(id, o);
  }
  std::size_t order_count() const { return orders_.size(); }
  const PresaleBatchRecord* presale_batch(std::string_view id) const { return find(presale_batches_, id); }
  // Presale batches of a SKU in the order they were announced.
  const std::vector<std::string>* presale_batches_of(std::string_view sku) const { return find(presale_by_sku_, sku); }
  // The batch a presale of `qty` units of `sku` draws its quota from: the first announced batch not
  // yet received with that much quota left. Empty when there is none. The fold makes the same choice.
  std::string_view presale_batch_for(std::string_view sku, std::int64_t qty) const;
  // Spot orders sold by hq that wait for stock (allow_backorder), first placed first: (placed_seq, id).
  const std::set<std::pair<std::uint64_t, std::string>>& backorders() const { return backorders_; }
  const std::vector<ApprovalRuleInput>& approval_policy() const { return approval_policy_; }
  // The region's weights, else the default ones set for every region, else the matcher's default.
  Weights sourcing_weights(std::string_view region) const;
  const std::map<std::string, Weights, std::less<>>& sourcing_weights_by_region() const { return sourcing_weights_; }
  DealerAccount dealer_account(std::string_view dealer) const {
    const DealerAccount* a = find(dealer_accounts_, dealer);
    return a == nullptr ? DealerAccount{} : *a;
  }
  // Cases allocated at the warehouse on `day` (days since the epoch, China time).
  std::int64_t warehouse_load_cases(std::string_view warehouse, std::int64_t day) const;
  // When the location's stock of `sku` last arrived from empty (the age of its oldest units, FIFO).
  std::int64_t stock_since_us(std::string_view location, std::string_view sku) const;
  // Order milestones not reached yet, earliest due first: (due_us, order, milestone).
  const std::set<std::tuple<std::int64_t, std::string, std::string>>& milestones() const { return milestones_; }
  // ---- members and marketing
  const MarketingState& marketing() const { return marketing_; }
  const CampaignRecord* campaign(std::string_view id) const { return find(marketing_.campaigns, id); }
  const CouponRecord* coupon(std::string_view code) const { return find(marketing_.coupons, code); }
  const MemberAccount* member_account(std::string_view id) const { return find(marketing_.members, id); }
  const OrderMarketing* order_marketing(std::string_view id) const { return find(marketing_.orders, id); }
  // Members whose account the clock changes next (points expiring, a tier falling), earliest first.
  const std::set<std::pair<std::int64_t, std::string>>& member_due() const { return member_due_; }

  template <typename F>
  void for_each_token(F&& fn) const {
    for (const auto& [prefix, t] : tokens_) fn(prefix, t);
  }
  template <typename F>
  void for_each_dealer(F&& fn) const {
    for (const auto& [id, d] : dealers_) fn(id, d);
  }
  template <typename F>
  void for_each_sku(F&& fn) const {
    for (const auto& [id, sku] : skus_) fn(id, sku);
  }
  std::size_t region_count() const { return regions_.size(); }
  std::size_t warehouse_count() const { return warehouses_.size(); }
  std::size_t dealer_count() const { return dealers_.size(); }
  std::size_t store_count() const { return stores_.size(); }
  std::size_t sku_count() const { return skus_.size(); }

  // ---- stock
  Balance balance(std::string_view location, std::string_view sku) const;
  // Units of `sku` on the road to `location` (shipped transfers not yet received).
  std::int64_t inbound(std::string_view location, std::string_view sku) const;
  // Every non-zero balance, in no particular order.
  void for_each_balance(const std::function<void(std::string_view location, std::string_view sku,
                                                 const Balance&)>& fn) const;
  // Every non-zero balance with its key as the change log records it.
  template <typename F>
  void for_each_balance_key(F&& fn) const {
    for (const auto& [key, b] : balances_) fn(key, std::string_view(location_names_[key >> 32]), b);
  }
  // Reservations still holding stock, earliest deadline first.
  const std::set<std::pair<std::int64_t, std::string>>& pending_deadlines() const { return pending_deadlines_; }

  // Records the balance of every (location, SKU) the fold changes into `keys` (for the live stock
  // table); null stops it. Names come back through balance_names().
  void set_change_log(std::vector<std::uint64_t>* keys) { change_log_ = keys; }
  std::pair<std::string_view, std::string_view> balance_names(std::uint64_t key) const {
    return {location_names_[key >> 32], sku_names_[key & 0xffffffffu]};
  }

  // ---- log position
  std::uint64_t last_seq() const { return last_seq_; }
  const Hash32& chain_head() const { return chain_head_; }
  std::int64_t last_ts_us() const { return last_ts_us_; }
  std::uint64_t stream_version(std::string_view stream) const;
  std::size_t stream_count() const { return stream_versions_.size(); }

  // The invariants of DESIGN.md: per SKU the balances over all locations sum to zero; no real
  // location's available below zero; nothing reserved below zero. Cost: one pass over balances.
  Status check_invariants() const;

  // The whole state as canonical sorted text: two states are equal iff their renders are equal.
  std::string render() const;

 private:
  friend class Fold;
  friend class FoldAccess;
  friend class StateCodec;  // snapshots (engine/src/state_codec.cpp): a new member must be encoded there

  template <typename V>
  static const V* find(const StringMap<V>& map, std::string_view id) {
    auto it = map.find(id);
    return it == map.end() ? nullptr : &it->second;
  }
  template <typename V>
  static const V* find(const std::map<std::string, V, std::less<>>& map, std::string_view id) {
    auto it = map.find(id);
    return it == map.end() ? nullptr : &it->second;
  }

  std::uint32_t intern_location(std::string_view location);
  std::uint32_t intern_sku(std::string_view sku);
  static std::uint64_t balance_key(std::uint32_t location, std::uint32_t sku) {
    return (std::uint64_t{location} << 32) | sku;
  }

  StringMap<RegionRecord> regions_;
  StringMap<WarehouseRecord> warehouses_;
  StringMap<DealerRecord> dealers_;
  StringMap<StoreRecord> stores_;
  StringMap<SkuRecord> skus_;
  StringMap<TransferRecord> transfers_;
  StringMap<ReservationRecord> reservations_;
  StringMap<TokenRecord> tokens_;
  StringMap<MemberRecord> members_;
  std::vector<std::string> warehouse_ids_;  // sorted
  std::set<std::pair<std::int64_t, std::string>> pending_deadlines_;

  StringMap<OrderRecord> orders_;
  StringMap<PresaleBatchRecord> presale_batches_;
  std::set<std::pair<std::uint64_t, std::string>> backorders_;
  StringMap<std::vector<std::string>> presale_by_sku_;
  std::vector<ApprovalRuleInput> approval_policy_;
  std::map<std::string, Weights, std::less<>> sourcing_weights_;
  StringMap<DealerAccount> dealer_accounts_;
  StringMap<WarehouseLoad> warehouse_loads_;
  std::set<std::tuple<std::int64_t, std::string, std::string>> milestones_;
  boost::unordered_flat_map<std::uint64_t, std::int64_t> stock_since_us_;  // balance key -> ts
  MarketingState marketing_;
  // Derived from marketing_.members' due_us (rebuilt on snapshot decode, not stored).
  std::set<std::pair<std::int64_t, std::string>> member_due_;

  // Locations and SKUs are interned so a balance is keyed by two small integers.
  StringMap<std::uint32_t> location_index_;
  std::vector<std::string> location_names_;
  // By location index, decided once when interned: malformed names (only a damaged log has them),
  // virtual locations (may go negative) and real ones (never below zero available).
  enum class LocationClass : std::uint8_t { malformed, virtual_location, real };
  std::vector<LocationClass> location_class_;
  StringMap<std::uint32_t> sku_index_;
  std::vector<std::string> sku_names_;
  // Only non-zero balances are kept: a transit location is emptied by its receipt and forgotten.
  boost::unordered_flat_map<std::uint64_t, Balance> balances_;
  boost::unordered_flat_map<std::uint64_t, std::int64_t> inbound_;  // (destination, sku) -> qty in transit

  std::vector<std::uint64_t>* change_log_ = nullptr;
  StringMap<std::uint64_t> stream_versions_;
  std::uint64_t last_seq_ = 0;
  Hash32 chain_head_{};
  std::int64_t last_ts_us_ = 0;
};

}  // namespace ledger

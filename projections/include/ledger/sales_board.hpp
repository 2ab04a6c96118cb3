// The sales board: orders, units, revenue and discounts by region, channel, dealer, store and SKU per
// hour (days and months are sums of hours), plus approval-latency and delivery-delay distributions.
//
// Counting rules (API.md, Boards): an order counts in the hour it was placed, attributed as
// order_keys() says at placement; revenue is the sum of qty x unit_price_cents over its lines. A
// cancellation or rejection takes the whole order out of its placement hour. A return subtracts the
// returned units, valued at the unit price of the order's first line of that SKU, in the hour of the
// return. The order's discount is spread over its lines in proportion to their revenue (rounded down,
// the remainder on the first line with revenue) so per-SKU rows add up to the order's figure.
#pragma once

#include <array>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/names.hpp"
#include "ledger/projection.hpp"

namespace ledger {

struct SalesTotals {
  std::int64_t orders = 0, units = 0, revenue_cents = 0, discount_cents = 0;
  bool operator==(const SalesTotals&) const = default;
};

enum class SalesBucket { hour, day, month };
bool sales_bucket_from_name(std::string_view name, SalesBucket& out);

struct SalesQuery {
  bool by_region = false, by_channel = false, by_dealer = false, by_store = false, by_sku = false;
  SalesBucket bucket = SalesBucket::day;
  std::int64_t from_us = 0, to_us = INT64_MAX;  // placement/return time in [from_us, to_us)
  // Scope: only rows of this region / dealer / store (empty: any).
  std::string region, dealer, store;
};

struct SalesRow {
  std::string region, channel, dealer, store, sku;  // empty when not grouped by it
  std::int64_t bucket_start_us = 0;
  SalesTotals totals;
};

// Distribution of a duration in fixed buckets; percentiles are read as a bucket's upper bound.
struct Distribution {
  static constexpr std::array<std::int64_t, 14> bounds_s{0,     60,    300,   900,   1800,   3600,   7200,
                                                         14400, 28800, 43200, 86400, 172800, 345600, 604800};
  std::array<std::int64_t, bounds_s.size() + 1> counts{};  // the last counts everything beyond a week
  std::int64_t total_s = 0;
  void add(std::int64_t seconds);
  void merge(const Distribution& other);
  std::int64_t count() const;
  // The upper bound (seconds) of the bucket holding the p-th percentile (p in 0..100); -1 when beyond
  // the last bound; 0 when empty.
  std::int64_t percentile_s(int p) const;
  bool operator==(const Distribution&) const = default;
};

struct LatencySummary {
  Distribution approval;        // placement -> last approval, orders that needed approval
  Distribution delivery_delay;  // delivery - promised_by_us, 0 bucket for on time
  std::int64_t delivered_on_time = 0, delivered_late = 0;
};

class SalesBoard final : public Projection {
 public:
  std::string_view name() const override { return "sales_board"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // Rows ordered by keys then bucket.
  std::vector<SalesRow> query(const SalesQuery& q) const;
  // Approval latency and delivery delay for events in [from_us, to_us), of one region or all.
  LatencySummary latency(std::int64_t from_us, std::int64_t to_us, std::string_view region) const;

 private:
  struct CellKey {
    std::int64_t hour = 0;  // hours since the epoch
    std::uint32_t region = 0, channel = 0, dealer = 0, store = 0, sku = 0;
    bool operator==(const CellKey&) const = default;
  };
  struct CellKeyHash {
    std::size_t operator()(const CellKey& k) const;
  };
  struct Placed {  // an order's attribution at placement, kept for its cancellation and returns
    std::int64_t hour = 0;
    std::uint32_t region = 0, channel = 0, dealer = 0, store = 0;
  };
  struct DayKey {
    std::int64_t day_start_us = 0;
    std::uint32_t region = 0;
    auto operator<=>(const DayKey&) const = default;
  };

  void add_order(const OrderRecord& order, const Placed& at, int sign);
  void add_return(const OrderRecord& order, const Placed& placed, std::int64_t hour, const fb::OrderReturned& r);
  SalesTotals& cell(const CellKey& key) { return cells_[key]; }

  Names names_;
  boost::unordered_flat_map<CellKey, SalesTotals, CellKeyHash> cells_;        // with sku: line figures
  boost::unordered_flat_map<CellKey, SalesTotals, CellKeyHash> order_cells_;  // sku 0: order figures
  StringMap<Placed> placed_;                                                  // open and ended orders
  std::map<DayKey, LatencySummary> latency_;
};

}  // namespace ledger

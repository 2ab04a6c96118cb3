// Stock flow per stocking location (warehouse, dealer, store) and SKU, per China day: units sold (the
// on-hand that left the location when an order's shipment posted a reservation into its transit
// location) and the closing on-hand. Turnover, days of supply
// and replenishment suggestions are formulas over it (stock_formulas.cpp, documented there).
// Days older than the longest window are pruned, so memory does not grow with history.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/names.hpp"
#include "ledger/projection.hpp"

namespace ledger {

inline constexpr int flow_window_days_max = 90;
// Replenishment: the demand window, service level and review period (stock_formulas.cpp).
inline constexpr int demand_window_days = 28;
inline constexpr double safety_z = 1.65;  // ~95% of lead-time demand covered, for normal demand
inline constexpr std::int64_t review_period_days = 7;
// Lead time to refill a location: production to a warehouse, a truck to a dealer, a van to a store.
std::int64_t lead_time_days(std::string_view location);
// A SKU with stock and this many days of supply or more (or no sale at all in the window) moves slowly.
inline constexpr double slow_mover_days = 60;

struct TurnoverRow {
  std::string sku;
  std::int64_t on_hand = 0, sold_units = 0;
  double avg_on_hand = 0;                // mean of the window's daily closing on-hand
  std::optional<double> turnover;        // sold / avg_on_hand; none when nothing was held at a day's close
  std::optional<double> days_of_supply;  // on_hand / daily sales; none when nothing sold
  bool slow_mover = false;               // stock on hand and no sale, or more than slow_mover_days of supply
};

struct ReplenishmentRow {
  std::string sku;
  std::int64_t available = 0, inbound = 0;
  double daily_demand = 0, demand_stddev = 0;
  std::int64_t lead_time_days = 0, safety_stock = 0, reorder_point = 0, suggested_qty = 0;
  bool low_stock = false;
};

class StockFlow final : public Projection {
 public:
  std::string_view name() const override { return "stock_flow"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // "Now" for the windows: the time of the last event folded.
  std::int64_t now_us() const { return now_us_; }
  // Per SKU held or sold at `location` over the last `window_days` China days (today included).
  std::vector<TurnoverRow> turnover(std::string_view location, int window_days) const;
  // Per SKU held or sold at `location`; `state` gives available, inbound and case sizes.
  std::vector<ReplenishmentRow> replenishment(const LedgerState& state, std::string_view location) const;
  // One (location, sku): what replenishment() says of it.
  ReplenishmentRow replenishment_of(const LedgerState& state, std::string_view location, std::string_view sku) const;

  struct Day {
    std::int64_t day = 0;  // China days since the epoch
    std::int64_t sold = 0, closing_on_hand = 0;
  };

 private:
  struct Series {
    std::int64_t on_hand = 0;
    std::vector<Day> days;  // ascending; days with a change, the oldest may be older than the window
  };
  static std::uint64_t key(std::uint32_t location, std::uint32_t sku) { return (std::uint64_t{location} << 32) | sku; }
  const Series* series(std::string_view location, std::string_view sku) const;
  // The SKUs with a series at `location`, by name.
  std::vector<std::pair<std::string_view, const Series*>> skus_at(std::string_view location) const;

  Names names_;
  boost::unordered_flat_map<std::uint64_t, Series> series_;
  std::int64_t now_us_ = 0;
};

// The figures over one series, as of `today`; exposed for the hand-computed tests.
struct DemandFigures {
  std::int64_t sold = 0;
  double mean = 0, stddev = 0, avg_closing_on_hand = 0;
};
DemandFigures demand_figures(const std::vector<StockFlow::Day>& days, std::int64_t today, int window_days);

}  // namespace ledger

// The sourcing matcher: decides which warehouses an order ships from. A pure function over plain
// arrays (no shared state, no locks; a Matcher only keeps buffers, so match_into allocates nothing
// once warm), so the writer can run it on the authoritative state and the API on the lock-free stock
// table, and a brute force can check it. One Matcher per thread.
//
// What it chooses (DESIGN.md, Sourcing): the plan that uses the fewest warehouses that can cover the
// order (one when one can: it splits only when it must), and among those the one with the best
// weighted score over the twelve dimensions below. Ties go to the plan whose warehouses come first
// in candidate order. Exact when at most `exact_candidates_max` warehouses hold any of the SKUs;
// beyond that, split plans are searched among the best-placed ones only.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ledger {

// The twelve dimensions of the seeds, in this order everywhere (weights, scores, JSON).
enum class Dimension : std::uint8_t {
  stock,             // share of the ordered units the plan covers
  distance,          // farthest warehouse from the ship-to point
  transit_time,      // arrival (cut-off wait + road time) against the promised date
  freight,           // road freight for the cases shipped
  load,              // the busiest used warehouse's load today against its daily capacity
  splits,            // number of warehouses (shipments) in the plan
  region_affinity,   // share of units from warehouses in the ship-to region
  stock_age,         // older stock first (FIFO), by days since the stock arrived
  safety,            // share of (warehouse, SKU) pairs left at or above the safety level
  cutoff,            // share of warehouses that still make today's carrier cut-off
  channel_priority,  // speed, as much as the order's channel asks for it
  transfer_cost,     // consolidating a split plan's shipments
};
inline constexpr std::size_t dimension_count = 12;
std::string_view dimension_name(Dimension d);
// By name ("transit_time"); false when there is no such dimension.
bool dimension_from_name(std::string_view name, Dimension& out);

// Per-mille weights, one per dimension. The default favours stock, speed and cost.
using Weights = std::array<std::int32_t, dimension_count>;
Weights default_weights();

struct MatchLine {
  std::string_view sku;
  std::int64_t qty = 0;
  std::int32_t case_units = 1;
  std::int64_t safety_qty = 0;  // keep at least this much at a warehouse after the order
};

// One warehouse as the matcher sees it, with its stock of each order line (same index as lines).
struct MatchWarehouse {
  std::string_view id;
  bool in_ship_to_region = false;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
  std::int64_t daily_capacity_cases = 0;  // 0: unknown, scored as half loaded
  std::int64_t load_cases_today = 0;      // cases already allocated today
  std::span<const std::int64_t> available;  // per line
  std::span<const std::int64_t> stock_since_us;  // per line: when the stock there last arrived from empty
};

struct MatchRequest {
  std::span<const MatchLine> lines;
  std::int32_t ship_to_lat_e6 = 0, ship_to_lon_e6 = 0;
  std::int64_t now_us = 0;
  std::int64_t promised_by_us = 0;
  std::string_view channel;  // o2o, store, dealer_storefront, regional_storefront
  bool allow_partial = false;  // backorders: the best plan may cover less than everything
  Weights weights = default_weights();
};

struct PlanPick {  // units of one line from one warehouse
  std::uint16_t warehouse = 0;  // index into the candidates
  std::uint16_t line = 0;
  std::int64_t qty = 0;
};

struct Plan {
  std::vector<PlanPick> picks;
  std::vector<std::uint16_t> warehouses;  // the plan's warehouses, ascending
  double score = 0;                       // 0..1000, weighted over the dimensions
  std::array<double, dimension_count> dimension_scores{};  // 0..1 each, 1 best
  // The raw figures behind the scores, for people.
  std::int64_t covered_qty = 0, ordered_qty = 0;
  double distance_km = 0, transit_hours = 0;
  std::int64_t freight_cents = 0, transfer_cost_cents = 0, cases = 0;
  bool feasible() const { return covered_qty == ordered_qty; }
};

struct MatchOptions {
  std::size_t plans_max = 1;             // ranked plans returned (quotes ask for several)
  std::size_t splits_max = 3;            // warehouses in one plan at most
  std::size_t exact_candidates_max = 16;  // split search is exhaustive up to this many candidates
};

// Per-case freight per km and the fixed cost of each extra shipment to consolidate: integer fen.
inline constexpr std::int64_t freight_cents_per_case_km = 2;
inline constexpr std::int64_t consolidation_cents_per_split = 20'000;
// Carrier cut-off, China time (UTC+8): orders matched after it leave the next morning.
inline constexpr int carrier_cutoff_hour_local = 16;

class Matcher {
 public:
  // Ranked plans, best first; empty when nothing can be shipped (or, without allow_partial, when no
  // plan of at most splits_max warehouses covers the order).
  std::vector<Plan> match(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                          const MatchOptions& options = {});
  // The same into `out`, reusing its plans' buffers: no allocation once warm (the hot path).
  void match_into(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                  const MatchOptions& options, std::vector<Plan>& out);
  // Every subset of at most splits_max warehouses, scored the same way: the reference for tests
  // and the baseline of the benchmark.
  std::vector<Plan> brute_force(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                                const MatchOptions& options = {});

 private:
  struct Unit {  // a point on the unit sphere, cached per warehouse by its coordinates
    std::int32_t lat_e6 = 0, lon_e6 = 0;
    bool valid = false;
    double x = 0, y = 0, z = 0;
  };
  struct Single {  // a one-warehouse plan, as the pruned split search ranks candidates
    std::int64_t covered = 0;
    double score = 0;
    std::uint16_t warehouse = 0;
  };
  struct Member {  // one warehouse of the plan being evaluated
    std::int64_t qty = 0, cases = 0;
  };
  struct Tally;
  void prepare(const MatchRequest& request, std::span<const MatchWarehouse> warehouses);
  void add_pick(Tally& t, const MatchRequest& request, const MatchWarehouse& wh, std::size_t line, std::int64_t qty,
                std::int64_t& cases) const;
  void add_warehouse(Tally& t, const MatchWarehouse& wh, std::int64_t qty, std::int64_t cases, double distance,
                     std::int64_t rounded_km) const;
  double scores(const Tally& t, std::array<double, dimension_count>& s) const;
  double score_single(const MatchRequest& request, const MatchWarehouse& wh, std::uint16_t w, double distance,
                      std::int64_t rounded_km, Plan* out);
  double best_possible_single(double nearest) const;
  double distance_to(std::span<const MatchWarehouse> warehouses, std::uint16_t w);
  const Unit& unit_of(std::span<const MatchWarehouse> warehouses, std::uint16_t w);
  // Fills `out` with the plan that takes the order from exactly the warehouses of `subset`
  // (ascending). False when a warehouse of the subset would ship nothing (a smaller subset is the
  // same plan), or when `feasible_only` and the plan does not cover the order.
  bool evaluate(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                std::span<const std::uint16_t> subset, bool feasible_only, Plan& out);
  // Keeps `plan` among the best `max` (ranked_[0, ranked_count_)), taking its buffers.
  void keep(Plan& plan, std::size_t max);
  std::size_t feasible_ranked() const;
  template <typename F>
  void for_each_subset(std::span<const std::uint16_t> pool, std::size_t k, F&& fn);

  // Per request (prepare).
  double urgency_ = 0, local_hour_now_ = 0, promised_in_hours_ = 0, score_per_weight_ = 0;
  std::array<double, dimension_count> weight_{};
  std::int64_t ordered_qty_ = 0, full_cases_ = 0;
  std::vector<std::int64_t> line_cases_;  // cases of each line's whole quantity
  bool quantities_positive_ = true;  // every line orders at least one unit
  Unit ship_to_;
  // Per warehouse, computed once per match (reused buffers: no allocation once warm).
  std::vector<std::int64_t> single_covered_;  // units the warehouse covers alone; > 0: a candidate
  std::vector<std::uint8_t> has_distance_;
  std::vector<double> distance_km_;  // to the ship-to point, once has_distance_
  std::vector<std::int64_t> distance_rounded_km_;
  std::vector<Unit> units_;
  // Per plan.
  std::vector<std::uint16_t> fill_order_;  // the subset, nearest first
  std::vector<std::int64_t> remaining_;
  std::vector<Member> members_;
  // Per match.
  std::vector<std::uint16_t> candidates_, deferred_, pool_, subset_;
  std::vector<std::size_t> subset_index_;
  std::vector<Single> singles_;
  std::vector<std::pair<double, std::uint16_t>> covering_;  // (least distance, warehouse)
  std::vector<Plan> ranked_;  // the best plans so far; slots past ranked_count_ keep their buffers
  std::size_t ranked_count_ = 0;
  Plan scratch_plan_;
};

// Great-circle distance, km: from the chord between the two points on a sphere of the Earth's mean
// radius (6,371 km).
double distance_km(std::int32_t lat1_e6, std::int32_t lon1_e6, std::int32_t lat2_e6, std::int32_t lon2_e6);

}  // namespace ledger

#include "ledger/matcher.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace ledger {

namespace {

constexpr std::string_view dimension_names[dimension_count] = {
    "stock", "distance", "transit_time", "freight", "load", "splits", "region_affinity", "stock_age",
    "safety", "cutoff", "channel_priority", "transfer_cost"};

constexpr double us_per_hour = 3.6e9;
constexpr double us_per_day = 86.4e9;
// Normalizers: beyond these a figure scores zero. China is ~3,000 km across.
constexpr double distance_km_scale = 3000;
constexpr double speed_hours_scale = 72;
constexpr double stock_age_days_scale = 90;
constexpr double road_km_per_hour = 60;
constexpr double china_utc_offset_hours = 8;
constexpr double departure_hour_local = 8;  // trucks that missed the cut-off leave at 08:00 next day

double clamp01(double x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }

double channel_urgency(std::string_view channel) {
  if (channel == "o2o") return 1.0;
  if (channel == "store") return 0.75;
  if (channel == "dealer_storefront") return 0.5;
  if (channel == "regional_storefront") return 0.25;
  return 0.5;
}

std::int64_t cases_of(std::int64_t qty, std::int32_t case_units) {
  std::int64_t units = case_units > 0 ? case_units : 1;
  return (qty + units - 1) / units;
}

// Better plans sort first: more units covered, then fewer warehouses, then higher score, then the
// warehouses that come first in candidate order.
bool better(const Plan& a, const Plan& b) {
  if (a.covered_qty != b.covered_qty) return a.covered_qty > b.covered_qty;
  if (a.warehouses.size() != b.warehouses.size()) return a.warehouses.size() < b.warehouses.size();
  if (a.score != b.score) return a.score > b.score;
  return a.warehouses < b.warehouses;
}

// Keeps the best `max` plans in `ranked`, best first.
void keep(std::vector<Plan>& ranked, const Plan& plan, std::size_t max) {
  if (ranked.size() == max && !better(plan, ranked.back())) return;
  auto at = std::upper_bound(ranked.begin(), ranked.end(), plan, better);
  if (ranked.size() == max) ranked.pop_back();
  ranked.insert(at, plan);
}

// Calls fn(subset) for every ascending k-subset of `pool`.
template <typename F>
void for_each_subset(std::span<const std::uint16_t> pool, std::size_t k, std::vector<std::uint16_t>& subset, F&& fn) {
  if (k == 0 || k > pool.size()) return;
  std::vector<std::size_t> idx(k);
  for (std::size_t i = 0; i < k; ++i) idx[i] = i;
  subset.resize(k);
  for (;;) {
    for (std::size_t i = 0; i < k; ++i) subset[i] = pool[idx[i]];
    fn(std::span<const std::uint16_t>(subset));
    std::size_t i = k;
    while (i > 0 && idx[i - 1] == pool.size() - k + (i - 1)) --i;
    if (i == 0) return;
    ++idx[i - 1];
    for (std::size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
}

}  // namespace

std::string_view dimension_name(Dimension d) { return dimension_names[static_cast<std::size_t>(d)]; }

bool dimension_from_name(std::string_view name, Dimension& out) {
  for (std::size_t i = 0; i < dimension_count; ++i) {
    if (dimension_names[i] == name) {
      out = static_cast<Dimension>(i);
      return true;
    }
  }
  return false;
}

Weights default_weights() {
  // stock, distance, transit, freight, load, splits, region, age, safety, cutoff, channel, transfer
  return {200, 100, 150, 120, 80, 60, 60, 40, 60, 40, 40, 50};
}

double distance_km(std::int32_t lat1_e6, std::int32_t lon1_e6, std::int32_t lat2_e6, std::int32_t lon2_e6) {
  constexpr double rad = 3.14159265358979323846 / 180.0 / 1e6;
  double lat1 = lat1_e6 * rad, lat2 = lat2_e6 * rad;
  double dlat = lat2 - lat1, dlon = (lon2_e6 - lon1_e6) * rad;
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0 * std::asin(std::sqrt(std::min(1.0, h)));
}

void Matcher::prepare(const MatchRequest& request, std::span<const MatchWarehouse> warehouses) {
  std::size_t n = warehouses.size();
  distance_km_.resize(n);
  order_.resize(n);
  for (std::size_t w = 0; w < n; ++w) {
    distance_km_[w] = distance_km(request.ship_to_lat_e6, request.ship_to_lon_e6, warehouses[w].lat_e6,
                                  warehouses[w].lon_e6);
    order_[w] = static_cast<std::uint16_t>(w);
  }
  // Inside a plan, lines are filled from the nearest warehouse first.
  std::stable_sort(order_.begin(), order_.end(),
                   [&](std::uint16_t a, std::uint16_t b) { return distance_km_[a] < distance_km_[b]; });
  remaining_.resize(request.lines.size());
}

// Fills `out` with the plan that takes the order from exactly the warehouses of `subset`. False when
// a warehouse of the subset would ship nothing (a smaller subset is the same plan).
bool Matcher::evaluate(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                       std::span<const std::uint16_t> subset, Plan& out) {
  const auto& lines = request.lines;
  out.picks.clear();
  out.warehouses.assign(subset.begin(), subset.end());
  out.covered_qty = out.ordered_qty = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    remaining_[i] = lines[i].qty;
    out.ordered_qty += lines[i].qty;
  }
  // Fill: nearest warehouse of the subset first, each line as far as its stock goes.
  for (std::uint16_t w : order_) {
    if (std::find(subset.begin(), subset.end(), w) == subset.end()) continue;
    const MatchWarehouse& wh = warehouses[w];
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::int64_t take = std::min(remaining_[i], std::max<std::int64_t>(0, wh.available[i]));
      if (take <= 0) continue;
      remaining_[i] -= take;
      out.covered_qty += take;
      out.picks.push_back({w, static_cast<std::uint16_t>(i), take});
    }
  }
  if (out.covered_qty == 0) return false;

  double now_hours = static_cast<double>(request.now_us) / us_per_hour;
  double promised_hours = static_cast<double>(request.promised_by_us) / us_per_hour;
  double max_distance = 0, max_transit = 0, max_load = 0, age_qty_days = 0;
  std::int64_t freight = 0, cases_total = 0, in_region_qty = 0;
  std::size_t cutoff_made = 0, safety_pairs = 0, safety_ok = 0;
  std::uint16_t primary = subset[0];
  std::int64_t primary_qty = -1;
  std::int64_t transfer_cost = 0;
  for (std::uint16_t w : subset) {
    const MatchWarehouse& wh = warehouses[w];
    std::int64_t cases = 0, qty = 0;
    for (const auto& p : out.picks) {
      if (p.warehouse != w) continue;
      const MatchLine& line = lines[p.line];
      cases += cases_of(p.qty, line.case_units);
      qty += p.qty;
      ++safety_pairs;
      safety_ok += wh.available[p.line] - p.qty >= line.safety_qty ? 1 : 0;
      std::int64_t since = wh.stock_since_us.empty() ? request.now_us : wh.stock_since_us[p.line];
      age_qty_days += static_cast<double>(p.qty) * std::max(0.0, static_cast<double>(request.now_us - since) / us_per_day);
    }
    if (qty == 0) return false;
    if (qty > primary_qty) primary = w, primary_qty = qty;
    cases_total += cases;
    in_region_qty += wh.in_ship_to_region ? qty : 0;
    freight += static_cast<std::int64_t>(std::llround(distance_km_[w])) * cases * freight_cents_per_case_km;
    // A busier warehouse takes longer to pick; a pick ready after the cut-off leaves next morning.
    double load = wh.daily_capacity_cases > 0
                      ? static_cast<double>(wh.load_cases_today + cases) / static_cast<double>(wh.daily_capacity_cases)
                      : 0.5;
    max_load = std::max(max_load, load);
    double ready_hours = now_hours + 1 + 8 * std::min(1.0, load);
    double local_hour = std::fmod(ready_hours + china_utc_offset_hours, 24.0);
    double depart_hours = ready_hours;
    if (local_hour < carrier_cutoff_hour_local) {
      ++cutoff_made;
    } else {
      depart_hours += 24 - local_hour + departure_hour_local;
    }
    double transit = depart_hours - now_hours + distance_km_[w] / road_km_per_hour;
    max_transit = std::max(max_transit, transit);
    max_distance = std::max(max_distance, distance_km_[w]);
  }
  for (std::uint16_t w : subset) {
    if (w == primary) continue;
    std::int64_t cases = 0;
    for (const auto& p : out.picks) cases += p.warehouse == w ? cases_of(p.qty, lines[p.line].case_units) : 0;
    double leg_km = distance_km(warehouses[w].lat_e6, warehouses[w].lon_e6, warehouses[primary].lat_e6,
                                warehouses[primary].lon_e6);
    transfer_cost += consolidation_cents_per_split + static_cast<std::int64_t>(std::llround(leg_km)) * cases * freight_cents_per_case_km;
  }

  auto& s = out.dimension_scores;
  auto set = [&](Dimension d, double v) { s[static_cast<std::size_t>(d)] = clamp01(v); };
  double k = static_cast<double>(subset.size());
  double slack_hours = promised_hours - now_hours - max_transit;
  double freight_scale = static_cast<double>(cases_total) * distance_km_scale * freight_cents_per_case_km;
  double speed = 1 - clamp01(max_transit / speed_hours_scale);
  set(Dimension::stock, static_cast<double>(out.covered_qty) / static_cast<double>(out.ordered_qty));
  set(Dimension::distance, 1 - max_distance / distance_km_scale);
  set(Dimension::transit_time, slack_hours / 24);
  set(Dimension::freight, freight_scale > 0 ? 1 - static_cast<double>(freight) / freight_scale : 1);
  set(Dimension::load, 1 - max_load);
  set(Dimension::splits, 1 / k);
  set(Dimension::region_affinity, static_cast<double>(in_region_qty) / static_cast<double>(out.covered_qty));
  set(Dimension::stock_age, age_qty_days / static_cast<double>(out.covered_qty) / stock_age_days_scale);
  set(Dimension::safety, safety_pairs > 0 ? static_cast<double>(safety_ok) / static_cast<double>(safety_pairs) : 1);
  set(Dimension::cutoff, static_cast<double>(cutoff_made) / k);
  set(Dimension::channel_priority, 1 - channel_urgency(request.channel) * (1 - speed));
  set(Dimension::transfer_cost,
      1 - static_cast<double>(transfer_cost) /
              (3.0 * consolidation_cents_per_split + (freight_scale > 0 ? freight_scale : 1)));
  double weighted = 0, total_weight = 0;
  for (std::size_t d = 0; d < dimension_count; ++d) {
    double w = std::max(0, request.weights[d]);
    weighted += w * s[d];
    total_weight += w;
  }
  out.score = total_weight > 0 ? 1000 * weighted / total_weight : 0;
  out.distance_km = max_distance;
  out.transit_hours = max_transit;
  out.freight_cents = freight;
  out.transfer_cost_cents = transfer_cost;
  out.cases = cases_total;
  return true;
}

std::vector<Plan> Matcher::match(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                                 const MatchOptions& options) {
  std::vector<Plan> ranked;
  if (request.lines.empty() || warehouses.empty() || options.plans_max == 0) return ranked;
  assert(warehouses.size() < 65536);
  prepare(request, warehouses);
  // Candidates: warehouses holding any of the order's SKUs; the others can never ship a unit.
  std::vector<std::uint16_t> candidates;
  std::vector<Plan> singles;
  for (std::size_t w = 0; w < warehouses.size(); ++w) {
    std::uint16_t index = static_cast<std::uint16_t>(w);
    if (!evaluate(request, warehouses, std::span<const std::uint16_t>(&index, 1), scratch_plan_)) continue;
    candidates.push_back(index);
    if (scratch_plan_.feasible() || request.allow_partial) keep(ranked, scratch_plan_, options.plans_max);
    if (warehouses.size() > options.exact_candidates_max) singles.push_back(scratch_plan_);
  }
  auto feasible_count = [&] {
    return static_cast<std::size_t>(std::count_if(ranked.begin(), ranked.end(), [](const Plan& p) { return p.feasible(); }));
  };
  // One warehouse that covers everything beats any split: stop as soon as enough such plans exist.
  if (feasible_count() >= options.plans_max) return ranked;
  if (candidates.size() > options.exact_candidates_max) {
    // Too many for an exhaustive split search: keep the best-placed (most units, then best score).
    std::sort(singles.begin(), singles.end(), better);
    candidates.clear();
    for (std::size_t i = 0; i < options.exact_candidates_max; ++i) candidates.push_back(singles[i].warehouses[0]);
    std::sort(candidates.begin(), candidates.end());
  }
  for (std::size_t k = 2; k <= options.splits_max; ++k) {
    for_each_subset(candidates, k, subset_, [&](std::span<const std::uint16_t> subset) {
      if (!evaluate(request, warehouses, subset, scratch_plan_)) return;
      if (scratch_plan_.feasible() || request.allow_partial) keep(ranked, scratch_plan_, options.plans_max);
    });
    if (feasible_count() >= options.plans_max) break;
  }
  return ranked;
}

std::vector<Plan> Matcher::brute_force(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                                       const MatchOptions& options) {
  std::vector<Plan> all;
  if (request.lines.empty() || warehouses.empty() || options.plans_max == 0) return all;
  prepare(request, warehouses);
  std::vector<std::uint16_t> pool(warehouses.size());
  for (std::size_t w = 0; w < pool.size(); ++w) pool[w] = static_cast<std::uint16_t>(w);
  for (std::size_t k = 1; k <= options.splits_max; ++k) {
    for_each_subset(pool, k, subset_, [&](std::span<const std::uint16_t> subset) {
      if (!evaluate(request, warehouses, subset, scratch_plan_)) return;
      if (scratch_plan_.feasible() || request.allow_partial) all.push_back(scratch_plan_);
    });
  }
  std::sort(all.begin(), all.end(), better);
  if (all.size() > options.plans_max) all.resize(options.plans_max);
  return all;
}

}  // namespace ledger

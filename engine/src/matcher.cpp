#include "ledger/matcher.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace ledger {

namespace {

constexpr std::string_view dimension_names[dimension_count] = {
    "stock", "distance", "transit_time", "freight", "load", "splits", "region_affinity", "stock_age",
    "safety", "cutoff", "channel_priority", "transfer_cost"};

constexpr double us_per_hour = 3.6e9;
constexpr double days_per_us = 1 / 86.4e9;
// Normalizers: beyond these a figure scores zero. China is ~3,000 km across.
constexpr double distance_km_scale = 3000;
constexpr double speed_hours_scale = 72;
constexpr double stock_age_days_scale = 90;
constexpr double road_km_per_hour = 60;
constexpr double china_utc_offset_hours = 8;
constexpr double departure_hour_local = 8;  // the first trucks of a day leave at 08:00
constexpr double earth_radius_km = 6371.0;

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

// What a line takes from a warehouse that has `available` of it, `remaining` still to fill.
std::int64_t take_of(std::int64_t remaining, std::int64_t available) {
  return std::min(remaining, std::max<std::int64_t>(0, available));
}

// Better plans sort first: more units covered, then fewer warehouses, then higher score, then the
// warehouses that come first in candidate order.
bool better(const Plan& a, const Plan& b) {
  if (a.covered_qty != b.covered_qty) return a.covered_qty > b.covered_qty;
  if (a.warehouses.size() != b.warehouses.size()) return a.warehouses.size() < b.warehouses.size();
  if (a.score != b.score) return a.score > b.score;
  return a.warehouses < b.warehouses;
}

// Points on the unit sphere; the great-circle distance follows from the chord between two. One
// function for every distance, so the same two points always give the same figure to the last bit.
void to_unit(std::int32_t lat_e6, std::int32_t lon_e6, double& x, double& y, double& z) {
  constexpr double rad = 3.14159265358979323846 / 180.0 / 1e6;
  double lat = lat_e6 * rad, lon = lon_e6 * rad;
  double c = std::cos(lat);
  x = c * std::cos(lon);
  y = c * std::sin(lon);
  z = std::sin(lat);
}

double half_chord(double ax, double ay, double az, double bx, double by, double bz) {
  double dx = ax - bx, dy = ay - by, dz = az - bz;
  return std::min(1.0, std::sqrt(dx * dx + dy * dy + dz * dz) / 2);
}

double chord_km(double ax, double ay, double az, double bx, double by, double bz) {
  return 2 * earth_radius_km * std::asin(half_chord(ax, ay, az, bx, by, bz));
}

// Never more than chord_km of the same points (asin(x) >= x), without the arc sine.
double chord_km_at_most(double ax, double ay, double az, double bx, double by, double bz) {
  return 2 * earth_radius_km * half_chord(ax, ay, az, bx, by, bz);
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
  double ax, ay, az, bx, by, bz;
  to_unit(lat1_e6, lon1_e6, ax, ay, az);
  to_unit(lat2_e6, lon2_e6, bx, by, bz);
  return chord_km(ax, ay, az, bx, by, bz);
}

// Calls fn(subset) for every ascending k-subset of `pool`.
template <typename F>
void Matcher::for_each_subset(std::span<const std::uint16_t> pool, std::size_t k, F&& fn) {
  if (k == 0 || k > pool.size()) return;
  auto& idx = subset_index_;
  idx.resize(k);
  for (std::size_t i = 0; i < k; ++i) idx[i] = i;
  subset_.resize(k);
  for (;;) {
    for (std::size_t i = 0; i < k; ++i) subset_[i] = pool[idx[i]];
    fn(std::span<const std::uint16_t>(subset_));
    std::size_t i = k;
    while (i > 0 && idx[i - 1] == pool.size() - k + (i - 1)) --i;
    if (i == 0) return;
    ++idx[i - 1];
    for (std::size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
}

void Matcher::prepare(const MatchRequest& request, std::span<const MatchWarehouse> warehouses) {
  const auto& lines = request.lines;
  std::size_t n = warehouses.size();
  single_covered_.resize(n);
  has_distance_.assign(n, 0);
  distance_km_.resize(n);
  distance_rounded_km_.resize(n);
  if (units_.size() < n) units_.resize(n);
  // What each warehouse covers alone; more than nothing makes it a candidate.
  for (std::size_t w = 0; w < n; ++w) {
    const MatchWarehouse& wh = warehouses[w];
    std::int64_t covered = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) covered += std::max<std::int64_t>(0, take_of(lines[i].qty, wh.available[i]));
    single_covered_[w] = covered;
  }
  ordered_qty_ = full_cases_ = 0;
  line_cases_.resize(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ordered_qty_ += lines[i].qty;
    line_cases_[i] = cases_of(lines[i].qty, lines[i].case_units);
    full_cases_ += line_cases_[i];
  }
  quantities_positive_ = std::all_of(lines.begin(), lines.end(), [](const MatchLine& l) { return l.qty > 0; });
  remaining_.resize(lines.size());
  to_unit(request.ship_to_lat_e6, request.ship_to_lon_e6, ship_to_.x, ship_to_.y, ship_to_.z);
  urgency_ = channel_urgency(request.channel);
  // Hours are counted from now: the local hour of day once, then small figures only.
  local_hour_now_ = std::fmod(static_cast<double>(request.now_us) / us_per_hour + china_utc_offset_hours, 24.0);
  if (local_hour_now_ < 0) local_hour_now_ += 24;
  promised_in_hours_ = (static_cast<double>(request.promised_by_us) - static_cast<double>(request.now_us)) / us_per_hour;
  double total_weight = 0;
  for (std::size_t d = 0; d < dimension_count; ++d) {
    weight_[d] = std::max(0, request.weights[d]);
    total_weight += weight_[d];
  }
  score_per_weight_ = total_weight > 0 ? 1000 / total_weight : 0;
}

const Matcher::Unit& Matcher::unit_of(std::span<const MatchWarehouse> warehouses, std::uint16_t w) {
  Unit& u = units_[w];
  const MatchWarehouse& wh = warehouses[w];
  if (!u.valid || u.lat_e6 != wh.lat_e6 || u.lon_e6 != wh.lon_e6) {
    to_unit(wh.lat_e6, wh.lon_e6, u.x, u.y, u.z);
    u.lat_e6 = wh.lat_e6;
    u.lon_e6 = wh.lon_e6;
    u.valid = true;
  }
  return u;
}

double Matcher::distance_to(std::span<const MatchWarehouse> warehouses, std::uint16_t w) {
  if (!has_distance_[w]) {
    const Unit& u = unit_of(warehouses, w);
    double d = chord_km(ship_to_.x, ship_to_.y, ship_to_.z, u.x, u.y, u.z);
    distance_km_[w] = d;
    distance_rounded_km_[w] = std::llround(d);
    has_distance_[w] = 1;
  }
  return distance_km_[w];
}

// The figures of a plan that its scores come from.
struct Matcher::Tally {
  std::int64_t covered = 0, ordered = 0, freight = 0, cases = 0, in_region_qty = 0, transfer_cost = 0;
  double max_distance = 0, max_transit = 0, max_load = 0, age_qty_days = 0;
  std::size_t warehouses = 0, cutoff_made = 0, safety_pairs = 0, safety_ok = 0;
};

// Units `qty` of `line` taken from `wh`.
void Matcher::add_pick(Tally& t, const MatchRequest& request, const MatchWarehouse& wh, std::size_t i, std::int64_t qty,
                       std::int64_t& cases) const {
  const MatchLine& line = request.lines[i];
  cases += qty == line.qty ? line_cases_[i] : cases_of(qty, line.case_units);
  ++t.safety_pairs;
  t.safety_ok += wh.available[i] - qty >= line.safety_qty ? 1 : 0;
  std::int64_t since = wh.stock_since_us.empty() ? request.now_us : wh.stock_since_us[i];
  t.age_qty_days += static_cast<double>(qty) * std::max(0.0, static_cast<double>(request.now_us - since) * days_per_us);
}

// One warehouse of the plan, shipping `qty` units in `cases` cases from `distance` km (rounded:
// `rounded_km`). The score never rises with the distance: a lower bound of it bounds the score.
void Matcher::add_warehouse(Tally& t, const MatchWarehouse& wh, std::int64_t qty, std::int64_t cases, double distance,
                            std::int64_t rounded_km) const {
  ++t.warehouses;
  t.cases += cases;
  t.in_region_qty += wh.in_ship_to_region ? qty : 0;
  t.freight += rounded_km * cases * freight_cents_per_case_km;
  // A busier warehouse takes longer to pick; a pick ready after the cut-off leaves next morning.
  double load = wh.daily_capacity_cases > 0
                    ? static_cast<double>(wh.load_cases_today + cases) / static_cast<double>(wh.daily_capacity_cases)
                    : 0.5;
  t.max_load = std::max(t.max_load, load);
  double ready_in = 1 + 8 * std::clamp(load, 0.0, 1.0);  // hours from now
  // Trucks leave between 08:00 and the cut-off: a pick ready at night waits for the morning, one
  // ready after the cut-off for the next morning. It makes today's cut-off when it leaves today.
  double ready_at = local_hour_now_ + ready_in;  // hours since today's local midnight
  double day = std::floor(ready_at / 24);
  double hour = ready_at - 24 * day;
  double depart_at = hour < departure_hour_local         ? 24 * day + departure_hour_local
                     : hour < carrier_cutoff_hour_local ? ready_at
                                                         : 24 * (day + 1) + departure_hour_local;
  if (depart_at < carrier_cutoff_hour_local) ++t.cutoff_made;
  double depart_in = depart_at - local_hour_now_;
  double transit = depart_in + distance * (1 / road_km_per_hour);
  t.max_transit = std::max(t.max_transit, transit);
  t.max_distance = std::max(t.max_distance, distance);
}

// The dimension scores and the weighted score of a tallied plan.
double Matcher::scores(const Tally& t, std::array<double, dimension_count>& s) const {
  auto set = [&](Dimension d, double v) { s[static_cast<std::size_t>(d)] = clamp01(v); };
  // Divisions by constants are multiplications by their inverse; x / x is 1 and 0 / x is 0 exactly,
  // so the usual single covering plan skips those divisions and scores the same to the last bit.
  auto ratio = [](double part, double whole) { return part == whole ? 1.0 : (part == 0 ? 0.0 : part / whole); };
  double per_warehouse = ratio(1, static_cast<double>(t.warehouses));
  double per_unit = ratio(1, static_cast<double>(t.covered));
  double slack_hours = promised_in_hours_ - t.max_transit;
  double freight_scale = static_cast<double>(t.cases) * distance_km_scale * freight_cents_per_case_km;
  double speed = 1 - clamp01(t.max_transit * (1 / speed_hours_scale));
  set(Dimension::stock, ratio(static_cast<double>(t.covered), static_cast<double>(t.ordered)));
  set(Dimension::distance, 1 - t.max_distance * (1 / distance_km_scale));
  set(Dimension::transit_time, slack_hours * (1.0 / 24));
  set(Dimension::freight, freight_scale > 0 ? 1 - ratio(static_cast<double>(t.freight), freight_scale) : 1);
  set(Dimension::load, 1 - t.max_load);
  set(Dimension::splits, per_warehouse);
  set(Dimension::region_affinity, static_cast<double>(t.in_region_qty) * per_unit);
  set(Dimension::stock_age, t.age_qty_days * per_unit * (1 / stock_age_days_scale));
  set(Dimension::safety,
      t.safety_pairs > 0 ? ratio(static_cast<double>(t.safety_ok), static_cast<double>(t.safety_pairs)) : 1);
  set(Dimension::cutoff, static_cast<double>(t.cutoff_made) * per_warehouse);
  set(Dimension::channel_priority, 1 - urgency_ * (1 - speed));
  set(Dimension::transfer_cost,
      1 - ratio(static_cast<double>(t.transfer_cost),
                3.0 * consolidation_cents_per_split + (freight_scale > 0 ? freight_scale : 1)));
  // Four running sums: the additions need not wait for one another.
  double sum[4] = {0, 0, 0, 0};
  for (std::size_t d = 0; d < dimension_count; ++d) sum[d % 4] += weight_[d] * s[d];
  return ((sum[0] + sum[1]) + (sum[2] + sum[3])) * score_per_weight_;
}

// The plan of warehouse `w` alone, `distance` km away: into `out`; without `out`, only its score
// (with a lower bound of the distance, an upper bound of the score).
double Matcher::score_single(const MatchRequest& request, const MatchWarehouse& wh, std::uint16_t w, double distance,
                             std::int64_t rounded_km, Plan* out) {
  const auto& lines = request.lines;
  Tally t;
  t.ordered = ordered_qty_;
  std::int64_t cases = 0;
  if (out != nullptr) out->picks.clear();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::int64_t take = take_of(lines[i].qty, wh.available[i]);
    if (take <= 0) continue;
    t.covered += take;
    add_pick(t, request, wh, i, take, cases);
    if (out != nullptr) out->picks.push_back({w, static_cast<std::uint16_t>(i), take});
  }
  add_warehouse(t, wh, t.covered, cases, distance, rounded_km);
  if (out == nullptr) {
    std::array<double, dimension_count> s;
    return scores(t, s);
  }
  out->score = scores(t, out->dimension_scores);
  out->warehouses.assign(1, w);
  out->covered_qty = t.covered;
  out->ordered_qty = t.ordered;
  out->distance_km = t.max_distance;
  out->transit_hours = t.max_transit;
  out->freight_cents = t.freight;
  out->transfer_cost_cents = 0;
  out->cases = t.cases;
  return out->score;
}

// At least the score of any warehouse covering the order alone at least `nearest` km away: every
// figure that does not depend on the distance at its best, the road time at its least. Computed by
// the same operations as the real score, so the bound holds to the last bit; it never rises with
// `nearest`.
double Matcher::best_possible_single(double nearest) const {
  Tally t;
  t.covered = t.ordered = t.in_region_qty = ordered_qty_;
  t.warehouses = t.cutoff_made = t.safety_pairs = t.safety_ok = 1;
  t.cases = full_cases_;
  t.freight = std::llround(nearest) * full_cases_ * freight_cents_per_case_km;
  t.max_distance = std::max(0.0, nearest);
  t.max_transit = std::max(0.0, 1 + nearest * (1 / road_km_per_hour));  // ready in an hour at the soonest
  t.age_qty_days = std::numeric_limits<double>::infinity();
  std::array<double, dimension_count> s;
  return scores(t, s);
}

bool Matcher::evaluate(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                       std::span<const std::uint16_t> subset, bool feasible_only, Plan& out) {
  const auto& lines = request.lines;
  const std::size_t k = subset.size();
  for (std::uint16_t w : subset) {
    if (single_covered_[w] <= 0) return false;
  }
  if (k == 1) {
    std::uint16_t w = subset[0];
    if (feasible_only && single_covered_[w] != ordered_qty_) return false;
    double distance = distance_to(warehouses, w);
    score_single(request, warehouses[w], w, distance, distance_rounded_km_[w], &out);
    return true;
  }
  // Fill: nearest warehouse of the subset first (ties: candidate order), each line as far as its
  // stock goes.
  fill_order_.assign(subset.begin(), subset.end());
  for (std::size_t a = 1; a < k; ++a) {  // insertion sort, stable: the subset is ascending
    std::uint16_t w = fill_order_[a];
    double d = distance_to(warehouses, w);
    std::size_t b = a;
    while (b > 0 && d < distance_to(warehouses, fill_order_[b - 1])) {
      fill_order_[b] = fill_order_[b - 1];
      --b;
    }
    fill_order_[b] = w;
  }
  out.picks.clear();
  Tally t;
  t.ordered = ordered_qty_;
  for (std::size_t i = 0; i < lines.size(); ++i) remaining_[i] = lines[i].qty;
  for (std::uint16_t w : fill_order_) {
    const MatchWarehouse& wh = warehouses[w];
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::int64_t take = take_of(remaining_[i], wh.available[i]);
      if (take <= 0) continue;
      remaining_[i] -= take;
      t.covered += take;
      out.picks.push_back({w, static_cast<std::uint16_t>(i), take});
    }
  }
  if (t.covered == 0) return false;
  if (feasible_only && t.covered != t.ordered) return false;

  std::uint16_t primary = subset[0];
  std::int64_t primary_qty = -1;
  members_.resize(k);
  for (std::size_t m = 0; m < k; ++m) {
    std::uint16_t w = subset[m];
    const MatchWarehouse& wh = warehouses[w];
    std::int64_t cases = 0, qty = 0;
    for (const auto& p : out.picks) {
      if (p.warehouse != w) continue;
      add_pick(t, request, wh, p.line, p.qty, cases);
      qty += p.qty;
    }
    if (qty == 0) return false;
    members_[m] = {qty, cases};
    if (qty > primary_qty) primary = w, primary_qty = qty;
    add_warehouse(t, wh, qty, cases, distance_to(warehouses, w), distance_rounded_km_[w]);
  }
  // Consolidation: every other warehouse's cases travel to the one that ships most.
  const Unit& hub = unit_of(warehouses, primary);
  for (std::size_t m = 0; m < k; ++m) {
    std::uint16_t w = subset[m];
    if (w == primary) continue;
    const Unit& u = unit_of(warehouses, w);
    double leg_km = chord_km(u.x, u.y, u.z, hub.x, hub.y, hub.z);
    t.transfer_cost += consolidation_cents_per_split + std::llround(leg_km) * members_[m].cases * freight_cents_per_case_km;
  }
  out.score = scores(t, out.dimension_scores);
  out.warehouses.assign(subset.begin(), subset.end());
  out.covered_qty = t.covered;
  out.ordered_qty = t.ordered;
  out.distance_km = t.max_distance;
  out.transit_hours = t.max_transit;
  out.freight_cents = t.freight;
  out.transfer_cost_cents = t.transfer_cost;
  out.cases = t.cases;
  return true;
}

void Matcher::keep(Plan& plan, std::size_t max) {
  std::size_t at;
  if (ranked_count_ == max) {
    if (!better(plan, ranked_[max - 1])) return;
    at = max - 1;
  } else {
    at = ranked_count_++;
    if (ranked_.size() <= at) ranked_.emplace_back();
  }
  std::swap(ranked_[at], plan);  // `plan` gets the replaced one's buffers
  for (; at > 0 && better(ranked_[at], ranked_[at - 1]); --at) std::swap(ranked_[at], ranked_[at - 1]);
}

std::size_t Matcher::feasible_ranked() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < ranked_count_; ++i) n += ranked_[i].feasible() ? 1 : 0;
  return n;
}

std::vector<Plan> Matcher::match(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                                 const MatchOptions& options) {
  std::vector<Plan> out;
  match_into(request, warehouses, options, out);
  return out;
}

void Matcher::match_into(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                         const MatchOptions& options, std::vector<Plan>& out) {
  ranked_count_ = 0;
  auto finish = [&] {
    out.resize(ranked_count_);
    for (std::size_t i = 0; i < ranked_count_; ++i) std::swap(out[i], ranked_[i]);
  };
  const auto& lines = request.lines;
  if (lines.empty() || warehouses.empty() || options.plans_max == 0) return finish();
  assert(warehouses.size() < 65536);
  prepare(request, warehouses);
  const bool partial = request.allow_partial;
  const bool may_prune = warehouses.size() > options.exact_candidates_max;
  // Candidates: warehouses holding any of the order's SKUs; the others can never ship a unit. A
  // single plan that does not cover is only scored when it may be kept (backorders) or may rank
  // the candidates of a pruned split search.
  candidates_.clear();
  deferred_.clear();
  singles_.clear();
  covering_.clear();
  for (std::size_t w = 0; w < warehouses.size(); ++w) {
    std::int64_t covered = single_covered_[w];
    if (covered <= 0) continue;
    std::uint16_t index = static_cast<std::uint16_t>(w);
    candidates_.push_back(index);
    if (partial) {
      if (!evaluate(request, warehouses, std::span<const std::uint16_t>(&index, 1), false, scratch_plan_)) continue;
      if (may_prune) singles_.push_back({scratch_plan_.covered_qty, scratch_plan_.score, index});
      keep(scratch_plan_, options.plans_max);
    } else if (covered == ordered_qty_) {
      const Unit& u = unit_of(warehouses, index);
      covering_.push_back({chord_km_at_most(ship_to_.x, ship_to_.y, ship_to_.z, u.x, u.y, u.z), index});
    } else if (may_prune) {
      deferred_.push_back(index);
    }
  }
  if (!covering_.empty()) {
    // The warehouses that cover the order alone: the nearest (by the least its distance can be)
    // first, the best plan most likely. Once enough are kept, one is skipped when even at that least
    // distance it scores below the last kept; and when even the best figures possible at that
    // distance cannot, so can none farther (`cut`). Nothing skipped is needed later: with enough
    // covering plans no split search follows.
    std::size_t first = 0;
    for (std::size_t i = 1; i < covering_.size(); ++i) {
      if (covering_[i].first < covering_[first].first) first = i;
    }
    std::swap(covering_[0], covering_[first]);
    double cut = std::numeric_limits<double>::infinity();
    for (const auto& [nearest, index] : covering_) {
      if (ranked_count_ == options.plans_max) {
        if (nearest >= cut) continue;
        double last = ranked_[options.plans_max - 1].score;
        if (best_possible_single(nearest) < last) {
          cut = nearest;
          continue;
        }
        if (score_single(request, warehouses[index], index, nearest, std::llround(nearest), nullptr) < last) continue;
      }
      if (!evaluate(request, warehouses, std::span<const std::uint16_t>(&index, 1), true, scratch_plan_)) continue;
      if (may_prune) singles_.push_back({scratch_plan_.covered_qty, scratch_plan_.score, index});
      keep(scratch_plan_, options.plans_max);
    }
  }
  // One warehouse that covers everything beats any split: stop as soon as enough such plans exist.
  if (feasible_ranked() >= options.plans_max) return finish();
  std::span<const std::uint16_t> pool = candidates_;
  if (candidates_.size() > options.exact_candidates_max) {
    // Too many for an exhaustive split search: keep the best-placed (most units, then best score).
    for (std::uint16_t index : deferred_) {
      if (!evaluate(request, warehouses, std::span<const std::uint16_t>(&index, 1), false, scratch_plan_)) continue;
      singles_.push_back({scratch_plan_.covered_qty, scratch_plan_.score, index});
    }
    std::sort(singles_.begin(), singles_.end(), [](const Single& a, const Single& b) {
      if (a.covered != b.covered) return a.covered > b.covered;
      if (a.score != b.score) return a.score > b.score;
      return a.warehouse < b.warehouse;
    });
    pool_.clear();
    for (std::size_t i = 0; i < options.exact_candidates_max && i < singles_.size(); ++i) pool_.push_back(singles_[i].warehouse);
    std::sort(pool_.begin(), pool_.end());
    pool = pool_;
  }
  const bool check_cover = !partial && quantities_positive_;
  for (std::size_t k = 2; k <= options.splits_max; ++k) {
    for_each_subset(pool, k, [&](std::span<const std::uint16_t> subset) {
      if (check_cover) {  // cheap: a subset that cannot cover the order is no plan
        for (std::size_t i = 0; i < lines.size(); ++i) {
          std::int64_t have = 0;
          for (std::uint16_t w : subset) have += std::max<std::int64_t>(0, warehouses[w].available[i]);
          if (have < lines[i].qty) return;
        }
      }
      if (!evaluate(request, warehouses, subset, !partial, scratch_plan_)) return;
      keep(scratch_plan_, options.plans_max);
    });
    if (feasible_ranked() >= options.plans_max) break;
  }
  finish();
}

std::vector<Plan> Matcher::brute_force(const MatchRequest& request, std::span<const MatchWarehouse> warehouses,
                                       const MatchOptions& options) {
  std::vector<Plan> all;
  if (request.lines.empty() || warehouses.empty() || options.plans_max == 0) return all;
  prepare(request, warehouses);
  pool_.resize(warehouses.size());
  for (std::size_t w = 0; w < pool_.size(); ++w) pool_[w] = static_cast<std::uint16_t>(w);
  for (std::size_t k = 1; k <= options.splits_max; ++k) {
    for_each_subset(pool_, k, [&](std::span<const std::uint16_t> subset) {
      if (!evaluate(request, warehouses, subset, !request.allow_partial, scratch_plan_)) return;
      all.push_back(scratch_plan_);
    });
  }
  std::sort(all.begin(), all.end(), better);
  if (all.size() > options.plans_max) all.resize(options.plans_max);
  return all;
}

}  // namespace ledger

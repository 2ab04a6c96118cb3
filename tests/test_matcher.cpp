// The sourcing matcher (ledger/matcher.hpp) and the lock-free stock table it reads
// (ledger/stock_table.hpp). Read top to bottom:
//   1. the exact matcher agrees with the brute force on thousands of random small cases;
//   2. one case per dimension, each showing the dimension changes the choice;
//   3. the stock table follows the engine, also while a writer keeps moving stock.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <tuple>
#include <thread>

#include "ledger/live_state.hpp"
#include "ledger/matcher.hpp"
#include "ledger/stock_table.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

// 10:00 in China (02:00 UTC) on 2026-09-21: before the carrier cut-off.
constexpr std::int64_t morning_us = 1'789'956'000'000'000;
constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;

std::size_t dim(Dimension d) { return static_cast<std::size_t>(d); }

// Only `d` counts (1000 per mille), every other dimension 0.
Weights only(Dimension d) {
  Weights w{};
  w[dim(d)] = 1000;
  return w;
}
Weights none() { return Weights{}; }

struct City {
  std::int32_t lat_e6, lon_e6;
};
constexpr City chengdu{30'572'000, 104'066'000};
constexpr City chongqing{29'563'000, 106'551'000};  // ~270 km from Chengdu
constexpr City xian{34'341'000, 108'940'000};       // ~600 km
constexpr City wuhan{30'593'000, 114'305'000};      // ~980 km
constexpr City guangzhou{23'130'000, 113'260'000};  // ~1,240 km
constexpr City beijing{39'904'000, 116'407'000};    // ~1,520 km
constexpr City shanghai{31'230'000, 121'473'000};   // ~1,660 km
constexpr City harbin{45'750'000, 126'630'000};     // ~2,600 km

// A hand-built matching problem that owns its data (MatchWarehouse and MatchRequest hold spans).
struct Scenario {
  struct Wh {
    Wh(std::string id_, City at_, std::vector<std::int64_t> available_, std::vector<std::int64_t> since_us_ = {},
       bool in_region_ = false, std::int64_t capacity_ = 10'000, std::int64_t load_ = 0)
        : id(std::move(id_)), at(at_), available(std::move(available_)), since_us(std::move(since_us_)),
          in_region(in_region_), capacity(capacity_), load(load_) {}
    std::string id;
    City at;
    std::vector<std::int64_t> available;
    std::vector<std::int64_t> since_us;  // empty: stock arrived just now
    bool in_region;
    std::int64_t capacity, load;  // daily capacity and today's load, cases
  };
  std::vector<MatchLine> lines;
  std::vector<Wh> whs;
  City ship_to = chengdu;
  std::int64_t now_us = morning_us;
  std::int64_t promised_by_us = morning_us + 3 * day_us;
  std::string channel = "dealer_storefront";
  bool allow_partial = false;

  std::vector<std::vector<std::int64_t>> since_storage;
  std::vector<MatchWarehouse> view;
  MatchRequest request;

  void build(const Weights& weights) {
    since_storage.clear();
    view.clear();
    for (const auto& w : whs) {
      std::vector<std::int64_t> since = w.since_us;
      if (since.empty()) since.assign(lines.size(), now_us);
      since_storage.push_back(std::move(since));
    }
    for (std::size_t i = 0; i < whs.size(); ++i) {
      const Wh& w = whs[i];
      REQUIRE(w.available.size() == lines.size());
      view.push_back(MatchWarehouse{w.id, w.in_region, w.at.lat_e6, w.at.lon_e6, w.capacity, w.load, w.available,
                                    since_storage[i]});
    }
    request = MatchRequest{};
    request.lines = lines;
    request.ship_to_lat_e6 = ship_to.lat_e6;
    request.ship_to_lon_e6 = ship_to.lon_e6;
    request.now_us = now_us;
    request.promised_by_us = promised_by_us;
    request.channel = channel;
    request.allow_partial = allow_partial;
    request.weights = weights;
  }
  std::vector<Plan> match(const Weights& weights, MatchOptions options = {}) {
    build(weights);
    Matcher m;
    auto plans = m.match(request, view, options);
    auto reference = Matcher{}.brute_force(request, view, options);
    REQUIRE(plans.size() == reference.size());
    for (std::size_t i = 0; i < plans.size(); ++i) {
      CHECK(plans[i].warehouses == reference[i].warehouses);
      CHECK(plans[i].score == reference[i].score);
    }
    return plans;
  }
  // The warehouse ids of the best plan, "W0+W2"; "" when there is none.
  std::string best(const Weights& weights, MatchOptions options = {}) {
    auto plans = match(weights, options);
    if (plans.empty()) return "";
    std::string out;
    for (auto w : plans.front().warehouses) out += (out.empty() ? "" : "+") + whs[w].id;
    return out;
  }
};

// ---------------------------------------------------------------- random cases

struct RandomCase {
  std::vector<std::string> skus;
  std::vector<MatchLine> lines;
  std::vector<std::string> ids;
  std::vector<std::vector<std::int64_t>> available, since;
  std::vector<MatchWarehouse> warehouses;
  MatchRequest request;
  MatchOptions options;
  std::string channel;
  std::string describe;
};

constexpr const char* random_channels[] = {"o2o", "store", "dealer_storefront", "regional_storefront", "unknown"};

// `n` warehouses, `l` lines; stock is zero about a third of the time.
void make_random(std::mt19937_64& rng, std::size_t n, std::size_t l, RandomCase& c) {
  auto uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  c.skus.clear();
  c.lines.clear();
  for (std::size_t i = 0; i < l; ++i) c.skus.push_back(fmt::format("SKU-{}", i));
  constexpr std::int32_t case_sizes[] = {1, 1, 6, 12};
  for (std::size_t i = 0; i < l; ++i) {
    c.lines.push_back(MatchLine{c.skus[i], uniform(1, 30), case_sizes[uniform(0, 3)], uniform(0, 3) == 0 ? 0 : uniform(0, 20)});
  }
  std::int64_t now = morning_us + uniform(-2 * day_us, 2 * day_us);
  c.ids.assign(n, {});
  c.available.assign(n, std::vector<std::int64_t>(l));
  c.since.assign(n, std::vector<std::int64_t>(l));
  c.warehouses.assign(n, {});
  for (std::size_t w = 0; w < n; ++w) {
    c.ids[w] = fmt::format("W{:02}", w);
    for (std::size_t i = 0; i < l; ++i) {
      c.available[w][i] = uniform(0, 2) == 0 ? 0 : uniform(0, 40);
      c.since[w][i] = uniform(0, 4) == 0 ? now : now - uniform(0, 120 * day_us);
    }
    std::int64_t capacity = uniform(0, 3) == 0 ? 0 : uniform(20, 3000);
    std::int64_t load = capacity == 0 ? uniform(0, 100) : uniform(0, capacity + capacity / 5);
    c.warehouses[w] = MatchWarehouse{c.ids[w],
                                     uniform(0, 2) == 0,
                                     static_cast<std::int32_t>(uniform(20'000'000, 45'000'000)),
                                     static_cast<std::int32_t>(uniform(98'000'000, 125'000'000)),
                                     capacity,
                                     load,
                                     c.available[w],
                                     c.since[w]};
  }
  c.channel = random_channels[uniform(0, 4)];
  c.request = MatchRequest{};
  c.request.lines = c.lines;
  c.request.ship_to_lat_e6 = static_cast<std::int32_t>(uniform(20'000'000, 45'000'000));
  c.request.ship_to_lon_e6 = static_cast<std::int32_t>(uniform(98'000'000, 125'000'000));
  c.request.now_us = now;
  c.request.promised_by_us = now + uniform(1, 96) * hour_us;
  c.request.channel = c.channel;
  c.request.allow_partial = uniform(0, 1) == 1;
  switch (uniform(0, 3)) {
    case 0: c.request.weights = default_weights(); break;
    case 1:  // sparse: most dimensions off
      for (auto& w : c.request.weights) w = uniform(0, 2) == 0 ? uniform(0, 1000) : 0;
      break;
    default:
      for (auto& w : c.request.weights) w = uniform(0, 1000);
  }
  c.options = MatchOptions{};
  c.options.splits_max = uniform(0, 4) == 0 ? static_cast<std::size_t>(uniform(1, 4)) : 3;
  c.describe = fmt::format("{} warehouses, {} lines, allow_partial {}, splits_max {}, channel {}", n, l,
                           c.request.allow_partial, c.options.splits_max, c.channel);
}

// What any plan must satisfy, whatever the weights.
void check_plan_shape(const RandomCase& c, const Plan& p) {
  REQUIRE(!p.warehouses.empty());
  CHECK(p.warehouses.size() <= c.options.splits_max);
  CHECK(std::is_sorted(p.warehouses.begin(), p.warehouses.end()));
  CHECK(std::adjacent_find(p.warehouses.begin(), p.warehouses.end()) == p.warehouses.end());
  std::vector<std::int64_t> per_line(c.lines.size(), 0);
  std::vector<std::int64_t> per_warehouse(c.warehouses.size(), 0);
  std::int64_t covered = 0;
  for (const auto& pick : p.picks) {
    REQUIRE(pick.line < c.lines.size());
    REQUIRE(pick.warehouse < c.warehouses.size());
    CHECK(std::find(p.warehouses.begin(), p.warehouses.end(), pick.warehouse) != p.warehouses.end());
    CHECK(pick.qty > 0);
    CHECK(pick.qty <= c.warehouses[pick.warehouse].available[pick.line]);
    per_line[pick.line] += pick.qty;
    per_warehouse[pick.warehouse] += pick.qty;
    covered += pick.qty;
  }
  std::int64_t ordered = 0;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    CHECK(per_line[i] <= c.lines[i].qty);
    ordered += c.lines[i].qty;
  }
  for (auto w : p.warehouses) CHECK(per_warehouse[w] > 0);  // every warehouse of a plan ships something
  CHECK(p.covered_qty == covered);
  CHECK(p.ordered_qty == ordered);
  if (!c.request.allow_partial) CHECK(p.feasible());
  for (double s : p.dimension_scores) {
    CHECK(s >= 0.0);
    CHECK(s <= 1.0);
  }
  CHECK(p.score >= 0.0);
  CHECK(p.score <= 1000.0 + 1e-9);
}

void check_same(const RandomCase& c, const std::vector<Plan>& got, const std::vector<Plan>& want) {
  INFO(c.describe);
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    const Plan& a = got[k];
    const Plan& b = want[k];
    CHECK(a.warehouses == b.warehouses);
    CHECK(a.score == b.score);  // the same function over the same figures: bit for bit
    CHECK(a.dimension_scores == b.dimension_scores);
    CHECK(a.covered_qty == b.covered_qty);
    REQUIRE(a.picks.size() == b.picks.size());
    for (std::size_t i = 0; i < a.picks.size(); ++i) {
      CHECK(a.picks[i].warehouse == b.picks[i].warehouse);
      CHECK(a.picks[i].line == b.picks[i].line);
      CHECK(a.picks[i].qty == b.picks[i].qty);
    }
    check_plan_shape(c, a);
  }
  for (std::size_t k = 1; k < got.size(); ++k) {  // ranked: more covered, then fewer warehouses, then score
    const Plan& x = got[k - 1];
    const Plan& y = got[k];
    CHECK(std::make_tuple(x.covered_qty, -static_cast<std::int64_t>(x.warehouses.size()), x.score) >=
          std::make_tuple(y.covered_qty, -static_cast<std::int64_t>(y.warehouses.size()), y.score));
  }
}

}  // namespace

TEST_SUITE_BEGIN("matcher");

// ---------------------------------------------------------------- 1. exactness

TEST_CASE("the matcher picks exactly the brute force's best plan and ranking on random small cases") {
  std::mt19937_64 rng(20260921);
  Matcher matcher, reference;  // reused, as the writer and the API reuse theirs
  RandomCase c;
  std::size_t cases = 4000, with_plan = 0, split_best = 0, partial_best = 0;
  for (std::size_t k = 0; k < cases; ++k) {
    std::size_t n = std::uniform_int_distribution<std::size_t>(2, 10)(rng);
    std::size_t l = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    make_random(rng, n, l, c);
    CAPTURE(k);
    auto got = matcher.match(c.request, c.warehouses, c.options);
    auto want = reference.brute_force(c.request, c.warehouses, c.options);
    check_same(c, got, want);
    if (!got.empty()) {
      ++with_plan;
      split_best += got.front().warehouses.size() > 1 ? 1 : 0;
      partial_best += got.front().feasible() ? 0 : 1;
    }
    MatchOptions three = c.options;
    three.plans_max = 3;
    check_same(c, matcher.match(c.request, c.warehouses, three), reference.brute_force(c.request, c.warehouses, three));
  }
  MESSAGE(fmt::format("{} cases: {} with a plan, {} best plans split, {} partial", cases, with_plan, split_best,
                      partial_best));
  // The generator exercises every path: no plan, single, split and partial plans.
  CHECK(with_plan > cases / 2);
  CHECK(with_plan < cases);
  CHECK(split_best > cases / 20);
  CHECK(partial_best > cases / 50);
}

TEST_CASE("beyond exact_candidates_max warehouses the matcher is still exact when one warehouse covers") {
  std::mt19937_64 rng(7);
  Matcher matcher, reference;
  RandomCase c;
  for (int k = 0; k < 30; ++k) {
    std::size_t n = std::uniform_int_distribution<std::size_t>(17, 40)(rng);
    std::size_t l = std::uniform_int_distribution<std::size_t>(1, 3)(rng);
    make_random(rng, n, l, c);
    c.options.splits_max = 3;
    // Some warehouses (one at least) hold every line in full.
    std::size_t full = 1 + k % 4;
    for (std::size_t j = 0; j < full; ++j) {
      std::size_t w = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
      for (std::size_t i = 0; i < l; ++i) c.available[w][i] = c.lines[i].qty + (j % 2 == 0 ? 0 : 7);
    }
    CAPTURE(k);
    REQUIRE(c.warehouses.size() > MatchOptions{}.exact_candidates_max);
    auto got = matcher.match(c.request, c.warehouses, c.options);
    auto want = reference.brute_force(c.request, c.warehouses, c.options);
    REQUIRE(!got.empty());
    CHECK(got.front().warehouses.size() == 1);
    check_same(c, got, want);
  }
}

TEST_CASE("beyond exact_candidates_max without a covering warehouse the matcher never beats the brute force") {
  // Split plans are then searched among the best-placed warehouses only: not exact, but a valid plan
  // that is never better than the true best.
  std::mt19937_64 rng(11);
  Matcher matcher, reference;
  RandomCase c;
  std::size_t same = 0, total = 0;
  for (int k = 0; k < 20; ++k) {
    make_random(rng, 24, 2, c);
    c.options.splits_max = 2;
    for (std::size_t w = 0; w < c.warehouses.size(); ++w) {  // no warehouse covers line 0 alone
      c.available[w][0] = std::min<std::int64_t>(c.available[w][0], c.lines[0].qty - 1);
    }
    CAPTURE(k);
    auto got = matcher.match(c.request, c.warehouses, c.options);
    auto want = reference.brute_force(c.request, c.warehouses, c.options);
    if (want.empty()) continue;
    ++total;
    if (got.empty()) continue;
    check_plan_shape(c, got.front());
    const Plan& g = got.front();
    const Plan& b = want.front();
    CHECK(std::make_tuple(b.covered_qty, -static_cast<std::int64_t>(b.warehouses.size()), b.score) >=
          std::make_tuple(g.covered_qty, -static_cast<std::int64_t>(g.warehouses.size()), g.score));
    same += g.warehouses == b.warehouses ? 1 : 0;
  }
  MESSAGE(fmt::format("{} of {} pruned searches found the brute force's best", same, total));
}

// ---------------------------------------------------------------- 2. one case per dimension

TEST_CASE("distance: the nearer warehouse wins") {
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", harbin, {10}}, {"W1", chongqing, {10}}};
  CHECK(s.best(none()) == "W0");  // nothing weighs: candidate order breaks the tie
  CHECK(s.best(only(Dimension::distance)) == "W1");
  auto plans = s.match(only(Dimension::distance));
  CHECK(plans[0].distance_km == doctest::Approx(270).epsilon(0.05));
  CHECK(plans[0].dimension_scores[dim(Dimension::distance)] == doctest::Approx(1 - plans[0].distance_km / 3000));
}

TEST_CASE("stock: the plan covering more units wins, whatever the other weights say") {
  // With allow_partial (backorders) and single shipments only, the near warehouse has 3 of 10 units,
  // the far one 7: covering more comes first.
  Scenario s;
  s.lines = {{"X", 10, 1, 0}};
  s.whs = {{"W0", chongqing, {3}}, {"W1", harbin, {7}}};
  s.allow_partial = true;
  MatchOptions singles;
  singles.splits_max = 1;
  CHECK(s.best(only(Dimension::distance), singles) == "W1");
  auto plans = s.match(only(Dimension::stock), singles);
  CHECK(plans[0].dimension_scores[dim(Dimension::stock)] == doctest::Approx(0.7));
  CHECK(!plans[0].feasible());
  // Without allow_partial, a plan that does not cover is no plan; with splits allowed, both together.
  s.allow_partial = false;
  CHECK(s.best(only(Dimension::distance), singles) == "");
  CHECK(s.best(only(Dimension::distance)) == "W0+W1");
}

TEST_CASE("transit_time: the warehouse that arrives before the promised date wins; a far date makes both on time") {
  // W0 is next door but full today: its pick is ready after the 16:00 cut-off and leaves tomorrow
  // at 08:00 (22 hours). W1 is 270 km away and idle: it arrives in about 5.5 hours.
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", chengdu, {10}, {}, false, 100, 100}, {"W1", chongqing, {10}, {}, false, 1000, 0}};
  s.promised_by_us = s.now_us + 24 * hour_us;
  CHECK(s.best(only(Dimension::distance)) == "W0");
  CHECK(s.best(only(Dimension::transit_time)) == "W1");
  auto plans = s.match(only(Dimension::transit_time), {.plans_max = 2});
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].transit_hours == doctest::Approx(1 + 270.0 / 60).epsilon(0.05));
  CHECK(plans[1].transit_hours == doctest::Approx(22).epsilon(0.01));
  // Promised in three days, both make it with a day to spare: transit no longer separates them.
  s.promised_by_us = s.now_us + 72 * hour_us;
  CHECK(s.best(only(Dimension::transit_time)) == "W0");
}

TEST_CASE("freight: with the same farthest warehouse, the plan shipping its cases from nearer wins") {
  // 100 cases of X from W0 (980 km) or W1 (270 km); the one case of Y only W2 has (1,660 km). Both
  // plans reach as far, so distance cannot tell them apart; freight can.
  Scenario s;
  s.lines = {{"X", 100, 1, 0}, {"Y", 1, 1, 0}};
  s.whs = {{"W0", wuhan, {100, 0}}, {"W1", chongqing, {100, 0}}, {"W2", shanghai, {0, 1}}};
  CHECK(s.best(only(Dimension::distance)) == "W0+W2");
  CHECK(s.best(only(Dimension::freight)) == "W1+W2");
  auto plans = s.match(only(Dimension::freight));
  double to_w1 = distance_km(chengdu.lat_e6, chengdu.lon_e6, chongqing.lat_e6, chongqing.lon_e6);
  double to_w2 = distance_km(chengdu.lat_e6, chengdu.lon_e6, shanghai.lat_e6, shanghai.lon_e6);
  CHECK(plans[0].freight_cents ==
        (std::llround(to_w1) * 100 + std::llround(to_w2) * 1) * freight_cents_per_case_km);
  CHECK(plans[0].cases == 101);
}

TEST_CASE("load: the warehouse with room left today wins; unknown capacity counts as half loaded") {
  Scenario s;
  s.lines = {{"X", 60, 6, 0}};  // 10 cases
  s.whs = {{"W0", chongqing, {100}, {}, false, 1000, 900}, {"W1", chongqing, {100}, {}, false, 1000, 100}};
  CHECK(s.best(none()) == "W0");
  CHECK(s.best(only(Dimension::load)) == "W1");
  CHECK(s.match(only(Dimension::load))[0].dimension_scores[dim(Dimension::load)] == doctest::Approx(1 - 110.0 / 1000));
  s.whs[1].capacity = 0;
  auto plans = s.match(only(Dimension::load), {.plans_max = 2});
  CHECK(plans[0].warehouses == std::vector<std::uint16_t>{1});
  CHECK(plans[0].dimension_scores[dim(Dimension::load)] == doctest::Approx(0.5));
  CHECK(plans[1].dimension_scores[dim(Dimension::load)] == doctest::Approx(1 - 910.0 / 1000));
}

TEST_CASE("splits: one warehouse that covers beats a split, even a nearer one; two beat three") {
  Scenario s;
  s.lines = {{"X", 10, 1, 0}};
  s.whs = {{"W0", harbin, {10}}, {"W1", chengdu, {5}}, {"W2", chongqing, {5}}};
  CHECK(s.best(only(Dimension::distance)) == "W0");
  auto plans = s.match(only(Dimension::distance), {.plans_max = 3});
  REQUIRE(plans.size() == 3);
  CHECK(plans[1].warehouses.size() == 2);
  CHECK(plans[1].warehouses == std::vector<std::uint16_t>{1, 2});  // the nearer split comes next
  CHECK(plans[0].dimension_scores[dim(Dimension::splits)] == 1.0);
  CHECK(plans[1].dimension_scores[dim(Dimension::splits)] == 0.5);
  // It splits only when it must.
  s.whs[0].available = {4};
  CHECK(s.best(only(Dimension::distance)) == "W1+W2");
  // Two far warehouses beat three near ones.
  Scenario t;
  t.lines = {{"X", 10, 1, 0}};
  t.whs = {{"W0", harbin, {5}}, {"W1", beijing, {5}}, {"W2", chengdu, {4}}, {"W3", chongqing, {4}}, {"W4", xian, {4}}};
  CHECK(t.best(only(Dimension::distance)) == "W0+W1");
  MatchOptions two;
  two.splits_max = 2;
  CHECK(t.best(only(Dimension::distance), two) == "W0+W1");
  // Once no two cover, three it is: the nearest three.
  t.whs[1].available = {4};
  CHECK(t.best(only(Dimension::distance)) == "W2+W3+W4");
  CHECK(t.best(only(Dimension::distance), two) == "");  // at most two warehouses: no plan
}

TEST_CASE("region_affinity: the warehouse in the ship-to region wins") {
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", chongqing, {10}, {}, false}, {"W1", xian, {10}, {}, true}};
  CHECK(s.best(only(Dimension::distance)) == "W0");
  CHECK(s.best(only(Dimension::region_affinity)) == "W1");
  CHECK(s.match(only(Dimension::region_affinity))[0].dimension_scores[dim(Dimension::region_affinity)] == 1.0);
}

TEST_CASE("stock_age: older stock ships first") {
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", chongqing, {10}, {s.now_us - day_us}}, {"W1", chongqing, {10}, {s.now_us - 60 * day_us}}};
  CHECK(s.best(none()) == "W0");
  CHECK(s.best(only(Dimension::stock_age)) == "W1");
  CHECK(s.match(only(Dimension::stock_age))[0].dimension_scores[dim(Dimension::stock_age)] ==
        doctest::Approx(60.0 / 90));
}

TEST_CASE("safety: the warehouse left at or above its safety level wins") {
  Scenario s;
  s.lines = {{"X", 5, 1, 10}};  // keep 10 units after the order
  s.whs = {{"W0", chongqing, {12}}, {"W1", chongqing, {20}}};
  CHECK(s.best(none()) == "W0");
  CHECK(s.best(only(Dimension::safety)) == "W1");
  auto plans = s.match(only(Dimension::safety), {.plans_max = 2});
  CHECK(plans[0].dimension_scores[dim(Dimension::safety)] == 1.0);
  CHECK(plans[1].dimension_scores[dim(Dimension::safety)] == 0.0);
}

TEST_CASE("cutoff: the warehouse that still makes today's carrier cut-off wins") {
  // At 10:00 W0 (next door, 76% loaded) has the pick ready at about 17:00, after the 16:00 cut-off.
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", chengdu, {10}, {}, false, 100, 75}, {"W1", chongqing, {10}, {}, false, 100, 0}};
  CHECK(s.best(only(Dimension::distance)) == "W0");
  CHECK(s.best(only(Dimension::cutoff)) == "W1");
  auto plans = s.match(only(Dimension::cutoff), {.plans_max = 2});
  CHECK(plans[0].dimension_scores[dim(Dimension::cutoff)] == 1.0);
  CHECK(plans[1].dimension_scores[dim(Dimension::cutoff)] == 0.0);
  // Matched at 15:30, neither makes it any more: both score 0 and the tie goes to candidate order.
  s.now_us = morning_us + 11 * hour_us / 2;
  CHECK(s.best(only(Dimension::cutoff)) == "W0");
}

TEST_CASE("channel_priority: o2o values speed more than regional_storefront") {
  // W0 is next door with fresh stock; W1 is in Beijing (about a day away) with 45-day-old stock.
  // The same weights (stock age 500, channel priority 1000) choose speed for o2o, age otherwise.
  Scenario s;
  s.lines = {{"X", 6, 6, 0}};
  s.whs = {{"W0", chengdu, {10}, {s.now_us}}, {"W1", beijing, {10}, {s.now_us - 45 * day_us}}};
  Weights w{};
  w[dim(Dimension::stock_age)] = 500;
  w[dim(Dimension::channel_priority)] = 1000;
  s.channel = "o2o";
  CHECK(s.best(w) == "W0");
  s.channel = "regional_storefront";
  CHECK(s.best(w) == "W1");
  // Speed is worth more to o2o: the same slow plan scores lower there.
  s.channel = "o2o";
  double o2o = s.match(only(Dimension::channel_priority), {.plans_max = 2})[1].dimension_scores[dim(Dimension::channel_priority)];
  s.channel = "regional_storefront";
  double regional =
      s.match(only(Dimension::channel_priority), {.plans_max = 2})[1].dimension_scores[dim(Dimension::channel_priority)];
  CHECK(o2o < regional);
}

TEST_CASE("transfer_cost: among split plans, the pair closer together wins") {
  // X only at W0 (Xi'an, the primary: it ships most); Y at W1 (Guangzhou, far from Xi'an) or W2
  // (Chongqing, close to Xi'an).
  Scenario s;
  s.lines = {{"X", 100, 1, 0}, {"Y", 10, 1, 0}};
  s.whs = {{"W0", xian, {100, 0}}, {"W1", guangzhou, {0, 10}}, {"W2", chongqing, {0, 10}}};
  CHECK(s.best(none()) == "W0+W1");
  CHECK(s.best(only(Dimension::transfer_cost)) == "W0+W2");
  auto plans = s.match(only(Dimension::transfer_cost));
  double leg = distance_km(chongqing.lat_e6, chongqing.lon_e6, xian.lat_e6, xian.lon_e6);
  CHECK(plans[0].transfer_cost_cents ==
        consolidation_cents_per_split + std::llround(leg) * 10 * freight_cents_per_case_km);
  // A single shipment consolidates nothing.
  s.whs[0].available = {100, 10};
  auto single = s.match(only(Dimension::transfer_cost));
  CHECK(single[0].transfer_cost_cents == 0);
  CHECK(single[0].dimension_scores[dim(Dimension::transfer_cost)] == 1.0);
}

TEST_CASE("no plan: nothing in stock, or not enough without allow_partial, gives no plan") {
  Scenario s;
  s.lines = {{"X", 10, 1, 0}, {"Y", 2, 1, 0}};
  s.whs = {{"W0", chongqing, {0, 0}}, {"W1", wuhan, {0, 0}}};
  CHECK(s.match(default_weights()).empty());
  s.allow_partial = true;
  CHECK(s.match(default_weights()).empty());  // nothing to ship at all
  s.whs[1].available = {4, 0};
  CHECK(s.match(default_weights()).size() == 1);  // a backorder ships what there is
  s.allow_partial = false;
  CHECK(s.match(default_weights()).empty());
  MatchOptions zero;
  zero.plans_max = 0;
  CHECK(s.match(default_weights(), zero).empty());
  s.lines.clear();
  for (auto& w : s.whs) w.available.clear();
  CHECK(s.match(default_weights()).empty());
}

TEST_CASE("dimension names round-trip, and the default weights favour stock") {
  for (std::size_t i = 0; i < dimension_count; ++i) {
    Dimension d = static_cast<Dimension>(i);
    Dimension back{};
    REQUIRE(dimension_from_name(dimension_name(d), back));
    CHECK(back == d);
  }
  Dimension out = Dimension::stock;
  CHECK(!dimension_from_name("nope", out));
  CHECK(!dimension_from_name("", out));
  CHECK(!dimension_from_name("Distance", out));
  CHECK(dimension_name(Dimension::transit_time) == "transit_time");
  auto w = default_weights();
  CHECK(*std::max_element(w.begin(), w.end()) == w[dim(Dimension::stock)]);
}

// ---------------------------------------------------------------- 3. the stock table

namespace {

void wait_applied(const Engine& engine, const LiveState& live) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (live.applied_seq() < engine.last_seq()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::int64_t gathered(const StockView& v, std::string_view warehouse, std::size_t line) {
  for (const auto& w : v.warehouses) {
    if (w.id == warehouse) return w.available[line];
  }
  FAIL("no warehouse " << warehouse);
  return -1;
}

}  // namespace

TEST_CASE("the stock table follows the engine: gather sees every warehouse's available stock") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 100, {}}, {"B", 40, {}}}, "R-1"});
  h.ok(ReceiveStock{"W2", {{"A", 30, {}}}, "R-2"});
  auto started = LiveState::start(*h.engine);
  REQUIRE(started.ok());
  auto live = std::move(*started);
  wait_applied(*h.engine, *live);

  const StockTable& table = live->stock_table();
  StockView view;
  std::vector<WantedLine> wanted = {{"A", 10}, {"B", 5}};
  REQUIRE(table.gather(wanted, "R1", test::t0_us, view) == -1);
  REQUIRE(view.warehouses.size() == 2);
  CHECK(view.warehouses[0].id == "W1");  // by id: the matcher's candidate order
  CHECK(view.warehouses[1].id == "W2");
  CHECK(gathered(view, "W1", 0) == 100);
  CHECK(gathered(view, "W1", 1) == 40);
  CHECK(gathered(view, "W2", 0) == 30);
  CHECK(gathered(view, "W2", 1) == 0);
  CHECK(view.warehouses[0].in_ship_to_region);
  CHECK(view.warehouses[0].lat_e6 == 30'572'000);
  CHECK(view.warehouses[0].daily_capacity_cases == 1000);
  CHECK(view.lines[0].case_units == 6);
  CHECK(view.lines[1].qty == 5);
  CHECK(view.warehouses[0].stock_since_us[0] == test::t0_us);  // received at the manual clock's time
  CHECK(view.weights == default_weights());
  CHECK(table.available("W1", "A") == 100);
  CHECK(table.available("W9", "A") == 0);
  // An unknown SKU names its line.
  std::vector<WantedLine> unknown = {{"A", 1}, {"NOPE", 1}};
  CHECK(table.gather(unknown, "R1", test::t0_us, view) == 1);

  // Transfers, reservations and new master data show up once applied.
  h.ok(ShipTransfer{"T1", "warehouse:W1", "warehouse:W2", {{"A", 25, {}}}});
  h.ok(CreateReservation{"H1", "warehouse:W2", "dealer:D1", {{"A", 10, {}}}, test::t0_us + day_us});
  h.ok(DefineWarehouse{"W0", "Chongqing", "R1", 29'563'000, 106'551'000, 500});
  h.ok(SetSourcingWeights{"R1", {{"distance", 900}}});
  wait_applied(*h.engine, *live);
  REQUIRE(table.gather(wanted, "R1", test::t0_us, view) == -1);
  REQUIRE(view.warehouses.size() == 3);
  CHECK(view.warehouses[0].id == "W0");
  CHECK(gathered(view, "W0", 0) == 0);
  CHECK(gathered(view, "W1", 0) == 75);
  CHECK(gathered(view, "W2", 0) == 20);  // 30 on hand, 10 reserved; 25 still on the road
  CHECK(view.weights[dim(Dimension::distance)] == 900);
  h.ok(ReceiveTransfer{"T1"});
  wait_applied(*h.engine, *live);
  REQUIRE(table.gather(wanted, "R1", test::t0_us, view) == -1);
  CHECK(gathered(view, "W2", 0) == 45);

  // What the table gathers is ready for the matcher.
  MatchRequest request;
  request.lines = view.lines;
  request.ship_to_lat_e6 = 30'000'000;
  request.ship_to_lon_e6 = 104'000'000;
  request.now_us = test::t0_us;
  request.promised_by_us = test::t0_us + 3 * day_us;
  request.channel = "dealer_storefront";
  request.weights = view.weights;
  Matcher matcher;
  auto plans = matcher.match(request, view.warehouses);
  REQUIRE(plans.size() == 1);
  CHECK(plans[0].feasible());
  CHECK(view.warehouses[plans[0].warehouses[0]].id == "W1");  // the only one with B
}

TEST_CASE("the stock table can be gathered and matched while a writer keeps moving stock") {
  // One thread moves stock between warehouses through the engine (receipts, transfers shipped and
  // received); another gathers and matches all the while. Every figure read is a real one: between
  // zero and everything ever received. (Run under -DLEDGER_TSAN=ON too.)
  EngineOptions options;
  options.durability = Durability::os_buffered;  // the writer's pace, not the disk's
  Harness h(options);
  h.small_network();
  h.ok(DefineWarehouse{"W3", "Xi'an", "R1", 34'341'000, 108'940'000, 1000});
  h.ok(ReceiveStock{"W1", {{"A", 1000, {}}, {"B", 1000, {}}}, "R-0"});
  auto started = LiveState::start(*h.engine);
  REQUIRE(started.ok());
  auto live = std::move(*started);

  constexpr int rounds = 300;
  constexpr std::int64_t receipt_qty = 5;
  const std::int64_t received_max = 1000 + rounds * receipt_qty;
  std::atomic<bool> done{false};
  std::atomic<int> writer_errors{0};
  std::thread writer([&] {
    const char* whs[] = {"W1", "W2", "W3"};
    for (int i = 0; i < rounds; ++i) {
      auto ok = [&](CommandBody body) {
        if (!h.run(std::move(body)).ok()) writer_errors.fetch_add(1);
      };
      std::string from = whs[i % 3], to = whs[(i + 1) % 3];
      ok(ReceiveStock{from, {{"A", receipt_qty, {}}, {"B", receipt_qty, {}}}, fmt::format("R-{}", i + 1)});
      std::int64_t have = live->stock_table().available(from, "A");  // may be stale: a rejection is fine
      std::string id = fmt::format("T-{}", i);
      if (have > 0 && h.run(ShipTransfer{id, "warehouse:" + from, "warehouse:" + to, {{"A", std::min<std::int64_t>(have, 40), {}}}}).ok()) {
        ok(ReceiveTransfer{id});
      }
    }
    done.store(true);
  });

  Matcher matcher;
  StockView view;
  std::vector<Plan> plans;
  std::vector<WantedLine> wanted = {{"A", 30}, {"B", 10}};
  std::size_t gathers = 0, plans_found = 0, unknown = 0, bad_figures = 0, bad_plans = 0;
  while (!done.load() || gathers < 100) {
    if (live->stock_table().gather(wanted, "R1", test::t0_us, view) != -1) ++unknown;
    ++gathers;
    std::int64_t total_a = 0;
    for (const auto& w : view.warehouses) {
      for (std::size_t i = 0; i < wanted.size(); ++i) bad_figures += w.available[i] < 0 || w.available[i] > received_max;
      total_a += w.available[0];
    }
    // Mixed reads of two states can add up to more than was ever there at once, never past twice.
    bad_figures += view.warehouses.size() != 3 || total_a > 2 * received_max;
    MatchRequest request;
    request.lines = view.lines;
    request.ship_to_lat_e6 = 31'000'000;
    request.ship_to_lon_e6 = 108'000'000;
    request.now_us = test::t0_us;
    request.promised_by_us = test::t0_us + 2 * day_us;
    request.channel = "o2o";
    request.allow_partial = gathers % 2 == 0;
    request.weights = view.weights;
    matcher.match_into(request, view.warehouses, {.plans_max = 2}, plans);
    for (const auto& p : plans) {
      ++plans_found;
      bad_plans += p.covered_qty > p.ordered_qty;
      for (const auto& pick : p.picks) bad_plans += pick.qty > view.warehouses[pick.warehouse].available[pick.line];
      for (double d : p.dimension_scores) bad_plans += !(d >= 0 && d <= 1);
    }
    if (gathers % 64 == 0) std::this_thread::yield();  // two cores: let the writer and the follower run
  }
  writer.join();
  CHECK(writer_errors.load() == 0);
  CHECK(unknown == 0);
  CHECK(bad_figures == 0);
  CHECK(bad_plans == 0);
  wait_applied(*h.engine, *live);
  // Settled, the table agrees with the engine exactly.
  REQUIRE(live->stock_table().gather(wanted, "R1", test::t0_us, view) == -1);
  for (const char* w : {"W1", "W2", "W3"}) {
    CAPTURE(w);
    CHECK(gathered(view, w, 0) == h.balance(fmt::format("warehouse:{}", w), "A").available());
    CHECK(gathered(view, w, 1) == h.balance(fmt::format("warehouse:{}", w), "B").available());
  }
  MESSAGE(fmt::format("{} gathers, {} plans while the writer ran", gathers, plans_found));
  CHECK(plans_found > 0);
}

TEST_CASE("a busier warehouse is never faster: picks ready at night wait for the 08:00 trucks") {
  // Two warehouses at the same place; the second is loaded. At every hour of the day its plan must
  // not arrive sooner, and a pick ready after midnight does not leave before 08:00.
  std::vector<MatchLine> lines = {{"A", 60, 6, 0}};
  std::vector<std::int64_t> available = {1000}, since = {0};
  for (int hour = 0; hour < 24; ++hour) {
    std::int64_t now_us = 1'790'000'000'000'000 + hour * 3'600'000'000LL;
    auto plan_for = [&](std::int64_t load_cases) {
      MatchWarehouse wh{"W", true, 30'000'000, 104'000'000, 100, load_cases, available, since};
      MatchRequest request;
      request.lines = lines;
      request.ship_to_lat_e6 = 30'000'000;
      request.ship_to_lon_e6 = 104'000'000;
      request.now_us = now_us;
      request.promised_by_us = now_us + 72LL * 3'600'000'000;
      Matcher m;
      auto plans = m.match(request, std::span<const MatchWarehouse>(&wh, 1));
      REQUIRE(plans.size() == 1);
      return plans[0];
    };
    Plan idle = plan_for(0), busy = plan_for(90);
    CHECK_MESSAGE(busy.transit_hours >= idle.transit_hours, "hour offset ", hour);
    CHECK(busy.dimension_scores[static_cast<std::size_t>(Dimension::cutoff)] <=
          idle.dimension_scores[static_cast<std::size_t>(Dimension::cutoff)]);
  }
}

TEST_SUITE_END();

// Projections: hand-computed cases that document the sales board, stock flow (turnover, replenishment),
// dealer health and alerts; snapshots that are damaged, stale or of another history are never trusted;
// subscribers that stop reading never stall the writer. (The randomized equivalence of live, rebuilt
// and restored projections runs inside the simulation suite.)
#include <cmath>
#include <fstream>
#include <future>

#include "ledger/order_facts.hpp"
#include "ledger/read_model.hpp"
#include "ledger/subscription.hpp"
#include "projection_support.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;
const Actor manager_east{"li", "region_manager", "R1"};

PlaceOrder hq_order(std::string id, std::vector<OrderLineInput> lines) {
  PlaceOrder o;
  o.id = std::move(id);
  o.buyer = "dealer:D1";
  o.seller = "hq";
  o.channel = "dealer_storefront";
  o.ship_to_region = "R1";
  o.ship_to_lat_e6 = 30'600'000;  // next to Chengdu: W1
  o.ship_to_lon_e6 = 104'100'000;
  o.lines = std::move(lines);
  o.promised_by_us = test::t0_us + 3 * day_us;
  return o;
}

void network(Harness& h) {
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 50, {}}, {"B", 50, {}}}, "BATCH-1"});
}

std::unique_ptr<ReadModel> rebuild(Harness& h) { return test::rebuild_model(h.dir.path()); }

std::string rows_text(const std::vector<SalesRow>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += fmt::format("{}|{}|{}|{}|{} @{} orders={} units={} revenue={} discount={}\n", r.region, r.channel, r.dealer,
                       r.store, r.sku, r.bucket_start_us, r.totals.orders, r.totals.units, r.totals.revenue_cents,
                       r.totals.discount_cents);
  }
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("projections");

// ---------------------------------------------------------------- sales board

TEST_CASE(
    "sales board: an order counts in its placement hour; a cancellation takes it out; a return subtracts in "
    "the return's hour") {
  Harness h;
  network(h);
  // t0 is 22:13 China time: the return two hours later falls on the next China day.
  h.ok(hq_order("O1", {{"A", 12, 70000}, {"B", 6, 20000}}));  // 840,000 + 120,000 cents
  h.ok(hq_order("O2", {{"A", 5, 70000}}));
  h.ok(CancelOrder{"O2", "changed mind"});
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  h.clock->advance_us(2 * hour_us);
  h.ok(ReturnOrder{"O1", {{"A", 2, {}}}, "broken"});

  auto m = rebuild(h);
  const std::int64_t h0 = 1'789'999'200'000'000;  // t0's UTC hour
  SalesQuery by_sku;
  by_sku.by_sku = true;
  by_sku.bucket = SalesBucket::hour;
  CHECK(rows_text(m->sales_board().query(by_sku)) ==
        fmt::format("||||A @{} orders=1 units=12 revenue=840000 discount=0\n"
                    "||||A @{} orders=0 units=-2 revenue=-140000 discount=0\n"
                    "||||B @{} orders=1 units=6 revenue=120000 discount=0\n",
                    h0, h0 + 2 * hour_us, h0));
  SalesQuery by_day;
  by_day.by_region = by_day.by_channel = by_day.by_dealer = true;
  const std::int64_t day0 = china_day_start_us(test::t0_us);
  CHECK(day0 == 1'789'948'800'000'000 - 8 * hour_us);  // 2026-09-21 00:00 China time
  CHECK(rows_text(m->sales_board().query(by_day)) ==
        fmt::format("R1|dealer_storefront|D1|| @{} orders=1 units=18 revenue=960000 discount=0\n"
                    "R1|dealer_storefront|D1|| @{} orders=0 units=-2 revenue=-140000 discount=0\n",
                    day0, day0 + day_us));
  SalesQuery month;
  month.bucket = SalesBucket::month;
  auto months = m->sales_board().query(month);
  REQUIRE(months.size() == 1);
  CHECK(months[0].bucket_start_us == 1'788'192'000'000'000);  // 2026-09-01 00:00 China time = 08-31 16:00 UTC
  CHECK(months[0].totals == SalesTotals{1, 16, 820000, 0});
  // Scope: another dealer's rows do not exist for it; a time range cuts by bucket.
  SalesQuery other = by_day;
  other.dealer = "D2";
  CHECK(m->sales_board().query(other).empty());
  SalesQuery range = by_day;
  range.from_us = h0 + hour_us;
  CHECK(m->sales_board().query(range).size() == 1);
}

TEST_CASE("sales board: approval latency and delivery delay land in their buckets") {
  Harness h;
  network(h);
  ApprovalRuleInput rule;
  rule.step = "region_manager";
  h.ok(SetApprovalPolicy{{rule}});
  h.ok(hq_order("O1", {{"A", 1, 70000}}));
  h.clock->advance_us(25 * 60 * 1'000'000LL);  // approved 25 minutes later: the <= 1,800 s bucket
  REQUIRE(h.engine->execute(Command{"", manager_east, ApproveOrder{"O1", "region_manager"}}).ok());
  h.ok(ShipOrder{"O1", {}});
  h.clock->advance_us(4 * day_us - 50 * 60 * 1'000'000LL);  // promised for t0 + 3 days: a day late less 25 min
  h.ok(DeliverOrder{"O1"});
  auto m = rebuild(h);
  LatencySummary s = m->sales_board().latency(0, INT64_MAX, "");
  CHECK(s.approval.count() == 1);
  CHECK(s.approval.percentile_s(50) == 1800);
  CHECK(s.approval.total_s == 1500);
  CHECK(s.delivery_delay.count() == 1);
  CHECK(s.delivery_delay.percentile_s(99) == 86400);
  CHECK(s.delivered_late == 1);
  CHECK(s.delivered_on_time == 0);
  CHECK(m->sales_board().latency(0, INT64_MAX, "R9").approval.count() == 0);
}

// ---------------------------------------------------------------- stock flow

TEST_CASE("stock flow: the demand figures of a window, by hand") {
  // Sold 4 three days ago (closing 10), 2 yesterday (closing 8); a 4-day window ending today.
  std::vector<StockFlow::Day> days{{100, 4, 10}, {102, 2, 8}};
  DemandFigures f = demand_figures(days, 103, 4);
  CHECK(f.sold == 6);
  CHECK(f.mean == doctest::Approx(1.5));
  // Daily sales 4, 0, 2, 0: squared deviations 6.25 + 2.25 + 0.25 + 2.25 = 11, over 3.
  CHECK(f.stddev == doctest::Approx(std::sqrt(11.0 / 3)));
  // Closings 10, 10 (nothing changed), 8, 8.
  CHECK(f.avg_closing_on_hand == doctest::Approx(9.0));
  // A window that starts before any record counts those days as closing 0 and no sale.
  CHECK(demand_figures(days, 103, 6).avg_closing_on_hand == doctest::Approx((0 + 0 + 10 + 10 + 8 + 8) / 6.0));
}

TEST_CASE("stock flow: turnover, days of supply and a replenishment suggestion at a warehouse, by hand") {
  Harness h;
  network(h);  // W1 receives 50 A on day 0
  h.ok(hq_order("O1", {{"A", 12, 70000}}));
  h.ok(ShipOrder{"O1", {}});  // day 0: 12 A leave W1; closing 38
  h.clock->advance_us(day_us);
  h.ok(hq_order("O2", {{"A", 6, 70000}}));
  h.ok(ShipOrder{"O2", {}});  // day 1: 6 more; closing 32
  {
    auto m = rebuild(h);
    auto rows = m->stock_flow().turnover("warehouse:W1", 7);
    REQUIRE(rows.size() == 2);  // A and B (B held, not sold)
    const TurnoverRow& a = rows[0];
    CHECK(a.sku == "A");
    CHECK(a.on_hand == 32);
    CHECK(a.sold_units == 18);
    CHECK(a.avg_on_hand == doctest::Approx((38 + 32) / 7.0));  // five days before the stock came: 0
    CHECK(*a.turnover == doctest::Approx(18 / 10.0));
    CHECK(*a.days_of_supply == doctest::Approx(32 / (18 / 7.0)));
    CHECK_FALSE(a.slow_mover);
    CHECK(rows[1].sku == "B");
    CHECK(rows[1].slow_mover);  // 50 on hand, nothing sold
    CHECK_FALSE(rows[1].days_of_supply.has_value());
  }
  // A count correction takes 10 away (not a sale): the position falls under the reorder point.
  h.ok(AdjustStock{"warehouse:W1", "A", -10, "breakage"});
  auto m = rebuild(h);
  ReplenishmentRow r = m->stock_flow().replenishment_of(m->ledger(), "warehouse:W1", "A");
  // 28 days of sales: 12 and 6, the rest 0.  mu = 18/28.  sigma^2 = ((12-mu)^2 + (6-mu)^2 + 26 mu^2) / 27.
  double mu = 18.0 / 28;
  double sigma = std::sqrt(((12 - mu) * (12 - mu) + (6 - mu) * (6 - mu) + 26 * mu * mu) / 27);
  CHECK(r.daily_demand == doctest::Approx(mu));
  CHECK(r.demand_stddev == doctest::Approx(sigma));
  CHECK(sigma == doctest::Approx(2.4976).epsilon(1e-4));
  CHECK(r.lead_time_days == 14);
  CHECK(r.safety_stock == 16);   // ceil(1.65 * 2.4976 * sqrt(14)) = ceil(15.42)
  CHECK(r.reorder_point == 25);  // ceil(mu * 14) = 9, plus 16
  CHECK(r.available == 22);
  CHECK(r.low_stock);
  CHECK(r.suggested_qty == 12);  // target 25 + ceil(mu * 7) = 30; 30 - 22 = 8, in cases of 6: 12
  // The adjustment raised one low-stock alert for (W1, A), in W1's region.
  auto low = m->alerts().query("low_stock", 0, 10, [](const AlertRecord&) { return true; });
  REQUIRE(low.size() == 1);
  CHECK(low[0].subject == "warehouse:W1|A");
  CHECK(low[0].region == "R1");
  CHECK(low[0].message.find("suggest 12 more") != std::string::npos);
  // Receiving stock lifts it above; falling again raises a new alert.
  h.ok(ReceiveStock{"W1", {{"A", 30, {}}}, "BATCH-2"});
  h.ok(AdjustStock{"warehouse:W1", "A", -30, "recount"});
  m = rebuild(h);
  CHECK(m->alerts().query("low_stock", 0, 10, [](const AlertRecord&) { return true; }).size() == 2);
}

// ---------------------------------------------------------------- dealer health

TEST_CASE("dealer health: each component and the score, by hand") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 12, 70000}, {"B", 6, 20000}}));
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  h.ok(ReturnOrder{"O1", {{"B", 1, {}}}, "broken"});
  // D1 sells A to its store S1 under the supply floor (80,750): a price violation.
  PlaceOrder below;
  below.id = "O2";
  below.buyer = "store:S1";
  below.seller = "dealer:D1";
  below.channel = "dealer_storefront";
  below.ship_to_region = "R1";
  below.lines = {{"A", 2, 80000}};
  below.promised_by_us = test::t0_us + 3 * day_us;
  h.ok(below);
  h.ok(ShipOrder{"O2", {}});
  h.ok(DeliverOrder{"O2"});  // on time

  auto m = rebuild(h);
  DealerHealthReport r = m->dealer_health().report(m->ledger(), "D1");
  const HealthComponents& c = r.components;
  CHECK(r.orders_90d == 1);
  CHECK(c.purchase_frequency == doctest::Approx(1 / 12.0));
  CHECK(r.units_30d == 18);
  CHECK(c.volume_trend == doctest::Approx(1.0));  // bought nothing the 30 days before
  CHECK(r.sold_delivered == 1);
  CHECK(c.fulfilment_rate == doctest::Approx(1.0));
  CHECK(c.on_time_delivery == doctest::Approx(1.0));
  CHECK(r.open_receivables_cents == 960000);  // shipped, due in 30 days, not overdue
  CHECK(c.on_time_payment == doctest::Approx(1.0));
  CHECK(r.units_received == 18);
  CHECK(r.units_returned == 1);
  CHECK(c.return_rate == doctest::Approx(1 - 10.0 / 18));
  CHECK(r.violations_90d == 1);
  CHECK(c.violations == doctest::Approx(0.75));
  CHECK(r.credit_limit_cents == 1'000'000);
  double credit = 1 - std::min(1.0, static_cast<double>(r.credit_used_cents) / 1'000'000);
  CHECK(c.credit_use == doctest::Approx(credit));
  double expected = 15 / 12.0 + 10 + 15 + 15 + 15 + 10 * (1 - 10.0 / 18) + 10 * 0.75 + 10 * credit;
  CHECK(r.score == static_cast<int>(std::lround(expected)));
  CHECK(r.tier == (r.score >= 80 ? 'A' : r.score >= 60 ? 'B' : r.score >= 40 ? 'C' : 'D'));
  // One dealer: it is the top fifth, and earns terms of twice its monthly purchases, in 1,000 yuan.
  CHECK(r.earns_terms);
  CHECK(r.suggested_credit_line_cents == 2 * (960000 / 3) / 100000 * 100000);
  // The violation is an alert too, scoped to D1 and S1.
  auto price = m->alerts().query("price", 0, 10, [](const AlertRecord&) { return true; });
  REQUIRE(price.size() == 1);
  CHECK(price[0].subject == "order:O2");
  CHECK(price[0].dealer == "D1");
  CHECK(price[0].store == "S1");
}

TEST_CASE("dealer health: the top fifth by score earn terms; a cancelled sale lowers fulfilment") {
  Harness h;
  network(h);
  for (int i = 2; i <= 5; ++i) h.ok(DefineDealer{fmt::format("D{}", i), "Dealer", "R1", {"R1"}, 1'000'000});
  h.ok(hq_order("O1", {{"A", 3, 70000}}));  // D1 buys: the only dealer with purchases
  h.ok(ShipTransfer{"T1", "warehouse:W1", "dealer:D1", {{"A", 5, {}}}});
  h.ok(ReceiveTransfer{"T1"});
  PlaceOrder sale;
  sale.id = "O2";
  sale.buyer = "store:S1";
  sale.seller = "dealer:D1";
  sale.channel = "dealer_storefront";
  sale.ship_to_region = "R1";
  sale.lines = {{"A", 1, 85000}};
  sale.promised_by_us = test::t0_us + 3 * day_us;
  h.ok(sale);
  h.ok(CancelOrder{"O2", "store closed"});
  auto m = rebuild(h);
  auto all = m->dealer_health().report_all(m->ledger());
  REQUIRE(all.size() == 5);
  int with_terms = 0;
  for (const auto& r : all) with_terms += r.earns_terms ? 1 : 0;
  CHECK(with_terms == 1);  // ceil(5 / 5)
  CHECK(all[0].dealer == "D1");
  CHECK(all[0].sold_cancelled == 1);
  CHECK(all[0].components.fulfilment_rate == doctest::Approx(0.0));
}

// ---------------------------------------------------------------- alerts

TEST_CASE("alerts: a reservation is warned about once a day before its deadline, then when it expires") {
  Harness h;
  network(h);
  h.ok(CreateReservation{"R-LATER", "warehouse:W1", "dealer:D1", {{"A", 5, {}}}, test::t0_us + 30 * hour_us});
  h.ok(CreateReservation{"R-SOON", "warehouse:W1", "dealer:D1", {{"B", 2, {}}}, test::t0_us + 2 * hour_us});
  auto kinds = [&](const char* kind) {
    auto m = rebuild(h);
    std::string out;
    for (const auto& a : m->alerts().query(kind, 0, 100, [](const AlertRecord&) { return true; }))
      out += a.subject + ";";
    return out;
  };
  CHECK(kinds("reservation_expiring") == "reservation:R-SOON;");  // created already that close
  h.clock->advance_us(7 * hour_us);  // R-LATER is now 23 hours away; R-SOON's deadline has passed
  h.ok(DefineRegion{"R1", "East"});  // a batch: the writer expires R-SOON first
  CHECK(kinds("reservation_expiring") == "reservation:R-SOON;reservation:R-LATER;");
  CHECK(kinds("reservation_expired") == "reservation:R-SOON;");
  h.ok(DefineRegion{"R1", "East"});
  CHECK(kinds("reservation_expiring") == "reservation:R-SOON;reservation:R-LATER;");  // once each
  auto m = rebuild(h);
  auto later = m->alerts().query("reservation_expiring", 0, 100, [](const AlertRecord&) { return true; });
  CHECK(later.back().region == "R1");
}

// ---------------------------------------------------------------- snapshots

namespace {
// A history with a bit of everything, then the live model's snapshots written at its end.
void history_with_snapshots(Harness& h) {
  network(h);
  h.ok(hq_order("O1", {{"A", 12, 70000}, {"B", 6, 20000}}));
  h.ok(ShipOrder{"O1", {}});
  h.clock->advance_us(day_us);
  h.ok(DeliverOrder{"O1"});
  h.ok(AdjustStock{"warehouse:W1", "A", -30, "breakage"});
  test::save_live_snapshots(*h.engine, h.dir.path());
}

struct Restart {
  std::uint64_t restored_from = 0;
  std::vector<std::string> notices;
  std::string render;
};
Restart restart(Harness& h) {
  Restart out;
  LiveOptions options;
  options.data_dir = h.dir.path();
  options.on_notice = [&](std::string_view line) { out.notices.emplace_back(line); };
  auto live = test::start_live(*h.engine, options);
  test::wait_applied(*live, h.engine->last_seq());
  out.restored_from = live->restored_from_seq();
  out.render = test::render_model(*live);
  return out;
}
std::filesystem::path snap_file(Harness& h, const std::string& name) {
  return snapshot_dir(h.dir.path()) / (name + ".snap");
}
std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_all(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}
}  // namespace

TEST_CASE("snapshots: a restart restores every projection from them and folds only the tail") {
  Harness h;
  history_with_snapshots(h);
  std::uint64_t at = h.engine->last_seq();
  h.ok(hq_order("O3", {{"B", 2, 20000}}));  // the tail
  Restart r = restart(h);
  CHECK(r.restored_from == at);
  test::require_same_models(r.render, test::render_model(*rebuild(h)));
}

TEST_CASE("snapshots: a damaged, truncated, stale or foreign snapshot is never trusted: the model is rebuilt") {
  Harness h;
  history_with_snapshots(h);
  std::string truth = test::render_model(*rebuild(h));
  for (std::string name : {"ledger", "stock_flow", "sales_board", "dealer_health", "lot_trace", "alerts", "order_index",
                           "recommendations"}) {
    auto path = snap_file(h, name);
    std::string good = read_all(path);
    REQUIRE(good.size() > 64);
    std::vector<std::pair<std::string, std::string>> damaged;
    for (std::size_t at : {std::size_t{0}, std::size_t{9}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
      std::string flipped = good;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
      damaged.emplace_back(fmt::format("byte {} flipped", at), flipped);
    }
    damaged.emplace_back("truncated to half", good.substr(0, good.size() / 2));
    damaged.emplace_back("truncated by one byte", good.substr(0, good.size() - 1));
    damaged.emplace_back("empty", "");
    for (const auto& [what, bytes] : damaged) {
      INFO(name << ".snap " << what);
      write_all(path, bytes);
      Restart r = restart(h);
      CHECK(r.restored_from == 0);
      REQUIRE(!r.notices.empty());
      CHECK(r.notices[0].find("ignored") != std::string::npos);
      test::require_same_models(r.render, truth);
    }
    write_all(path, good);
  }
  // Sound again: restored.
  CHECK(restart(h).restored_from == h.engine->last_seq());

  SUBCASE("another version of a projection's code") {
    auto file = read_snapshot_file(snapshot_dir(h.dir.path()), "sales_board");
    REQUIRE(file.ok());
    file->header.version += 1;
    REQUIRE(write_snapshot_file(snapshot_dir(h.dir.path()), file->header, file->payload).ok());
    Restart r = restart(h);
    CHECK(r.restored_from == 0);
    REQUIRE(!r.notices.empty());
    CHECK(r.notices[0].find("version") != std::string::npos);
    test::require_same_models(r.render, truth);
  }
  SUBCASE("snapshots of another history at the same sequence") {
    Harness other;
    history_with_snapshots(other);
    other.ok(DefineRegion{"R9", "Elsewhere"});  // differs from here on
    h.ok(DefineRegion{"R8", "Somewhere"});
    {
      LiveOptions options;
      options.data_dir = other.dir.path();
      auto live = test::start_live(*other.engine, options);
      test::wait_applied(*live, other.engine->last_seq());
      REQUIRE(live->save_snapshots().ok());
    }
    REQUIRE(other.engine->last_seq() == h.engine->last_seq());
    for (const auto& entry : std::filesystem::directory_iterator(snapshot_dir(other.dir.path()))) {
      std::filesystem::copy_file(entry.path(), snapshot_dir(h.dir.path()) / entry.path().filename(),
                                 std::filesystem::copy_options::overwrite_existing);
    }
    Restart r = restart(h);
    CHECK(r.restored_from == 0);
    test::require_same_models(r.render, test::render_model(*rebuild(h)));
  }
}

// ---------------------------------------------------------------- subscribers

TEST_CASE("subscribers: one that stops reading does not stall the writer, and resumes where it stopped") {
  Harness h;
  network(h);
  std::uint64_t start = h.engine->last_seq() + 1;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::uint64_t> seen;
  auto slow = Subscription::start(
      *h.engine, start,
      [&](const fb::Event& e, const Hash32&) {
        std::unique_lock lock(mu);
        seen.push_back(e.seq());
        cv.wait(lock, [&] { return release; });  // stuck until released
        return true;
      },
      64);
  // The writer commits a few thousand events while the subscriber is stuck on its first.
  for (int i = 0; i < 3000; ++i) h.ok(AdjustStock{"warehouse:W1", "B", (i % 2) ? -1 : 1, "count"});
  CHECK(h.engine->last_seq() >= start + 2999);
  {
    std::lock_guard lock(mu);
    CHECK(seen.size() == 1);  // it holds one event, not the 3,000 behind it
  }
  CHECK(slow->lag() >= 2999);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  std::uint64_t last = h.engine->last_seq();
  for (int i = 0; i < 2000 && slow->delivered_seq() < last; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(slow->delivered_seq() == last);
  {
    std::lock_guard lock(mu);
    REQUIRE(seen.size() == last - start + 1);
    for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == start + i);  // in order, no gap
  }
  slow.reset();

  // A subscriber that stops (returns false) at some seq is restarted from the next one.
  std::vector<std::uint64_t> first, second;
  std::uint64_t stop_at = start + 100;
  auto a = Subscription::start(*h.engine, start, [&](const fb::Event& e, const Hash32&) {
    first.push_back(e.seq());
    return e.seq() < stop_at;
  });
  for (int i = 0; i < 2000 && !a->stopped(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(a->stopped());
  CHECK_FALSE(a->error().has_value());
  CHECK(a->delivered_seq() == stop_at);
  auto b = Subscription::start(*h.engine, a->delivered_seq() + 1, [&](const fb::Event& e, const Hash32&) {
    second.push_back(e.seq());
    return true;
  });
  for (int i = 0; i < 2000 && b->delivered_seq() < last; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(first.size() == stop_at - start + 1);
  REQUIRE(!second.empty());
  CHECK(second.front() == stop_at + 1);
  CHECK(second.back() == last);
}

TEST_SUITE_END();

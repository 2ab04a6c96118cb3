// Orders under concurrency: many threads submitting at once through Engine::submit and
// Engine::execute, while others read. One writer decides every command in turn, so the last units
// are sold exactly once and a retry racing with its original applies once. CI runs this suite under
// ThreadSanitizer too (scripts/test, build-tsan).
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "model.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

constexpr std::int64_t day_us = 24LL * 3600 * 1'000'000;

PlaceOrder one_unit(std::string id, std::string sku = "A") {
  PlaceOrder o;
  o.id = std::move(id);
  o.buyer = "dealer:D1";
  o.seller = "hq";
  o.channel = "dealer_storefront";
  o.ship_to_region = "R1";
  o.ship_to_lat_e6 = 30'600'000;
  o.ship_to_lon_e6 = 104'100'000;
  o.lines = {{std::move(sku), 1, 70000}};
  o.promised_by_us = test::t0_us + 3 * day_us;
  return o;
}

// Answers written by the writer thread, read once every one has arrived (release/acquire on the
// counter orders them).
class Answers {
 public:
  explicit Answers(std::size_t n) : results_(n) {}
  Completion slot(std::size_t i) {
    return [this, i](const CommandResult& r) {
      results_[i] = r;
      arrived_.fetch_add(1, std::memory_order_release);
    };
  }
  void wait_all() const {
    while (arrived_.load(std::memory_order_acquire) < results_.size()) std::this_thread::yield();
  }
  const CommandResult& operator[](std::size_t i) const { return *results_[i]; }
  std::size_t size() const { return results_.size(); }

 private:
  std::vector<std::optional<CommandResult>> results_;
  std::atomic<std::size_t> arrived_{0};
};

void check_all_invariants(Harness& h) {
  h.check_invariants();
  h.engine->inspect([](const LedgerState& s) {
    std::string violation = test::order_invariant_violation(s);
    CHECK_MESSAGE(violation.empty(), violation);
  });
}

Harness fast_harness() {
  // Durability is the crash tests' business: skip the fsyncs so the race is the point.
  EngineOptions options;
  options.durability = Durability::os_buffered;
  return Harness(options);
}

std::string detail(const Error& e, std::string_view key) {
  for (const auto& d : e.details) {
    if (d.key == key && std::holds_alternative<std::string>(d.value)) return std::get<std::string>(d.value);
  }
  return {};
}

// A hot campaign: one member per thread, each issued `per_thread` coupons of campaign HOT (so
// thread t holds HOT-{t * per_thread + 1 ...}, numbered in issue order), and stock for every order.
constexpr int hot_threads = 8, hot_per_thread = 25;

std::string hot_member(int t) { return fmt::format("M{}", t + 1); }
std::string hot_coupon(int t, int i) { return fmt::format("HOT-{:06}", t * hot_per_thread + i + 1); }

void hot_campaign(Harness& h, CreateCampaign c) {
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 2000, {}}}, "BATCH-1"});
  c.id = "HOT";
  c.issuer = "hq";
  c.valid_from_us = 0;
  c.valid_to_us = test::t0_us + 30 * day_us;
  h.ok(c);
  for (int t = 0; t < hot_threads; ++t) {
    h.ok(DefineMember{hot_member(t), "Member", "S1"});
    h.ok(IssueCoupons{"HOT", hot_member(t), hot_per_thread});
  }
}

// Thread t's i-th order: `qty` units of A (100000 fen each) sold by hq to its member, redeeming
// its i-th coupon.
PlaceOrder hot_order(int t, int i, std::int64_t qty) {
  PlaceOrder o = one_unit(fmt::format("H{}-{}", t, i));
  o.buyer = "member:" + hot_member(t);
  o.channel = "regional_storefront";
  o.lines = {{"A", qty, 100000}};
  o.coupons = {hot_coupon(t, i)};
  return o;
}

// Every thread places its orders at once, half through submit and half through execute, while a
// reader checks the marketing invariants (tests/model.hpp) on the live state. Answers by t * n + i.
void redeem_at_once(Harness& h, Answers& answers, const std::function<std::int64_t(int, int)>& qty) {
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      h.engine->inspect([](const LedgerState& s) {
        std::string violation = test::marketing_invariant_violation(s, test::t0_us);
        CHECK_MESSAGE(violation.empty(), violation);
      });
    }
  });
  std::vector<std::thread> members;
  for (int t = 0; t < hot_threads; ++t) {
    members.emplace_back([&, t] {
      for (int i = 0; i < hot_per_thread; ++i) {
        std::size_t slot = std::size_t(t) * hot_per_thread + i;
        Command c{
            fmt::format("redeem-{}-{}", t, i), {hot_member(t), "member", hot_member(t)}, hot_order(t, i, qty(t, i))};
        if (i % 2 == 0) {
          h.engine->submit(std::move(c), answers.slot(slot));
        } else {
          answers.slot(slot)(h.engine->execute(std::move(c)));
        }
      }
    });
  }
  for (auto& m : members) m.join();
  answers.wait_all();
  done.store(true, std::memory_order_release);
  reader.join();
}

// Every coupon is redeemed on the order that named it or on none; the campaign's counters are the
// sums over the redeemed ones; the log folds to the same state.
void check_hot_campaign(Harness& h, const Answers& answers, std::int64_t& redemptions, std::int64_t& discount) {
  h.engine->inspect([&](const LedgerState& s) {
    const CampaignRecord* c = s.campaign("HOT");
    REQUIRE(c != nullptr);
    redemptions = c->redemptions;
    discount = c->discount_cents;
    std::int64_t sum = 0, redeemed = 0;
    for (int t = 0; t < hot_threads; ++t) {
      for (int i = 0; i < hot_per_thread; ++i) {
        const CouponRecord* coupon = s.coupon(hot_coupon(t, i));
        REQUIRE(coupon != nullptr);
        const CommandResult& r = answers[std::size_t(t) * hot_per_thread + i];
        std::string id = fmt::format("H{}-{}", t, i);
        INFO("coupon " << hot_coupon(t, i) << " order " << id);
        CHECK(coupon->member == hot_member(t));
        CHECK(coupon->order == (r.ok() ? id : std::string()));
        CHECK((s.order(id) != nullptr) == r.ok());
        if (r.ok()) {
          CHECK(s.order(id)->discount_cents == coupon->discount_cents);
          sum += coupon->discount_cents;
          ++redeemed;
        }
      }
    }
    CHECK(c->redemptions == redeemed);
    CHECK(c->discount_cents == sum);
    std::string violation = test::marketing_invariant_violation(s, test::t0_us);
    CHECK_MESSAGE(violation.empty(), violation);
  });
  check_all_invariants(h);
  auto folded = fold_log(h.dir.path());
  REQUIRE(folded.ok());
  CHECK(folded->render() == h.render());
}

}  // namespace

TEST_SUITE_BEGIN("concurrency");

TEST_CASE("8 members redeeming 200 coupons of a campaign with a budget of 60 redemptions at once: exactly 60 do") {
  constexpr std::int64_t budget = 60, off = 5'000;
  Harness h = fast_harness();
  CreateCampaign c;
  c.kind = CampaignKind::amount_off;
  c.amount_off_cents = off;
  c.max_redemptions = budget;
  hot_campaign(h, c);
  Answers answers(hot_threads * hot_per_thread);
  redeem_at_once(h, answers, [](int, int) { return 1; });

  std::map<std::string, int> by_outcome;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const CommandResult& r = answers[i];
    by_outcome[r.ok() ? "ok" : std::string(error_code_name(r.error().code)) + " " + detail(r.error(), "reason")] += 1;
    if (!r.ok()) CHECK(detail(r.error(), "coupon") == hot_coupon(int(i) / hot_per_thread, int(i) % hot_per_thread));
  }
  CHECK(by_outcome["ok"] == budget);
  CHECK(by_outcome["rule_violation budget_exhausted"] == hot_threads * hot_per_thread - budget);
  CHECK(by_outcome.size() == 2);
  std::int64_t redemptions = 0, discount = 0;
  check_hot_campaign(h, answers, redemptions, discount);
  CHECK(redemptions == budget);
  CHECK(discount == budget * off);
  // The budget is spent: one more coupon is refused too, and writes nothing.
  h.ok(IssueCoupons{"HOT", hot_member(0), 1});
  PlaceOrder more = hot_order(0, 0, 1);
  more.id = "H-more";
  more.coupons = {fmt::format("HOT-{:06}", hot_threads * hot_per_thread + 1)};
  Error e = h.rejected(more, ErrorCode::rule_violation);
  CHECK(detail(e, "reason") == "budget_exhausted");
}

TEST_CASE("8 members redeeming coupons of a campaign with a budget of 1,000,000 fen at once: it is never exceeded") {
  // 15% off orders of 1 to 3 units of 100000 fen: 15000 to 45000 off each, so the budget covers
  // some 33 of the 200 orders. Whichever come first redeem; every refused one did not fit what was left.
  constexpr std::int64_t budget = 1'000'000;
  Harness h = fast_harness();
  CreateCampaign c;
  c.kind = CampaignKind::percent_off;
  c.percent_off_bp = 1'500;
  c.max_discount_cents = budget;
  hot_campaign(h, c);
  auto qty = [](int t, int i) { return std::int64_t(1 + (t * 7 + i) % 3); };
  Answers answers(hot_threads * hot_per_thread);
  redeem_at_once(h, answers, qty);

  std::int64_t redemptions = 0, used = 0;
  check_hot_campaign(h, answers, redemptions, used);
  CHECK(used <= budget);
  std::int64_t ok = 0, refused = 0, smallest_refused = budget;
  for (int t = 0; t < hot_threads; ++t) {
    for (int i = 0; i < hot_per_thread; ++i) {
      const CommandResult& r = answers[std::size_t(t) * hot_per_thread + i];
      std::int64_t off = qty(t, i) * 100000 * 1500 / 10000;
      if (r.ok()) {
        ++ok;
        continue;
      }
      ++refused;
      CHECK(r.error().code == ErrorCode::rule_violation);
      CHECK(detail(r.error(), "reason") == "budget_exhausted");
      CHECK(r.error().number("discount_cents") + off > budget);  // what was used when it came
      smallest_refused = std::min(smallest_refused, off);
    }
  }
  CHECK(ok == redemptions);
  CHECK(ok + refused == hot_threads * hot_per_thread);
  CHECK(refused > 0);
  CHECK(used + smallest_refused > budget);  // no refused order would fit even now
  h.engine->inspect([&](const LedgerState& s) {
    std::int64_t sum = 0;
    s.for_each_order([&](const std::string&, const OrderRecord& o) {
      CHECK(o.discount_cents == o.total_cents * 1500 / 10000);
      sum += o.discount_cents;
    });
    CHECK(sum == used);
  });
}

TEST_CASE("8 threads buying the last 500 units with 1,600 orders at once: exactly 500 are sold, 1,100 refused") {
  constexpr int threads = 8, orders_per_thread = 200;
  constexpr std::int64_t stock_w1 = 300, stock_w2 = 200;
  Harness h = fast_harness();
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", stock_w1, {}}}, "BATCH-1"});
  h.ok(ReceiveStock{"W2", {{"A", stock_w2, {}}}, "BATCH-2"});

  // Half of each thread's orders go through submit (answered on the writer thread), half through
  // execute (blocking), interleaved; a reader inspects the state meanwhile.
  Answers answers(threads * orders_per_thread);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      h.engine->inspect([&](const LedgerState& s) {
        CHECK(s.check_invariants().ok());
        CHECK(s.balance("warehouse:W1", "A").available() >= 0);
      });
      (void)h.engine->stats();
    }
  });
  std::vector<std::thread> buyers;
  for (int t = 0; t < threads; ++t) {
    buyers.emplace_back([&, t] {
      for (int i = 0; i < orders_per_thread; ++i) {
        std::size_t slot = std::size_t(t) * orders_per_thread + i;
        std::string id = fmt::format("T{}-{}", t, i);
        Command c{id, {fmt::format("buyer-{}", t), "dealer", "D1"}, one_unit(id)};
        if (i % 2 == 0) {
          h.engine->submit(std::move(c), answers.slot(slot));
        } else {
          answers.slot(slot)(h.engine->execute(std::move(c)));
        }
      }
    });
  }
  for (auto& b : buyers) b.join();
  answers.wait_all();
  done.store(true, std::memory_order_release);
  reader.join();

  std::map<std::string, int> by_outcome;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const CommandResult& r = answers[i];
    by_outcome[r.ok() ? (r->replayed ? "replayed" : "ok") : std::string(error_code_name(r.error().code))] += 1;
  }
  CHECK(by_outcome["ok"] == stock_w1 + stock_w2);
  CHECK(by_outcome["insufficient_stock"] == threads * orders_per_thread - (stock_w1 + stock_w2));
  CHECK(by_outcome.size() == 2);
  CHECK(h.balance("warehouse:W1", "A") == Balance{stock_w1, stock_w1});
  CHECK(h.balance("warehouse:W2", "A") == Balance{stock_w2, stock_w2});
  h.engine->inspect([&](const LedgerState& s) {
    std::int64_t held = 0;
    std::size_t orders = 0;
    s.for_each_order([&](const std::string&, const OrderRecord& o) {
      ++orders;
      CHECK(o.status() == OrderStatus::allocated);
      for (const auto& [sku, qty] : o.held) held += qty;
    });
    CHECK(held == stock_w1 + stock_w2);
    CHECK(orders == std::size_t(stock_w1 + stock_w2));
  });
  check_all_invariants(h);
}

TEST_CASE("a retry racing with its original, from 4 threads at once, is applied once; the others are replays") {
  constexpr int threads = 4, commands = 300;
  constexpr std::int64_t stock = 200;
  Harness h = fast_harness();
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", stock, {}}}, "BATCH-1"});
  // Every thread sends the same 300 commands (same ids, same bodies) in its own order.
  Answers answers(threads * commands);
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      std::vector<int> order(commands);
      for (int i = 0; i < commands; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), std::mt19937(t + 1));
      for (int i : order) {
        std::string id = fmt::format("O{}", i);
        h.engine->submit(Command{"cmd-" + id, {"client", "dealer", "D1"}, one_unit(id)},
                         answers.slot(std::size_t(i) * threads + t));
      }
    });
  }
  for (auto& c : clients) c.join();
  answers.wait_all();

  int applied = 0, sold_out = 0;
  for (int i = 0; i < commands; ++i) {
    int first = 0, replays = 0, refused = 0;
    std::uint64_t first_seq = 0;
    std::set<std::uint64_t> seqs;
    for (int t = 0; t < threads; ++t) {
      const CommandResult& r = answers[std::size_t(i) * threads + t];
      if (!r.ok()) {
        CHECK(r.error().code == ErrorCode::insufficient_stock);
        ++refused;
        continue;
      }
      (r->replayed ? replays : first) += 1;
      if (!r->replayed) first_seq = r->first_seq;
      seqs.insert(r->first_seq);
    }
    INFO("command " << i);
    if (refused > 0) {
      CHECK(refused == threads);  // stock only falls: refused once, refused every time
      ++sold_out;
    } else {
      CHECK(first == 1);
      CHECK(replays == threads - 1);
      CHECK(seqs == std::set<std::uint64_t>{first_seq});
      ++applied;
    }
  }
  CHECK(applied == stock);
  CHECK(sold_out == commands - stock);
  CHECK(h.balance("warehouse:W1", "A") == Balance{stock, stock});
  check_all_invariants(h);
}

TEST_CASE("threads running whole order lifecycles while others read the log and the state keep every invariant") {
  constexpr int threads = 6, orders_per_thread = 25;
  Harness h = fast_harness();
  h.small_network();
  h.ok(DefineMember{"M1", "Member one", "S1"});
  h.ok(ReceiveStock{"W1", {{"A", 1000, {}}, {"B", 1000, {}}}, "BATCH-1"});
  h.ok(ShipTransfer{"T-S1", "warehouse:W1", "store:S1", {{"B", 200, {}}}});
  h.ok(ReceiveTransfer{"T-S1"});

  std::atomic<bool> done{false};
  std::thread log_reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      std::uint64_t n = 0;
      auto st = h.engine->read_events(1, 100'000, [&](const fb::Event& e, const Hash32&) {
        ++n;
        return e.seq() == n;
      });
      CHECK(st.ok());
    }
  });
  std::thread state_reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      h.engine->inspect([](const LedgerState& s) {
        std::string violation = test::order_invariant_violation(s);
        CHECK_MESSAGE(violation.empty(), violation);
      });
    }
  });
  auto expect_ok = [&](Command c) {
    auto r = h.engine->execute(std::move(c));
    CHECK_MESSAGE(r.ok(), (r.ok() ? "" : r.error().to_string()));
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Actor actor{fmt::format("worker-{}", t), "hq_admin", ""};
      for (int i = 0; i < orders_per_thread; ++i) {
        std::string id = fmt::format("W{}-{}", t, i);
        if (t == 0) {  // a member picks up at the store
          PlaceOrder b;
          b.id = id;
          b.type = OrderType::reservation;
          b.buyer = "member:M1";
          b.seller = "store:S1";
          b.channel = "store";
          b.ship_to_region = "R1";
          b.lines = {{"B", 2, 30000}};
          b.promised_by_us = test::t0_us + 2 * day_us;
          b.pickup_at_us = test::t0_us + day_us;
          expect_ok({id + ".place", actor, b});
          expect_ok({id + ".pickup", actor, DeliverOrder{id}});
          continue;
        }
        PlaceOrder o = one_unit(id, i % 2 == 0 ? "A" : "B");
        o.lines[0].qty = 4;
        expect_ok({id + ".place", actor, o});
        if (i % 5 == 0) {
          expect_ok({id + ".cancel", actor, CancelOrder{id, "changed"}});
          continue;
        }
        expect_ok({id + ".ship-1", actor, ShipOrder{id, {{o.lines[0].sku, 1, {}}}}});
        expect_ok({id + ".ship-2", actor, ShipOrder{id, {}}});
        expect_ok({id + ".deliver", actor, DeliverOrder{id}});
        expect_ok({id + ".return", actor, ReturnOrder{id, {{o.lines[0].sku, 1, {}}}, "broken"}});
        expect_ok({id + ".complete", actor, CompleteOrder{id}});
      }
    });
  }
  for (auto& w : workers) w.join();
  done.store(true, std::memory_order_release);
  log_reader.join();
  state_reader.join();

  // Per worker 1..5: 20 orders of 4 delivered, 1 of each returned: 3 net each, split over A and B.
  std::int64_t net_per_sku = (threads - 1) * (orders_per_thread - orders_per_thread / 5) / 2 * 3;
  CHECK(h.balance("dealer:D1", "A").on_hand == net_per_sku);
  CHECK(h.balance("dealer:D1", "B").on_hand == net_per_sku);
  CHECK(h.balance("warehouse:W1", "A") == Balance{1000 - net_per_sku, 0});
  CHECK(h.balance("store:S1", "B") == Balance{200 - 2 * orders_per_thread, 0});
  CHECK(h.balance("customer", "B").on_hand == 2 * orders_per_thread);
  check_all_invariants(h);
  auto folded = fold_log(h.dir.path());
  REQUIRE(folded.ok());
  CHECK(folded->render() == h.render());
}

TEST_SUITE_END();

// Orders under concurrency: many threads submitting at once through Engine::submit and
// Engine::execute, while others read. One writer decides every command in turn, so the last units
// are sold exactly once and a retry racing with its original applies once. CI runs this suite under
// ThreadSanitizer too (scripts/test, build-tsan).
#include <algorithm>
#include <atomic>
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

}  // namespace

TEST_SUITE_BEGIN("concurrency");

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

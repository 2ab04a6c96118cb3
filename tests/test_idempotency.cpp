// Idempotency: a command id is applied at most once, whatever happens around it.
#include <atomic>
#include <thread>

#include "support.hpp"

using namespace ledger;
using test::Harness;

TEST_SUITE_BEGIN("idempotency");

TEST_CASE("retrying a command with the same id and body answers the first outcome and writes nothing") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  auto first = h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 3, {}}}}, "key-1");
  CHECK_FALSE(first.replayed);
  auto seq = h.engine->last_seq();
  auto again = h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 3, {}}}}, "key-1");
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  CHECK(again.last_seq == first.last_seq);
  CHECK(h.engine->last_seq() == seq);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 7);
}

TEST_CASE("the same id with a different body is refused, not applied") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"}, "key-1");
  auto e = h.rejected(ReceiveStock{"W1", {{"A", 11, {}}}, "B1"}, ErrorCode::idempotency_mismatch, "key-1");
  CHECK(e.number("first_seq") > 0);
  // ... even when the different body would itself be rejected.
  h.rejected(ReceiveStock{"W404", {{"A", 11, {}}}, "B1"}, ErrorCode::idempotency_mismatch, "key-1");
  CHECK(h.balance("warehouse:W1", "A").on_hand == 10);
}

TEST_CASE("a rejected command does not use up its id: fixed and retried, it applies") {
  Harness h;
  h.small_network();
  h.rejected(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 3, {}}}}, ErrorCode::insufficient_stock, "key-1");
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  auto r = h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 3, {}}}}, "key-1");
  CHECK_FALSE(r.replayed);
}

TEST_CASE("an id is checked like any id") {
  Harness h;
  h.small_network();
  h.rejected(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"}, ErrorCode::invalid_argument, "key with spaces");
  h.rejected(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"}, ErrorCode::invalid_argument, std::string(65, 'k'));
}

TEST_CASE("the same id submitted many times at once, from many threads, applies exactly once") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 1000, {}}}, "B1"});
  std::atomic<int> applied{0}, replayed{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = h.run(AdjustStock{"warehouse:W1", "A", -1, "one bottle"}, "the-one-key");
        if (!r.ok()) {
          ++failed;
        } else if (r->replayed) {
          ++replayed;
        } else {
          ++applied;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(applied == 1);
  CHECK(replayed == 199);
  CHECK(failed == 0);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 999);
}

TEST_CASE("idempotency survives a restart") {
  Harness h;
  h.small_network();
  auto first = h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"}, "key-1");
  h.close();
  h.open();
  auto again = h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"}, "key-1");
  CHECK(again.replayed);
  CHECK(again.first_seq == first.first_seq);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 10);
}

TEST_SUITE_END();

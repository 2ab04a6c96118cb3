// The LMDB map: it grows by itself when full, and at its configured limit commits fail with
// storage_full, nothing acknowledged is lost, and raising the limit lets writing resume.
#include "support.hpp"

using namespace ledger;

namespace {
CommandBody transfer(int i) {
  return ShipTransfer{fmt::format("T{}", i), "warehouse:W1", "store:S1", {{"A", 1, {}}}};
}
}  // namespace

TEST_SUITE_BEGIN("storage");

TEST_CASE("a full map is doubled and the batch retried, invisibly to callers") {
  EngineOptions options;
  options.map_bytes_initial = 256 * 1024;
  options.map_bytes_max = 256 * 1024 * 1024;
  test::Harness h(options);
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 100000, {}}}, "B1"});
  for (int i = 0; i < 3000; ++i) h.ok(transfer(i), fmt::format("k{}", i));
  CHECK(h.engine->stats().map_growths > 0);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 97000);
  h.close();
  CHECK(verify_log(h.dir.path()).ok());
}

TEST_CASE("at the map limit: storage_full, nothing acknowledged lost, state equal to the log, resumes when raised") {
  EngineOptions options;
  options.map_bytes_initial = 512 * 1024;
  options.map_bytes_max = 512 * 1024;
  test::Harness h(options);
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 100000, {}}}, "B1"});
  int acknowledged = 0;
  std::optional<Error> failure;
  for (int i = 0; i < 100000 && !failure; ++i) {
    auto r = h.run(transfer(i), fmt::format("k{}", i));
    if (r.ok()) {
      ++acknowledged;
    } else {
      failure = r.error();
    }
  }
  REQUIRE(failure.has_value());
  CHECK(failure->code == ErrorCode::storage_full);
  CHECK(failure->message.find("map") != std::string::npos);
  CHECK(h.engine->stats().failed_batches > 0);
  // Near the limit each commit either fits (LMDB reuses freed pages) or fails whole; the live state
  // is exactly what the log holds either way.
  int next = acknowledged + 1;
  for (int i = 0; i < 50; ++i, ++next) {
    auto r = h.run(transfer(next), fmt::format("k{}", next));
    if (r.ok()) {
      ++acknowledged;
    } else {
      CHECK(r.error().code == ErrorCode::storage_full);
    }
  }
  std::string live = h.render();
  auto on_disk = fold_log(h.dir.path());
  REQUIRE(on_disk.ok());
  CHECK(on_disk->render() == live);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 100000 - acknowledged);

  h.close();
  h.options.map_bytes_max = 64 * 1024 * 1024;
  h.open();
  for (int i = 0; i < 2000; ++i, ++next) REQUIRE(h.run(transfer(next), fmt::format("k{}", next)).ok());
  CHECK(h.balance("warehouse:W1", "A").on_hand == 100000 - acknowledged - 2000);
}

TEST_CASE("the writer queue is bounded: past it, submit answers overloaded at once") {
  EngineOptions options;
  options.queue_commands_max = 4;
  test::Harness h(options);
  h.small_network();
  std::atomic<int> overloaded{0}, answered{0};
  std::mutex mu;
  std::condition_variable cv;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    h.engine->submit(Command{{}, {}, DefineRegion{"R1", fmt::format("name {}", i)}}, [&](const CommandResult& r) {
      if (!r.ok() && r.error().code == ErrorCode::overloaded) ++overloaded;
      if (++answered == n) {
        std::lock_guard lock(mu);  // the waiter cannot return (and destroy cv) while we notify
        cv.notify_one();
      }
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return answered == n; });
  CHECK(overloaded > 0);
}

TEST_SUITE_END();

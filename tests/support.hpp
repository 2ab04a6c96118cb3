// Shared by the tests: temporary directories, an engine on a manual clock, command shorthands.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "ledger/engine.hpp"
#include "ledger/limits.hpp"
#include "ledger/verify.hpp"

namespace test {

// A fresh directory under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    static std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / fmt::format("ledger-test-{}-{:x}", ::getpid(), rd());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    if (std::getenv("KEEP_TEST_DIRS")) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline constexpr std::int64_t t0_us = 1'790'000'000'000'000;  // 2026-09-21, any fixed point will do

struct Harness {
  TempDir dir;
  std::shared_ptr<ledger::ManualClock> clock = std::make_shared<ledger::ManualClock>(t0_us);
  std::unique_ptr<ledger::Engine> engine;

  ledger::EngineOptions options;

  explicit Harness(ledger::EngineOptions o = {}) : options(std::move(o)) { open(); }
  void open() {
    options.dir = dir.path();
    options.clock = clock;
    auto opened = ledger::Engine::open(options);
    REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().to_string()));
    engine = std::move(*opened);
  }
  void close() { engine.reset(); }

  ledger::CommandResult run(ledger::CommandBody body, std::string command_id = {}) {
    return engine->execute(ledger::Command{std::move(command_id), {"tester", "hq_admin", ""}, std::move(body)});
  }
  // Runs a command that must succeed.
  ledger::CommandOutcome ok(ledger::CommandBody body, std::string command_id = {}) {
    auto r = run(std::move(body), std::move(command_id));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().to_string()));
    return *r;
  }
  // Runs a command that must fail with `code`, and checks it wrote nothing.
  ledger::Error rejected(ledger::CommandBody body, ledger::ErrorCode code, std::string command_id = {}) {
    std::uint64_t before = engine->last_seq();
    auto r = run(std::move(body), std::move(command_id));
    REQUIRE_MESSAGE(!r.ok(), "expected a rejection");
    CHECK_MESSAGE(r.error().code == code, r.error().to_string());
    CHECK(engine->last_seq() == before);
    return r.error();
  }
  ledger::Balance balance(const std::string& location, const std::string& sku) {
    ledger::Balance out;
    engine->inspect([&](const ledger::LedgerState& s) { out = s.balance(location, sku); });
    return out;
  }
  std::string render() {
    std::string out;
    engine->inspect([&](const ledger::LedgerState& s) { out = s.render(); });
    return out;
  }
  void check_invariants() {
    engine->inspect([&](const ledger::LedgerState& s) {
      auto st = s.check_invariants();
      CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().to_string()));
    });
  }
  // A small network: region R1, warehouses W1 W2, dealer D1, stores S1 S2, SKUs A B.
  void small_network() {
    using namespace ledger;
    ok(DefineRegion{"R1", "East"});
    ok(DefineWarehouse{"W1", "Chengdu", "R1", 30'572'000, 104'066'000, 1000});
    ok(DefineWarehouse{"W2", "Wuhan", "R1", 30'593'000, 114'305'000, 1000});
    ok(DefineDealer{"D1", "Dealer one", "R1", {"R1"}, 1'000'000});
    ok(DefineStore{"S1", "Store one", "D1", "R1", 30'000'000, 104'000'000});
    ok(DefineStore{"S2", "Store two", "D1", "R1", 30'100'000, 104'100'000});
    ok(DefineSku{"A", "Sauce 53% 500ml", 6, {70000, 85000, 100000}, {66500, 80750, 90000}});
    ok(DefineSku{"B", "Light 42% 500ml", 6, {20000, 25000, 30000}, {19000, 23000, 27000}});
  }
};

// Settings the test binary takes on its command line (tests/test_main.cpp).
struct Settings {
  std::uint64_t sim_commands = 300'000;
  std::uint64_t sim_seed = 0;  // 0: random, printed
  std::string crash_child;     // path of the crash_child helper
};
Settings& settings();

}  // namespace test

// ledger-demo: runs the engine on a demo network of the real scale and prints what it did.
// On an empty data directory it loads the network and some stock history; on a non-empty one it
// reports what the log holds. Either way it ends with a full verification of the log.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "ledger/demo_network.hpp"
#include "ledger/engine.hpp"
#include "ledger/verify.hpp"

using namespace ledger;

namespace {

struct Tally {
  std::uint64_t applied = 0;
  std::map<std::string, std::uint64_t> rejected_by_code;
};

// Submits every command (the writer batches them), waits for all answers.
Tally run_all(Engine& engine, std::vector<Command> commands) {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t remaining = commands.size();
  Tally tally;
  for (auto& c : commands) {
    engine.submit(std::move(c), [&](const CommandResult& r) {
      std::lock_guard lock(mu);
      if (r.ok()) {
        ++tally.applied;
      } else {
        ++tally.rejected_by_code[std::string(error_code_name(r.error().code))];
      }
      if (--remaining == 0) cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return remaining == 0; });
  return tally;
}

void step(Engine& engine, const char* what, std::vector<Command> commands) {
  auto start = std::chrono::steady_clock::now();
  std::size_t n = commands.size();
  Tally t = run_all(engine, std::move(commands));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("  {:<44} {:>7} commands  {:>7} applied  {:>8.0f}/s", what, n, t.applied, n / s);
  for (const auto& [code, count] : t.rejected_by_code) fmt::print("  {} {}", count, code);
  fmt::print("\n");
}

Command cmd(std::string id, CommandBody body) { return Command{std::move(id), Actor{"demo", "hq_admin"}, std::move(body)}; }

void load_history(Engine& engine, const demo::NetworkSize& size, std::int64_t now_us) {
  using namespace demo;
  step(engine, "master data (regions, warehouses, dealers, stores, SKUs)", network_commands(size));

  std::vector<Command> receipts;
  for (int w = 0; w < size.warehouses; ++w) {
    ReceiveStock r{warehouse_id(w), {}, fmt::format("BATCH-2026-{}", w + 1)};
    for (int k = 0; k < size.skus; ++k) r.lines.push_back({sku_id(k), 6000, fmt::format("LOT-{}-{}", w + 1, k + 1)});
    receipts.push_back(cmd(fmt::format("demo-receipt-{}", w), r));
  }
  step(engine, "production receipts into the 8 warehouses", std::move(receipts));

  std::vector<Command> to_dealers, dealer_receipts;
  for (int d = 0; d < size.dealers; ++d) {
    std::string id = fmt::format("T-HQ-{}", dealer_id(d));
    ShipTransfer t{id, "warehouse:" + warehouse_id(d % size.warehouses), "dealer:" + dealer_id(d), {}};
    for (int j = 0; j < 3; ++j) t.lines.push_back({sku_id((d * 7 + j * 13) % size.skus), 60, {}});
    to_dealers.push_back(cmd("demo-ship-" + id, t));
    dealer_receipts.push_back(cmd("demo-recv-" + id, ReceiveTransfer{id}));
  }
  step(engine, "transfers warehouse -> dealer (shipped)", std::move(to_dealers));
  step(engine, "transfers warehouse -> dealer (received)", std::move(dealer_receipts));

  std::vector<Command> to_stores, store_receipts;
  for (int s = 0; s < size.stores; s += 2) {
    int d = dealer_of_store(s, size);
    std::string id = fmt::format("T-{}-{}", dealer_id(d), store_id(s));
    ShipTransfer t{id, "dealer:" + dealer_id(d), "store:" + store_id(s), {{sku_id((d * 7) % size.skus), 6, {}}}};
    to_stores.push_back(cmd("demo-ship-" + id, t));
    if (s % 4 == 0) store_receipts.push_back(cmd("demo-recv-" + id, ReceiveTransfer{id}));
  }
  step(engine, "transfers dealer -> store (shipped)", std::move(to_stores));
  step(engine, "transfers dealer -> store (half received)", std::move(store_receipts));

  std::vector<Command> holds, settle;
  for (int s = 0; s < size.stores; s += 8) {
    int d = dealer_of_store(s, size);
    std::string id = fmt::format("RSV-{}", store_id(s));
    holds.push_back(cmd("demo-" + id, CreateReservation{id, "store:" + store_id(s), "customer",
                                                         {{sku_id((d * 7) % size.skus), 2, {}}},
                                                         now_us + 7LL * 24 * 3600 * 1'000'000}));
    if (s % 16 == 0) {
      settle.push_back(cmd("demo-post-" + id, PostReservation{id, {{sku_id((d * 7) % size.skus), 1, {}}}}));
    } else if (s % 24 == 0) {
      settle.push_back(cmd("demo-void-" + id, VoidReservation{id, "member cancelled"}));
    }
  }
  step(engine, "member reservations at stores", std::move(holds));
  step(engine, "reservations picked up (partly) or cancelled", std::move(settle));

  std::vector<Command> adjustments{
      cmd("demo-adj-1", AdjustStock{"warehouse:" + warehouse_id(0), sku_id(0), -12, "breakage in handling"}),
      cmd("demo-adj-2", AdjustStock{"dealer:" + dealer_id(0), sku_id(0), 3, "count correction"}),
      cmd("demo-adj-3", AdjustStock{"store:" + store_id(0), sku_id(0), -1000, "more than there is: rejected"})};
  step(engine, "stock adjustments (one deliberately too large)", std::move(adjustments));
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::getenv("LEDGER_DATA") != nullptr ? std::getenv("LEDGER_DATA") : "./data";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      fmt::print("usage: ledger-demo [--data DIR]   (or LEDGER_DATA; default ./data)\n"
                 "Loads a demo network into an empty data directory and shows what the engine did.\n");
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  EngineOptions options;
  options.dir = dir;
  auto engine = Engine::open(options);
  if (!engine) {
    fmt::print(stderr, "ledger-demo: {}\n", engine.error().to_string());
    return 1;
  }
  demo::NetworkSize size;
  if ((*engine)->last_seq() == 0) {
    fmt::print("Loading a demo network into {} (32 regions, 8 warehouses, {} dealers, {} stores, {} SKUs):\n", dir,
               size.dealers, size.stores, size.skus);
    load_history(**engine, size, SystemClock().now_us());
  } else {
    fmt::print("{} already holds {} events; not loading the demo again.\n", dir, (*engine)->last_seq());
  }
  WriterStats stats = (*engine)->stats();
  fmt::print("\nWriter: {} batches, {} commands ({} rejected), {} events, {:.1f} commands per batch, log {:.1f} MiB\n",
             stats.batches, stats.commands, stats.rejected, stats.events,
             stats.batches ? double(stats.commands) / stats.batches : 0.0, stats.log_bytes / 1048576.0);

  (*engine)->inspect([&](const LedgerState& s) {
    fmt::print("\nStock of {} (on hand / reserved / available):\n", demo::sku_id(0));
    for (const char* loc : {"warehouse:W-Chengdu", "dealer:D-0001", "store:S-00001", "production", "customer",
                            "adjustment"}) {
      Balance b = s.balance(loc, demo::sku_id(0));
      fmt::print("  {:<22} {:>9} {:>9} {:>9}\n", loc, b.on_hand, b.reserved, b.available());
    }
    auto inv = s.check_invariants();
    fmt::print("Invariants (stock sums to zero per SKU, no real location below zero): {}\n",
               inv ? "hold" : inv.error().to_string());
  });
  engine->reset();

  auto start = std::chrono::steady_clock::now();
  auto report = verify_log(dir);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report) {
    fmt::print(stderr, "verify: {}\n", report.error().to_string());
    return 1;
  }
  fmt::print("Verified {} events in {:.2f}s: hash chain intact, head {}\n", report->events, s, to_hex(report->chain_hash));
  return 0;
}

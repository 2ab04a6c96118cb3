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
    demo::load_history(**engine, size, SystemClock().now_us(), [](const std::string& line) { fmt::print("{}\n", line); });
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

// Counting the engine's answers in a benchmark: how many came, how many were rejections (and the
// first one's text), and waiting for a count. Shared by every bench.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/engine.hpp"
#include "scratch.hpp"

namespace bench {

struct Completions {
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> rejected{0};
  // Waiters are woken every `notify_every` answers and at `target` (a futex wake per answer costs
  // the writer thread time in the write benchmarks).
  std::uint64_t notify_every = 1;
  std::uint64_t target = 0;
  std::mutex mu;
  std::string first_error;  // guarded by mu

  void done(const ledger::CommandResult& r) {
    if (!r.ok() && rejected.fetch_add(1, std::memory_order_relaxed) == 0) {
      std::lock_guard lock(mu);
      first_error = r.error().to_string();
    }
    std::uint64_t c = completed.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (c % notify_every == 0 || c == target) completed.notify_all();
  }
  // Blocks until `count` answers came. REQUIRES: notify_every == 1, or count == target.
  void wait_for(std::uint64_t count) {
    for (;;) {
      std::uint64_t c = completed.load(std::memory_order_acquire);
      if (c >= count) return;
      completed.wait(c, std::memory_order_acquire);
    }
  }
  // Blocks until at most `in_flight_max` of `submitted` commands are unanswered.
  void wait_in_flight(std::uint64_t submitted, std::uint64_t in_flight_max) {
    for (;;) {
      std::uint64_t c = completed.load(std::memory_order_acquire);
      if (submitted - c <= in_flight_max) return;
      completed.wait(c, std::memory_order_acquire);
    }
  }
};

// Submits every command (the writer batches them) and waits for all answers; dies on a rejection.
inline void run_all(ledger::Engine& engine, std::vector<ledger::Command> commands, const char* what) {
  Completions c;
  for (auto& command : commands) engine.submit(std::move(command), [&c](const ledger::CommandResult& r) { c.done(r); });
  c.wait_for(commands.size());
  if (c.rejected.load() != 0) die(fmt::format("{}: {} rejected; first: {}", what, c.rejected.load(), c.first_error));
}

}  // namespace bench

// Time enters the engine only here: the writer reads the clock once per batch and stamps the
// value on every event; folds never read it, so replay is deterministic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ledger {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_us() = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_us() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// For tests and simulations: time moves only when told.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_us) : now_us_(start_us) {}
  std::int64_t now_us() override { return now_us_.load(std::memory_order_relaxed); }
  void set_us(std::int64_t t) { now_us_.store(t, std::memory_order_relaxed); }
  void advance_us(std::int64_t delta) { now_us_.fetch_add(delta, std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> now_us_;
};

}  // namespace ledger

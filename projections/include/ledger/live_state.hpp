// The live read model: the ledger state folded by its own thread from committed events, so readers
// (HTTP GETs, the matcher later) never wait for the writer and never see an uncommitted batch.
// Readers take a shared lock; the follower folds a chunk of events under the exclusive lock.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "ledger/engine.hpp"
#include "ledger/stock_table.hpp"

namespace ledger {

class LiveState {
 public:
  // Folds the committed log, then follows every commit. REQUIRES: `engine` outlives this.
  static Result<std::unique_ptr<LiveState>> start(Engine& engine);
  ~LiveState();

  // Runs `fn` with the state as of applied_seq() (passed too), under a shared lock.
  template <typename F>
  auto read(F&& fn) const {
    std::shared_lock lock(mu_);
    return fn(state_, state_.last_seq());
  }
  std::uint64_t applied_seq() const;
  // Warehouse stock for the sourcing matcher, read without locks (ledger/stock_table.hpp).
  const StockTable& stock_table() const { return stock_table_; }
  // Events committed but not yet folded here.
  std::uint64_t lag() const;

  // Calls `done()` once applied_seq() >= seq: at once if already so, else on the follower thread.
  // Returns a handle for cancel(); 0 when done() already ran.
  std::uint64_t when_applied(std::uint64_t seq, std::function<void()> done);
  // Forgets a waiter (its deadline passed). Returns false when it already ran.
  bool cancel(std::uint64_t handle);

 private:
  explicit LiveState(Engine& engine) : engine_(engine) {}
  Status catch_up();
  void run();

  Engine& engine_;
  mutable std::shared_mutex mu_;
  LedgerState state_;  // guarded by mu_
  StockTable stock_table_;                 // written by the follower under mu_, read by anyone
  std::vector<std::uint64_t> changed_;     // balances the last chunk changed; guarded by mu_

  std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  std::uint64_t committed_seq_ = 0;  // guarded by follow_mu_
  bool stopping_ = false;            // guarded by follow_mu_
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> committed_{0};

  struct Waiter {
    std::uint64_t seq;
    std::function<void()> done;
  };
  std::mutex waiters_mu_;
  std::map<std::uint64_t, Waiter> waiters_;  // by handle; guarded by waiters_mu_
  std::uint64_t next_handle_ = 1;            // guarded by waiters_mu_
  std::thread follower_;
  std::uint64_t listener_id_ = 0;
};

}  // namespace ledger

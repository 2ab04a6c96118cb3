// The live read model (read_model.hpp: the ledger state and every projection) folded by its own thread
// from committed events, so readers (HTTP GETs, the matcher) never wait for the writer and never see an
// uncommitted batch. Readers take a shared lock; the follower folds a chunk of events under the
// exclusive lock. With a data directory it starts from the snapshots there and writes new ones every
// snapshot_every_events and when it stops.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "ledger/engine.hpp"
#include "ledger/read_model.hpp"
#include "ledger/stock_table.hpp"

namespace ledger {

struct LiveOptions {
  std::filesystem::path data_dir;  // empty: no snapshots read or written
  std::uint64_t snapshot_every_events = 100'000;
  std::function<void(std::string_view)> on_notice;  // one line: where it started from, snapshot trouble
};

class LiveState {
 public:
  // Restores the snapshots (or folds the whole log when they are missing or unsound), folds the tail,
  // then follows every commit. REQUIRES: `engine` outlives this.
  static Result<std::unique_ptr<LiveState>> start(Engine& engine, LiveOptions options = {});
  // Writes a last snapshot when there is a data directory.
  ~LiveState();

  // Runs `fn` with the ledger state as of applied_seq() (passed too), under a shared lock.
  template <typename F>
  auto read(F&& fn) const {
    std::shared_lock lock(mu_);
    return fn(model_->ledger(), model_->last_seq());
  }
  // Runs `fn` with the whole read model as of applied_seq() (passed too), under a shared lock.
  template <typename F>
  auto read_model(F&& fn) const {
    std::shared_lock lock(mu_);
    return fn(*model_, model_->last_seq());
  }
  // The sequence the last snapshot was taken at (0: none yet), and where start() began folding.
  std::uint64_t snapshot_seq() const { return snapshot_seq_.load(std::memory_order_relaxed); }
  std::uint64_t restored_from_seq() const { return restored_from_seq_; }
  // Writes the snapshots now (on the caller's thread; the follower keeps folding meanwhile).
  Status save_snapshots();
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
  LiveState(Engine& engine, LiveOptions options) : engine_(engine), options_(std::move(options)) {}
  Status catch_up();
  void run();
  void maybe_snapshot();

  Engine& engine_;
  LiveOptions options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<ReadModel> model_;  // folded by the follower under mu_
  std::mutex snapshot_mu_;            // one snapshot at a time
  std::atomic<std::uint64_t> snapshot_seq_{0};
  std::uint64_t restored_from_seq_ = 0;
  bool following_ = false;  // set once start() has folded the backlog; then only the follower reads it
  StockTable stock_table_;              // written by the follower under mu_, read by anyone
  std::vector<std::uint64_t> changed_;  // balances the last chunk changed; guarded by mu_

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

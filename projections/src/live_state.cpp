#include "ledger/live_state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/fold.hpp"

namespace ledger {

namespace {
// Events folded per exclusive lock: long enough to amortize the lock, short enough that a reader
// waits well under a millisecond.
constexpr std::size_t fold_chunk_events = 1024;
}  // namespace

Result<std::unique_ptr<LiveState>> LiveState::start(Engine& engine, LiveOptions options) {
  std::unique_ptr<LiveState> live(new LiveState(engine, std::move(options)));
  LiveState* raw = live.get();
  auto notice = [&](const std::string& line) {
    if (raw->options_.on_notice) raw->options_.on_notice(line);
  };
  if (!raw->options_.data_dir.empty()) {
    auto restored = ReadModel::restore(raw->options_.data_dir, [&](std::uint64_t seq) -> std::optional<Hash32> {
      std::optional<Hash32> found;
      if (seq == 0 || seq > engine.last_seq()) return found;
      auto st = engine.read_events(seq, 1, [&](const fb::Event& e, const Hash32& h) {
        if (e.seq() == seq) found = h;
        return false;
      });
      if (!st) return std::nullopt;
      return found;
    });
    if (restored) {
      raw->model_ = std::move(*restored);
      raw->restored_from_seq_ = raw->model_->last_seq();
      raw->snapshot_seq_ = raw->restored_from_seq_;
      notice(fmt::format("projections restored from snapshots at seq {}; folding {} newer events",
                         raw->restored_from_seq_, engine.last_seq() - raw->restored_from_seq_));
    } else if (restored.error().code != ErrorCode::unknown_id) {
      notice(fmt::format("projection snapshots ignored ({}): rebuilding from the log", restored.error().message));
    }
  }
  if (!raw->model_) raw->model_ = std::make_unique<ReadModel>();
  raw->applied_ = raw->model_->last_seq();
  live->listener_id_ = engine.on_commit([raw](std::uint64_t seq) {
    raw->committed_.store(seq, std::memory_order_relaxed);
    {
      std::lock_guard lock(raw->follow_mu_);
      raw->committed_seq_ = seq;
    }
    raw->follow_cv_.notify_one();
  });
  live->committed_seq_ = engine.last_seq();
  live->committed_ = engine.last_seq();
  if (auto st = live->catch_up(); !st) return st.take_error();
  raw->following_ = true;
  raw->maybe_snapshot();
  live->follower_ = std::thread([raw] { raw->run(); });
  return live;
}

LiveState::~LiveState() {
  engine_.remove_commit_listener(listener_id_);
  {
    std::lock_guard lock(follow_mu_);
    stopping_ = true;
  }
  follow_cv_.notify_one();
  if (follower_.joinable()) follower_.join();
  if (!options_.data_dir.empty() && model_ && model_->last_seq() > snapshot_seq()) {
    if (auto st = save_snapshots(); !st) {
      fmt::print(stderr, "ledger: could not write projection snapshots: {}\n", st.error().to_string());
    }
  }
}

Status LiveState::save_snapshots() {
  if (options_.data_dir.empty()) return make_error(ErrorCode::invalid_argument, "no data directory for snapshots");
  std::lock_guard one(snapshot_mu_);
  // Under the shared lock: the follower waits (commits do not); readers go on.
  std::shared_lock lock(mu_);
  if (auto st = model_->save_snapshots(options_.data_dir); !st) return st;
  snapshot_seq_.store(model_->last_seq(), std::memory_order_relaxed);
  return Ok{};
}

void LiveState::maybe_snapshot() {
  // Not while start() folds the backlog: one snapshot at its end is worth more than one per interval.
  if (options_.data_dir.empty() || options_.snapshot_every_events == 0 || !following_) return;
  if (applied_seq() < snapshot_seq() + options_.snapshot_every_events) return;
  if (auto st = save_snapshots(); !st) {
    // Not fatal: the log is the truth; the next restart folds more.
    fmt::print(stderr, "ledger: could not write projection snapshots: {}\n", st.error().to_string());
    snapshot_seq_.store(applied_seq(), std::memory_order_relaxed);  // try again after another interval
  }
}

std::uint64_t LiveState::applied_seq() const { return applied_.load(std::memory_order_acquire); }

std::uint64_t LiveState::lag() const {
  std::uint64_t committed = committed_.load(std::memory_order_relaxed);
  std::uint64_t applied = applied_seq();
  return committed > applied ? committed - applied : 0;
}

Status LiveState::catch_up() {
  for (;;) {
    std::uint64_t from = applied_seq() + 1;
    std::size_t folded = 0;
    Status failure;
    {
      std::unique_lock lock(mu_);
      bool directory_changed = false, loads_changed = false;
      auto st = engine_.read_events(from, fold_chunk_events, [&](const fb::Event& e, const Hash32& h) {
        failure = model_->apply(e, h);
        for (const StockDelta& d : model_->last_deltas()) changed_.push_back(d.key);
        if (!failure) return false;
        auto kind = e.body_type();
        directory_changed |=
            kind == fb::Body::WarehouseDefined || kind == fb::Body::SkuDefined || kind == fb::Body::SourcingWeightsSet;
        loads_changed |= kind == fb::Body::OrderAllocated;
        ++folded;
        return true;
      });
      if (!st) return st;
      const LedgerState& state_ = model_->ledger();
      if (!failure) return failure;
      if (directory_changed) {
        stock_table_.rebuild(state_);
      } else {
        std::sort(changed_.begin(), changed_.end());
        changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
        for (std::uint64_t key : changed_) {
          auto [location, sku] = state_.balance_names(key);
          stock_table_.refresh(state_, location, sku);
        }
      }
      changed_.clear();
      if (loads_changed || directory_changed) stock_table_.refresh_loads(state_, state_.last_ts_us());
      applied_.store(state_.last_seq(), std::memory_order_release);
    }
    if (folded > 0) {
      std::vector<std::function<void()>> ready;
      {
        std::lock_guard lock(waiters_mu_);
        for (auto it = waiters_.begin(); it != waiters_.end();) {
          if (it->second.seq <= applied_seq()) {
            ready.push_back(std::move(it->second.done));
            it = waiters_.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (auto& done : ready) done();
    }
    maybe_snapshot();
    if (folded < fold_chunk_events) return Ok{};
  }
}

void LiveState::run() {
  for (;;) {
    {
      std::unique_lock lock(follow_mu_);
      follow_cv_.wait(lock, [&] { return stopping_ || committed_seq_ > applied_seq(); });
      if (stopping_) return;
    }
    // The log was verified at open and is read back checked: failing here means the storage broke
    // under us; readers keep the last good state and the lag metric shows it.
    if (auto st = catch_up(); !st) {
      fmt::print(stderr, "ledger: live state stopped following the log: {}\n", st.error().to_string());
      return;
    }
  }
}

std::uint64_t LiveState::when_applied(std::uint64_t seq, std::function<void()> done) {
  {
    std::lock_guard lock(waiters_mu_);
    if (applied_seq() < seq) {
      std::uint64_t handle = next_handle_++;
      waiters_.emplace(handle, Waiter{seq, std::move(done)});
      return handle;
    }
  }
  done();
  return 0;
}

bool LiveState::cancel(std::uint64_t handle) {
  std::lock_guard lock(waiters_mu_);
  return waiters_.erase(handle) != 0;
}

}  // namespace ledger

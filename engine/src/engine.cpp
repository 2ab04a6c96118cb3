#include "ledger/engine.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "decide.hpp"
#include "fingerprint.hpp"
#include "fold.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"
#include "ledger/snapshot.hpp"
#include "log_reader.hpp"
#include "log_store.hpp"

namespace ledger {

namespace {

// Expiries emitted at the start of one batch: bounds the batch when many deadlines pass at once;
// the rest expire in the next batches.
constexpr std::size_t expiries_per_batch_max = 4096;
// A batch that fails with a full map is retried after the map doubles; from 1 GiB to 1 TiB is ten
// doublings, so more attempts than this means something else is wrong.
constexpr int map_growth_attempts_max = 12;

const Actor system_actor{"system", "system"};

struct Pending {
  Command command;
  Completion done;
  std::function<void(const LedgerState&)> inspector;  // set: an inspection, not a command
};

struct Staged {
  std::size_t offset_words = 0;
  std::size_t size_bytes = 0;
  Hash32 hash{};
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t version = 0;
};

Result<LedgerState> fold_store(const LogStore& store, const ProgressFn& progress) {
  LedgerState state;
  auto status = walk_log(store, [&](const fb::Event& e, const Hash32& h) { return Fold::apply(state, e, h); }, progress);
  if (!status) return status.take_error();
  return state;
}

// The chain hash of event `seq` as the log has it (its record checked against its predecessor's
// stored hash); nullopt when there is no such event or it cannot be read.
std::optional<Hash32> chain_hash_at(const LogStore& store, std::uint64_t seq) {
  if (seq == 0) return std::nullopt;
  std::optional<Hash32> out;
  auto status = read_log_range(store, seq, 1, [&](const fb::Event&, const Hash32& h) {
    out = h;
    return true;
  });
  if (!status) return std::nullopt;
  return out;
}

struct Restored {
  LedgerState state;
  std::uint64_t from_seq = 0;  // the snapshot's seq; 0: the whole log was folded
};

// The decision state at open: from DIR/snapshots/ledger.snap when it is sound and of this log's
// history, then the events after it (each checked as in a whole fold); else the whole log.
// `notice` (may be empty) hears a line when a snapshot is used or ignored.
Result<Restored> restore_state(const LogStore& store, const std::filesystem::path& dir, const ProgressFn& progress,
                               const std::function<void(std::string_view)>& notice) {
  auto say = [&](const std::string& line) {
    if (notice) notice(line);
  };
  auto fold_all = [&]() -> Result<Restored> {
    auto state = fold_store(store, progress);
    if (!state) return state.take_error();
    return Restored{std::move(*state), 0};
  };
  auto snapshot = load_ledger_snapshot(dir, [&](std::uint64_t seq) { return chain_hash_at(store, seq); });
  if (!snapshot) {
    if (!snapshot_missing(snapshot.error())) {
      say(fmt::format("snapshot {}.snap ignored ({}): folding the whole log", ledger_snapshot_name,
                      snapshot.error().message));
    }
    return fold_all();
  }
  Restored out{std::move(*snapshot), 0};
  out.from_seq = out.state.last_seq();
  std::uint64_t folded = 0;
  auto status = walk_log_from(
      store, out.from_seq + 1,
      [&](const fb::Event& e, const Hash32& h) {
        ++folded;
        return Fold::apply(out.state, e, h);
      },
      progress);
  if (!status) {
    // The log is damaged after the snapshot, or the snapshot's state does not take the next events:
    // the whole fold tells which, and names the damaged seq if it is the log.
    std::string why =
        fmt::format("the events after its seq {} do not fold onto it: {}", out.from_seq, status.error().message);
    say(fmt::format("snapshot {}.snap ignored ({}): folding the whole log", ledger_snapshot_name, why));
    return fold_all();
  }
  say(fmt::format("restored from snapshot at seq {}; folded {} newer events", out.from_seq, folded));
  return out;
}

}  // namespace

struct Engine::Impl final : EventSink {
  std::unique_ptr<LogStore> store;
  std::filesystem::path dir;
  std::uint64_t restored_from_seq = 0;  // set at open
  std::shared_ptr<Clock> clock;
  std::size_t queue_commands_max = 0;
  LedgerState state;  // owned by the writer thread once it runs

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;  // guarded by mu
  bool stopping = false;      // guarded by mu
  std::thread writer;

  std::atomic<std::uint64_t> last_seq{0};
  std::mutex listeners_mu;
  std::map<std::uint64_t, std::function<void(std::uint64_t)>> listeners;  // guarded by listeners_mu
  std::uint64_t next_listener_id = 1;                                      // guarded by listeners_mu
  mutable std::mutex stats_mu;
  WriterStats stats;  // guarded by stats_mu

  // ---- per-batch scratch, writer thread only
  flatbuffers::FlatBufferBuilder fbb{1024};
  Sha256 hasher;
  Sha256 fingerprint_hasher;
  std::vector<std::uint64_t> arena;  // staged event bytes, 8-byte aligned
  std::vector<Staged> staged;
  const Command* current = nullptr;  // the command being decided; null for system events
  std::int64_t batch_ts_us = 0;
  std::uint64_t next_seq = 0;
  Hash32 prev_hash{};
  std::optional<Error> fatal;  // a storage failure that aborts the whole batch
  std::vector<CommandResult> outcomes_scratch;
  Matcher matcher;               // the writer's, buffers reused across orders
  std::uint64_t stale_plans = 0;  // proposals matched again; copied to stats after each batch

  // ---- EventSink
  flatbuffers::FlatBufferBuilder& builder() override { return fbb; }
  void emit(std::string_view stream, fb::Body type, flatbuffers::Offset<void> body) override;

  void run();
  void process(std::vector<Pending>& items);
  std::size_t run_batch(std::vector<Pending>& items, std::size_t begin, std::vector<CommandResult>& outcomes);
  void stage_begin();
  Status append_staged(Txn& txn);
  void expire_due(Txn& txn);
  CommandResult apply_command(Txn& txn, const Command& command);
  CommandResult answer_retry(const Command& command, const CommandRecord& record);
  void reload_state();
};

void Engine::Impl::stage_begin() {
  staged.clear();
  arena.clear();
  next_seq = state.last_seq() + 1;
  prev_hash = state.chain_head();
}

void Engine::Impl::emit(std::string_view stream, fb::Body type, flatbuffers::Offset<void> body) {
  std::uint64_t seq = next_seq++;
  std::uint64_t version = state.stream_version(stream) + 1;
  for (const auto& s : staged) version += s.stream == stream ? 1 : 0;
  const Actor& actor = current != nullptr ? current->actor : system_actor;
  std::string command_id = current != nullptr ? current->command_id : std::string();
  std::string event_id = command_id.empty() ? fmt::format("{}", seq) : fmt::format("{}/{}", command_id, staged.size());

  fb::Hash32 prev(flatbuffers::span<const std::uint8_t, 32>(prev_hash.data(), 32));
  auto actor_offset = fb::CreateActorDirect(fbb, actor.principal.c_str(), actor.role.c_str(),
                                            actor.scope.empty() ? nullptr : actor.scope.c_str());
  auto event = fb::CreateEvent(fbb, seq, batch_ts_us, fbb.CreateString(event_id),
                               fbb.CreateString(command_id), fbb.CreateString(stream), version, actor_offset,
                               &prev, type, body);
  fb::FinishEventBuffer(fbb, event);

  Staged s;
  s.size_bytes = fbb.GetSize();
  s.offset_words = arena.size();
  arena.resize(arena.size() + (s.size_bytes + 7) / 8);
  std::memcpy(arena.data() + s.offset_words, fbb.GetBufferPointer(), s.size_bytes);
  s.hash = chain_hash(hasher, prev_hash, {reinterpret_cast<const std::uint8_t*>(arena.data() + s.offset_words), s.size_bytes});
  s.seq = seq;
  s.stream = std::string(stream);
  s.version = version;
  prev_hash = s.hash;
  staged.push_back(std::move(s));
  fbb.Clear();
}

// Writes the staged events and folds them into the state. A fold failure here is a bug in a
// decide function (it accepted what the fold rejects): the batch is abandoned, not the process.
Status Engine::Impl::append_staged(Txn& txn) {
  for (const auto& s : staged) {
    std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(arena.data() + s.offset_words), s.size_bytes);
    assert(verify_event_buffer(bytes));  // assert data right before writing it (TigerStyle)
    if (auto st = put_event(*store, txn, s.seq, s.hash, bytes); !st) return st;
    if (auto st = put_stream_entry(*store, txn, s.stream, s.version, s.seq); !st) return st;
    if (auto st = Fold::apply(state, *fb::GetEvent(bytes.data()), s.hash); !st) {
      assert(false && "decide accepted an event the fold rejects");
      return make_error(ErrorCode::storage_error, fmt::format("internal error, batch abandoned: {}", st.error().message));
    }
  }
  assert(state.last_seq() == next_seq - 1);
  return Ok{};
}

void Engine::Impl::expire_due(Txn& txn) {
  current = nullptr;
  std::vector<std::pair<std::int64_t, std::string>> due;
  for (const auto& [deadline, id] : state.pending_deadlines()) {
    if (deadline > batch_ts_us || due.size() == expiries_per_batch_max) break;
    due.emplace_back(deadline, id);
  }
  auto stage = [&](const std::function<Status()>& decide_events) {
    stage_begin();
    Status decided = decide_events();
    fbb.Clear();
    assert(decided.ok() && "clock-driven events are decided from a consistent state");
    if (!decided) return false;
    if (staged.empty()) return true;
    if (auto st = append_staged(txn); !st) {
      fatal = st.take_error();
      return false;
    }
    return true;
  };
  for (const auto& entry : due) {
    // Named copies, not structured bindings: lambdas below capture them (clang 14 cannot).
    const std::int64_t deadline = entry.first;
    const std::string& id = entry.second;
    if (state.reservation(id) == nullptr || state.reservation(id)->status != ReservationStatus::pending) continue;
    bool ok = stage([&] {
      auto body = fb::CreateReservationExpiredDirect(fbb, id.c_str(), deadline);
      emit(fmt::format("reservation:{}", id), fb::Body::ReservationExpired, body.Union());
      return Status{Ok{}};
    });
    // An order whose hold ran out before anything shipped is cancelled with it.
    if (!ok || !stage([&] { return cancel_on_hold_expiry(state, id, batch_ts_us, *this); })) return;
  }
  // Members' points expiring and tiers falling as old spend leaves the window.
  std::vector<std::string> members_due;
  for (const auto& [due_us, member] : state.member_due()) {
    if (due_us > batch_ts_us || members_due.size() == expiries_per_batch_max) break;
    members_due.push_back(member);
  }
  for (const auto& member : members_due) {
    if (!stage([&] { return member_clock(state, member, batch_ts_us, *this); })) return;
  }
  // Order milestones missed: one warning each, in due order.
  std::vector<std::tuple<std::int64_t, std::string, std::string>> late;
  for (const auto& m : state.milestones()) {
    if (std::get<0>(m) > batch_ts_us || late.size() == expiries_per_batch_max) break;
    late.push_back(m);
  }
  for (const auto& m : late) {
    const std::int64_t due_us = std::get<0>(m);
    const std::string& order = std::get<1>(m);
    const std::string& milestone = std::get<2>(m);
    bool ok = stage([&] {
      auto body = fb::CreateOrderDelayWarnedDirect(fbb, order.c_str(), milestone.c_str(), due_us);
      emit(fmt::format("order:{}", order), fb::Body::OrderDelayWarned, body.Union());
      return Status{Ok{}};
    });
    if (!ok) return;
  }
}

CommandResult Engine::Impl::answer_retry(const Command& command, const CommandRecord& record) {
  if (fingerprint(fingerprint_hasher, command.body) != record.fingerprint) {
    return make_error(ErrorCode::idempotency_mismatch,
                      fmt::format("command id '{}' was used before for a different command; use a new id",
                                  command.command_id))
        .with("first_seq", static_cast<std::int64_t>(record.first_seq));
  }
  return CommandOutcome{record.first_seq, record.last_seq, true};
}

CommandResult Engine::Impl::apply_command(Txn& txn, const Command& command) {
  if (!command.command_id.empty()) {
    if (auto st = check_id(command.command_id, "command id"); !st) return st.take_error();
  }
  current = &command;
  stage_begin();
  DecideContext ctx{batch_ts_us, &command.actor, &matcher, &stale_plans};
  Status decided = decide(state, command.body, ctx, *this);
  fbb.Clear();
  if (!decided) {
    // A retry of an applied command may be rejected now (its transfer exists, its stock moved):
    // answer it from the index before reporting the rejection.
    if (command.command_id.empty()) return decided.take_error();
    auto found = get_command(*store, txn, command.command_id);
    if (!found) {
      fatal = found.take_error();
      return *fatal;
    }
    if (*found) return answer_retry(command, **found);
    return decided.take_error();
  }
  assert(!staged.empty());
  CommandOutcome outcome{staged.front().seq, staged.back().seq, false};
  if (!command.command_id.empty()) {
    CommandRecord record{outcome.first_seq, outcome.last_seq, fingerprint(fingerprint_hasher, command.body)};
    auto existing = put_command_if_new(*store, txn, command.command_id, record);
    if (!existing) {
      fatal = existing.take_error();
      return *fatal;
    }
    if (*existing) return answer_retry(command, **existing);  // staged events are dropped
  }
  if (auto st = append_staged(txn); !st) {
    fatal = st.take_error();
    return *fatal;
  }
  return outcome;
}

void Engine::Impl::reload_state() {
  auto rebuilt = restore_state(*store, dir, {}, {});
  // The log was readable a moment ago and we only ever aborted on top of it: failing to read it
  // back means the storage itself is broken, and continuing would decide on a wrong state.
  if (!rebuilt) {
    fmt::print(stderr, "ledger: cannot re-read the log after a failed commit: {}\n", rebuilt.error().to_string());
    std::abort();
  }
  state = std::move(rebuilt->state);
}

// Runs items[begin, end) in one write transaction; returns end. Commands are answered in
// `outcomes`; on a failed commit every one of them gets the failure.
std::size_t Engine::Impl::run_batch(std::vector<Pending>& items, std::size_t begin,
                                    std::vector<CommandResult>& outcomes) {
  for (int attempt = 0;; ++attempt) {
    fatal.reset();
    std::size_t end = begin;
    std::size_t bytes = 0;
    auto txn = Txn::begin(*store, true);
    if (!txn) {
      fatal = txn.take_error();
    } else {
      // Whatever this transaction appends (expiries included) is committed or forgotten as one:
      // the state may run ahead of the disk only until the commit below.
      std::uint64_t seq_at_begin = state.last_seq();
      batch_ts_us = std::max(clock->now_us(), state.last_ts_us());
      expire_due(*txn);
      for (; end < items.size() && !fatal && bytes < limits::batch_event_bytes_max; ++end) {
        if (items[end].inspector) break;
        outcomes[end] = apply_command(*txn, items[end].command);
        bytes += arena.size() * 8;
      }
      if (!fatal && state.last_seq() != seq_at_begin) {
        if (auto st = txn->commit(); !st) fatal = st.take_error();
      }
      if (!fatal) {
        if (state.last_seq() != last_seq.load(std::memory_order_relaxed)) {
          last_seq.store(state.last_seq(), std::memory_order_release);
          std::lock_guard lock(listeners_mu);
          for (const auto& [id, listener] : listeners) listener(state.last_seq());
        }
        return end;
      }
    }
    // Nothing of this batch is durable: forget what it did to the state, then maybe retry.
    if (txn) txn->abort();
    reload_state();
    bool map_full = fatal->number("lmdb_rc", 0) == MDB_MAP_FULL;
    if (map_full && attempt < map_growth_attempts_max) {
      store->clear_stale_readers();
      if (auto grown = store->grow_map(); grown) {
        std::lock_guard lock(stats_mu);
        ++stats.map_growths;
        continue;
      } else {
        fatal = grown.take_error();
      }
    }
    {
      std::lock_guard lock(stats_mu);
      ++stats.failed_batches;
    }
    std::size_t failed_end = begin;
    while (failed_end < items.size() && !items[failed_end].inspector) outcomes[failed_end++] = *fatal;
    return failed_end;
  }
}

void Engine::Impl::process(std::vector<Pending>& items) {
  // Reused across batches, and filled with a value that owns no memory: a fresh vector of errors
  // per batch cost more in malloc than deciding the commands.
  std::vector<CommandResult>& outcomes = outcomes_scratch;
  outcomes.assign(items.size(), CommandOutcome{});
  std::size_t i = 0;
  while (i < items.size()) {
    if (items[i].inspector) {
      items[i].inspector(state);
      ++i;
      continue;
    }
    std::size_t begin = i;
    i = run_batch(items, begin, outcomes);
    WriterStats delta;
    for (std::size_t k = begin; k < i; ++k) {
      const CommandResult& r = outcomes[k];
      ++delta.commands;
      if (r.ok() && r->replayed) ++delta.replayed;
      if (r.ok() && !r->replayed) delta.events += r->last_seq - r->first_seq + 1;
      if (!r.ok()) ++delta.rejected;
    }
    {
      // Before the completions: a caller that saw its answer sees the stats that include it.
      std::lock_guard lock(stats_mu);
      ++stats.batches;
      stats.commands += delta.commands;
      stats.replayed += delta.replayed;
      stats.events += delta.events;
      stats.rejected += delta.rejected;
      stats.last_batch_commands = delta.commands;
      stats.stale_plans = stale_plans;
    }
    for (std::size_t k = begin; k < i; ++k) {
      if (items[k].done) items[k].done(outcomes[k]);
    }
  }
}

void Engine::Impl::run() {
  std::vector<Pending> items;
  for (;;) {
    items.clear();
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty() && stopping) return;
      while (!queue.empty() && items.size() < limits::batch_commands_max) {
        items.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    process(items);
  }
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
  auto impl = std::make_unique<Impl>();
  StoreOptions store_options;
  store_options.dir = options.dir;
  store_options.durability = options.durability;
  store_options.map_bytes_initial = options.map_bytes_initial;
  store_options.map_bytes_max = options.map_bytes_max;
  auto store = LogStore::open(store_options);
  if (!store) return store.take_error();
  impl->store = std::move(*store);
  impl->clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  impl->queue_commands_max = options.queue_commands_max != 0 ? options.queue_commands_max : limits::queue_commands_max;
  impl->dir = options.dir;
  auto restored = restore_state(*impl->store, options.dir, options.on_open_progress, options.on_notice);
  if (!restored) return restored.take_error();
  impl->state = std::move(restored->state);
  impl->restored_from_seq = restored->from_seq;
  impl->last_seq.store(impl->state.last_seq());
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::~Engine() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  impl_->writer.join();
}

void Engine::submit(Command command, Completion done) {
  std::unique_lock lock(impl_->mu);
  if (impl_->stopping) {
    lock.unlock();
    if (done) done(make_error(ErrorCode::shutting_down, "the engine is closing; retry against the restarted server"));
    return;
  }
  if (impl_->queue.size() >= impl_->queue_commands_max) {
    lock.unlock();
    if (done) {
      done(make_error(ErrorCode::overloaded, "the writer queue is full; retry shortly")
               .with("queue_depth", static_cast<std::int64_t>(impl_->queue_commands_max)));
    }
    return;
  }
  bool was_empty = impl_->queue.empty();
  impl_->queue.push_back(Pending{std::move(command), std::move(done), {}});
  lock.unlock();
  if (was_empty) impl_->cv.notify_one();
}

CommandResult Engine::execute(Command command) {
  std::promise<CommandResult> promise;
  auto future = promise.get_future();
  submit(std::move(command), [&promise](const CommandResult& r) { promise.set_value(r); });
  return future.get();
}

void Engine::inspect(const std::function<void(const LedgerState&)>& fn) {
  std::promise<void> promise;
  auto future = promise.get_future();
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue.push_back(Pending{{}, {}, [&](const LedgerState& s) {
                                     fn(s);
                                     promise.set_value();
                                   }});
  }
  impl_->cv.notify_one();
  future.get();
}

std::uint64_t Engine::on_commit(std::function<void(std::uint64_t)> fn) {
  std::lock_guard lock(impl_->listeners_mu);
  std::uint64_t id = impl_->next_listener_id++;
  impl_->listeners.emplace(id, std::move(fn));
  return id;
}

void Engine::remove_commit_listener(std::uint64_t id) {
  std::lock_guard lock(impl_->listeners_mu);  // listeners run under this lock: none is running now
  impl_->listeners.erase(id);
}

Status Engine::read_events(std::uint64_t from_seq, std::size_t limit, const EventVisitor& visit) const {
  return read_log_range(*impl_->store, std::max<std::uint64_t>(from_seq, 1), limit, visit);
}

Status Engine::read_records(std::uint64_t from_seq, std::size_t limit, const RecordVisitor& visit) const {
  return read_log_records(*impl_->store, std::max<std::uint64_t>(from_seq, 1), limit, visit);
}

std::uint64_t Engine::last_seq() const { return impl_->last_seq.load(std::memory_order_acquire); }

std::uint64_t Engine::restored_from_seq() const { return impl_->restored_from_seq; }

WriterStats Engine::stats() const {
  WriterStats out;
  {
    std::lock_guard lock(impl_->stats_mu);
    out = impl_->stats;
  }
  {
    std::lock_guard lock(impl_->mu);
    out.queue_depth = impl_->queue.size();
  }
  out.log_bytes = impl_->store->used_bytes();
  return out;
}

}  // namespace ledger

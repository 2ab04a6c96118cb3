// The engine: one writer that takes commands from any thread in batches, decides each against the
// current state, appends the resulting events in one LMDB write transaction, commits once and only
// then completes the callers. The public surface of the library, with verify.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "events_generated.h"
#include "ledger/commands.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/options.hpp"
#include "ledger/result.hpp"

namespace ledger {

struct WriterStats {
  std::uint64_t batches = 0;          // committed write transactions
  std::uint64_t commands = 0;         // commands answered (applied, replayed or rejected)
  std::uint64_t events = 0;           // events appended
  std::uint64_t rejected = 0;         // commands rejected with a business or input error
  std::uint64_t replayed = 0;         // retries answered from the idempotency index
  std::uint64_t failed_batches = 0;   // batches whose commit failed (nothing acknowledged)
  std::uint64_t map_growths = 0;      // times the LMDB map was doubled
  std::uint64_t last_batch_commands = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t log_bytes = 0;        // bytes of the LMDB file in use
  std::uint64_t stale_plans = 0;      // order plans proposed from the stock table that the writer re-matched
};

class Engine {
 public:
  // Opens (creating when missing) the log in options.dir and folds it into the decision state,
  // checking every record; a damaged log fails with `corruption` naming the sequence number.
  // When DIR/snapshots/ledger.snap is sound and of this log's history (ledger/snapshot.hpp), the
  // state starts from it and only the events after it are folded (and checked); records before it
  // are then not re-read: `ledger verify` audits the whole log. The engine never writes snapshots.
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  // Drains the queue (every submitted command is answered), then stops the writer.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe, never blocks. `done` runs on the writer thread once the outcome is durable, or
  // at once with `overloaded` when the queue is full, or `shutting_down` after close began.
  void submit(Command command, Completion done);
  // Blocking convenience over submit.
  CommandResult execute(Command command);
  // Runs `fn` on the writer thread between batches against the state of the last commit, and
  // waits for it. For tests, tools and snapshots; keep `fn` short, commands wait meanwhile.
  void inspect(const std::function<void(const LedgerState&)>& fn);

  std::uint64_t last_seq() const;
  WriterStats stats() const;
  // The seq of the snapshot open started from; 0 when it folded the whole log.
  std::uint64_t restored_from_seq() const;

  // Calls `fn(last_seq)` on the writer thread after every commit, from now on. For waking readers
  // and subscribers: keep it to a notify. Its owner removes it before going away.
  // Returns an id for remove_commit_listener().
  std::uint64_t on_commit(std::function<void(std::uint64_t last_seq)> fn);
  // After this returns, the listener is not running and will not run again.
  void remove_commit_listener(std::uint64_t id);

  // Reads committed events from `from_seq` on, in order, each record checked (engine/log_format.md),
  // until `visit` returns false, `limit` events were visited or the log ends. Safe from any thread,
  // concurrently with the writer (an LMDB read transaction).
  using EventVisitor = std::function<bool(const fb::Event& event, const Hash32& chain_hash)>;
  Status read_events(std::uint64_t from_seq, std::size_t limit, const EventVisitor& visit) const;
  // As read_events, with each event's stored bytes too (valid during the call only), for callers that
  // keep events after the read transaction ends.
  using RecordVisitor = std::function<bool(const fb::Event& event, const Hash32& chain_hash,
                                           std::span<const std::uint8_t> bytes)>;
  Status read_records(std::uint64_t from_seq, std::size_t limit, const RecordVisitor& visit) const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ledger

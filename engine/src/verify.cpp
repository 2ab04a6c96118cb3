#include "ledger/verify.hpp"

#include <fmt/format.h>

#include <cstring>

#include "fold.hpp"
#include "log_reader.hpp"
#include "log_store.hpp"

namespace ledger {

namespace {

Result<std::unique_ptr<LogStore>> open_read_only(const std::filesystem::path& dir) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  return LogStore::open(options);
}

Error index_error(std::uint64_t seq, std::string message) {
  return make_error(ErrorCode::corruption, std::move(message)).with("seq", static_cast<std::int64_t>(seq));
}

// Every entry of the idempotency index points at events carrying its command id, at both ends.
Status check_command_index(const LogStore& store, std::uint64_t last_seq, std::uint64_t* entries) {
  auto txn = Txn::begin(store, false);
  if (!txn) return txn.take_error();
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn->raw(), store.commands(), &cursor); rc != 0) return lmdb_error(rc, "opening a cursor");
  std::vector<std::uint64_t> aligned;
  Status status;
  MDB_val key{}, data{};
  for (int rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST); rc == 0 && status;
       rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
    ++*entries;
    std::string_view id(static_cast<const char*>(key.mv_data), key.mv_size);
    auto record = get_command(store, *txn, id);
    if (!record || !*record) {
      status = make_error(ErrorCode::corruption, fmt::format("command index entry '{}' is unreadable", id));
      break;
    }
    const CommandRecord& r = **record;
    if (r.first_seq == 0 || r.first_seq > r.last_seq || r.last_seq > last_seq) {
      status = index_error(r.first_seq, fmt::format("command '{}' points at events {}..{} of {}", id, r.first_seq,
                                                    r.last_seq, last_seq));
      break;
    }
    for (std::uint64_t seq : {r.first_seq, r.last_seq}) {
      auto bytes = get_event_record(store, *txn, seq);
      if (!bytes || !*bytes) {
        status = index_error(seq, fmt::format("command '{}' points at missing event {}", id, seq));
        break;
      }
      auto body = (*bytes)->subspan(record_hash_bytes);
      aligned.resize((body.size() + 7) / 8);
      std::memcpy(aligned.data(), body.data(), body.size());
      const auto* event = fb::GetEvent(aligned.data());  // already verified by the walk
      if (fb_str(event->command_id()) != id) {
        status = index_error(seq, fmt::format("command '{}' points at event {} of command '{}'", id, seq,
                                              fb_str(event->command_id())));
        break;
      }
    }
  }
  mdb_cursor_close(cursor);
  return status;
}

}  // namespace

Status scan_log(const std::filesystem::path& dir, std::uint64_t from_seq, std::uint64_t limit,
                const std::function<bool(const fb::Event&, const Hash32&)>& visit) {
  auto store = open_read_only(dir);
  if (!store) return store.take_error();
  return read_log_range(**store, std::max<std::uint64_t>(from_seq, 1), limit, visit);
}

Result<std::uint64_t> log_last_seq(const std::filesystem::path& dir) {
  auto store = open_read_only(dir);
  if (!store) return store.take_error();
  return count_events(**store);
}

Result<LedgerState> fold_log(const std::filesystem::path& dir, const ProgressFn& progress) {
  auto store = open_read_only(dir);
  if (!store) return store.take_error();
  LedgerState state;
  auto st = walk_log(**store, [&](const fb::Event& e, const Hash32& h) { return Fold::apply(state, e, h); }, progress);
  if (!st) return st.take_error();
  return state;
}

Result<VerifyReport> verify_log(const std::filesystem::path& dir, const ProgressFn& progress) {
  auto store = open_read_only(dir);
  if (!store) return store.take_error();
  LedgerState state;
  VerifyReport report;
  auto txn = Txn::begin(**store, false);
  if (!txn) return txn.take_error();
  auto visit = [&](const fb::Event& e, const Hash32& h) -> Status {
    if (e.seq() == 1) report.first_ts_us = e.ts_us();
    std::string_view command_id = fb_str(e.command_id());
    if (!command_id.empty()) {
      // An event of a command the index does not cover would be applied again on a retry.
      auto record = get_command(**store, *txn, command_id);
      if (!record) return record.take_error();
      if (!*record || (*record)->first_seq > e.seq() || (*record)->last_seq < e.seq()) {
        return index_error(e.seq(), fmt::format("event {} of command '{}' is not covered by the idempotency index",
                                                e.seq(), command_id));
      }
    }
    // The stream index must name this event at its version (an index by stream that lies would
    // send a reader of an aggregate to the wrong events).
    auto indexed = get_stream_entry(**store, *txn, fb_str(e.stream()), e.stream_version());
    if (!indexed) return indexed.take_error();
    if (!*indexed || **indexed != e.seq()) {
      return index_error(e.seq(), fmt::format("the stream index does not map {} version {} to event {}",
                                              fb_str(e.stream()), e.stream_version(), e.seq()));
    }
    return Fold::apply(state, e, h);
  };
  if (auto st = walk_log(**store, visit, progress); !st) return st.take_error();
  if (auto st = state.check_invariants(); !st) return st.take_error();
  if (auto st = check_command_index(**store, state.last_seq(), &report.commands); !st) return st.take_error();
  report.events = state.last_seq();
  report.last_seq = state.last_seq();
  report.chain_hash = state.chain_head();
  report.last_ts_us = state.last_ts_us();
  report.streams = state.stream_count();
  return report;
}

}  // namespace ledger

#include "ledger/import.hpp"

#include <fmt/format.h>

#include <cstring>

#include "fold.hpp"
#include "ledger/ledger_state.hpp"
#include "log_reader.hpp"
#include "log_store.hpp"

namespace ledger {

namespace {

Error bad_record(std::uint64_t seq, std::string message) {
  return make_error(ErrorCode::corruption, std::move(message)).with("seq", static_cast<std::int64_t>(seq));
}

constexpr std::size_t import_batch_events = 8192;

}  // namespace

Status scan_log_records(const std::filesystem::path& dir, std::uint64_t from_seq, std::uint64_t limit,
                        const std::function<bool(const LogRecordView&)>& visit) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  auto store = LogStore::open(options);
  if (!store) return store.take_error();
  auto txn = Txn::begin(**store, false);
  if (!txn) return txn.take_error();
  Status failure;
  // One cursor walk hands over the checked event and its stored bytes; only commands need a lookup.
  auto st = read_log_records(**store, std::max<std::uint64_t>(from_seq, 1), limit,
                             [&](const fb::Event& e, const Hash32& h, std::span<const std::uint8_t> bytes) {
                               LogRecordView view{e, h, bytes, std::nullopt};
                               std::string_view command_id = fb_str(e.command_id());
                               if (!command_id.empty()) {
                                 auto command = get_command(**store, *txn, command_id);
                                 if (!command) {
                                   failure = command.take_error();
                                   return false;
                                 }
                                 if (*command && (*command)->last_seq == e.seq())
                                   view.command_fingerprint = (*command)->fingerprint;
                               }
                               return visit(view);
                             });
  if (!st) return st;
  return failure;
}

Status import_log(const std::filesystem::path& dir, const std::function<Result<std::optional<ImportRecord>>()>& next,
                  const ProgressFn& progress) {
  StoreOptions options;
  options.dir = dir;
  auto opened = LogStore::open(options);
  if (!opened) return opened.take_error();
  LogStore& store = **opened;
  if (auto count = count_events(store); !count || *count != 0) {
    if (!count) return count.take_error();
    return make_error(
        ErrorCode::illegal_transition,
        fmt::format("{} already holds {} events: import only into an empty data directory", dir.string(), *count));
  }
  LedgerState state;
  Sha256 hasher;
  Hash32 prev{};
  std::uint64_t seq = 0;
  std::string command_id;           // the command whose events are being read
  std::uint64_t command_first = 0;  // its first event
  bool command_closed = true;       // its fingerprint came
  std::vector<ImportRecord> batch;
  bool ended = false;
  while (!ended) {
    batch.clear();
    while (batch.size() < import_batch_events) {
      auto record = next();
      if (!record) return record.take_error();
      if (!*record) {
        ended = true;
        break;
      }
      batch.push_back(std::move(**record));
    }
    if (batch.empty()) break;
    for (int attempt = 0;; ++attempt) {
      // The fold and the chain are advanced on copies: a batch retried after the map grew starts over.
      LedgerState batch_state = state;
      Hash32 batch_prev = prev;
      std::uint64_t batch_seq = seq;
      std::string batch_command = command_id;
      std::uint64_t batch_first = command_first;
      bool batch_closed = command_closed;
      auto txn = Txn::begin(store, true);
      if (!txn) return txn.take_error();
      Status wrote;
      for (const ImportRecord& r : batch) {
        std::uint64_t want = batch_seq + 1;
        if (!verify_event_buffer(r.bytes)) {
          wrote = bad_record(want, fmt::format("record {} is not a sound event buffer", want));
          break;
        }
        const fb::Event& e = *fb::GetEvent(r.bytes.data());
        if (e.seq() != want) {
          wrote = bad_record(
              want, fmt::format("record {} carries seq {}: the log must be dense and in order", want, e.seq()));
          break;
        }
        if (e.prev_hash() == nullptr || std::memcmp(e.prev_hash()->bytes()->data(), batch_prev.data(), 32) != 0) {
          wrote = bad_record(want, fmt::format("event {} does not chain to event {}", want, want - 1));
          break;
        }
        Hash32 h = chain_hash(hasher, batch_prev, r.bytes);
        if (r.chain_hash && *r.chain_hash != h) {
          wrote = bad_record(want, fmt::format("event {}: its chain_hash does not match its bytes", want));
          break;
        }
        std::string_view cmd = fb_str(e.command_id());
        if (cmd != batch_command) {
          if (!batch_closed) {
            wrote = bad_record(
                want, fmt::format("command '{}' ended without its fingerprint (export with --raw)", batch_command));
            break;
          }
          batch_command = std::string(cmd);
          batch_first = want;
          batch_closed = cmd.empty();
        }
        if (auto st = Fold::apply(batch_state, e, h); !st) {
          wrote = bad_record(want, fmt::format("event {} breaks the ledger: {}", want, st.error().message));
          break;
        }
        if (auto st = put_event(store, *txn, want, h, r.bytes); !st) {
          wrote = st;
          break;
        }
        if (auto st = put_stream_entry(store, *txn, fb_str(e.stream()), e.stream_version(), want); !st) {
          wrote = st;
          break;
        }
        if (r.command_fingerprint) {
          if (cmd.empty()) {
            wrote = bad_record(want, fmt::format("event {} has a command fingerprint but no command", want));
            break;
          }
          auto put = put_command_if_new(store, *txn, cmd, CommandRecord{batch_first, want, *r.command_fingerprint});
          if (!put) {
            wrote = put.take_error();
            break;
          }
          if (*put) {
            wrote = bad_record(want, fmt::format("command '{}' appears twice", cmd));
            break;
          }
          batch_closed = true;
        }
        batch_prev = h;
        batch_seq = want;
      }
      if (wrote) wrote = txn->commit();
      if (!wrote) {
        txn->abort();
        if (wrote.error().code == ErrorCode::storage_full && attempt < 12) {
          if (auto grown = store.grow_map(); grown) continue;
        }
        // Leave an empty directory behind, not half a log.
        opened->reset();
        std::error_code ec;
        std::filesystem::remove(dir / "data.mdb", ec);
        std::filesystem::remove(dir / "lock.mdb", ec);
        return wrote;
      }
      state = std::move(batch_state);
      prev = batch_prev;
      seq = batch_seq;
      command_id = std::move(batch_command);
      command_first = batch_first;
      command_closed = batch_closed;
      break;
    }
    if (progress) progress(seq, 0);
  }
  if (!command_closed) {
    opened->reset();
    std::error_code ec;
    std::filesystem::remove(dir / "data.mdb", ec);
    std::filesystem::remove(dir / "lock.mdb", ec);
    return bad_record(seq, fmt::format("command '{}' ended without its fingerprint (export with --raw)", command_id));
  }
  if (auto inv = state.check_invariants(); !inv) return bad_record(seq, inv.error().message);
  return Ok{};
}

}  // namespace ledger

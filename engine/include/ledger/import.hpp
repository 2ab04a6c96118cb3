// Moving a log between data directories exactly: reading each record's bytes (for `ledger export
// --raw`) and writing such records into an empty data directory (`ledger import`), where every record
// is checked as the engine checks its own log, so the copy has the same chain hash or is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "events_generated.h"
#include "ledger/hash.hpp"
#include "ledger/options.hpp"
#include "ledger/result.hpp"

namespace ledger {

struct LogRecordView {
  const fb::Event& event;
  const Hash32& chain_hash;
  std::span<const std::uint8_t> bytes;  // the event's FlatBuffer, exactly as stored
  // On the last event of a command: the fingerprint of the command's body in the idempotency index,
  // without which a retry of that command could not be recognised in the copy.
  std::optional<Hash32> command_fingerprint;
};

// Visits records from `from_seq` on (at most `limit`), each checked, until `visit` returns false.
Status scan_log_records(const std::filesystem::path& dir, std::uint64_t from_seq, std::uint64_t limit,
                        const std::function<bool(const LogRecordView&)>& visit);

struct ImportRecord {
  std::vector<std::uint8_t> bytes;
  std::optional<Hash32> chain_hash;  // when given, must equal the chain hash the record computes to
  std::optional<Hash32> command_fingerprint;
};

// Writes records into `dir`, which must hold no events. `next` returns the next record, nullopt at
// the end, or an error (bad input: the caller's line number in its message). Each record must be a
// sound event buffer with the next sequence number and the previous record's hash, must be accepted
// by the fold (the invariants hold after it), and every command's last event must carry its
// fingerprint. Nothing is left behind on failure: the directory is emptied again.
Status import_log(const std::filesystem::path& dir, const std::function<Result<std::optional<ImportRecord>>()>& next,
                  const ProgressFn& progress = {});

}  // namespace ledger

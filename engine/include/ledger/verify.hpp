// Reading a whole log without the writer: safe on a live data directory (LMDB readers never block
// the writer) or on a copy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "events_generated.h"

#include "ledger/hash.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/options.hpp"
#include "ledger/result.hpp"

namespace ledger {

struct VerifyReport {
  std::uint64_t events = 0;
  std::uint64_t last_seq = 0;
  Hash32 chain_hash{};  // the head: chain hash of the last event
  std::int64_t first_ts_us = 0;
  std::int64_t last_ts_us = 0;
  std::uint64_t streams = 0;
  std::uint64_t commands = 0;  // entries in the idempotency index
};

// Checks every record (buffer, dense sequence, hash chain), folds it (no event may contradict the
// state), then the invariants, and that the idempotency index and the events agree.
// The first violation is returned as `corruption` with details["seq"] where it has one.
Result<VerifyReport> verify_log(const std::filesystem::path& dir, const ProgressFn& progress = {});

// Visits the events of the log in `dir` from `from_seq` on (at most `limit`), each record checked,
// until `visit` returns false (read-only; one LMDB read transaction).
Status scan_log(const std::filesystem::path& dir, std::uint64_t from_seq, std::uint64_t limit,
                const std::function<bool(const fb::Event& event, const Hash32& chain_hash)>& visit);
// The sequence number of the last event, 0 for an empty log.
Result<std::uint64_t> log_last_seq(const std::filesystem::path& dir);

// The decision state re-derived from the log alone (read-only).
Result<LedgerState> fold_log(const std::filesystem::path& dir, const ProgressFn& progress = {});

}  // namespace ledger

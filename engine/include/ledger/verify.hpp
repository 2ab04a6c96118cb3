// Reading a whole log without the writer: safe on a live data directory (LMDB readers never block
// the writer) or on a copy.
#pragma once

#include <cstdint>
#include <filesystem>

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

// The decision state re-derived from the log alone (read-only).
Result<LedgerState> fold_log(const std::filesystem::path& dir, const ProgressFn& progress = {});

}  // namespace ledger

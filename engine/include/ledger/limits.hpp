// Every bound the engine enforces, with the reason for it (after TigerBeetle's constants.zig).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger::limits {

// Client-chosen ids (`W-EAST`, `D-1001`, `SKU-53-500ML`, idempotency keys): short enough to keep
// index keys small, long enough for UUIDs with a prefix.
inline constexpr std::size_t id_bytes_max = 64;
// Names and free-text reasons: a sentence, not a document.
inline constexpr std::size_t text_bytes_max = 200;
// One line's quantity: a whole year of the network is ~1e8 bottles, so 1e9 is never legitimate
// and keeps every sum of lines far from int64 overflow.
inline constexpr std::int64_t qty_max = 1'000'000'000;
// Money per field: 1e15 fen = 10 trillion yuan, beyond any order or credit line; sums stay < 2^63.
inline constexpr std::int64_t money_cents_max = 1'000'000'000'000'000;
// Lines per command: an order or transfer lists at most every SKU of the catalogue (200-500) once.
inline constexpr std::size_t lines_max = 512;
// Territories per dealer: there are 32 regions.
inline constexpr std::size_t territory_regions_max = 64;
// Case size: the largest case of bottles shipped.
inline constexpr std::int32_t case_units_max = 1000;

// Writer batching (group commit, after leveldb's BuildBatchGroup): a batch is capped in commands
// and in event bytes so one commit never holds callers for long nor dirties unbounded pages.
inline constexpr std::size_t batch_commands_max = 8192;
inline constexpr std::size_t batch_event_bytes_max = 8 << 20;
// Commands waiting for the writer: past this, submit() answers `overloaded` instead of queueing
// without bound (the HTTP layer turns that into 503 + Retry-After).
inline constexpr std::size_t queue_commands_max = 1 << 18;

// LMDB map: starts small, doubles on MDB_MAP_FULL up to the configured maximum.
inline constexpr std::size_t map_bytes_initial = std::size_t{1} << 30;
inline constexpr std::size_t map_bytes_max_default = std::size_t{1} << 40;

static_assert(qty_max * static_cast<std::int64_t>(lines_max) < (std::int64_t{1} << 62),
              "a command's summed quantity must not overflow");
static_assert(batch_commands_max <= queue_commands_max);

}  // namespace ledger::limits

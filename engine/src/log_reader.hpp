// Reading the log back: every record is checked (engine/log_format.md, "Reading") before use.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "events_generated.h"
#include "ledger/hash.hpp"
#include "ledger/options.hpp"
#include "ledger/result.hpp"
#include "log_store.hpp"

namespace ledger {

// Verifier bounds for one event: the schema nests at most ~4 deep and an event holds at most
// lines_max lines of a few tables each.
inline constexpr unsigned flatbuffer_depth_max = 16;
inline constexpr unsigned flatbuffer_tables_max = 16 * 1024;

// Checks the FlatBuffer of an event (identifier, bounds, every offset). Safe on untrusted bytes.
// REQUIRES: `bytes` is 8-byte aligned.
bool verify_event_buffer(std::span<const std::uint8_t> bytes);

// Checks one stored record against its key and its predecessor's hash, and copies the event into
// `aligned` (LMDB values are only 2-byte aligned; FlatBuffers wants 8). On success `*event` points
// into `aligned` and `*hash` is the record's chain hash.
Status check_record(std::uint64_t seq, const Hash32& prev_hash, std::span<const std::uint8_t> record,
                    Sha256& hasher, std::vector<std::uint64_t>& aligned, const fb::Event** event, Hash32* hash);

using EventVisitor = std::function<Status(const fb::Event& event, const Hash32& hash)>;

// Walks the whole log in order from seq 1, checking each record, then calling `visit`. Stops at the
// first failure: a corruption error names the sequence number in details["seq"].
Status walk_log(const LogStore& store, const EventVisitor& visit, const ProgressFn& progress = {});
// The same from `from_seq` on (>= 1): the first record is checked against its predecessor's stored
// hash. Progress counts the events from from_seq.
Status walk_log_from(const LogStore& store, std::uint64_t from_seq, const EventVisitor& visit,
                     const ProgressFn& progress = {});

// Visits events [from_seq, ...] (at most `limit`) until `visit` returns false; each record is checked
// against its predecessor's stored hash.
// As read_log_range, also handing over each event's stored bytes (valid during the call only).
Status read_log_records(const LogStore& store, std::uint64_t from_seq, std::size_t limit,
                        const std::function<bool(const fb::Event&, const Hash32&, std::span<const std::uint8_t>)>& visit);
Status read_log_range(const LogStore& store, std::uint64_t from_seq, std::size_t limit,
                      const std::function<bool(const fb::Event&, const Hash32&)>& visit);

// Number of events in the log (the last key), 0 when empty.
Result<std::uint64_t> count_events(const LogStore& store);

}  // namespace ledger

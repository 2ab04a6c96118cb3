// Snapshots: a projection's state (or the engine's decision state, LedgerState) written to a file
// with the log position it was taken at, so that a restart folds only the events after it instead
// of the whole log. A snapshot is an optimisation, never the truth: one that is damaged, of another
// code version or of another history (its chain hash is not the log's at its seq) is ignored and the
// whole log is folded.
//
// File DIR/NAME.snap (little endian):
//   magic "LEDGSNP1" | name (u64 length + bytes) | version u32 | seq u64 | chain hash (32 bytes)
//   | payload length u64 | payload | SHA-256 over every byte before it (32 bytes)
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/hash.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/result.hpp"

namespace ledger {

// Little-endian binary encoder for snapshot payloads.
class SnapshotWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void str(std::string_view s);  // u64 length + bytes
  void hash(const Hash32& h);
  std::string& bytes() { return out_; }  // the payload so far

 private:
  std::string out_;
};

// Decoder with bounds checks: any read past the end or any implausible length latches failure
// (ok() false) and returns zero/empty values; never UB on hostile bytes.
class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view payload) : in_(payload) {}

  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  bool boolean();  // 0 or 1; any other byte fails
  std::string str();
  Hash32 hash();
  // A count of elements that follow, each at least `min_bytes_each` bytes: fails (and returns 0)
  // when the rest of the payload cannot hold that many, so a corrupt count never allocates gigabytes.
  std::uint64_t count(std::size_t min_bytes_each = 1);

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }  // bytes consumed, for error messages
  void fail() { ok_ = false; }

 private:
  // The next n bytes, or null (and failed) when there are fewer.
  const unsigned char* take(std::size_t n);

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

struct SnapshotHeader {
  std::string name;           // e.g. "ledger", "sales_board"
  std::uint32_t version = 0;  // the projection's code version; a different version is never loaded
  std::uint64_t seq = 0;      // last event applied
  Hash32 chain_hash{};        // the log's chain hash at seq: a snapshot of another history is never loaded
};

// DIR/NAME.snap, written atomically: NAME.snap.tmp, fsync, rename, fsync(DIR). Creates DIR when
// missing. NAME is 1..64 bytes of [A-Za-z0-9_.-] (invalid_argument otherwise); storage_error when the
// file cannot be written (the previous snapshot, if any, is then left as it was).
Status write_snapshot_file(const std::filesystem::path& dir, const SnapshotHeader& header, std::string_view payload);

// Reads DIR/NAME.snap and checks magic, lengths (truncation), SHA-256, and that the stored name is NAME.
// Errors: ErrorCode::unknown_id when the file is absent (ledger has no separate not_found code:
// unknown_id is "names something that does not exist"); ErrorCode::corruption with a message saying
// what is wrong; storage_error when it cannot be read.
struct SnapshotFile {
  SnapshotHeader header;
  std::string payload;
};
Result<SnapshotFile> read_snapshot_file(const std::filesystem::path& dir, std::string_view name);
// True for the error of read_snapshot_file / load_ledger_snapshot that means "there is no snapshot".
inline bool snapshot_missing(const Error& e) { return e.code == ErrorCode::unknown_id; }

// Where a data directory keeps its snapshots: DATA_DIR/snapshots.
std::filesystem::path snapshot_dir(const std::filesystem::path& data_dir);

// ---- the LedgerState codec (engine/src/state_codec.cpp)
//
// decode_state(encode_state(s)) is the same state exactly: render() equal and every internal table
// identical (interned names in their order, balances, orders with every field including `held`, ...),
// so folding further events into both gives identical results. The same state always encodes to the
// same bytes (hashed tables are written in key order). decode fails (corruption) on malformed input
// or trailing bytes, and then leaves `state` unspecified (the caller discards it).
//
// Bump the version whenever the encoding changes (a field added to a record: the codec's
// static_asserts on the records' sizes name the structs to look at).
constexpr std::uint32_t ledger_state_snapshot_version = 3;  // 2: marketing, dealer payments; 3: spend by order
void encode_state(const LedgerState& state, SnapshotWriter& out);
Status decode_state(SnapshotReader& in, LedgerState& state);

// The file name of the decision state's snapshot: snapshot_dir(data_dir)/ledger.snap.
inline constexpr std::string_view ledger_snapshot_name = "ledger";

// Writes snapshot_dir(data_dir)/ledger.snap for `state` (header seq and chain hash from
// state.last_seq() and state.chain_head()).
Status save_ledger_snapshot(const std::filesystem::path& data_dir, const LedgerState& state);

// Loads ledger.snap if it is sound, of ledger_state_snapshot_version, and its (seq, chain_hash)
// matches the log as read through `chain_hash_at(seq)` (nullopt when the log has no such seq). On any
// problem returns an error saying why (the caller then folds the whole log): unknown_id when there is
// no file; corruption when it is damaged; illegal_transition when it is sound but of another
// version or another history.
Result<LedgerState> load_ledger_snapshot(const std::filesystem::path& data_dir,
                                         const std::function<std::optional<Hash32>(std::uint64_t)>& chain_hash_at);

}  // namespace ledger

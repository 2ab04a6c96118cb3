// The LMDB environment and its four databases (engine/log_format.md). Thin RAII over the C API
// that turns LMDB's return codes into Status values with a sentence an operator can act on.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string_view>

#include "ledger/hash.hpp"
#include "ledger/options.hpp"
#include "ledger/result.hpp"

namespace ledger {

struct StoreOptions {
  std::filesystem::path dir;
  bool read_only = false;
  Durability durability = Durability::fsync_per_batch;
  std::size_t map_bytes_initial = 0;  // 0: limits::map_bytes_initial
  std::size_t map_bytes_max = 0;      // 0: limits::map_bytes_max_default
};

inline constexpr std::size_t record_hash_bytes = 32;

struct CommandRecord {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  Hash32 fingerprint{};
};

Error lmdb_error(int rc, std::string_view doing);

class LogStore {
 public:
  static Result<std::unique_ptr<LogStore>> open(const StoreOptions& options);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  MDB_env* env() const { return env_; }
  MDB_dbi events() const { return events_; }
  MDB_dbi streams() const { return streams_; }
  MDB_dbi commands() const { return commands_; }

  std::size_t map_bytes() const;
  std::size_t used_bytes() const;
  // Doubles the map, up to map_bytes_max. Waits for every read transaction of this process to end
  // (LMDB remaps the file: a reader's pointers would dangle). REQUIRES: no write transaction open.
  Status grow_map();
  std::shared_mutex& remap_mutex() const { return remap_mu_; }
  // Clears reader slots left by dead processes (they pin old pages and make the map grow).
  int clear_stale_readers();

 private:
  LogStore() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi events_ = 0, streams_ = 0, commands_ = 0, meta_ = 0;
  StoreOptions options_;
  mutable std::shared_mutex remap_mu_;  // read transactions hold it shared; grow_map exclusive
};

// A transaction, aborted on destruction unless committed.
class Txn {
 public:
  static Result<Txn> begin(const LogStore& store, bool write);
  Txn(Txn&& other) noexcept : txn_(other.txn_), remap_lock_(std::move(other.remap_lock_)) { other.txn_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  ~Txn() { abort(); }

  MDB_txn* raw() const { return txn_; }
  Status commit();
  void abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
    if (remap_lock_.owns_lock()) remap_lock_.unlock();
  }

 private:
  Txn(MDB_txn* txn, std::shared_lock<std::shared_mutex> lock) : txn_(txn), remap_lock_(std::move(lock)) {}
  MDB_txn* txn_;
  std::shared_lock<std::shared_mutex> remap_lock_;  // read transactions only
};

void put_u64_be(std::uint8_t* out, std::uint64_t value);
std::uint64_t get_u64_be(const std::uint8_t* in);

// ---- typed access (engine/log_format.md)
// Appends an event record. REQUIRES: seq is one past the last stored one.
Status put_event(const LogStore& store, Txn& txn, std::uint64_t seq, const Hash32& hash,
                 std::span<const std::uint8_t> event_bytes);
Status put_stream_entry(const LogStore& store, Txn& txn, std::string_view stream, std::uint64_t version,
                        std::uint64_t seq);
// Inserts the command record unless the id exists; then returns the stored one instead.
Result<std::optional<CommandRecord>> put_command_if_new(const LogStore& store, Txn& txn, std::string_view command_id,
                                                        const CommandRecord& record);
Result<std::optional<CommandRecord>> get_command(const LogStore& store, Txn& txn, std::string_view command_id);
// The sequence number indexed for (stream, version), if any.
Result<std::optional<std::uint64_t>> get_stream_entry(const LogStore& store, Txn& txn, std::string_view stream,
                                                      std::uint64_t version);
// The raw record of event `seq` (hash + bytes), valid until the transaction ends.
Result<std::optional<std::span<const std::uint8_t>>> get_event_record(const LogStore& store, Txn& txn,
                                                                      std::uint64_t seq);

}  // namespace ledger

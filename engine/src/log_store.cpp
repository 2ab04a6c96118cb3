#include "log_store.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include "ledger/limits.hpp"

namespace ledger {

namespace {
constexpr std::string_view format_key = "format";
constexpr std::string_view format_version = "1";
constexpr unsigned int dbs_max = 8;
constexpr unsigned int readers_max = 512;  // server threads + CLI readers + subscribers, with room

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
MDB_val val(std::span<std::uint8_t> s) { return MDB_val{s.size(), s.data()}; }
}  // namespace

Error lmdb_error(int rc, std::string_view doing) {
  if (rc == MDB_MAP_FULL) {
    return make_error(ErrorCode::storage_full,
                      fmt::format("{}: the log's LMDB map is full; raise the map limit (--map-max-bytes)", doing))
        .with("lmdb_rc", rc);
  }
  if (rc == ENOSPC || rc == EDQUOT) {
    return make_error(ErrorCode::storage_full, fmt::format("{}: the disk is full; free space and retry", doing));
  }
  if (rc == EFBIG) {
    return make_error(ErrorCode::storage_full,
                      fmt::format("{}: the file size limit is reached (ulimit -f); raise it and retry", doing));
  }
  if (rc == EIO) {
    // LMDB reports a short write as EIO: that is what a full disk usually looks like.
    return make_error(ErrorCode::storage_error,
                      fmt::format("{}: write failed (I/O error, or a short write on a full disk); check free space "
                                  "(df) and the kernel log",
                                  doing))
        .with("lmdb_rc", rc);
  }
  return make_error(ErrorCode::storage_error, fmt::format("{}: {}", doing, mdb_strerror(rc))).with("lmdb_rc", rc);
}

void put_u64_be(std::uint8_t* out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t get_u64_be(const std::uint8_t* in) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

Result<std::unique_ptr<LogStore>> LogStore::open(const StoreOptions& options) {
  std::unique_ptr<LogStore> store(new LogStore());
  store->options_ = options;
  if (store->options_.map_bytes_initial == 0) store->options_.map_bytes_initial = limits::map_bytes_initial;
  if (store->options_.map_bytes_max == 0) store->options_.map_bytes_max = limits::map_bytes_max_default;
  if (store->options_.map_bytes_initial > store->options_.map_bytes_max) {
    store->options_.map_bytes_initial = store->options_.map_bytes_max;
  }

  std::error_code ec;
  if (!options.read_only) {
    std::filesystem::create_directories(options.dir, ec);
    if (ec) {
      return make_error(ErrorCode::storage_error,
                        fmt::format("cannot create data directory {}: {}", options.dir.string(), ec.message()));
    }
  } else if (!std::filesystem::exists(options.dir / "data.mdb", ec)) {
    return make_error(ErrorCode::unknown_id, fmt::format("no ledger in {} (data.mdb is missing)", options.dir.string()));
  }

  if (int rc = mdb_env_create(&store->env_); rc != 0) return lmdb_error(rc, "creating the LMDB environment");
  mdb_env_set_maxdbs(store->env_, dbs_max);
  mdb_env_set_maxreaders(store->env_, readers_max);
  mdb_env_set_mapsize(store->env_, store->options_.map_bytes_initial);
  unsigned int flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.durability == Durability::os_buffered) flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(store->env_, options.dir.c_str(), flags, 0644); rc != 0) {
    return lmdb_error(rc, fmt::format("opening the log in {}", options.dir.string()));
  }
  store->clear_stale_readers();

  auto txn = Txn::begin(*store, !options.read_only);
  if (!txn) return txn.take_error();
  unsigned int db_flags = options.read_only ? 0 : MDB_CREATE;
  struct Named {
    const char* name;
    MDB_dbi* dbi;
  } dbs[] = {{"events", &store->events_}, {"streams", &store->streams_}, {"commands", &store->commands_},
             {"meta", &store->meta_}};
  for (auto& db : dbs) {
    int rc = mdb_dbi_open(txn->raw(), db.name, db_flags, db.dbi);
    if (rc == MDB_NOTFOUND) {
      return make_error(ErrorCode::unknown_id, fmt::format("no ledger in {} (no '{}' database)", options.dir.string(), db.name));
    }
    if (rc != 0) return lmdb_error(rc, fmt::format("opening database '{}'", db.name));
  }

  MDB_val key = val(format_key);
  MDB_val found{};
  int rc = mdb_get(txn->raw(), store->meta_, &key, &found);
  if (rc == MDB_NOTFOUND && !options.read_only) {
    MDB_val v = val(format_version);
    if (int put_rc = mdb_put(txn->raw(), store->meta_, &key, &v, 0); put_rc != 0) {
      return lmdb_error(put_rc, "writing the format version");
    }
  } else if (rc != 0 && rc != MDB_NOTFOUND) {
    return lmdb_error(rc, "reading the format version");
  } else if (rc == 0 && std::string_view(static_cast<const char*>(found.mv_data), found.mv_size) != format_version) {
    return make_error(ErrorCode::corruption,
                      fmt::format("{} holds log format '{}'; this engine reads format {}", options.dir.string(),
                                  std::string_view(static_cast<const char*>(found.mv_data), found.mv_size),
                                  format_version));
  }
  if (auto st = txn->commit(); !st) return st.take_error();
  return store;
}

LogStore::~LogStore() {
  if (env_ != nullptr) mdb_env_close(env_);
}

std::size_t LogStore::map_bytes() const {
  std::shared_lock lock(remap_mu_);
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::size_t LogStore::used_bytes() const {
  std::shared_lock lock(remap_mu_);
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &stat);
  return (info.me_last_pgno + 1) * stat.ms_psize;
}

Status LogStore::grow_map() {
  std::size_t current = map_bytes();
  if (current >= options_.map_bytes_max) {
    return make_error(ErrorCode::storage_full,
                      fmt::format("the log's LMDB map is full at its limit of {} bytes; raise --map-max-bytes",
                                  options_.map_bytes_max))
        .with("map_bytes", static_cast<std::int64_t>(current));
  }
  std::size_t next = std::min(current * 2, options_.map_bytes_max);
  std::unique_lock lock(remap_mu_);
  if (int rc = mdb_env_set_mapsize(env_, next); rc != 0) return lmdb_error(rc, "growing the LMDB map");
  return Ok{};
}

int LogStore::clear_stale_readers() {
  int dead = 0;
  mdb_reader_check(env_, &dead);
  return dead;
}

Result<Txn> Txn::begin(const LogStore& store, bool write) {
  std::shared_lock<std::shared_mutex> lock;
  if (!write) lock = std::shared_lock(store.remap_mutex());
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(store.env(), nullptr, write ? 0 : MDB_RDONLY, &txn);
  if (rc != 0) return lmdb_error(rc, write ? "beginning a write transaction" : "beginning a read transaction");
  return Txn(txn, std::move(lock));
}

Status Txn::commit() {
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;  // committed or not, LMDB has freed it
  if (remap_lock_.owns_lock()) remap_lock_.unlock();
  if (rc != 0) return lmdb_error(rc, "committing");
  return Ok{};
}

Status put_event(const LogStore& store, Txn& txn, std::uint64_t seq, const Hash32& hash,
                 std::span<const std::uint8_t> event_bytes) {
  std::uint8_t key_bytes[8];
  put_u64_be(key_bytes, seq);
  MDB_val key{sizeof key_bytes, key_bytes};
  MDB_val data{record_hash_bytes + event_bytes.size(), nullptr};
  // MDB_RESERVE: copy the record straight into the page instead of through a temporary.
  if (int rc = mdb_put(txn.raw(), store.events(), &key, &data, MDB_APPEND | MDB_RESERVE); rc != 0) {
    return lmdb_error(rc, fmt::format("appending event {}", seq));
  }
  auto* out = static_cast<std::uint8_t*>(data.mv_data);
  std::memcpy(out, hash.data(), record_hash_bytes);
  std::memcpy(out + record_hash_bytes, event_bytes.data(), event_bytes.size());
  return Ok{};
}

namespace {
constexpr std::size_t stream_key_bytes_max = limits::id_bytes_max * 2 + 16;

// stream bytes, 0x00, version u64 big-endian (engine/log_format.md). Returns the key's length.
std::size_t stream_key(std::uint8_t (&key)[stream_key_bytes_max], std::string_view stream, std::uint64_t version) {
  assert(stream.size() + 9 <= sizeof key);
  std::memcpy(key, stream.data(), stream.size());
  key[stream.size()] = 0;
  put_u64_be(key + stream.size() + 1, version);
  return stream.size() + 9;
}
}  // namespace

Result<std::optional<std::uint64_t>> get_stream_entry(const LogStore& store, Txn& txn, std::string_view stream,
                                                      std::uint64_t version) {
  if (stream.size() + 9 > stream_key_bytes_max) return std::optional<std::uint64_t>{};
  std::uint8_t key_bytes[stream_key_bytes_max];
  MDB_val key{stream_key(key_bytes, stream, version), key_bytes};
  MDB_val data{};
  int rc = mdb_get(txn.raw(), store.streams(), &key, &data);
  if (rc == MDB_NOTFOUND) return std::optional<std::uint64_t>{};
  if (rc != 0) return lmdb_error(rc, fmt::format("looking up stream {} version {}", stream, version));
  if (data.mv_size != 8) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>(get_u64_be(static_cast<const std::uint8_t*>(data.mv_data)));
}

Status put_stream_entry(const LogStore& store, Txn& txn, std::string_view stream, std::uint64_t version,
                        std::uint64_t seq) {
  std::uint8_t key_bytes[stream_key_bytes_max];
  std::size_t key_size = stream_key(key_bytes, stream, version);
  std::uint8_t seq_bytes[8];
  put_u64_be(seq_bytes, seq);
  MDB_val key{key_size, key_bytes};
  MDB_val data{sizeof seq_bytes, seq_bytes};
  if (int rc = mdb_put(txn.raw(), store.streams(), &key, &data, MDB_NOOVERWRITE); rc != 0) {
    return lmdb_error(rc, fmt::format("indexing stream {} version {}", stream, version));
  }
  return Ok{};
}

namespace {
constexpr std::size_t command_record_bytes = 8 + 8 + 32;

CommandRecord decode_command(const MDB_val& data) {
  CommandRecord r;
  const auto* p = static_cast<const std::uint8_t*>(data.mv_data);
  r.first_seq = get_u64_be(p);
  r.last_seq = get_u64_be(p + 8);
  std::memcpy(r.fingerprint.data(), p + 16, 32);
  return r;
}
}  // namespace

Result<std::optional<CommandRecord>> put_command_if_new(const LogStore& store, Txn& txn, std::string_view command_id,
                                                        const CommandRecord& record) {
  std::uint8_t bytes[command_record_bytes];
  put_u64_be(bytes, record.first_seq);
  put_u64_be(bytes + 8, record.last_seq);
  std::memcpy(bytes + 16, record.fingerprint.data(), 32);
  MDB_val key = val(command_id);
  MDB_val data = val(std::span<std::uint8_t>(bytes));
  // One descent both checks and inserts: on MDB_KEYEXIST, `data` points at the stored record.
  int rc = mdb_put(txn.raw(), store.commands(), &key, &data, MDB_NOOVERWRITE);
  if (rc == 0) return std::optional<CommandRecord>{};
  if (rc == MDB_KEYEXIST) {
    if (data.mv_size != command_record_bytes) {
      return make_error(ErrorCode::corruption, fmt::format("command record '{}' has {} bytes", command_id, data.mv_size));
    }
    return std::optional<CommandRecord>(decode_command(data));
  }
  return lmdb_error(rc, fmt::format("indexing command {}", command_id));
}

Result<std::optional<CommandRecord>> get_command(const LogStore& store, Txn& txn, std::string_view command_id) {
  MDB_val key = val(command_id);
  MDB_val data{};
  int rc = mdb_get(txn.raw(), store.commands(), &key, &data);
  if (rc == MDB_NOTFOUND) return std::optional<CommandRecord>{};
  if (rc != 0) return lmdb_error(rc, fmt::format("looking up command {}", command_id));
  if (data.mv_size != command_record_bytes) {
    return make_error(ErrorCode::corruption, fmt::format("command record '{}' has {} bytes", command_id, data.mv_size));
  }
  return std::optional<CommandRecord>(decode_command(data));
}

Result<std::optional<std::span<const std::uint8_t>>> get_event_record(const LogStore& store, Txn& txn,
                                                                      std::uint64_t seq) {
  std::uint8_t key_bytes[8];
  put_u64_be(key_bytes, seq);
  MDB_val key{sizeof key_bytes, key_bytes};
  MDB_val data{};
  int rc = mdb_get(txn.raw(), store.events(), &key, &data);
  if (rc == MDB_NOTFOUND) return std::optional<std::span<const std::uint8_t>>{};
  if (rc != 0) return lmdb_error(rc, fmt::format("reading event {}", seq));
  return std::optional<std::span<const std::uint8_t>>(
      std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data.mv_data), data.mv_size));
}

}  // namespace ledger

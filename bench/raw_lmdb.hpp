// The raw LMDB baselines' common part: the engine's environment settings and a cursor scan of the
// events database, the floor any reader of the log is compared against.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "scratch.hpp"

namespace bench {

inline void check_lmdb(int rc, std::string_view doing) {
  if (rc != 0) die(fmt::format("{}: {}", doing, mdb_strerror(rc)));
}

struct RawEnv {
  MDB_env* env = nullptr;
  MDB_dbi events = 0;
  RawEnv() = default;
  RawEnv(const RawEnv&) = delete;
  RawEnv& operator=(const RawEnv&) = delete;
  ~RawEnv() {
    if (env != nullptr) mdb_env_close(env);
  }
};

// The engine's environment settings (engine/src/log_store.cpp): MDB_NOTLS, 8 databases, default sync.
inline void open_raw(RawEnv& raw, const std::filesystem::path& dir, bool read_only, std::size_t map_bytes) {
  if (!read_only) std::filesystem::create_directories(dir);
  check_lmdb(mdb_env_create(&raw.env), "mdb_env_create");
  mdb_env_set_maxdbs(raw.env, 8);
  mdb_env_set_maxreaders(raw.env, 512);
  if (!read_only) mdb_env_set_mapsize(raw.env, map_bytes);
  check_lmdb(mdb_env_open(raw.env, dir.c_str(), MDB_NOTLS | (read_only ? MDB_RDONLY : 0), 0644),
             fmt::format("opening {}", dir.string()));
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(raw.env, nullptr, read_only ? MDB_RDONLY : 0, &txn), "mdb_txn_begin");
  check_lmdb(mdb_dbi_open(txn, "events", read_only ? 0 : MDB_CREATE, &raw.events), "opening the events database");
  check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
}

struct ScanResult {
  double seconds = 0;  // environment opening included, as the readers it is compared with open theirs
  std::uint64_t events = 0, bytes = 0;
};

// Reads every record of the events database through a cursor, touching each value's first and last
// byte (bench_engine's baseline), or with `every_byte` summing all of its bytes (8 at a time).
inline ScanResult raw_scan(const std::filesystem::path& dir, bool every_byte = false) {
  auto start = SteadyClock::now();
  RawEnv raw;
  open_raw(raw, dir, true, 0);
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(raw.env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
  MDB_cursor* cursor = nullptr;
  check_lmdb(mdb_cursor_open(txn, raw.events, &cursor), "mdb_cursor_open");
  ScanResult r;
  std::uint64_t checksum = 0;
  MDB_val key{}, data{};
  for (int rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
    ++r.events;
    r.bytes += data.mv_size;
    const auto* p = static_cast<const std::uint8_t*>(data.mv_data);
    if (every_byte) {
      std::size_t i = 0;
      for (; i + 8 <= data.mv_size; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        checksum += w;
      }
      for (; i < data.mv_size; ++i) checksum += p[i];
    } else {
      checksum += p[0] + p[data.mv_size - 1];
    }
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  r.seconds = seconds_since(start);
  if (checksum == 1) fmt::print(stderr, "\n");  // keeps the reads observable
  return r;
}

}  // namespace bench

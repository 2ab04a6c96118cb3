// Damaging a log outside the engine, like an attacker or a bad disk would (corruption and replay tests).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "log_store.hpp"

namespace test {

using namespace ledger;

// Runs `damage(store, txn)` in a write transaction on the log, outside the engine, like an attacker
// or a bad disk would, and commits.
template <typename F>
void tamper(const std::filesystem::path& dir, F&& damage) {
  StoreOptions options;
  options.dir = dir;
  auto store = LogStore::open(options);
  REQUIRE(store.ok());
  auto txn = Txn::begin(**store, true);
  REQUIRE(txn.ok());
  damage(**store, *txn);
  REQUIRE(txn->commit().ok());
}

// Rewrites the stored record of event `seq` through `edit` (deletes it when `edit` returns false).
template <typename F>
void edit_record(const std::filesystem::path& dir, std::uint64_t seq, F&& edit) {
  tamper(dir, [&](LogStore& store, Txn& txn) {
    auto record = get_event_record(store, txn, seq);
    REQUIRE((record.ok() && *record));
    std::vector<std::uint8_t> bytes((*record)->begin(), (*record)->end());
    std::uint8_t key[8];
    put_u64_be(key, seq);
    MDB_val k{8, key};
    if (edit(bytes)) {
      MDB_val v{bytes.size(), bytes.data()};
      REQUIRE(mdb_put(txn.raw(), store.events(), &k, &v, 0) == 0);
    } else {
      REQUIRE(mdb_del(txn.raw(), store.events(), &k, nullptr) == 0);
    }
  });
}

inline std::vector<std::uint8_t> read_record(const std::filesystem::path& dir, std::uint64_t seq) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  auto store = LogStore::open(options);
  REQUIRE(store.ok());
  auto txn = Txn::begin(**store, false);
  auto record = get_event_record(**store, *txn, seq);
  REQUIRE((record.ok() && *record));
  return {(*record)->begin(), (*record)->end()};
}

}  // namespace test

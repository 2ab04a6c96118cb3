// Damage to the log is detected, with the sequence number where it is: a flipped byte anywhere in
// a stored event (hash, envelope or body), a deleted event, two events swapped, a truncated record,
// a damaged idempotency index. Opening the engine refuses such a log the same way verify does.
#include <cstring>

#include "log_store.hpp"
#include "support.hpp"
#include "tamper.hpp"

using namespace ledger;
using test::edit_record;
using test::read_record;
using test::tamper;

namespace {

// Both verify and opening the engine must name `seq`.
void expect_corruption_at(const std::filesystem::path& dir, std::uint64_t seq) {
  auto report = verify_log(dir);
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ErrorCode::corruption);
  CHECK_MESSAGE(report.error().number("seq") == std::int64_t(seq), report.error().to_string());
  EngineOptions options;
  options.dir = dir;
  auto engine = Engine::open(options);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.error().code == ErrorCode::corruption);
  CHECK(engine.error().number("seq") == std::int64_t(seq));
}

struct Log {
  test::Harness h;
  std::uint64_t events = 0;
  Log() {
    h.small_network();
    h.ok(ReceiveStock{"W1", {{"A", 100, "LOT-7"}, {"B", 50, {}}}, "BATCH-1"}, "receipt-1");
    for (int i = 0; i < 20; ++i) {
      h.ok(ShipTransfer{fmt::format("T{}", i), "warehouse:W1", "store:S1", {{"A", 1, {}}}}, fmt::format("ship-{}", i));
    }
    events = h.engine->last_seq();
    h.close();
  }
};

}  // namespace

TEST_SUITE_BEGIN("corruption");

TEST_CASE("an intact log verifies, with its summary") {
  Log log;
  auto report = verify_log(log.h.dir.path());
  REQUIRE(report.ok());
  CHECK(report->events == log.events);
  CHECK(report->last_seq == log.events);
  CHECK(report->commands == 21);  // the receipt and 20 shipments carried ids
  CHECK(report->first_ts_us == test::t0_us);
}

TEST_CASE("flipping any single byte of a stored event is detected at that event") {
  Log log;
  const std::uint64_t seq = log.events - 5;  // a transfer in the middle of the log
  std::size_t size = read_record(log.h.dir.path(), seq).size();
  for (std::size_t offset = 0; offset < size; ++offset) {
    INFO("byte " << offset << " of " << size);
    auto flip = [&](std::vector<std::uint8_t>& b) {
      b[offset] ^= 0x01;
      return true;
    };
    edit_record(log.h.dir.path(), seq, flip);
    auto report = verify_log(log.h.dir.path());
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().number("seq") == std::int64_t(seq));
    edit_record(log.h.dir.path(), seq, flip);  // flip back
  }
  CHECK(verify_log(log.h.dir.path()).ok());
  // The engine refuses to open on such a log too, naming the event.
  edit_record(log.h.dir.path(), seq, [](auto& b) { b[40] ^= 0x80; return true; });
  expect_corruption_at(log.h.dir.path(), seq);
}

TEST_CASE("a byte flipped in the first and in the last event is detected there") {
  Log log;
  for (std::uint64_t seq : {std::uint64_t{1}, log.events}) {
    edit_record(log.h.dir.path(), seq, [](auto& b) { b[b.size() - 3] ^= 0x10; return true; });
    expect_corruption_at(log.h.dir.path(), seq);
    edit_record(log.h.dir.path(), seq, [](auto& b) { b[b.size() - 3] ^= 0x10; return true; });
  }
}

TEST_CASE("a deleted event is detected where the sequence breaks") {
  Log log;
  edit_record(log.h.dir.path(), 7, [](auto&) { return false; });
  expect_corruption_at(log.h.dir.path(), 7);
}

TEST_CASE("two events swapped are detected at the first of them") {
  Log log;
  auto a = read_record(log.h.dir.path(), 12);
  auto b = read_record(log.h.dir.path(), 13);
  edit_record(log.h.dir.path(), 12, [&](auto& bytes) { bytes = b; return true; });
  edit_record(log.h.dir.path(), 13, [&](auto& bytes) { bytes = a; return true; });
  expect_corruption_at(log.h.dir.path(), 12);
}

TEST_CASE("a truncated record and an empty record are detected") {
  Log log;
  edit_record(log.h.dir.path(), 9, [](auto& b) { b.resize(b.size() / 2); return true; });
  expect_corruption_at(log.h.dir.path(), 9);
  edit_record(log.h.dir.path(), 9, [](auto& b) { b.resize(3); return true; });
  expect_corruption_at(log.h.dir.path(), 9);
}

TEST_CASE("a rewritten event with a correct hash but a forged predecessor is detected") {
  // Re-hashing a record after changing it does not help: its successor names the old hash.
  Log log;
  const std::uint64_t seq = 10;
  edit_record(log.h.dir.path(), seq, [&](auto& b) {
    b[b.size() - 1] ^= 0x01;
    Sha256 hasher;
    auto prev = read_record(log.h.dir.path(), seq - 1);
    Hash32 prev_hash;
    std::memcpy(prev_hash.data(), prev.data(), 32);
    Hash32 h = chain_hash(hasher, prev_hash, std::span<const std::uint8_t>(b).subspan(32));
    std::memcpy(b.data(), h.data(), 32);
    return true;
  });
  auto report = verify_log(log.h.dir.path());
  REQUIRE_FALSE(report.ok());
  // Either the body no longer parses (seq 10) or the chain breaks at its successor (seq 11).
  CHECK(report.error().number("seq") >= std::int64_t(seq));
  CHECK(report.error().number("seq") <= std::int64_t(seq + 1));
}

TEST_CASE("a damaged idempotency index is detected by verify") {
  Log log;
  tamper(log.h.dir.path(), [](LogStore& store, Txn& txn) {
    MDB_val k{6, const_cast<char*>("ship-3")};
    REQUIRE(mdb_del(txn.raw(), store.commands(), &k, nullptr) == 0);
  });
  auto report = verify_log(log.h.dir.path());
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ErrorCode::corruption);
  CHECK(report.error().message.find("ship-3") != std::string::npos);
}

TEST_CASE("a damaged stream index is detected by verify, at the event it no longer names") {
  Log log;
  tamper(log.h.dir.path(), [](LogStore& store, Txn& txn) {
    // transfer:T3's first (and only) version: point it at another event.
    auto seq = get_stream_entry(store, txn, "transfer:T3", 1);
    REQUIRE((seq.ok() && *seq));
    std::string key = "transfer:T3";
    key.push_back('\0');
    std::uint8_t version[8];
    put_u64_be(version, 1);
    key.append(reinterpret_cast<const char*>(version), 8);
    std::uint8_t wrong[8];
    put_u64_be(wrong, **seq - 1);
    MDB_val k{key.size(), key.data()}, v{8, wrong};
    REQUIRE(mdb_put(txn.raw(), store.streams(), &k, &v, 0) == 0);
  });
  auto report = verify_log(log.h.dir.path());
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ErrorCode::corruption);
  CHECK(report.error().message.find("transfer:T3") != std::string::npos);
}

TEST_SUITE_END();

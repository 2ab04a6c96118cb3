// bench_engine: the engine's write and read paths against raw LMDB, measured in one run.
// One JSON object per line on stdout; progress and diagnostics on stderr.
//
//   append_transfers              N ShipTransfer commands (1 line, unique id, command_id set) through
//                                 Engine::submit from one producer, fsync per batch; baseline: the same
//                                 event records written by raw LMDB puts in transactions of the engine's
//                                 average batch size (raw_lmdb_put)
//   raw_lmdb_txn_per_event        the same records, one durable transaction per event (small count)
//   append_transfers_os_buffered  as append_transfers with Durability::os_buffered; ratio to append_transfers
//   open_fold, verify             Engine::open and verify_log over the log of append_transfers; baseline:
//                                 a raw LMDB cursor scan of the events database (raw_scan)
#include <fmt/format.h>
#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "answers.hpp"
#include "ledger/demo_network.hpp"
#include "ledger/engine.hpp"
#include "ledger/limits.hpp"
#include "ledger/verify.hpp"
#include "log_store.hpp"
#include "raw_lmdb.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using namespace ledger;
using bench::check_lmdb;
using bench::Completions;
using bench::die;
using bench::emit;
using bench::num;
using bench::open_raw;
using bench::parse_u64;
using bench::RawEnv;
using bench::run_all;
using bench::seconds_since;
using bench::SteadyClock;

namespace {

// ---------------------------------------------------------------- options and helpers

struct Options {
  std::uint64_t events = 2'000'000;
  std::size_t batch = limits::batch_commands_max;
  fs::path dir;       // empty: a fresh directory under /tmp
  bool keep = false;  // keep the scratch data (for profiling)
  // Large enough that no run of the default size hits MDB_MAP_FULL: a map growth aborts the batch and
  // refolds the whole log (Engine::Impl::reload_state), which would be measured as part of the appends.
  // 0: sized from --events (about 3x what the log of append_transfers takes).
  std::size_t map_bytes = 0;
  double txn_per_event_seconds_max = 10.0;
  std::uint64_t txn_per_event_count = 2000;
};

void usage() {
  fmt::print(stderr,
             "usage: bench_engine [--events N] [--batch N] [--dir DIR] [--keep] [--map-bytes N]\n"
             "  --events N     transfers measured per append workload (default 2000000)\n"
             "  --batch N      commands per submission wave; at most 4*N in flight (default 8192)\n"
             "  --dir DIR      scratch directory (default: a fresh one under /tmp, removed at the end)\n"
             "  --keep         keep the scratch data\n"
             "  --map-bytes N  initial LMDB map size for the engine and the raw baselines\n"
             "                 (default: 2 KiB per event, at least 1 GiB; the engine's own default is 1 GiB)\n");
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
        die(fmt::format("{} needs a value", a));
      }
      return argv[++i];
    };
    if (a == "--events") {
      o.events = parse_u64("--events", next());
    } else if (a == "--batch") {
      o.batch = parse_u64("--batch", next());
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--map-bytes") {
      o.map_bytes = parse_u64("--map-bytes", next());
    } else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      usage();
      die(fmt::format("unknown argument '{}'", a));
    }
  }
  if (o.map_bytes == 0) o.map_bytes = std::max<std::size_t>(limits::map_bytes_initial, (o.events + 65536) * 2048);
  return o;
}

// ---------------------------------------------------------------- the workload

const demo::NetworkSize network{32, 8, 200, 1000, 300};

std::unique_ptr<Engine> open_engine(const fs::path& dir, Durability durability, const Options& o) {
  EngineOptions options;
  options.dir = dir;
  options.durability = durability;
  options.map_bytes_initial = o.map_bytes;
  auto opened = Engine::open(options);
  if (!opened) die(fmt::format("opening the engine in {}: {}", dir.string(), opened.error().to_string()));
  return std::move(*opened);
}

// Submits `commands` in waves of `batch`, keeping at most `in_flight_max` unanswered, and waits for all.
// `make(i)` builds command i. Returns the seconds from the first submit to the last answer.
template <typename Make>
double submit_all(Engine& engine, std::uint64_t count, std::size_t batch, std::uint64_t in_flight_max, Make&& make,
                  const char* what) {
  Completions counts;
  counts.target = count;
  counts.notify_every = 256;
  Completions* c = &counts;
  auto start = SteadyClock::now();
  auto last_report = start;
  std::uint64_t submitted = 0;
  while (submitted < count) {
    std::uint64_t wave = std::min<std::uint64_t>(batch, count - submitted);
    counts.wait_in_flight(submitted + wave, in_flight_max);
    for (std::uint64_t k = 0; k < wave; ++k, ++submitted) {
      engine.submit(make(submitted), [c](const CommandResult& r) { c->done(r); });
    }
    if (seconds_since(last_report) >= 2.0) {
      last_report = SteadyClock::now();
      fmt::print(stderr, "  {}: {} / {} answered\n", what, counts.completed.load(), count);
    }
  }
  counts.wait_in_flight(count, 0);
  double seconds = seconds_since(start);
  // The writer answers a batch's commands before it adds the batch to its stats: a no-op inspection
  // runs after that, so stats() read after this call cover every answered command.
  engine.inspect([](const LedgerState&) {});
  if (std::uint64_t r = counts.rejected.load(); r != 0) {
    std::lock_guard lock(counts.mu);
    die(fmt::format("{}: {} of {} commands rejected; first: {}", what, r, count, counts.first_error));
  }
  return seconds;
}

Command bench_command(std::string id, CommandBody body) {
  return Command{std::move(id), Actor{"bench", "dispatcher", ""}, std::move(body)};
}

// Master data and receipts: every (warehouse, SKU) holds far more than the transfers take.
void set_up_network(Engine& engine, const Options& o) {
  auto commands = demo::network_commands(network);
  submit_all(
      engine, commands.size(), o.batch, limits::queue_commands_max,
      [&](std::uint64_t i) { return std::move(commands[i]); }, "network");
  std::vector<Command> receipts;
  for (int w = 0; w < network.warehouses; ++w) {
    ReceiveStock r{demo::warehouse_id(w), {}, fmt::format("BENCH-{}", w + 1)};
    for (int k = 0; k < network.skus; ++k) r.lines.push_back({demo::sku_id(k), limits::qty_max, {}});
    receipts.push_back(bench_command(fmt::format("bench-receipt-{}", w), std::move(r)));
  }
  submit_all(
      engine, receipts.size(), o.batch, limits::queue_commands_max,
      [&](std::uint64_t i) { return std::move(receipts[i]); }, "receipts");
}

// Transfer i: warehouse -> store (3 in 4) or dealer, one line of 1..5 units of one SKU.
class TransferMaker {
 public:
  TransferMaker() {
    for (int w = 0; w < network.warehouses; ++w) warehouses_.push_back("warehouse:" + demo::warehouse_id(w));
    for (int s = 0; s < network.stores; ++s) stores_.push_back("store:" + demo::store_id(s));
    for (int d = 0; d < network.dealers; ++d) dealers_.push_back("dealer:" + demo::dealer_id(d));
    for (int k = 0; k < network.skus; ++k) skus_.push_back(demo::sku_id(k));
  }
  Command operator()(std::uint64_t i) const {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, i + 1).ptr;
    std::string id = "T-";
    id.append(std::size_t{10} - static_cast<std::size_t>(end - digits), '0');
    id.append(digits, end);
    const std::string& from = warehouses_[i % warehouses_.size()];
    const std::string& to = i % 4 == 0 ? dealers_[(i / 4 * 7) % dealers_.size()] : stores_[(i * 7919) % stores_.size()];
    ShipTransfer t{
        id, from, to, {StockLineInput{skus_[(i * 31) % skus_.size()], static_cast<std::int64_t>(1 + i % 5), {}}}};
    return bench_command("ship-" + id, std::move(t));
  }

 private:
  std::vector<std::string> warehouses_, stores_, dealers_, skus_;
};

struct AppendResult {
  double seconds = 0;
  double events_per_s = 0;
  double avg_batch = 0;  // commands per committed write transaction
  std::uint64_t first_seq = 0, last_seq = 0;
  std::uint64_t map_growths = 0;
  std::uint64_t log_bytes = 0;
};

AppendResult run_append(const fs::path& dir, Durability durability, const Options& o, const char* what) {
  fmt::print(stderr, "{}: setting up the network in {}\n", what, dir.string());
  auto engine = open_engine(dir, durability, o);
  set_up_network(*engine, o);
  WriterStats before = engine->stats();
  AppendResult r;
  r.first_seq = engine->last_seq() + 1;
  std::uint64_t in_flight_max = std::min<std::uint64_t>(4 * std::uint64_t{o.batch}, limits::queue_commands_max);
  fmt::print(stderr, "{}: {} transfers, waves of {}, at most {} in flight\n", what, o.events, o.batch, in_flight_max);
  TransferMaker maker;
  r.seconds = submit_all(*engine, o.events, o.batch, in_flight_max, maker, what);
  WriterStats after = engine->stats();
  r.last_seq = engine->last_seq();
  std::uint64_t events = after.events - before.events;
  std::uint64_t batches = after.batches - before.batches;
  if (events != o.events || r.last_seq - r.first_seq + 1 != o.events) {
    die(fmt::format("{}: expected {} events, the writer appended {} (seq {}..{})", what, o.events, events, r.first_seq,
                    r.last_seq));
  }
  if (after.failed_batches != before.failed_batches)
    die(fmt::format("{}: {} batches failed", what, after.failed_batches));
  r.events_per_s = static_cast<double>(o.events) / r.seconds;
  r.avg_batch = batches == 0 ? 0 : static_cast<double>(after.commands - before.commands) / static_cast<double>(batches);
  r.map_growths = after.map_growths - before.map_growths;
  r.log_bytes = after.log_bytes;
  fmt::print(stderr, "{}: {:.2f} s, {:.0f} events/s, {} batches, {:.1f} commands/batch, log {:.1f} MiB\n", what,
             r.seconds, r.events_per_s, batches, r.avg_batch, r.log_bytes / 1048576.0);
  engine.reset();  // drains and stops the writer; closes the environment
  return r;
}

// ---------------------------------------------------------------- raw LMDB

struct Records {
  std::vector<std::uint64_t> seqs;
  std::vector<std::size_t> offsets;  // offsets[i]..offsets[i+1] in bytes
  std::vector<std::uint8_t> bytes;
  std::size_t size() const { return seqs.size(); }
  MDB_val value(std::size_t i) const {
    return MDB_val{offsets[i + 1] - offsets[i], const_cast<std::uint8_t*>(bytes.data() + offsets[i])};
  }
};

// The stored records (32-byte chain hash + FlatBuffer) of events [first, last].
Records read_records(const fs::path& dir, std::uint64_t first, std::uint64_t last) {
  RawEnv raw;
  open_raw(raw, dir, true, 0);
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(raw.env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
  MDB_cursor* cursor = nullptr;
  check_lmdb(mdb_cursor_open(txn, raw.events, &cursor), "mdb_cursor_open");
  Records out;
  out.seqs.reserve(last - first + 1);
  out.offsets.reserve(last - first + 2);
  out.offsets.push_back(0);
  std::uint8_t key_bytes[8];
  put_u64_be(key_bytes, first);
  MDB_val key{8, key_bytes}, data{};
  for (int rc = mdb_cursor_get(cursor, &key, &data, MDB_SET_KEY); rc == 0;
       rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
    std::uint64_t seq = get_u64_be(static_cast<const std::uint8_t*>(key.mv_data));
    if (seq > last) break;
    out.seqs.push_back(seq);
    const auto* p = static_cast<const std::uint8_t*>(data.mv_data);
    out.bytes.insert(out.bytes.end(), p, p + data.mv_size);
    out.offsets.push_back(out.bytes.size());
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  if (out.size() != last - first + 1) die(fmt::format("read {} records of events {}..{}", out.size(), first, last));
  return out;
}

// Writes records [0, count) into a fresh environment with MDB_APPEND, `group` puts per committed
// transaction. Returns the seconds taken (environment creation excluded).
double raw_put(const fs::path& dir, const Records& records, std::size_t count, std::size_t group, std::size_t map_bytes,
               double seconds_max, std::size_t* done) {
  RawEnv raw;
  open_raw(raw, dir, false, map_bytes);
  auto start = SteadyClock::now();
  std::size_t i = 0;
  while (i < count) {
    MDB_txn* txn = nullptr;
    check_lmdb(mdb_txn_begin(raw.env, nullptr, 0, &txn), "mdb_txn_begin");
    std::size_t end = std::min(count, i + group);
    for (; i < end; ++i) {
      std::uint8_t key_bytes[8];
      put_u64_be(key_bytes, records.seqs[i]);
      MDB_val key{8, key_bytes};
      MDB_val data = records.value(i);
      check_lmdb(mdb_put(txn, raw.events, &key, &data, MDB_APPEND), "mdb_put");
    }
    check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
    if (seconds_max > 0 && seconds_since(start) > seconds_max) break;
  }
  *done = i;
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  bench::set_program("bench_engine");
  Options o = parse_args(argc, argv);
  bench::Scratch scratch = bench::make_scratch(o.dir, "bench_engine");
  const fs::path root = scratch.root;
  const bool made_root = scratch.made_root;
  const fs::path dir_a = root / "append_fsync", dir_os = root / "append_os_buffered", dir_raw = root / "raw_lmdb_put",
                 dir_txn = root / "raw_lmdb_txn_per_event";
  bench::claim_fresh(scratch, {dir_a, dir_os, dir_raw, dir_txn}, o.keep);
  fmt::print(stderr, "bench_engine: {} events, batch {}, scratch {}\n", o.events, o.batch, root.string());
  auto run_start = SteadyClock::now();

  // (a) appends through the engine, fsync per batch
  AppendResult a = run_append(dir_a, Durability::fsync_per_batch, o, "append_transfers");

  // (b) the same records by raw LMDB puts, transactions of the engine's average batch
  fmt::print(stderr, "raw_lmdb_put: reading back events {}..{}\n", a.first_seq, a.last_seq);
  Records records = read_records(dir_a, a.first_seq, a.last_seq);
  std::size_t group = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(a.avg_batch)));
  std::size_t done = 0;
  double raw_s = raw_put(dir_raw, records, records.size(), group, o.map_bytes, 0, &done);
  double raw_per_s = static_cast<double>(done) / raw_s;
  fmt::print(stderr, "raw_lmdb_put: {} records ({:.1f} bytes avg), {} per txn: {:.2f} s, {:.0f}/s\n", done,
             static_cast<double>(records.bytes.size()) / records.size(), group, raw_s, raw_per_s);
  emit(fmt::format(R"({{"bench":"append_transfers","events":{},"events_per_s":{},"batch":{},"baseline":"raw_lmdb_put",)"
                   R"("baseline_per_s":{},"ratio":{},"seconds":{},"durability":"fsync_per_batch","map_growths":{},)"
                   R"("record_bytes_avg":{}}})",
                   o.events, num(a.events_per_s), num(a.avg_batch), num(raw_per_s), num(a.events_per_s / raw_per_s),
                   num(a.seconds), a.map_growths, num(static_cast<double>(records.bytes.size()) / records.size())));
  fs::remove_all(dir_raw);

  // (c) one durable transaction per event
  std::size_t txn_count = std::min<std::size_t>(o.txn_per_event_count, records.size());
  double txn_s = raw_put(dir_txn, records, txn_count, 1, o.map_bytes, o.txn_per_event_seconds_max, &done);
  double txn_per_s = static_cast<double>(done) / txn_s;
  fmt::print(stderr, "raw_lmdb_txn_per_event: {} events in {:.2f} s\n", done, txn_s);
  emit(fmt::format(R"({{"bench":"raw_lmdb_txn_per_event","events":{},"events_per_s":{},"baseline":"raw_lmdb_put",)"
                   R"("ratio":{}}})",
                   done, num(txn_per_s), num(txn_per_s / raw_per_s)));
  fs::remove_all(dir_txn);
  records = Records{};

  // (d) appends through the engine, MDB_NOSYNC
  AppendResult d = run_append(dir_os, Durability::os_buffered, o, "append_transfers_os_buffered");
  emit(fmt::format(R"({{"bench":"append_transfers_os_buffered","events":{},"events_per_s":{},"batch":{},)"
                   R"("baseline":"append_transfers","baseline_per_s":{},"ratio":{},"seconds":{},"map_growths":{}}})",
                   o.events, num(d.events_per_s), num(d.avg_batch), num(a.events_per_s),
                   num(d.events_per_s / a.events_per_s), num(d.seconds), d.map_growths));
  if (!o.keep) fs::remove_all(dir_os);

  // (e) reading the log of (a) back: raw cursor scan, Engine::open (fold), verify_log
  bench::raw_scan(dir_a);  // warm-up: every run below reads from the page cache
  bench::ScanResult scan = bench::raw_scan(dir_a);
  std::uint64_t scanned = scan.events;
  double scan_s = scan.seconds;
  double scan_per_s = static_cast<double>(scanned) / scan_s;
  fmt::print(stderr, "raw_scan: {} events in {:.3f} s\n", scanned, scan_s);

  fmt::print(stderr, "open_fold: opening {}\n", dir_a.string());
  auto open_start = SteadyClock::now();
  auto engine = open_engine(dir_a, Durability::fsync_per_batch, o);
  double open_s = seconds_since(open_start);
  std::uint64_t open_events = engine->last_seq();
  engine.reset();
  if (open_events != scanned) die(fmt::format("open_fold folded {} events, the scan saw {}", open_events, scanned));
  double open_per_s = static_cast<double>(open_events) / open_s;
  emit(fmt::format(R"({{"bench":"open_fold","events":{},"seconds":{},"events_per_s":{},"baseline":"raw_scan",)"
                   R"("baseline_per_s":{},"ratio":{}}})",
                   open_events, num(open_s), num(open_per_s), num(scan_per_s), num(open_per_s / scan_per_s)));

  fmt::print(stderr, "verify: verifying {}\n", dir_a.string());
  auto verify_start = SteadyClock::now();
  auto report = verify_log(dir_a);
  double verify_s = seconds_since(verify_start);
  if (!report) die(fmt::format("verify_log: {}", report.error().to_string()));
  if (report->events != scanned) die(fmt::format("verify_log saw {} events, the scan {}", report->events, scanned));
  double verify_per_s = static_cast<double>(report->events) / verify_s;
  emit(fmt::format(R"({{"bench":"verify","events":{},"seconds":{},"events_per_s":{},"baseline":"raw_scan",)"
                   R"("baseline_per_s":{},"ratio":{}}})",
                   report->events, num(verify_s), num(verify_per_s), num(scan_per_s), num(verify_per_s / scan_per_s)));

  if (!o.keep) {
    fs::remove_all(dir_a);
    if (made_root) fs::remove_all(root);
  }
  fmt::print(stderr, "bench_engine: done in {:.1f} s{}\n", seconds_since(run_start),
             o.keep ? fmt::format(" (data kept in {})", root.string()) : std::string());
  return 0;
}

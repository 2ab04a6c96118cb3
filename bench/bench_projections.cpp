// bench_projections: the read side at scale (issue 5: projections, snapshots, subscribers; issue 7: the
// replay CLI) on one log of a realistic mix, each figure against a baseline measured in the same run.
// One JSON object per line on stdout; progress and diagnostics on stderr.
//
// The log (--events N, default 10M; cached in --dir, see below) is built through Engine::submit from
// several threads (os_buffered) with a fixed seed: the demo network's master data (2,000 dealers,
// 12,000 stores, 300 SKUs), an approval policy, production receipts, transfers shipped and (mostly)
// received, orders sold by hq to dealers (spot and presale) and by dealers to their stores, approved,
// shipped, delivered, completed, some cancelled, returned, shipped late or abandoned (their holds expire),
// and stock adjustments. Time is a ManualClock that advances one second per submitted command, so the
// log spans weeks (10M events: about two months) and the hourly/daily projections have history.
//
//   rebuild_all                  ReadModel::rebuild(dir): the ledger state and every projection folded
//                                from the log; baseline: a raw LMDB cursor scan of the events database
//                                (raw_scan, as in bench_engine: first and last byte of each value read;
//                                "raw_scan_every_byte_events_per_s" sums every byte instead)
//   restart_10m                  Engine::open (ledger.snap + tail) + LiveState::start(LiveOptions{dir})
//                                (projection snapshots + tail) until applied_seq() == last_seq, with the
//                                snapshots the rebuilt model saved; baseline: the same with the
//                                snapshots moved away (both folds from the log; snapshot_every_events 0
//                                so the baseline does not write snapshots while it folds)
//   writer_with_slow_subscribers ShipTransfer commands from 4 threads (os_buffered, a fresh small data
//                                directory) while 10 Subscription handlers sleep per event; baseline: the
//                                same without subscribers (run before and after; the faster), in another
//                                fresh directory. Runs first, before the log, while the process is small:
//                                rss_mb_* are then this benchmark's (max_lag: the largest Subscription::lag()
//                                sampled every 10 ms, and at the end)
//   verify                       verify_log(dir) on the log; baseline raw_scan
//   export                       `ledger export --data DIR --output /dev/null` (the CLI, stderr not a
//                                TTY so no progress bar); baseline raw_scan
//
// The cache: --dir DIR is the engine's data directory. When it holds a log built by this generator
// (DIR/bench_projections.marker: version, seed, threads) with at least N events it is reused as is (all
// of it is measured; "events" says how many); otherwise it is emptied and built again. A directory
// that is not empty and has no marker is refused. Without --dir the log goes to a fresh directory
// under /tmp, removed at the end unless --keep.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "answers.hpp"
#include "ledger/clock.hpp"
#include "ledger/demo_network.hpp"
#include "ledger/engine.hpp"
#include "ledger/event_json.hpp"
#include "ledger/limits.hpp"
#include "ledger/live_state.hpp"
#include "ledger/read_model.hpp"
#include "ledger/snapshot.hpp"
#include "ledger/subscription.hpp"
#include "ledger/verify.hpp"
#include "raw_lmdb.hpp"
#include "scratch.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace ledger;
using bench::Completions;
using bench::die;
using bench::emit;
using bench::JsonLine;
using bench::run_all;
using bench::seconds_since;
using bench::SteadyClock;

namespace {

// Bump whenever the generator writes a different log: a cached log of another version is rebuilt.
constexpr int generator_version = 1;
constexpr std::string_view marker_name = "bench_projections.marker";

// ---------------------------------------------------------------- options

struct Options {
  std::uint64_t events = 10'000'000;
  fs::path dir;  // the log (cache); empty: a fresh one under /tmp
  bool keep = false;
  int threads = 4;  // submitting threads building the log
  std::uint64_t seed = 20250303;
  std::uint64_t writer_commands = 300'000;  // per run of writer_with_slow_subscribers
  int subscribers = 10;
  std::uint64_t subscriber_sleep_us = 200;
  fs::path ledger_cli;            // empty: next to this binary (../ledger)
  std::vector<std::string> only;  // empty: every benchmark
};

constexpr const char* bench_names[] = {"rebuild_all", "restart", "verify", "export", "subscribers"};

void usage() {
  fmt::print(stderr,
             "usage: bench_projections [--events N] [--dir DIR] [--keep] [--threads N] [--seed N]\n"
             "                         [--writer-commands N] [--subscribers N] [--subscriber-sleep-us N]\n"
             "                         [--ledger-cli PATH] [--only LIST]\n"
             "  --events N               events in the log (default 10000000)\n"
             "  --dir DIR                the log's data directory, built or reused (a cache: kept; see the\n"
             "                           header of bench/bench_projections.cpp); default a fresh one under /tmp\n"
             "  --keep                   keep the fresh /tmp directory\n"
             "  --threads N              threads submitting while the log is built (default 4)\n"
             "  --seed N                 the generator's seed (default 20250303)\n"
             "  --writer-commands N      commands per run of writer_with_slow_subscribers (default 300000)\n"
             "  --subscribers N          slow subscribers (default 10)\n"
             "  --subscriber-sleep-us N  each subscriber's sleep per event (default 200)\n"
             "  --ledger-cli PATH        the `ledger` CLI for export (default: ../ledger from this binary)\n"
             "  --only LIST              comma-separated subset of rebuild_all,restart,verify,export,subscribers\n");
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
      o.events = bench::parse_u64(a, next());
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--threads") {
      o.threads = static_cast<int>(std::min<std::uint64_t>(64, bench::parse_u64(a, next())));
    } else if (a == "--seed") {
      o.seed = bench::parse_u64(a, next());
    } else if (a == "--writer-commands") {
      o.writer_commands = bench::parse_u64(a, next());
    } else if (a == "--subscribers") {
      o.subscribers = static_cast<int>(std::min<std::uint64_t>(256, bench::parse_u64(a, next())));
    } else if (a == "--subscriber-sleep-us") {
      o.subscriber_sleep_us = bench::parse_u64(a, next());
    } else if (a == "--ledger-cli") {
      o.ledger_cli = next();
    } else if (a == "--only") {
      std::string list = next();
      std::stringstream in(list);
      for (std::string name; std::getline(in, name, ',');) {
        if (name.empty()) continue;
        if (std::find(std::begin(bench_names), std::end(bench_names), name) == std::end(bench_names)) {
          usage();
          die(fmt::format("--only: unknown benchmark '{}'", name));
        }
        o.only.push_back(name);
      }
    } else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      usage();
      die(fmt::format("unknown argument '{}'", a));
    }
  }
  return o;
}

bool wanted(const Options& o, std::string_view name) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
}

// ---------------------------------------------------------------- helpers

struct Rss {
  double rss_mb = 0, anon_mb = 0, file_mb = 0;
};

// VmRSS, RssAnon and RssFile of this process (/proc/self/status), in MiB.
Rss rss_now() {
  Rss r;
  std::ifstream in("/proc/self/status");
  std::string line;
  auto value = [&](std::string_view prefix, double& out) {
    if (line.rfind(prefix, 0) == 0) out = std::strtod(line.c_str() + prefix.size(), nullptr) / 1024.0;
  };
  while (std::getline(in, line)) {
    value("VmRSS:", r.rss_mb);
    value("RssAnon:", r.anon_mb);
    value("RssFile:", r.file_mb);
  }
  return r;
}

std::size_t map_bytes_for(std::uint64_t events) {
  // Orders' events run larger than transfers; 2 KiB an event keeps every run far from MDB_MAP_FULL (a map
  // growth aborts the batch and refolds the whole log).
  return std::max<std::size_t>(limits::map_bytes_initial, (events + 100'000) * 2048);
}

std::unique_ptr<Engine> open_engine(const fs::path& dir, std::size_t map_bytes, std::shared_ptr<Clock> clock = {},
                                    bool quiet = false) {
  EngineOptions options;
  options.dir = dir;
  options.durability = Durability::os_buffered;
  options.map_bytes_initial = map_bytes;
  options.clock = std::move(clock);
  if (!quiet) options.on_notice = [](std::string_view line) { fmt::print(stderr, "  engine: {}\n", line); };
  auto opened = Engine::open(options);
  if (!opened) die(fmt::format("opening the engine in {}: {}", dir.string(), opened.error().to_string()));
  return std::move(*opened);
}

Command command(std::string id, Actor actor, CommandBody body) {
  return Command{std::move(id), std::move(actor), std::move(body)};
}

const Actor admin{"bench", "hq_admin", ""};

// ---------------------------------------------------------------- the generator

const demo::NetworkSize
    network{};  // the demo's real scale: 32 regions, 8 warehouses, 2000 dealers, 12000 stores, 300 SKUs
constexpr std::int64_t start_us = 1'740'960'000'000'000;  // 2025-03-03 00:00 UTC
constexpr std::int64_t us_per_command = 1'000'000;        // the clock moves one second per submitted command
constexpr std::int64_t hour_us = 3'600'000'000LL, day_us = 24 * hour_us;
constexpr std::int64_t director_min_cents = 10'000'000;  // approval policy: 100,000 yuan and more
constexpr int dealer_sku_count = 8;                      // each dealer carries 8 of the 300 SKUs
constexpr std::int64_t initial_units = 50'000;           // per (warehouse, SKU) before the first round

// Prices as demo::network_commands defines them.
std::int64_t retail_cents(int k) { return 150'00 + (k % 40) * 50'00; }
std::int64_t wholesale_cents(int k) { return retail_cents(k) * 70 / 100; }
std::int64_t supply_cents(int k) { return retail_cents(k) * 85 / 100; }

struct Catalog {
  std::vector<std::string> regions, warehouses, warehouse_locs, dealers, dealer_locs, stores, store_locs, skus;
  std::vector<std::array<int, dealer_sku_count>> dealer_skus;
  Catalog() {
    for (int r = 0; r < network.regions; ++r) regions.push_back(demo::region_id(r));
    for (int w = 0; w < network.warehouses; ++w) {
      warehouses.push_back(demo::warehouse_id(w));
      warehouse_locs.push_back("warehouse:" + warehouses.back());
    }
    for (int d = 0; d < network.dealers; ++d) {
      dealers.push_back(demo::dealer_id(d));
      dealer_locs.push_back("dealer:" + dealers.back());
      std::array<int, dealer_sku_count> ks{};
      for (int j = 0; j < dealer_sku_count; ++j) ks[j] = (d * 7 + j * 37) % network.skus;
      dealer_skus.push_back(ks);
    }
    for (int s = 0; s < network.stores; ++s) {
      stores.push_back(demo::store_id(s));
      store_locs.push_back("store:" + stores.back());
    }
    for (int k = 0; k < network.skus; ++k) skus.push_back(demo::sku_id(k));
  }
  int dealer_region(int d) const { return demo::region_of_dealer(d, network); }
  int stores_per_dealer() const { return network.stores / network.dealers; }
  // The k-th store of dealer d (demo::dealer_of_store(s) == d).
  int store_of(int d, int k) const { return d + k * network.dealers; }
};

// What a command was, to tally outcomes.
enum class Kind : std::uint8_t {
  place_hq,
  place_presale,
  place_dealer,
  announce,
  approve,
  ship,
  deliver,
  complete,
  cancel,
  return_order,
  ship_transfer,
  receive_transfer,
  receipt,
  presale_receipt,
  adjust,
  count
};
constexpr const char* kind_names[] = {"place_hq", "place_presale",   "place_dealer",  "announce_presale",
                                      "approve",  "ship_order",      "deliver",       "complete",
                                      "cancel",   "return",          "ship_transfer", "receive_transfer",
                                      "receipt",  "presale_receipt", "adjust"};
constexpr std::size_t kind_count = static_cast<std::size_t>(Kind::count);
static_assert(std::size(kind_names) == kind_count);

struct Tally {
  std::array<std::atomic<std::uint64_t>, kind_count> submitted{}, rejected{};
  std::mutex mu;
  std::array<std::string, kind_count> first_error;  // guarded by mu
};

class Generator;

// One submitting thread: its own dealers (d % threads == t) and their stores, orders and transfers, in
// rounds; a round's commands are submitted in order and all answered before the next round is made
// from their outcomes.
class Worker {
 public:
  Worker(Generator& g, int t, std::uint64_t seed);
  void run();

 private:
  enum class Plan : std::uint8_t { normal, cancel, abandon, late_ship, late_approval, returned };
  struct Order {
    std::string id;
    bool hq = true, presale = false;
    int dealer = 0, store = -1;
    std::vector<std::pair<int, std::int64_t>> lines;  // sku index, qty
    bool director = false, region_manager = false;    // approval steps the policy asks for
    Plan plan = Plan::normal;
    int stage = 0;  // 0 placing, 1 placed (approve + ship next), 2 shipped, 3 delivered
    std::uint64_t due = 0;
  };
  struct Transfer {
    std::string id;
    std::uint64_t due = 0;
  };
  struct Tag {
    Kind kind;
    std::uint32_t index;  // into orders_ / transfers_ (or unused)
  };

  void add(Kind kind, std::uint32_t index, Command c);
  void make_round();
  void settle_round();
  void new_orders();
  void new_transfers();
  void new_stock();
  std::int64_t now_us() const;
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::int64_t order_total(const Order& o, std::int64_t (*price)(int), bool cut) const;

  Generator& g_;
  int t_;
  std::mt19937_64 rng_;
  std::vector<int> dealers_;
  std::uint64_t round_ = 0, serial_ = 0;
  std::vector<Order> orders_;        // active (not yet dropped)
  std::vector<Transfer> transfers_;  // shipped, to receive
  std::vector<std::pair<std::string, std::pair<int, int>>>
      batches_;  // presale batch id -> (sku, warehouse), received next round
  std::vector<Command> commands_;
  std::vector<Tag> tags_;
  std::vector<std::uint8_t> ok_;  // per command of the round, written by the writer thread
  Completions answers_;
};

class Generator {
 public:
  Generator(Engine& engine, ManualClock& clock, const Options& o) : engine_(engine), clock_(clock), o_(o) {}

  // Master data, the approval policy, opening stock (warehouses, dealers), then rounds from every thread
  // until the log holds o.events events.
  void run();

  Engine& engine() { return engine_; }
  ManualClock& clock() { return clock_; }
  const Catalog& catalog() const { return catalog_; }
  const Options& options() const { return o_; }
  Tally& tally() { return tally_; }
  bool done() const { return engine_.last_seq() >= o_.events; }

 private:
  void set_up();
  Engine& engine_;
  ManualClock& clock_;
  const Options& o_;
  Catalog catalog_;
  Tally tally_;
};

Worker::Worker(Generator& g, int t, std::uint64_t seed)
    : g_(g), t_(t), rng_(seed * 1'000'003 + static_cast<std::uint64_t>(t)) {
  for (int d = t; d < network.dealers; d += g.options().threads) dealers_.push_back(d);
}

std::int64_t Worker::now_us() const { return g_.clock().now_us(); }

void Worker::add(Kind kind, std::uint32_t index, Command c) {
  commands_.push_back(std::move(c));
  tags_.push_back(Tag{kind, index});
}

std::int64_t Worker::order_total(const Order& o, std::int64_t (*price)(int), bool cut) const {
  std::int64_t total = 0;
  for (const auto& [k, qty] : o.lines) total += qty * (cut ? price(k) * 90 / 100 : price(k));
  return total;
}

void Worker::run() {
  while (!g_.done()) {
    make_round();
    ok_.assign(commands_.size(), 0);
    std::uint64_t base = answers_.completed.load();
    Tally& tally = g_.tally();
    for (std::size_t i = 0; i < commands_.size(); ++i) {
      auto kind = static_cast<std::size_t>(tags_[i].kind);
      tally.submitted[kind].fetch_add(1, std::memory_order_relaxed);
      std::uint8_t* ok = &ok_[i];
      g_.clock().advance_us(us_per_command);
      g_.engine().submit(std::move(commands_[i]), [this, ok, kind, &tally](const CommandResult& r) {
        *ok = r.ok() ? 1 : 0;
        if (!r.ok() && tally.rejected[kind].fetch_add(1, std::memory_order_relaxed) == 0) {
          std::lock_guard lock(tally.mu);
          tally.first_error[kind] = r.error().to_string();
        }
        answers_.done(r);
      });
    }
    answers_.wait_for(base + commands_.size());
    settle_round();
    ++round_;
  }
}

// The round's commands: first what earlier rounds' outcomes call for (approvals before shipments,
// deliveries, completions, returns, cancellations, transfer and presale receipts), then new work.
void Worker::make_round() {
  commands_.clear();
  tags_.clear();
  const Catalog& c = g_.catalog();
  std::vector<std::uint32_t> due;
  for (std::uint32_t i = 0; i < orders_.size(); ++i) {
    if (orders_[i].stage > 0 && orders_[i].due <= round_) due.push_back(i);
  }
  for (std::uint32_t i : due) {
    Order& o = orders_[i];
    if (o.stage == 1) {
      if (o.plan == Plan::cancel) {
        add(Kind::cancel, i, command("cancel-" + o.id, admin, CancelOrder{o.id, "customer changed their mind"}));
        continue;
      }
      // The region is the buyer's: a dealer's, or a store's (its dealer's region).
      const std::string& region = c.regions[c.dealer_region(o.dealer)];
      if (o.region_manager) {
        add(Kind::approve, i,
            command("approve-rm-" + o.id, Actor{"rm-" + region, "region_manager", region},
                    ApproveOrder{o.id, "region_manager"}));
      }
      if (o.director) {
        add(Kind::approve, i,
            command("approve-sd-" + o.id, Actor{"sd-1", "sales_director", ""}, ApproveOrder{o.id, "sales_director"}));
      }
      add(Kind::ship, i, command("ship-" + o.id, admin, ShipOrder{o.id, {}}));
    } else if (o.stage == 2) {
      add(Kind::deliver, i, command("deliver-" + o.id, admin, DeliverOrder{o.id}));
    } else if (o.stage == 3) {
      if (o.plan == Plan::returned) {
        const auto& [k, qty] = o.lines.front();
        add(Kind::return_order, i,
            command("return-" + o.id, admin,
                    ReturnOrder{o.id, {{c.skus[k], std::max<std::int64_t>(1, qty / 6), {}}}, "damaged in transit"}));
      } else {
        add(Kind::complete, i, command("complete-" + o.id, admin, CompleteOrder{o.id}));
      }
    }
  }
  for (std::uint32_t i = 0; i < transfers_.size(); ++i) {
    if (transfers_[i].due <= round_) {
      add(Kind::receive_transfer, i, command("recv-" + transfers_[i].id, admin, ReceiveTransfer{transfers_[i].id}));
    }
  }
  for (const auto& [id, at] : batches_) {
    // The batch arrives with its whole quota (and a little more): its waiting orders are allocated.
    ReceiveStock r{c.warehouses[at.second], {{c.skus[at.first], 600, fmt::format("LOT-{}", id)}}, id};
    add(Kind::presale_receipt, 0, command("receipt-" + id, admin, std::move(r)));
  }
  batches_.clear();
  new_stock();
  new_transfers();
  new_orders();
}

void Worker::new_orders() {
  const Catalog& c = g_.catalog();
  constexpr const char* hq_channels[] = {"regional_storefront", "dealer_storefront", "dealer_storefront", "o2o"};
  auto plan = [&]() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (u < 0.03) return Plan::cancel;
    if (u < 0.04) return Plan::abandon;
    if (u < 0.07) return Plan::late_ship;
    if (u < 0.10) return Plan::late_approval;
    if (u < 0.14) return Plan::returned;
    return Plan::normal;
  };
  auto dealer_sku = [&](int d) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return c.dealer_skus[d][static_cast<int>(u * u * dealer_sku_count)];  // the first SKUs sell most
  };
  // Spot orders sold by hq to the thread's dealers: 1-3 SKUs of the dealer's, cases of 6.
  for (int n = 0; n < 250; ++n) {
    Order o;
    o.id = fmt::format("H{}-{}", t_, ++serial_);
    o.dealer = dealers_[pick(static_cast<int>(dealers_.size()))];
    for (int lines = 1 + pick(3); static_cast<int>(o.lines.size()) < lines;) {
      int k = dealer_sku(o.dealer);
      if (std::none_of(o.lines.begin(), o.lines.end(), [&](const auto& l) { return l.first == k; })) {
        o.lines.emplace_back(k, 6 * (1 + pick(10)));
      }
    }
    bool cut = chance(0.04);  // under the floor (95% of wholesale): the region manager approves
    o.region_manager = cut;
    o.director = order_total(o, wholesale_cents, cut) >= director_min_cents;
    o.plan = plan();
    PlaceOrder p;
    p.id = o.id;
    p.buyer = c.dealer_locs[o.dealer];
    p.seller = "hq";
    p.channel = hq_channels[pick(4)];
    p.ship_to_region = c.regions[c.dealer_region(o.dealer)];
    p.ship_to_lat_e6 = 25'000'000 + (o.dealer % 1000) * 15'000;
    p.ship_to_lon_e6 = 100'000'000 + (o.dealer % 997) * 20'000;
    for (const auto& [k, qty] : o.lines)
      p.lines.push_back({c.skus[k], qty, cut ? wholesale_cents(k) * 90 / 100 : wholesale_cents(k)});
    p.promised_by_us = now_us() + 3 * day_us;
    orders_.push_back(std::move(o));
    std::string command_id = "place-" + p.id;  // before p is moved from
    add(Kind::place_hq, static_cast<std::uint32_t>(orders_.size() - 1),
        command(std::move(command_id), admin, std::move(p)));
  }
  // Orders sold by the thread's dealers to their own stores: 1-2 SKUs, a few units.
  for (int n = 0; n < 300; ++n) {
    Order o;
    o.id = fmt::format("S{}-{}", t_, ++serial_);
    o.hq = false;
    o.dealer = dealers_[pick(static_cast<int>(dealers_.size()))];
    o.store = c.store_of(o.dealer, pick(c.stores_per_dealer()));
    for (int lines = 1 + pick(2); static_cast<int>(o.lines.size()) < lines;) {
      int k = dealer_sku(o.dealer);
      if (std::none_of(o.lines.begin(), o.lines.end(), [&](const auto& l) { return l.first == k; })) {
        o.lines.emplace_back(k, 1 + pick(6));
      }
    }
    bool cut = chance(0.04);
    o.region_manager = cut;
    o.director = order_total(o, supply_cents, cut) >= director_min_cents;
    o.plan = plan();
    PlaceOrder p;
    p.id = o.id;
    p.buyer = c.store_locs[o.store];
    p.seller = c.dealer_locs[o.dealer];
    p.channel = chance(0.8) ? "store" : "o2o";
    p.ship_to_region = c.regions[c.dealer_region(o.dealer)];
    p.ship_to_lat_e6 = 25'000'000 + (o.store % 1000) * 15'000;
    p.ship_to_lon_e6 = 100'000'000 + (o.store % 997) * 20'000;
    for (const auto& [k, qty] : o.lines)
      p.lines.push_back({c.skus[k], qty, cut ? supply_cents(k) * 90 / 100 : supply_cents(k)});
    p.promised_by_us = now_us() + 2 * day_us;
    orders_.push_back(std::move(o));
    std::string command_id = "place-" + p.id;
    add(Kind::place_dealer, static_cast<std::uint32_t>(orders_.size() - 1),
        command(std::move(command_id), admin, std::move(p)));
  }
  // A presale batch and 8 presale orders selling its whole quota; it arrives next round.
  {
    std::string batch = fmt::format("PB{}-{}", t_, round_);
    int k = pick(network.skus), w = pick(network.warehouses);
    std::array<std::int64_t, 8> qty{};
    std::int64_t quota = 0;
    for (auto& q : qty) quota += q = 10 + pick(41);
    add(Kind::announce, 0,
        command("announce-" + batch, admin,
                AnnouncePresaleBatch{batch, c.skus[k], c.warehouses[w], quota, now_us() + 6 * hour_us}));
    batches_.emplace_back(batch, std::make_pair(k, w));
    for (int n = 0; n < 8; ++n) {
      Order o;
      o.id = fmt::format("P{}-{}", t_, ++serial_);
      o.presale = true;
      o.dealer = dealers_[pick(static_cast<int>(dealers_.size()))];
      o.lines.emplace_back(k, qty[n]);
      o.director = order_total(o, wholesale_cents, false) >= director_min_cents;
      o.plan = chance(0.05) ? Plan::cancel : Plan::normal;
      PlaceOrder p;
      p.id = o.id;
      p.type = OrderType::presale;
      p.buyer = c.dealer_locs[o.dealer];
      p.seller = "hq";
      p.channel = "dealer_storefront";
      p.ship_to_region = c.regions[c.dealer_region(o.dealer)];
      p.ship_to_lat_e6 = 25'000'000 + (o.dealer % 1000) * 15'000;
      p.ship_to_lon_e6 = 100'000'000 + (o.dealer % 997) * 20'000;
      p.lines.push_back({c.skus[k], o.lines.front().second, wholesale_cents(k)});
      p.promised_by_us = now_us() + 5 * day_us;
      orders_.push_back(std::move(o));
      std::string command_id = "place-" + p.id;
      add(Kind::place_presale, static_cast<std::uint32_t>(orders_.size() - 1),
          command(std::move(command_id), admin, std::move(p)));
    }
  }
}

void Worker::new_transfers() {
  const Catalog& c = g_.catalog();
  auto ship = [&](std::string from, std::string to, std::vector<StockLineInput> lines) {
    std::string id = fmt::format("T{}-{}", t_, ++serial_);
    transfers_.push_back(Transfer{id, chance(0.95) ? round_ + 1 : UINT64_MAX});  // 5% stay in transit
    add(Kind::ship_transfer, static_cast<std::uint32_t>(transfers_.size() - 1),
        command("ship-" + id, admin, ShipTransfer{id, std::move(from), std::move(to), std::move(lines)}));
  };
  for (int n = 0; n < 200; ++n) {  // warehouse -> dealer
    int d = dealers_[pick(static_cast<int>(dealers_.size()))];
    std::vector<StockLineInput> lines;
    for (int j = 0, count = 1 + pick(2); j < count; ++j) {
      int k = c.dealer_skus[d][pick(dealer_sku_count)];
      if (std::none_of(lines.begin(), lines.end(), [&](const auto& l) { return l.sku == c.skus[k]; })) {
        lines.push_back({c.skus[k], 10 + pick(31), {}});
      }
    }
    ship(c.warehouse_locs[pick(network.warehouses)], c.dealer_locs[d], std::move(lines));
  }
  for (int n = 0; n < 150; ++n) {  // dealer -> one of its stores
    int d = dealers_[pick(static_cast<int>(dealers_.size()))];
    int k = c.dealer_skus[d][pick(dealer_sku_count)];
    ship(c.dealer_locs[d], c.store_locs[c.store_of(d, pick(c.stores_per_dealer()))], {{c.skus[k], 1 + pick(4), {}}});
  }
  for (int n = 0; n < 50; ++n) {  // warehouse -> warehouse
    int from = pick(network.warehouses), to = (from + 1 + pick(network.warehouses - 1)) % network.warehouses;
    std::vector<StockLineInput> lines;
    for (int j = 0, count = 1 + pick(3); j < count; ++j) {
      int k = pick(network.skus);
      if (std::none_of(lines.begin(), lines.end(), [&](const auto& l) { return l.sku == c.skus[k]; })) {
        lines.push_back({c.skus[k], 50 + pick(151), {}});
      }
    }
    ship(c.warehouse_locs[from], c.warehouse_locs[to], std::move(lines));
  }
}

void Worker::new_stock() {
  const Catalog& c = g_.catalog();
  for (int n = 0; n < 20; ++n) {  // production receipts
    std::string ref = fmt::format("PO{}-{}", t_, ++serial_);
    ReceiveStock r{c.warehouses[pick(network.warehouses)], {}, ref};
    for (int j = 0, count = 1 + pick(5); j < count; ++j) {
      int k = pick(network.skus);
      if (std::none_of(r.lines.begin(), r.lines.end(), [&](const auto& l) { return l.sku == c.skus[k]; })) {
        r.lines.push_back({c.skus[k], 200 + pick(801), fmt::format("LOT-{}-{}", ref, j)});
      }
    }
    add(Kind::receipt, 0, command("receipt-" + ref, admin, std::move(r)));
  }
  for (int n = 0; n < 40; ++n) {  // counts and breakage
    std::string id = fmt::format("ADJ{}-{}", t_, ++serial_);
    int u = pick(20);
    AdjustStock a;
    a.sku = c.skus[pick(network.skus)];
    if (u < 12) {
      a.location = c.warehouse_locs[pick(network.warehouses)];
      a.qty_delta = u < 8 ? -(1 + pick(3)) : 1 + pick(2);
      a.reason = a.qty_delta < 0 ? "breakage in handling" : "count correction";
    } else if (u < 17) {
      int d = dealers_[pick(static_cast<int>(dealers_.size()))];
      a.location = c.store_locs[c.store_of(d, pick(c.stores_per_dealer()))];
      a.qty_delta = 1 + pick(3);
      a.reason = "count correction";
    } else {
      int d = dealers_[pick(static_cast<int>(dealers_.size()))];
      a.location = c.dealer_locs[d];
      a.sku = c.skus[c.dealer_skus[d][pick(dealer_sku_count)]];
      a.qty_delta = -1;
      a.reason = "breakage in handling";
    }
    add(Kind::adjust, 0, command(id, admin, std::move(a)));
  }
}

// Moves every order and transfer of the round on by its outcome, and drops what is done.
void Worker::settle_round() {
  std::vector<std::uint8_t> order_ok(orders_.size(), 1), order_touched(orders_.size(), 0),
      transfer_ok(transfers_.size(), 1), transfer_touched(transfers_.size(), 0);
  for (std::size_t i = 0; i < tags_.size(); ++i) {
    const Tag& tag = tags_[i];
    bool ok = ok_[i] != 0;
    switch (tag.kind) {
      case Kind::place_hq:
      case Kind::place_presale:
      case Kind::place_dealer:
      case Kind::approve:
      case Kind::ship:
      case Kind::deliver:
      case Kind::complete:
      case Kind::cancel:
      case Kind::return_order:
        order_touched[tag.index] = 1;
        order_ok[tag.index] &= ok ? 1 : 0;
        break;
      case Kind::ship_transfer:
      case Kind::receive_transfer:
        transfer_touched[tag.index] = 1;
        transfer_ok[tag.index] &= ok ? 1 : 0;
        break;
      default: break;
    }
  }
  std::vector<Order> kept;
  kept.reserve(orders_.size());
  for (std::size_t i = 0; i < orders_.size(); ++i) {
    Order& o = orders_[i];
    if (!order_touched[i]) {
      kept.push_back(std::move(o));
      continue;
    }
    if (!order_ok[i]) continue;  // rejected: this order goes no further
    bool keep = true;
    switch (o.stage) {
      case 0:  // placed
        if (o.plan == Plan::abandon) {
          keep = false;  // never shipped: its hold expires and the writer cancels it
          break;
        }
        o.stage = 1;
        o.due = round_ + (o.presale ? 2 : 1);  // a presale ships once its batch arrived
        if (o.plan == Plan::late_ship) o.due = round_ + 20;
        if (o.plan == Plan::late_approval && (o.director || o.region_manager)) o.due = round_ + 3;
        break;
      case 1:  // shipped (or cancelled)
        if (o.plan == Plan::cancel) {
          keep = false;
          break;
        }
        o.stage = 2;
        o.due = round_ + (o.plan == Plan::late_ship ? 6 : 1);
        break;
      case 2:  // delivered
        o.stage = 3;
        o.due = round_ + (o.plan == Plan::returned ? 2 : 1);
        if (o.plan != Plan::returned && !chance(0.6)) keep = false;  // not every order is closed
        break;
      default: keep = false;  // completed or returned
    }
    if (keep) kept.push_back(std::move(o));
  }
  orders_ = std::move(kept);
  std::vector<Transfer> in_transit;
  for (std::size_t i = 0; i < transfers_.size(); ++i) {
    if (transfer_touched[i] && (!transfer_ok[i] || transfers_[i].due <= round_)) continue;  // received or rejected
    if (transfers_[i].due != UINT64_MAX) in_transit.push_back(std::move(transfers_[i]));
  }
  transfers_ = std::move(in_transit);
}

void Generator::set_up() {
  const Catalog& c = catalog_;
  run_all(engine_, demo::network_commands(network), "master data");
  SetApprovalPolicy policy{
      {{"sales_director", director_min_cents, false, {}, 0, false}, {"region_manager", 0, true, {}, 0, false}}};
  run_all(engine_, {command("bench-policy", admin, policy)}, "approval policy");
  std::vector<Command> receipts;
  for (int w = 0; w < network.warehouses; ++w) {
    ReceiveStock r{c.warehouses[w], {}, fmt::format("OPENING-{}", w + 1)};
    for (int k = 0; k < network.skus; ++k)
      r.lines.push_back({c.skus[k], initial_units, fmt::format("LOT-0-{}-{}", w, k)});
    receipts.push_back(command(fmt::format("opening-receipt-{}", w), admin, std::move(r)));
  }
  run_all(engine_, std::move(receipts), "opening receipts");
  // Every dealer opens with 120 units of each of its SKUs, shipped and received.
  std::vector<Command> ship, receive;
  for (int d = 0; d < network.dealers; ++d) {
    std::string id = fmt::format("OPEN-{}", c.dealers[d]);
    ShipTransfer t{id, c.warehouse_locs[d % network.warehouses], c.dealer_locs[d], {}};
    for (int k : c.dealer_skus[d]) {
      if (std::none_of(t.lines.begin(), t.lines.end(), [&](const auto& l) { return l.sku == c.skus[k]; })) {
        t.lines.push_back({c.skus[k], 120, {}});
      }
    }
    ship.push_back(command("ship-" + id, admin, std::move(t)));
    receive.push_back(command("recv-" + id, admin, ReceiveTransfer{id}));
  }
  run_all(engine_, std::move(ship), "opening transfers");
  clock_.advance_us(hour_us);
  run_all(engine_, std::move(receive), "opening receipts of transfers");
}

void Generator::run() {
  auto start = SteadyClock::now();
  set_up();
  fmt::print(stderr, "build: master data and opening stock: {} events in {:.1f} s; {} threads submitting rounds\n",
             engine_.last_seq(), seconds_since(start), o_.threads);
  std::atomic<bool> finished{false};
  std::thread progress([&] {
    auto last = SteadyClock::now();
    std::uint64_t last_events = engine_.last_seq();
    while (!finished.load()) {
      for (int i = 0; i < 50 && !finished.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (finished.load()) break;
      std::uint64_t events = engine_.last_seq();
      double dt = seconds_since(last);
      double rate = static_cast<double>(events - last_events) / dt;
      double overall = static_cast<double>(events) / seconds_since(start);
      double eta = overall > 0 && o_.events > events ? static_cast<double>(o_.events - events) / overall : 0;
      WriterStats s = engine_.stats();
      fmt::print(stderr,
                 "build: {:>10} / {} events ({:4.1f}%), {:.0f} events/s now, {:.0f} overall, ETA {:.0f} s, "
                 "{:.0f} commands/batch, log {:.0f} MiB, clock +{:.1f} days\n",
                 events, o_.events, 100.0 * static_cast<double>(events) / static_cast<double>(o_.events), rate, overall,
                 eta, s.batches == 0 ? 0.0 : static_cast<double>(s.commands) / static_cast<double>(s.batches),
                 static_cast<double>(s.log_bytes) / 1048576.0,
                 static_cast<double>(clock_.now_us() - start_us) / day_us);
      last = SteadyClock::now();
      last_events = events;
    }
  });
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o_.threads; ++t) workers.push_back(std::make_unique<Worker>(*this, t, o_.seed));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  for (auto& t : threads) t.join();
  finished.store(true);
  progress.join();
  engine_.inspect([](const LedgerState&) {});  // stats() now cover every answered command
  std::uint64_t submitted = 0, rejected = 0;
  std::string by_kind;
  for (std::size_t k = 0; k < kind_count; ++k) {
    submitted += tally_.submitted[k].load();
    rejected += tally_.rejected[k].load();
    by_kind += fmt::format(" {} {}/{}", kind_names[k], tally_.rejected[k].load(), tally_.submitted[k].load());
  }
  fmt::print(stderr, "build: {} commands, {} rejected ({:.2f}%); rejected/submitted by kind:{}\n", submitted, rejected,
             submitted == 0 ? 0.0 : 100.0 * static_cast<double>(rejected) / static_cast<double>(submitted), by_kind);
  std::lock_guard lock(tally_.mu);
  for (std::size_t k = 0; k < kind_count; ++k) {
    if (!tally_.first_error[k].empty())
      fmt::print(stderr, "build:   first {} rejection: {}\n", kind_names[k], tally_.first_error[k]);
  }
}

// ---------------------------------------------------------------- the cached log

struct Marker {
  int version = 0;
  std::uint64_t seed = 0, threads = 0, events = 0, last_seq = 0;
  double build_seconds = 0;
  bool complete = false;
};

std::optional<Marker> read_marker(const fs::path& dir) {
  std::ifstream in(dir / marker_name);
  if (!in) return std::nullopt;
  Marker m;
  std::string key;
  while (in >> key) {
    if (key == "version")
      in >> m.version;
    else if (key == "seed")
      in >> m.seed;
    else if (key == "threads")
      in >> m.threads;
    else if (key == "events")
      in >> m.events;
    else if (key == "last_seq")
      in >> m.last_seq;
    else if (key == "build_seconds")
      in >> m.build_seconds;
    else if (key == "complete")
      in >> m.complete;
  }
  return m;
}

void write_marker(const fs::path& dir, const Marker& m) {
  std::ofstream out(dir / marker_name, std::ios::trunc);
  out << "generator bench_projections\nversion " << m.version << "\nseed " << m.seed << "\nthreads " << m.threads
      << "\nevents " << m.events << "\nlast_seq " << m.last_seq << "\nbuild_seconds " << m.build_seconds
      << "\ncomplete " << (m.complete ? 1 : 0) << "\n";
  if (!out) die(fmt::format("cannot write {}", (dir / marker_name).string()));
}

struct LogInfo {
  std::uint64_t events = 0;
  double build_seconds = 0;
  bool reused = false;
};

// Reuses the log in `dir` when this generator built it with at least o.events events, else builds it.
LogInfo prepare_log(const fs::path& dir, const Options& o) {
  std::optional<Marker> m = read_marker(dir);
  bool empty = !fs::exists(dir) || fs::is_empty(dir);
  if (m && m->complete && m->version == generator_version && m->seed == o.seed &&
      m->threads == static_cast<std::uint64_t>(o.threads) && m->events >= o.events) {
    auto last = log_last_seq(dir);
    if (last && *last == m->last_seq) {
      fmt::print(stderr, "log: reusing {} ({} events, built in {:.0f} s)\n", dir.string(), *last, m->build_seconds);
      if (*last > o.events * 11 / 10) {
        fmt::print(stderr, "log: note: it holds more than --events asks; every event is measured\n");
      }
      return LogInfo{*last, m->build_seconds, true};
    }
    fmt::print(stderr, "log: {} does not match its marker (last seq {}); building again\n", dir.string(),
               last ? std::to_string(*last) : last.error().to_string());
  }
  if (!empty && !m)
    die(fmt::format("{} is not empty and holds no {}: give an empty or new --dir", dir.string(), marker_name));
  if (!empty) {
    fmt::print(stderr, "log: {} was built with other settings; emptying it\n", dir.string());
    for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
  }
  fs::create_directories(dir);
  Marker building;
  building.version = generator_version;
  building.seed = o.seed;
  building.threads = static_cast<std::uint64_t>(o.threads);
  building.events = o.events;
  write_marker(dir, building);  // incomplete: an interrupted build is emptied next time
  fmt::print(stderr, "log: building {} events in {} (generator v{}, seed {})\n", o.events, dir.string(),
             generator_version, o.seed);
  auto start = SteadyClock::now();
  auto clock = std::make_shared<ManualClock>(start_us);
  {
    auto engine = open_engine(dir, map_bytes_for(o.events), clock);
    Generator g(*engine, *clock, o);
    g.run();
    WriterStats s = engine->stats();
    if (s.failed_batches != 0 || s.map_growths != 0) {
      fmt::print(stderr, "log: note: {} failed batches, {} map growths\n", s.failed_batches, s.map_growths);
    }
    fmt::print(stderr, "log: {} events, {} batches ({:.0f} commands/batch), simulated span {:.1f} days\n",
               engine->last_seq(), s.batches,
               s.batches == 0 ? 0.0 : static_cast<double>(s.commands) / static_cast<double>(s.batches),
               static_cast<double>(clock->now_us() - start_us) / day_us);
  }  // the engine drains and closes
  double seconds = seconds_since(start);
  auto last = log_last_seq(dir);
  if (!last) die(fmt::format("reading back the log: {}", last.error().to_string()));
  building.last_seq = *last;
  building.build_seconds = seconds;
  building.complete = true;
  write_marker(dir, building);
  fmt::print(stderr, "log: built {} events in {:.1f} s ({:.0f} events/s), {:.2f} GiB on disk\n", *last, seconds,
             static_cast<double>(*last) / seconds, static_cast<double>(bench::bytes_under(dir)) / (1u << 30));
  return LogInfo{*last, seconds, false};
}

// ---------------------------------------------------------------- the benchmarks

struct Baseline {
  double events_per_s = 0;
  double every_byte_events_per_s = 0;
  std::uint64_t events = 0, bytes = 0;
};

Baseline measure_raw_scan(const fs::path& dir) {
  bench::raw_scan(dir);  // warm-up: the page cache
  Baseline b;
  bench::ScanResult best;
  best.seconds = 1e30;
  for (int i = 0; i < 3; ++i) {  // the best of three: the box is noisy
    bench::ScanResult r = bench::raw_scan(dir);
    if (r.seconds < best.seconds) best = r;
  }
  b.events = best.events;
  b.bytes = best.bytes;
  b.events_per_s = static_cast<double>(best.events) / best.seconds;
  bench::ScanResult every = bench::raw_scan(dir, true);
  b.every_byte_events_per_s = static_cast<double>(every.events) / every.seconds;
  fmt::print(
      stderr, "raw_scan: {} events, {:.1f} MiB of records in {:.3f} s: {:.0f} events/s ({:.0f} reading every byte)\n",
      b.events, static_cast<double>(b.bytes) / 1048576.0, best.seconds, b.events_per_s, b.every_byte_events_per_s);
  return b;
}

// ReadModel::rebuild over the whole log; leaves the model's snapshots in DIR/snapshots.
void bench_rebuild_all(const fs::path& dir, const Baseline& scan, bool save_snapshots) {
  Rss before = rss_now();
  fmt::print(stderr, "rebuild_all: ReadModel::rebuild({})\n", dir.string());
  auto start = SteadyClock::now();
  auto last_report = start;
  auto rebuilt = ReadModel::rebuild(dir, 0, [&](std::uint64_t done, std::uint64_t total) {
    if (seconds_since(last_report) < 5) return;
    last_report = SteadyClock::now();
    double rate = static_cast<double>(done) / seconds_since(start);
    fmt::print(stderr, "rebuild_all: {} / {} events, {:.0f} events/s, ETA {:.0f} s\n", done, total, rate,
               static_cast<double>(total - done) / rate);
  });
  double seconds = seconds_since(start);
  if (!rebuilt) die(fmt::format("ReadModel::rebuild: {}", rebuilt.error().to_string()));
  auto& model = *rebuilt;
  if (model->last_seq() != scan.events)
    die(fmt::format("rebuild folded {} events, the scan saw {}", model->last_seq(), scan.events));
  Rss after = rss_now();
  double per_s = static_cast<double>(model->last_seq()) / seconds;
  fmt::print(stderr, "rebuild_all: {:.2f} s, {:.0f} events/s; {} orders; RSS {:.0f} -> {:.0f} MiB\n", seconds, per_s,
             model->ledger().order_count(), before.rss_mb, after.rss_mb);
  emit(JsonLine("rebuild_all")
           .field("events", model->last_seq())
           .field("seconds", seconds)
           .field("events_per_s", per_s)
           .field("baseline", "raw_scan")
           .field("baseline_events_per_s", scan.events_per_s)
           .field("ratio", per_s / scan.events_per_s)
           .field("raw_scan_every_byte_events_per_s", scan.every_byte_events_per_s)
           .field("target_events_per_s", 5e6)
           .field("target_ratio", 1.0 / 3)
           .field("projections", static_cast<int>(model->projections().size()) + 1)
           .field("orders", static_cast<std::uint64_t>(model->ledger().order_count()))
           .field("log_bytes", bench::bytes_under(dir / "data.mdb"))
           .field("record_bytes_avg", static_cast<double>(scan.bytes) / static_cast<double>(scan.events))
           .field("rss_mb_model", after.rss_mb - before.rss_mb)
           .field("log", "mixed")
           .str());
  if (save_snapshots) {
    auto save_start = SteadyClock::now();
    if (auto st = model->save_snapshots(dir); !st)
      die(fmt::format("ReadModel::save_snapshots: {}", st.error().to_string()));
    fmt::print(stderr, "rebuild_all: snapshots at seq {} written in {:.2f} s: {:.1f} MiB\n", model->last_seq(),
               seconds_since(save_start), static_cast<double>(bench::bytes_under(snapshot_dir(dir))) / 1048576.0);
  }
}

struct Restart {
  double seconds = 0, engine_open_seconds = 0, live_start_seconds = 0;
  std::uint64_t last_seq = 0, engine_from = 0, live_from = 0;
};

// Engine::open + LiveState::start(LiveOptions{dir}) until the projections caught up with the log.
Restart restart(const fs::path& dir, std::size_t map_bytes, std::uint64_t snapshot_every_events) {
  Restart r;
  auto start = SteadyClock::now();
  auto engine = open_engine(dir, map_bytes);
  r.engine_open_seconds = seconds_since(start);
  LiveOptions options;
  options.data_dir = dir;
  options.snapshot_every_events = snapshot_every_events;
  options.on_notice = [](std::string_view line) { fmt::print(stderr, "  live: {}\n", line); };
  auto live_start = SteadyClock::now();
  auto started = LiveState::start(*engine, options);
  if (!started) die(fmt::format("LiveState::start: {}", started.error().to_string()));
  auto& live = *started;
  r.last_seq = engine->last_seq();
  while (live->applied_seq() < r.last_seq) std::this_thread::sleep_for(std::chrono::microseconds(100));
  r.live_start_seconds = seconds_since(live_start);
  r.seconds = seconds_since(start);
  r.engine_from = engine->restored_from_seq();
  r.live_from = live->restored_from_seq();
  live.reset();  // untimed: writes the snapshots when it folded past them (the baseline)
  engine.reset();
  return r;
}

void bench_restart(const fs::path& dir, std::uint64_t events) {
  const fs::path snaps = snapshot_dir(dir), moved = dir / "snapshots.moved-by-bench";
  if (!fs::exists(snaps / "ledger.snap")) die(fmt::format("no snapshots in {}", snaps.string()));
  std::uint64_t snapshot_bytes = bench::bytes_under(snaps);
  std::size_t map_bytes = map_bytes_for(events);
  fmt::print(stderr, "restart: with the snapshots ({:.1f} MiB)\n", static_cast<double>(snapshot_bytes) / 1048576.0);
  Restart with = restart(dir, map_bytes, 0);
  fmt::print(
      stderr, "restart: {:.3f} s (engine open {:.3f} s from seq {}, live state {:.3f} s from seq {}) to seq {}\n",
      with.seconds, with.engine_open_seconds, with.engine_from, with.live_start_seconds, with.live_from, with.last_seq);
  if (with.engine_from != with.last_seq || with.live_from != with.last_seq) {
    fmt::print(stderr, "restart: WARNING: the snapshots were not (all) used\n");
  }
  // The baseline: the same with the snapshots moved away (put back afterwards, also on failure).
  fs::remove_all(moved);
  fs::rename(snaps, moved);  // a failure now leaves them there: the next run writes new ones
  fmt::print(stderr, "restart: baseline, the snapshots moved to {}\n", moved.string());
  Restart without = restart(dir, map_bytes, 0);
  fs::remove_all(snaps);  // what the baseline's LiveState wrote when it stopped
  fs::rename(moved, snaps);
  fmt::print(stderr, "restart: baseline {:.3f} s (engine open {:.3f} s, live state {:.3f} s)\n", without.seconds,
             without.engine_open_seconds, without.live_start_seconds);
  emit(JsonLine("restart_10m")
           .field("events", with.last_seq)
           .field("seconds", with.seconds)
           .field("engine_open_seconds", with.engine_open_seconds)
           .field("live_start_seconds", with.live_start_seconds)
           .field("snapshots_used", with.engine_from == with.last_seq && with.live_from == with.last_seq)
           .field("snapshot_bytes", snapshot_bytes)
           .field("baseline", "full_rebuild")
           .field("baseline_seconds", without.seconds)
           .field("baseline_engine_open_seconds", without.engine_open_seconds)
           .field("baseline_live_start_seconds", without.live_start_seconds)
           .field("ratio", with.seconds / without.seconds)
           .field("target_seconds", 1.0)
           .field("log", "mixed")
           .str());
}

void bench_verify(const fs::path& dir, const Baseline& scan) {
  fmt::print(stderr, "verify: verify_log({})\n", dir.string());
  auto start = SteadyClock::now();
  auto report = verify_log(dir);
  double seconds = seconds_since(start);
  if (!report) die(fmt::format("verify_log: {}", report.error().to_string()));
  if (report->events != scan.events)
    die(fmt::format("verify_log saw {} events, the scan {}", report->events, scan.events));
  double per_s = static_cast<double>(report->events) / seconds;
  fmt::print(stderr, "verify: {:.2f} s, {:.0f} events/s\n", seconds, per_s);
  emit(JsonLine("verify")
           .field("events", report->events)
           .field("seconds", seconds)
           .field("events_per_s", per_s)
           .field("baseline", "raw_scan")
           .field("baseline_events_per_s", scan.events_per_s)
           .field("ratio", per_s / scan.events_per_s)
           .field("log", "mixed")
           .str());
}

// The `ledger` CLI: --ledger-cli, else next to the build's bench/ directory.
fs::path find_ledger_cli(const Options& o) {
  if (!o.ledger_cli.empty()) return o.ledger_cli;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const fs::path& candidate : {self.parent_path().parent_path() / "ledger", self.parent_path() / "ledger"}) {
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

// Runs `argv` with stdin and stdout on /dev/null and stderr into `err_file` (not a TTY); returns the exit code.
int run_process(const std::vector<std::string>& args, const fs::path& err_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) die(fmt::format("cannot start {}: {}", args[0], std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) die(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void bench_export(const fs::path& dir, const Baseline& scan, const Options& o) {
  fs::path cli = find_ledger_cli(o);
  if (cli.empty())
    die("the `ledger` CLI was not found next to this binary: build target `ledger` or give --ledger-cli PATH");
  fs::path err = fs::temp_directory_path() / fmt::format("bench_projections.export.{}.stderr", ::getpid());
  std::vector<std::string> args{cli.string(), "export", "--data", dir.string(), "--output", "/dev/null"};
  fmt::print(stderr, "export: {} export --data {} --output /dev/null\n", cli.string(), dir.string());
  auto start = SteadyClock::now();
  int rc = run_process(args, err);
  double seconds = seconds_since(start);
  std::string err_text;
  {
    std::ifstream in(err);
    err_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  fs::remove(err);
  if (rc != 0) die(fmt::format("ledger export exited with {}: {}", rc, err_text));
  double per_s = static_cast<double>(scan.events) / seconds;
  fmt::print(stderr, "export: {:.2f} s, {:.0f} events/s{}\n", seconds, per_s,
             err_text.empty() ? "" : " (stderr: " + err_text + ")");
  emit(JsonLine("export")
           .field("events", scan.events)
           .field("seconds", seconds)
           .field("events_per_s", per_s)
           .field("baseline", "raw_scan")
           .field("baseline_events_per_s", scan.events_per_s)
           .field("ratio", per_s / scan.events_per_s)
           .field("mode", "cli")
           .field("output", "/dev/null")
           .field("log", "mixed")
           .str());
}

// ---------------------------------------------------------------- writer with slow subscribers

struct WriterRun {
  double commands_per_s = 0, seconds = 0, avg_batch = 0;
  std::uint64_t max_lag = 0, end_lag = 0, delivered_min = 0, log_bytes = 0;
  Rss before, after, peak;
};

// A fresh data directory: master data (200 dealers, 1000 stores) and plenty of stock; then
// o.writer_commands ShipTransfer commands from 4 threads, with `subscribers` slow subscribers attached.
WriterRun writer_run(const fs::path& dir, const Options& o, int subscribers) {
  const demo::NetworkSize small{32, 8, 200, 1000, 300};
  auto engine = open_engine(dir, std::size_t{4} << 30, {}, true);
  run_all(*engine, demo::network_commands(small), "master data");
  std::vector<Command> receipts;
  for (int w = 0; w < small.warehouses; ++w) {
    ReceiveStock r{demo::warehouse_id(w), {}, fmt::format("W-{}", w)};
    for (int k = 0; k < small.skus; ++k) r.lines.push_back({demo::sku_id(k), limits::qty_max, {}});
    receipts.push_back(command(fmt::format("writer-receipt-{}", w), admin, std::move(r)));
  }
  run_all(*engine, std::move(receipts), "receipts");
  std::vector<std::string> from, to, skus;
  for (int w = 0; w < small.warehouses; ++w) from.push_back("warehouse:" + demo::warehouse_id(w));
  for (int s = 0; s < small.stores; ++s) to.push_back("store:" + demo::store_id(s));
  for (int d = 0; d < small.dealers; ++d) to.push_back("dealer:" + demo::dealer_id(d));
  for (int k = 0; k < small.skus; ++k) skus.push_back(demo::sku_id(k));

  WriterRun r;
  r.before = rss_now();
  std::vector<std::unique_ptr<Subscription>> subs;
  std::uint64_t from_seq = engine->last_seq() + 1;
  std::chrono::microseconds sleep(o.subscriber_sleep_us);
  for (int i = 0; i < subscribers; ++i) {
    subs.push_back(Subscription::start(*engine, from_seq, [sleep](const fb::Event&, const Hash32&) {
      std::this_thread::sleep_for(sleep);
      return true;
    }));
  }
  std::atomic<bool> stop{false};
  std::thread monitor([&] {
    while (!stop.load()) {
      for (const auto& s : subs) r.max_lag = std::max(r.max_lag, s->lag());
      Rss now = rss_now();
      r.peak.rss_mb = std::max(r.peak.rss_mb, now.rss_mb);
      r.peak.anon_mb = std::max(r.peak.anon_mb, now.anon_mb);
      r.peak.file_mb = std::max(r.peak.file_mb, now.file_mb);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  WriterStats stats_before = engine->stats();
  constexpr int threads = 4;
  constexpr std::uint64_t in_flight_per_thread = 8192;
  Completions answers;
  std::atomic<std::uint64_t> submitted{0};
  auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = static_cast<std::uint64_t>(t); i < o.writer_commands; i += threads) {
        for (;;) {  // keep the queue fed but bounded
          std::uint64_t done = answers.completed.load(std::memory_order_acquire);
          if (submitted.load(std::memory_order_relaxed) - done < in_flight_per_thread * threads) break;
          answers.completed.wait(done, std::memory_order_acquire);
        }
        submitted.fetch_add(1, std::memory_order_relaxed);
        std::string id = fmt::format("WT-{:010}", i);
        ShipTransfer c{id,
                       from[i % from.size()],
                       to[(i * 7919) % to.size()],
                       {{skus[(i * 31) % skus.size()], static_cast<std::int64_t>(1 + i % 5), {}}}};
        engine->submit(command("ship-" + id, admin, std::move(c)),
                       [&answers](const CommandResult& res) { answers.done(res); });
      }
    });
  }
  for (auto& t : pool) t.join();
  answers.wait_for(o.writer_commands);
  r.seconds = seconds_since(start);
  engine->inspect([](const LedgerState&) {});
  stop.store(true);
  monitor.join();
  if (answers.rejected.load() != 0)
    die(fmt::format("writer: {} rejected; first: {}", answers.rejected.load(), answers.first_error));
  WriterStats stats_after = engine->stats();
  r.commands_per_s = static_cast<double>(o.writer_commands) / r.seconds;
  std::uint64_t batches = stats_after.batches - stats_before.batches;
  r.avg_batch = batches == 0
                    ? 0
                    : static_cast<double>(stats_after.commands - stats_before.commands) / static_cast<double>(batches);
  r.after = rss_now();
  r.peak.rss_mb = std::max(r.peak.rss_mb, r.after.rss_mb);
  r.peak.anon_mb = std::max(r.peak.anon_mb, r.after.anon_mb);
  r.log_bytes = stats_after.log_bytes;
  r.delivered_min = UINT64_MAX;
  for (const auto& s : subs) {
    r.end_lag = std::max(r.end_lag, s->lag());
    r.delivered_min = std::min(r.delivered_min, s->delivered_seq() + 1 - from_seq);
    if (auto e = s->error()) die(fmt::format("a subscriber failed: {}", e->to_string()));
  }
  if (subs.empty()) r.delivered_min = 0;
  r.max_lag = std::max(r.max_lag, r.end_lag);
  subs.clear();  // each stops after the event it is handling
  engine.reset();
  return r;
}

void bench_subscribers(const fs::path& root, const Options& o) {
  const fs::path alone = root / "writer_alone", with = root / "writer_with_subscribers";
  fs::remove_all(alone);
  fs::remove_all(with);
  fmt::print(stderr, "writer_with_slow_subscribers: {} transfers from 4 threads, alone, in {}\n", o.writer_commands,
             alone.string());
  // Alone before and after the run with subscribers; the baseline is the faster of the two (the
  // first run also warms the allocator and the page cache).
  WriterRun a = writer_run(alone, o, 0);
  fmt::print(stderr,
             "writer_with_slow_subscribers: alone {:.0f} commands/s ({:.2f} s, {:.0f} per batch); RSS anon {:.0f} -> "
             "{:.0f} MiB\n",
             a.commands_per_s, a.seconds, a.avg_batch, a.before.anon_mb, a.after.anon_mb);
  fs::remove_all(alone);
  fmt::print(stderr, "writer_with_slow_subscribers: with {} subscribers sleeping {} us per event, in {}\n",
             o.subscribers, o.subscriber_sleep_us, with.string());
  WriterRun w = writer_run(with, o, o.subscribers);
  fs::remove_all(with);
  WriterRun a2 = writer_run(alone, o, 0);
  fmt::print(stderr, "writer_with_slow_subscribers: alone again {:.0f} commands/s ({:.2f} s, {:.0f} per batch)\n",
             a2.commands_per_s, a2.seconds, a2.avg_batch);
  fs::remove_all(alone);
  const WriterRun first = a;  // its RSS figures are the cleanest: nothing ran before it
  if (a2.commands_per_s > a.commands_per_s) a = a2;
  fmt::print(
      stderr,
      "writer_with_slow_subscribers: {:.0f} commands/s ({:.2f} s, {:.0f} per batch); max lag {} events, {} at the end "
      "(the slowest handled {}); RSS {:.0f} -> {:.0f} MiB (peak {:.0f}; anon {:.0f} -> {:.0f}); log {:.1f} MiB vs "
      "{:.1f} alone\n",
      w.commands_per_s, w.seconds, w.avg_batch, w.max_lag, w.end_lag, w.delivered_min, w.before.rss_mb, w.after.rss_mb,
      w.peak.rss_mb, w.before.anon_mb, w.after.anon_mb, static_cast<double>(w.log_bytes) / 1048576.0,
      static_cast<double>(a.log_bytes) / 1048576.0);
  emit(JsonLine("writer_with_slow_subscribers")
           .field("commands", o.writer_commands)
           .field("commands_per_s", w.commands_per_s)
           .field("baseline", "writer_alone")
           .field("baseline_commands_per_s", a.commands_per_s)
           .field("baseline_runs_commands_per_s_min", std::min(first.commands_per_s, a2.commands_per_s))
           .field("ratio", w.commands_per_s / a.commands_per_s)
           .field("subscribers", o.subscribers)
           .field("subscriber_sleep_us", o.subscriber_sleep_us)
           .field("max_lag", w.max_lag)
           .field("end_lag", w.end_lag)
           .field("slowest_delivered", w.delivered_min)
           .field("batch", w.avg_batch)
           .field("baseline_batch", a.avg_batch)
           .field("rss_mb_before", w.before.rss_mb)
           .field("rss_mb_after", w.after.rss_mb)
           .field("rss_mb_peak", w.peak.rss_mb)
           .field("rss_anon_mb_before", w.before.anon_mb)
           .field("rss_anon_mb_after", w.after.anon_mb)
           .field("baseline_rss_anon_mb_before", first.before.anon_mb)
           .field("baseline_rss_anon_mb_after", first.after.anon_mb)
           .field("log_bytes", w.log_bytes)
           .field("baseline_log_bytes", a.log_bytes)
           .field("durability", "os_buffered")
           .field("threads", 4)
           .str());
}

}  // namespace

int main(int argc, char** argv) {
  bench::set_program("bench_projections");
  Options o = parse_args(argc, argv);
  auto run_start = SteadyClock::now();
  bench::Scratch scratch = bench::make_scratch(o.dir, "bench_projections");
  // With --dir the log is a cache and stays; a fresh /tmp directory goes unless --keep.
  const bool remove_root = o.dir.empty() && !o.keep;
  if (remove_root) bench::remove_on_failure({scratch.root});
  const fs::path dir = scratch.root;
  fmt::print(stderr, "bench_projections: {} events, log in {}\n", o.events, dir.string());

  // First, while the process is small: its RSS figures are then the subscribers' and the writer's.
  if (wanted(o, "subscribers")) {
    bench::Scratch writer_root = bench::make_scratch({}, "bench_projections_writer");
    bench::also_remove_on_failure(writer_root.root);
    bench_subscribers(writer_root.root, o);
    fs::remove_all(writer_root.root);
  }
  if (o.only.size() == 1 && o.only.front() == "subscribers") {  // no log needed
    if (remove_root) fs::remove_all(dir);
    fmt::print(stderr, "bench_projections: done in {:.1f} s\n", seconds_since(run_start));
    return 0;
  }

  LogInfo log = prepare_log(dir, o);
  fmt::print(stderr, "log: {} events, {:.2f} GiB (data.mdb {:.2f} GiB), {} in {:.0f} s\n", log.events,
             static_cast<double>(bench::bytes_under(dir)) / (1u << 30),
             static_cast<double>(bench::bytes_under(dir / "data.mdb")) / (1u << 30),
             log.reused ? "reused, built" : "built", log.build_seconds);

  bool need_scan = wanted(o, "rebuild_all") || wanted(o, "verify") || wanted(o, "export");
  Baseline scan;
  if (need_scan) scan = measure_raw_scan(dir);
  if (wanted(o, "rebuild_all") || wanted(o, "restart")) {
    if (!need_scan) scan = measure_raw_scan(dir);
    bench_rebuild_all(dir, scan, wanted(o, "restart"));
  }
  if (wanted(o, "restart")) bench_restart(dir, log.events);
  if (wanted(o, "verify")) bench_verify(dir, scan);
  if (wanted(o, "export")) bench_export(dir, scan, o);
  if (remove_root) fs::remove_all(dir);
  fmt::print(stderr, "bench_projections: done in {:.1f} s{}\n", seconds_since(run_start),
             remove_root ? std::string() : fmt::format(" (log kept in {})", dir.string()));
  return 0;
}

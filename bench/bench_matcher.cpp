// bench_matcher: the sourcing matcher and orders end to end, each against a baseline measured in the
// same run. One JSON object per line on stdout; progress and diagnostics on stderr.
//
//   matcher_8wh, matcher_256wh   one matcher thread (per core): StockTable::gather + Matcher::match_into
//                                per plan, on the lock-free stock table of a real Engine + LiveState while
//                                a writer thread keeps submitting stock events (receipts, transfers between
//                                warehouses shipped and received; "writer_commands_per_s"). Orders of 1-3
//                                lines over 300 SKUs (popular ones more often), each warehouse stocking
//                                ~70% of the SKUs, ship-to points across China, every channel. plans_per_s
//                                from an untimed pass; p50/p99/max from a second pass timing each plan
//                                (gather included). Baseline: Matcher::brute_force on the same orders and
//                                stock table in the same run (fewer plans; at 256 warehouses limited to
//                                splits_max=2, named in "baseline_splits_max"). same_best_share: how often
//                                match and brute force pick the same best plan on the same view.
//   orders_e2e                   PlaceOrder sold by hq to dealers (dealer_storefront) from several threads
//                                through Engine::submit, durable (fsync per batch): validation, the
//                                writer's matcher on the authoritative state, reservations, commit.
//                                Baseline: as many CreateReservation commands (same lines, warehouse ->
//                                dealer) through a fresh engine set up the same way (raw_reservations).
//   orders_with_coupons          PlaceOrder sold by hq to members (at retail, every channel) the same way,
//                                durable, each redeeming one coupon of a 10%-off campaign (no budget):
//                                the redemption checks, the discount spread over the lines, CouponRedeemed.
//                                Baseline ("orders_e2e", baseline_kind member_orders_no_coupon): the same
//                                member orders without a coupon, on a fresh engine set up the same way
//                                (network, stock, members, campaign, coupons issued), in the same run;
//                                --repeat runs of each, alternately, the best of each reported.
//   hot_campaign                 One campaign of 10 yuan off with a budget of --hot-budget redemptions,
//                                --hot-members members each holding one coupon of it, every member's
//                                order (one coupon each) submitted at once from the threads: every order
//                                reads and bumps the same campaign record. Checked afterwards: exactly
//                                min(budget, members) redeemed, the rest refused with budget_exhausted.
//                                redemptions_per_s: redemption requests answered per second (redeemed and
//                                refused; redeemed_per_s counts the first only). Baseline: the member
//                                orders without a coupon above (baseline_orders_per_s of orders_with_coupons).
//
// --only matcher,orders,marketing runs some of the three groups (default: all).
#include <fmt/format.h>
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
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "answers.hpp"
#include "ledger/demo_network.hpp"
#include "ledger/engine.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/limits.hpp"
#include "ledger/live_state.hpp"
#include "ledger/location.hpp"
#include "ledger/marketing.hpp"
#include "ledger/matcher.hpp"
#include "ledger/stock_table.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using namespace ledger;
using bench::Completions;
using bench::die;
using bench::emit;
using bench::num;
using bench::parse_u64;
using bench::run_all;
using bench::seconds_since;
using bench::SteadyClock;

namespace {

// ---------------------------------------------------------------- options and helpers

struct Options {
  std::uint64_t plans = 1'000'000;         // matcher plans measured at 8 warehouses
  std::uint64_t baseline_plans = 20'000;   // brute-force plans at 8 warehouses
  std::uint64_t plans_256 = 100'000;       // matcher plans at 256 warehouses
  std::uint64_t baseline_plans_256 = 100;  // brute-force plans at 256 warehouses (splits_max 2)
  std::uint64_t orders = 200'000;          // orders (and reservations) end to end
  std::uint64_t member_orders = 100'000;   // member orders with a coupon, and as many without
  std::uint64_t members = 10'000;          // members placing them
  std::uint64_t hot_members = 100'000;     // members with a coupon of the hot campaign
  std::uint64_t hot_budget = 50'000;       // its max_redemptions
  std::uint64_t repeat = 2;                // member orders with and without coupons, alternately: the best of each
  bool run_matcher = true, run_orders = true, run_marketing = true;
  int threads = 4;                         // submitting threads end to end
  double writer_rate = 5'000;              // stock commands per second while the matcher runs
  fs::path dir;
  bool keep = false;
};

void usage() {
  fmt::print(
      stderr,
      "usage: bench_matcher [--plans N] [--baseline-plans N] [--plans-256 N] [--baseline-plans-256 N]\n"
      "                     [--orders N] [--threads N] [--writer-rate N] [--member-orders N] [--members N]\n"
      "                     [--hot-members N] [--hot-budget N] [--repeat N] [--only GROUPS] [--dir DIR] [--keep]\n"
      "  --plans N               matcher plans at 8 warehouses (default 1000000)\n"
      "  --baseline-plans N      brute-force plans at 8 warehouses (default 20000)\n"
      "  --plans-256 N           matcher plans at 256 warehouses (default 100000)\n"
      "  --baseline-plans-256 N  brute-force plans at 256 warehouses, splits_max 2 (default 100)\n"
      "  --orders N              orders end to end, and as many reservations (default 200000)\n"
      "  --threads N             submitting threads end to end (default 4)\n"
      "  --writer-rate N         stock commands/s submitted while the matcher runs (default 5000)\n"
      "  --member-orders N       member orders with one coupon each, and as many without (default 100000)\n"
      "  --members N             members placing them (default 10000)\n"
      "  --hot-members N         members with a coupon of the hot campaign, one order each (default 100000)\n"
      "  --hot-budget N          the hot campaign's max_redemptions (default 50000)\n"
      "  --repeat N              runs of the member orders without and with coupons, alternately, each on a\n"
      "                          fresh engine; the best of each is reported (default 2)\n"
      "  --only GROUPS           comma-separated: matcher (matcher_8wh, matcher_256wh), orders (orders_e2e),\n"
      "                          marketing (orders_with_coupons, hot_campaign); default all\n"
      "  --dir DIR               scratch directory (default: a fresh one under /tmp, removed at the end)\n"
      "  --keep                  keep the scratch data\n");
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
    if (a == "--plans") {
      o.plans = parse_u64(a, next());
    } else if (a == "--baseline-plans") {
      o.baseline_plans = parse_u64(a, next());
    } else if (a == "--plans-256") {
      o.plans_256 = parse_u64(a, next());
    } else if (a == "--baseline-plans-256") {
      o.baseline_plans_256 = parse_u64(a, next());
    } else if (a == "--orders") {
      o.orders = parse_u64(a, next());
    } else if (a == "--threads") {
      o.threads = static_cast<int>(std::min<std::uint64_t>(64, parse_u64(a, next())));
    } else if (a == "--writer-rate") {
      o.writer_rate = static_cast<double>(parse_u64(a, next()));
    } else if (a == "--member-orders") {
      o.member_orders = parse_u64(a, next());
    } else if (a == "--members") {
      o.members = parse_u64(a, next());
    } else if (a == "--hot-members") {
      o.hot_members = std::min<std::uint64_t>(parse_u64(a, next()), 9'999'999);  // codes HOT-000001 on
    } else if (a == "--hot-budget") {
      o.hot_budget = parse_u64(a, next());
    } else if (a == "--repeat") {
      o.repeat = std::min<std::uint64_t>(parse_u64(a, next()), 100);
    } else if (a == "--only") {
      std::string_view groups = next();
      o.run_matcher = o.run_orders = o.run_marketing = false;
      while (!groups.empty()) {
        std::string_view g = groups.substr(0, groups.find(','));
        groups.remove_prefix(std::min(groups.size(), g.size() + 1));
        if (g == "matcher") {
          o.run_matcher = true;
        } else if (g == "orders") {
          o.run_orders = true;
        } else if (g == "marketing") {
          o.run_marketing = true;
        } else {
          usage();
          die(fmt::format("--only: unknown group '{}'", g));
        }
      }
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--keep") {
      o.keep = true;
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

Command bench_command(std::string id, CommandBody body) {
  return Command{std::move(id), Actor{"bench", "hq_admin", ""}, std::move(body)};
}

std::int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<Engine> open_engine(const fs::path& dir) {
  EngineOptions options;
  options.dir = dir;
  options.map_bytes_initial = std::size_t{4} << 30;  // no map growth (a refold) inside a measurement
  auto opened = Engine::open(options);
  if (!opened) die(fmt::format("opening the engine in {}: {}", dir.string(), opened.error().to_string()));
  return std::move(*opened);
}

// ---------------------------------------------------------------- the network and its stock

struct Network {
  demo::NetworkSize size;
  std::vector<std::string> warehouses, skus, dealers, regions;
  std::vector<std::vector<bool>> holds;  // [warehouse][sku]: stocked there at all
};

// Master data, then receipts: each warehouse stocks about 70% of the SKUs, `qty(w, k)` units each.
template <typename Qty>
Network set_up(Engine& engine, demo::NetworkSize size, std::uint64_t seed, Qty&& qty) {
  Network n;
  n.size = size;
  for (int w = 0; w < size.warehouses; ++w) n.warehouses.push_back(demo::warehouse_id(w));
  for (int k = 0; k < size.skus; ++k) n.skus.push_back(demo::sku_id(k));
  for (int d = 0; d < size.dealers; ++d) n.dealers.push_back(demo::dealer_id(d));
  for (int r = 0; r < size.regions; ++r) n.regions.push_back(demo::region_id(r));
  run_all(engine, demo::network_commands(size), "network");
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution stocked(0.7);
  n.holds.assign(size.warehouses, std::vector<bool>(size.skus, false));
  std::vector<Command> receipts;
  for (int w = 0; w < size.warehouses; ++w) {
    ReceiveStock r{n.warehouses[w], {}, fmt::format("SETUP-{}", w + 1)};
    for (int k = 0; k < size.skus; ++k) {
      if (!stocked(rng)) continue;
      n.holds[w][k] = true;
      r.lines.push_back({n.skus[k], qty(rng), {}});
    }
    if (!r.lines.empty()) receipts.push_back(bench_command(fmt::format("setup-receipt-{}", w), std::move(r)));
  }
  run_all(engine, std::move(receipts), "receipts");
  return n;
}

// An order as the API would hand it to the matcher.
struct Order {
  std::vector<WantedLine> lines;  // views into Network::skus
  std::vector<int> sku_index;
  std::string region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
  std::int64_t promise_after_us = 0;
  std::string channel;
  int dealer = 0;
};

constexpr const char* channels[] = {"regional_storefront", "dealer_storefront", "store", "o2o"};

// 1-3 lines of distinct SKUs (the popular ones more often), 1-24 units each, a ship-to point in
// China (20-45N, 98-125E), promised in one to four days.
std::vector<Order> make_orders(const Network& n, std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  auto pick = [&](int hi) { return std::uniform_int_distribution<int>(0, hi - 1)(rng); };
  std::vector<Order> orders(count);
  for (auto& o : orders) {
    int lines = 1 + pick(3);
    while (static_cast<int>(o.sku_index.size()) < lines) {
      double u = unit(rng);
      int k = static_cast<int>(u * u * n.size.skus);  // skewed towards the low ids
      if (std::find(o.sku_index.begin(), o.sku_index.end(), k) == o.sku_index.end()) o.sku_index.push_back(k);
    }
    for (int k : o.sku_index) o.lines.push_back({n.skus[k], 1 + pick(24)});
    o.dealer = pick(n.size.dealers);
    o.region = n.regions[demo::region_of_dealer(o.dealer, n.size)];
    o.lat_e6 = 20'000'000 + pick(25'000'000);
    o.lon_e6 = 98'000'000 + pick(27'000'000);
    o.promise_after_us = (24 + pick(72)) * 3'600'000'000LL;
    o.channel = channels[pick(4)];
  }
  return orders;
}

// ---------------------------------------------------------------- the concurrent writer

// Keeps submitting stock events at about `rate` commands/s until stopped: receipts of a few SKUs at
// one warehouse, transfers between two warehouses (sized from the stock table, so a stale read may
// be rejected: counted, not fatal) and the receipt of every transfer that shipped.
class StockWriter {
 public:
  StockWriter(Engine& engine, const LiveState& live, const Network& n, double rate)
      : engine_(engine), live_(live), n_(n), rate_(rate) {}
  void start() {
    start_ = SteadyClock::now();
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_.store(true);
    thread_.join();
    c_.wait_for(submitted_);
    seconds_ = seconds_since(start_);
  }
  double commands_per_s() const { return static_cast<double>(c_.completed.load()) / seconds_; }
  std::uint64_t rejected() const { return c_.rejected.load(); }
  std::uint64_t answered() const { return c_.completed.load(); }

 private:
  void run() {
    std::mt19937_64 rng(99);
    auto pick = [&](std::size_t hi) { return std::uniform_int_distribution<std::size_t>(0, hi - 1)(rng); };
    std::uint64_t seq = 0;
    constexpr int group = 16;
    auto tick = std::chrono::duration<double>(group / rate_);
    auto next = SteadyClock::now();
    while (!stop_.load(std::memory_order_relaxed)) {
      std::vector<std::string> shipped;
      {
        std::lock_guard lock(mu_);
        shipped.swap(shipped_);
      }
      for (auto& id : shipped) submit(bench_command("recv-" + id, ReceiveTransfer{id}), nullptr);
      for (int g = 0; g < group; ++g) {
        ++seq;
        std::size_t from = pick(n_.warehouses.size());
        if (g % 2 == 0) {
          ReceiveStock r{n_.warehouses[from], {}, fmt::format("W-{}", seq)};
          for (std::size_t l = 0, lines = 1 + pick(3); l < lines; ++l) {
            r.lines.push_back({n_.skus[pick(n_.skus.size())], static_cast<std::int64_t>(1 + pick(50)), {}});
          }
          submit(bench_command(fmt::format("w-receipt-{}", seq), std::move(r)), nullptr);
        } else {
          std::size_t to = (from + 1 + pick(n_.warehouses.size() - 1)) % n_.warehouses.size();
          const std::string& sku = n_.skus[pick(n_.skus.size())];
          std::int64_t have = live_.stock_table().available(n_.warehouses[from], sku);
          if (have <= 0) continue;
          std::string id = fmt::format("WT-{}", seq);
          ShipTransfer t{id,
                         "warehouse:" + n_.warehouses[from],
                         "warehouse:" + n_.warehouses[to],
                         {{sku, std::min<std::int64_t>(have, 1 + static_cast<std::int64_t>(pick(20))), {}}}};
          std::string command_id = "ship-" + id;
          submit(bench_command(std::move(command_id), std::move(t)), [this, id](const CommandResult& r) {
            if (!r.ok()) return;
            std::lock_guard lock(mu_);
            shipped_.push_back(id);
          });
        }
      }
      next += std::chrono::duration_cast<SteadyClock::duration>(tick);
      std::this_thread::sleep_until(next);
    }
  }
  void submit(Command command, std::function<void(const CommandResult&)> then) {
    ++submitted_;
    engine_.submit(std::move(command), [this, then = std::move(then)](const CommandResult& r) {
      if (then) then(r);
      c_.done(r);
    });
  }

  Engine& engine_;
  const LiveState& live_;
  const Network& n_;
  double rate_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::uint64_t submitted_ = 0;  // writer thread only until stop() joined it
  Completions c_;
  std::mutex mu_;
  std::vector<std::string> shipped_;  // guarded by mu_
  SteadyClock::time_point start_;
  double seconds_ = 0;
};

// ---------------------------------------------------------------- the matcher benchmark

struct Measured {
  double plans_per_s = 0, p50_us = 0, p99_us = 0, max_us = 0;
  std::uint64_t plans = 0, with_plan = 0, split = 0, partial = 0;
};

MatchRequest request_for(const Order& o, const StockView& view, std::int64_t now_us) {
  MatchRequest request;
  request.lines = view.lines;
  request.ship_to_lat_e6 = o.lat_e6;
  request.ship_to_lon_e6 = o.lon_e6;
  request.now_us = now_us;
  request.promised_by_us = now_us + o.promise_after_us;
  request.channel = o.channel;
  request.allow_partial = false;
  request.weights = view.weights;
  return request;
}

// One thread: gather + match (or brute force) per order, over the orders in turn. First `count`
// plans untimed (the throughput: no clock read between plans), then `count` more each timed on its
// own (the latencies: p50, p99, max).
template <typename Run>
Measured measure(const StockTable& table, const std::vector<Order>& orders, std::uint64_t count, Run&& run) {
  Measured m;
  StockView view;
  std::vector<Plan> plans;
  std::int64_t now_us = wall_now_us();
  auto one = [&](std::uint64_t i) {
    const Order& o = orders[i % orders.size()];
    if (table.gather(o.lines, o.region, now_us, view) != -1) die("an order names an unknown SKU");
    MatchRequest request = request_for(o, view, now_us);
    run(request, view, plans);
  };
  auto start = SteadyClock::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    one(i);
    if (!plans.empty()) {
      ++m.with_plan;
      m.split += plans.front().warehouses.size() > 1 ? 1 : 0;
      m.partial += plans.front().feasible() ? 0 : 1;
    }
  }
  double seconds = seconds_since(start);
  m.plans = count;
  m.plans_per_s = static_cast<double>(count) / seconds;
  std::vector<std::uint32_t> ns(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    auto t0 = SteadyClock::now();
    one(i);
    auto t1 = SteadyClock::now();
    ns[i] = static_cast<std::uint32_t>(
        std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), UINT32_MAX));
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return ns[std::min<std::size_t>(ns.size() - 1, static_cast<std::size_t>(q * ns.size()))] / 1000.0;
  };
  m.p50_us = at(0.50);
  m.p99_us = at(0.99);
  m.max_us = ns.back() / 1000.0;
  return m;
}

// How often the matcher's best plan is the brute force's, on the same gathered view.
double same_best_share(const StockTable& table, const std::vector<Order>& orders, std::uint64_t count,
                       const MatchOptions& options) {
  Matcher matcher, reference;
  StockView view;
  std::int64_t now_us = wall_now_us();
  std::uint64_t same = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const Order& o = orders[i % orders.size()];
    if (table.gather(o.lines, o.region, now_us, view) != -1) die("an order names an unknown SKU");
    MatchRequest request = request_for(o, view, now_us);
    auto a = matcher.match(request, view.warehouses, options);
    auto b = reference.brute_force(request, view.warehouses, options);
    bool equal =
        a.size() == b.size() && (a.empty() || (a[0].warehouses == b[0].warehouses && a[0].score == b[0].score));
    same += equal ? 1 : 0;
  }
  return static_cast<double>(same) / static_cast<double>(count);
}

void bench_matcher(const fs::path& dir, int warehouses, std::uint64_t plans, std::uint64_t baseline_plans,
                   std::size_t baseline_splits_max, const Options& o) {
  std::string name = fmt::format("matcher_{}wh", warehouses);
  fmt::print(stderr, "{}: setting up {} warehouses x 300 SKUs in {}\n", name, warehouses, dir.string());
  auto engine = open_engine(dir);
  demo::NetworkSize size{32, warehouses, 200, 100, 300};
  // Stock well above the usual order (1-24 units a line), sometimes short: some orders must split.
  Network n = set_up(*engine, size, 1000 + warehouses, [](std::mt19937_64& rng) {
    std::uniform_int_distribution<std::int64_t> q(1, 400);
    std::int64_t v = q(rng);
    return v < 40 ? v / 4 + 1 : v;
  });
  auto started = LiveState::start(*engine);
  if (!started) die(fmt::format("LiveState::start: {}", started.error().to_string()));
  auto live = std::move(*started);
  std::vector<Order> orders = make_orders(n, 50'000, 7 + warehouses);
  const StockTable& table = live->stock_table();

  StockWriter writer(*engine, *live, n, o.writer_rate);
  writer.start();
  Matcher matcher;
  MatchOptions options;
  measure(table, orders, std::min<std::uint64_t>(plans, 20'000),  // warm-up: caches, buffers
          [&](const MatchRequest& r, const StockView& v, std::vector<Plan>& out) {
            matcher.match_into(r, v.warehouses, options, out);
          });
  fmt::print(stderr, "{}: {} plans with the matcher\n", name, plans);
  Measured m = measure(table, orders, plans, [&](const MatchRequest& r, const StockView& v, std::vector<Plan>& out) {
    matcher.match_into(r, v.warehouses, options, out);
  });
  fmt::print(stderr, "{}: {:.0f} plans/s, p50 {:.2f} us, p99 {:.2f} us; brute force, {} plans\n", name, m.plans_per_s,
             m.p50_us, m.p99_us, baseline_plans);
  Matcher reference;
  MatchOptions baseline_options;
  baseline_options.splits_max = baseline_splits_max;
  Measured b =
      measure(table, orders, baseline_plans, [&](const MatchRequest& r, const StockView& v, std::vector<Plan>& out) {
        out = reference.brute_force(r, v.warehouses, baseline_options);
      });
  writer.stop();
  double agree = same_best_share(table, orders, std::min<std::uint64_t>(baseline_plans, 2'000), baseline_options);
  fmt::print(stderr, "{}: brute force {:.0f} plans/s; writer {:.0f} commands/s ({} answered, {} rejected)\n", name,
             b.plans_per_s, writer.commands_per_s(), writer.answered(), writer.rejected());
  emit(fmt::format(R"({{"bench":"{}","plans":{},"plans_per_s":{},"p50_us":{},"p99_us":{},"max_us":{},)"
                   R"("baseline":"brute_force","baseline_plans":{},"baseline_plans_per_s":{},"baseline_p99_us":{},)"
                   R"("baseline_splits_max":{},"ratio":{},"splits_max":{},"exact_candidates_max":{},)"
                   R"("same_best_share":{},"split_share":{},"no_plan_share":{},"warehouses":{},"skus":300,)"
                   R"("matcher_threads":1,"writer_commands_per_s":{},"writer_rejected":{}}})",
                   name, m.plans, num(m.plans_per_s), num(m.p50_us), num(m.p99_us), num(m.max_us), b.plans,
                   num(b.plans_per_s), num(b.p99_us), baseline_splits_max, num(m.plans_per_s / b.plans_per_s),
                   options.splits_max, options.exact_candidates_max, num(agree),
                   num(static_cast<double>(m.split) / static_cast<double>(m.plans)),
                   num(1.0 - static_cast<double>(m.with_plan) / static_cast<double>(m.plans)), warehouses,
                   num(writer.commands_per_s()), writer.rejected()));
  live.reset();
  engine.reset();
  if (!o.keep) fs::remove_all(dir);
}

// ---------------------------------------------------------------- orders end to end

// Submits commands from `threads` threads (command i from thread i % threads), at most `in_flight`
// unanswered per thread; returns the seconds from the first submit to the last answer.
template <typename Make>
double submit_from_threads(Engine& engine, std::uint64_t count, int threads, Make&& make, const char* what) {
  Completions c;
  std::atomic<std::uint64_t> submitted{0};
  constexpr std::uint64_t in_flight = 8192;
  auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = static_cast<std::uint64_t>(t); i < count; i += static_cast<std::uint64_t>(threads)) {
        // Keep the queue fed but bounded (the writer takes at most 8192 a batch).
        for (;;) {
          std::uint64_t done = c.completed.load(std::memory_order_acquire);
          if (submitted.load(std::memory_order_relaxed) - done < in_flight * static_cast<std::uint64_t>(threads)) break;
          c.completed.wait(done, std::memory_order_acquire);
        }
        submitted.fetch_add(1, std::memory_order_relaxed);
        engine.submit(make(i), [&c](const CommandResult& r) { c.done(r); });
      }
    });
  }
  for (auto& t : pool) t.join();
  c.wait_for(count);
  double seconds = seconds_since(start);
  if (c.rejected.load() != 0)
    die(fmt::format("{}: {} of {} rejected; first: {}", what, c.rejected.load(), count, c.first_error));
  return seconds;
}

struct E2e {
  double per_s = 0, seconds = 0, avg_batch = 0;
  std::uint64_t split_orders = 0;
};

template <typename Make>
E2e run_e2e(const fs::path& dir, std::uint64_t count, int threads, const char* what, Make&& make_for) {
  fmt::print(stderr, "{}: setting up the network in {}\n", what, dir.string());
  auto engine = open_engine(dir);
  demo::NetworkSize size{32, 8, 2000, 1000, 300};
  // Plenty of stock where a SKU is stocked at all: no order runs short during the run.
  Network n = set_up(*engine, size, 4242, [](std::mt19937_64&) { return std::int64_t{10'000'000}; });
  std::vector<Order> orders = make_orders(n, count, 31);
  auto make = make_for(n, orders);
  WriterStats before = engine->stats();
  fmt::print(stderr, "{}: {} commands from {} threads\n", what, count, threads);
  E2e r;
  r.seconds = submit_from_threads(*engine, count, threads, make, what);
  engine->inspect([](const LedgerState&) {});  // stats() now cover every answered command
  WriterStats after = engine->stats();
  r.per_s = static_cast<double>(count) / r.seconds;
  std::uint64_t batches = after.batches - before.batches;
  r.avg_batch = batches == 0 ? 0 : static_cast<double>(after.commands - before.commands) / static_cast<double>(batches);
  if (after.failed_batches != before.failed_batches || after.map_growths != before.map_growths) {
    fmt::print(stderr, "{}: note: {} failed batches, {} map growths\n", what,
               after.failed_batches - before.failed_batches, after.map_growths - before.map_growths);
  }
  if (std::string_view(what) == "orders_e2e") {
    engine->inspect([&](const LedgerState& s) {
      s.for_each_order([&](const std::string&, const OrderRecord& o) {
        std::vector<std::string_view> sources;
        for (const auto& a : o.allocation) {
          if (std::find(sources.begin(), sources.end(), a.location) == sources.end()) sources.push_back(a.location);
        }
        r.split_orders += sources.size() > 1 ? 1 : 0;
      });
    });
  }
  fmt::print(stderr, "{}: {:.2f} s, {:.0f}/s, {:.1f} commands per batch\n", what, r.seconds, r.per_s, r.avg_batch);
  engine.reset();
  return r;
}

// ---------------------------------------------------------------- members and marketing end to end

std::string member_id(std::uint64_t m) { return fmt::format("M-{:06}", m + 1); }

// The e2e network with plenty of stock, `members` members, `campaign` (hq's, running from now on for
// a month) and `per_member` coupons of it for each member: member m holds ID-{m * per_member + 1 ...}
// (codes are numbered in issue order).
Network set_up_members(Engine& engine, std::uint64_t members, std::uint64_t per_member, CreateCampaign campaign) {
  demo::NetworkSize size{32, 8, 2000, 1000, 300};
  Network n = set_up(engine, size, 4242, [](std::mt19937_64&) { return std::int64_t{10'000'000}; });
  std::vector<Command> commands;
  for (std::uint64_t m = 0; m < members; ++m) {
    commands.push_back(bench_command(fmt::format("member-{}", m),
                                     DefineMember{member_id(m), "Member", demo::store_id(static_cast<int>(m % 1000))}));
  }
  run_all(engine, std::move(commands), "members");
  campaign.issuer = "hq";
  campaign.valid_from_us = 0;
  campaign.valid_to_us = wall_now_us() + 30 * 86'400'000'000LL;
  std::string id = campaign.id;
  run_all(engine, {bench_command("campaign-" + id, std::move(campaign))}, "campaign");
  commands.clear();
  for (std::uint64_t m = 0; m < members; ++m) {
    for (std::uint64_t left = per_member, k = 0; left > 0; ++k) {
      auto count = static_cast<std::int32_t>(std::min<std::uint64_t>(left, coupons_per_command_max));
      commands.push_back(bench_command(fmt::format("coupons-{}-{}", m, k), IssueCoupons{id, member_id(m), count}));
      left -= static_cast<std::uint64_t>(count);
    }
  }
  run_all(engine, std::move(commands), "coupons");
  return n;
}

// Order `order` sold by hq to `member` at the demo's retail prices, shipped where the order says.
PlaceOrder member_order(const Order& order, std::string id, const std::string& member, std::int64_t promised_by_us) {
  PlaceOrder c;
  c.id = std::move(id);
  c.buyer = "member:" + member;
  c.seller = "hq";
  c.channel = order.channel;
  c.ship_to_region = order.region;
  c.ship_to_lat_e6 = order.lat_e6;
  c.ship_to_lon_e6 = order.lon_e6;
  c.promised_by_us = promised_by_us;
  for (std::size_t l = 0; l < order.lines.size(); ++l) {
    std::int64_t retail = 150'00 + (order.sku_index[l] % 40) * 50'00;
    c.lines.push_back({std::string(order.lines[l].sku), order.lines[l].qty, retail});
  }
  return c;
}

struct MemberRun {
  double per_s = 0, seconds = 0, avg_batch = 0;
  std::uint64_t ok = 0, budget_refused = 0;
};

// Submits command i = make(i) for i < count from `threads` threads (i from thread i % threads), at
// most `in_flight` unanswered in all; refusals for a campaign's budget are counted, any other is
// fatal. Times the first submit to the last answer, and the writer's batches meanwhile.
template <typename Make>
MemberRun submit_member_orders(Engine& engine, std::uint64_t count, int threads, std::uint64_t in_flight, Make&& make,
                               const char* what) {
  Completions c;
  std::atomic<std::uint64_t> submitted{0}, budget_refused{0};
  WriterStats before = engine.stats();
  auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = static_cast<std::uint64_t>(t); i < count; i += static_cast<std::uint64_t>(threads)) {
        for (;;) {
          std::uint64_t done = c.completed.load(std::memory_order_acquire);
          if (submitted.load(std::memory_order_relaxed) - done < in_flight) break;
          c.completed.wait(done, std::memory_order_acquire);
        }
        submitted.fetch_add(1, std::memory_order_relaxed);
        engine.submit(make(i), [&c, &budget_refused](const CommandResult& r) {
          bool budget = false;
          if (!r.ok()) {
            for (const auto& d : r.error().details) {
              budget |= d.key == "reason" && std::holds_alternative<std::string>(d.value) &&
                        std::get<std::string>(d.value) == "budget_exhausted";
            }
          }
          if (budget) {
            budget_refused.fetch_add(1, std::memory_order_relaxed);
            c.done(CommandOutcome{});
          } else {
            c.done(r);
          }
        });
      }
    });
  }
  for (auto& t : pool) t.join();
  c.wait_for(count);
  MemberRun run;
  run.seconds = seconds_since(start);
  if (c.rejected.load() != 0) {
    die(fmt::format("{}: {} of {} rejected; first: {}", what, c.rejected.load(), count, c.first_error));
  }
  engine.inspect([](const LedgerState&) {});  // stats() now cover every answered command
  WriterStats after = engine.stats();
  run.per_s = static_cast<double>(count) / run.seconds;
  run.budget_refused = budget_refused.load();
  run.ok = count - run.budget_refused;
  std::uint64_t batches = after.batches - before.batches;
  run.avg_batch =
      batches == 0 ? 0 : static_cast<double>(after.commands - before.commands) / static_cast<double>(batches);
  fmt::print(stderr, "{}: {:.2f} s, {:.0f}/s, {:.1f} commands per batch\n", what, run.seconds, run.per_s,
             run.avg_batch);
  return run;
}

// The campaign's redemptions and discount, and how many of its coupons are redeemed on an order.
std::pair<std::int64_t, std::int64_t> campaign_used(Engine& engine, const std::string& id, std::int64_t& on_orders) {
  std::pair<std::int64_t, std::int64_t> out;
  engine.inspect([&](const LedgerState& s) {
    const CampaignRecord* c = s.campaign(id);
    if (c == nullptr) return;
    out = {c->redemptions, c->discount_cents};
    on_orders = 0;
    for (const auto& [code, coupon] : s.marketing().coupons)
      on_orders += coupon.campaign == id && !coupon.order.empty();
  });
  return out;
}

// Member orders end to end, each with one coupon of a 10%-off campaign or (the baseline) none, on a
// fresh engine in `dir` set up the same way either way.
MemberRun run_member_orders(const fs::path& dir, const Options& o, bool with_coupons) {
  const char* what = with_coupons ? "orders_with_coupons" : "member_orders_no_coupon";
  fmt::print(stderr, "{}: setting up the network, {} members and their coupons in {}\n", what, o.members, dir.string());
  auto engine = open_engine(dir);
  std::uint64_t members = std::min(o.members, o.member_orders);
  std::uint64_t per_member = (o.member_orders + members - 1) / members;
  CreateCampaign campaign;
  campaign.id = "SPRING";
  campaign.kind = CampaignKind::percent_off;
  campaign.percent_off_bp = 1'000;
  Network n = set_up_members(*engine, members, per_member, campaign);
  std::vector<Order> orders = make_orders(n, o.member_orders, 31);
  std::int64_t promised = wall_now_us() + 3 * 86'400'000'000LL;
  fmt::print(stderr, "{}: {} orders from {} threads\n", what, o.member_orders, o.threads);
  MemberRun run = submit_member_orders(
      *engine, o.member_orders, o.threads, 8192 * static_cast<std::uint64_t>(o.threads),
      [&](std::uint64_t i) {
        std::uint64_t m = i % members;
        PlaceOrder c = member_order(orders[i], fmt::format("MO-{}", i), member_id(m), promised);
        if (with_coupons) c.coupons = {fmt::format("SPRING-{:06}", m * per_member + i / members + 1)};
        std::string command_id = "member-order-" + c.id;
        return bench_command(std::move(command_id), std::move(c));
      },
      what);
  std::int64_t on_orders = 0;
  auto [redemptions, discount] = campaign_used(*engine, "SPRING", on_orders);
  std::int64_t expected = with_coupons ? static_cast<std::int64_t>(o.member_orders) : 0;
  if (redemptions != expected || on_orders != expected || (with_coupons && discount <= 0)) {
    die(fmt::format("{}: {} redemptions ({} coupons on orders, {} fen off); expected {}", what, redemptions, on_orders,
                    discount, expected));
  }
  engine.reset();
  if (!o.keep) fs::remove_all(dir);
  return run;
}

// One campaign, every member holding one coupon of it, every member's order submitted at once.
MemberRun run_hot_campaign(const fs::path& dir, const Options& o, std::int64_t& redeemed) {
  const char* what = "hot_campaign";
  fmt::print(stderr, "{}: setting up the network and {} members with a coupon each in {}\n", what, o.hot_members,
             dir.string());
  auto engine = open_engine(dir);
  CreateCampaign campaign;
  campaign.id = "HOT";
  campaign.kind = CampaignKind::amount_off;
  campaign.amount_off_cents = 10'00;
  campaign.max_redemptions = static_cast<std::int64_t>(std::min<std::uint64_t>(o.hot_budget, coupons_per_campaign_max));
  Network n = set_up_members(*engine, o.hot_members, 1, campaign);
  std::vector<Order> orders = make_orders(n, o.hot_members, 37);
  std::int64_t promised = wall_now_us() + 3 * 86'400'000'000LL;
  fmt::print(stderr, "{}: {} orders at once from {} threads, budget {}\n", what, o.hot_members, o.threads,
             campaign.max_redemptions);
  MemberRun run = submit_member_orders(
      *engine, o.hot_members, o.threads, limits::queue_commands_max / 2,
      [&](std::uint64_t i) {
        PlaceOrder c = member_order(orders[i], fmt::format("HO-{}", i), member_id(i), promised);
        c.coupons = {fmt::format("HOT-{:06}", i + 1)};
        std::string command_id = "hot-order-" + c.id;
        return bench_command(std::move(command_id), std::move(c));
      },
      what);
  std::int64_t on_orders = 0;
  auto [redemptions, discount] = campaign_used(*engine, "HOT", on_orders);
  auto expected = static_cast<std::int64_t>(std::min<std::uint64_t>(o.hot_budget, o.hot_members));
  if (redemptions != expected || on_orders != expected || static_cast<std::int64_t>(run.ok) != expected ||
      discount != expected * campaign.amount_off_cents) {
    die(fmt::format("{}: {} redeemed ({} coupons on orders, {} orders placed, {} fen off), expected exactly {}", what,
                    redemptions, on_orders, run.ok, discount, expected));
  }
  redeemed = redemptions;
  engine.reset();
  if (!o.keep) fs::remove_all(dir);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  bench::set_program("bench_matcher");
  Options o = parse_args(argc, argv);
  bench::Scratch scratch = bench::make_scratch(o.dir, "bench_matcher");
  const fs::path root = scratch.root;
  const bool made_root = scratch.made_root;
  const fs::path dir_8 = root / "matcher_8wh", dir_256 = root / "matcher_256wh", dir_orders = root / "orders_e2e",
                 dir_res = root / "raw_reservations", dir_members = root / "member_orders_no_coupon",
                 dir_coupons = root / "orders_with_coupons", dir_hot = root / "hot_campaign";
  bench::claim_fresh(scratch, {dir_8, dir_256, dir_orders, dir_res, dir_members, dir_coupons, dir_hot}, o.keep);
  auto run_start = SteadyClock::now();

  if (o.run_matcher) {
    bench_matcher(dir_8, 8, o.plans, o.baseline_plans, 3, o);
    bench_matcher(dir_256, 256, o.plans_256, o.baseline_plans_256, 2, o);
  }

  if (o.run_orders) {
    // Baseline: the same lines reserved straight from one warehouse (what an order's single plan
    // makes): the first that stocks every line, else the first that stocks the first line, with the
    // lines it stocks.
    E2e res = run_e2e(dir_res, o.orders, o.threads, "raw_reservations",
                      [&](const Network& n, const std::vector<Order>& orders) {
                        std::int64_t deadline = wall_now_us() + 7 * 86'400'000'000LL;
                        return [&n, &orders, deadline](std::uint64_t i) {
                          const Order& order = orders[i];
                          int from = -1;
                          for (int w = 0; w < n.size.warehouses && from < 0; ++w) {
                            bool all = true;
                            for (int k : order.sku_index) all = all && n.holds[w][k];
                            if (all) from = w;
                          }
                          for (int w = 0; w < n.size.warehouses && from < 0; ++w) {
                            if (n.holds[w][order.sku_index[0]]) from = w;
                          }
                          if (from < 0) from = 0;
                          CreateReservation c;
                          c.id = fmt::format("H-{}", i);
                          c.from = "warehouse:" + n.warehouses[from];
                          c.to = "dealer:" + n.dealers[order.dealer];
                          c.deadline_us = deadline;
                          for (std::size_t l = 0; l < order.lines.size(); ++l) {
                            if (n.holds[from][order.sku_index[l]])
                              c.lines.push_back({std::string(order.lines[l].sku), order.lines[l].qty, {}});
                          }
                          std::string command_id = "res-" + c.id;
                          return bench_command(std::move(command_id), std::move(c));
                        };
                      });

    E2e ord =
        run_e2e(dir_orders, o.orders, o.threads, "orders_e2e", [&](const Network& n, const std::vector<Order>& orders) {
          std::int64_t promised = wall_now_us() + 3 * 86'400'000'000LL;
          return [&n, &orders, promised](std::uint64_t i) {
            const Order& order = orders[i];
            PlaceOrder c;
            c.id = fmt::format("O-{}", i);
            c.buyer = "dealer:" + n.dealers[order.dealer];
            c.seller = "hq";
            c.channel = "dealer_storefront";
            c.ship_to_region = order.region;
            c.ship_to_lat_e6 = order.lat_e6;
            c.ship_to_lon_e6 = order.lon_e6;
            c.promised_by_us = promised;
            for (std::size_t l = 0; l < order.lines.size(); ++l) {
              std::int64_t retail = 150'00 + (order.sku_index[l] % 40) * 50'00;  // the demo's prices
              c.lines.push_back({std::string(order.lines[l].sku), order.lines[l].qty, retail * 70 / 100});
            }
            std::string command_id = "order-" + c.id;
            return bench_command(std::move(command_id), std::move(c));
          };
        });
    emit(fmt::format(
        R"({{"bench":"orders_e2e","orders":{},"orders_per_s":{},"threads":{},"durability":"fsync_per_batch",)"
        R"("batch":{},"split_share":{},"baseline":"raw_reservations","baseline_per_s":{},"baseline_batch":{},)"
        R"("ratio":{},"seconds":{}}})",
        o.orders, num(ord.per_s), o.threads, num(ord.avg_batch),
        num(static_cast<double>(ord.split_orders) / static_cast<double>(o.orders)), num(res.per_s), num(res.avg_batch),
        num(ord.per_s / res.per_s), num(ord.seconds)));
  }

  if (o.run_marketing) {
    // The baseline first, then the same orders with a coupon each, each on a fresh engine, --repeat
    // times: the best of each (the machine is shared; a slow run says more about the neighbours).
    MemberRun plain, coupons;
    for (std::uint64_t r = 0; r < o.repeat; ++r) {
      MemberRun p = run_member_orders(dir_members, o, false);
      if (p.per_s > plain.per_s) plain = p;
      MemberRun c = run_member_orders(dir_coupons, o, true);
      if (c.per_s > coupons.per_s) coupons = c;
    }
    emit(bench::JsonLine("orders_with_coupons")
             .field("orders_per_s", coupons.per_s)
             .field("baseline", "orders_e2e")
             .field("baseline_orders_per_s", plain.per_s)
             .field("ratio", coupons.per_s / plain.per_s)
             .field("baseline_kind", "member_orders_no_coupon")
             .field("orders", o.member_orders)
             .field("members", std::min(o.members, o.member_orders))
             .field("repeat", o.repeat)
             .field("threads", o.threads)
             .field("durability", "fsync_per_batch")
             .field("batch", coupons.avg_batch)
             .field("baseline_batch", plain.avg_batch)
             .field("seconds", coupons.seconds)
             .str());
    std::int64_t redeemed = 0;
    MemberRun hot = run_hot_campaign(dir_hot, o, redeemed);
    emit(bench::JsonLine("hot_campaign")
             .field("members", o.hot_members)
             .field("redemptions_per_s", hot.per_s)
             .field("baseline", "orders_e2e")
             .field("baseline_orders_per_s", plain.per_s)
             .field("ratio", hot.per_s / plain.per_s)
             .field("budget", o.hot_budget)
             .field("redeemed", redeemed)
             .field("refused", hot.budget_refused)
             .field("redeemed_per_s", static_cast<double>(redeemed) / hot.seconds)
             .field("threads", o.threads)
             .field("batch", hot.avg_batch)
             .field("seconds", hot.seconds)
             .str());
  }

  if (!o.keep) {
    fs::remove_all(dir_orders);
    fs::remove_all(dir_res);
    if (made_root) fs::remove_all(root);
  }
  fmt::print(stderr, "bench_matcher: done in {:.1f} s{}\n", seconds_since(run_start),
             o.keep ? fmt::format(" (data kept in {})", root.string()) : std::string());
  return 0;
}

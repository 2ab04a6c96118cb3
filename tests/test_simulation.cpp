// The seeded randomized simulation: valid and invalid commands against a network of the real scale,
// checked against the reference model (tests/model.hpp) and the invariants after every wave of
// commands, with restarts along the way. The seed is printed on failure; --sim-seed=S replays it,
// --sim-commands=N (or SIM_COMMANDS) sets the length (millions for a soak).
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>

#include "ledger/demo_network.hpp"
#include "model.hpp"
#include "support.hpp"

using namespace ledger;

namespace {

constexpr std::int64_t wave_us = 60'000'000;       // simulated time between waves
constexpr std::size_t wave_commands_max = 2000;     // commands submitted before waiting for answers
constexpr std::size_t retry_ring_max = 4096;        // remembered accepted commands, to retry
constexpr int restart_every_waves = 40;
constexpr int disk_check_every_waves = 50;

struct Accepted {
  Command command;
  std::uint64_t first_seq;
};

class Generator {
 public:
  Generator(std::uint64_t seed, const demo::NetworkSize& size, test::Model& model)
      : rng_(seed), size_(size), model_(model) {}

  // The next command and what the model expects of it: nullopt = applied; replay_of set = a retry.
  struct Planned {
    Command command;
    std::optional<ErrorCode> expected;
    std::optional<std::uint64_t> replay_of;
  };
  Planned next(std::int64_t now_us);
  void remember(const Command& c, std::uint64_t first_seq) {
    ring_.push_back({c, first_seq});
    if (ring_.size() > retry_ring_max) ring_.pop_front();
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string random_location() {
    std::uint64_t r = pick(size_.warehouses + size_.dealers + size_.stores);
    if (r < std::uint64_t(size_.warehouses)) return "warehouse:" + demo::warehouse_id(int(r));
    r -= size_.warehouses;
    if (r < std::uint64_t(size_.dealers)) return "dealer:" + demo::dealer_id(int(r));
    return "store:" + demo::store_id(int(r - size_.dealers));
  }
  std::pair<std::string, std::string> stocked_pair() {
    if (stocked_.empty()) return {"warehouse:" + demo::warehouse_id(0), demo::sku_id(0)};
    return stocked_[pick(stocked_.size())];
  }
  std::int64_t qty_up_to(std::int64_t available) {
    if (chance(0.08)) return available + 1;  // deliberately short
    return 1 + std::int64_t(pick(std::uint64_t(std::max<std::int64_t>(1, std::min<std::int64_t>(available, 500)))));
  }
  std::string take(std::vector<std::string>& ids) {
    std::size_t i = pick(ids.size());
    std::string id = ids[i];
    ids[i] = ids.back();
    ids.pop_back();
    return id;
  }
  CommandBody body(std::int64_t now_us);
  void note_applied(const CommandBody& body);

  std::mt19937_64 rng_;
  demo::NetworkSize size_;
  test::Model& model_;
  std::uint64_t next_id_ = 0;
  std::vector<std::pair<std::string, std::string>> stocked_;  // (location, sku) that received stock
  std::vector<std::string> in_transit_, pending_, settled_;
  std::deque<Accepted> ring_;
};

CommandBody Generator::body(std::int64_t now_us) {
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  std::string n = std::to_string(next_id_);
  if (u < 0.06 || stocked_.size() < 50) {
    ReceiveStock r{demo::warehouse_id(int(pick(size_.warehouses))), {}, "BATCH-" + n};
    for (std::uint64_t i = 0, lines = 1 + pick(3); i < lines; ++i) {
      r.lines.push_back({demo::sku_id(int(pick(size_.skus))), std::int64_t(1 + pick(5000)), {}});
    }
    if (chance(0.03)) r.lines.back().sku = "SKU-NOPE";
    if (chance(0.03)) r.lines.back().qty = chance(0.5) ? 0 : limits::qty_max + 1;
    return r;
  }
  if (u < 0.12) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::int64_t delta = chance(0.5) ? -qty_up_to(avail) : std::int64_t(1 + pick(50));
    return AdjustStock{loc, sku, delta, "count"};
  }
  if (u < 0.45) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::string id = (chance(0.02) && !settled_.empty()) ? settled_[pick(settled_.size())] : "T" + n;
    ShipTransfer t{id, loc, chance(0.01) ? loc : random_location(), {{sku, qty_up_to(avail), {}}}};
    if (chance(0.2) && t.lines[0].qty > 1) {  // the same SKU on two lines
      std::int64_t half = t.lines[0].qty / 2;
      t.lines[0].qty -= half;
      t.lines.push_back({sku, half, {}});
    }
    return t;
  }
  if (u < 0.62) {
    if (in_transit_.empty() || chance(0.04)) return ReceiveTransfer{chance(0.5) && !settled_.empty() ? settled_[pick(settled_.size())] : "T-NOPE"};
    std::string id = take(in_transit_);
    settled_.push_back(id);
    return ReceiveTransfer{id};
  }
  if (u < 0.77) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::int64_t deadline = chance(0.03) ? now_us : now_us + std::int64_t(1 + pick(6)) * wave_us - 1;
    return CreateReservation{"RSV" + n, loc, chance(0.7) ? "customer" : random_location(),
                             {{sku, qty_up_to(avail), {}}}, deadline};
  }
  if (u < 0.94) {
    if (pending_.empty()) return VoidReservation{"RSV-NOPE", "none"};
    std::string id = take(pending_);
    if (u >= 0.88) return VoidReservation{id, "cancelled"};
    auto it = model_.reservations.find(id);
    if (it == model_.reservations.end() || chance(0.5)) return PostReservation{id, {}};
    std::vector<StockLineInput> lines = it->second.lines;
    lines[0].qty = chance(0.05) ? lines[0].qty + 1 : 1 + std::int64_t(pick(std::uint64_t(lines[0].qty)));
    return PostReservation{id, lines};
  }
  return AdjustStock{"warehouse:" + demo::warehouse_id(0), demo::sku_id(0), 1, "filler"};
}

void Generator::note_applied(const CommandBody& body) {
  if (const auto* c = std::get_if<ReceiveStock>(&body)) {
    for (const auto& l : c->lines) stocked_.emplace_back("warehouse:" + c->warehouse, l.sku);
  } else if (const auto* c = std::get_if<ShipTransfer>(&body)) {
    in_transit_.push_back(c->id);
  } else if (const auto* c = std::get_if<ReceiveTransfer>(&body)) {
    const auto& t = model_.transfers.at(c->id);
    for (const auto& l : t.lines) stocked_.emplace_back(t.to, l.sku);
  } else if (const auto* c = std::get_if<CreateReservation>(&body)) {
    pending_.push_back(c->id);
  } else if (const auto* c = std::get_if<PostReservation>(&body)) {
    const auto& r = model_.reservations.at(c->id);
    if (r.to != "customer") stocked_.emplace_back(r.to, r.lines[0].sku);
  }
  if (stocked_.size() > 100'000) stocked_.erase(stocked_.begin(), stocked_.begin() + 50'000);
}

Generator::Planned Generator::next(std::int64_t now_us) {
  ++next_id_;
  std::string command_id = "c" + std::to_string(next_id_);
  if (chance(0.04) && !ring_.empty()) {  // a client retrying an acknowledged command
    const Accepted& past = ring_[pick(ring_.size())];
    if (chance(0.8)) return {past.command, std::nullopt, past.first_seq};
    Command other{past.command.command_id, past.command.actor, VoidReservation{"RSV-OTHER", "other body"}};
    return {other, ErrorCode::idempotency_mismatch, std::nullopt};
  }
  Command c{command_id, {"sim", "hq_admin", ""}, body(now_us)};
  auto expected = model_.apply(c.body, now_us);
  if (!expected) note_applied(c.body);
  return {std::move(c), expected, std::nullopt};
}

std::string engine_balances(const LedgerState& s) {
  std::vector<std::string> rows;
  s.for_each_balance([&](std::string_view l, std::string_view k, const Balance& b) {
    rows.push_back(fmt::format("{} {} {} {}", l, k, b.on_hand, b.reserved));
  });
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

struct SimulationResult {
  Hash32 chain_head{};
  std::uint64_t events = 0;
};

// Runs one simulation of `commands` commands; every check is a doctest CHECK/REQUIRE.
SimulationResult simulate(std::uint64_t seed, std::uint64_t commands, const demo::NetworkSize& size) {
  // The simulation checks decisions, not durability (the crash tests do): skip the fsyncs.
  EngineOptions options;
  options.durability = Durability::os_buffered;
  test::Harness h(options);
  test::Model model;
  for (int i = 0; i < size.warehouses; ++i) model.warehouses.insert(demo::warehouse_id(i));
  for (int i = 0; i < size.dealers; ++i) model.dealers.insert(demo::dealer_id(i));
  for (int i = 0; i < size.stores; ++i) model.stores.insert(demo::store_id(i));
  for (int i = 0; i < size.skus; ++i) model.skus.insert(demo::sku_id(i));
  for (auto& c : demo::network_commands(size)) REQUIRE(h.engine->execute(std::move(c)).ok());

  Generator gen(seed, size, model);
  std::mt19937_64 wave_rng(seed ^ 0x5eed);
  std::uint64_t done = 0;
  for (int wave = 1; done < commands; ++wave) {
    h.clock->advance_us(wave_us);
    std::int64_t now = h.clock->now_us();
    model.expire_due(now);
    std::size_t n = std::min<std::uint64_t>(commands - done, 1 + wave_rng() % wave_commands_max);
    std::vector<Generator::Planned> planned;
    planned.reserve(n);
    for (std::size_t i = 0; i < n; ++i) planned.push_back(gen.next(now));

    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<CommandResult>> results(n);
    std::size_t answered = 0;
    for (std::size_t i = 0; i < n; ++i) {
      h.engine->submit(planned[i].command, [&, i](const CommandResult& r) {
        std::lock_guard lock(mu);
        results[i] = r;
        if (++answered == n) cv.notify_one();
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return answered == n; });
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto& p = planned[i];
      const CommandResult& r = *results[i];
      INFO("seed=" << seed << " wave=" << wave << " command " << p.command.command_id << " ("
                   << std::string(command_name(p.command.body)) << "): " << (r.ok() ? "ok" : r.error().to_string()));
      if (p.replay_of) {
        REQUIRE(r.ok());
        CHECK(r->replayed);
        CHECK(r->first_seq == *p.replay_of);
      } else if (p.expected) {
        REQUIRE(!r.ok());
        REQUIRE(r.error().code == *p.expected);
      } else {
        REQUIRE(r.ok());
        REQUIRE(!r->replayed);
        gen.remember(p.command, r->first_seq);
      }
    }
    done += n;
    auto touched = model.take_touched();
    h.engine->inspect([&](const LedgerState& s) {
      INFO("seed=" << seed << " wave=" << wave);
      auto inv = s.check_invariants();
      REQUIRE_MESSAGE(inv.ok(), (inv.ok() ? "" : inv.error().to_string()));
      for (const auto& [location, sku] : touched) {
        INFO(location << " " << sku);
        REQUIRE(s.balance(location, sku) == model.balance(location, sku));
      }
      if (wave % disk_check_every_waves == 0) REQUIRE(engine_balances(s) == model.render_balances());
    });
    if (wave % disk_check_every_waves == 0) {
      // The disk must say what memory says: fold the log read-only beside the live writer.
      auto on_disk = fold_log(h.dir.path());
      INFO("seed=" << seed << " wave=" << wave);
      REQUIRE_MESSAGE(on_disk.ok(), (on_disk.ok() ? "" : on_disk.error().to_string()));
      REQUIRE(on_disk->render() == h.render());
    }
    if (wave % restart_every_waves == 0) {
      std::string before = h.render();
      h.close();
      h.open();
      INFO("seed=" << seed << " restart after wave " << wave);
      REQUIRE(h.render() == before);
    }
  }

  SimulationResult result;
  std::string live = h.render();
  h.engine->inspect([&](const LedgerState& s) {
    result.chain_head = s.chain_head();
    result.events = s.last_seq();
  });
  h.close();
  auto rebuilt = fold_log(h.dir.path());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->render() == live);
  auto report = verify_log(h.dir.path());
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().to_string()));
  CHECK(report->chain_hash == result.chain_head);
  CHECK(report->events == result.events);
  return result;
}

std::uint64_t pick_seed() {
  std::uint64_t seed = test::settings().sim_seed;
  if (seed == 0) seed = std::random_device{}() | 1;
  MESSAGE("simulation seed " << seed << " (replay with --sim-seed=" << seed << ")");
  return seed;
}

}  // namespace

TEST_SUITE_BEGIN("simulation");

TEST_CASE("simulation: random commands at network scale agree with the reference model, invariants hold") {
  std::uint64_t seed = pick_seed();
  demo::NetworkSize size;  // 32 regions, 8 warehouses, 2000 dealers, 12000 stores, 300 SKUs
  auto result = simulate(seed, test::settings().sim_commands, size);
  CHECK(result.events > 0);
}

TEST_CASE("simulation: the same seed gives the same log, to the last bit of the chain hash") {
  std::uint64_t seed = pick_seed();
  demo::NetworkSize size{8, 8, 50, 200, 40};
  auto first = simulate(seed, 5000, size);
  auto second = simulate(seed, 5000, size);
  CHECK(first.events == second.events);
  CHECK(first.chain_head == second.chain_head);
}

TEST_SUITE_END();

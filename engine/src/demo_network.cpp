#include "ledger/demo_network.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "ledger/engine.hpp"

namespace ledger::demo {

namespace {
// Real-looking places so the demo reads like the business: the 8 HQ warehouses by city.
constexpr const char* warehouse_cities[] = {"Chengdu", "Guiyang",   "Wuhan", "Shanghai",
                                            "Beijing", "Guangzhou", "Xian",  "Shenyang"};
constexpr std::int32_t warehouse_lat_e6[] = {30'572'000, 26'647'000, 30'593'000, 31'230'000,
                                             39'904'000, 23'129'000, 34'341'000, 41'805'000};
constexpr std::int32_t warehouse_lon_e6[] = {104'066'000, 106'630'000, 114'305'000, 121'473'000,
                                             116'407'000, 113'264'000, 108'940'000, 123'431'000};
constexpr const char* sku_kinds[] = {"Sauce 53% 500ml", "Sauce 53% 1L",     "Strong 52% 500ml",
                                     "Light 42% 500ml", "Gift box 2x500ml", "Vintage 15y 500ml"};

Command define(CommandBody body, std::string id) {
  return Command{std::move(id), Actor{"demo", "hq_admin", ""}, std::move(body)};
}
}  // namespace

std::string region_id(int i) { return fmt::format("R{:02}", i + 1); }
std::string warehouse_id(int i) { return fmt::format("W-{}", i < 8 ? warehouse_cities[i] : fmt::format("{}", i + 1)); }
std::string dealer_id(int i) { return fmt::format("D-{:04}", i + 1); }
std::string store_id(int i) { return fmt::format("S-{:05}", i + 1); }
std::string sku_id(int i) { return fmt::format("SKU-{:03}", i + 1); }
int region_of_dealer(int dealer, const NetworkSize& size) { return dealer % size.regions; }
int dealer_of_store(int store, const NetworkSize& size) { return store % size.dealers; }

std::vector<Command> network_commands(const NetworkSize& size) {
  std::vector<Command> out;
  out.reserve(size.regions + size.warehouses + size.dealers + size.stores + size.skus);
  for (int r = 0; r < size.regions; ++r) {
    out.push_back(define(DefineRegion{region_id(r), fmt::format("Region {}", r + 1)}, "demo-" + region_id(r)));
  }
  for (int w = 0; w < size.warehouses; ++w) {
    std::int32_t lat = warehouse_lat_e6[w % 8] + (w / 8) * 100'000;
    std::int32_t lon = warehouse_lon_e6[w % 8] + (w / 8) * 100'000;
    out.push_back(define(DefineWarehouse{warehouse_id(w), fmt::format("HQ warehouse {}", warehouse_id(w)),
                                         region_id(w % size.regions), lat, lon, 20'000},
                         "demo-" + warehouse_id(w)));
  }
  for (int d = 0; d < size.dealers; ++d) {
    int r = region_of_dealer(d, size);
    std::vector<std::string> territory{region_id(r)};
    if (d % 5 == 0) territory.push_back(region_id((r + 1) % size.regions));
    out.push_back(define(DefineDealer{dealer_id(d), fmt::format("Dealer {}", d + 1), region_id(r), territory,
                                      500'000'00 + (d % 7) * 100'000'00},
                         "demo-" + dealer_id(d)));
  }
  for (int s = 0; s < size.stores; ++s) {
    int d = dealer_of_store(s, size);
    int r = region_of_dealer(d, size);
    out.push_back(define(DefineStore{store_id(s), fmt::format("Store {}", s + 1), dealer_id(d), region_id(r),
                                     25'000'000 + (s % 1000) * 15'000, 100'000'000 + (s % 997) * 20'000},
                         "demo-" + store_id(s)));
  }
  for (int k = 0; k < size.skus; ++k) {
    std::int64_t retail = 150'00 + (k % 40) * 50'00;
    Prices prices{retail * 70 / 100, retail * 85 / 100, retail};
    Prices floors{prices.wholesale_cents * 95 / 100, prices.supply_cents * 95 / 100, retail * 90 / 100};
    out.push_back(define(DefineSku{sku_id(k), fmt::format("{} #{}", sku_kinds[k % 6], k + 1), 6, prices, floors},
                         "demo-" + sku_id(k)));
  }
  return out;
}

namespace {
struct Tally {
  std::uint64_t applied = 0;
  std::map<std::string, std::uint64_t> rejected_by_code;
};

// Submits every command (the writer batches them), waits for all answers.
Tally run_all(Engine& engine, std::vector<Command> commands) {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t remaining = commands.size();
  Tally tally;
  for (auto& c : commands) {
    engine.submit(std::move(c), [&](const CommandResult& r) {
      std::lock_guard lock(mu);
      if (r.ok()) {
        ++tally.applied;
      } else {
        ++tally.rejected_by_code[std::string(error_code_name(r.error().code))];
      }
      if (--remaining == 0) cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return remaining == 0; });
  return tally;
}

void step(Engine& engine, const char* what, std::vector<Command> commands,
          const std::function<void(const std::string&)>& say) {
  auto start = std::chrono::steady_clock::now();
  std::size_t n = commands.size();
  Tally t = run_all(engine, std::move(commands));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string line = fmt::format("  {:<52} {:>6} commands {:>6} applied {:>8.0f}/s", what, n, t.applied, n / s);
  for (const auto& [code, count] : t.rejected_by_code) line += fmt::format("  {} {}", count, code);
  say(line);
}

Command demo_cmd(std::string id, CommandBody body) {
  return Command{std::move(id), Actor{"demo", "hq_admin", ""}, std::move(body)};
}

// Campaigns of hq and of a region, a coupon for every member, and members buying at their home
// store with coupons and points (the stores that received stock hold (d * 7) % skus).
void load_marketing(Engine& engine, const NetworkSize& size, std::int64_t now_us,
                    const std::function<void(const std::string&)>& say) {
  constexpr std::int64_t day_us = 24LL * 3600 * 1'000'000;
  CreateCampaign national;
  national.id = "AUTUMN-10";
  national.issuer = "hq";
  national.kind = CampaignKind::percent_off;
  national.percent_off_bp = 1000;
  national.max_redemptions = 200;
  national.per_member_limit = 1;
  national.valid_from_us = now_us - day_us;
  national.valid_to_us = now_us + 60 * day_us;
  CreateCampaign regional = national;
  regional.id = "R01-SPEND";
  regional.issuer = "region:" + region_id(0);
  regional.kind = CampaignKind::spend_x_save_y;
  regional.tiers = {{300'00, 30'00}, {1000'00, 120'00}};
  regional.max_discount_cents = 1'000'000'00;
  CreateCampaign doubled = national;
  doubled.id = "DOUBLE-POINTS";
  doubled.kind = CampaignKind::points_multiplier;
  doubled.points_multiplier_permille = 2000;
  doubled.max_redemptions = 0;
  step(engine, "campaigns (hq 10% off, region spend-and-save, double points)",
       {demo_cmd("demo-campaign-1", national), demo_cmd("demo-campaign-2", regional),
        demo_cmd("demo-campaign-3", doubled)},
       say);
  std::vector<Command> coupons, orders, ship, deliver;
  for (int s = 0; s < size.stores; s += 12) {
    std::string member = fmt::format("M-{}", s + 1);
    coupons.push_back(demo_cmd("demo-coupon-" + member, IssueCoupons{"AUTUMN-10", member, 1}));
    coupons.push_back(demo_cmd("demo-coupon2-" + member, IssueCoupons{"DOUBLE-POINTS", member, 1}));
    int d = dealer_of_store(s, size);
    int k = (d * 7) % size.skus;
    std::int64_t retail = 150'00 + (k % 40) * 50'00;  // as network_commands
    PlaceOrder o;
    o.id = fmt::format("O-{}-1", member);
    o.buyer = "member:" + member;
    o.seller = "store:" + store_id(s);
    o.channel = "store";
    o.ship_to_region = region_id(region_of_dealer(d, size));
    o.lines = {{sku_id(k), 1, retail}};
    o.promised_by_us = now_us + 2 * day_us;
    // Coupon numbers follow the order of issue: the n-th member has AUTUMN-10-n and DOUBLE-POINTS-n.
    std::string n = fmt::format("{:06}", s / 12 + 1);
    o.coupons = {s % 24 == 0 ? "AUTUMN-10-" + n : "DOUBLE-POINTS-" + n};
    orders.push_back(demo_cmd("demo-" + o.id, o));
    ship.push_back(demo_cmd("demo-ship-" + o.id, ShipOrder{o.id, {}}));
    deliver.push_back(demo_cmd("demo-deliver-" + o.id, DeliverOrder{o.id}));
  }
  step(engine, "coupons for every member", std::move(coupons), say);
  step(engine, "member orders with coupons (the 10% budget runs out)", std::move(orders), say);
  step(engine, "member orders shipped (those that were placed)", std::move(ship), say);
  step(engine, "member orders delivered (points earned; double with the coupon)", std::move(deliver), say);
}

}  // namespace

void load_history(Engine& engine, const NetworkSize& size, std::int64_t now_us,
                  const std::function<void(const std::string&)>& say) {
  step(engine, "master data (regions, warehouses, dealers, stores, SKUs)", network_commands(size), say);

  std::vector<Command> receipts;
  for (int w = 0; w < size.warehouses; ++w) {
    ReceiveStock r{warehouse_id(w), {}, fmt::format("BATCH-2026-{}", w + 1)};
    for (int k = 0; k < size.skus; ++k) r.lines.push_back({sku_id(k), 6000, fmt::format("LOT-{}-{}", w + 1, k + 1)});
    receipts.push_back(demo_cmd(fmt::format("demo-receipt-{}", w), r));
  }
  step(engine, "production receipts into the 8 warehouses", std::move(receipts), say);

  std::vector<Command> to_dealers, dealer_receipts;
  for (int d = 0; d < size.dealers; ++d) {
    std::string id = fmt::format("T-HQ-{}", dealer_id(d));
    ShipTransfer t{id, "warehouse:" + warehouse_id(d % size.warehouses), "dealer:" + dealer_id(d), {}};
    for (int j = 0; j < 3; ++j) t.lines.push_back({sku_id((d * 7 + j * 13) % size.skus), 60, {}});
    to_dealers.push_back(demo_cmd("demo-ship-" + id, t));
    dealer_receipts.push_back(demo_cmd("demo-recv-" + id, ReceiveTransfer{id}));
  }
  step(engine, "transfers warehouse -> dealer (shipped)", std::move(to_dealers), say);
  step(engine, "transfers warehouse -> dealer (received)", std::move(dealer_receipts), say);

  std::vector<Command> to_stores, store_receipts;
  for (int s = 0; s < size.stores; s += 2) {
    int d = dealer_of_store(s, size);
    std::string id = fmt::format("T-{}-{}", dealer_id(d), store_id(s));
    ShipTransfer t{id, "dealer:" + dealer_id(d), "store:" + store_id(s), {{sku_id((d * 7) % size.skus), 6, {}}}};
    to_stores.push_back(demo_cmd("demo-ship-" + id, t));
    if (s % 4 == 0) store_receipts.push_back(demo_cmd("demo-recv-" + id, ReceiveTransfer{id}));
  }
  step(engine, "transfers dealer -> store (shipped)", std::move(to_stores), say);
  step(engine, "transfers dealer -> store (half received)", std::move(store_receipts), say);

  std::vector<Command> holds, settle;
  for (int s = 0; s < size.stores; s += 8) {
    int d = dealer_of_store(s, size);
    std::string id = fmt::format("RSV-{}", store_id(s));
    holds.push_back(demo_cmd("demo-" + id, CreateReservation{id,
                                                             "store:" + store_id(s),
                                                             "customer",
                                                             {{sku_id((d * 7) % size.skus), 2, {}}},
                                                             now_us + 7LL * 24 * 3600 * 1'000'000}));
    if (s % 16 == 0) {
      settle.push_back(demo_cmd("demo-post-" + id, PostReservation{id, {{sku_id((d * 7) % size.skus), 1, {}}}}));
    } else if (s % 24 == 0) {
      settle.push_back(demo_cmd("demo-void-" + id, VoidReservation{id, "member cancelled"}));
    }
  }
  step(engine, "member reservations at stores", std::move(holds), say);
  step(engine, "reservations picked up (partly) or cancelled", std::move(settle), say);

  std::vector<Command> adjustments{
      demo_cmd("demo-adj-1", AdjustStock{"warehouse:" + warehouse_id(0), sku_id(0), -12, "breakage in handling"}),
      demo_cmd("demo-adj-2", AdjustStock{"dealer:" + dealer_id(0), sku_id(0), 3, "count correction"}),
      demo_cmd("demo-adj-3", AdjustStock{"store:" + store_id(0), sku_id(0), -1000, "more than there is: rejected"})};
  step(engine, "stock adjustments (one deliberately too large)", std::move(adjustments), say);

  // Orders: an approval policy, members, dealers ordering from hq, stores reserving for members.
  SetApprovalPolicy policy{{{"sales_director", 5'000'000'00, false, {}, 0, false},
                            {"region_manager", 0, true, {}, 0, false},
                            {"finance", 0, false, {}, 0, true},
                            {"region_manager", 0, false, {}, 2, false}}};
  step(engine, "approval policy (amount, floor price, credit, health)", {demo_cmd("demo-policy", policy)}, say);
  std::vector<Command> members;
  for (int s = 0; s < size.stores; s += 12) {
    members.push_back(demo_cmd("demo-member-" + store_id(s),
                               DefineMember{fmt::format("M-{}", s + 1), fmt::format("Member {}", s + 1), store_id(s)}));
  }
  step(engine, "members", std::move(members), say);
  constexpr std::int64_t day_us = 24LL * 3600 * 1'000'000;
  std::vector<Command> orders, ship, deliver;
  for (int d = 0; d < std::min(size.dealers, 400); ++d) {
    std::string id = fmt::format("O-{}-1", dealer_id(d));
    int k = (d * 11) % size.skus;
    auto wholesale = [](int sku) { return (150'00 + (sku % 40) * 50'00) * 70 / 100; };  // as network_commands
    PlaceOrder o;
    o.id = id;
    o.buyer = "dealer:" + dealer_id(d);
    o.seller = "hq";
    o.channel = "dealer_storefront";
    o.ship_to_region = region_id(region_of_dealer(d, size));
    o.ship_to_lat_e6 = 25'000'000 + (d % 1000) * 15'000;
    o.ship_to_lon_e6 = 100'000'000 + (d % 997) * 20'000;
    int k2 = (k + 1) % size.skus;
    o.lines = {{sku_id(k), d % 10 == 0 ? 1200 : 120, wholesale(k)}, {sku_id(k2), 60, wholesale(k2)}};
    o.promised_by_us = now_us + 3 * day_us;
    orders.push_back(demo_cmd("demo-" + id, o));
    if (d % 2 == 0) ship.push_back(demo_cmd("demo-ship-" + id, ShipOrder{id, {}}));
    if (d % 4 == 0) deliver.push_back(demo_cmd("demo-deliver-" + id, DeliverOrder{id}));
  }
  step(engine, "dealer orders from hq (sourced by the matcher)", std::move(orders), say);
  step(engine, "orders shipped (the big ones wait for approval)", std::move(ship), say);
  step(engine, "orders delivered", std::move(deliver), say);
  load_marketing(engine, size, now_us, say);
}

}  // namespace ledger::demo

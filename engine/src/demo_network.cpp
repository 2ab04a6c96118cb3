#include "ledger/demo_network.hpp"

#include <fmt/format.h>

namespace ledger::demo {

namespace {
// Real-looking places so the demo reads like the business: the 8 HQ warehouses by city.
constexpr const char* warehouse_cities[] = {"Chengdu", "Guiyang", "Wuhan", "Shanghai", "Beijing", "Guangzhou", "Xian",
                                            "Shenyang"};
constexpr std::int32_t warehouse_lat_e6[] = {30'572'000, 26'647'000, 30'593'000, 31'230'000,
                                             39'904'000, 23'129'000, 34'341'000, 41'805'000};
constexpr std::int32_t warehouse_lon_e6[] = {104'066'000, 106'630'000, 114'305'000, 121'473'000,
                                             116'407'000, 113'264'000, 108'940'000, 123'431'000};
constexpr const char* sku_kinds[] = {"Sauce 53% 500ml", "Sauce 53% 1L", "Strong 52% 500ml", "Light 42% 500ml",
                                     "Gift box 2x500ml", "Vintage 15y 500ml"};

Command define(CommandBody body, std::string id) { return Command{std::move(id), Actor{"demo", "hq_admin"}, std::move(body)}; }
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

}  // namespace ledger::demo

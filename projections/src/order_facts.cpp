#include "ledger/order_facts.hpp"

#include <algorithm>
#include <chrono>

namespace ledger {

std::string_view party_id(std::string_view party, std::string_view kind) {
  if (party.size() > kind.size() && party.substr(0, kind.size()) == kind && party[kind.size()] == ':') {
    return party.substr(kind.size() + 1);
  }
  return {};
}

bool is_stocking_location(std::string_view location) {
  return !party_id(location, "warehouse").empty() || !party_id(location, "dealer").empty() ||
         !party_id(location, "store").empty();
}

OrderKeys order_keys(const LedgerState& state, const OrderRecord& order) {
  OrderKeys keys;
  keys.region = order.ship_to_region;
  keys.channel = order.channel;
  keys.store = party_id(order.seller, "store");
  if (keys.store.empty()) keys.store = party_id(order.buyer, "store");
  keys.dealer = party_id(order.seller, "dealer");
  if (keys.dealer.empty()) keys.dealer = party_id(order.buyer, "dealer");
  if (keys.dealer.empty() && !keys.store.empty()) {
    if (const StoreRecord* s = state.store(keys.store)) keys.dealer = s->dealer;
  }
  return keys;
}

OrderViolations order_violations(const LedgerState& state, const OrderRecord& order) {
  OrderViolations v;
  v.offender = party_id(order.seller, "dealer");
  std::string_view selling_store = party_id(order.seller, "store");
  if (v.offender.empty() && !selling_store.empty()) {
    if (const StoreRecord* s = state.store(selling_store)) v.offender = s->dealer;
  }
  for (const auto& l : order.lines) {
    const SkuRecord* sku = state.sku(l.sku);
    if (sku == nullptr) continue;
    std::int64_t floor = floor_cents_for(sku->floors, order.buyer);
    if (l.unit_price_cents < floor) {
      v.below_floor_sku = l.sku;
      v.below_floor_price_cents = l.unit_price_cents;
      v.floor_cents = floor;
      break;
    }
  }
  std::string_view seller_dealer = party_id(order.seller, "dealer");
  std::string_view buyer_store = party_id(order.buyer, "store");
  const DealerRecord* d = seller_dealer.empty() ? nullptr : state.dealer(seller_dealer);
  const StoreRecord* s = buyer_store.empty() ? nullptr : state.store(buyer_store);
  v.outside_territory = d != nullptr && s != nullptr && outside_territory(*d, s->region);
  return v;
}

bool outside_territory(const DealerRecord& dealer, std::string_view region) {
  if (region == dealer.region) return false;
  return std::find(dealer.territory.begin(), dealer.territory.end(), region) == dealer.territory.end();
}

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

std::int64_t hour_start_us(std::int64_t ts_us) { return floor_div(ts_us, us_per_hour) * us_per_hour; }

std::int64_t china_day_start_us(std::int64_t ts_us) {
  return floor_div(ts_us + china_offset_us, us_per_day) * us_per_day - china_offset_us;
}

std::int64_t china_month_start_us(std::int64_t ts_us) {
  using namespace std::chrono;
  sys_days day{days{floor_div(ts_us + china_offset_us, us_per_day)}};
  year_month_day ymd{day};
  sys_days first{ymd.year() / ymd.month() / 1};
  return std::int64_t{first.time_since_epoch().count()} * us_per_day - china_offset_us;
}

}  // namespace ledger

// Master data: regions, warehouses, dealers, stores, SKUs. Defining an existing id redefines it
// (PUT semantics); references to other master data must exist.
#include <fmt/format.h>

#include "decide.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"

namespace ledger {

namespace {

Status check_known_region(const LedgerState& state, std::string_view region, std::string_view field) {
  if (auto st = check_id(region, field); !st) return st;
  if (state.region(region) == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("{} '{}' is not defined; define the region first", field, region))
        .with("field", std::string(field));
  }
  return Ok{};
}

Status check_coordinates(std::int32_t lat_e6, std::int32_t lon_e6) {
  if (lat_e6 < -90'000'000 || lat_e6 > 90'000'000 || lon_e6 < -180'000'000 || lon_e6 > 180'000'000) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("coordinates {},{} (micro-degrees) are off the globe", lat_e6, lon_e6))
        .with("field", "lat");
  }
  return Ok{};
}

Status check_money(std::int64_t cents, std::string_view field) {
  if (cents < 0 || cents > limits::money_cents_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("{} is {}; it must be between 0 and {}", field, cents, limits::money_cents_max))
        .with("field", std::string(field));
  }
  return Ok{};
}

Status check_prices(const Prices& p, std::string_view field) {
  for (auto [cents, name] : {std::pair{p.wholesale_cents, "wholesale_cents"}, std::pair{p.supply_cents, "supply_cents"},
                             std::pair{p.retail_cents, "retail_cents"}}) {
    if (auto st = check_money(cents, fmt::format("{}.{}", field, name)); !st) return st;
  }
  return Ok{};
}

Status define_region(const DefineRegion& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  auto& b = sink.builder();
  auto body = fb::CreateRegionDefinedDirect(b, c.id.c_str(), c.name.c_str());
  sink.emit(fmt::format("region:{}", c.id), fb::Body::RegionDefined, body.Union());
  return Ok{};
}

Status define_warehouse(const LedgerState& state, const DefineWarehouse& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  if (auto st = check_known_region(state, c.region, "region"); !st) return st;
  if (auto st = check_coordinates(c.lat_e6, c.lon_e6); !st) return st;
  if (c.daily_capacity_cases < 0) {
    return make_error(ErrorCode::invalid_argument, "daily_capacity_cases is negative").with("field", "daily_capacity_cases");
  }
  auto& b = sink.builder();
  auto body = fb::CreateWarehouseDefinedDirect(b, c.id.c_str(), c.name.c_str(), c.region.c_str(), c.lat_e6, c.lon_e6,
                                               c.daily_capacity_cases);
  sink.emit(location_string(LocationKind::warehouse, c.id), fb::Body::WarehouseDefined, body.Union());
  return Ok{};
}

Status define_dealer(const LedgerState& state, const DefineDealer& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  if (auto st = check_known_region(state, c.region, "region"); !st) return st;
  if (c.territory.size() > limits::territory_regions_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("territory lists {} regions; at most {}", c.territory.size(), limits::territory_regions_max))
        .with("field", "territory");
  }
  for (const auto& r : c.territory) {
    if (auto st = check_known_region(state, r, "territory"); !st) return st;
  }
  if (auto st = check_money(c.credit_limit_cents, "credit_limit_cents"); !st) return st;
  auto& b = sink.builder();
  std::vector<flatbuffers::Offset<flatbuffers::String>> territory;
  for (const auto& r : c.territory) territory.push_back(b.CreateString(r));
  auto body = fb::CreateDealerDefinedDirect(b, c.id.c_str(), c.name.c_str(), c.region.c_str(), &territory,
                                            c.credit_limit_cents);
  sink.emit(location_string(LocationKind::dealer, c.id), fb::Body::DealerDefined, body.Union());
  return Ok{};
}

Status define_store(const LedgerState& state, const DefineStore& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  if (auto st = check_id(c.dealer, "dealer"); !st) return st;
  if (state.dealer(c.dealer) == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("dealer '{}' is not defined", c.dealer)).with("field", "dealer");
  }
  if (auto st = check_known_region(state, c.region, "region"); !st) return st;
  if (auto st = check_coordinates(c.lat_e6, c.lon_e6); !st) return st;
  auto& b = sink.builder();
  auto body = fb::CreateStoreDefinedDirect(b, c.id.c_str(), c.name.c_str(), c.dealer.c_str(), c.region.c_str(),
                                           c.lat_e6, c.lon_e6);
  sink.emit(location_string(LocationKind::store, c.id), fb::Body::StoreDefined, body.Union());
  return Ok{};
}

Status define_sku(const DefineSku& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  if (c.case_units < 1 || c.case_units > limits::case_units_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("case_units is {}; it must be between 1 and {}", c.case_units, limits::case_units_max))
        .with("field", "case_units");
  }
  if (auto st = check_prices(c.prices, "prices"); !st) return st;
  if (auto st = check_prices(c.floors, "floor_cents"); !st) return st;
  auto& b = sink.builder();
  auto price_set = [&](const Prices& p) { return fb::CreatePriceSet(b, p.wholesale_cents, p.supply_cents, p.retail_cents); };
  auto p = price_set(c.prices);
  auto f = price_set(c.floors);
  auto body = fb::CreateSkuDefinedDirect(b, c.id.c_str(), c.name.c_str(), c.case_units, p, f);
  sink.emit(fmt::format("sku:{}", c.id), fb::Body::SkuDefined, body.Union());
  return Ok{};
}

}  // namespace

namespace {
Status define_member(const LedgerState& state, const DefineMember& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (auto st = check_text(c.name, "name", true); !st) return st;
  if (auto st = check_id(c.home_store, "home_store"); !st) return st;
  if (state.store(c.home_store) == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("home_store '{}' is not defined", c.home_store))
        .with("field", "home_store");
  }
  auto& b = sink.builder();
  auto body = fb::CreateMemberDefinedDirect(b, c.id.c_str(), c.name.c_str(), c.home_store.c_str());
  sink.emit(fmt::format("member:{}", c.id), fb::Body::MemberDefined, body.Union());
  return Ok{};
}
}  // namespace

Status decide_master(const LedgerState& state, const CommandBody& body, EventSink& sink) {
  if (const auto* c = std::get_if<DefineMember>(&body)) return define_member(state, *c, sink);
  if (const auto* c = std::get_if<DefineRegion>(&body)) return define_region(*c, sink);
  if (const auto* c = std::get_if<DefineWarehouse>(&body)) return define_warehouse(state, *c, sink);
  if (const auto* c = std::get_if<DefineDealer>(&body)) return define_dealer(state, *c, sink);
  if (const auto* c = std::get_if<DefineStore>(&body)) return define_store(state, *c, sink);
  if (const auto* c = std::get_if<DefineSku>(&body)) return define_sku(*c, sink);
  return make_error(ErrorCode::invalid_argument, "not a master data command");
}

}  // namespace ledger

#include "decoders.hpp"

#include <fmt/format.h>

#include <cmath>

#include "json_input.hpp"
#include "ledger/limits.hpp"

namespace ledger::api {

namespace {

std::int32_t micro_degrees(double degrees) { return static_cast<std::int32_t>(std::llround(degrees * 1e6)); }

ApiError unknown_endpoint(std::string_view what) {
  return ApiError{404, "not_found", fmt::format("no endpoint for '{}'; see GET /v1/openapi.json", what), {}, 0};
}

// The decoded command, or the first error of the decode (including unknown fields).
Decoded done(JsonReader& in, CommandBody body) {
  if (auto e = in.finish()) return *e;
  return body;
}

void read_prices(JsonReader& p, Prices& out, bool required) {
  out.wholesale_cents = p.integer("wholesale_cents", required, 0, limits::money_cents_max);
  out.supply_cents = p.integer("supply_cents", required, 0, limits::money_cents_max);
  out.retail_cents = p.integer("retail_cents", required, 0, limits::money_cents_max);
}

}  // namespace

Decoded decode_master_data(std::string_view kind, const std::string& id, std::string_view body) {
  JsonReader in(body);
  if (kind == "regions") return done(in, DefineRegion{id, in.str("name")});
  if (kind == "warehouses") {
    DefineWarehouse c{id, in.str("name"), in.str("region"), 0, 0, 0};
    c.lat_e6 = micro_degrees(in.number("lat", true, -90, 90));
    c.lon_e6 = micro_degrees(in.number("lon", true, -180, 180));
    c.daily_capacity_cases = static_cast<std::int32_t>(in.integer("daily_capacity_cases", true, 0, 10'000'000));
    return done(in, c);
  }
  if (kind == "dealers") {
    DefineDealer c{id, in.str("name"), in.str("region"), in.strings("territory", false, limits::territory_regions_max), 0};
    c.credit_limit_cents = in.integer("credit_limit_cents", false, 0, limits::money_cents_max);
    return done(in, c);
  }
  if (kind == "stores") {
    DefineStore c{id, in.str("name"), in.str("dealer"), in.str("region"), 0, 0};
    c.lat_e6 = micro_degrees(in.number("lat", true, -90, 90));
    c.lon_e6 = micro_degrees(in.number("lon", true, -180, 180));
    return done(in, c);
  }
  if (kind == "skus") {
    DefineSku c{id, in.str("name"), 0, {}, {}};
    c.case_units = static_cast<std::int32_t>(in.integer("case_units", true, 1, limits::case_units_max));
    in.object("prices", true, [&](JsonReader& p) { read_prices(p, c.prices, true); });
    in.object("floor_cents", false, [&](JsonReader& p) { read_prices(p, c.floors, false); });
    return done(in, c);
  }
  return unknown_endpoint(kind);
}

Decoded decode_stock(std::string_view what, std::string_view body) {
  JsonReader in(body);
  if (what == "receipts") {
    ReceiveStock c;
    c.warehouse = in.str("warehouse");
    c.lines = in.lines("lines", true);
    c.ref = in.str("ref");
    return done(in, c);
  }
  if (what == "adjustments") {
    AdjustStock c;
    c.location = in.str("location");
    c.sku = in.str("sku");
    c.qty_delta = in.integer("qty_delta", true, -limits::qty_max, limits::qty_max);
    c.reason = in.str("reason");
    return done(in, c);
  }
  if (what == "transfers") {
    ShipTransfer c;
    c.id = in.str("id");
    c.from = in.str("from");
    c.to = in.str("to");
    c.lines = in.lines("lines", true);
    return done(in, c);
  }
  if (what == "reservations") {
    CreateReservation c;
    c.id = in.str("id");
    c.from = in.str("from");
    c.to = in.str("to");
    c.lines = in.lines("lines", true);
    c.deadline_us = in.integer("deadline_us", true, 0, std::numeric_limits<std::int64_t>::max());
    return done(in, c);
  }
  return unknown_endpoint(what);
}

Decoded decode_stock_action(std::string_view what, std::string_view action, const std::string& id, std::string_view body) {
  JsonReader in(body);
  if (what == "transfers" && action == "receive") return done(in, ReceiveTransfer{id});
  if (what == "reservations" && action == "post") return done(in, PostReservation{id, in.lines("lines", false)});
  if (what == "reservations" && action == "void") return done(in, VoidReservation{id, in.str("reason")});
  return unknown_endpoint(action);
}

std::variant<TokenRequest, ApiError> decode_token_request(std::string_view body) {
  JsonReader in(body);
  TokenRequest t;
  t.role = in.str("role");
  t.scope = in.str("scope", false);
  if (auto e = in.finish()) return *e;
  return t;
}

}  // namespace ledger::api

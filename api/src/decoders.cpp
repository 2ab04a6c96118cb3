#include "decoders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "json_input.hpp"
#include "ledger/limits.hpp"
#include "ledger/marketing.hpp"
#include "ledger/matcher.hpp"
#include "ledger/orders.hpp"

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
  if (kind == "members") return done(in, DefineMember{id, in.str("name"), in.str("home_store")});
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

namespace {

void read_ship_to(JsonReader& in, std::string& region, std::int32_t& lat_e6, std::int32_t& lon_e6) {
  in.object("ship_to", true, [&](JsonReader& t) {
    region = t.str("region");
    lat_e6 = micro_degrees(t.number("lat", true, -90, 90));
    lon_e6 = micro_degrees(t.number("lon", true, -180, 180));
  });
}

std::vector<OrderLineInput> read_order_lines(JsonReader& in, bool prices) {
  std::vector<OrderLineInput> lines;
  in.objects("lines", true, limits::lines_max, [&](JsonReader& l) {
    OrderLineInput line;
    line.sku = l.str("sku");
    line.qty = l.integer("qty", true, 1, limits::qty_max);
    if (prices) line.unit_price_cents = l.integer("unit_price_cents", true, 0, limits::money_cents_max);
    lines.push_back(std::move(line));
  });
  return lines;
}

std::vector<std::pair<std::string, std::int32_t>> read_weights(JsonReader& in, bool required) {
  std::vector<std::pair<std::string, std::int32_t>> weights;
  in.objects("weights", required, dimension_count, [&](JsonReader& w) {
    std::string dimension = w.str("dimension");
    auto permille = static_cast<std::int32_t>(w.integer("weight_permille", true, 0, 1000));
    weights.emplace_back(std::move(dimension), permille);
  });
  return weights;
}

constexpr std::int64_t time_max_us = std::numeric_limits<std::int64_t>::max();

}  // namespace

Decoded decode_order(std::string_view body) {
  JsonReader in(body);
  PlaceOrder c;
  c.id = in.str("id");
  std::string type = in.str("type");
  c.buyer = in.str("buyer");
  c.seller = in.str("seller");
  c.channel = in.str("channel");
  read_ship_to(in, c.ship_to_region, c.ship_to_lat_e6, c.ship_to_lon_e6);
  c.lines = read_order_lines(in, true);
  c.coupons = in.strings("coupons", false, coupons_per_order_max);
  c.promised_by_us = in.integer("promised_by_us", true, 0, time_max_us);
  c.pickup_at_us = in.integer("pickup_at_us", false, 0, time_max_us);
  c.allow_backorder = in.boolean("allow_backorder", false);
  c.points = in.integer("points", false, 0, limits::money_cents_max);
  if (!in.failed() && !order_type_from_name(type, c.type)) {
    return bad_request("invalid_argument", "type must be spot, presale or reservation", "type");
  }
  return done(in, c);
}

Decoded decode_order_action(std::string_view action, const std::string& id, std::string_view body) {
  JsonReader in(body);
  if (action == "approve") return done(in, ApproveOrder{id, in.str("step")});
  if (action == "reject") return done(in, RejectOrder{id, in.str("reason")});
  if (action == "allocate") return done(in, AllocateOrder{id});
  if (action == "ship") return done(in, ShipOrder{id, in.lines("lines", false)});
  if (action == "deliver") return done(in, DeliverOrder{id});
  if (action == "complete") return done(in, CompleteOrder{id});
  if (action == "cancel") return done(in, CancelOrder{id, in.str("reason")});
  if (action == "return") {
    ReturnOrder c{id, in.lines("lines", true), {}};
    c.reason = in.str("reason");
    return done(in, c);
  }
  return unknown_endpoint(action);
}

Decoded decode_config(std::string_view what, std::string_view body) {
  JsonReader in(body);
  if (what == "approval-policy") {
    SetApprovalPolicy c;
    in.objects("rules", true, 64, [&](JsonReader& r) {
      ApprovalRuleInput rule;
      rule.step = r.str("step");
      rule.min_amount_cents = r.integer("min_amount_cents", false, 0, limits::money_cents_max);
      rule.below_floor = r.boolean("below_floor", false);
      rule.order_type = r.str("order_type", false);
      rule.health_tier_at_most = static_cast<std::int32_t>(r.integer("health_tier_at_most", false, 0, 4));
      rule.credit_overrun = r.boolean("credit_overrun", false);
      c.rules.push_back(std::move(rule));
    });
    return done(in, c);
  }
  if (what == "weights") {
    SetSourcingWeights c;
    c.region = in.str("region", false);
    c.weights = read_weights(in, true);
    return done(in, c);
  }
  if (what == "presale-batches") {
    AnnouncePresaleBatch c;
    c.id = in.str("id");
    c.sku = in.str("sku");
    c.warehouse = in.str("warehouse");
    c.quota_qty = in.integer("quota_qty", true, 1, limits::qty_max);
    c.expected_at_us = in.integer("expected_at_us", true, 0, time_max_us);
    return done(in, c);
  }
  return unknown_endpoint(what);
}

Decoded decode_campaign(std::string_view body) {
  JsonReader in(body);
  CreateCampaign c;
  c.id = in.str("id");
  c.issuer = in.str("issuer");
  std::string kind = in.str("kind");
  in.object("params", false, [&](JsonReader& p) {
    c.amount_off_cents = p.integer("amount_off_cents", false, 0, limits::money_cents_max);
    c.percent_off_bp = static_cast<std::int32_t>(p.integer("percent_off_bp", false, 0, 10'000));
    p.objects("tiers", false, spend_tiers_max, [&](JsonReader& t) {
      SpendTierInput tier;
      tier.threshold_cents = t.integer("threshold_cents", true, 0, limits::money_cents_max);
      tier.save_cents = t.integer("save_cents", true, 0, limits::money_cents_max);
      c.tiers.push_back(tier);
    });
    c.points_multiplier_permille =
        static_cast<std::int32_t>(p.integer("points_multiplier_permille", false, 0, points_multiplier_permille_max));
  });
  in.object("scope", false, [&](JsonReader& s) {
    c.scope.regions = s.strings("regions", false, scope_entries_max);
    c.scope.skus = s.strings("skus", false, scope_entries_max);
    c.scope.channels = s.strings("channels", false, scope_entries_max);
    c.scope.tiers = s.strings("tiers", false, scope_entries_max);
  });
  in.object("budget", false, [&](JsonReader& b) {
    c.max_redemptions = b.integer("max_redemptions", false, 0, coupons_per_campaign_max);
    c.max_discount_cents = b.integer("max_discount_cents", false, 0, limits::money_cents_max);
  });
  c.per_member_limit = static_cast<std::int32_t>(in.integer("per_member_limit", false, 0, 1'000'000));
  c.valid_from_us = in.integer("valid_from_us", true, 0, time_max_us);
  c.valid_to_us = in.integer("valid_to_us", true, 0, time_max_us);
  c.restore_on_cancel = in.boolean("restore_on_cancel", false, true);
  if (auto e = in.finish()) return *e;
  if (!campaign_kind_from_name(kind, c.kind)) {
    return bad_request("invalid_argument", "kind must be amount_off, percent_off, spend_x_save_y or points_multiplier",
                       "kind");
  }
  return CommandBody{std::move(c)};
}

Decoded decode_coupons(const std::string& campaign, std::string_view body) {
  JsonReader in(body);
  IssueCoupons c{campaign, in.str("member"), 1};
  c.count = static_cast<std::int32_t>(in.integer("count", false, 1, coupons_per_command_max, 1));
  return done(in, c);
}

Decoded decode_payment(std::string_view body) {
  JsonReader in(body);
  RecordPayment c;
  c.dealer = in.str("dealer");
  c.amount_cents = in.integer("amount_cents", true, 1, limits::money_cents_max);
  c.ref = in.str("ref");
  return done(in, c);
}

Decoded decode_credit_limit(const std::string& dealer, std::string_view body) {
  JsonReader in(body);
  SetCreditLimit c{dealer, 0, {}};
  c.credit_limit_cents = in.integer("credit_limit_cents", true, 0, limits::money_cents_max);
  c.reason = in.str("reason");
  return done(in, c);
}

Decoded decode_bulk_prices(std::string_view body) {
  JsonReader in(body);
  ChangePrices c;
  std::optional<ApiError> level_error;
  in.objects("changes", true, price_changes_per_command_max, [&](JsonReader& ch) {
    PriceChangeInput change;
    change.sku = ch.str("sku");
    std::string level = ch.str("level");
    change.price_cents = ch.integer("price_cents", true, 1, limits::money_cents_max);
    if (!ch.failed() && !price_level_from_name(level, change.level) && !level_error) {
      level_error = bad_request("invalid_argument",
                                fmt::format("changes[{}].level must be wholesale, supply or retail", c.changes.size()),
                                "level");
    }
    c.changes.push_back(std::move(change));
  });
  c.reason = in.str("reason");
  if (auto e = in.finish()) return *e;
  if (level_error) return *level_error;
  return CommandBody{std::move(c)};
}

Decoded decode_price_policy(std::string_view body) {
  JsonReader in(body);
  SetPricePolicy c;
  c.alert_threshold_bp = static_cast<std::int32_t>(in.integer("alert_threshold_bp", true, 1, 100'000));
  c.reject_below_floor = in.boolean("reject_below_floor", false);
  return done(in, c);
}

std::variant<QuoteRequest, ApiError> decode_quote(std::string_view body) {
  JsonReader in(body);
  QuoteRequest q;
  read_ship_to(in, q.ship_to_region, q.lat_e6, q.lon_e6);
  q.lines = read_order_lines(in, false);
  q.promised_by_us = in.integer("promised_by_us", true, 0, time_max_us);
  q.channel = in.str("channel", false);
  q.allow_partial = in.boolean("allow_partial", false);
  q.weights = read_weights(in, false);
  q.plans = static_cast<std::size_t>(in.integer("plans", false, 1, 10, 3));
  if (auto e = in.finish()) return *e;
  // Placement refuses an unknown channel; a quote must not silently score one as "some channel".
  if (!q.channel.empty() && !is_channel(q.channel)) {
    return bad_request("invalid_argument", "channel must be regional_storefront, dealer_storefront, store or o2o",
                       "channel");
  }
  for (const auto& [name, weight] : q.weights) {
    Dimension d;
    if (!dimension_from_name(name, d)) {
      return bad_request("invalid_argument", fmt::format("'{}' is not a dimension", name.substr(0, 80)), "weights");
    }
  }
  return q;
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

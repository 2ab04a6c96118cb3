// Order commands: placement (validation, approval policy, allocation by the matcher or from the
// seller's stock), approvals, shipment, delivery, cancellation and returns. Every check that can
// reject runs before the first emit. Stock is held by reservations (ledger/orders.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <set>

#include "decide.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"

namespace ledger {

namespace {

constexpr std::string_view approval_steps[] = {"region_manager", "sales_director", "finance"};
constexpr std::size_t approval_rules_max = 64;
// Orders one receipt allocates at most; the rest wait for the next receipt or POST .../allocate.
constexpr std::size_t allocations_per_receipt_max = 1024;

Error order_error(ErrorCode code, std::string message, std::string_view field = {}) {
  Error e = make_error(code, std::move(message));
  if (!field.empty()) e.with("field", std::string(field));
  return e;
}

Result<const OrderRecord*> find_order(const LedgerState& state, const std::string& id) {
  if (auto st = check_id(id, "id"); !st) return st.take_error();
  const OrderRecord* o = state.order(id);
  if (o == nullptr) return order_error(ErrorCode::unknown_id, fmt::format("order '{}' does not exist", id), "id");
  return o;
}

Error illegal(const std::string& id, const OrderRecord& o, std::string_view what) {
  return make_error(ErrorCode::illegal_transition,
                    fmt::format("order '{}' is {}: {}", id, order_status_name(o.status()), what))
      .with("status", order_status_name(o.status()));
}

// ---- the stock an allocation may take: the state's, plus what this command added or took already
class StockOverlay {
 public:
  explicit StockOverlay(const LedgerState& state) : state_(state) {}
  std::int64_t available(const std::string& location, const std::string& sku) const {
    auto it = delta_.find({location, sku});
    return state_.balance(location, sku).available() + (it == delta_.end() ? 0 : it->second);
  }
  void add(const std::string& location, const std::string& sku, std::int64_t qty) { delta_[{location, sku}] += qty; }

 private:
  const LedgerState& state_;
  std::map<std::pair<std::string, std::string>, std::int64_t> delta_;
};

std::int64_t hold_deadline(const OrderRecord& o, std::int64_t now_us) {
  if (o.type == OrderType::reservation) return o.pickup_at_us;
  return std::max(o.promised_by_us, now_us) + order_hold_after_promise_us;
}

// Emits one reservation per source location (order.ID.N -> transit:order.ID), then OrderAllocated.
// `picks` are (location, sku, qty); `first_n` numbers the first new reservation.
void emit_allocation(EventSink& sink, const std::string& id, std::uint32_t first_n, std::int64_t deadline_us,
                     const std::vector<AllocationInput>& picks, StockOverlay& overlay) {
  std::vector<std::string> sources;
  for (const auto& p : picks) {
    if (std::find(sources.begin(), sources.end(), p.location) == sources.end()) sources.push_back(p.location);
  }
  auto& b = sink.builder();
  std::string transit = order_transit_location(id);
  std::vector<AllocationInput> recorded;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    std::string reservation = order_reservation_id(id, first_n + static_cast<std::uint32_t>(i));
    std::vector<StockLineInput> lines;
    for (const auto& p : picks) {
      if (p.location != sources[i]) continue;
      lines.push_back({p.sku, p.qty, {}});
      recorded.push_back({p.location, p.sku, p.qty, reservation});
      overlay.add(p.location, p.sku, -p.qty);
    }
    auto body = fb::CreateReservationCreated(b, b.CreateString(reservation), b.CreateString(sources[i]),
                                             b.CreateString(transit), build_lines(b, lines), deadline_us);
    sink.emit(fmt::format("reservation:{}", reservation), fb::Body::ReservationCreated, body.Union());
  }
  std::vector<flatbuffers::Offset<fb::AllocationLine>> lines;
  for (const auto& a : recorded) {
    lines.push_back(fb::CreateAllocationLineDirect(b, a.location.c_str(), a.sku.c_str(), a.qty, a.reservation.c_str()));
  }
  auto body = fb::CreateOrderAllocated(b, b.CreateString(id), b.CreateVector(lines));
  sink.emit(fmt::format("order:{}", id), fb::Body::OrderAllocated, body.Union());
}

// ---- matching across warehouses (orders sold by hq)

struct Wanted {  // units of one SKU still to allocate
  std::string sku;
  std::int64_t qty = 0;
};

struct MatchFrame {
  std::string ship_to_region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
  std::int64_t promised_by_us = 0;
  std::string channel;
};

std::vector<AllocationInput> match_warehouses(const LedgerState& state, const StockOverlay& overlay,
                                              const MatchFrame& frame, const std::vector<Wanted>& wanted,
                                              bool allow_partial, const DecideContext& ctx) {
  std::vector<MatchLine> lines;
  for (const auto& w : wanted) {
    const SkuRecord* sku = state.sku(w.sku);
    std::int32_t case_units = sku != nullptr ? sku->case_units : 1;
    lines.push_back({w.sku, w.qty, case_units, 2LL * case_units});
  }
  const auto& ids = state.warehouse_ids();
  std::vector<std::int64_t> available(ids.size() * lines.size()), since(ids.size() * lines.size());
  std::vector<MatchWarehouse> warehouses(ids.size());
  std::int64_t day = china_day_of(ctx.now_us);
  for (std::size_t w = 0; w < ids.size(); ++w) {
    const WarehouseRecord* record = state.warehouse(ids[w]);
    std::string location = location_string(LocationKind::warehouse, ids[w]);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      available[w * lines.size() + i] = overlay.available(location, wanted[i].sku);
      std::int64_t s = state.stock_since_us(location, wanted[i].sku);
      since[w * lines.size() + i] = s == 0 ? ctx.now_us : s;
    }
    warehouses[w] = MatchWarehouse{ids[w],
                                   record->region == frame.ship_to_region,
                                   record->lat_e6,
                                   record->lon_e6,
                                   record->daily_capacity_cases,
                                   state.warehouse_load_cases(ids[w], day),
                                   std::span<const std::int64_t>(available.data() + w * lines.size(), lines.size()),
                                   std::span<const std::int64_t>(since.data() + w * lines.size(), lines.size())};
  }
  MatchRequest request;
  request.lines = lines;
  request.ship_to_lat_e6 = frame.lat_e6;
  request.ship_to_lon_e6 = frame.lon_e6;
  request.now_us = ctx.now_us;
  request.promised_by_us = frame.promised_by_us;
  request.channel = frame.channel;
  request.allow_partial = allow_partial;
  request.weights = state.sourcing_weights(frame.ship_to_region);
  Matcher local;
  Matcher& matcher = ctx.matcher != nullptr ? *ctx.matcher : local;
  auto plans = matcher.match(request, warehouses);
  std::vector<AllocationInput> picks;
  if (plans.empty()) return picks;
  for (const auto& p : plans.front().picks) {
    picks.push_back({location_string(LocationKind::warehouse, ids[p.warehouse]), wanted[p.line].sku, p.qty, {}});
  }
  return picks;
}

// A proposed plan is kept when it still fits: warehouse locations, SKUs of the order, no more than
// wanted, and available now. Otherwise the writer matches again on its own state.
bool proposal_fits(const LedgerState& state, const StockOverlay& overlay, const std::vector<AllocationInput>& proposed,
                   const std::vector<Wanted>& wanted, bool allow_partial) {
  if (proposed.empty()) return false;
  std::map<std::pair<std::string, std::string>, std::int64_t> taken;
  std::map<std::string, std::int64_t> by_sku;
  for (const auto& p : proposed) {
    auto location = parse_location(p.location);
    if (!location || location->kind != LocationKind::warehouse || state.warehouse(location->id) == nullptr) return false;
    if (p.qty <= 0) return false;
    taken[{p.location, p.sku}] += p.qty;
    by_sku[p.sku] += p.qty;
  }
  for (const auto& [key, qty] : taken) {
    if (overlay.available(key.first, key.second) < qty) return false;
  }
  std::size_t known = 0;
  for (const auto& w : wanted) {
    auto it = by_sku.find(w.sku);
    std::int64_t got = it == by_sku.end() ? 0 : it->second;
    known += it == by_sku.end() ? 0 : 1;
    if (got > w.qty || (!allow_partial && got != w.qty)) return false;
  }
  return known == by_sku.size();
}

// Picks from one location (orders sold by a dealer or a store): what it has, up to what is wanted.
std::vector<AllocationInput> from_location(const StockOverlay& overlay, const std::string& location,
                                          const std::vector<Wanted>& wanted) {
  std::vector<AllocationInput> picks;
  for (const auto& w : wanted) {
    std::int64_t take = std::min(w.qty, std::max<std::int64_t>(0, overlay.available(location, w.sku)));
    if (take > 0) picks.push_back({location, w.sku, take, {}});
  }
  return picks;
}

Error shortage(const LedgerState& state, const StockOverlay& overlay, const std::string& seller,
               const std::vector<Wanted>& wanted) {
  for (const auto& w : wanted) {
    std::int64_t available = 0;
    if (seller == "hq") {
      for (const auto& id : state.warehouse_ids()) {
        available += std::max<std::int64_t>(0, overlay.available(location_string(LocationKind::warehouse, id), w.sku));
      }
    } else {
      available = std::max<std::int64_t>(0, overlay.available(seller, w.sku));
    }
    if (available < w.qty) {
      return make_error(ErrorCode::insufficient_stock,
                        fmt::format("{} of {} ordered, {} available{}; set allow_backorder to wait for the rest", w.qty,
                                    w.sku, available, seller == "hq" ? " across the warehouses" : " at " + seller))
          .with("sku", w.sku)
          .with("requested", w.qty)
          .with("available", available)
          .with("short", w.qty - available);
    }
  }
  return make_error(ErrorCode::insufficient_stock,
                    "the stock is there, but no plan of at most 3 warehouses covers the order; split it");
}

std::int64_t sum_picks(const std::vector<AllocationInput>& picks) {
  std::int64_t n = 0;
  for (const auto& p : picks) n += p.qty;
  return n;
}

// Allocates `wanted` for an order: the matcher across warehouses for hq, else the seller's stock.
std::vector<AllocationInput> allocate(const LedgerState& state, const StockOverlay& overlay, const OrderRecord& o,
                                      const std::vector<Wanted>& wanted, bool allow_partial,
                                      const std::vector<AllocationInput>& proposed, const DecideContext& ctx) {
  if (o.seller != "hq") return from_location(overlay, o.seller, wanted);
  if (proposal_fits(state, overlay, proposed, wanted, allow_partial)) return proposed;
  if (!proposed.empty() && ctx.stale_plans != nullptr) ++*ctx.stale_plans;
  MatchFrame frame{o.ship_to_region, o.ship_to_lat_e6, o.ship_to_lon_e6, o.promised_by_us, o.channel};
  return match_warehouses(state, overlay, frame, wanted, allow_partial, ctx);
}

std::vector<Wanted> unallocated_of(const OrderRecord& o) {
  std::vector<Wanted> wanted;
  for (const auto& [sku, u] : o.units) {
    if (std::int64_t n = o.unallocated(sku); n > 0) wanted.push_back({sku, n});
  }
  return wanted;
}

// ---- placement

struct Party {
  LocationKind kind = LocationKind::production;  // production stands for hq
  std::string id;
  std::string region;
};

Result<Party> parse_party(const LedgerState& state, const std::string& text, std::string_view field, bool seller) {
  if (seller && text == "hq") return Party{LocationKind::production, "hq", {}};
  Party p;
  std::string_view rest;
  if (text.rfind("member:", 0) == 0 && !seller) {
    p.id = text.substr(7);
    if (auto st = check_id(p.id, field); !st) return st.take_error();
    const MemberRecord* m = state.member(p.id);
    if (m == nullptr) return order_error(ErrorCode::unknown_id, fmt::format("{} '{}' is not defined", field, text), field);
    p.kind = LocationKind::customer;
    const StoreRecord* home = state.store(m->home_store);
    p.region = home != nullptr ? home->region : std::string();
    return p;
  }
  auto location = parse_location(text);
  if (!location || (location->kind != LocationKind::dealer && location->kind != LocationKind::store)) {
    return order_error(ErrorCode::invalid_argument,
                       fmt::format("{} must be {}dealer:ID or store:ID{}, not '{}'", field, seller ? "hq, " : "",
                                   seller ? "" : " or member:ID", text.substr(0, 80)),
                       field);
  }
  p.kind = location->kind;
  p.id = location->id;
  if (p.kind == LocationKind::dealer) {
    const DealerRecord* d = state.dealer(p.id);
    if (d == nullptr) return order_error(ErrorCode::unknown_id, fmt::format("{} '{}' is not defined", field, text), field);
    p.region = d->region;
  } else {
    const StoreRecord* s = state.store(p.id);
    if (s == nullptr) return order_error(ErrorCode::unknown_id, fmt::format("{} '{}' is not defined", field, text), field);
    p.region = s->region;
  }
  return p;
}

// Who may sell to whom: hq to anyone; a dealer to its own stores and to members; a store to members.
Status check_parties(const LedgerState& state, const Party& seller, const Party& buyer) {
  if (seller.kind == LocationKind::production) return Ok{};
  if (seller.kind == LocationKind::dealer) {
    if (buyer.kind == LocationKind::customer) return Ok{};
    if (buyer.kind == LocationKind::store && state.store(buyer.id)->dealer == seller.id) return Ok{};
    return order_error(ErrorCode::rule_violation,
                       fmt::format("dealer {} sells to its own stores and to members only", seller.id), "buyer");
  }
  if (buyer.kind == LocationKind::customer) return Ok{};
  return order_error(ErrorCode::rule_violation, fmt::format("store {} sells to members only", seller.id), "buyer");
}

std::vector<std::string> approvals_for(const LedgerState& state, const PlaceOrder& c, const Party& buyer,
                                       std::int64_t total_cents, bool below_floor) {
  DealerAccount account;
  std::int64_t limit = 0;
  int tier = 4;
  if (buyer.kind == LocationKind::dealer) {
    account = state.dealer_account(buyer.id);
    limit = state.dealer(buyer.id)->credit_limit_cents;
    tier = dealer_health_tier(account, limit);
  }
  std::set<std::string_view> steps;
  for (const auto& rule : state.approval_policy()) {
    if (rule.min_amount_cents > 0 && total_cents < rule.min_amount_cents) continue;
    if (rule.below_floor && !below_floor) continue;
    if (!rule.order_type.empty() && rule.order_type != order_type_name(c.type)) continue;
    if (rule.health_tier_at_most > 0 && (buyer.kind != LocationKind::dealer || tier > rule.health_tier_at_most)) continue;
    if (rule.credit_overrun && (buyer.kind != LocationKind::dealer || account.exposure_cents() + total_cents <= limit)) {
      continue;
    }
    steps.insert(rule.step);
  }
  std::vector<std::string> out;
  for (auto step : approval_steps) {
    if (steps.count(step) != 0) out.emplace_back(step);
  }
  return out;
}

Status check_order_lines(const LedgerState& state, const PlaceOrder& c, const Party& buyer, std::int64_t& total_cents,
                         bool& below_floor) {
  if (c.lines.empty()) return order_error(ErrorCode::invalid_argument, "lines is empty", "lines");
  if (c.lines.size() > limits::lines_max) {
    return order_error(ErrorCode::invalid_argument, fmt::format("{} lines; at most {}", c.lines.size(), limits::lines_max),
                       "lines");
  }
  total_cents = 0;
  below_floor = false;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    const auto& l = c.lines[i];
    std::string field = fmt::format("lines[{}].sku", i);
    if (auto st = check_id(l.sku, field); !st) return st;
    const SkuRecord* sku = state.sku(l.sku);
    if (sku == nullptr) {
      return order_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", l.sku), field).with("sku", l.sku);
    }
    if (l.qty <= 0 || l.qty > limits::qty_max) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("lines[{}].qty is {}; it must be between 1 and {}", i, l.qty, limits::qty_max),
                         fmt::format("lines[{}].qty", i));
    }
    if (l.unit_price_cents < 0 || l.unit_price_cents > limits::money_cents_max) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("lines[{}].unit_price_cents is {}; it must be between 0 and {}", i,
                                     l.unit_price_cents, limits::money_cents_max),
                         fmt::format("lines[{}].unit_price_cents", i));
    }
    // qty * price may exceed int64 before the total does: divide instead of multiplying.
    if (l.unit_price_cents > 0 && l.qty > (limits::money_cents_max - total_cents) / l.unit_price_cents) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("the order's total exceeds {} cents", limits::money_cents_max), "lines");
    }
    total_cents += l.qty * l.unit_price_cents;
    below_floor |= l.unit_price_cents < floor_cents_for(sku->floors, c.buyer);
  }
  return Ok{};
}

std::vector<Wanted> merged(const std::vector<OrderLineInput>& lines) {
  std::vector<Wanted> out;
  for (const auto& l : lines) {
    auto it = std::find_if(out.begin(), out.end(), [&](const Wanted& w) { return w.sku == l.sku; });
    if (it == out.end()) {
      out.push_back({l.sku, l.qty});
    } else {
      it->qty += l.qty;
    }
  }
  std::sort(out.begin(), out.end(), [](const Wanted& a, const Wanted& b) { return a.sku < b.sku; });
  return out;
}

Status place_order(const LedgerState& state, const PlaceOrder& c, const DecideContext& ctx, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (c.id.size() > order_id_bytes_max) {
    return order_error(ErrorCode::invalid_argument,
                       fmt::format("order id is {} bytes long; at most {}", c.id.size(), order_id_bytes_max), "id");
  }
  if (state.order(c.id) != nullptr) {
    return order_error(ErrorCode::already_exists, fmt::format("order '{}' already exists; choose another id", c.id), "id");
  }
  auto seller = parse_party(state, c.seller, "seller", true);
  if (!seller) return seller.take_error();
  auto buyer = parse_party(state, c.buyer, "buyer", false);
  if (!buyer) return buyer.take_error();
  if (auto st = check_parties(state, *seller, *buyer); !st) return st;
  if (!is_channel(c.channel)) {
    return order_error(ErrorCode::invalid_argument,
                       fmt::format("channel '{}' is not one of regional_storefront, dealer_storefront, store, o2o",
                                   c.channel.substr(0, 80)),
                       "channel");
  }
  if (auto st = check_id(c.ship_to_region, "ship_to.region"); !st) return st;
  if (state.region(c.ship_to_region) == nullptr) {
    return order_error(ErrorCode::unknown_id, fmt::format("region '{}' is not defined", c.ship_to_region),
                       "ship_to.region");
  }
  if (c.ship_to_lat_e6 < -90'000'000 || c.ship_to_lat_e6 > 90'000'000 || c.ship_to_lon_e6 < -180'000'000 ||
      c.ship_to_lon_e6 > 180'000'000) {
    return order_error(ErrorCode::invalid_argument, "ship_to coordinates are off the globe", "ship_to.lat");
  }
  if (seller->kind == LocationKind::dealer) {
    const DealerRecord* d = state.dealer(seller->id);
    bool inside = d->region == c.ship_to_region ||
                  std::find(d->territory.begin(), d->territory.end(), c.ship_to_region) != d->territory.end();
    if (!inside) {
      return order_error(ErrorCode::rule_violation,
                         fmt::format("region {} is outside dealer {}'s territory", c.ship_to_region, seller->id),
                         "ship_to.region")
          .with("reason", "out_of_territory");
    }
  }
  if (c.promised_by_us <= ctx.now_us) {
    return order_error(ErrorCode::invalid_argument,
                       fmt::format("promised_by_us {} is not after the ledger's time {}", c.promised_by_us, ctx.now_us),
                       "promised_by_us")
        .with("now_us", ctx.now_us);
  }
  switch (c.type) {
    case OrderType::reservation:
      if (seller->kind != LocationKind::store || buyer->kind != LocationKind::customer) {
        return order_error(ErrorCode::rule_violation, "a reservation is a member booking units at a store", "type");
      }
      if (c.pickup_at_us <= ctx.now_us) {
        return order_error(ErrorCode::invalid_argument, "pickup_at_us must be in the future", "pickup_at_us");
      }
      if (c.allow_backorder) {
        return order_error(ErrorCode::invalid_argument, "a reservation holds units that are there", "allow_backorder");
      }
      break;
    case OrderType::presale:
      if (seller->kind != LocationKind::production) {
        return order_error(ErrorCode::rule_violation, "presales are sold by hq against a production batch", "seller");
      }
      break;
    case OrderType::spot: break;
  }
  if (c.type != OrderType::reservation && c.pickup_at_us != 0) {
    return order_error(ErrorCode::invalid_argument, "pickup_at_us is for reservation orders", "pickup_at_us");
  }
  std::int64_t total_cents = 0;
  bool below_floor = false;
  if (auto st = check_order_lines(state, c, *buyer, total_cents, below_floor); !st) return st;
  if (below_floor && state.marketing().reject_below_floor) {
    return order_error(ErrorCode::rule_violation, "a line is priced below its floor, and the price policy refuses that",
                       "lines")
        .with("reason", "below_floor");
  }
  auto redemption = plan_redemption(state, c, total_cents, ctx.now_us);
  if (!redemption) return redemption.take_error();
  const std::int64_t discount_cents = redemption->discounts.discount_cents;
  std::vector<Wanted> wanted = merged(c.lines);
  if (c.type == OrderType::presale) {
    for (const auto& w : wanted) {
      if (state.presale_batch_for(w.sku, w.qty).empty()) {
        return order_error(ErrorCode::rule_violation,
                           fmt::format("no announced batch of {} has {} units of presale quota left", w.sku, w.qty),
                           "lines")
            .with("sku", w.sku)
            .with("reason", "presale_quota");
      }
    }
  }
  std::vector<std::string> approvals = approvals_for(state, c, *buyer, total_cents - discount_cents, below_floor);

  // The record the allocation reasons about, as the fold will make it.
  OrderRecord o;
  o.type = c.type;
  o.seller = c.seller;
  o.ship_to_region = c.ship_to_region;
  o.ship_to_lat_e6 = c.ship_to_lat_e6;
  o.ship_to_lon_e6 = c.ship_to_lon_e6;
  o.promised_by_us = c.promised_by_us;
  o.pickup_at_us = c.pickup_at_us;
  o.channel = c.channel;
  StockOverlay overlay(state);
  std::vector<AllocationInput> picks;
  if (c.type != OrderType::presale) {
    picks = allocate(state, overlay, o, wanted, c.allow_backorder, c.proposed, ctx);
    std::int64_t wanted_total = 0;
    for (const auto& w : wanted) wanted_total += w.qty;
    if (!c.allow_backorder && sum_picks(picks) != wanted_total) return shortage(state, overlay, c.seller, wanted);
  }

  auto& b = sink.builder();
  std::vector<flatbuffers::Offset<fb::OrderLine>> lines;
  for (const auto& l : c.lines) lines.push_back(fb::CreateOrderLineDirect(b, l.sku.c_str(), l.qty, l.unit_price_cents));
  std::vector<flatbuffers::Offset<flatbuffers::String>> coupons, steps;
  for (const auto& s : approvals) steps.push_back(b.CreateString(s));
  for (const auto& cd : redemption->discounts.coupons) coupons.push_back(b.CreateString(cd.code));
  auto body = fb::CreateOrderPlaced(b, b.CreateString(c.id), static_cast<fb::OrderType>(c.type), b.CreateString(c.buyer),
                                    b.CreateString(c.seller), b.CreateString(c.channel), b.CreateString(c.ship_to_region),
                                    c.ship_to_lat_e6, c.ship_to_lon_e6, b.CreateVector(lines), b.CreateVector(coupons),
                                    c.promised_by_us, c.pickup_at_us, total_cents, discount_cents,
                                    b.CreateVector(steps), c.allow_backorder);
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderPlaced, body.Union());
  emit_redemption(c.id, *redemption, sink);
  if (!picks.empty()) emit_allocation(sink, c.id, 0, hold_deadline(o, ctx.now_us), picks, overlay);
  return Ok{};
}

// ---- approvals

// The region an order belongs to for region managers: the buyer's, else where it ships.
std::string order_region(const LedgerState& state, const OrderRecord& o) {
  if (o.buyer.rfind("dealer:", 0) == 0) {
    if (const DealerRecord* d = state.dealer(std::string_view(o.buyer).substr(7))) return d->region;
  }
  if (o.buyer.rfind("store:", 0) == 0) {
    if (const StoreRecord* s = state.store(std::string_view(o.buyer).substr(6))) return s->region;
  }
  return o.ship_to_region;
}

// Segregation of duties: the principal that placed an order never approves or rejects it. The order's
// first timeline entry is its placement, with the placer's principal.
Status check_not_placer(const OrderRecord& o, const Actor& actor) {
  assert(o.timeline.empty() || o.timeline.front().kind == "placed");
  if (!o.timeline.empty() && !actor.principal.empty() && actor.principal != "system" &&
      o.timeline.front().principal == actor.principal) {
    return make_error(ErrorCode::forbidden, "you placed this order: another approver decides its steps")
        .with("reason", "own_order");
  }
  return Ok{};
}

Status check_approver(const LedgerState& state, const OrderRecord& o, const Actor& actor, std::string_view step) {
  if (actor.role != step) {
    return make_error(ErrorCode::forbidden, fmt::format("step {} is approved by a {}, not a {}", step, step, actor.role))
        .with("step", std::string(step));
  }
  if (step == "region_manager" && actor.scope != order_region(state, o)) {
    return make_error(ErrorCode::forbidden,
                      fmt::format("the order belongs to region {}; you manage {}", order_region(state, o), actor.scope))
        .with("step", std::string(step));
  }
  return Ok{};
}

void emit_voids(const LedgerState& state, const OrderRecord& o, std::string_view reason, EventSink& sink) {
  auto& b = sink.builder();
  for (const auto& id : o.reservations) {
    const ReservationRecord* r = state.reservation(id);
    if (r == nullptr || r->status != ReservationStatus::pending) continue;
    auto body = fb::CreateReservationVoided(b, b.CreateString(id), b.CreateString(reason));
    sink.emit(fmt::format("reservation:{}", id), fb::Body::ReservationVoided, body.Union());
  }
}

Status approve_order(const LedgerState& state, const ApproveOrder& c, const Actor& actor, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended() || !(*o)->approvals_pending()) return illegal(c.id, **o, "it waits for no approval");
  const auto& required = (*o)->approvals_required;
  if (std::find(required.begin(), required.end(), c.step) == required.end()) {
    return order_error(ErrorCode::invalid_argument,
                       fmt::format("order '{}' does not need step '{}'; it needs [{}]", c.id, c.step.substr(0, 80),
                                   fmt::join(required, ", ")),
                       "step");
  }
  for (const auto& a : (*o)->approvals) {
    if (a.step == c.step) return illegal(c.id, **o, fmt::format("step {} was approved already", c.step));
  }
  if (auto st = check_not_placer(**o, actor); !st) return st;
  if (auto st = check_approver(state, **o, actor, c.step); !st) return st;
  auto& b = sink.builder();
  auto body = fb::CreateOrderApprovedDirect(b, c.id.c_str(), c.step.c_str());
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderApproved, body.Union());
  return Ok{};
}

Status reject_order(const LedgerState& state, const RejectOrder& c, const Actor& actor, std::int64_t now_us,
                    EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended() || !(*o)->approvals_pending()) return illegal(c.id, **o, "only an order waiting for approval is rejected");
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  if (auto st = check_not_placer(**o, actor); !st) return st;
  // Any approver of a step still pending may say no.
  Status allowed = make_error(ErrorCode::forbidden, "only an approver of a pending step may reject");
  for (const auto& step : (*o)->approvals_required) {
    bool done = std::any_of((*o)->approvals.begin(), (*o)->approvals.end(), [&](const auto& a) { return a.step == step; });
    if (!done && check_approver(state, **o, actor, step)) allowed = Ok{};
  }
  if (!allowed) return allowed;
  emit_voids(state, **o, "order rejected", sink);
  auto& b = sink.builder();
  auto body = fb::CreateOrderRejectedDirect(b, c.id.c_str(), c.reason.c_str());
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderRejected, body.Union());
  emit_order_end_marketing(state, c.id, **o, now_us, sink);
  return Ok{};
}

// ---- fulfilment

Status allocate_order(const LedgerState& state, const AllocateOrder& c, const DecideContext& ctx, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended()) return illegal(c.id, **o, "it has ended");
  std::vector<Wanted> wanted = unallocated_of(**o);
  if (wanted.empty()) return illegal(c.id, **o, "every unit is allocated already");
  StockOverlay overlay(state);
  auto picks = allocate(state, overlay, **o, wanted, true, {}, ctx);
  if (picks.empty()) return shortage(state, overlay, (*o)->seller, wanted);
  emit_allocation(sink, c.id, static_cast<std::uint32_t>((*o)->reservations.size()), hold_deadline(**o, ctx.now_us), picks,
                  overlay);
  return Ok{};
}

// Posts the order's pending reservations for `to_ship` (SKU -> units), re-holding what a partly
// taken reservation keeps under a new reservation; then OrderShipped.
void emit_shipment(const LedgerState& state, const std::string& id, const OrderRecord& o,
                   std::map<std::string, std::int64_t> to_ship, EventSink& sink) {
  auto& b = sink.builder();
  std::uint32_t next_n = static_cast<std::uint32_t>(o.reservations.size());
  std::vector<StockLineInput> shipped;
  for (const auto& [sku, qty] : to_ship) shipped.push_back({sku, qty, {}});
  for (const auto& rid : o.reservations) {
    const ReservationRecord* r = state.reservation(rid);
    if (r == nullptr || r->status != ReservationStatus::pending) continue;
    std::vector<StockLineInput> posted, kept;
    for (const auto& l : r->lines) {
      std::int64_t take = std::min(l.qty, to_ship[l.sku]);
      to_ship[l.sku] -= take;
      if (take > 0) posted.push_back({l.sku, take, l.lot});
      if (l.qty - take > 0) kept.push_back({l.sku, l.qty - take, l.lot});
    }
    if (posted.empty()) continue;
    auto post = fb::CreateReservationPosted(b, b.CreateString(rid), build_lines(b, posted));
    sink.emit(fmt::format("reservation:{}", rid), fb::Body::ReservationPosted, post.Union());
    if (!kept.empty()) {
      std::string again = order_reservation_id(id, next_n++);
      auto body = fb::CreateReservationCreated(b, b.CreateString(again), b.CreateString(r->from), b.CreateString(r->to),
                                               build_lines(b, kept), r->deadline_us);
      sink.emit(fmt::format("reservation:{}", again), fb::Body::ReservationCreated, body.Union());
    }
  }
  auto body = fb::CreateOrderShipped(b, b.CreateString(id), b.CreateString(fmt::format("{}.s{}", id, o.shipments + 1)),
                                     build_lines(b, shipped));
  sink.emit(fmt::format("order:{}", id), fb::Body::OrderShipped, body.Union());
}

Status ship_order(const LedgerState& state, const ShipOrder& c, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended() || (*o)->approvals_pending()) return illegal(c.id, **o, "only an approved order ships");
  if ((*o)->held.empty()) return illegal(c.id, **o, "nothing of it is allocated to ship");
  if ((*o)->type == OrderType::reservation) return illegal(c.id, **o, "a reservation is picked up: POST .../deliver");
  std::map<std::string, std::int64_t> to_ship;
  if (c.lines.empty()) {
    for (const auto& [sku, qty] : (*o)->held) to_ship[sku] = qty;
  } else {
    auto by_sku = check_lines(state, c.lines);
    if (!by_sku) return by_sku.take_error();
    for (const auto& [sku, qty] : *by_sku) {
      auto h = (*o)->held.find(sku);
      std::int64_t held = h == (*o)->held.end() ? 0 : h->second;
      if (qty > held) {
        return order_error(ErrorCode::invalid_argument,
                           fmt::format("ships {} of {}, but the order holds {} of it", qty, sku, held), "lines")
            .with("sku", std::string(sku))
            .with("held", held);
      }
      to_ship[std::string(sku)] = qty;
    }
  }
  emit_shipment(state, c.id, **o, std::move(to_ship), sink);
  return Ok{};
}

Status deliver_order(const LedgerState& state, const DeliverOrder& c, std::int64_t now_us, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended()) return illegal(c.id, **o, "it has ended");
  bool on_road = std::any_of((*o)->units.begin(), (*o)->units.end(), [](const auto& u) { return u.second.shipped > u.second.delivered; });
  auto& b = sink.builder();
  if (!on_road) {
    // A member picks up a reservation: it ships and is delivered at once.
    if ((*o)->type != OrderType::reservation || (*o)->held.empty() || (*o)->approvals_pending()) {
      return illegal(c.id, **o, "nothing of it is on the road");
    }
    std::map<std::string, std::int64_t> all((*o)->held.begin(), (*o)->held.end());
    emit_shipment(state, c.id, **o, std::move(all), sink);
  }
  auto body = fb::CreateOrderDeliveredDirect(b, c.id.c_str());
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderDelivered, body.Union());
  emit_delivery_marketing(state, c.id, **o, now_us, sink);
  return Ok{};
}

Status complete_order(const LedgerState& state, const CompleteOrder& c, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->status() != OrderStatus::delivered) return illegal(c.id, **o, "only a delivered order completes");
  auto& b = sink.builder();
  auto body = fb::CreateOrderCompletedDirect(b, c.id.c_str());
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderCompleted, body.Union());
  return Ok{};
}

Status cancel_order(const LedgerState& state, const CancelOrder& c, std::int64_t now_us, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->ended()) return illegal(c.id, **o, "it has ended");
  if ((*o)->anything_shipped()) return illegal(c.id, **o, "units have shipped; return them after delivery instead");
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  emit_voids(state, **o, "order cancelled", sink);
  auto& b = sink.builder();
  auto body = fb::CreateOrderCancelledDirect(b, c.id.c_str(), c.reason.c_str());
  sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderCancelled, body.Union());
  emit_order_end_marketing(state, c.id, **o, now_us, sink);
  return Ok{};
}

// Units of `sku` the order shipped from each source location, in the order the sources were first
// allocated. A posted reservation shipped its lines less what the shipment held again under a new
// reservation (one that no OrderAllocated made): sum posted lines, subtract those re-holds.
std::vector<std::pair<std::string, std::int64_t>> shipped_by_source(const LedgerState& state, const OrderRecord& o,
                                                                    std::string_view sku) {
  std::set<std::string_view> allocated;
  for (const auto& a : o.allocation) allocated.insert(a.reservation);
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& id : o.reservations) {
    const ReservationRecord* r = state.reservation(id);
    assert(r != nullptr);
    std::int64_t qty = 0;
    for (const auto& l : r->lines) qty += l.sku == sku ? l.qty : 0;
    std::int64_t shipped = (r->status == ReservationStatus::posted ? qty : 0) - (allocated.count(id) == 0 ? qty : 0);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& s) { return s.first == r->from; });
    if (it == out.end()) it = out.insert(out.end(), {r->from, 0});
    it->second += shipped;
  }
  return out;
}

Status return_order(const LedgerState& state, const ReturnOrder& c, std::int64_t now_us, EventSink& sink) {
  auto o = find_order(state, c.id);
  if (!o) return o.take_error();
  if ((*o)->cancelled || (*o)->rejected) return illegal(c.id, **o, "it has ended");
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  auto by_sku = check_lines(state, c.lines);
  if (!by_sku) return by_sku.take_error();
  std::string from = (*o)->buyer_location();
  // Units go back to where they were shipped from: each source takes back what it shipped, the
  // first source first (earlier returns went the same way, so they used up the first sources).
  std::map<std::string, std::vector<StockLineInput>> by_destination;
  for (const auto& [sku, qty] : *by_sku) {
    auto u = (*o)->units.find(sku);
    std::int64_t returnable = u == (*o)->units.end() ? 0 : u->second.delivered - u->second.returned;
    if (qty > returnable) {
      return order_error(ErrorCode::illegal_transition,
                         fmt::format("returns {} of {}, but {} were delivered and not returned", qty, sku, returnable),
                         "lines")
          .with("sku", std::string(sku))
          .with("returnable", returnable);
    }
    std::int64_t skip = u->second.returned, left = qty;
    for (const auto& [source, shipped] : shipped_by_source(state, **o, sku)) {
      std::int64_t taken_back = std::min(skip, shipped);
      skip -= taken_back;
      std::int64_t n = std::min(left, shipped - taken_back);
      if (n > 0) by_destination[source].push_back({std::string(sku), n, {}});
      left -= n;
    }
    assert(left == 0 && "the sources shipped every unit delivered");
  }
  if (from != "customer") {
    if (auto st = check_available(state, from, *by_sku); !st) return st;
  }
  auto& b = sink.builder();
  for (const auto& [to, lines] : by_destination) {
    auto body = fb::CreateOrderReturned(b, b.CreateString(c.id), build_lines(b, lines), b.CreateString(c.reason),
                                        b.CreateString(from), b.CreateString(to));
    sink.emit(fmt::format("order:{}", c.id), fb::Body::OrderReturned, body.Union());
  }
  emit_return_marketing(state, c.id, **o, *by_sku, now_us, sink);
  return Ok{};
}

// ---- configuration

Status set_approval_policy(const SetApprovalPolicy& c, EventSink& sink) {
  if (c.rules.size() > approval_rules_max) {
    return order_error(ErrorCode::invalid_argument, fmt::format("at most {} rules", approval_rules_max), "rules");
  }
  auto& b = sink.builder();
  std::vector<flatbuffers::Offset<fb::ApprovalRule>> rules;
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    const auto& r = c.rules[i];
    if (std::find(std::begin(approval_steps), std::end(approval_steps), r.step) == std::end(approval_steps)) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("rules[{}].step must be region_manager, sales_director or finance", i),
                         fmt::format("rules[{}].step", i));
    }
    OrderType type;
    if (!r.order_type.empty() && !order_type_from_name(r.order_type, type)) {
      return order_error(ErrorCode::invalid_argument, fmt::format("rules[{}].order_type must be spot, presale or reservation", i),
                         fmt::format("rules[{}].order_type", i));
    }
    if (r.min_amount_cents < 0 || r.min_amount_cents > limits::money_cents_max || r.health_tier_at_most < 0 ||
        r.health_tier_at_most > 4) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("rules[{}]: min_amount_cents must be 0..{} and health_tier_at_most 0..4", i,
                                     limits::money_cents_max),
                         fmt::format("rules[{}]", i));
    }
  }
  for (const auto& r : c.rules) {
    rules.push_back(fb::CreateApprovalRuleDirect(b, r.step.c_str(), r.min_amount_cents, r.below_floor,
                                                 r.order_type.c_str(), r.health_tier_at_most, r.credit_overrun));
  }
  auto body = fb::CreateApprovalPolicySet(b, b.CreateVector(rules));
  sink.emit("config:approval_policy", fb::Body::ApprovalPolicySet, body.Union());
  return Ok{};
}

Status set_sourcing_weights(const LedgerState& state, const SetSourcingWeights& c, EventSink& sink) {
  if (!c.region.empty() && state.region(c.region) == nullptr) {
    return order_error(ErrorCode::unknown_id, fmt::format("region '{}' is not defined", c.region.substr(0, 80)), "region");
  }
  if (c.weights.empty() || c.weights.size() > dimension_count) {
    return order_error(ErrorCode::invalid_argument, fmt::format("name 1 to {} dimensions", dimension_count), "weights");
  }
  for (const auto& [name, weight] : c.weights) {
    Dimension d;
    if (!dimension_from_name(name, d)) {
      return order_error(ErrorCode::invalid_argument,
                         fmt::format("'{}' is not a dimension; see GET /v1/openapi.json", name.substr(0, 80)), "weights");
    }
    if (weight < 0 || weight > 1000) {
      return order_error(ErrorCode::invalid_argument, fmt::format("weight of {} must be 0..1000 per mille", name), "weights");
    }
  }
  auto& b = sink.builder();
  std::vector<flatbuffers::Offset<fb::SourcingWeight>> weights;
  for (const auto& [name, weight] : c.weights) weights.push_back(fb::CreateSourcingWeightDirect(b, name.c_str(), weight));
  auto body = fb::CreateSourcingWeightsSet(b, b.CreateString(c.region), b.CreateVector(weights));
  sink.emit(fmt::format("config:sourcing_weights:{}", c.region), fb::Body::SourcingWeightsSet, body.Union());
  return Ok{};
}

Status announce_presale_batch(const LedgerState& state, const AnnouncePresaleBatch& c, std::int64_t now_us,
                              EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (state.presale_batch(c.id) != nullptr) {
    return order_error(ErrorCode::already_exists, fmt::format("presale batch '{}' already exists", c.id), "id");
  }
  if (auto st = check_id(c.sku, "sku"); !st) return st;
  if (state.sku(c.sku) == nullptr) return order_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", c.sku), "sku");
  if (auto st = check_id(c.warehouse, "warehouse"); !st) return st;
  if (state.warehouse(c.warehouse) == nullptr) {
    return order_error(ErrorCode::unknown_id, fmt::format("warehouse '{}' is not defined", c.warehouse), "warehouse");
  }
  if (c.quota_qty <= 0 || c.quota_qty > limits::qty_max) {
    return order_error(ErrorCode::invalid_argument, fmt::format("quota_qty must be 1..{}", limits::qty_max), "quota_qty");
  }
  if (c.expected_at_us <= now_us) {
    return order_error(ErrorCode::invalid_argument, "expected_at_us must be in the future", "expected_at_us");
  }
  auto& b = sink.builder();
  auto body = fb::CreatePresaleBatchAnnouncedDirect(b, c.id.c_str(), c.sku.c_str(), c.warehouse.c_str(), c.quota_qty,
                                                    c.expected_at_us);
  sink.emit(fmt::format("presale:{}", c.id), fb::Body::PresaleBatchAnnounced, body.Union());
  return Ok{};
}

}  // namespace

bool is_order_command(const CommandBody& body) {
  return std::holds_alternative<PlaceOrder>(body) || std::holds_alternative<ApproveOrder>(body) ||
         std::holds_alternative<RejectOrder>(body) || std::holds_alternative<AllocateOrder>(body) ||
         std::holds_alternative<ShipOrder>(body) || std::holds_alternative<DeliverOrder>(body) ||
         std::holds_alternative<CompleteOrder>(body) || std::holds_alternative<CancelOrder>(body) ||
         std::holds_alternative<ReturnOrder>(body) || std::holds_alternative<SetApprovalPolicy>(body) ||
         std::holds_alternative<SetSourcingWeights>(body) || std::holds_alternative<AnnouncePresaleBatch>(body);
}

Status decide_orders(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink) {
  static const Actor system_actor;
  const Actor& actor = ctx.actor != nullptr ? *ctx.actor : system_actor;
  if (const auto* c = std::get_if<PlaceOrder>(&body)) return place_order(state, *c, ctx, sink);
  if (const auto* c = std::get_if<ApproveOrder>(&body)) return approve_order(state, *c, actor, sink);
  if (const auto* c = std::get_if<RejectOrder>(&body)) return reject_order(state, *c, actor, ctx.now_us, sink);
  if (const auto* c = std::get_if<AllocateOrder>(&body)) return allocate_order(state, *c, ctx, sink);
  if (const auto* c = std::get_if<ShipOrder>(&body)) return ship_order(state, *c, sink);
  if (const auto* c = std::get_if<DeliverOrder>(&body)) return deliver_order(state, *c, ctx.now_us, sink);
  if (const auto* c = std::get_if<CompleteOrder>(&body)) return complete_order(state, *c, sink);
  if (const auto* c = std::get_if<CancelOrder>(&body)) return cancel_order(state, *c, ctx.now_us, sink);
  if (const auto* c = std::get_if<ReturnOrder>(&body)) return return_order(state, *c, ctx.now_us, sink);
  if (const auto* c = std::get_if<SetApprovalPolicy>(&body)) return set_approval_policy(*c, sink);
  if (const auto* c = std::get_if<SetSourcingWeights>(&body)) return set_sourcing_weights(state, *c, sink);
  if (const auto* c = std::get_if<AnnouncePresaleBatch>(&body)) return announce_presale_batch(state, *c, ctx.now_us, sink);
  return make_error(ErrorCode::invalid_argument, "not an order command");
}

Status allocate_on_receipt(const LedgerState& state, const ReceiveStock& receipt, const DecideContext& ctx,
                           EventSink& sink) {
  std::string location = location_string(LocationKind::warehouse, receipt.warehouse);
  StockOverlay overlay(state);
  std::set<std::string> received;
  for (const auto& l : receipt.lines) {
    overlay.add(location, l.sku, l.qty);
    received.insert(l.sku);
  }
  std::size_t allocated = 0;
  // The presale batch this receipt brings: its orders in the order they were placed, each whole,
  // until one no longer fits (first come, first served: a later small order never jumps the queue).
  if (const PresaleBatchRecord* batch = state.presale_batch(receipt.ref); batch != nullptr && batch->warehouse == receipt.warehouse) {
    for (const auto& id : batch->waiting) {
      const OrderRecord* o = state.order(id);
      if (o == nullptr || o->ended()) continue;
      std::int64_t need = o->unallocated(batch->sku);
      if (need <= 0) continue;
      if (overlay.available(location, batch->sku) < need || allocated == allocations_per_receipt_max) break;
      emit_allocation(sink, id, static_cast<std::uint32_t>(o->reservations.size()), hold_deadline(*o, ctx.now_us),
                      {{location, batch->sku, need, {}}}, overlay);
      ++allocated;
    }
  }
  // Backorders of hq: what arrived here goes to the oldest orders waiting for those SKUs.
  for (const auto& [seq, id] : state.backorders()) {
    if (allocated == allocations_per_receipt_max) break;
    const OrderRecord* o = state.order(id);
    std::vector<AllocationInput> picks;
    for (const auto& w : unallocated_of(*o)) {
      if (received.count(w.sku) == 0) continue;
      std::int64_t take = std::min(w.qty, std::max<std::int64_t>(0, overlay.available(location, w.sku)));
      if (take > 0) picks.push_back({location, w.sku, take, {}});
    }
    if (picks.empty()) continue;
    emit_allocation(sink, id, static_cast<std::uint32_t>(o->reservations.size()), hold_deadline(*o, ctx.now_us), picks,
                    overlay);
    ++allocated;
  }
  return Ok{};
}

Status cancel_on_hold_expiry(const LedgerState& state, std::string_view reservation_id, std::int64_t now_us,
                             EventSink& sink) {
  const ReservationRecord* r = state.reservation(reservation_id);
  if (r == nullptr) return Ok{};
  std::string id(order_of_transit(r->to));
  const OrderRecord* o = state.order(id);
  if (o == nullptr || o->ended() || o->anything_shipped()) return Ok{};
  emit_voids(state, *o, "order hold expired", sink);
  std::string reason = o->type == OrderType::reservation ? "not picked up by the pickup time" : "the stock hold expired";
  auto& b = sink.builder();
  auto body = fb::CreateOrderCancelledDirect(b, id.c_str(), reason.c_str());
  sink.emit(fmt::format("order:{}", id), fb::Body::OrderCancelled, body.Union());
  emit_order_end_marketing(state, id, *o, now_us, sink);
  return Ok{};
}

}  // namespace ledger

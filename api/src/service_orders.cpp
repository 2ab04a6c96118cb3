// Orders, sourcing quotes and order configuration over HTTP (API.md, Orders and Sourcing).
// Who may act is decided here from the live state (scope); what may happen, by the writer.
#include <fmt/format.h>

#include <algorithm>

#include "decoders.hpp"
#include "ledger/matcher.hpp"
#include "ledger/orders.hpp"
#include "service.hpp"
#include "service_call.hpp"
#include "service_util.hpp"

namespace ledger::api {

namespace {

constexpr std::size_t quote_plans_max = 10;

std::string region_of_party(const LedgerState& s, std::string_view party) {
  if (party.rfind("dealer:", 0) == 0) {
    if (const DealerRecord* d = s.dealer(party.substr(7))) return d->region;
  }
  if (party.rfind("store:", 0) == 0) {
    if (const StoreRecord* st = s.store(party.substr(6))) return st->region;
  }
  if (party.rfind("member:", 0) == 0) {
    if (const MemberRecord* m = s.member(party.substr(7))) {
      if (const StoreRecord* st = s.store(m->home_store)) return st->region;
    }
  }
  return {};
}

// Who sees an order: the global readers, its buyer and seller, a dealer for its stores' orders, and
// the region manager of the buyer's region or of where it ships.
bool can_see_order(const Principal& p, const LedgerState& s, const OrderRecord& o) {
  if (p.global_read() || acts_for(p, o.buyer) || acts_for(p, o.seller)) return true;
  if (p.role == "region_manager") return region_of_party(s, o.buyer) == p.scope || o.ship_to_region == p.scope;
  if (p.role == "dealer") {
    for (const auto* party : {&o.buyer, &o.seller}) {
      if (party->rfind("store:", 0) == 0) {
        const StoreRecord* st = s.store(std::string_view(*party).substr(6));
        if (st != nullptr && st->dealer == p.scope) return true;
      }
    }
  }
  return false;
}

// Who may place it: hq_admin; a party buying or selling for itself; a region manager selling for hq
// into its region.
bool can_place(const Principal& p, const PlaceOrder& c) {
  if (acts_for(p, c.buyer) || acts_for(p, c.seller)) return true;
  return p.role == "region_manager" && c.seller == "hq" && c.ship_to_region == p.scope;
}

// Who may take an action on a visible order (approvals are judged by the writer on role and scope).
bool can_act(const Principal& p, const OrderRecord& o, std::string_view action) {
  if (action == "approve" || action == "reject") return true;
  if (action == "ship" || action == "allocate") return acts_for(p, o.seller);
  if (action == "return") return acts_for(p, o.buyer);
  return acts_for(p, o.buyer) || acts_for(p, o.seller);  // deliver, complete, cancel
}

void append_allocation(std::string& out, const std::vector<AllocationInput>& allocation) {
  out += '[';
  for (std::size_t i = 0; i < allocation.size(); ++i) {
    const auto& a = allocation[i];
    out += fmt::format("{}{{\"location\":{},\"sku\":{},\"qty\":{}", i ? "," : "", json_str(a.location), json_str(a.sku),
                       a.qty);
    if (!a.reservation.empty()) out += fmt::format(",\"reservation\":{}", json_str(a.reservation));
    out += '}';
  }
  out += ']';
}

std::string strings_json(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_str(v[i]);
  return out + "]";
}

std::string order_json(const LedgerState& s, const std::string& id, const OrderRecord& o, bool with_timeline) {
  std::string out = fmt::format(
      "{{\"id\":{},\"type\":\"{}\",\"status\":\"{}\",\"buyer\":{},\"seller\":{},\"channel\":{},"
      "\"ship_to\":{{\"region\":{},\"lat\":{:.6f},\"lon\":{:.6f}}},\"total_cents\":{},\"discount_cents\":{},"
      "\"promised_by_us\":{},\"allow_backorder\":{},\"placed_seq\":{},\"placed_at_us\":{}",
      json_str(id), order_type_name(o.type), order_status_name(o.status()), json_str(o.buyer), json_str(o.seller),
      json_str(o.channel), json_str(o.ship_to_region), o.ship_to_lat_e6 / 1e6, o.ship_to_lon_e6 / 1e6, o.total_cents,
      o.discount_cents, o.promised_by_us, o.allow_backorder ? "true" : "false", o.placed_seq, o.placed_at_us);
  if (o.type == OrderType::reservation) out += fmt::format(",\"pickup_at_us\":{}", o.pickup_at_us);
  out += ",\"lines\":[";
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    out += fmt::format("{}{{\"sku\":{},\"qty\":{},\"unit_price_cents\":{}}}", i ? "," : "", json_str(o.lines[i].sku),
                       o.lines[i].qty, o.lines[i].unit_price_cents);
  }
  out += "],\"coupons\":" + strings_json(o.coupons) + ",\"coupon_discounts\":[";
  for (std::size_t i = 0; i < o.coupons.size(); ++i) {
    const CouponRecord* c = s.coupon(o.coupons[i]);
    bool here = c != nullptr && c->order == id;
    out += fmt::format("{}{{\"code\":{},\"discount_cents\":{},\"restored\":{}}}", i ? "," : "", json_str(o.coupons[i]),
                       here ? c->discount_cents : 0, here ? "false" : "true");
  }
  out += "]";
  if (const OrderMarketing* om = s.order_marketing(id)) {
    out += fmt::format(",\"points_spent\":{},\"points_earned\":{}", om->points_spent, om->points_earned);
  }
  out += ",\"approvals_required\":" + strings_json(o.approvals_required) + ",\"approvals\":[";
  for (std::size_t i = 0; i < o.approvals.size(); ++i) {
    const auto& a = o.approvals[i];
    out += fmt::format("{}{{\"step\":{},\"principal\":{},\"at_us\":{}}}", i ? "," : "", json_str(a.step),
                       json_str(a.principal), a.at_us);
  }
  out += "],\"approval_latency_us\":";
  out += o.approved_at_us != 0 ? std::to_string(o.approved_at_us - o.placed_at_us) : "null";
  out += ",\"allocation\":";
  append_allocation(out, o.allocation);
  out += ",\"units\":[";
  bool first = true;
  for (const auto& [sku, u] : o.units) {
    auto h = o.held.find(sku);
    out += fmt::format("{}{{\"sku\":{},\"ordered\":{},\"held\":{},\"shipped\":{},\"delivered\":{},\"returned\":{}}}",
                       first ? "" : ",", json_str(sku), u.ordered, h == o.held.end() ? 0 : h->second, u.shipped,
                       u.delivered, u.returned);
    first = false;
  }
  out += "]";
  if (!o.end_reason.empty()) out += ",\"end_reason\":" + json_str(o.end_reason);
  if (with_timeline) {
    out += ",\"timeline\":[";
    for (std::size_t i = 0; i < o.timeline.size(); ++i) {
      const auto& t = o.timeline[i];
      out += fmt::format("{}{{\"seq\":{},\"ts_us\":{},\"kind\":{},\"actor\":{}", i ? "," : "", t.seq, t.ts_us,
                         json_str(t.kind), json_str(t.principal));
      if (!t.note.empty()) out += ",\"note\":" + json_str(t.note);
      out += "}";
    }
    out += "]";
  }
  return out + "}";
}

// The answer to an order command: the order as the live state shows it after the write (which the
// answer waited for), or just its id and sequence when the bounded wait ran out.
std::string order_answer(LiveState& live, const std::string& id, const CommandOutcome& o) {
  auto body = live.read([&](const LedgerState& s, std::uint64_t) -> std::optional<std::string> {
    const OrderRecord* r = s.order(id);
    if (r == nullptr) return std::nullopt;
    return order_json(s, id, *r, false);
  });
  return body ? *body : fmt::format("{{\"id\":{},\"seq\":{}}}", json_str(id), o.last_seq);
}

// The matcher on the lock-free stock table: the plans a quote shows and an hq order proposes.
std::vector<Plan> quote_plans(const StockTable& table, const QuoteRequest& q, std::int64_t now_us, StockView& view,
                              std::string& unknown_sku) {
  std::vector<WantedLine> wanted;
  for (const auto& l : q.lines) {
    auto it = std::find_if(wanted.begin(), wanted.end(), [&](const WantedLine& w) { return w.sku == l.sku; });
    if (it == wanted.end()) {
      wanted.push_back({l.sku, l.qty});
    } else {
      it->qty += l.qty;
    }
  }
  int unknown = table.gather(wanted, q.ship_to_region, now_us, view);
  if (unknown >= 0) {
    unknown_sku = std::string(wanted[unknown].sku);
    return {};
  }
  MatchRequest request;
  request.lines = view.lines;
  request.ship_to_lat_e6 = q.lat_e6;
  request.ship_to_lon_e6 = q.lon_e6;
  request.now_us = now_us;
  request.promised_by_us = q.promised_by_us;
  request.channel = q.channel;
  request.allow_partial = q.allow_partial;
  request.weights = view.weights;
  for (const auto& [name, weight] : q.weights) {
    Dimension d;
    if (dimension_from_name(name, d)) request.weights[static_cast<std::size_t>(d)] = weight;
  }
  Matcher matcher;
  MatchOptions options;
  options.plans_max = std::min(q.plans, quote_plans_max);
  return matcher.match(request, view.warehouses, options);
}

std::vector<AllocationInput> plan_allocation(const Plan& plan, const StockView& view) {
  std::vector<AllocationInput> out;
  for (const auto& p : plan.picks) {
    out.push_back({location_string(LocationKind::warehouse, view.warehouses[p.warehouse].id),
                   std::string(view.lines[p.line].sku),
                   p.qty,
                   {}});
  }
  return out;
}

std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Service::order_commands(Call& call) {
  const auto& seg = call.segments;  // v1 orders [id action]
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  if (seg.size() == 2) {
    Decoded decoded = decode_order(call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    auto c = std::get<PlaceOrder>(std::get<CommandBody>(std::move(decoded)));
    if (!can_place(p, c)) return fail(forbidden("you may place orders as their buyer or seller only"));
    if (c.seller == "hq") {
      // Propose a plan from the lock-free table; the writer keeps it if it still fits.
      QuoteRequest q{c.ship_to_region,
                     c.ship_to_lat_e6,
                     c.ship_to_lon_e6,
                     c.lines,
                     c.promised_by_us,
                     c.channel,
                     c.allow_backorder,
                     {},
                     1};
      StockView view;
      std::string unknown;
      auto plans = quote_plans(live_.stock_table(), q, wall_clock_us(), view, unknown);
      if (!plans.empty()) c.proposed = plan_allocation(plans.front(), view);
    }
    std::string id = c.id;
    return submit(call, std::move(c), 201, [this, id](const CommandOutcome& o) { return order_answer(live_, id, o); });
  }
  if (seg.size() == 4) {
    const std::string& id = seg[2];
    const std::string& action = seg[3];
    enum class Access { missing, hidden, allowed };
    Access access = live_.read([&](const LedgerState& s, std::uint64_t) {
      const OrderRecord* o = s.order(id);
      if (o == nullptr || !can_see_order(p, s, *o)) return Access::missing;
      return can_act(p, *o, action) ? Access::allowed : Access::hidden;
    });
    // Out-of-scope orders answer 404 like unknown ones: their existence is not the caller's business.
    if (access == Access::missing) return fail(not_found(fmt::format("no order '{}'", id)));
    Decoded decoded = decode_order_action(action, id, call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    if (access == Access::hidden) return fail(forbidden(fmt::format("you may not {} order '{}'", action, id)));
    return submit(call, std::get<CommandBody>(std::move(decoded)), 200,
                  [this, id](const CommandOutcome& o) { return order_answer(live_, id, o); });
  }
  return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
}

void Service::order_reads(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  if (seg.size() == 3) {  // GET /v1/orders/{id}
    const std::string& id = seg[2];
    auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) {
      const OrderRecord* o = s.order(id);
      std::optional<std::string> out;
      if (o != nullptr && can_see_order(p, s, *o)) out = order_json(s, id, *o, true);
      return std::pair{out, seq};
    });
    if (!body) return fail(not_found(fmt::format("no order '{}' visible to you", id)));
    return finish(call, json_response(call.req, http::status::ok, std::move(*body), seq));
  }
  if (seg.size() != 2) return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
  // GET /v1/orders?buyer=&seller=&status=&limit=&after=: newest first; the cursor is a placed_seq.
  std::string buyer = call.q("buyer"), seller = call.q("seller"), status = call.q("status");
  OrderStatus wanted_status{};
  if (!status.empty() && !order_status_from_name(status, wanted_status)) {
    return fail(
        bad_request("invalid_argument", fmt::format("'{}' is not an order status", status.substr(0, 40)), "status"));
  }
  std::size_t limit = page_rows_default;
  if (!call.q("limit").empty()) {
    limit = parse_u64(call.q("limit")).value_or(0);
    if (limit == 0 || limit > page_rows_max) {
      return fail(bad_request("out_of_range", fmt::format("limit must be between 1 and {}", page_rows_max), "limit"));
    }
  }
  std::uint64_t before = std::numeric_limits<std::uint64_t>::max();
  if (!call.q("after").empty()) {
    auto parsed = parse_u64(call.q("after"));
    if (!parsed) return fail(bad_request("out_of_range", "after must be a cursor from a previous page", "after"));
    before = *parsed;
  }
  bool open_only = false;
  if (!call.q("open").empty()) {
    if (call.q("open") != "true" && call.q("open") != "false") {
      return fail(bad_request("invalid_argument", "open is true or false", "open"));
    }
    open_only = call.q("open") == "true";
  }
  auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
    const LedgerState& s = m.ledger();
    std::vector<std::pair<std::uint64_t, std::string_view>> rows;
    auto consider = [&](const std::string& id, const OrderRecord& o) {
      if (o.placed_seq >= before) return;
      if ((!buyer.empty() && o.buyer != buyer) || (!seller.empty() && o.seller != seller)) return;
      if (!status.empty() && o.status() != wanted_status) return;
      if (open_only && o.ended()) return;
      if (!can_see_order(p, s, o)) return;
      rows.emplace_back(o.placed_seq, id);
    };
    const std::string& party = !buyer.empty() ? buyer : seller;
    if (!party.empty()) {
      // One party's orders, newest first, from the index: stop once a page and one more are found.
      const OrderIndex::Entries* entries = open_only ? m.order_index().open_of(party) : m.order_index().all_of(party);
      if (entries != nullptr) {
        for (auto it = entries->upper_bound({before, std::string()}); it != entries->end() && rows.size() <= limit;
             ++it) {
          if (const OrderRecord* o = s.order(it->second)) consider(it->second, *o);
        }
      }
    } else {
      s.for_each_order(consider);
    }
    std::sort(rows.begin(), rows.end(), std::greater<>());
    bool more = rows.size() > limit;
    if (more) rows.resize(limit);
    std::string out = "{\"rows\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out += i ? "," : "";
      out += order_json(s, std::string(rows[i].second), *s.order(rows[i].second), false);
    }
    out += "],\"next\":";
    out += more ? json_str(std::to_string(rows.back().first)) : "null";
    out += "}";
    return std::pair{out, seq};
  });
  finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
}

void Service::sourcing_quote(Call& call) {
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const std::string& role = call.principal.role;
  if (role != "hq_admin" && role != "region_manager" && role != "sales_director" && role != "dealer") {
    return fail(forbidden("quotes are for hq, region managers, sales directors and dealers"));
  }
  auto decoded = decode_quote(call.req.body());
  if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
  const QuoteRequest& q = std::get<QuoteRequest>(decoded);
  StockView view;
  std::string unknown;
  std::uint64_t seq = live_.applied_seq();
  auto plans = quote_plans(live_.stock_table(), q, wall_clock_us(), view, unknown);
  if (!unknown.empty())
    return fail(ApiError{404, "unknown_id", fmt::format("SKU '{}' is not defined", unknown), {{"field", "lines"}}, 0});
  std::string out = "{\"plans\":[";
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const Plan& plan = plans[i];
    out += fmt::format("{}{{\"score\":{:.3f},\"feasible\":{},\"allocation\":", i ? "," : "", plan.score,
                       plan.feasible() ? "true" : "false");
    append_allocation(out, plan_allocation(plan, view));
    out += fmt::format(
        ",\"dimensions\":{{\"stock\":{},\"ordered\":{},\"distance_km\":{:.1f},\"transit_hours\":{:.1f},\"freight_"
        "cents\":{},"
        "\"splits\":{},\"transfer_cost_cents\":{},\"cases\":{}}},\"scores\":{{",
        plan.covered_qty, plan.ordered_qty, plan.distance_km, plan.transit_hours, plan.freight_cents,
        plan.warehouses.size(), plan.transfer_cost_cents, plan.cases);
    for (std::size_t d = 0; d < dimension_count; ++d) {
      out += fmt::format("{}\"{}\":{:.4f}", d ? "," : "", dimension_name(static_cast<Dimension>(d)),
                         plan.dimension_scores[d]);
    }
    out += "}}";
  }
  out += "]}";
  finish(call, json_response(call.req, http::status::ok, std::move(out), seq));
}

void Service::config(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  if (call.principal.role != "hq_admin") return fail(forbidden("order configuration is changed by hq_admin only"));
  http::verb method = call.req.method();
  std::string what = seg[1] == "sourcing" ? "weights" : seg[1];
  bool put = what == "approval-policy" || what == "weights";
  if (seg.size() != (what == "weights" ? 3u : 2u) || method != (put ? http::verb::put : http::verb::post)) {
    return fail(not_found("use PUT /v1/approval-policy, PUT /v1/sourcing/weights or POST /v1/presale-batches"));
  }
  Decoded decoded = decode_config(what, call.req.body());
  if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
  submit(call, std::get<CommandBody>(std::move(decoded)), put ? 200 : 201,
         [](const CommandOutcome& o) { return fmt::format("{{\"seq\":{}}}", o.last_seq); });
}

}  // namespace ledger::api

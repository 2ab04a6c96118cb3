// GET /v1/boards/sales, /v1/boards/latency, /v1/dealers/{id}/health, /v1/health/dealers,
// /v1/replenishment, /v1/turnover, /v1/alerts: the projections, through the live read model.
//
// Scope: hq_admin, sales_director, finance and auditors see everything. A region manager sees its
// region's rows, a dealer its own and its stores', a store its own. Members see none of it (403).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "service.hpp"
#include "service_call.hpp"
#include "service_util.hpp"

namespace ledger::api {

namespace {

// A scoped principal's own rows: the filter the board applies for it.
struct BoardScope {
  std::string region, dealer, store;
};
std::optional<BoardScope> board_scope(const Principal& p) {
  if (p.global_read()) return BoardScope{};
  if (p.role == "region_manager") return BoardScope{p.scope, {}, {}};
  if (p.role == "dealer") return BoardScope{{}, p.scope, {}};
  if (p.role == "store") return BoardScope{{}, {}, p.scope};
  return std::nullopt;
}

bool alert_visible(const Principal& p, const AlertRecord& a) {
  if (p.global_read()) return true;
  if (p.role == "region_manager") return !a.region.empty() && a.region == p.scope;
  if (p.role == "dealer") return !a.dealer.empty() && a.dealer == p.scope;
  if (p.role == "store") return !a.store.empty() && a.store == p.scope;
  return false;
}

std::optional<std::int64_t> parse_time(const std::string& text) {
  auto v = parse_u64(text);
  if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

std::string json_double(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.4f}", v);
}

std::string distribution_json(const Distribution& d) {
  std::string buckets;
  for (std::size_t i = 0; i < d.counts.size(); ++i) {
    buckets += fmt::format("{}{{\"le_s\":{},\"count\":{}}}", i ? "," : "",
                           i < Distribution::bounds_s.size() ? std::to_string(Distribution::bounds_s[i]) : "null",
                           d.counts[i]);
  }
  std::int64_t n = d.count();
  auto pct = [&](int p) {
    std::int64_t v = d.percentile_s(p);
    return v < 0 ? std::string("null") : std::to_string(v);
  };
  return fmt::format("{{\"count\":{},\"mean_s\":{},\"p50_s\":{},\"p90_s\":{},\"p99_s\":{},\"buckets\":[{}]}}", n,
                     n > 0 ? d.total_s / n : 0, pct(50), pct(90), pct(99), buckets);
}

std::string health_json(const DealerHealthReport& r) {
  const HealthComponents& c = r.components;
  return fmt::format(
      "{{\"dealer\":{},\"score\":{},\"tier\":\"{}\",\"components\":{{\"purchase_frequency\":{},\"volume_trend\":{},"
      "\"fulfilment_rate\":{},\"on_time_delivery\":{},\"on_time_payment\":{},\"return_rate\":{},\"violations\":{},"
      "\"credit_use\":{}}},\"figures\":{{\"orders_90d\":{},\"units_30d\":{},\"units_prev_30d\":{},"
      "\"purchases_90d_cents\":{},\"sold_delivered\":{},\"sold_on_time\":{},\"sold_cancelled\":{},"
      "\"units_received\":{},\"units_returned\":{},\"paid_on_time\":{},\"paid_late\":{},\"overdue_receivables\":{},"
      "\"open_receivables_cents\":{},\"violations_90d\":{}}},\"credit_limit_cents\":{},\"credit_used_cents\":{},"
      "\"suggested_credit_line_cents\":{},\"earns_terms\":{}}}",
      json_str(r.dealer), r.score, r.tier, json_double(c.purchase_frequency), json_double(c.volume_trend),
      json_double(c.fulfilment_rate), json_double(c.on_time_delivery), json_double(c.on_time_payment),
      json_double(c.return_rate), json_double(c.violations), json_double(c.credit_use), r.orders_90d, r.units_30d,
      r.units_prev_30d, r.purchases_90d_cents, r.sold_delivered, r.sold_on_time, r.sold_cancelled, r.units_received,
      r.units_returned, r.paid_on_time, r.paid_late, r.overdue_receivables, r.open_receivables_cents, r.violations_90d,
      r.credit_limit_cents, r.credit_used_cents, r.suggested_credit_line_cents, r.earns_terms ? "true" : "false");
}

}  // namespace

void Service::board_reads(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  auto no_endpoint = [&] { fail(not_found("no such endpoint; see GET /v1/openapi.json")); };

  std::size_t limit = page_rows_default;
  if (!call.q("limit").empty()) {
    limit = parse_u64(call.q("limit")).value_or(0);
    if (limit == 0 || limit > page_rows_max) {
      return fail(bad_request("out_of_range", fmt::format("limit must be between 1 and {}", page_rows_max), "limit"));
    }
  }
  std::int64_t from_us = 0, to_us = std::numeric_limits<std::int64_t>::max();
  for (auto [field, target] : {std::pair{"from_us", &from_us}, std::pair{"to_us", &to_us}}) {
    if (call.q(field).empty()) continue;
    auto t = parse_time(call.q(field));
    if (!t)
      return fail(bad_request("out_of_range", fmt::format("{} must be microseconds since the epoch", field), field));
    *target = *t;
  }

  if (seg.size() == 3 && seg[1] == "boards" && seg[2] == "sales") {
    auto scope = board_scope(p);
    if (!scope)
      return fail(forbidden("sales boards are for hq, sales, finance, auditors, regions, dealers and stores"));
    SalesQuery q;
    q.from_us = from_us;
    q.to_us = to_us;
    q.region = scope->region;
    q.dealer = scope->dealer;
    q.store = scope->store;
    for (const auto& g : split(call.q("group_by"), ',')) {
      if (g == "region")
        q.by_region = true;
      else if (g == "channel")
        q.by_channel = true;
      else if (g == "dealer")
        q.by_dealer = true;
      else if (g == "store")
        q.by_store = true;
      else if (g == "sku")
        q.by_sku = true;
      else if (!g.empty()) {
        return fail(bad_request("unknown_group",
                                fmt::format("cannot group by '{}'; use region, channel, dealer, store, sku", g),
                                "group_by"));
      }
    }
    if (!call.q("bucket").empty() && !sales_bucket_from_name(call.q("bucket"), q.bucket)) {
      return fail(bad_request("unknown_bucket", "bucket is hour, day or month", "bucket"));
    }
    std::size_t top = 0;
    if (!call.q("top").empty()) {
      top = parse_u64(call.q("top")).value_or(0);
      if (top == 0 || top > page_rows_max) {
        return fail(bad_request("out_of_range", fmt::format("top must be between 1 and {}", page_rows_max), "top"));
      }
    }
    std::string after = call.q("after");
    auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
      std::vector<SalesRow> rows = m.sales_board().query(q);
      // The cursor names the last row's keys; rows are ordered by them, compared as a tuple.
      using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::int64_t>;
      auto key_of = [](const SalesRow& r) {
        return Key{r.region, r.channel, r.dealer, r.store, r.sku, r.bucket_start_us};
      };
      auto cursor = [](const SalesRow& r) {
        return fmt::format("{}|{}|{}|{}|{}|{}", r.region, r.channel, r.dealer, r.store, r.sku, r.bucket_start_us);
      };
      std::optional<Key> after_key;
      if (!after.empty()) {
        auto parts = split(after, '|');
        auto bucket = parts.size() == 6 ? parse_time(parts[5]) : std::nullopt;
        if (!bucket) return std::pair{std::string(), seq};
        after_key = Key{parts[0], parts[1], parts[2], parts[3], parts[4], *bucket};
      }
      if (top > 0) {
        // Top-N by revenue over the whole range: one row per key, buckets summed.
        std::map<std::string, SalesRow> by_key;
        for (const auto& r : rows) {
          SalesRow& t = by_key[fmt::format("{}|{}|{}|{}|{}", r.region, r.channel, r.dealer, r.store, r.sku)];
          if (t.totals == SalesTotals{} && t.bucket_start_us == 0) {
            t = r;
            t.bucket_start_us = r.bucket_start_us;
            continue;
          }
          t.totals.orders += r.totals.orders;
          t.totals.units += r.totals.units;
          t.totals.revenue_cents += r.totals.revenue_cents;
          t.totals.discount_cents += r.totals.discount_cents;
          t.bucket_start_us = std::min(t.bucket_start_us, r.bucket_start_us);
        }
        rows.clear();
        for (auto& [k, r] : by_key) rows.push_back(std::move(r));
        std::stable_sort(rows.begin(), rows.end(), [](const SalesRow& a, const SalesRow& b) {
          return a.totals.revenue_cents > b.totals.revenue_cents;
        });
        if (rows.size() > top) rows.resize(top);
        after_key.reset();
      }
      std::string out = "{\"rows\":[";
      std::size_t n = 0;
      std::string last;
      bool more = false;
      for (const auto& r : rows) {
        if (after_key && key_of(r) <= *after_key) continue;
        std::string c = cursor(r);
        if (n == limit) {
          more = true;
          break;
        }
        out += n++ ? "," : "";
        out += "{";
        if (q.by_region) out += fmt::format("\"region\":{},", json_str(r.region));
        if (q.by_channel) out += fmt::format("\"channel\":{},", json_str(r.channel));
        if (q.by_dealer) out += fmt::format("\"dealer\":{},", json_str(r.dealer));
        if (q.by_store) out += fmt::format("\"store\":{},", json_str(r.store));
        if (q.by_sku) out += fmt::format("\"sku\":{},", json_str(r.sku));
        out += fmt::format(
            "\"bucket_start_us\":{},\"orders\":{},\"units\":{},\"revenue_cents\":{},\"discount_cents\":{}}}",
            r.bucket_start_us, r.totals.orders, r.totals.units, r.totals.revenue_cents, r.totals.discount_cents);
        last = std::move(c);
      }
      out += fmt::format("],\"next\":{}}}", more ? json_str(last) : "null");
      return std::pair{out, seq};
    });
    if (body.empty()) return fail(bad_request("bad_cursor", "after is not a cursor this endpoint gave out", "after"));
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }

  if (seg.size() == 3 && seg[1] == "boards" && seg[2] == "latency") {
    std::string region = call.q("region");
    if (p.role == "region_manager") {
      if (!region.empty() && region != p.scope) return fail(forbidden("a region manager sees its own region only"));
      region = p.scope;
    } else if (!p.global_read()) {
      return fail(forbidden("latency boards are for hq, sales, finance, auditors and region managers"));
    }
    auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
      LatencySummary s = m.sales_board().latency(from_us, to_us, region);
      return std::pair{fmt::format("{{\"approval_latency\":{},\"delivery_delay\":{},\"delivered_on_time\":{},"
                                   "\"delivered_late\":{}}}",
                                   distribution_json(s.approval), distribution_json(s.delivery_delay),
                                   s.delivered_on_time, s.delivered_late),
                       seq};
    });
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }

  if (seg.size() == 4 && seg[1] == "dealers" && seg[3] == "health") {
    const std::string& dealer = seg[2];
    auto [body, seq] =
        live_.read_model([&](const ReadModel& m, std::uint64_t seq) -> std::pair<std::string, std::uint64_t> {
          if (!dealer_visible(p, m.ledger(), dealer)) return {std::string(), seq};
          return {health_json(m.dealer_health().report(m.ledger(), dealer)), seq};
        });
    if (body.empty()) return fail(not_found(fmt::format("no dealer '{}' visible to you", dealer)));
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }

  if (seg.size() == 3 && seg[1] == "health" && seg[2] == "dealers") {  // every visible dealer, by score
    if (!p.global_read() && p.role != "region_manager") {
      return fail(forbidden("the dealer health list is for hq, sales, finance, auditors and region managers"));
    }
    auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
      auto reports = m.dealer_health().report_all(m.ledger());
      std::stable_sort(reports.begin(), reports.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
      std::string out = "{\"rows\":[";
      std::size_t n = 0;
      for (const auto& r : reports) {
        if (!dealer_visible(p, m.ledger(), r.dealer)) continue;
        if (n == limit) break;
        out += n++ ? "," : "";
        out += health_json(r);
      }
      out += "],\"next\":null}";
      return std::pair{out, seq};
    });
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }

  if (seg.size() == 2 && (seg[1] == "replenishment" || seg[1] == "turnover")) {
    std::string location = call.q("location");
    if (location.empty()) return fail(bad_request("missing_field", "location is required, e.g. store:S1", "location"));
    int window_days = 30;
    if (seg[1] == "turnover" && !call.q("window_days").empty()) {
      auto w = parse_u64(call.q("window_days"));
      if (!w || *w == 0 || *w > static_cast<std::uint64_t>(flow_window_days_max)) {
        return fail(bad_request(
            "out_of_range", fmt::format("window_days must be between 1 and {}", flow_window_days_max), "window_days"));
      }
      window_days = static_cast<int>(*w);
    }
    bool turnover = seg[1] == "turnover";
    auto [body,
          seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) -> std::pair<std::string, std::uint64_t> {
      auto l = parse_location(location);
      if (!l.ok() || !can_see(p, m.ledger(), location) ||
          !(l->kind == LocationKind::warehouse || l->kind == LocationKind::dealer || l->kind == LocationKind::store)) {
        return {std::string(), seq};
      }
      std::string out = "{\"rows\":[";
      std::size_t n = 0;
      if (turnover) {
        for (const auto& r : m.stock_flow().turnover(location, window_days)) {
          out += fmt::format(
              "{}{{\"sku\":{},\"on_hand\":{},\"sold_units\":{},\"avg_on_hand\":{},\"turnover\":{},"
              "\"days_of_supply\":{},\"slow_mover\":{}}}",
              n++ ? "," : "", json_str(r.sku), r.on_hand, r.sold_units, json_double(r.avg_on_hand),
              r.turnover ? json_double(*r.turnover) : "null",
              r.days_of_supply ? json_double(*r.days_of_supply) : "null", r.slow_mover);
        }
        out += fmt::format("],\"location\":{},\"window_days\":{},\"next\":null}}", json_str(location), window_days);
      } else {
        for (const auto& r : m.stock_flow().replenishment(m.ledger(), location)) {
          out += fmt::format(
              "{}{{\"sku\":{},\"available\":{},\"inbound\":{},\"daily_demand\":{},\"demand_stddev\":{},"
              "\"lead_time_days\":{},\"safety_stock\":{},\"reorder_point\":{},\"suggested_qty\":{},"
              "\"low_stock\":{}}}",
              n++ ? "," : "", json_str(r.sku), r.available, r.inbound, json_double(r.daily_demand),
              json_double(r.demand_stddev), r.lead_time_days, r.safety_stock, r.reorder_point, r.suggested_qty,
              r.low_stock);
        }
        out += fmt::format("],\"location\":{},\"next\":null}}", json_str(location));
      }
      return {out, seq};
    });
    if (body.empty()) return fail(not_found(fmt::format("no stocking location '{}' visible to you", location)));
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }

  if (seg.size() == 2 && seg[1] == "alerts") {
    if (!board_scope(p))
      return fail(forbidden("alerts are for hq, sales, finance, auditors, regions, dealers and stores"));
    std::string kind = call.q("kind");
    if (!kind.empty() && !is_alert_kind(kind)) {
      return fail(bad_request("unknown_kind",
                              "kind is low_stock, delay, price, channel_conflict, price_change, reservation_expiring or reservation_expired",
                              "kind"));
    }
    std::uint64_t after_seq = 0;
    std::string after_text = !call.q("after").empty() ? call.q("after") : call.q("after_seq");
    if (!after_text.empty()) {
      auto v = parse_u64(after_text);
      if (!v) return fail(bad_request("out_of_range", "after_seq must be a sequence number", "after_seq"));
      after_seq = *v;
    }
    auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
      auto rows =
          m.alerts().query(kind, after_seq, limit + 1, [&](const AlertRecord& a) { return alert_visible(p, a); });
      bool more = rows.size() > limit;
      if (more) rows.resize(limit);
      std::string out = "{\"rows\":[";
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& a = rows[i];
        out += fmt::format(
            "{}{{\"seq\":{},\"ts_us\":{},\"kind\":{},\"subject\":{},\"message\":{},\"region\":{},"
            "\"dealer\":{},\"store\":{}}}",
            i ? "," : "", a.seq, a.ts_us, json_str(a.kind), json_str(a.subject), json_str(a.message),
            json_str(a.region), json_str(a.dealer), json_str(a.store));
      }
      out += fmt::format("],\"next\":{}}}", more ? json_str(std::to_string(rows.back().seq)) : "null");
      return std::pair{out, seq};
    });
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }
  return no_endpoint();
}

}  // namespace ledger::api

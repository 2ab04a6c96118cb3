// GET /v1/members/{id}/recommendations?limit=N: what a member may like next
// (projections/include/ledger/recommendations.hpp), through the live read model. Only this sub-path:
// GET /v1/members/{id} (points, tier, coupons) is the marketing endpoints' own.
//
// Scope: a member token sees its own member only; a store the members whose home store it is; a
// dealer the members of its stores; a region manager the members whose home store is in its region;
// hq_admin, sales_director, finance and auditors every member. Anyone else, or an unknown member: 404.
#include <fmt/format.h>

#include "service.hpp"
#include "service_call.hpp"
#include "service_util.hpp"

namespace ledger::api {

namespace {

constexpr std::size_t recommendations_default = 10;

std::string recommendations_json(std::string_view member, const std::vector<Recommendation>& rows) {
  std::string out = fmt::format("{{\"member\":{},\"rows\":[", json_str(member));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Recommendation& r = rows[i];
    out += fmt::format("{}{{\"sku\":{},\"score\":{},\"reason\":\"{}\"", i ? "," : "", json_str(r.sku), r.score,
                       recommendation_reason_name(r.reason));
    if (!r.with_sku.empty()) out += fmt::format(",\"with_sku\":{}", json_str(r.with_sku));
    out += "}";
  }
  out += "],\"next\":null}";
  return out;
}

}  // namespace

void Service::recommendation_reads(Call& call) {
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  std::size_t limit = recommendations_default;
  if (!call.q("limit").empty()) {
    limit = parse_u64(call.q("limit")).value_or(0);
    if (limit == 0 || limit > recommendations_max) {
      return fail(
          bad_request("out_of_range", fmt::format("limit must be between 1 and {}", recommendations_max), "limit"));
    }
  }
  const std::string& member = call.segments[2];
  auto [body, seq] =
      live_.read_model([&](const ReadModel& m, std::uint64_t seq) -> std::pair<std::string, std::uint64_t> {
        if (!member_visible(p, m.ledger(), member)) return {std::string(), seq};
        return {recommendations_json(member, m.recommendations().recommend(m.ledger(), member, limit)), seq};
      });
  if (body.empty()) return fail(not_found(fmt::format("no member '{}' visible to you", member)));
  return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
}

}  // namespace ledger::api

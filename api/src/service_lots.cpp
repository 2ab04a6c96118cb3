// GET /v1/lots/{lot}: a production lot's trace (projections/include/ledger/lot_trace.hpp) through the
// live read model.
//
// Scope: hq_admin, sales_director, finance and auditors see every lot whole. A region manager sees a lot
// that touched a location of its region, a dealer one that touched its own location or its stores', a
// store one that touched it; they get the lot's first dealer and the holders and movements with an end
// they can see (API.md: never another dealer's stock). Members: 403. Out of scope: 404, as unknown.
#include <fmt/format.h>

#include "service.hpp"
#include "service_call.hpp"
#include "service_util.hpp"

namespace ledger::api {

namespace {

bool lot_visible(const Principal& p, const LedgerState& s, const LotRecord& lot) {
  if (p.global_read()) return true;
  for (const auto& location : lot.touched) {
    if (can_see(p, s, location)) return true;
  }
  return false;
}

std::string lot_json(const Principal& p, const LedgerState& s, std::string_view id, const LotRecord& lot) {
  std::string out = fmt::format("{{\"lot\":{},\"skus\":[", json_str(id));
  std::size_t n = 0;
  for (const auto& sku : lot.skus) out += fmt::format("{}{}", n++ ? "," : "", json_str(sku));
  out += fmt::format("],\"first_dealer\":{},\"holders\":[",
                     lot.first_dealer.empty() ? "null" : json_str(lot.first_dealer));
  n = 0;
  for (const auto& [key, qty] : lot.holders) {
    if (!can_see(p, s, key.first)) continue;
    out += fmt::format("{}{{\"location\":{},\"sku\":{},\"qty\":{}}}", n++ ? "," : "", json_str(key.first),
                       json_str(key.second), qty);
  }
  out += "],\"movements\":[";
  n = 0;
  for (const auto& m : lot.movements) {
    if (!can_see(p, s, m.from) && !can_see(p, s, m.to)) continue;
    out += fmt::format("{}{{\"seq\":{},\"ts_us\":{},\"kind\":\"{}\",\"from\":{},\"to\":{},\"sku\":{},\"qty\":{}}}",
                       n++ ? "," : "", m.seq, m.ts_us, lot_move_kind_name(m.kind), json_str(m.from), json_str(m.to),
                       json_str(m.sku), m.qty);
  }
  out += fmt::format("],\"movements_dropped\":{}}}", lot.movements_dropped);
  return out;
}

}  // namespace

void Service::lot_reads(Call& call) {
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  if (call.segments.size() != 3) return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
  if (p.role == "member")
    return fail(forbidden("lot traces are for hq, sales, finance, auditors, regions, dealers and stores"));
  const std::string& id = call.segments[2];
  auto [body, seq] =
      live_.read_model([&](const ReadModel& m, std::uint64_t seq) -> std::pair<std::string, std::uint64_t> {
        const LotRecord* lot = m.lot_trace().lot(id);
        if (lot == nullptr || !lot_visible(p, m.ledger(), *lot)) return {std::string(), seq};
        return {lot_json(p, m.ledger(), id, *lot), seq};
      });
  if (body.empty()) return fail(not_found(fmt::format("no lot '{}' visible to you", id)));
  return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
}

}  // namespace ledger::api

// Members and marketing, credit and prices over HTTP (API.md, Members and marketing; master data's
// prices:bulk). Who may act is decided here from the live state; what may happen, by the writer.
#include <fmt/format.h>

#include <chrono>

#include "decoders.hpp"
#include "ledger/fold.hpp"
#include "ledger/marketing.hpp"
#include "service.hpp"
#include "service_call.hpp"
#include "service_util.hpp"

namespace ledger::api {

namespace {

// Campaigns belong to their issuer: hq_admin acts for every issuer, a region manager for its
// region's, a dealer and a store for their own.
bool acts_for_issuer(const Principal& p, std::string_view issuer) {
  if (p.role == "hq_admin") return true;
  if (issuer.rfind("region:", 0) == 0) return p.role == "region_manager" && p.scope == issuer.substr(7);
  return issuer != "hq" && acts_for(p, issuer);
}

bool can_see_campaign(const Principal& p, const CampaignRecord& c) {
  return p.global_read() || acts_for_issuer(p, c.terms.issuer);
}

std::string strings_json(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_str(v[i]);
  return out + "]";
}

std::string campaign_json(const std::string& id, const CampaignRecord& c) {
  const CreateCampaign& t = c.terms;
  std::string params;
  switch (t.kind) {
    case CampaignKind::amount_off: params = fmt::format("{{\"amount_off_cents\":{}}}", t.amount_off_cents); break;
    case CampaignKind::percent_off: params = fmt::format("{{\"percent_off_bp\":{}}}", t.percent_off_bp); break;
    case CampaignKind::points_multiplier:
      params = fmt::format("{{\"points_multiplier_permille\":{}}}", t.points_multiplier_permille);
      break;
    case CampaignKind::spend_x_save_y: {
      params = "{\"tiers\":[";
      for (std::size_t i = 0; i < t.tiers.size(); ++i) {
        params += fmt::format("{}{{\"threshold_cents\":{},\"save_cents\":{}}}", i ? "," : "",
                              t.tiers[i].threshold_cents, t.tiers[i].save_cents);
      }
      params += "]}";
      break;
    }
  }
  return fmt::format(
      "{{\"id\":{},\"issuer\":{},\"kind\":\"{}\",\"params\":{},\"scope\":{{\"regions\":{},\"skus\":{},\"channels\":{},"
      "\"tiers\":{}}},\"budget\":{{\"max_redemptions\":{},\"max_discount_cents\":{}}},\"per_member_limit\":{},"
      "\"valid_from_us\":{},\"valid_to_us\":{},\"restore_on_cancel\":{},\"redemptions\":{},\"discount_cents\":{},"
      "\"coupons_issued\":{}}}",
      json_str(id), json_str(t.issuer), campaign_kind_name(t.kind), params, strings_json(t.scope.regions),
      strings_json(t.scope.skus), strings_json(t.scope.channels), strings_json(t.scope.tiers), t.max_redemptions,
      t.max_discount_cents, t.per_member_limit, t.valid_from_us, t.valid_to_us, t.restore_on_cancel ? "true" : "false",
      c.redemptions, c.discount_cents, c.coupons_issued);
}

std::string member_json(const LedgerState& s, const std::string& id, std::int64_t now_us) {
  const MemberRecord& m = *s.member(id);
  static const MemberAccount empty;
  const MemberAccount* found = s.member_account(id);
  const MemberAccount& a = found != nullptr ? *found : empty;
  std::string out = fmt::format(
      "{{\"id\":{},\"name\":{},\"home_store\":{},\"points\":{},\"tier\":{},\"rolling_spend_cents\":{},\"points_lots\":"
      "[",
      json_str(id), json_str(m.name), json_str(m.home_store), usable_points(a, now_us), json_str(a.tier),
      rolling_spend(a, now_us));
  bool first = true;
  for (const auto& lot : a.lots) {
    if (lot.expires_at_us <= now_us) continue;
    out += fmt::format("{}{{\"points\":{},\"expires_at_us\":{}}}", first ? "" : ",", lot.points, lot.expires_at_us);
    first = false;
  }
  out += "],\"coupons\":[";
  for (std::size_t i = 0; i < a.coupons.size(); ++i) {
    const CouponRecord& c = *s.coupon(a.coupons[i]);
    const CampaignRecord& campaign = *s.campaign(c.campaign);
    const char* status = !c.order.empty() ? "redeemed" : campaign.terms.valid_to_us <= now_us ? "expired" : "available";
    out += fmt::format("{}{{\"code\":{},\"campaign\":{},\"kind\":\"{}\",\"status\":\"{}\",\"valid_to_us\":{}",
                       i ? "," : "", json_str(a.coupons[i]), json_str(c.campaign),
                       campaign_kind_name(campaign.terms.kind), status, campaign.terms.valid_to_us);
    if (!c.order.empty())
      out += fmt::format(",\"order\":{},\"discount_cents\":{}", json_str(c.order), c.discount_cents);
    out += "}";
  }
  return out + "]}";
}

std::string credit_json(const ReadModel& m, const std::string& dealer) {
  const LedgerState& s = m.ledger();
  const DealerRecord& d = *s.dealer(dealer);
  DealerAccount a = s.dealer_account(dealer);
  auto health = m.dealer_health().report(s, dealer);
  return fmt::format(
      "{{\"dealer\":{},\"credit_limit_cents\":{},\"open_order_cents\":{},\"shipped_cents\":{},\"paid_cents\":{},"
      "\"receivable_cents\":{},\"exposure_cents\":{},\"available_credit_cents\":{},\"suggested_credit_line_cents\":{},"
      "\"health_score\":{},\"health_tier\":{}}}",
      json_str(dealer), d.credit_limit_cents, a.credit_used_cents, a.shipped_cents, a.paid_cents, a.receivable_cents(),
      a.exposure_cents(), d.credit_limit_cents - a.exposure_cents(), health.suggested_credit_line_cents, health.score,
      json_str(std::string(1, health.tier)));
}

std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool Service::is_marketing_route(const Call& call) {
  const auto& seg = call.segments;
  if (seg.size() < 2) return false;
  return seg[1] == "campaigns" || seg[1] == "payments" || seg[1] == "prices:bulk" || seg[1] == "price-policy" ||
         (seg[1] == "members" && seg.size() == 3 && call.req.method() == http::verb::get) ||
         (seg[1] == "dealers" && seg.size() == 4 && (seg[3] == "credit" || seg[3] == "credit-limit"));
}

void Service::marketing_commands(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  const http::verb method = call.req.method();
  auto no_endpoint = [&] { fail(not_found("no such endpoint; see GET /v1/openapi.json")); };
  auto submit_decoded = [&](Decoded decoded, unsigned status,
                            std::function<std::string(const CommandOutcome&)> body_of) {
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    submit(call, std::get<CommandBody>(std::move(decoded)), status, std::move(body_of));
  };
  auto seq_answer = [](const CommandOutcome& o) {
    return fmt::format("{{\"first_seq\":{},\"last_seq\":{}}}", o.first_seq, o.last_seq);
  };

  if (seg[1] == "campaigns" && seg.size() == 2 && method == http::verb::post) {
    Decoded decoded = decode_campaign(call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    const auto& c = std::get<CreateCampaign>(std::get<CommandBody>(decoded));
    if (!acts_for_issuer(p, c.issuer)) {
      return fail(forbidden("a campaign is created by hq_admin or by its issuer (region manager, dealer, store)"));
    }
    std::string id = c.id;
    return submit_decoded(std::move(decoded), 201, [this, id](const CommandOutcome& o) {
      auto body = live_.read([&](const LedgerState& s, std::uint64_t) -> std::optional<std::string> {
        const CampaignRecord* r = s.campaign(id);
        return r == nullptr ? std::nullopt : std::optional<std::string>(campaign_json(id, *r));
      });
      return body ? *body : fmt::format("{{\"id\":{},\"seq\":{}}}", json_str(id), o.last_seq);
    });
  }
  if (seg[1] == "campaigns" && seg.size() == 4 && seg[3] == "coupons" && method == http::verb::post) {
    const std::string& id = seg[2];
    enum class Access { missing, hidden, allowed };
    Access access = live_.read([&](const LedgerState& s, std::uint64_t) {
      const CampaignRecord* c = s.campaign(id);
      if (c == nullptr || !can_see_campaign(p, *c)) return Access::missing;
      return acts_for_issuer(p, c->terms.issuer) ? Access::allowed : Access::hidden;
    });
    if (access == Access::missing) return fail(not_found(fmt::format("no campaign '{}'", id)));
    if (access == Access::hidden) return fail(forbidden("coupons are issued by the campaign's issuer or hq_admin"));
    return submit_decoded(decode_coupons(id, call.req.body()), 201, [this](const CommandOutcome& o) {
      // The codes are in the event this command wrote (a retry answers the same codes).
      std::string out;
      Status read = engine_.read_events(o.first_seq, 1, [&](const fb::Event& e, const Hash32&) {
        const auto* issued = e.body_as_CouponsIssued();
        if (issued == nullptr) return false;
        std::vector<std::string> codes;
        if (issued->codes() != nullptr) {
          for (const auto* code : *issued->codes()) codes.emplace_back(fb_str(code));
        }
        out = fmt::format("{{\"campaign\":{},\"member\":{},\"codes\":{},\"seq\":{}}}",
                          json_str(fb_str(issued->campaign())), json_str(fb_str(issued->member())), strings_json(codes),
                          e.seq());
        return false;
      });
      return read.ok() && !out.empty() ? out : fmt::format("{{\"seq\":{}}}", o.last_seq);
    });
  }
  if (seg[1] == "payments" && seg.size() == 2 && method == http::verb::post) {
    if (p.role != "hq_admin" && p.role != "finance")
      return fail(forbidden("payments are recorded by finance or hq_admin"));
    Decoded decoded = decode_payment(call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    std::string dealer = std::get<RecordPayment>(std::get<CommandBody>(decoded)).dealer;
    return submit_decoded(std::move(decoded), 201, [this, dealer](const CommandOutcome& o) {
      auto body = live_.read_model([&](const ReadModel& m, std::uint64_t) -> std::optional<std::string> {
        if (m.ledger().dealer(dealer) == nullptr) return std::nullopt;
        return credit_json(m, dealer);
      });
      return body ? *body : fmt::format("{{\"seq\":{}}}", o.last_seq);
    });
  }
  if (seg[1] == "dealers" && seg.size() == 4 && seg[3] == "credit-limit" && method == http::verb::put) {
    if (p.role != "hq_admin" && p.role != "finance")
      return fail(forbidden("credit limits are set by finance or hq_admin"));
    return submit_decoded(decode_credit_limit(seg[2], call.req.body()), 200, seq_answer);
  }
  if (seg[1] == "prices:bulk" && seg.size() == 2 && method == http::verb::post) {
    if (p.role != "hq_admin") return fail(forbidden("prices are changed by hq_admin only"));
    return submit_decoded(decode_bulk_prices(call.req.body()), 200, [](const CommandOutcome& o) {
      return fmt::format("{{\"changes\":{},\"first_seq\":{},\"last_seq\":{}}}", o.last_seq - o.first_seq + 1,
                         o.first_seq, o.last_seq);
    });
  }
  if (seg[1] == "price-policy" && seg.size() == 2 && method == http::verb::put) {
    if (p.role != "hq_admin") return fail(forbidden("the price policy is set by hq_admin only"));
    return submit_decoded(decode_price_policy(call.req.body()), 200, seq_answer);
  }
  return no_endpoint();
}

void Service::marketing_reads(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  auto answer = [&](std::optional<std::string> body, std::uint64_t seq, std::string missing) {
    if (!body) return fail(not_found(std::move(missing)));
    finish(call, json_response(call.req, http::status::ok, std::move(*body), seq));
  };
  if (seg[1] == "members" && seg.size() == 3) {
    const std::string& id = seg[2];
    std::int64_t now_us = wall_clock_us();
    auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) {
      // Points and coupons as of now, or of the log's last event if it is ahead of this clock.
      std::int64_t at = std::max(now_us, s.last_ts_us());
      std::optional<std::string> out;
      if (member_visible(p, s, id)) out = member_json(s, id, at);
      return std::pair{out, seq};
    });
    return answer(std::move(body), seq, fmt::format("no member '{}' visible to you", id));
  }
  if (seg[1] == "campaigns" && seg.size() == 3) {
    const std::string& id = seg[2];
    auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) {
      const CampaignRecord* c = s.campaign(id);
      std::optional<std::string> out;
      if (c != nullptr && can_see_campaign(p, *c)) out = campaign_json(id, *c);
      return std::pair{out, seq};
    });
    return answer(std::move(body), seq, fmt::format("no campaign '{}' visible to you", id));
  }
  if (seg[1] == "campaigns" && seg.size() == 2) {  // GET /v1/campaigns?after=&limit=: the visible ones by id
    std::size_t limit = page_rows_default;
    if (!call.q("limit").empty()) {
      limit = parse_u64(call.q("limit")).value_or(0);
      if (limit == 0 || limit > page_rows_max) {
        return fail(bad_request("out_of_range", fmt::format("limit must be between 1 and {}", page_rows_max), "limit"));
      }
    }
    std::string after = call.q("after");
    auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) {
      const auto& campaigns = s.marketing().campaigns;
      std::string out = "{\"rows\":[";
      std::size_t n = 0;
      std::string last;
      bool more = false;
      for (auto it = campaigns.upper_bound(after); it != campaigns.end(); ++it) {
        if (!can_see_campaign(p, it->second)) continue;
        if (n == limit) {
          more = true;
          break;
        }
        out += n++ ? "," : "";
        out += campaign_json(it->first, it->second);
        last = it->first;
      }
      out += "],\"next\":" + (more ? json_str(last) : std::string("null")) + "}";
      return std::pair{out, seq};
    });
    return finish(call, json_response(call.req, http::status::ok, std::move(body), seq));
  }
  if (seg[1] == "dealers" && seg.size() == 4 && seg[3] == "credit") {
    const std::string& dealer = seg[2];
    auto [body, seq] = live_.read_model([&](const ReadModel& m, std::uint64_t seq) {
      std::optional<std::string> out;
      if (dealer_visible(p, m.ledger(), dealer)) out = credit_json(m, dealer);
      return std::pair{out, seq};
    });
    return answer(std::move(body), seq, fmt::format("no dealer '{}' visible to you", dealer));
  }
  return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
}

}  // namespace ledger::api

// Marketing, credit and price commands, and what orders do to coupons and points (the rules are in
// ledger/marketing.hpp). Budgets hold exactly because the one writer decides redemptions one after
// another against the state that already includes every earlier one.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "decide.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"

namespace ledger {

namespace {

Error marketing_error(ErrorCode code, std::string message, std::string_view field = {}) {
  Error e = make_error(code, std::move(message));
  if (!field.empty()) e.with("field", std::string(field));
  return e;
}

Error redemption_error(const std::string& code, std::string message, std::string reason) {
  return marketing_error(ErrorCode::rule_violation, std::move(message), "coupons")
      .with("coupon", code)
      .with("reason", std::move(reason));
}

Status check_amount(std::int64_t cents, std::string_view field, bool positive) {
  if (cents < (positive ? 1 : 0) || cents > limits::money_cents_max) {
    return marketing_error(
        ErrorCode::invalid_argument,
        fmt::format("{} is {}; it must be between {} and {}", field, cents, positive ? 1 : 0, limits::money_cents_max),
        field);
  }
  return Ok{};
}

std::string member_of(std::string_view buyer) {
  return buyer.rfind("member:", 0) == 0 ? std::string(buyer.substr(7)) : std::string();
}

const MemberAccount& account_or_empty(const LedgerState& state, std::string_view member) {
  static const MemberAccount empty;
  const MemberAccount* a = state.member_account(member);
  return a == nullptr ? empty : *a;
}

// ---- campaigns

Status check_issuer(const LedgerState& state, const std::string& issuer) {
  if (issuer == "hq") return Ok{};
  auto colon = issuer.find(':');
  std::string_view kind = std::string_view(issuer).substr(0, colon == std::string::npos ? 0 : colon);
  std::string id = colon == std::string::npos ? std::string() : issuer.substr(colon + 1);
  bool known = (kind == "region" && state.region(id) != nullptr) || (kind == "dealer" && state.dealer(id) != nullptr) ||
               (kind == "store" && state.store(id) != nullptr);
  if (kind != "region" && kind != "dealer" && kind != "store") {
    return marketing_error(
        ErrorCode::invalid_argument,
        fmt::format("issuer must be hq, region:ID, dealer:ID or store:ID, not '{}'", issuer.substr(0, 80)), "issuer");
  }
  if (!known)
    return marketing_error(ErrorCode::unknown_id, fmt::format("issuer '{}' is not defined", issuer), "issuer");
  return Ok{};
}

Status check_scope(const LedgerState& state, const CampaignScopeInput& s) {
  struct List {
    const std::vector<std::string>* ids;
    const char* field;
  };
  for (auto [ids, field] : {List{&s.regions, "scope.regions"}, List{&s.skus, "scope.skus"},
                            List{&s.channels, "scope.channels"}, List{&s.tiers, "scope.tiers"}}) {
    if (ids->size() > scope_entries_max) {
      return marketing_error(ErrorCode::invalid_argument, fmt::format("{} lists at most {}", field, scope_entries_max),
                             field);
    }
    for (const auto& id : *ids) {
      if (auto st = check_id(id, field); !st) return st;
    }
  }
  for (const auto& r : s.regions) {
    if (state.region(r) == nullptr)
      return marketing_error(ErrorCode::unknown_id, fmt::format("region '{}' is not defined", r), "scope.regions");
  }
  for (const auto& k : s.skus) {
    if (state.sku(k) == nullptr)
      return marketing_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", k), "scope.skus");
  }
  for (const auto& c : s.channels) {
    if (!is_channel(c)) {
      return marketing_error(
          ErrorCode::invalid_argument,
          fmt::format("channel '{}' is not one of regional_storefront, dealer_storefront, store, o2o", c),
          "scope.channels");
    }
  }
  for (const auto& t : s.tiers) {
    if (!is_tier(t)) {
      return marketing_error(ErrorCode::invalid_argument,
                             fmt::format("tier '{}' is not one of standard, silver, gold, platinum", t), "scope.tiers");
    }
  }
  return Ok{};
}

Status check_offer(const CreateCampaign& c) {
  switch (c.kind) {
    case CampaignKind::amount_off: return check_amount(c.amount_off_cents, "params.amount_off_cents", true);
    case CampaignKind::percent_off:
      if (c.percent_off_bp < 1 || c.percent_off_bp > 10'000) {
        return marketing_error(ErrorCode::invalid_argument, "params.percent_off_bp must be 1..10000 (basis points)",
                               "params.percent_off_bp");
      }
      return Ok{};
    case CampaignKind::spend_x_save_y: {
      if (c.tiers.empty() || c.tiers.size() > spend_tiers_max) {
        return marketing_error(ErrorCode::invalid_argument,
                               fmt::format("params.tiers lists 1 to {} tiers", spend_tiers_max), "params.tiers");
      }
      for (std::size_t i = 0; i < c.tiers.size(); ++i) {
        const auto& t = c.tiers[i];
        bool ascending =
            i == 0 || (t.threshold_cents > c.tiers[i - 1].threshold_cents && t.save_cents >= c.tiers[i - 1].save_cents);
        if (t.threshold_cents < 1 || t.threshold_cents > limits::money_cents_max || t.save_cents < 1 ||
            t.save_cents > t.threshold_cents || !ascending) {
          return marketing_error(
              ErrorCode::invalid_argument,
              fmt::format("params.tiers[{}]: thresholds ascend, each saving 1..threshold fen and no less "
                          "than the tier below",
                          i),
              "params.tiers");
        }
      }
      return Ok{};
    }
    case CampaignKind::points_multiplier:
      if (c.points_multiplier_permille <= 1000 || c.points_multiplier_permille > points_multiplier_permille_max) {
        return marketing_error(
            ErrorCode::invalid_argument,
            fmt::format("params.points_multiplier_permille must be 1001..{}", points_multiplier_permille_max),
            "params.points_multiplier_permille");
      }
      return Ok{};
  }
  return marketing_error(ErrorCode::invalid_argument, "unknown campaign kind", "kind");
}

Status create_campaign(const LedgerState& state, const CreateCampaign& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  if (c.id.size() > campaign_id_bytes_max) {
    return marketing_error(ErrorCode::invalid_argument,
                           fmt::format("campaign id is {} bytes long; at most {}", c.id.size(), campaign_id_bytes_max),
                           "id");
  }
  if (state.campaign(c.id) != nullptr) {
    return marketing_error(ErrorCode::already_exists,
                           fmt::format("campaign '{}' already exists; choose another id", c.id), "id");
  }
  if (auto st = check_issuer(state, c.issuer); !st) return st;
  if (auto st = check_offer(c); !st) return st;
  if (auto st = check_scope(state, c.scope); !st) return st;
  if (c.max_redemptions < 0 || c.max_redemptions > coupons_per_campaign_max) {
    return marketing_error(ErrorCode::invalid_argument,
                           fmt::format("budget.max_redemptions must be 0 (no limit) to {}", coupons_per_campaign_max),
                           "budget.max_redemptions");
  }
  if (auto st = check_amount(c.max_discount_cents, "budget.max_discount_cents", false); !st) return st;
  if (c.per_member_limit < 0 || c.per_member_limit > 1'000'000) {
    return marketing_error(ErrorCode::invalid_argument, "per_member_limit must be 0 (no limit) to 1000000",
                           "per_member_limit");
  }
  if (c.valid_from_us < 0 || c.valid_to_us <= c.valid_from_us) {
    return marketing_error(ErrorCode::invalid_argument, "valid_to_us must be after valid_from_us", "valid_to_us");
  }
  auto& b = sink.builder();
  std::vector<flatbuffers::Offset<fb::SpendTier>> tiers;
  for (const auto& t : c.tiers) tiers.push_back(fb::CreateSpendTier(b, t.threshold_cents, t.save_cents));
  auto strings = [&](const std::vector<std::string>& v) { return b.CreateVectorOfStrings(v); };
  auto body = fb::CreateCampaignCreated(
      b, b.CreateString(c.id), b.CreateString(c.issuer), static_cast<fb::CampaignKind>(c.kind), c.amount_off_cents,
      c.percent_off_bp, b.CreateVector(tiers), c.points_multiplier_permille, strings(c.scope.regions),
      strings(c.scope.skus), strings(c.scope.channels), strings(c.scope.tiers), c.max_redemptions, c.max_discount_cents,
      c.per_member_limit, c.valid_from_us, c.valid_to_us, c.restore_on_cancel);
  sink.emit(fmt::format("campaign:{}", c.id), fb::Body::CampaignCreated, body.Union());
  return Ok{};
}

Status issue_coupons(const LedgerState& state, const IssueCoupons& c, std::int64_t now_us, EventSink& sink) {
  if (auto st = check_id(c.campaign, "campaign"); !st) return st;
  const CampaignRecord* campaign = state.campaign(c.campaign);
  if (campaign == nullptr) {
    return marketing_error(ErrorCode::unknown_id, fmt::format("campaign '{}' is not defined", c.campaign), "campaign");
  }
  if (auto st = check_id(c.member, "member"); !st) return st;
  if (state.member(c.member) == nullptr) {
    return marketing_error(ErrorCode::unknown_id, fmt::format("member '{}' is not defined", c.member), "member");
  }
  if (c.count < 1 || c.count > coupons_per_command_max) {
    return marketing_error(ErrorCode::invalid_argument, fmt::format("count must be 1..{}", coupons_per_command_max),
                           "count");
  }
  if (campaign->terms.valid_to_us <= now_us) {
    return marketing_error(ErrorCode::illegal_transition, fmt::format("campaign '{}' has ended", c.campaign),
                           "campaign");
  }
  if (campaign->coupons_issued + c.count > coupons_per_campaign_max) {
    return marketing_error(ErrorCode::rule_violation,
                           fmt::format("campaign '{}' has issued {} coupons; at most {}", c.campaign,
                                       campaign->coupons_issued, coupons_per_campaign_max),
                           "count");
  }
  std::vector<std::string> codes;
  for (std::int32_t i = 1; i <= c.count; ++i)
    codes.push_back(fmt::format("{}-{:06}", c.campaign, campaign->coupons_issued + i));
  auto& b = sink.builder();
  auto body =
      fb::CreateCouponsIssued(b, b.CreateString(c.campaign), b.CreateString(c.member), b.CreateVectorOfStrings(codes));
  sink.emit(fmt::format("campaign:{}", c.campaign), fb::Body::CouponsIssued, body.Union());
  return Ok{};
}

// ---- credit and prices

Result<const DealerRecord*> find_dealer(const LedgerState& state, const std::string& id) {
  if (auto st = check_id(id, "dealer"); !st) return st.take_error();
  const DealerRecord* d = state.dealer(id);
  if (d == nullptr)
    return marketing_error(ErrorCode::unknown_id, fmt::format("dealer '{}' is not defined", id), "dealer");
  return d;
}

Status record_payment(const LedgerState& state, const RecordPayment& c, EventSink& sink) {
  if (auto d = find_dealer(state, c.dealer); !d) return d.take_error();
  if (auto st = check_amount(c.amount_cents, "amount_cents", true); !st) return st;
  if (auto st = check_text(c.ref, "ref", true); !st) return st;
  std::int64_t owed = state.dealer_account(c.dealer).exposure_cents();
  if (c.amount_cents > owed) {
    return marketing_error(ErrorCode::rule_violation,
                           fmt::format("dealer {} owes {} fen for open orders; a payment of {} is more", c.dealer,
                                       std::max<std::int64_t>(0, owed), c.amount_cents),
                           "amount_cents")
        .with("reason", "overpayment")
        .with("owed_cents", std::max<std::int64_t>(0, owed));
  }
  auto& b = sink.builder();
  auto body = fb::CreatePaymentReceivedDirect(b, c.dealer.c_str(), c.amount_cents, c.ref.c_str());
  sink.emit(fmt::format("account:{}", c.dealer), fb::Body::PaymentReceived, body.Union());
  return Ok{};
}

Status set_credit_limit(const LedgerState& state, const SetCreditLimit& c, EventSink& sink) {
  if (auto d = find_dealer(state, c.dealer); !d) return d.take_error();
  if (auto st = check_amount(c.credit_limit_cents, "credit_limit_cents", false); !st) return st;
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  auto& b = sink.builder();
  auto body = fb::CreateCreditLimitChangedDirect(b, c.dealer.c_str(), c.credit_limit_cents, c.reason.c_str());
  sink.emit(fmt::format("account:{}", c.dealer), fb::Body::CreditLimitChanged, body.Union());
  return Ok{};
}

std::int64_t price_at(const Prices& p, PriceLevel level) {
  switch (level) {
    case PriceLevel::wholesale: return p.wholesale_cents;
    case PriceLevel::supply: return p.supply_cents;
    case PriceLevel::retail: return p.retail_cents;
  }
  return 0;
}

Status change_prices(const LedgerState& state, const ChangePrices& c, EventSink& sink) {
  if (c.changes.empty() || c.changes.size() > price_changes_per_command_max) {
    return marketing_error(ErrorCode::invalid_argument,
                           fmt::format("changes lists 1 to {} price changes", price_changes_per_command_max),
                           "changes");
  }
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  std::set<std::pair<std::string_view, PriceLevel>> seen;
  for (std::size_t i = 0; i < c.changes.size(); ++i) {
    const auto& ch = c.changes[i];
    std::string field = fmt::format("changes[{}].sku", i);
    if (auto st = check_id(ch.sku, field); !st) return st;
    if (state.sku(ch.sku) == nullptr)
      return marketing_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", ch.sku), field);
    if (auto st = check_amount(ch.price_cents, fmt::format("changes[{}].price_cents", i), true); !st) return st;
    if (!seen.insert({ch.sku, ch.level}).second) {
      return marketing_error(
          ErrorCode::invalid_argument,
          fmt::format("changes[{}] changes {} {} a second time", i, ch.sku, price_level_name(ch.level)), field);
    }
  }
  auto& b = sink.builder();
  for (const auto& ch : c.changes) {
    std::int64_t previous = price_at(state.sku(ch.sku)->prices, ch.level);
    auto body = fb::CreatePriceChangedDirect(b, ch.sku.c_str(), static_cast<fb::PriceLevel>(ch.level), ch.price_cents,
                                             previous, c.reason.c_str());
    sink.emit(fmt::format("sku:{}", ch.sku), fb::Body::PriceChanged, body.Union());
  }
  return Ok{};
}

Status set_price_policy(const SetPricePolicy& c, EventSink& sink) {
  if (c.alert_threshold_bp < 1 || c.alert_threshold_bp > 100'000) {
    return marketing_error(ErrorCode::invalid_argument, "alert_threshold_bp must be 1..100000 (basis points)",
                           "alert_threshold_bp");
  }
  auto& b = sink.builder();
  auto body = fb::CreatePricePolicySet(b, c.alert_threshold_bp, c.reject_below_floor);
  sink.emit("config:price_policy", fb::Body::PricePolicySet, body.Union());
  return Ok{};
}

// ---- points and tiers

// Returns whether it changed.
bool emit_tier_if_changed(const LedgerState& state, const std::string& member, std::int64_t now_us,
                          std::int64_t spend_delta_cents, EventSink& sink) {
  const MemberAccount& a = account_or_empty(state, member);
  std::string tier = tier_for_spend(rolling_spend(a, now_us) + spend_delta_cents);
  if (tier == a.tier) return false;
  auto& b = sink.builder();
  auto body = fb::CreateMemberTierChangedDirect(b, member.c_str(), tier.c_str(), a.tier.c_str());
  sink.emit(fmt::format("member:{}", member), fb::Body::MemberTierChanged, body.Union());
  return true;
}

// Value of `units` (SKU -> units) of the order at its line prices: each SKU's lines' value pro rata.
std::int64_t value_of_units(const OrderRecord& o, const std::map<std::string, std::int64_t, std::less<>>& units) {
  std::int64_t value = 0;
  for (const auto& [sku, qty] : units) {
    auto u = o.units.find(sku);
    if (u == o.units.end() || u->second.ordered == 0) continue;
    std::int64_t sku_value = 0;
    for (const auto& l : o.lines) sku_value += l.sku == sku ? l.qty * l.unit_price_cents : 0;
    value += pro_rata(sku_value, qty, u->second.ordered);
  }
  return value;
}

std::int32_t multiplier_of(const LedgerState& state, std::string_view order_id, const OrderRecord& o) {
  std::int32_t permille = 1000;
  for (const auto& code : o.coupons) {
    const CouponRecord* c = state.coupon(code);
    if (c == nullptr || c->order != order_id) continue;
    const CampaignRecord* campaign = state.campaign(c->campaign);
    if (campaign->terms.kind == CampaignKind::points_multiplier) {
      permille = std::max(permille, campaign->terms.points_multiplier_permille);
    }
  }
  return permille;
}

// Brings the order's earned points and counted spend to what its kept units (delivered, not
// returned) are worth: PointsEarned when they grew, PointsReversed when a return shrank them.
void settle_points(const LedgerState& state, const std::string& id, const OrderRecord& o,
                   const std::map<std::string, std::int64_t, std::less<>>& kept, std::int64_t now_us, EventSink& sink) {
  std::string member = member_of(o.buyer);
  if (member.empty() || o.total_cents == 0) return;
  const OrderMarketing* om = state.order_marketing(id);
  std::int64_t spent = om == nullptr ? 0 : om->points_spent, earned = om == nullptr ? 0 : om->points_earned;
  std::int64_t counted = om == nullptr ? 0 : om->spend_cents;
  std::int64_t kept_value = value_of_units(o, kept);
  std::int64_t paid = pro_rata(o.total_cents - o.discount_cents - spent, kept_value, o.total_cents);
  std::int64_t points = points_for_paid(paid, multiplier_of(state, id, o));
  std::int64_t spend = pro_rata(o.total_cents - o.discount_cents, kept_value, o.total_cents);
  auto& b = sink.builder();
  // What changes in the order's counted spend, and in the member's rolling spend (the tier's measure).
  std::int64_t spend_delta = 0, rolling_delta = 0;
  if (points > earned || spend > counted) {
    spend_delta = rolling_delta = spend - counted;
    auto body = fb::CreatePointsEarnedDirect(b, member.c_str(), std::max<std::int64_t>(0, points - earned), id.c_str(),
                                             now_us + points_validity_us, spend_delta);
    sink.emit(fmt::format("member:{}", member), fb::Body::PointsEarned, body.Union());
  } else if (points < earned || spend < counted) {
    // Never below a zero balance: what was spent already stays spent.
    const MemberAccount& account = account_or_empty(state, member);
    std::int64_t take = std::min(earned - points, usable_points(account, now_us));
    spend_delta = spend - counted;
    // The tier loses only what of the order's spend is still in the window (the fold's take_spend).
    rolling_delta = -std::min(-spend_delta, order_spend_in_window(account, id, now_us));
    auto body =
        fb::CreatePointsReversedDirect(b, member.c_str(), std::max<std::int64_t>(0, take), id.c_str(), -spend_delta);
    sink.emit(fmt::format("member:{}", member), fb::Body::PointsReversed, body.Union());
  }
  if (rolling_delta != 0) emit_tier_if_changed(state, member, now_us, rolling_delta, sink);
}

}  // namespace

bool is_marketing_command(const CommandBody& body) {
  return std::holds_alternative<CreateCampaign>(body) || std::holds_alternative<IssueCoupons>(body) ||
         std::holds_alternative<RecordPayment>(body) || std::holds_alternative<SetCreditLimit>(body) ||
         std::holds_alternative<ChangePrices>(body) || std::holds_alternative<SetPricePolicy>(body);
}

Status decide_marketing(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink) {
  if (const auto* c = std::get_if<CreateCampaign>(&body)) return create_campaign(state, *c, sink);
  if (const auto* c = std::get_if<IssueCoupons>(&body)) return issue_coupons(state, *c, ctx.now_us, sink);
  if (const auto* c = std::get_if<RecordPayment>(&body)) return record_payment(state, *c, sink);
  if (const auto* c = std::get_if<SetCreditLimit>(&body)) return set_credit_limit(state, *c, sink);
  if (const auto* c = std::get_if<ChangePrices>(&body)) return change_prices(state, *c, sink);
  if (const auto* c = std::get_if<SetPricePolicy>(&body)) return set_price_policy(*c, sink);
  return make_error(ErrorCode::invalid_argument, "not a marketing command");
}

// ---- orders

bool coupon_fits_seller(const LedgerState& state, const std::string& issuer, const PlaceOrder& order) {
  if (issuer == "hq") return true;
  if (issuer.rfind("region:", 0) == 0) return order.ship_to_region == issuer.substr(7);
  if (issuer.rfind("dealer:", 0) == 0) {
    if (order.seller == issuer) return true;
    const StoreRecord* s = order.seller.rfind("store:", 0) == 0 ? state.store(order.seller.substr(6)) : nullptr;
    return s != nullptr && s->dealer == issuer.substr(7);
  }
  return order.seller == issuer;
}

Result<Redemption> plan_redemption(const LedgerState& state, const PlaceOrder& c, std::int64_t total_cents,
                                   std::int64_t now_us) {
  Redemption out;
  out.member = member_of(c.buyer);
  if (c.coupons.size() > coupons_per_order_max) {
    return marketing_error(ErrorCode::invalid_argument, fmt::format("at most {} coupons", coupons_per_order_max),
                           "coupons");
  }
  if (c.points < 0 || c.points > limits::money_cents_max) {
    return marketing_error(ErrorCode::invalid_argument, "points must be 0 or more", "points");
  }
  if ((!c.coupons.empty() || c.points > 0) && out.member.empty()) {
    return marketing_error(ErrorCode::rule_violation, "coupons and points are redeemed by members (buyer member:ID)",
                           c.coupons.empty() ? "points" : "coupons")
        .with("reason", "not_a_member");
  }
  const MemberAccount& account = account_or_empty(state, out.member);
  std::vector<CouponToApply> apply;
  std::set<std::string_view> campaigns, codes;
  for (const auto& code : c.coupons) {
    if (auto st = check_id(code, "coupons"); !st) return st.take_error();
    if (!codes.insert(code).second) {
      return marketing_error(ErrorCode::invalid_argument, fmt::format("coupon '{}' is listed twice", code), "coupons");
    }
    const CouponRecord* coupon = state.coupon(code);
    if (coupon == nullptr)
      return redemption_error(code, fmt::format("coupon '{}' was never issued", code), "unknown_coupon");
    if (coupon->member != out.member) {
      return redemption_error(code, fmt::format("coupon '{}' was issued to another member", code), "not_yours");
    }
    if (!coupon->order.empty()) {
      return redemption_error(code, fmt::format("coupon '{}' was redeemed on order {}", code, coupon->order),
                              "already_redeemed");
    }
    const CampaignRecord& campaign = *state.campaign(coupon->campaign);
    const CreateCampaign& t = campaign.terms;
    if (now_us < t.valid_from_us || now_us >= t.valid_to_us) {
      return redemption_error(code,
                              fmt::format("campaign {} runs from {} to {} (us); it is {}", coupon->campaign,
                                          t.valid_from_us, t.valid_to_us, now_us),
                              "not_valid_now");
    }
    auto listed = [](const std::vector<std::string>& v, std::string_view x) {
      return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
    };
    // One reason for the storefront (out_of_scope), and which part of the scope said no.
    const char* outside = !coupon_fits_seller(state, t.issuer, c)      ? "seller"
                          : !listed(t.scope.regions, c.ship_to_region) ? "region"
                          : !listed(t.scope.channels, c.channel)       ? "channel"
                          : !listed(t.scope.tiers, account.tier)       ? "tier"
                                                                       : nullptr;
    if (outside != nullptr) {
      return redemption_error(
                 code,
                 fmt::format("campaign {} (issued by {}) does not cover this order's {} (the member's tier "
                             "is {})",
                             coupon->campaign, t.issuer, outside, account.tier),
                 "out_of_scope")
          .with("scope", std::string(outside));
    }
    if (!campaigns.insert(coupon->campaign).second) {
      return redemption_error(code, fmt::format("one coupon of campaign {} per order", coupon->campaign),
                              "one_per_campaign");
    }
    auto used = account.redemptions.find(coupon->campaign);
    if (t.per_member_limit > 0 && used != account.redemptions.end() && used->second >= t.per_member_limit) {
      return redemption_error(
          code, fmt::format("campaign {} allows {} redemptions per member", coupon->campaign, t.per_member_limit),
          "per_member_limit");
    }
    apply.push_back({code, &t});
  }
  auto discounts = compute_discounts(c.lines, std::move(apply));
  if (!discounts) return discounts.take_error();
  for (const auto& cd : discounts->coupons) {
    const CampaignRecord& campaign = *state.campaign(state.coupon(cd.code)->campaign);
    const CreateCampaign& t = campaign.terms;
    if ((t.max_redemptions > 0 && campaign.redemptions + 1 > t.max_redemptions) ||
        (t.max_discount_cents > 0 && campaign.discount_cents + cd.discount_cents > t.max_discount_cents)) {
      return redemption_error(cd.code, fmt::format("campaign {} has used its budget", t.id), "budget_exhausted")
          .with("redemptions", campaign.redemptions)
          .with("discount_cents", campaign.discount_cents);
    }
  }
  out.discounts = std::move(*discounts);
  std::int64_t owed = total_cents - out.discounts.discount_cents;
  assert(owed >= 0);
  if (c.points > 0) {
    std::int64_t usable = usable_points(account, now_us);
    if (c.points > usable) {
      return marketing_error(ErrorCode::rule_violation,
                             fmt::format("member {} has {} points; the order spends {}", out.member, usable, c.points),
                             "points")
          .with("reason", "insufficient_points")
          .with("balance", usable);
    }
    if (c.points > owed) {
      return marketing_error(ErrorCode::invalid_argument,
                             fmt::format("points pay at most what the order owes ({} fen)", owed), "points");
    }
  }
  out.points = c.points;
  return out;
}

void emit_redemption(const std::string& order_id, const Redemption& r, EventSink& sink) {
  auto& b = sink.builder();
  for (const auto& cd : r.discounts.coupons) {
    const std::string& campaign = cd.campaign;
    auto body = fb::CreateCouponRedeemedDirect(b, cd.code.c_str(), campaign.c_str(), r.member.c_str(), order_id.c_str(),
                                               cd.discount_cents);
    sink.emit(fmt::format("campaign:{}", campaign), fb::Body::CouponRedeemed, body.Union());
  }
  if (r.points > 0) {
    auto body = fb::CreatePointsSpentDirect(b, r.member.c_str(), r.points, order_id.c_str());
    sink.emit(fmt::format("member:{}", r.member), fb::Body::PointsSpent, body.Union());
  }
}

void emit_order_end_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o,
                              std::int64_t now_us, EventSink& sink) {
  std::string member = member_of(o.buyer);
  if (member.empty()) return;
  auto& b = sink.builder();
  for (const auto& code : o.coupons) {
    const CouponRecord* c = state.coupon(code);
    if (c == nullptr || c->order != id || !state.campaign(c->campaign)->terms.restore_on_cancel) continue;
    auto body = fb::CreateCouponRestoredDirect(b, code.c_str(), id.c_str());
    sink.emit(fmt::format("campaign:{}", c->campaign), fb::Body::CouponRestored, body.Union());
  }
  const OrderMarketing* om = state.order_marketing(id);
  Refund refund = om != nullptr && !om->points_refunded ? refundable(om->spent_lots, now_us) : Refund{};
  if (refund.points > 0) {
    auto body = fb::CreatePointsRefundedDirect(b, member.c_str(), refund.points, id.c_str(), refund.latest_expiry_us);
    sink.emit(fmt::format("member:{}", member), fb::Body::PointsRefunded, body.Union());
  }
}

void emit_delivery_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o, std::int64_t now_us,
                             EventSink& sink) {
  // After this delivery every unit shipped (and, for a pickup, every unit held) is delivered.
  std::map<std::string, std::int64_t, std::less<>> kept;
  for (const auto& [sku, u] : o.units) {
    auto h = o.held.find(sku);
    bool pickup = o.type == OrderType::reservation && u.shipped == u.delivered;
    kept[sku] = u.shipped + (pickup && h != o.held.end() ? h->second : 0) - u.returned;
  }
  settle_points(state, id, o, kept, now_us, sink);
}

void emit_return_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o,
                           const std::map<std::string_view, std::int64_t>& returned_now, std::int64_t now_us,
                           EventSink& sink) {
  std::map<std::string, std::int64_t, std::less<>> kept;
  bool wholly_returned = true;
  for (const auto& [sku, u] : o.units) {
    auto r = returned_now.find(sku);
    std::int64_t returned = u.returned + (r == returned_now.end() ? 0 : r->second);
    kept[sku] = u.delivered - returned;
    wholly_returned &= returned == u.ordered;
  }
  settle_points(state, id, o, kept, now_us, sink);
  if (wholly_returned) emit_order_end_marketing(state, id, o, now_us, sink);
}

Status member_clock(const LedgerState& state, const std::string& member, std::int64_t now_us, EventSink& sink) {
  const MemberAccount* a = state.member_account(member);
  if (a == nullptr) return Ok{};
  std::int64_t expired = 0;
  for (const auto& lot : a->lots) expired += lot.expires_at_us <= now_us ? lot.points : 0;
  auto& b = sink.builder();
  if (expired > 0) {
    auto body = fb::CreatePointsExpiredDirect(b, member.c_str(), expired);
    sink.emit(fmt::format("member:{}", member), fb::Body::PointsExpired, body.Union());
  }
  bool tier_changed = emit_tier_if_changed(state, member, now_us, 0, sink);
  if (expired == 0 && !tier_changed) {
    // The clock jumped past the change it was due for and past what undid it (old spend leaving,
    // then an old return leaving): nothing changes, but the account must be scheduled again, or it
    // stays due for ever (and enough such accounts would crowd out every other member's clock).
    // Expiring nothing says the clock saw it; the fold reschedules it as for any points event.
    auto body = fb::CreatePointsExpiredDirect(b, member.c_str(), 0);
    sink.emit(fmt::format("member:{}", member), fb::Body::PointsExpired, body.Union());
  }
  return Ok{};
}

}  // namespace ledger

// The fold of campaigns, coupons, members' points and tiers, payments, credit limits and prices.
// It checks what the writer promised (a coupon redeems once, points never below zero) and answers
// a contradiction otherwise: only a damaged or forged log gets there.
#include <algorithm>

#include "fold_access.hpp"

namespace ledger {

namespace {

std::vector<std::string> strings_of(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  for (const auto* s : *v) out.emplace_back(fb_str(s));
  return out;
}

std::int64_t* price_of(SkuRecord& sku, fb::PriceLevel level) {
  switch (level) {
    case fb::PriceLevel::wholesale: return &sku.prices.wholesale_cents;
    case fb::PriceLevel::supply: return &sku.prices.supply_cents;
    default: return &sku.prices.retail_cents;
  }
}

// Takes `cents` of `order`'s spend back, from its latest deliveries still in the window first;
// spend that has left the window is gone already and stays gone. (A return used to add a negative
// entry dated the day of the return: it outlived the delivery it undid, so a year after a returned
// order it cancelled spend that other orders had kept and dropped the member's tier; and returning
// goods whose spend had left the window lowered today's tier.)
void take_spend(MemberAccount& a, std::string_view order, std::int64_t cents, std::int64_t now_us) {
  for (auto it = a.spend.rbegin(); it != a.spend.rend() && cents > 0; ++it) {
    if (it->order != order || it->at_us <= now_us - tier_window_us) continue;
    std::int64_t take = std::min(cents, it->cents);
    it->cents -= take;
    cents -= take;
  }
  std::erase_if(a.spend, [](const SpendEntry& e) { return e.cents <= 0; });
}

}  // namespace

void FoldAccess::add_lot(MemberAccount& a, std::int64_t points, std::int64_t expires_at_us) {
  if (points <= 0) return;
  auto at = std::upper_bound(a.lots.begin(), a.lots.end(), expires_at_us,
                             [](std::int64_t t, const PointsLot& lot) { return t < lot.expires_at_us; });
  a.lots.insert(at, PointsLot{expires_at_us, points});
  a.points += points;
}

// Takes `points` from the lots that expire first and have not expired, or (expired_only) removes
// exactly the lots that have expired, which must hold `points`. What was taken is appended to `taken`.
Status FoldAccess::take_points(MemberAccount& a, std::int64_t points, bool expired_only,
                               std::vector<PointsLot>* taken) {
  const std::int64_t now = event_.ts_us();
  std::int64_t left = points;
  for (auto it = a.lots.begin(); it != a.lots.end();) {
    bool expired = it->expires_at_us <= now;
    if (expired != expired_only || (!expired_only && left == 0)) {
      ++it;
      continue;
    }
    std::int64_t take = expired_only ? it->points : std::min(left, it->points);
    if (taken != nullptr && take > 0) taken->push_back({it->expires_at_us, take});
    it->points -= take;
    left -= take;
    a.points -= take;
    it = it->points == 0 ? a.lots.erase(it) : it + 1;
  }
  if (left != 0 || a.points < 0)
    return contradiction(event_, fmt::format("takes {} points the member does not have", points));
  return Ok{};
}

void FoldAccess::reschedule(const std::string& member, MemberAccount& a) {
  const std::int64_t now = event_.ts_us();
  // Spend that has left the window no longer counts for anything.
  auto gone =
      std::find_if(a.spend.begin(), a.spend.end(), [&](const SpendEntry& e) { return e.at_us > now - tier_window_us; });
  a.spend.erase(a.spend.begin(), gone);
  if (a.due_us != 0) s_.member_due_.erase({a.due_us, member});
  a.due_us = next_due_us(a, now);
  if (a.due_us != 0) s_.member_due_.emplace(a.due_us, member);
}

Status FoldAccess::campaign_created(const fb::CampaignCreated& e) {
  std::string id(fb_str(e.id()));
  if (s_.marketing_.campaigns.count(id) != 0)
    return contradiction(event_, fmt::format("campaign {} created twice", id));
  CampaignRecord r;
  CreateCampaign& t = r.terms;
  t.id = id;
  t.issuer = fb_str(e.issuer());
  t.kind = static_cast<CampaignKind>(e.kind());
  if (t.kind > CampaignKind::points_multiplier) return contradiction(event_, "an unknown campaign kind");
  t.amount_off_cents = e.amount_off_cents();
  t.percent_off_bp = e.percent_off_bp();
  if (e.tiers() != nullptr) {
    for (const auto* x : *e.tiers()) t.tiers.push_back({x->threshold_cents(), x->save_cents()});
  }
  t.points_multiplier_permille = e.points_multiplier_permille();
  t.scope = {strings_of(e.scope_regions()), strings_of(e.scope_skus()), strings_of(e.scope_channels()),
             strings_of(e.scope_tiers())};
  t.max_redemptions = e.max_redemptions();
  t.max_discount_cents = e.max_discount_cents();
  t.per_member_limit = e.per_member_limit();
  t.valid_from_us = e.valid_from_us();
  t.valid_to_us = e.valid_to_us();
  t.restore_on_cancel = e.restore_on_cancel();
  s_.marketing_.campaigns.emplace(std::move(id), std::move(r));
  return Ok{};
}

Status FoldAccess::coupons_issued(const fb::CouponsIssued& e) {
  auto c = s_.marketing_.campaigns.find(fb_str(e.campaign()));
  std::string member(fb_str(e.member()));
  if (c == s_.marketing_.campaigns.end() || s_.member(member) == nullptr) {
    return contradiction(event_, "issues coupons of an unknown campaign or to an unknown member");
  }
  MemberAccount& a = s_.marketing_.members[member];
  for (const auto& code : strings_of(e.codes())) {
    if (!s_.marketing_.coupons.emplace(code, CouponRecord{c->first, member, {}, 0}).second) {
      return contradiction(event_, fmt::format("coupon {} issued twice", code));
    }
    a.coupons.push_back(code);
    ++c->second.coupons_issued;
  }
  return Ok{};
}

Status FoldAccess::coupon_redeemed(const fb::CouponRedeemed& e) {
  auto coupon = s_.marketing_.coupons.find(fb_str(e.code()));
  if (coupon == s_.marketing_.coupons.end() || !coupon->second.order.empty() ||
      coupon->second.campaign != fb_str(e.campaign()) || coupon->second.member != fb_str(e.member()) ||
      e.discount_cents() < 0) {
    return contradiction(event_, fmt::format("redeems coupon {} that is not free to redeem", fb_str(e.code())));
  }
  CampaignRecord& c = s_.marketing_.campaigns.find(coupon->second.campaign)->second;
  coupon->second.order = fb_str(e.order());
  coupon->second.discount_cents = e.discount_cents();
  ++c.redemptions;
  c.discount_cents += e.discount_cents();
  bool over = (c.terms.max_redemptions > 0 && c.redemptions > c.terms.max_redemptions) ||
              (c.terms.max_discount_cents > 0 && c.discount_cents > c.terms.max_discount_cents);
  if (over) return contradiction(event_, fmt::format("campaign {} goes over its budget", c.terms.id));
  ++s_.marketing_.members[coupon->second.member].redemptions[coupon->second.campaign];
  s_.marketing_.orders[coupon->second.order].member = coupon->second.member;
  return Ok{};
}

Status FoldAccess::coupon_restored(const fb::CouponRestored& e) {
  auto coupon = s_.marketing_.coupons.find(fb_str(e.code()));
  if (coupon == s_.marketing_.coupons.end() || coupon->second.order != fb_str(e.order())) {
    return contradiction(
        event_, fmt::format("restores coupon {} not redeemed on order {}", fb_str(e.code()), fb_str(e.order())));
  }
  CouponRecord& r = coupon->second;
  CampaignRecord& c = s_.marketing_.campaigns.find(r.campaign)->second;
  --c.redemptions;
  c.discount_cents -= r.discount_cents;
  auto& used = s_.marketing_.members[r.member].redemptions;
  if (auto u = used.find(r.campaign); u != used.end() && --u->second == 0) used.erase(u);
  r.order.clear();
  r.discount_cents = 0;
  return Ok{};
}

// PointsEarned, PointsSpent, PointsReversed, PointsRefunded, PointsExpired, MemberTierChanged.
Status FoldAccess::points_changed() {
  using fb::Body;
  const fb::Event& e = event_;
  auto account = [&](const flatbuffers::String* member) -> MemberAccount* {
    if (s_.member(fb_str(member)) == nullptr) return nullptr;
    return &s_.marketing_.members[std::string(fb_str(member))];
  };
  const flatbuffers::String* member = nullptr;
  Status st = Ok{};
  switch (e.body_type()) {
    case Body::PointsEarned: {
      auto* b = e.body_as_PointsEarned();
      member = b->member();
      MemberAccount* a = account(member);
      if (a == nullptr || b->points() < 0) return contradiction(e, "earns points for an unknown member");
      add_lot(*a, b->points(), b->expires_at_us());
      if (b->spend_cents() > 0) a->spend.push_back({e.ts_us(), b->spend_cents(), std::string(fb_str(b->order()))});
      if (b->spend_cents() < 0) take_spend(*a, fb_str(b->order()), -b->spend_cents(), e.ts_us());
      OrderMarketing& om = s_.marketing_.orders[std::string(fb_str(b->order()))];
      om.member = fb_str(member);
      om.points_earned += b->points();
      om.spend_cents += b->spend_cents();
      break;
    }
    case Body::PointsSpent: {
      auto* b = e.body_as_PointsSpent();
      member = b->member();
      MemberAccount* a = account(member);
      if (a == nullptr || b->points() <= 0) return contradiction(e, "spends points of an unknown member");
      OrderMarketing& om = s_.marketing_.orders[std::string(fb_str(b->order()))];
      st = take_points(*a, b->points(), false, &om.spent_lots);
      om.member = fb_str(member);
      om.points_spent += b->points();
      break;
    }
    case Body::PointsReversed: {
      auto* b = e.body_as_PointsReversed();
      member = b->member();
      MemberAccount* a = account(member);
      if (a == nullptr || b->points() < 0) return contradiction(e, "reverses points of an unknown member");
      st = take_points(*a, b->points(), false);
      take_spend(*a, fb_str(b->order()), b->spend_cents(), e.ts_us());
      OrderMarketing& om = s_.marketing_.orders[std::string(fb_str(b->order()))];
      om.points_earned -= b->points();
      om.spend_cents -= b->spend_cents();
      break;
    }
    case Body::PointsRefunded: {
      auto* b = e.body_as_PointsRefunded();
      member = b->member();
      MemberAccount* a = account(member);
      auto om = s_.marketing_.orders.find(fb_str(b->order()));
      Refund refund = om == s_.marketing_.orders.end() ? Refund{} : refundable(om->second.spent_lots, e.ts_us());
      if (a == nullptr || om == s_.marketing_.orders.end() || om->second.points_refunded || refund.points <= 0 ||
          refund.points != b->points() || refund.latest_expiry_us != b->expires_at_us()) {
        return contradiction(e, "refunds points the order did not spend");
      }
      for (const auto& lot : refund.lots) add_lot(*a, lot.points, lot.expires_at_us);
      om->second.points_refunded = true;
      break;
    }
    case Body::PointsExpired: {
      auto* b = e.body_as_PointsExpired();
      member = b->member();
      MemberAccount* a = account(member);
      if (a == nullptr) return contradiction(e, "expires points of an unknown member");
      st = take_points(*a, b->points(), true);
      break;
    }
    case Body::MemberTierChanged: {
      auto* b = e.body_as_MemberTierChanged();
      member = b->member();
      MemberAccount* a = account(member);
      if (a == nullptr || !is_tier(fb_str(b->tier())) || a->tier != fb_str(b->previous())) {
        return contradiction(e, "changes a tier the member does not have");
      }
      a->tier = fb_str(b->tier());
      break;
    }
    default: return contradiction(e, "not a points event");
  }
  if (!st) return st;
  reschedule(std::string(fb_str(member)), s_.marketing_.members[std::string(fb_str(member))]);
  return Ok{};
}

Status FoldAccess::marketing() {
  using fb::Body;
  const fb::Event& e = event_;
  switch (e.body_type()) {
    case Body::CampaignCreated: return campaign_created(*e.body_as_CampaignCreated());
    case Body::CouponsIssued: return coupons_issued(*e.body_as_CouponsIssued());
    case Body::CouponRedeemed: return coupon_redeemed(*e.body_as_CouponRedeemed());
    case Body::CouponRestored: return coupon_restored(*e.body_as_CouponRestored());
    case Body::PointsEarned:
    case Body::PointsSpent:
    case Body::PointsReversed:
    case Body::PointsRefunded:
    case Body::PointsExpired:
    case Body::MemberTierChanged: return points_changed();
    case Body::PaymentReceived: {
      auto* b = e.body_as_PaymentReceived();
      if (s_.dealer(fb_str(b->dealer())) == nullptr || b->amount_cents() <= 0) {
        return contradiction(e, "a payment by an unknown dealer");
      }
      s_.dealer_accounts_[std::string(fb_str(b->dealer()))].paid_cents += b->amount_cents();
      return Ok{};
    }
    case Body::CreditLimitChanged: {
      auto* b = e.body_as_CreditLimitChanged();
      auto d = s_.dealers_.find(fb_str(b->dealer()));
      if (d == s_.dealers_.end()) return contradiction(e, "a credit limit of an unknown dealer");
      d->second.credit_limit_cents = b->credit_limit_cents();
      return Ok{};
    }
    case Body::PriceChanged: {
      auto* b = e.body_as_PriceChanged();
      auto sku = s_.skus_.find(fb_str(b->sku()));
      if (sku == s_.skus_.end() || b->price_cents() <= 0) return contradiction(e, "a price of an unknown SKU");
      *price_of(sku->second, b->level()) = b->price_cents();
      return Ok{};
    }
    case Body::PricePolicySet: {
      auto* b = e.body_as_PricePolicySet();
      s_.marketing_.price_alert_threshold_bp = b->alert_threshold_bp();
      s_.marketing_.reject_below_floor = b->reject_below_floor();
      return Ok{};
    }
    default: return contradiction(e, "this event kind is not understood by this version of the engine; upgrade it");
  }
}

}  // namespace ledger

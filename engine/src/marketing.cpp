// The pure rules of ledger/marketing.hpp: names, tiers, the clock's effect on an account, discounts.
#include "ledger/marketing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "enum_names.hpp"

namespace ledger {

namespace {

constexpr const char* kind_names[] = {"amount_off", "percent_off", "spend_x_save_y", "points_multiplier"};
constexpr const char* level_names[] = {"wholesale", "supply", "retail"};

// The stacking order of kinds: threshold offers see the undiscounted basket, fixed amounts come last.
int stacking_rank(CampaignKind kind) {
  switch (kind) {
    case CampaignKind::spend_x_save_y: return 0;
    case CampaignKind::percent_off: return 1;
    case CampaignKind::amount_off: return 2;
    case CampaignKind::points_multiplier: return 3;
  }
  return 4;
}

bool in_scope(const std::vector<std::string>& skus, std::string_view sku) {
  return skus.empty() || std::find(skus.begin(), skus.end(), sku) != skus.end();
}

Error coupon_error(const std::string& code, std::string message, std::string reason) {
  return make_error(ErrorCode::rule_violation, std::move(message))
      .with("field", "coupons")
      .with("coupon", code)
      .with("reason", std::move(reason));
}

// Spreads `discount` over the eligible lines in proportion to their value: floors, then the fen left
// over one each in line order. REQUIRES: discount <= the eligible lines' value.
void spread(std::vector<DiscountLine>& lines, const std::vector<std::size_t>& eligible, std::int64_t base,
            std::int64_t discount) {
  assert(discount >= 0 && discount <= base);
  if (discount == 0) return;
  std::int64_t given = 0;
  std::vector<std::int64_t> share(eligible.size());
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    share[i] = pro_rata(lines[eligible[i]].value_cents, discount, base);
    given += share[i];
  }
  for (std::size_t i = 0; i < eligible.size() && given < discount; ++i) {
    if (share[i] < lines[eligible[i]].value_cents) {
      ++share[i];
      ++given;
    }
  }
  assert(given == discount);
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    lines[eligible[i]].value_cents -= share[i];
    assert(lines[eligible[i]].value_cents >= 0);
  }
}

}  // namespace

const char* campaign_kind_name(CampaignKind kind) { return kind_names[static_cast<std::size_t>(kind)]; }

bool campaign_kind_from_name(std::string_view name, CampaignKind& out) { return enum_from_name(kind_names, name, out); }

const char* price_level_name(PriceLevel level) { return level_names[static_cast<std::size_t>(level)]; }

bool price_level_from_name(std::string_view name, PriceLevel& out) { return enum_from_name(level_names, name, out); }

bool is_tier(std::string_view name) {
  return std::find(tier_names.begin(), tier_names.end(), name) != tier_names.end();
}

const char* tier_for_spend(std::int64_t spend_cents) {
  std::size_t tier = 0;
  for (std::size_t i = 0; i < tier_thresholds_cents.size(); ++i) {
    if (spend_cents >= tier_thresholds_cents[i]) tier = i;
  }
  return tier_names[tier];
}

std::int64_t pro_rata(std::int64_t value, std::int64_t numerator, std::int64_t denominator) {
  assert(denominator > 0);
  return static_cast<std::int64_t>(static_cast<__int128>(value) * numerator / denominator);
}

std::int64_t points_for_paid(std::int64_t paid_cents, std::int32_t multiplier_permille) {
  if (paid_cents <= 0) return 0;
  return paid_cents / 100 * multiplier_permille / 1000;
}

Refund refundable(const std::vector<PointsLot>& spent_lots, std::int64_t now_us) {
  Refund out;
  for (const auto& lot : spent_lots) {
    if (lot.expires_at_us <= now_us) continue;
    out.lots.push_back(lot);
    out.points += lot.points;
    out.latest_expiry_us = std::max(out.latest_expiry_us, lot.expires_at_us);
  }
  return out;
}

std::int64_t usable_points(const MemberAccount& account, std::int64_t now_us) {
  std::int64_t points = 0;
  for (const auto& lot : account.lots) points += lot.expires_at_us > now_us ? lot.points : 0;
  return points;
}

std::int64_t rolling_spend(const MemberAccount& account, std::int64_t now_us) {
  std::int64_t cents = 0;
  for (const auto& e : account.spend) cents += e.at_us > now_us - tier_window_us ? e.cents : 0;
  return cents;
}

std::int64_t order_spend_in_window(const MemberAccount& account, std::string_view order, std::int64_t now_us) {
  std::int64_t cents = 0;
  for (const auto& e : account.spend) cents += e.order == order && e.at_us > now_us - tier_window_us ? e.cents : 0;
  return cents;
}

std::int64_t next_due_us(const MemberAccount& account, std::int64_t now_us) {
  std::int64_t due = account.lots.empty() ? 0 : account.lots.front().expires_at_us;
  if (tier_for_spend(rolling_spend(account, now_us)) != account.tier) return now_us;
  // Old spend leaves the window, all entries of one instant together: the first moment the tier that
  // remains differs. The clock then has something to do (a PointsExpired or MemberTierChanged), so a
  // due member never stays due.
  std::int64_t remaining = rolling_spend(account, now_us);
  const auto& spend = account.spend;
  for (std::size_t i = 0; i < spend.size(); ++i) {
    std::int64_t leaves_at = spend[i].at_us + tier_window_us;
    if (leaves_at <= now_us) continue;
    remaining -= spend[i].cents;
    bool last_of_instant = i + 1 == spend.size() || spend[i + 1].at_us != spend[i].at_us;
    if (last_of_instant && tier_for_spend(remaining) != account.tier) {
      if (due == 0 || leaves_at < due) due = leaves_at;
      break;
    }
  }
  return due;
}

Result<Discounts> compute_discounts(const std::vector<OrderLineInput>& lines, std::vector<CouponToApply> coupons) {
  Discounts out;
  for (const auto& l : lines) out.lines.push_back({l.sku, l.qty * l.unit_price_cents});
  std::stable_sort(coupons.begin(), coupons.end(), [](const CouponToApply& a, const CouponToApply& b) {
    int ra = stacking_rank(a.terms->kind), rb = stacking_rank(b.terms->kind);
    return ra != rb ? ra < rb : a.code < b.code;
  });
  for (const auto& c : coupons) {
    const CreateCampaign& t = *c.terms;
    std::vector<std::size_t> eligible;
    std::int64_t base = 0;
    for (std::size_t i = 0; i < out.lines.size(); ++i) {
      if (!in_scope(t.scope.skus, out.lines[i].sku)) continue;
      eligible.push_back(i);
      base += out.lines[i].value_cents;
    }
    if (eligible.empty()) {
      return coupon_error(c.code, fmt::format("coupon '{}' applies to none of the order's SKUs", c.code),
                          "out_of_scope");
    }
    std::int64_t discount = 0;
    switch (t.kind) {
      case CampaignKind::amount_off: discount = std::min(t.amount_off_cents, base); break;
      case CampaignKind::percent_off: discount = pro_rata(base, t.percent_off_bp, 10'000); break;
      case CampaignKind::spend_x_save_y: {
        const SpendTierInput* reached = nullptr;
        for (const auto& tier : t.tiers) {
          if (base >= tier.threshold_cents) reached = &tier;
        }
        if (reached == nullptr) {
          return coupon_error(c.code,
                              fmt::format("coupon '{}' needs {} fen of eligible goods; the order has {}", c.code,
                                          t.tiers.empty() ? 0 : t.tiers.front().threshold_cents, base),
                              "threshold_not_reached");
        }
        discount = std::min(reached->save_cents, base);
        break;
      }
      case CampaignKind::points_multiplier:
        out.points_multiplier_permille = std::max(out.points_multiplier_permille, t.points_multiplier_permille);
        break;
    }
    spread(out.lines, eligible, base, discount);
    out.coupons.push_back({c.code, t.id, discount});
    out.discount_cents += discount;
  }
  return out;
}

}  // namespace ledger

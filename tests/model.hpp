// A reference model of the stock ledger for the simulation: the rules of DESIGN.md written again,
// as plainly as possible, with no shared code. The engine must agree with it on every outcome and
// every balance (the db_stress idea: an expected state kept outside the database).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/commands.hpp"
#include "ledger/ledger_state.hpp"

namespace test {

class Model {
 public:
  std::set<std::string> warehouses, dealers, stores, skus;

  // nullopt: the command is accepted (and applied to the model); otherwise the expected error.
  std::optional<ledger::ErrorCode> apply(const ledger::CommandBody& body, std::int64_t now_us);
  // What the writer does at the start of a batch: expire reservations whose deadline has passed.
  void expire_due(std::int64_t now_us);

  std::int64_t available(const std::string& location, const std::string& sku) const;
  ledger::Balance balance(const std::string& location, const std::string& sku) const;
  // (location, sku) pairs changed since the last call, and forgets them.
  std::vector<std::pair<std::string, std::string>> take_touched();
  // Non-zero balances as sorted "location sku on_hand reserved" lines.
  std::string render_balances() const;

  struct Transfer {
    std::string from, to;
    std::vector<ledger::StockLineInput> lines;
    bool received = false;
  };
  struct Reservation {
    std::string from, to;
    std::vector<ledger::StockLineInput> lines;
    std::int64_t deadline_us = 0;
    bool pending = true;
  };
  std::map<std::string, Transfer> transfers;
  std::map<std::string, Reservation> reservations;

 private:
  bool location_exists(const std::string& location) const;
  std::optional<ledger::ErrorCode> check_lines(const std::vector<ledger::StockLineInput>& lines) const;
  bool covers(const std::string& location, const std::vector<ledger::StockLineInput>& lines) const;
  void add(const std::string& location, const std::string& sku, std::int64_t on_hand, std::int64_t reserved);
  void release(Reservation& r);

  std::unordered_map<std::string, ledger::Balance> balances_;  // key: location + '|' + sku
  std::set<std::pair<std::string, std::string>> touched_;
};

// The order invariants, checked on the engine's own state (orders have no reference model: the
// matcher is not written twice). Per order and SKU: 0 <= returned <= delivered <= shipped and
// held + shipped <= ordered; what the order holds is exactly what its pending reservations hold;
// transit:order.ID carries exactly shipped - delivered; an ended order holds nothing, has no
// milestones and (cancelled or rejected) shipped nothing. Across orders: presale quota sold and
// dealer credit used are the sums over the orders that still count; every backorder and every
// milestone names a live order that still waits for it. Empty when all hold, else the first
// violation as a sentence.
std::string order_invariant_violation(const ledger::LedgerState& state);

// ---- members and marketing: the rules of ledger/marketing.hpp written again, plainly.

// What the model knows of a coupon, a campaign and a member account when it predicts an order.
struct CouponView {
  std::string campaign, member;
  std::string order;  // empty while free
  std::int64_t discount_cents = 0;
};
struct CampaignView {
  ledger::CreateCampaign terms;
  std::int64_t redemptions = 0, discount_cents = 0;  // the budget used
};
struct AccountView {
  std::string tier = "standard";
  std::int64_t usable_points = 0;                   // lots not expired
  std::map<std::string, std::int64_t> redemptions;  // campaign -> coupons redeemed
};

// A predicted PlaceOrder's redemption: the refusal (code, the "reason" detail and the "coupon" it
// names, both empty when there is none), or the coupons applied in stacking order with their discounts.
struct RedemptionPrediction {
  std::optional<ledger::ErrorCode> error;
  std::string reason, coupon;
  struct Applied {
    std::string code, campaign;
    std::int64_t discount_cents = 0;
  };
  std::vector<Applied> applied;
  std::int64_t discount_cents = 0;
  std::int32_t multiplier_permille = 1000;
};

// Discounts of `coupons` (code -> its campaign's terms) on the lines: stacking, rounding, spreading.
RedemptionPrediction predict_discounts(
    const std::vector<ledger::OrderLineInput>& lines,
    const std::vector<std::pair<std::string, const ledger::CreateCampaign*>>& coupons);

// The redemption an order makes, checked in the writer's order: per coupon in the order's list
// (listed twice, unknown, another member's, redeemed, not valid now, out of scope, one per campaign,
// per-member limit), then the discounts, then the budgets in stacking order, then the points.
// `store_dealer` maps a store id to its dealer (dealer-issued campaigns cover the dealer's stores).
RedemptionPrediction predict_redemption(const ledger::PlaceOrder& order,
                                        const std::function<const CouponView*(const std::string&)>& coupon,
                                        const std::function<const CampaignView*(const std::string&)>& campaign,
                                        const AccountView& account,
                                        const std::function<std::string(const std::string&)>& store_dealer,
                                        std::int64_t now_us);

// The marketing invariants on the engine's own state at `now_us` (after the writer's clock ran):
// - campaigns: never over budget; redemptions and discount_cents are the count and sum over the
//   coupons redeemed on orders; coupons_issued counts its coupons, numbered ID-000001 on.
// - coupons: a redeemed coupon's order exists, is its member's and lists the code; every order that
//   lists a code holds it unless the order gave its coupons back (cancelled, rejected or wholly
//   returned, campaign restore_on_cancel); so no coupon is redeemed on two orders.
// - orders: total_cents = sum of qty x unit price; 0 <= discount <= total; discount = the sum of its
//   coupons' discounts while it holds them all; at most one coupon per campaign.
// - points: every account's points >= 0 and the sum of its lots (each > 0, by expiry), none expired,
//   nothing due; its tier is what its rolling spend says; redemptions per campaign are its coupons'.
// - OrderMarketing: 0 <= points_spent <= total - discount; refunded exactly when the order gave back
//   and spent some; spend_cents and (unless a return was capped at the balance) points_earned are
//   what its delivered and kept units are worth.
// Empty when all hold, else the first violation as a sentence.
std::string marketing_invariant_violation(const ledger::LedgerState& state, std::int64_t now_us);

}  // namespace test

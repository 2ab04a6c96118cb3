// Members and marketing as the fold keeps them: campaigns with their budgets, coupons, members'
// points (a ledger of expiring lots, never below zero) and tiers, and what each member order
// redeemed, spent and earned. The rules that turn an order into discounts and points are pure
// functions here, so the writer, the tests and the benchmarks compute them the same way.
//
// Money rules (all integer fen, deterministic):
// - An order's total_cents is the sum of its lines' qty x unit_price_cents; its discount_cents is the
//   sum of its coupons' discounts; it owes total - discount, of which `points` are paid in points
//   (1 point = 1 fen). Nothing is ever below zero.
// - Stacking: the order's coupons are applied in the order spend_x_save_y, percent_off, amount_off,
//   points_multiplier (by code within a kind), each on what the lines in its SKU scope are still worth
//   after the coupons before it. At most one coupon per campaign per order.
//   - spend_x_save_y: the highest tier whose threshold the eligible amount reaches saves its save_cents.
//   - percent_off: floor(eligible x bp / 10000): rounding is down, never a fraction of a fen more.
//   - amount_off: its amount, at most the eligible amount.
//   - points_multiplier: no discount; the order earns points x permille / 1000 (the highest one).
//   A discount is spread over the eligible lines in proportion to their value (floored), the fen
//   left over going one each to the eligible lines in line order.
// - Points: a delivery earns floor(paid / 100) points (1 point per yuan paid in money), times the
//   multiplier, where paid is the delivered units' share of total - discount - points. They expire
//   points_validity_us after they were earned; spending takes the lots that expire first. A return
//   takes back what its units earned (at most the balance); a cancelled, rejected or wholly returned
//   order gives back the points spent on it with the expiry they had (so a cancel never renews them;
//   those that expired meanwhile stay gone).
// - Tiers come from the member's spend (total - discount of what was delivered and kept) over the
//   last tier_window_us: standard, silver, gold, platinum (tier_thresholds_cents). A return takes
//   its spend out of the order's own deliveries still in the window, the latest first: spend that
//   has left the window is gone already, and a return never lowers what other orders count.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/commands.hpp"
#include "ledger/result.hpp"

namespace ledger {

// Points are good for a year from when they were earned; tiers look back a year.
inline constexpr std::int64_t points_validity_us = 365LL * 86'400 * 1'000'000;
inline constexpr std::int64_t tier_window_us = 365LL * 86'400 * 1'000'000;
inline constexpr std::array<const char*, 4> tier_names = {"standard", "silver", "gold", "platinum"};
// Rolling 12-month spend that reaches each tier: 2,000 / 10,000 / 50,000 yuan.
inline constexpr std::array<std::int64_t, 4> tier_thresholds_cents = {0, 200'000, 1'000'000, 5'000'000};
// Bounds. A campaign id leaves room for the coupon number in a code (codes are ids, <= 64 bytes).
inline constexpr std::size_t campaign_id_bytes_max = 48;
inline constexpr std::int32_t coupons_per_command_max = 1000;         // one answer lists the codes
inline constexpr std::int64_t coupons_per_campaign_max = 10'000'000;  // 10x the members
inline constexpr std::size_t coupons_per_order_max = 16;              // a basket, not a wallet
inline constexpr std::size_t spend_tiers_max = 8;
inline constexpr std::size_t scope_entries_max = 512;                   // every SKU of the catalogue
inline constexpr std::size_t price_changes_per_command_max = 2000;      // a catalogue at three levels, and more
inline constexpr std::int32_t points_multiplier_permille_max = 10'000;  // 10x

const char* campaign_kind_name(CampaignKind kind);
bool campaign_kind_from_name(std::string_view name, CampaignKind& out);
const char* price_level_name(PriceLevel level);
bool price_level_from_name(std::string_view name, PriceLevel& out);
bool is_tier(std::string_view name);
// The tier a rolling spend reaches.
const char* tier_for_spend(std::int64_t spend_cents);

// The records below are kept in LedgerState and written to snapshots by engine/src/state_codec.cpp:
// a member added to one must be encoded there too (and ledger_state_snapshot_version bumped).

struct CampaignRecord {
  CreateCampaign terms;             // as created
  std::int64_t redemptions = 0;     // coupons redeemed and not given back
  std::int64_t discount_cents = 0;  // their discounts: the budget used
  std::int64_t coupons_issued = 0;
};

struct CouponRecord {
  std::string campaign, member;
  std::string order;                // the order it is redeemed on; empty while free
  std::int64_t discount_cents = 0;  // what it took off that order
};

struct PointsLot {
  std::int64_t expires_at_us = 0;
  std::int64_t points = 0;
};
struct SpendEntry {
  std::int64_t at_us = 0;
  std::int64_t cents = 0;  // what a delivery of `order` counted, less what returns took back (> 0)
  std::string order;
};

struct MemberAccount {
  std::int64_t points = 0;      // the sum of the lots: never below zero
  std::vector<PointsLot> lots;  // by expiry, earliest first
  std::string tier = "standard";
  std::vector<SpendEntry> spend;     // within tier_window_us of the member's last event, oldest first
  std::vector<std::string> coupons;  // codes issued to the member, in order
  std::map<std::string, std::int64_t, std::less<>> redemptions;  // campaign -> coupons redeemed
  std::int64_t due_us = 0;  // when the clock next changes the account (an expiry or a tier drop); 0: never
};

struct OrderMarketing {  // a member order's points and spend, so returns and cancels can undo them
  std::string member;
  std::int64_t points_spent = 0, points_earned = 0, spend_cents = 0;
  bool points_refunded = false;
  std::vector<PointsLot> spent_lots;  // the lots its points came from: a refund gives them back as they were
};

struct MarketingState {
  std::map<std::string, CampaignRecord, std::less<>> campaigns;
  std::map<std::string, CouponRecord, std::less<>> coupons;
  std::map<std::string, MemberAccount, std::less<>> members;
  std::map<std::string, OrderMarketing, std::less<>> orders;
  std::int32_t price_alert_threshold_bp = 1000;  // PricePolicySet
  bool reject_below_floor = false;
};

// ---- pure rules

// The usable points of an account at `now_us` (lots not yet expired).
std::int64_t usable_points(const MemberAccount& account, std::int64_t now_us);
// Spend within the tier window ending at `now_us`.
std::int64_t rolling_spend(const MemberAccount& account, std::int64_t now_us);
// The part of it that `order`'s deliveries counted: the most a return of that order takes out of it.
std::int64_t order_spend_in_window(const MemberAccount& account, std::string_view order, std::int64_t now_us);
// When the clock next changes the account after `now_us`: the first lot expiry, or the moment old
// spend leaves the window and the tier falls. 0 when nothing will.
std::int64_t next_due_us(const MemberAccount& account, std::int64_t now_us);

struct DiscountLine {
  std::string sku;
  std::int64_t value_cents = 0;  // qty x unit price, then less each discount spread on it
};
struct CouponDiscount {
  std::string code, campaign;
  std::int64_t discount_cents = 0;
};
struct Discounts {
  std::vector<CouponDiscount> coupons;  // in the order applied
  std::int64_t discount_cents = 0;
  std::int32_t points_multiplier_permille = 1000;
  std::vector<DiscountLine> lines;  // what each line is worth after all of them
};
struct CouponToApply {
  std::string code;
  const CreateCampaign* terms = nullptr;
};
// Applies the coupons to the lines (see the stacking rules above). A spend_x_save_y coupon whose
// lowest threshold is not reached, or a coupon with no line in its SKU scope, is an error naming it.
Result<Discounts> compute_discounts(const std::vector<OrderLineInput>& lines, std::vector<CouponToApply> coupons);

// What of some spent lots a refund at `now_us` gives back: the lots not yet expired (the others would
// have expired meanwhile), their points and the latest expiry among them (what PointsRefunded names).
struct Refund {
  std::vector<PointsLot> lots;
  std::int64_t points = 0, latest_expiry_us = 0;
};
Refund refundable(const std::vector<PointsLot>& spent_lots, std::int64_t now_us);
// Points a delivery earns: floor(paid / 100) x multiplier / 1000.
std::int64_t points_for_paid(std::int64_t paid_cents, std::int32_t multiplier_permille);
// value x numerator / denominator, floored, without overflow (denominator > 0).
std::int64_t pro_rata(std::int64_t value, std::int64_t numerator, std::int64_t denominator);

}  // namespace ledger

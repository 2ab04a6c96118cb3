// Members and marketing: one case per rule of ledger/marketing.hpp, each figure worked out by hand
// in a comment beside it. Read top to bottom, this is the documentation of how coupons take money
// off a member's order (each kind, the stacking order, the rounding, the spread over lines), when a
// coupon is refused (and that a refusal writes nothing), what cancels and returns give back, how
// points are earned, spent, reversed, refunded and expire, how tiers follow the rolling spend, and
// the dealers' payments, credit limits and price changes that came with them.
//
// The shop: store S1 (of dealer D1, region R1) sells to members M1 and M2 on channel "store".
// SKU A retails at 100,000 fen (floor 90,000), B at 30,000 (floor 27,000).
#include <limits>

#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;
constexpr std::int64_t year_us = 365 * day_us;
static_assert(year_us == points_validity_us && year_us == tier_window_us);

// small_network() plus region R2, dealer D2 in R2, members M1 and M2 of store S1, and stock at S1:
// 40 of A and of B, received at W1 and moved down (60 of each stay at W1 for hq's orders).
void shop(Harness& h) {
  h.small_network();
  h.ok(DefineRegion{"R2", "West"});
  h.ok(DefineDealer{"D2", "Dealer two", "R2", {"R2"}, 1'000'000});
  h.ok(DefineMember{"M1", "Member one", "S1"});
  h.ok(DefineMember{"M2", "Member two", "S1"});
  h.ok(ReceiveStock{"W1", {{"A", 100, {}}, {"B", 100, {}}}, "BATCH-1"});
  h.ok(ShipTransfer{"T-S1", "warehouse:W1", "store:S1", {{"A", 40, {}}, {"B", 40, {}}}});
  h.ok(ReceiveTransfer{"T-S1"});
}

// A campaign of hq, open from a day before t0 for three years, no scope, no budget.
CreateCampaign offer(std::string id, CampaignKind kind) {
  CreateCampaign c;
  c.id = std::move(id);
  c.issuer = "hq";
  c.kind = kind;
  c.valid_from_us = test::t0_us - day_us;
  c.valid_to_us = test::t0_us + 3 * year_us;
  return c;
}
CreateCampaign amount_off(std::string id, std::int64_t cents) {
  CreateCampaign c = offer(std::move(id), CampaignKind::amount_off);
  c.amount_off_cents = cents;
  return c;
}
CreateCampaign percent_off(std::string id, std::int32_t bp) {
  CreateCampaign c = offer(std::move(id), CampaignKind::percent_off);
  c.percent_off_bp = bp;
  return c;
}
CreateCampaign spend_save(std::string id, std::vector<SpendTierInput> tiers) {
  CreateCampaign c = offer(std::move(id), CampaignKind::spend_x_save_y);
  c.tiers = std::move(tiers);
  return c;
}
CreateCampaign multiplier(std::string id, std::int32_t permille) {
  CreateCampaign c = offer(std::move(id), CampaignKind::points_multiplier);
  c.points_multiplier_permille = permille;
  return c;
}

// Issues one coupon of `campaign` to `member` and answers its code (CAMPAIGN-000001, -000002, ...).
std::string coupon(Harness& h, const std::string& campaign, const std::string& member = "M1") {
  h.ok(IssueCoupons{campaign, member, 1});
  std::string code;
  h.engine->inspect([&](const LedgerState& s) { code = s.member_account(member)->coupons.back(); });
  return code;
}

// A spot sale by store S1 to member M1 on channel "store", shipped within R1, promised in three days.
PlaceOrder sale(Harness& h, std::string id, std::vector<OrderLineInput> lines, std::vector<std::string> coupons = {},
                std::int64_t points = 0) {
  PlaceOrder o;
  o.id = std::move(id);
  o.buyer = "member:M1";
  o.seller = "store:S1";
  o.channel = "store";
  o.ship_to_region = "R1";
  o.lines = std::move(lines);
  o.coupons = std::move(coupons);
  o.points = points;
  o.promised_by_us = h.clock->now_us() + 3 * day_us;
  return o;
}
PlaceOrder by(const std::string& member, PlaceOrder o) {
  o.buyer = "member:" + member;
  return o;
}

// Ships everything the order holds and delivers it; answers the delivery.
CommandOutcome deliver(Harness& h, const std::string& id) {
  h.ok(ShipOrder{id, {}});
  return h.ok(DeliverOrder{id});
}

// Runs a batch that changes nothing (R1 redefined as it is): the clock's work runs at its start.
void tick(Harness& h) { h.ok(DefineRegion{"R1", "East"}); }

OrderRecord order(Harness& h, const std::string& id) {
  OrderRecord out;
  h.engine->inspect([&](const LedgerState& s) {
    const OrderRecord* o = s.order(id);
    REQUIRE(o != nullptr);
    out = *o;
  });
  return out;
}
CouponRecord coupon_record(Harness& h, const std::string& code) {
  CouponRecord out;
  h.engine->inspect([&](const LedgerState& s) {
    REQUIRE(s.coupon(code) != nullptr);
    out = *s.coupon(code);
  });
  return out;
}
CampaignRecord campaign(Harness& h, const std::string& id) {
  CampaignRecord out;
  h.engine->inspect([&](const LedgerState& s) {
    REQUIRE(s.campaign(id) != nullptr);
    out = *s.campaign(id);
  });
  return out;
}
MemberAccount account(Harness& h, const std::string& member = "M1") {
  MemberAccount out;
  h.engine->inspect([&](const LedgerState& s) {
    if (const MemberAccount* a = s.member_account(member)) out = *a;
  });
  return out;
}
std::int64_t points(Harness& h, const std::string& member = "M1") { return account(h, member).points; }
std::string lots(Harness& h) {
  std::string out;
  for (const auto& lot : account(h).lots)
    out += fmt::format("{}@t0+{}d;", lot.points, (lot.expires_at_us - test::t0_us) / day_us);
  return out;
}
DealerAccount dealer_account(Harness& h, const std::string& dealer) {
  DealerAccount out;
  h.engine->inspect([&](const LedgerState& s) { out = s.dealer_account(dealer); });
  return out;
}

std::string detail(const Error& e, std::string_view key) {
  for (const auto& d : e.details) {
    if (d.key == key && std::holds_alternative<std::string>(d.value)) return std::get<std::string>(d.value);
  }
  return {};
}

// What the log says, one line an event: compared whole, printed whole when a check fails.
struct Said {
  std::vector<std::string> lines;
  Said() = default;
  Said(std::initializer_list<std::string> l) : lines(l) {}
  bool operator==(const Said&) const = default;
};

// The marketing events of seq from..to (and OrderPlaced, with its money), one line each; other
// events (stock, reservations, the order's other steps) are left out.
Said said(Harness& h, std::uint64_t from, std::uint64_t to = std::numeric_limits<std::uint64_t>::max()) {
  std::vector<std::string> out;
  auto validity = [](std::int64_t expires_at_us, std::int64_t ts_us) { return (expires_at_us - ts_us) / day_us; };
  auto st =
      h.engine->read_events(from, std::numeric_limits<std::size_t>::max(), [&](const fb::Event& e, const Hash32&) {
        if (e.seq() > to) return false;
        switch (e.body_type()) {
          case fb::Body::OrderPlaced: {
            auto* b = e.body_as_OrderPlaced();
            std::vector<std::string> coupons;
            for (const auto* c : *b->coupons()) coupons.push_back(c->str());
            out.push_back(fmt::format("OrderPlaced {} total={} discount={} coupons=[{}]", b->id()->str(),
                                      b->total_cents(), b->discount_cents(), fmt::join(coupons, ",")));
            break;
          }
          case fb::Body::CouponRedeemed: {
            auto* b = e.body_as_CouponRedeemed();
            out.push_back(
                fmt::format("CouponRedeemed {} {} {}", b->code()->str(), b->order()->str(), b->discount_cents()));
            break;
          }
          case fb::Body::CouponRestored: {
            auto* b = e.body_as_CouponRestored();
            out.push_back(fmt::format("CouponRestored {} {}", b->code()->str(), b->order()->str()));
            break;
          }
          case fb::Body::PointsEarned: {
            auto* b = e.body_as_PointsEarned();
            out.push_back(fmt::format("PointsEarned {} {} {} spend={} for {}d", b->member()->str(), b->points(),
                                      b->order()->str(), b->spend_cents(), validity(b->expires_at_us(), e.ts_us())));
            break;
          }
          case fb::Body::PointsSpent: {
            auto* b = e.body_as_PointsSpent();
            out.push_back(fmt::format("PointsSpent {} {} {}", b->member()->str(), b->points(), b->order()->str()));
            break;
          }
          case fb::Body::PointsReversed: {
            auto* b = e.body_as_PointsReversed();
            out.push_back(fmt::format("PointsReversed {} {} {} spend={}", b->member()->str(), b->points(),
                                      b->order()->str(), b->spend_cents()));
            break;
          }
          case fb::Body::PointsRefunded: {
            auto* b = e.body_as_PointsRefunded();
            out.push_back(fmt::format("PointsRefunded {} {} {} for {}d", b->member()->str(), b->points(),
                                      b->order()->str(), validity(b->expires_at_us(), e.ts_us())));
            break;
          }
          case fb::Body::PointsExpired: {
            auto* b = e.body_as_PointsExpired();
            out.push_back(fmt::format("PointsExpired {} {}", b->member()->str(), b->points()));
            break;
          }
          case fb::Body::MemberTierChanged: {
            auto* b = e.body_as_MemberTierChanged();
            out.push_back(
                fmt::format("MemberTierChanged {} {}->{}", b->member()->str(), b->previous()->str(), b->tier()->str()));
            break;
          }
          case fb::Body::PriceChanged: {
            auto* b = e.body_as_PriceChanged();
            out.push_back(fmt::format("PriceChanged {} {} {}->{}", b->sku()->str(),
                                      price_level_name(static_cast<PriceLevel>(b->level())), b->previous_cents(),
                                      b->price_cents()));
            break;
          }
          case fb::Body::PaymentReceived: {
            auto* b = e.body_as_PaymentReceived();
            out.push_back(fmt::format("PaymentReceived {} {}", b->dealer()->str(), b->amount_cents()));
            break;
          }
          case fb::Body::CreditLimitChanged: {
            auto* b = e.body_as_CreditLimitChanged();
            out.push_back(fmt::format("CreditLimitChanged {} {}", b->dealer()->str(), b->credit_limit_cents()));
            break;
          }
          default: break;
        }
        return true;
      });
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().to_string()));
  Said result;
  result.lines = std::move(out);
  return result;
}
// What one command wrote.
Said said(Harness& h, const CommandOutcome& out) { return said(h, out.first_seq, out.last_seq); }

// Places `o`, which must be refused as a rule_violation for `reason` and change nothing at all.
Error refused(Harness& h, const PlaceOrder& o, std::string_view reason) {
  std::string before = h.render();
  Error e = h.rejected(o, ErrorCode::rule_violation);
  CHECK(detail(e, "reason") == reason);
  CHECK(h.render() == before);
  return e;
}

}  // namespace

template <>
struct doctest::StringMaker<Said> {
  static doctest::String convert(const Said& s) { return fmt::format("[{}]", fmt::join(s.lines, " | ")).c_str(); }
};

TEST_SUITE_BEGIN("marketing");

// ---- the kinds of campaign

TEST_CASE("amount_off takes its amount off the order, at most what the goods in its scope are worth") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  h.ok(amount_off("BIG", 50'000));
  // B x2 at 30,000 = 60,000; 10,000 off: the member owes 50,000.
  auto placed = h.ok(sale(h, "O1", {{"B", 2, 30'000}}, {coupon(h, "TEN")}));
  CHECK(said(h, placed) ==
        Said{"OrderPlaced O1 total=60000 discount=10000 coupons=[TEN-000001]", "CouponRedeemed TEN-000001 O1 10000"});
  // B x1 at 30,000: 50,000 off is capped at the 30,000 the goods are worth; the member owes nothing.
  placed = h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {coupon(h, "BIG")}));
  CHECK(said(h, placed) ==
        Said{"OrderPlaced O2 total=30000 discount=30000 coupons=[BIG-000001]", "CouponRedeemed BIG-000001 O2 30000"});
  // Nothing paid in money earns no points and counts no spend: the delivery says nothing of points.
  CHECK(said(h, deliver(h, "O2")) == Said{});
  CHECK(points(h) == 0);
  h.check_invariants();
}

TEST_CASE("percent_off rounds down to the fen: 15% of 33,333 fen is 4,999, never 5,000") {
  Harness h;
  shop(h);
  h.ok(percent_off("P15", 1500));
  // 33,333 x 1,500 / 10,000 = 4,999.95 -> 4,999 off; the member owes 28,334.
  auto placed = h.ok(sale(h, "O1", {{"B", 1, 33'333}}, {coupon(h, "P15")}));
  CHECK(said(h, placed) ==
        Said{"OrderPlaced O1 total=33333 discount=4999 coupons=[P15-000001]", "CouponRedeemed P15-000001 O1 4999"});
  // Paid 28,334 fen = 283.34 yuan -> 283 points, and 28,334 of spend.
  CHECK(said(h, deliver(h, "O1")) == Said{"PointsEarned M1 283 O1 spend=28334 for 365d"});
  h.check_invariants();
}

TEST_CASE("spend_x_save_y saves the amount of the highest tier reached; below the lowest it is refused") {
  Harness h;
  shop(h);
  h.ok(spend_save("SPEND", {{100'000, 10'000}, {200'000, 25'000}, {300'000, 40'000}}));
  std::string first = coupon(h, "SPEND");
  // B x3 at 30,000 = 90,000: short of the 100,000 of the lowest tier.
  auto e = refused(h, sale(h, "O0", {{"B", 3, 30'000}}, {first}), "threshold_not_reached");
  CHECK(detail(e, "coupon") == first);
  // Exactly 100,000 reaches the first tier (the refusal left the coupon free): 10,000 off.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}, {first}));
  CHECK(order(h, "O1").discount_cents == 10'000);
  // A x2 + B x1 = 230,000: past 200,000, short of 300,000: 25,000 off.
  h.ok(sale(h, "O2", {{"A", 2, 100'000}, {"B", 1, 30'000}}, {coupon(h, "SPEND")}));
  CHECK(order(h, "O2").discount_cents == 25'000);
  // A x3 = 300,000: the top tier, 40,000 off.
  h.ok(sale(h, "O3", {{"A", 3, 100'000}}, {coupon(h, "SPEND")}));
  CHECK(order(h, "O3").discount_cents == 40'000);
  CHECK(campaign(h, "SPEND").discount_cents == 75'000);  // 10,000 + 25,000 + 40,000
  h.check_invariants();
}

TEST_CASE("points_multiplier takes nothing off and multiplies the points the delivery earns") {
  Harness h;
  shop(h);
  h.ok(multiplier("DOUBLE", 2000));
  // Without it, B x3 at 30,000: 90,000 fen paid = 900 yuan earns 900 points.
  h.ok(sale(h, "O1", {{"B", 3, 30'000}}));
  CHECK(said(h, deliver(h, "O1")) == Said{"PointsEarned M1 900 O1 spend=90000 for 365d"});
  // With it, the coupon is redeemed for 0 fen and the same order earns 900 x 2,000 / 1,000 = 1,800.
  auto placed = h.ok(sale(h, "O2", {{"B", 3, 30'000}}, {coupon(h, "DOUBLE")}));
  CHECK(said(h, placed) ==
        Said{"OrderPlaced O2 total=90000 discount=0 coupons=[DOUBLE-000001]", "CouponRedeemed DOUBLE-000001 O2 0"});
  CHECK(said(h, deliver(h, "O2")) == Said{"PointsEarned M1 1800 O2 spend=90000 for 365d"});
  CHECK(points(h) == 2700);
  h.check_invariants();
}

// ---- stacking

TEST_CASE("coupons stack as spend_x_save_y, then percent_off, then amount_off, each on what is left") {
  Harness h;
  shop(h);
  h.ok(spend_save("SXY", {{100'000, 10'000}}));
  h.ok(percent_off("PCT", 1000));
  h.ok(amount_off("AMT", 5'000));
  // Listed in any order, applied in the stacking order. A 100,000 + B 30,000 = 130,000:
  //   spend_x_save_y: 130,000 reaches 100,000 -> 10,000 off, 120,000 left
  //   percent_off:    10% of 120,000 = 12,000 off, 108,000 left (10% first would have been 13,000)
  //   amount_off:     5,000 off, 103,000 left
  // The order's discount is the sum of its coupons', 27,000; its total stays what its lines are worth.
  auto placed = h.ok(
      sale(h, "O1", {{"A", 1, 100'000}, {"B", 1, 30'000}}, {coupon(h, "AMT"), coupon(h, "PCT"), coupon(h, "SXY")}));
  CHECK(said(h, placed) == Said{"OrderPlaced O1 total=130000 discount=27000 coupons=[SXY-000001,PCT-000001,AMT-000001]",
                                "CouponRedeemed SXY-000001 O1 10000", "CouponRedeemed PCT-000001 O1 12000",
                                "CouponRedeemed AMT-000001 O1 5000"});
  CHECK(order(h, "O1").total_cents == 130'000);
  CHECK(order(h, "O1").discount_cents == 27'000);
  h.check_invariants();
}

TEST_CASE("a SKU-scoped coupon touches only its lines, which carry their share of the discounts before it") {
  Harness h;
  shop(h);
  h.ok(percent_off("PCT", 1000));
  CreateCampaign b_only = amount_off("B-OFF", 30'000);
  b_only.scope.skus = {"B"};
  h.ok(b_only);
  // 10% of A 100,000 + B 30,000 = 13,000, spread 10,000 on A and 3,000 on B: B is worth 27,000 now.
  // B-OFF sees only B: 30,000 off is capped at those 27,000. Discount 13,000 + 27,000 = 40,000.
  auto placed = h.ok(sale(h, "O1", {{"A", 1, 100'000}, {"B", 1, 30'000}}, {coupon(h, "PCT"), coupon(h, "B-OFF")}));
  CHECK(said(h, placed) == Said{"OrderPlaced O1 total=130000 discount=40000 coupons=[PCT-000001,B-OFF-000001]",
                                "CouponRedeemed PCT-000001 O1 13000", "CouponRedeemed B-OFF-000001 O1 27000"});
  // A coupon for B on an order without B applies to nothing: refused.
  refused(h, sale(h, "O2", {{"A", 1, 100'000}}, {coupon(h, "B-OFF")}), "out_of_scope");
  h.check_invariants();
}

TEST_CASE(
    "a discount is spread over its lines in proportion to their value, the fen left over one each in line order") {
  CreateCampaign ten = amount_off("TEN", 10'000);
  // 10,000 over A 100,000 and B 30,000: 10,000 x 100/130 = 7,692.3 -> 7,692 and 10,000 x 30/130 =
  // 2,307.7 -> 2,307; the 1 fen left goes to the first line: A 100,000 - 7,693, B 30,000 - 2,307.
  auto d = compute_discounts({{"A", 1, 100'000}, {"B", 1, 30'000}}, {{"TEN-000001", &ten}});
  REQUIRE(d.ok());
  CHECK(d->discount_cents == 10'000);
  REQUIRE(d->lines.size() == 2);
  CHECK(d->lines[0].value_cents == 92'307);
  CHECK(d->lines[1].value_cents == 27'693);
  // 2 fen over three lines of 1 fen: each share floors to 0; the 2 left go to the first two lines.
  CreateCampaign two = amount_off("TWO", 2);
  auto tiny = compute_discounts({{"A", 1, 1}, {"B", 1, 1}, {"A", 1, 1}}, {{"TWO-000001", &two}});
  REQUIRE(tiny.ok());
  CHECK(tiny->lines[0].value_cents == 0);
  CHECK(tiny->lines[1].value_cents == 0);
  CHECK(tiny->lines[2].value_cents == 1);
}

// ---- campaigns and coupons

TEST_CASE("a campaign's terms are checked when it is created; coupons are numbered and go to members that exist") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  h.rejected(amount_off("TEN", 5'000), ErrorCode::already_exists);
  CreateCampaign c = amount_off("BAD", 10'000);
  c.issuer = "store:S9";
  h.rejected(c, ErrorCode::unknown_id);
  h.rejected(amount_off("BAD", 0), ErrorCode::invalid_argument);
  h.rejected(percent_off("BAD", 10'001), ErrorCode::invalid_argument);                                 // over 100%
  h.rejected(spend_save("BAD", {{200'000, 25'000}, {100'000, 10'000}}), ErrorCode::invalid_argument);  // descending
  h.rejected(spend_save("BAD", {{100'000, 100'001}}), ErrorCode::invalid_argument);  // saves more than the threshold
  h.rejected(multiplier("BAD", 1000), ErrorCode::invalid_argument);                  // x1 is no offer
  c = amount_off("BAD", 1'000);
  c.scope.skus = {"C"};
  h.rejected(c, ErrorCode::unknown_id);
  c.scope = {};
  c.scope.tiers = {"bronze"};
  h.rejected(c, ErrorCode::invalid_argument);
  c = amount_off("BAD", 1'000);
  c.valid_to_us = c.valid_from_us;
  h.rejected(c, ErrorCode::invalid_argument);
  h.rejected(IssueCoupons{"TEN", "M9", 1}, ErrorCode::unknown_id);
  h.rejected(IssueCoupons{"NOPE", "M1", 1}, ErrorCode::unknown_id);
  h.rejected(IssueCoupons{"TEN", "M1", 0}, ErrorCode::invalid_argument);
  h.ok(IssueCoupons{"TEN", "M1", 3});
  h.ok(IssueCoupons{"TEN", "M2", 1});
  CHECK(account(h).coupons == std::vector<std::string>{"TEN-000001", "TEN-000002", "TEN-000003"});
  CHECK(account(h, "M2").coupons == std::vector<std::string>{"TEN-000004"});
  CHECK(campaign(h, "TEN").coupons_issued == 4);
  h.check_invariants();
}

// ---- refusals: each is a rule_violation naming the coupon and a reason, and writes nothing

TEST_CASE("a coupon never issued, another member's, or redeemed already is refused; and only members redeem") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  refused(h, sale(h, "O1", {{"B", 1, 30'000}}, {"TEN-999999"}), "unknown_coupon");
  refused(h, sale(h, "O1", {{"B", 1, 30'000}}, {coupon(h, "TEN", "M2")}), "not_yours");
  std::string mine = coupon(h, "TEN");
  h.ok(sale(h, "O1", {{"B", 1, 30'000}}, {mine}));
  auto e = refused(h, sale(h, "O2", {{"B", 1, 30'000}}, {mine}), "already_redeemed");
  CHECK(e.message.find("O1") != std::string::npos);
  // A store buying from its dealer is no member: no coupons, no points.
  PlaceOrder store_buys = sale(h, "O3", {{"B", 1, 25'000}}, {coupon(h, "TEN")});
  store_buys.buyer = "store:S1";
  store_buys.seller = "dealer:D1";
  store_buys.channel = "dealer_storefront";
  refused(h, store_buys, "not_a_member");
  store_buys.coupons.clear();
  store_buys.points = 100;
  refused(h, store_buys, "not_a_member");
  h.check_invariants();
}

TEST_CASE("a coupon is redeemed inside its campaign's window only: from valid_from, up to (not at) valid_to") {
  Harness h;
  shop(h);
  CreateCampaign later = amount_off("LATER", 1'000);
  later.valid_from_us = test::t0_us + day_us;
  CreateCampaign ending = amount_off("ENDING", 1'000);
  ending.valid_to_us = test::t0_us + day_us;
  h.ok(later);
  h.ok(ending);
  std::string later_code = coupon(h, "LATER"), ending_code = coupon(h, "ENDING");
  refused(h, sale(h, "O1", {{"B", 1, 30'000}}, {later_code}), "not_valid_now");
  h.clock->set_us(test::t0_us + day_us);
  h.ok(sale(h, "O1", {{"B", 1, 30'000}}, {later_code}));
  refused(h, sale(h, "O2", {{"B", 1, 30'000}}, {ending_code}), "not_valid_now");
  // An ended campaign issues no more coupons.
  h.rejected(IssueCoupons{"ENDING", "M1", 1}, ErrorCode::illegal_transition);
  h.check_invariants();
}

TEST_CASE("a campaign covers its issuer's sales only, and only the regions, channels and tiers of its scope") {
  Harness h;
  shop(h);
  auto out_of_scope = [&](CreateCampaign c) {
    h.ok(c);
    refused(h, sale(h, "O-" + c.id, {{"B", 1, 30'000}}, {coupon(h, c.id)}), "out_of_scope");
  };
  // The issuer: a region's campaign is for orders shipped there, a dealer's for its own and its
  // stores' sales, a store's for its own. S1 (of D1) sells, shipping to R1.
  CreateCampaign c = amount_off("REGION-R2", 1'000);
  c.issuer = "region:R2";
  out_of_scope(c);
  c = amount_off("DEALER-D2", 1'000);
  c.issuer = "dealer:D2";
  out_of_scope(c);
  c = amount_off("STORE-S2", 1'000);
  c.issuer = "store:S2";
  out_of_scope(c);
  // The scope: regions shipped to, channels, the member's tier (M1 is standard).
  c = amount_off("IN-R2", 1'000);
  c.scope.regions = {"R2"};
  out_of_scope(c);
  c = amount_off("O2O", 1'000);
  c.scope.channels = {"o2o"};
  out_of_scope(c);
  c = amount_off("GOLD", 1'000);
  c.scope.tiers = {"gold"};
  out_of_scope(c);
  // Campaigns of R1, of D1 and of S1 itself all cover the sale: 1,000 off each.
  for (std::string issuer : {"region:R1", "dealer:D1", "store:S1"}) {
    c = amount_off(fmt::format("BY-{}", issuer.substr(issuer.find(':') + 1)), 1'000);
    c.issuer = issuer;
    h.ok(c);
  }
  h.ok(sale(h, "O1", {{"B", 1, 30'000}}, {coupon(h, "BY-R1"), coupon(h, "BY-D1"), coupon(h, "BY-S1")}));
  CHECK(order(h, "O1").discount_cents == 3'000);
  h.check_invariants();
}

TEST_CASE("one coupon per campaign per order, and no more redemptions per member than the campaign allows") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  refused(h, sale(h, "O1", {{"B", 2, 30'000}}, {coupon(h, "TEN"), coupon(h, "TEN")}), "one_per_campaign");
  CreateCampaign once = amount_off("ONCE", 1'000);
  once.per_member_limit = 1;
  h.ok(once);
  h.ok(sale(h, "O1", {{"B", 1, 30'000}}, {coupon(h, "ONCE")}));
  refused(h, sale(h, "O2", {{"B", 1, 30'000}}, {coupon(h, "ONCE")}), "per_member_limit");
  // The limit is each member's: M2 has not used ONCE yet.
  h.ok(by("M2", sale(h, "O2", {{"B", 1, 30'000}}, {coupon(h, "ONCE", "M2")})));
  h.check_invariants();
}

TEST_CASE("a campaign's budget holds exactly: max_redemptions, and max_discount_cents with no coupon cut to fit") {
  Harness h;
  shop(h);
  CreateCampaign one = amount_off("ONE", 1'000);
  one.max_redemptions = 1;
  h.ok(one);
  h.ok(sale(h, "O1", {{"B", 1, 30'000}}, {coupon(h, "ONE")}));
  auto e = refused(h, by("M2", sale(h, "O2", {{"B", 1, 30'000}}, {coupon(h, "ONE", "M2")})), "budget_exhausted");
  CHECK(e.number("redemptions") == 1);
  // 6,000 off each, 10,000 in all: the first uses 6,000; a second 6,000 would make 12,000.
  CreateCampaign capped = amount_off("CAP", 6'000);
  capped.max_discount_cents = 10'000;
  h.ok(capped);
  h.ok(sale(h, "O3", {{"B", 1, 30'000}}, {coupon(h, "CAP")}));
  std::string second = coupon(h, "CAP");
  e = refused(h, sale(h, "O4", {{"B", 1, 30'000}}, {second}), "budget_exhausted");
  CHECK(e.number("discount_cents") == 6'000);
  // A B line at 4,000 caps the coupon at 4,000: 6,000 + 4,000 = 10,000 fits, to the fen.
  h.ok(sale(h, "O4", {{"B", 1, 4'000}}, {second}));
  CHECK(campaign(h, "CAP").discount_cents == 10'000);
  CHECK(campaign(h, "CAP").redemptions == 2);
  h.check_invariants();
}

// ---- what cancels and returns give back

TEST_CASE("a cancel gives a coupon back when its campaign restores on cancel, with its budget; else it stays spent") {
  Harness h;
  shop(h);
  CreateCampaign back = amount_off("BACK", 10'000);
  back.max_redemptions = 1;
  CreateCampaign gone = amount_off("GONE", 5'000);
  gone.restore_on_cancel = false;
  h.ok(back);
  h.ok(gone);
  // B x2 = 60,000: BACK 10,000 then GONE 5,000 (amount_offs by code): 15,000 off.
  h.ok(sale(h, "O1", {{"B", 2, 30'000}}, {coupon(h, "BACK"), coupon(h, "GONE")}));
  CHECK(order(h, "O1").discount_cents == 15'000);
  CHECK(said(h, h.ok(CancelOrder{"O1", "changed my mind"})) == Said{"CouponRestored BACK-000001 O1"});
  CHECK(coupon_record(h, "BACK-000001").order.empty());
  CHECK(campaign(h, "BACK").redemptions == 0);
  CHECK(campaign(h, "BACK").discount_cents == 0);
  CHECK(coupon_record(h, "GONE-000001").order == "O1");
  CHECK(campaign(h, "GONE").redemptions == 1);
  CHECK(campaign(h, "GONE").discount_cents == 5'000);
  CHECK(account(h).redemptions == std::map<std::string, std::int64_t, std::less<>>{{"GONE", 1}});
  // The budget of one redemption is free again: the same coupon redeems on another order.
  h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {"BACK-000001"}));
  CHECK(coupon_record(h, "BACK-000001").order == "O2");
  h.check_invariants();
}

TEST_CASE("an order rejected by its approver gives back its coupon and its points as a cancel does") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  deliver(h, "O1");  // 1,000 points
  ApprovalRuleInput everything;
  everything.step = "region_manager";
  everything.min_amount_cents = 1;
  h.ok(SetApprovalPolicy{{everything}});
  h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {coupon(h, "TEN")}, 400));
  CHECK(points(h) == 600);
  auto r = h.engine->execute(Command{{}, Actor{"li", "region_manager", "R1"}, RejectOrder{"O2", "no"}});
  REQUIRE(r.ok());
  CHECK(said(h, *r) == Said{"CouponRestored TEN-000001 O2", "PointsRefunded M1 400 O2 for 365d"});
  CHECK(points(h) == 1000);
  h.check_invariants();
}

TEST_CASE("a wholly returned order gives its coupon back as a cancel does; a partial return keeps it") {
  Harness h;
  shop(h);
  h.ok(amount_off("BACK", 10'000));
  // A x1 = 100,000, 10,000 off: 90,000 paid, 900 points; all of it comes back.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}, {coupon(h, "BACK")}));
  deliver(h, "O1");
  CHECK(said(h, h.ok(ReturnOrder{"O1", {{"A", 1, {}}}, "changed my mind"})) ==
        Said{"PointsReversed M1 900 O1 spend=90000", "CouponRestored BACK-000001 O1"});
  CHECK(coupon_record(h, "BACK-000001").order.empty());
  // A x2 = 200,000, 10,000 off: 190,000 paid, 1,900 points. One of two comes back: half the value,
  // 95,000 paid -> 950 points and 95,000 of spend go; the coupon stays with the order.
  h.ok(sale(h, "O2", {{"A", 2, 100'000}}, {coupon(h, "BACK")}));
  deliver(h, "O2");
  CHECK(said(h, h.ok(ReturnOrder{"O2", {{"A", 1, {}}}, "one broken"})) == Said{"PointsReversed M1 950 O2 spend=95000"});
  CHECK(coupon_record(h, "BACK-000002").order == "O2");
  CHECK(points(h) == 950);
  h.check_invariants();
}

// ---- points

TEST_CASE("a delivery earns a point per yuan paid in money, floored; placing and shipping earn nothing") {
  Harness h;
  shop(h);
  // A 100,000 + B 33,333 = 133,333 fen = 1,333.33 yuan -> 1,333 points.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}, {"B", 1, 33'333}}));
  h.ok(ShipOrder{"O1", {}});
  CHECK(points(h) == 0);
  CHECK(said(h, h.ok(DeliverOrder{"O1"})) == Said{"PointsEarned M1 1333 O1 spend=133333 for 365d"});
  CHECK(points(h) == 1333);
  CHECK(lots(h) == "1333@t0+365d;");
  h.check_invariants();
}

TEST_CASE("a delivery in parts earns in parts, adding up to what the whole order earns") {
  Harness h;
  shop(h);
  h.ok(percent_off("PCT", 1000));
  // A 100,000 + B 30,000 less 10% (13,000): 117,000 paid in all, 1,170 points.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}, {"B", 1, 30'000}}, {coupon(h, "PCT")}));
  // A first: 100,000 of 130,000 of the goods, so 117,000 x 100/130 = 90,000 paid -> 900 points.
  h.ok(ShipOrder{"O1", {{"A", 1, {}}}});
  CHECK(said(h, h.ok(DeliverOrder{"O1"})) == Said{"PointsEarned M1 900 O1 spend=90000 for 365d"});
  // Then B: 117,000 for the whole order -> 1,170 points, 270 more.
  CHECK(said(h, deliver(h, "O1")) == Said{"PointsEarned M1 270 O1 spend=27000 for 365d"});
  CHECK(points(h) == 1170);
  h.check_invariants();
}

TEST_CASE("a booking picked up earns as a delivery; one not picked up in time gives its coupon and points back") {
  Harness h;
  shop(h);
  h.ok(amount_off("TEN", 10'000));
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  deliver(h, "O1");  // 1,000 points
  auto booking = [&](std::string id, std::vector<std::string> coupons, std::int64_t points) {
    PlaceOrder o = sale(h, std::move(id), {{"A", 1, 100'000}}, std::move(coupons), points);
    o.type = OrderType::reservation;
    o.pickup_at_us = h.clock->now_us() + day_us;
    return o;
  };
  h.ok(booking("R-1", {coupon(h, "TEN")}, 300));
  CHECK(points(h) == 700);
  // The pickup time passes: the clock cancels the booking, and what it redeemed comes back.
  h.clock->set_us(test::t0_us + day_us);
  std::uint64_t seq = h.engine->last_seq();
  tick(h);
  CHECK(order(h, "R-1").cancelled);
  CHECK(said(h, seq + 1) == Said{"CouponRestored TEN-000001 R-1", "PointsRefunded M1 300 R-1 for 364d"});
  CHECK(points(h) == 1000);
  // Picked up, the same coupon's booking earns on the 90,000 paid: 900 points.
  h.ok(booking("R-2", {"TEN-000001"}, 0));
  CHECK(said(h, h.ok(DeliverOrder{"R-2"})) == Said{"PointsEarned M1 900 R-2 spend=90000 for 365d"});
  h.check_invariants();
}

TEST_CASE("points pay for an order up to the balance and up to what it owes; what they pay earns no points") {
  Harness h;
  shop(h);
  h.ok(amount_off("OFF", 29'000));
  h.ok(sale(h, "O1", {{"A", 1, 100'000}, {"B", 1, 33'333}}));
  deliver(h, "O1");  // 1,333 points
  auto e = refused(h, sale(h, "O2", {{"B", 1, 30'000}}, {}, 1'334), "insufficient_points");
  CHECK(e.number("balance") == 1333);
  h.rejected(sale(h, "O2", {{"B", 1, 30'000}}, {}, -1), ErrorCode::invalid_argument);
  // B 30,000 less 29,000 owes 1,000: 1,001 points is more than that.
  std::string off = coupon(h, "OFF");
  h.rejected(sale(h, "O2", {{"B", 1, 30'000}}, {off}, 1'001), ErrorCode::invalid_argument);
  auto placed = h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {off}, 1'000));
  CHECK(said(h, placed) == Said{"OrderPlaced O2 total=30000 discount=29000 coupons=[OFF-000001]",
                                "CouponRedeemed OFF-000001 O2 29000", "PointsSpent M1 1000 O2"});
  CHECK(points(h) == 333);
  // Nothing was paid in money: no points; the 1,000 owed still counts as spend.
  CHECK(said(h, deliver(h, "O2")) == Said{"PointsEarned M1 0 O2 spend=1000 for 365d"});
  h.check_invariants();
}

TEST_CASE("points spent on a cancelled order come back with the expiry they had: a cancel never renews them") {
  Harness h;
  shop(h);
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  deliver(h, "O1");  // 1,000 points, good until t0 + 365 days
  h.clock->set_us(test::t0_us + 30 * day_us);
  h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {}, 400));
  CHECK(lots(h) == "600@t0+365d;");
  CHECK(said(h, h.ok(CancelOrder{"O2", "changed my mind"})) == Said{"PointsRefunded M1 400 O2 for 335d"});
  CHECK(lots(h) == "600@t0+365d;400@t0+365d;");
  CHECK(points(h) == 1000);
  h.check_invariants();
}

TEST_CASE("a return takes back the points its units earned, but never more than the balance") {
  Harness h;
  shop(h);
  // A 100,000 + B x3 at 30,000 = 190,000: 1,900 points.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}, {"B", 3, 30'000}}));
  deliver(h, "O1");
  // One B back: 160,000 kept -> 1,600 points; 300 go, with 30,000 of spend.
  CHECK(said(h, h.ok(ReturnOrder{"O1", {{"B", 1, {}}}, "broken"})) == Said{"PointsReversed M1 300 O1 spend=30000"});
  CHECK(points(h) == 1600);
  // The member spends 1,500 of them, then returns A: 60,000 kept -> 600 points, so 1,000 should
  // go; the balance is 100, and that is all that goes. The balance never falls below zero.
  h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {}, 1'500));
  CHECK(said(h, h.ok(ReturnOrder{"O1", {{"A", 1, {}}}, "changed my mind"})) ==
        Said{"PointsReversed M1 100 O1 spend=100000"});
  CHECK(points(h) == 0);
  h.check_invariants();
}

TEST_CASE("points expire a year after they were earned, by the clock, spending having taken the earliest lot first") {
  Harness h;
  shop(h);
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  deliver(h, "O1");  // 1,000 points until t0 + 365 days
  // 100 days on: 200 points pay for B (from the first lot: 800 left in it); the 29,800 paid in
  // money earn 298 points until t0 + 465 days.
  h.clock->set_us(test::t0_us + 100 * day_us);
  h.ok(sale(h, "O2", {{"B", 1, 30'000}}, {}, 200));
  deliver(h, "O2");
  CHECK(lots(h) == "800@t0+365d;298@t0+465d;");
  // The clock works at the start of a batch: move it, run a command, look.
  h.clock->set_us(test::t0_us + year_us - 1);
  std::uint64_t seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{});
  CHECK(points(h) == 1098);
  h.clock->set_us(test::t0_us + year_us);
  seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{"PointsExpired M1 800"});
  CHECK(points(h) == 298);
  h.clock->set_us(test::t0_us + 465 * day_us);
  seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{"PointsExpired M1 298"});
  CHECK(points(h) == 0);
  h.check_invariants();
}

// ---- tiers

TEST_CASE(
    "a rolling 12-month spend of 2,000 yuan makes a member silver on delivery; a year on, the clock takes it back") {
  Harness h;
  shop(h);
  CreateCampaign silver = amount_off("SILVER", 1'000);
  silver.scope.tiers = {"silver"};
  h.ok(silver);
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  CHECK(said(h, deliver(h, "O1")) == Said{"PointsEarned M1 1000 O1 spend=100000 for 365d"});
  refused(h, sale(h, "O3", {{"B", 1, 30'000}}, {coupon(h, "SILVER")}), "out_of_scope");  // standard still
  // 30 days on, 100,000 more: 200,000 within the year reaches silver.
  h.clock->set_us(test::t0_us + 30 * day_us);
  h.ok(sale(h, "O2", {{"A", 1, 100'000}}));
  CHECK(said(h, deliver(h, "O2")) ==
        Said{"PointsEarned M1 1000 O2 spend=100000 for 365d", "MemberTierChanged M1 standard->silver"});
  CHECK(account(h).tier == "silver");
  h.ok(sale(h, "O3", {{"B", 1, 30'000}}, {"SILVER-000001"}));  // a silver campaign covers M1 now
  h.ok(CancelOrder{"O3", "only trying"});
  // A year after O1, its 100,000 leave the window (and its points expire): 100,000 is standard.
  h.clock->set_us(test::t0_us + year_us - 1);
  tick(h);
  CHECK(account(h).tier == "silver");
  h.clock->set_us(test::t0_us + year_us);
  std::uint64_t seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{"PointsExpired M1 1000", "MemberTierChanged M1 silver->standard"});
  CHECK(account(h).tier == "standard");
  h.check_invariants();
}

TEST_CASE("a returned order's spend leaves the tier for good: it never weighs on later spend a year on") {
  Harness h;
  shop(h);
  // t0: 100,000 delivered; ten days on, all of it back: no spend of it is kept.
  h.ok(sale(h, "O1", {{"A", 1, 100'000}}));
  deliver(h, "O1");
  h.clock->set_us(test::t0_us + 10 * day_us);
  h.ok(ReturnOrder{"O1", {{"A", 1, {}}}, "changed my mind"});
  // t0 + 20 days: 200,000 delivered and kept: silver.
  h.clock->set_us(test::t0_us + 20 * day_us);
  h.ok(sale(h, "O2", {{"A", 2, 100'000}}));
  deliver(h, "O2");
  CHECK(account(h).tier == "silver");
  // A year after O1, the window (t0, t0 + 365d] holds O2's 200,000 kept: still silver. Only the
  // clock's expiry of O1's points (reversed already: none left) could change anything, and nothing does.
  h.clock->set_us(test::t0_us + year_us);
  std::uint64_t seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{});
  CHECK(account(h).tier == "silver");
  // A year after O2 it is standard again.
  h.clock->set_us(test::t0_us + 20 * day_us + year_us);
  seq = h.engine->last_seq();
  tick(h);
  CHECK(said(h, seq + 1) == Said{"PointsExpired M1 2000", "MemberTierChanged M1 silver->standard"});
  h.check_invariants();
}

TEST_CASE("a return of goods whose spend has left the window leaves today's tier alone") {
  Harness h;
  shop(h);
  h.ok(sale(h, "O1", {{"A", 3, 100'000}}));
  deliver(h, "O1");  // 300,000: silver, until t0 + 365 days
  h.clock->set_us(test::t0_us + year_us + day_us);
  h.ok(sale(h, "O2", {{"A", 2, 100'000}}));
  deliver(h, "O2");  // 200,000 in the window (O1's left it): silver again
  CHECK(account(h).tier == "silver");
  // O1's units come back now: their spend counts in no window that still matters.
  h.clock->set_us(test::t0_us + year_us + 2 * day_us);
  h.ok(ReturnOrder{"O1", {{"A", 1, {}}}, "found a crack"});
  CHECK(account(h).tier == "silver");
  h.check_invariants();
}

// ---- dealers' credit

// A spot order by hq to dealer D1 (from W1), B at 20,000 wholesale.
PlaceOrder dealer_order(Harness& h, std::string id, std::int64_t qty) {
  PlaceOrder o = sale(h, std::move(id), {{"B", qty, 20'000}});
  o.buyer = "dealer:D1";
  o.seller = "hq";
  o.channel = "dealer_storefront";
  o.ship_to_lat_e6 = 30'600'000;
  o.ship_to_lon_e6 = 104'100'000;
  return o;
}

TEST_CASE("a dealer's payment lowers its exposure, paying more than it owes is refused, and its limit can change") {
  Harness h;
  shop(h);
  h.ok(dealer_order(h, "O1", 15));  // 15 x 20,000 = 300,000 on D1's credit line
  CHECK(dealer_account(h, "D1").exposure_cents() == 300'000);
  CHECK(said(h, h.ok(RecordPayment{"D1", 100'000, "bank 0001"})) == Said{"PaymentReceived D1 100000"});
  CHECK(dealer_account(h, "D1").exposure_cents() == 200'000);
  auto e = h.rejected(RecordPayment{"D1", 200'001, "bank 0002"}, ErrorCode::rule_violation);
  CHECK(detail(e, "reason") == "overpayment");
  CHECK(e.number("owed_cents") == 200'000);
  h.rejected(RecordPayment{"D1", 0, "bank 0003"}, ErrorCode::invalid_argument);
  h.rejected(RecordPayment{"D9", 1'000, "bank 0004"}, ErrorCode::unknown_id);
  CHECK(said(h, h.ok(SetCreditLimit{"D1", 500'000, "annual review"})) == Said{"CreditLimitChanged D1 500000"});
  h.engine->inspect([](const LedgerState& s) { CHECK(s.dealer("D1")->credit_limit_cents == 500'000); });
  h.rejected(SetCreditLimit{"D1", -1, "negative"}, ErrorCode::invalid_argument);
  h.check_invariants();
}

TEST_CASE(
    "with a credit_overrun rule, an order beyond the dealer's available credit waits for finance; a payment makes "
    "room") {
  Harness h;
  shop(h);
  ApprovalRuleInput overrun;
  overrun.step = "finance";
  overrun.credit_overrun = true;
  h.ok(SetApprovalPolicy{{overrun}});
  h.ok(SetCreditLimit{"D1", 500'000, "annual review"});
  h.ok(dealer_order(h, "O1", 15));  // 0 + 300,000 <= 500,000: no approval
  CHECK(order(h, "O1").approvals_required.empty());
  h.ok(dealer_order(h, "O2", 15));  // 300,000 + 300,000 = 600,000 > 500,000: finance
  CHECK(order(h, "O2").approvals_required == std::vector<std::string>{"finance"});
  h.ok(CancelOrder{"O2", "too much at once"});
  h.ok(RecordPayment{"D1", 100'000, "bank 0001"});
  h.ok(dealer_order(h, "O3", 15));  // 200,000 + 300,000 = 500,000: up to the limit, no approval
  CHECK(order(h, "O3").approvals_required.empty());
  h.check_invariants();
}

// ---- prices

TEST_CASE(
    "ChangePrices writes one PriceChanged per change and the SKUs carry the new prices; a bad list writes nothing") {
  Harness h;
  shop(h);
  auto changed = h.ok(ChangePrices{
      {{"A", PriceLevel::retail, 110'000}, {"A", PriceLevel::wholesale, 72'000}, {"B", PriceLevel::retail, 32'000}},
      "spring list"});
  CHECK(said(h, changed) == Said{"PriceChanged A retail 100000->110000", "PriceChanged A wholesale 70000->72000",
                                 "PriceChanged B retail 30000->32000"});
  h.engine->inspect([](const LedgerState& s) {
    CHECK(s.sku("A")->prices.wholesale_cents == 72'000);
    CHECK(s.sku("A")->prices.supply_cents == 85'000);
    CHECK(s.sku("A")->prices.retail_cents == 110'000);
    CHECK(s.sku("B")->prices.retail_cents == 32'000);
  });
  h.rejected(ChangePrices{{{"A", PriceLevel::retail, 1}, {"A", PriceLevel::retail, 2}}, "twice"},
             ErrorCode::invalid_argument);
  h.rejected(ChangePrices{{{"A", PriceLevel::supply, 1}, {"C", PriceLevel::retail, 2}}, "no such SKU"},
             ErrorCode::unknown_id);
  h.rejected(ChangePrices{{{"A", PriceLevel::retail, 0}}, "free"}, ErrorCode::invalid_argument);
  h.rejected(ChangePrices{{}, "nothing"}, ErrorCode::invalid_argument);
  h.check_invariants();
}

TEST_CASE("with reject_below_floor, an order line below its floor is refused as below_floor; without, it is taken") {
  Harness h;
  shop(h);
  h.ok(sale(h, "O1", {{"A", 1, 89'999}}));  // A's retail floor is 90,000; no rule asks approval
  CHECK(order_status_name(order(h, "O1").status()) == std::string("allocated"));
  h.ok(SetPricePolicy{1000, true});
  refused(h, sale(h, "O2", {{"A", 1, 89'999}}), "below_floor");
  h.ok(sale(h, "O2", {{"A", 1, 90'000}}));  // at the floor is not below it
  h.check_invariants();
}

// ---- restart

TEST_CASE("after a marketing history a restart folds the log to the same state, and the clock carries on") {
  Harness h;
  shop(h);
  h.ok(spend_save("SXY", {{100'000, 10'000}, {200'000, 25'000}}));
  h.ok(percent_off("PCT", 1500));
  CreateCampaign keep = amount_off("KEEP", 5'000);
  keep.restore_on_cancel = false;
  h.ok(keep);
  h.ok(multiplier("DOUBLE", 2000));
  // 330,000 less 25,000 = 305,000 paid: silver, 6,100 points (doubled); B back: 277,272, still silver.
  h.ok(sale(h, "O1", {{"A", 3, 100'000}, {"B", 1, 30'000}}, {coupon(h, "SXY"), coupon(h, "DOUBLE")}));
  deliver(h, "O1");
  h.ok(ReturnOrder{"O1", {{"B", 1, {}}}, "broken"});
  // PCT comes back on the cancel, KEEP stays spent, the 500 points are refunded.
  h.ok(sale(h, "O2", {{"B", 2, 30'000}}, {coupon(h, "PCT"), coupon(h, "KEEP")}, 500));
  h.ok(CancelOrder{"O2", "changed my mind"});
  h.ok(dealer_order(h, "O3", 10));
  h.ok(RecordPayment{"D1", 50'000, "bank 0001"});
  h.ok(SetCreditLimit{"D1", 800'000, "review"});
  h.ok(ChangePrices{{{"B", PriceLevel::retail, 31'000}}, "spring"});
  h.ok(SetPricePolicy{500, true});
  h.clock->set_us(test::t0_us + 100 * day_us);
  h.ok(sale(h, "O4", {{"A", 1, 100'000}}, {coupon(h, "PCT")}));
  deliver(h, "O4");
  h.check_invariants();
  std::string live = h.render();
  CHECK(live.find("tier=silver") != std::string::npos);
  auto folded = fold_log(h.dir.path());
  REQUIRE_MESSAGE(folded.ok(), (folded.ok() ? "" : folded.error().to_string()));
  CHECK(folded->render() == live);
  h.close();
  auto report = verify_log(h.dir.path());
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().to_string()));
  h.open();
  CHECK(h.render() == live);
  h.check_invariants();
  // The clock's schedule came back with the fold: a year after O1, its points expire and silver goes.
  h.clock->set_us(test::t0_us + year_us);
  std::uint64_t seq = h.engine->last_seq();
  tick(h);
  auto expired = said(h, seq + 1).lines;
  REQUIRE(expired.size() == 2);
  CHECK(expired[0].rfind("PointsExpired M1 ", 0) == 0);
  CHECK(expired[1] == "MemberTierChanged M1 silver->standard");
  h.check_invariants();
}

TEST_SUITE_END();

// Members, campaigns, coupons, points, credit and prices over HTTP against a real server: what a
// storefront and finance drive, the errors they can meet (each writing nothing), and who may do it.
#include <chrono>

#include "api_harness.hpp"

using namespace ledger;
using test::ApiHarness;
using test::Header;
using test::Reply;

TEST_SUITE_BEGIN("api");

namespace {

std::int64_t now_plus_days(int days) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return now.count() + days * 24LL * 3600 * 1'000'000;
}

void ok(const Reply& r) { REQUIRE_MESSAGE(r.status / 100 == 2, r.body); }

std::string reason_of(const Reply& r) {
  try {
    return std::string(r.json().at("error").at("details").at("reason").as_string());
  } catch (...) {
    return "(no reason in: " + r.body + ")";
  }
}

// The network of ApiHarness plus members M1, M2 of store S1 and M3 of S3, and stock at S1.
void members_network(ApiHarness& h) {
  h.network();
  ok(h.put("/v1/members/M1", R"({"name":"Li Lei","home_store":"S1"})", h.admin));
  ok(h.put("/v1/members/M2", R"({"name":"Han Meimei","home_store":"S1"})", h.admin));
  ok(h.put("/v1/members/M3", R"({"name":"Wang Fang","home_store":"S3"})", h.admin));
  ok(h.post("/v1/stock/transfers", R"({"id":"T-S1","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":40}]})",
            h.admin));
  ok(h.post("/v1/stock/transfers/T-S1/receive", "", h.admin));
}

std::string campaign_body(const std::string& id, const std::string& issuer, const std::string& kind,
                          const std::string& params, const std::string& extra = "") {
  return fmt::format(R"({{"id":"{}","issuer":"{}","kind":"{}","params":{},"per_member_limit":5,)"
                     R"("valid_from_us":{},"valid_to_us":{}{}}})",
                     id, issuer, kind, params, now_plus_days(-1), now_plus_days(30), extra);
}

// A member order at store S1: `qty` bottles of A at 1,000 yuan.
std::string member_order(const std::string& id, const std::string& member, int qty, const std::string& extra = "") {
  return fmt::format(R"({{"id":"{}","type":"spot","buyer":"member:{}","seller":"store:S1","channel":"store",)"
                     R"("ship_to":{{"region":"R1","lat":30.1,"lon":104.1}},)"
                     R"("lines":[{{"sku":"A","qty":{},"unit_price_cents":100000}}],"promised_by_us":{}{}}})",
                     id, member, qty, now_plus_days(3), extra);
}

std::vector<std::string> issue(ApiHarness& h, const std::string& campaign, const std::string& member, int count,
                               const std::string& token) {
  Reply r = h.post(fmt::format("/v1/campaigns/{}/coupons", campaign),
                   fmt::format(R"({{"member":"{}","count":{}}})", member, count), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  std::vector<std::string> codes;
  auto json = r.json();
  for (const auto& c : json.at("codes").as_array()) codes.emplace_back(c.as_string());
  return codes;
}

}  // namespace

TEST_CASE("a coupon takes its discount off a member order, redeems once, and comes back when the order is cancelled") {
  ApiHarness h;
  members_network(h);
  std::string store = h.token("store", "S1");
  // 15% off, created by the store for its own orders.
  Reply created = h.post("/v1/campaigns",
                         campaign_body("C15", "store:S1", "percent_off", R"({"percent_off_bp":1500})",
                                       R"(,"budget":{"max_redemptions":100})"),
                         store);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  CHECK(created.json().at("budget").at("max_redemptions").as_int64() == 100);
  auto codes = issue(h, "C15", "M1", 2, store);
  REQUIRE(codes == std::vector<std::string>{"C15-000001", "C15-000002"});

  std::string member = h.token("member", "M1");
  Reply placed = h.post("/v1/orders", member_order("O1", "M1", 3, R"(,"coupons":["C15-000001"])"), member);
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  // 3 x 100,000 = 300,000; 15% = 45,000 off.
  CHECK(placed.json().at("total_cents").as_int64() == 300'000);
  CHECK(placed.json().at("discount_cents").as_int64() == 45'000);
  CHECK(placed.json().at("coupon_discounts").at(0).at("discount_cents").as_int64() == 45'000);

  Reply again = h.post("/v1/orders", member_order("O2", "M1", 1, R"(,"coupons":["C15-000001"])"), member);
  CHECK(again.status == 422);
  CHECK(reason_of(again) == "already_redeemed");
  CHECK(h.get("/v1/orders/O2", h.admin).status == 404);  // nothing written

  Reply campaign = h.get("/v1/campaigns/C15", store);
  REQUIRE(campaign.status == 200);
  CHECK(campaign.json().at("redemptions").as_int64() == 1);
  CHECK(campaign.json().at("discount_cents").as_int64() == 45'000);

  ok(h.post("/v1/orders/O1/cancel", R"({"reason":"changed mind"})", member));
  Reply m = h.get("/v1/members/M1", member);
  REQUIRE_MESSAGE(m.status == 200, m.body);
  CHECK(m.json().at("coupons").at(0).at("status").as_string() == "available");
  CHECK(h.get("/v1/campaigns/C15", store).json().at("redemptions").as_int64() == 0);
}

TEST_CASE("points: earned on delivery, spent as payment, never beyond the balance") {
  ApiHarness h;
  members_network(h);
  std::string member = h.token("member", "M1");
  std::string store = h.token("store", "S1");
  ok(h.post("/v1/orders", member_order("O1", "M1", 2), member));
  ok(h.post("/v1/orders/O1/ship", "", store));
  ok(h.post("/v1/orders/O1/deliver", "", store));
  Reply m = h.get("/v1/members/M1", member);
  REQUIRE(m.status == 200);
  // 200,000 fen paid = 2,000 yuan = 2,000 points; 2,000 yuan reaches silver.
  CHECK(m.json().at("points").as_int64() == 2000);
  CHECK(m.json().at("tier").as_string() == "silver");
  CHECK(m.json().at("rolling_spend_cents").as_int64() == 200'000);

  Reply too_many = h.post("/v1/orders", member_order("O2", "M1", 1, R"(,"points":2001)"), member);
  CHECK(too_many.status == 422);
  CHECK(reason_of(too_many) == "insufficient_points");
  CHECK(h.post("/v1/orders", member_order("O2", "M1", 1, R"(,"points":-1)"), member).status == 400);
  CHECK(h.post("/v1/orders", member_order("O2", "M1", 1, R"(,"points":"many")"), member).status == 400);
  Reply paid = h.post("/v1/orders", member_order("O2", "M1", 1, R"(,"points":1500)"), member);
  REQUIRE_MESSAGE(paid.status == 201, paid.body);
  CHECK(paid.json().at("points_spent").as_int64() == 1500);
  CHECK(h.get("/v1/members/M1", member).json().at("points").as_int64() == 500);
  // Dealers and stores buy on credit, not with points.
  Reply dealer_points = h.post(
      "/v1/orders",
      R"({"id":"O3","type":"spot","buyer":"store:S1","seller":"dealer:D1","channel":"dealer_storefront",)"
      R"("ship_to":{"region":"R1","lat":30.1,"lon":104.1},"lines":[{"sku":"A","qty":1,"unit_price_cents":85000}],)"
      R"("points":10,"promised_by_us":)" +
          std::to_string(now_plus_days(3)) + "}",
      h.admin);
  CHECK(dealer_points.status == 422);
  CHECK(reason_of(dealer_points) == "not_a_member");
}

TEST_CASE("campaign and coupon requests: bad input is refused naming the field, and writes nothing") {
  ApiHarness h;
  members_network(h);
  std::uint64_t before = h.engine->last_seq();
  auto bad = [&](const std::string& body, unsigned status) {
    Reply r = h.post("/v1/campaigns", body, h.admin);
    CHECK_MESSAGE(r.status == status, r.body);
  };
  bad(campaign_body("X", "hq", "percent_off", R"({"percent_off_bp":1500})", R"(,"colour":"red")"),
      400);                                                                          // unknown field
  bad(campaign_body("X", "hq", "half_price", R"({})"), 400);                         // unknown kind
  bad(campaign_body("X", "hq", "percent_off", R"({"percent_off_bp":0})"), 400);      // no offer
  bad(campaign_body("X", "hq", "percent_off", R"({"percent_off_bp":20000})"), 400);  // over 100%
  bad(campaign_body("X", "hq", "amount_off", R"({"amount_off_cents":-5})"), 400);
  bad(campaign_body("X", "hq", "spend_x_save_y", R"({"tiers":[{"threshold_cents":500,"save_cents":600}]})"), 400);
  bad(campaign_body("X", "region:R9", "percent_off", R"({"percent_off_bp":1500})"), 404);  // unknown issuer
  bad(campaign_body("X", "hq", "percent_off", R"({"percent_off_bp":1500})", R"(,"scope":{"skus":["NOPE"]})"), 404);
  bad(R"({"id":"X","issuer":"hq","kind":"percent_off","params":{"percent_off_bp":100},"valid_from_us":10,"valid_to_us":5})",
      400);
  bad("{not json", 400);
  CHECK(h.engine->last_seq() == before);

  ok(h.post("/v1/campaigns", campaign_body("C1", "hq", "amount_off", R"({"amount_off_cents":5000})"), h.admin));
  CHECK(h.post("/v1/campaigns", campaign_body("C1", "hq", "amount_off", R"({"amount_off_cents":5000})"), h.admin)
            .status == 409);
  CHECK(h.post("/v1/campaigns/NOPE/coupons", R"({"member":"M1"})", h.admin).status == 404);
  CHECK(h.post("/v1/campaigns/C1/coupons", R"({"member":"M9"})", h.admin).status == 404);
  CHECK(h.post("/v1/campaigns/C1/coupons", R"({"member":"M1","count":0})", h.admin).status == 400);
  CHECK(h.post("/v1/campaigns/C1/coupons", R"({"member":"M1","count":1001})", h.admin).status == 400);
  Reply unknown_coupon = h.post("/v1/orders", member_order("O1", "M1", 1, R"(,"coupons":["C1-999999"])"), h.admin);
  CHECK(unknown_coupon.status == 422);
  CHECK(reason_of(unknown_coupon) == "unknown_coupon");
}

TEST_CASE("coupon issuance is idempotent: the same key answers the same codes, another body is 409") {
  ApiHarness h;
  members_network(h);
  ok(h.post("/v1/campaigns", campaign_body("C1", "hq", "amount_off", R"({"amount_off_cents":5000})"), h.admin));
  std::vector<Header> key{{"Idempotency-Key", "issue-1"}};
  Reply first = h.post("/v1/campaigns/C1/coupons", R"({"member":"M1","count":3})", h.admin, key);
  Reply retry = h.post("/v1/campaigns/C1/coupons", R"({"member":"M1","count":3})", h.admin, key);
  REQUIRE(first.status == 201);
  CHECK(retry.json().at("codes") == first.json().at("codes"));
  CHECK(retry.header("Idempotent-Replayed") == "true");
  CHECK(h.post("/v1/campaigns/C1/coupons", R"({"member":"M1","count":4})", h.admin, key).status == 409);
  CHECK(h.get("/v1/campaigns/C1", h.admin).json().at("coupons_issued").as_int64() == 3);
}

TEST_CASE("who may run campaigns and see members: issuers for their own, members for themselves") {
  ApiHarness h;
  members_network(h);
  std::string d1 = h.token("dealer", "D1"), d2 = h.token("dealer", "D2"), s1 = h.token("store", "S1");
  std::string m1 = h.token("member", "M1"), m2 = h.token("member", "M2"), auditor = h.token("auditor");
  std::string r1 = h.token("region_manager", "R1"), r2 = h.token("region_manager", "R2");
  std::string body = campaign_body("CD1", "dealer:D1", "amount_off", R"({"amount_off_cents":1000})");
  CHECK(h.post("/v1/campaigns", body, d2).status == 403);
  CHECK(h.post("/v1/campaigns", body, s1).status == 403);
  CHECK(h.post("/v1/campaigns", body, auditor).status == 403);
  CHECK(h.post("/v1/campaigns", body, m1).status == 403);
  ok(h.post("/v1/campaigns", body, d1));
  CHECK(h.post("/v1/campaigns", campaign_body("CR1", "region:R1", "amount_off", R"({"amount_off_cents":1000})"), r2)
            .status == 403);
  ok(h.post("/v1/campaigns", campaign_body("CR1", "region:R1", "amount_off", R"({"amount_off_cents":1000})"), r1));
  // Another dealer neither sees nor issues the campaign's coupons.
  CHECK(h.get("/v1/campaigns/CD1", d2).status == 404);
  CHECK(h.post("/v1/campaigns/CD1/coupons", R"({"member":"M1"})", d2).status == 404);
  CHECK(h.post("/v1/campaigns/CD1/coupons", R"({"member":"M1"})", auditor).status == 403);
  ok(h.post("/v1/campaigns/CD1/coupons", R"({"member":"M1"})", d1));
  CHECK(h.get("/v1/campaigns/CD1", auditor).status == 200);
  Reply list = h.get("/v1/campaigns", d1);
  REQUIRE(list.status == 200);
  CHECK(list.json().at("rows").as_array().size() == 1);  // its own, not the region's
  CHECK(h.get("/v1/campaigns?limit=1", h.admin).json().at("next").as_string() == "CD1");

  CHECK(h.get("/v1/members/M1", m1).status == 200);
  CHECK(h.get("/v1/members/M1", m2).status == 404);
  CHECK(h.get("/v1/members/M1", s1).status == 200);
  CHECK(h.get("/v1/members/M1", d1).status == 200);
  CHECK(h.get("/v1/members/M1", d2).status == 404);
  CHECK(h.get("/v1/members/M1", r1).status == 200);
  CHECK(h.get("/v1/members/M1", r2).status == 404);
  CHECK(h.get("/v1/members/M3", d2).status == 200);
  CHECK(h.get("/v1/members/M9", h.admin).status == 404);
  // M2 cannot spend M1's coupon.
  Reply stolen = h.post("/v1/orders", member_order("O1", "M2", 1, R"(,"coupons":["CD1-000001"])"), m2);
  CHECK(stolen.status == 422);
  CHECK(reason_of(stolen) == "not_yours");
}

TEST_CASE("credit: finance records payments, which free the dealer's credit; overpayments are refused") {
  ApiHarness h;
  members_network(h);
  std::string finance = h.token("finance"), d1 = h.token("dealer", "D1"), d2 = h.token("dealer", "D2");
  // D1 (limit 100,000 fen) buys 1 bottle of A from hq at 70,000.
  Reply placed = h.post(
      "/v1/orders",
      R"({"id":"O1","type":"spot","buyer":"dealer:D1","seller":"hq","channel":"dealer_storefront",)"
      R"("ship_to":{"region":"R1","lat":30.6,"lon":104.1},"lines":[{"sku":"A","qty":1,"unit_price_cents":70000}],)"
      R"("promised_by_us":)" +
          std::to_string(now_plus_days(3)) + "}",
      d1);
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  ok(h.post("/v1/orders/O1/ship", "", h.admin));
  Reply credit = h.get("/v1/dealers/D1/credit", d1);
  REQUIRE_MESSAGE(credit.status == 200, credit.body);
  CHECK(credit.json().at("credit_limit_cents").as_int64() == 100'000);
  CHECK(credit.json().at("receivable_cents").as_int64() == 70'000);
  CHECK(credit.json().at("available_credit_cents").as_int64() == 30'000);
  CHECK(credit.json().as_object().contains("suggested_credit_line_cents"));
  CHECK(h.get("/v1/dealers/D1/credit", d2).status == 404);

  CHECK(h.post("/v1/payments", R"({"dealer":"D1","amount_cents":1000,"ref":"bank-1"})", d1).status == 403);
  Reply over = h.post("/v1/payments", R"({"dealer":"D1","amount_cents":70001,"ref":"bank-1"})", finance);
  CHECK(over.status == 422);
  CHECK(reason_of(over) == "overpayment");
  CHECK(h.post("/v1/payments", R"({"dealer":"D9","amount_cents":1,"ref":"bank-1"})", finance).status == 404);
  CHECK(h.post("/v1/payments", R"({"dealer":"D1","amount_cents":0,"ref":"bank-1"})", finance).status == 400);
  Reply paid = h.post("/v1/payments", R"({"dealer":"D1","amount_cents":50000,"ref":"bank-1"})", finance);
  REQUIRE_MESSAGE(paid.status == 201, paid.body);
  CHECK(paid.json().at("receivable_cents").as_int64() == 20'000);
  CHECK(paid.json().at("available_credit_cents").as_int64() == 80'000);

  CHECK(h.put("/v1/dealers/D1/credit-limit", R"({"credit_limit_cents":500000,"reason":"healthy"})", d1).status == 403);
  ok(h.put("/v1/dealers/D1/credit-limit", R"({"credit_limit_cents":500000,"reason":"healthy"})", finance));
  CHECK(h.get("/v1/dealers/D1/credit", d1).json().at("credit_limit_cents").as_int64() == 500'000);
}

TEST_CASE("prices: a bulk change is one event per price, and the price policy can refuse lines below the floor") {
  ApiHarness h;
  members_network(h);
  std::uint64_t before = h.engine->last_seq();
  Reply changed = h.post(
      "/v1/prices:bulk",
      R"({"changes":[{"sku":"A","level":"retail","price_cents":120000},{"sku":"B","level":"wholesale","price_cents":21000}],"reason":"autumn"})",
      h.admin);
  REQUIRE_MESSAGE(changed.status == 200, changed.body);
  CHECK(changed.json().at("changes").as_int64() == 2);
  CHECK(h.engine->last_seq() == before + 2);
  before = h.engine->last_seq();
  CHECK(h.post("/v1/prices:bulk", R"({"changes":[{"sku":"A","level":"street","price_cents":1}],"reason":"x"})", h.admin)
            .status == 400);
  CHECK(h.post("/v1/prices:bulk", R"({"changes":[{"sku":"Z","level":"retail","price_cents":1}],"reason":"x"})", h.admin)
            .status == 404);
  CHECK(h.post("/v1/prices:bulk", R"({"changes":[],"reason":"x"})", h.admin).status == 400);
  CHECK(
      h.post(
           "/v1/prices:bulk",
           R"({"changes":[{"sku":"A","level":"retail","price_cents":1},{"sku":"A","level":"retail","price_cents":2}],"reason":"x"})",
           h.admin)
          .status == 400);
  CHECK(h.engine->last_seq() == before);
  std::string dealer = h.token("dealer", "D1");  // (issuing the token is an event)
  before = h.engine->last_seq();
  CHECK(h.post("/v1/prices:bulk", R"({"changes":[{"sku":"A","level":"retail","price_cents":1}],"reason":"x"})", dealer)
            .status == 403);
  CHECK(h.engine->last_seq() == before);

  // Below the retail floor (90,000): by default it goes to approval; with the policy it is refused.
  ok(h.put("/v1/price-policy", R"({"alert_threshold_bp":500,"reject_below_floor":true})", h.admin));
  CHECK(h.put("/v1/price-policy", R"({"alert_threshold_bp":0})", h.admin).status == 400);
  // Alerts follow the policy in force: 10% by default (A +20% alerted, B +5% not), then 5% (B +2.9% not,
  // A +5.8% alerted).
  ok(h.post("/v1/prices:bulk",
            R"({"changes":[{"sku":"B","level":"wholesale","price_cents":21600},{"sku":"A","level":"retail","price_cents":127000}],"reason":"again"})",
            h.admin));
  Reply alerts = h.get("/v1/alerts?kind=price_change&min_seq=" + std::to_string(h.engine->last_seq()), h.admin);
  REQUIRE_MESSAGE(alerts.status == 200, alerts.body);
  auto rows = alerts.json().at("rows").as_array();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("subject").as_string() == "sku:A");
  CHECK(rows[1].at("subject").as_string() == "sku:A");
  Reply cheap =
      h.post("/v1/orders",
             fmt::format(R"({{"id":"O1","type":"spot","buyer":"member:M1","seller":"store:S1","channel":"store",)"
                         R"("ship_to":{{"region":"R1","lat":30.1,"lon":104.1}},)"
                         R"("lines":[{{"sku":"A","qty":1,"unit_price_cents":50000}}],"promised_by_us":{}}})",
                         now_plus_days(3)),
             h.admin);
  CHECK(cheap.status == 422);
  CHECK(reason_of(cheap) == "below_floor");
}

TEST_SUITE_END();

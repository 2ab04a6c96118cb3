// Orders and sourcing over HTTP against a real server: the lifecycle a storefront drives, the
// errors it can meet (each writing nothing), and the scope rules for every role that touches orders.
#include <chrono>

#include "api_harness.hpp"

using namespace ledger;
using test::ApiHarness;
using test::Header;
using test::Reply;

TEST_SUITE_BEGIN("api");

namespace {

std::int64_t in_days(int days) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return now.count() + days * 24LL * 3600 * 1'000'000;
}

std::string order_body(const std::string& id, const std::string& buyer, const std::string& seller, const std::string& lines,
                       const std::string& extra = "") {
  return fmt::format(
      R"({{"id":"{}","type":"spot","buyer":"{}","seller":"{}","channel":"dealer_storefront",)"
      R"("ship_to":{{"region":"R1","lat":30.6,"lon":104.1}},"lines":{},"promised_by_us":{}{}}})",
      id, buyer, seller, lines, in_days(3), extra);
}

std::string status_of(const Reply& r) { return std::string(r.json().at("status").as_string()); }

std::int64_t on_hand(ApiHarness& h, const std::string& location, const std::string& sku) {
  Reply r = h.get(fmt::format("/v1/stock/{}/{}", location, sku), h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json().at("on_hand").as_int64();
}

}  // namespace

TEST_CASE("an order sold by hq goes placed -> allocated -> shipped -> delivered -> completed, and a return moves units back") {
  ApiHarness h;
  h.network();
  std::string dealer = h.token("dealer", "D1");
  Reply placed = h.post("/v1/orders", order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":60,"unit_price_cents":70000}])"), dealer);
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  auto o = placed.json();
  CHECK(status_of(placed) == "allocated");
  CHECK(o.at("total_cents").as_int64() == 60 * 70000);
  CHECK(o.at("approvals_required").as_array().empty());
  REQUIRE(o.at("allocation").as_array().size() == 1);
  CHECK(o.at("allocation").at(0).at("location").as_string() == "warehouse:W1");  // the only one with A
  Reply held = h.get("/v1/stock/warehouse:W1/A", h.admin);
  CHECK(held.json().at("reserved").as_int64() == 60);

  // The dealer cannot ship what hq sells; hq ships part, then the rest.
  CHECK(h.post("/v1/orders/O1/ship", "", dealer).status == 403);
  Reply part = h.post("/v1/orders/O1/ship", R"({"lines":[{"sku":"A","qty":20}]})", h.admin);
  REQUIRE_MESSAGE(part.status == 200, part.body);
  CHECK(status_of(part) == "partially_shipped");
  CHECK(on_hand(h, "transit:order.O1", "A") == 20);
  CHECK(status_of(h.post("/v1/orders/O1/ship", "", h.admin)) == "shipped");
  CHECK(h.post("/v1/orders/O1/cancel", R"({"reason":"too late"})", dealer).error_code() == "illegal_transition");
  std::int64_t dealer_before = on_hand(h, "dealer:D1", "A");
  Reply delivered = h.post("/v1/orders/O1/deliver", "", dealer);
  CHECK(status_of(delivered) == "delivered");
  CHECK(on_hand(h, "dealer:D1", "A") == dealer_before + 60);
  CHECK(on_hand(h, "transit:order.O1", "A") == 0);
  CHECK(status_of(h.post("/v1/orders/O1/complete", "", dealer)) == "completed");
  std::int64_t w1_before = on_hand(h, "warehouse:W1", "A");
  Reply returned = h.post("/v1/orders/O1/return", R"({"lines":[{"sku":"A","qty":6}],"reason":"broken seals"})", dealer);
  REQUIRE_MESSAGE(returned.status == 200, returned.body);
  CHECK(on_hand(h, "warehouse:W1", "A") == w1_before + 6);
  CHECK(h.post("/v1/orders/O1/return", R"({"lines":[{"sku":"A","qty":60}],"reason":"all"})", dealer).status == 409);

  Reply got = h.get("/v1/orders/O1", dealer);
  REQUIRE(got.status == 200);
  std::vector<std::string> kinds;
  auto order = got.json();
  for (const auto& t : order.at("timeline").as_array()) kinds.emplace_back(t.at("kind").as_string());
  CHECK(kinds == std::vector<std::string>{"placed", "allocated", "shipped", "shipped", "delivered", "completed", "returned"});
  CHECK(got.json().at("approval_latency_us").as_int64() == 0);
  CHECK(!got.header("X-Ledger-Seq").empty());
}

TEST_CASE("bad orders get a clear error and write nothing") {
  ApiHarness h;
  h.network();
  auto seq = [&] { return h.engine->last_seq(); };
  std::uint64_t before = seq();
  const std::string a60 = R"([{"sku":"A","qty":60,"unit_price_cents":70000}])";
  struct Case {
    std::string body;
    unsigned status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"{not json", 400, "malformed_json"},
      {order_body("O1", "dealer:D1", "hq", a60, R"(,"colour":"red")"), 400, "unknown_field"},
      {order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":"60","unit_price_cents":1}])"), 400, "wrong_type"},
      {order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":-1,"unit_price_cents":1}])"), 400, "out_of_range"},
      {order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":99999999999,"unit_price_cents":1}])"), 400, "out_of_range"},
      {order_body("O1", "dealer:D1", "hq", R"([{"sku":"NOPE","qty":1,"unit_price_cents":1}])"), 404, "unknown_id"},
      {order_body("O1", "dealer:D9", "hq", a60), 404, "unknown_id"},
      {order_body("O1", "warehouse:W1", "hq", a60), 400, "invalid_argument"},
      {order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":100000,"unit_price_cents":1}])"), 422, "insufficient_stock"},
      {order_body("O1", "dealer:D1", "hq", a60, R"(,"coupons":["NEVER-ISSUED"])"), 422, "rule_violation"},
      {order_body("O1", "dealer:D1", "hq", "[]"), 400, "invalid_argument"},
      {R"({"id":"O1","type":"layaway","buyer":"dealer:D1","seller":"hq","channel":"o2o","ship_to":{"region":"R1","lat":1,"lon":1},"lines":[],"promised_by_us":1})",
       400, "invalid_argument"},
  };
  for (const auto& c : cases) {
    Reply r = h.post("/v1/orders", c.body, h.admin);
    CHECK_MESSAGE(r.status == c.status, c.body, " -> ", r.body);
    CHECK_MESSAGE(r.error_code() == c.code, c.body, " -> ", r.body);
  }
  Reply short_one = h.post("/v1/orders", order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":100000,"unit_price_cents":1}])"), h.admin);
  CHECK(short_one.json().at("error").at("details").at("sku").as_string() == "A");
  CHECK(short_one.json().at("error").at("details").at("short").as_int64() == 100000 - 850);
  CHECK(seq() == before);
  CHECK(h.get("/v1/orders/O1", h.admin).status == 404);
  CHECK(h.post("/v1/orders/NOPE/ship", "", h.admin).status == 404);
  CHECK(h.post("/v1/orders/O1/fly", "", h.admin).status == 404);
}

TEST_CASE("an Idempotency-Key replays the first answer; the same key with another body is 409") {
  ApiHarness h;
  h.network();
  std::string body = order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":6,"unit_price_cents":70000}])");
  Reply first = h.post("/v1/orders", body, h.admin, {{"Idempotency-Key", "k1"}});
  REQUIRE_MESSAGE(first.status == 201, first.body);
  std::uint64_t after = h.engine->last_seq();
  Reply again = h.post("/v1/orders", body, h.admin, {{"Idempotency-Key", "k1"}});
  CHECK(again.status == 201);
  CHECK(again.header("Idempotent-Replayed") == "true");
  CHECK(again.json().at("allocation") == first.json().at("allocation"));
  CHECK(h.engine->last_seq() == after);
  std::string other = order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":7,"unit_price_cents":70000}])");
  CHECK(h.post("/v1/orders", other, h.admin, {{"Idempotency-Key", "k1"}}).error_code() == "idempotency_mismatch");
  // Without a key the same id is a conflict, not a second order.
  CHECK(h.post("/v1/orders", body, h.admin).error_code() == "already_exists");
  CHECK(h.engine->last_seq() == after);
}

TEST_CASE("scope: parties see their own orders; approvals go to the right role in the right region") {
  ApiHarness h;
  h.network();
  // Orders of 1,000 yuan or more need the region manager; below the floor, the sales director.
  Reply policy = h.put("/v1/approval-policy",
                       R"({"rules":[{"step":"region_manager","min_amount_cents":100000},{"step":"sales_director","below_floor":true}]})",
                       h.admin);
  REQUIRE_MESSAGE(policy.status == 200, policy.body);
  std::string d1 = h.token("dealer", "D1"), d2 = h.token("dealer", "D2"), s1 = h.token("store", "S1");
  std::string rm1 = h.token("region_manager", "R1"), rm2 = h.token("region_manager", "R2");
  std::string director = h.token("sales_director"), finance = h.token("finance");
  CHECK(h.put("/v1/approval-policy", R"({"rules":[]})", d1).status == 403);
  CHECK(h.put("/v1/approval-policy", R"({"rules":[{"step":"janitor"}]})", h.admin).status == 400);

  // D1 buys from hq below the floor: both steps; stock is held meanwhile.
  Reply placed = h.post("/v1/orders", order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":6,"unit_price_cents":60000}])"), d1);
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  CHECK(status_of(placed) == "placed");
  CHECK(placed.json().at("approvals_required").as_array().size() == 2);
  // D1 cannot place for D2; D2 does not even see O1.
  CHECK(h.post("/v1/orders", order_body("O2", "dealer:D2", "hq", R"([{"sku":"A","qty":1,"unit_price_cents":70000}])"), d1).status == 403);
  CHECK(h.get("/v1/orders/O1", d2).status == 404);
  CHECK(h.post("/v1/orders/O1/cancel", R"({"reason":"x"})", d2).status == 404);
  CHECK(h.get("/v1/orders/O1", d1).status == 200);
  CHECK(h.get("/v1/orders/O1", rm1).status == 200);
  CHECK(h.get("/v1/orders/O1", rm2).status == 404);
  CHECK(h.get("/v1/orders", d2).json().at("rows").as_array().empty());
  CHECK(h.get("/v1/orders", d1).json().at("rows").as_array().size() == 1);
  // The wrong role, the wrong region, then the right ones.
  CHECK(h.post("/v1/orders/O1/approve", R"({"step":"region_manager"})", finance).error_code() == "forbidden");
  CHECK(h.post("/v1/orders/O1/approve", R"({"step":"region_manager"})", rm2).status == 404);  // not visible to R2
  CHECK(h.post("/v1/orders/O1/approve", R"({"step":"finance"})", finance).status == 400);    // not a required step
  CHECK(h.post("/v1/orders/O1/ship", "", h.admin).error_code() == "illegal_transition");
  Reply a1 = h.post("/v1/orders/O1/approve", R"({"step":"region_manager"})", rm1);
  REQUIRE_MESSAGE(a1.status == 200, a1.body);
  CHECK(status_of(a1) == "placed");
  CHECK(h.post("/v1/orders/O1/approve", R"({"step":"region_manager"})", rm1).error_code() == "illegal_transition");
  Reply a2 = h.post("/v1/orders/O1/approve", R"({"step":"sales_director"})", director);
  CHECK(status_of(a2) == "allocated");
  Reply got = h.get("/v1/orders/O1", h.admin);
  CHECK(got.json().at("approvals").as_array().size() == 2);
  CHECK(got.json().at("approval_latency_us").is_int64());

  // A rejected order releases its hold.
  Reply big = h.post("/v1/orders", order_body("O3", "dealer:D1", "hq", R"([{"sku":"B","qty":100,"unit_price_cents":20000}])"), d1);
  REQUIRE(status_of(big) == "placed");
  CHECK(h.get("/v1/stock/warehouse:W1/B", h.admin).json().at("reserved").as_int64() == 100);
  Reply rejected = h.post("/v1/orders/O3/reject", R"({"reason":"over budget"})", rm1);
  CHECK(status_of(rejected) == "rejected");
  CHECK(h.get("/v1/stock/warehouse:W1/B", h.admin).json().at("reserved").as_int64() == 0);

  // A dealer sells to its own store from its own stock; not to another dealer's store.
  Reply to_store = h.post("/v1/orders", order_body("O4", "store:S1", "dealer:D1", R"([{"sku":"A","qty":10,"unit_price_cents":85000}])"), d1);
  REQUIRE_MESSAGE(to_store.status == 201, to_store.body);
  CHECK(to_store.json().at("allocation").at(0).at("location").as_string() == "dealer:D1");
  CHECK(h.post("/v1/orders", order_body("O5", "store:S3", "dealer:D1", R"([{"sku":"A","qty":1,"unit_price_cents":85000}])"), d1)
            .error_code() == "rule_violation");
  CHECK(h.get("/v1/orders/O4", s1).status == 200);
  CHECK(h.get("/v1/orders?seller=dealer:D1", d1).json().at("rows").as_array().size() == 1);
}

TEST_CASE("a member reserves at a store and picks up; quotes rank warehouses and explain the score") {
  ApiHarness h;
  h.network();
  REQUIRE(h.put("/v1/members/M1", R"({"name":"Member one","home_store":"S1"})", h.admin).status == 200);
  CHECK(h.put("/v1/members/M2", R"({"name":"x","home_store":"S9"})", h.admin).status == 404);
  // Stock for store S1.
  REQUIRE(h.post("/v1/stock/transfers", R"({"id":"T-S1","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":12}]})", h.admin).status == 201);
  REQUIRE(h.post("/v1/stock/transfers/T-S1/receive", "", h.admin).status == 200);
  std::string member = h.token("member", "M1"), store = h.token("store", "S1");
  std::string body = fmt::format(
      R"({{"id":"R1","type":"reservation","buyer":"member:M1","seller":"store:S1","channel":"store",)"
      R"("ship_to":{{"region":"R1","lat":30.1,"lon":104.1}},"lines":[{{"sku":"A","qty":2,"unit_price_cents":100000}}],)"
      R"("promised_by_us":{},"pickup_at_us":{}}})",
      in_days(2), in_days(1));
  Reply placed = h.post("/v1/orders", body, member);
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  CHECK(status_of(placed) == "allocated");
  CHECK(h.get("/v1/stock/store:S1/A", store).json().at("available").as_int64() == 10);
  CHECK(h.post("/v1/orders/R1/deliver", "", member).status == 200);  // the member confirms the pickup
  CHECK(status_of(h.get("/v1/orders/R1", store)) == "delivered");
  CHECK(h.get("/v1/stock/store:S1/A", store).json().at("on_hand").as_int64() == 10);

  // W1 is in Chengdu, W2 in Xi'an; give W2 stock too, then quote for a point near Chengdu.
  REQUIRE(h.post("/v1/stock/receipts", R"({"warehouse":"W2","lines":[{"sku":"A","qty":500}],"ref":"BATCH-2"})", h.admin).status == 201);
  std::string quote = fmt::format(
      R"({{"ship_to":{{"region":"R1","lat":30.6,"lon":104.0}},"lines":[{{"sku":"A","qty":100}}],"promised_by_us":{},"plans":2}})",
      in_days(3));
  Reply q;
  for (int i = 0; i < 100; ++i) {  // the stock table follows the log: wait for the receipt
    q = h.post("/v1/sourcing/quote", quote, h.admin);
    if (q.status == 200 && q.json().at("plans").as_array().size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE_MESSAGE(q.status == 200, q.body);
  auto plans = q.json().at("plans").as_array();
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].at("allocation").at(0).at("location").as_string() == "warehouse:W1");
  CHECK(plans[0].at("score").as_double() > plans[1].at("score").as_double());
  CHECK(plans[0].at("scores").as_object().size() == 12);
  CHECK(plans[0].at("dimensions").at("distance_km").as_double() < plans[1].at("dimensions").at("distance_km").as_double());
  // Weights can make distance irrelevant and region affinity everything: W2 is in R2, W1 in R1.
  REQUIRE(h.put("/v1/sourcing/weights", R"({"weights":[{"dimension":"nonsense","weight_permille":1}]})", h.admin).status == 400);
  CHECK(h.post("/v1/sourcing/quote", R"({"ship_to":{"region":"R1","lat":1,"lon":1},"lines":[{"sku":"NOPE","qty":1}],"promised_by_us":1})", h.admin).status == 404);
  CHECK(h.post("/v1/sourcing/quote", quote, store).status == 403);
  std::string bad_channel = quote;
  bad_channel.replace(bad_channel.find(R"("plans")"), 0, R"("channel":"telepathy",)");
  Reply refused = h.post("/v1/sourcing/quote", bad_channel, h.admin);
  CHECK(refused.status == 400);
  CHECK(refused.body.find("channel") != std::string::npos);
  CHECK(h.engine->stats().stale_plans == 0);
}

TEST_CASE("presale: orders against an announced batch are allocated first come, first served when it arrives") {
  ApiHarness h;
  h.network();
  Reply batch = h.post("/v1/presale-batches",
                       fmt::format(R"({{"id":"MA-2026","sku":"B","warehouse":"W2","quota_qty":100,"expected_at_us":{}}})", in_days(10)),
                       h.admin);
  REQUIRE_MESSAGE(batch.status == 201, batch.body);
  auto presale = [&](const std::string& id, int qty) {
    return fmt::format(
        R"({{"id":"{}","type":"presale","buyer":"dealer:D1","seller":"hq","channel":"regional_storefront",)"
        R"("ship_to":{{"region":"R1","lat":30.6,"lon":104.1}},"lines":[{{"sku":"B","qty":{}}}],"promised_by_us":{}}})",
        id, qty, in_days(20));
  };
  // Unit prices are required on every line.
  CHECK(h.post("/v1/orders", presale("P1", 60), h.admin).error_code() == "missing_field");
  auto priced = [&](const std::string& id, int qty) {
    std::string b = presale(id, qty);
    return b.replace(b.find(R"("qty":)"), 0, R"("unit_price_cents":20000,)");
  };
  REQUIRE(status_of(h.post("/v1/orders", priced("P1", 60), h.admin)) == "approved");
  REQUIRE(status_of(h.post("/v1/orders", priced("P2", 30), h.admin)) == "approved");
  CHECK(h.post("/v1/orders", priced("P3", 20), h.admin).error_code() == "rule_violation");  // 10 left
  REQUIRE(h.post("/v1/orders", priced("P4", 10), h.admin).status == 201);
  // 80 arrive: P1 (60) then P2 needs 30 but 20 are left: it waits, and P4 does not jump the queue.
  REQUIRE(h.post("/v1/stock/receipts", R"({"warehouse":"W2","lines":[{"sku":"B","qty":80}],"ref":"MA-2026"})", h.admin).status == 201);
  CHECK(status_of(h.get("/v1/orders/P1", h.admin)) == "allocated");
  CHECK(status_of(h.get("/v1/orders/P2", h.admin)) == "approved");
  CHECK(status_of(h.get("/v1/orders/P4", h.admin)) == "approved");
  CHECK(h.get("/v1/stock/warehouse:W2/B", h.admin).json().at("available").as_int64() == 20);
}

TEST_CASE("a stale plan proposed from the stock table is matched again by the writer, which never oversells") {
  ApiHarness h;
  h.network();
  PlaceOrder c;
  c.id = "O-STALE";
  c.buyer = "dealer:D1";
  c.seller = "hq";
  c.channel = "dealer_storefront";
  c.ship_to_region = "R1";
  c.ship_to_lat_e6 = 30'600'000;
  c.ship_to_lon_e6 = 104'100'000;
  c.lines = {{"A", 12, 70000}};
  c.promised_by_us = in_days(3);
  c.proposed = {{"warehouse:W2", "A", 12, {}}};  // W2 holds no A: what a stale read could propose
  auto r = h.engine->execute(Command{"", Actor{"test", "hq_admin", ""}, c});
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  CHECK(h.engine->stats().stale_plans == 1);
  Reply got = h.get(fmt::format("/v1/orders/O-STALE?min_seq={}", r->last_seq), h.admin);
  REQUIRE(got.status == 200);
  CHECK(got.json().at("allocation").at(0).at("location").as_string() == "warehouse:W1");
  // A proposal that still fits is kept as it is.
  c.id = "O-FRESH";
  c.proposed = {{"warehouse:W1", "A", 12, {}}};
  REQUIRE(h.engine->execute(Command{"", Actor{"test", "hq_admin", ""}, c}).ok());
  CHECK(h.engine->stats().stale_plans == 1);
  CHECK(h.get("/metrics", "").body.find("ledger_writer_stale_plans_total 1") != std::string::npos);
}

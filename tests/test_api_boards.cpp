// Boards, dealer health, replenishment, turnover and alerts over HTTP against a real server: what a BI
// tool and the board page read, the errors they can meet, and who sees which rows.
#include <chrono>

#include "api_harness.hpp"

using namespace ledger;
using test::ApiHarness;
using test::Reply;

TEST_SUITE_BEGIN("api");

namespace {

std::int64_t in_days(int days) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return now.count() + days * 24LL * 3600 * 1'000'000;
}

std::string order_body(const std::string& id, const std::string& buyer, const std::string& seller,
                       const std::string& lines) {
  return fmt::format(R"({{"id":"{}","type":"spot","buyer":"{}","seller":"{}","channel":"dealer_storefront",)"
                     R"("ship_to":{{"region":"R1","lat":30.6,"lon":104.1}},"lines":{},"promised_by_us":{}}})",
                     id, buyer, seller, lines, in_days(3));
}

// A network with two orders: hq sells 60 A to D1; D1 sells 3 A to its store S1 under the supply floor.
struct Boards {
  ApiHarness h;
  std::string d1, d2, s1, s3, r1, r2, member, auditor;
  std::uint64_t seq = 0;
  Boards() {
    h.network();
    d1 = h.token("dealer", "D1");
    d2 = h.token("dealer", "D2");
    s1 = h.token("store", "S1");
    s3 = h.token("store", "S3");
    r1 = h.token("region_manager", "R1");
    r2 = h.token("region_manager", "R2");
    member = h.token("member", "M1");
    auditor = h.token("auditor");
    Reply a = h.post("/v1/orders",
                     order_body("O1", "dealer:D1", "hq", R"([{"sku":"A","qty":60,"unit_price_cents":70000}])"), d1);
    REQUIRE_MESSAGE(a.status == 201, a.body);
    Reply b =
        h.post("/v1/orders",
               order_body("O2", "store:S1", "dealer:D1", R"([{"sku":"A","qty":3,"unit_price_cents":79000}])"), d1);
    REQUIRE_MESSAGE(b.status == 201, b.body);
    seq = std::stoull(b.header("X-Ledger-Seq"));
  }
  Reply get(const std::string& target, const std::string& token) { return h.get_at(target, token, seq); }
  std::size_t rows(const std::string& target, const std::string& token) {
    Reply r = get(target, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json().at("rows").as_array().size();
  }
};

}  // namespace

TEST_CASE("sales board over HTTP: rows by the asked keys and bucket, top-N, and read-your-writes with min_seq") {
  Boards b;
  Reply r = b.get("/v1/boards/sales?group_by=dealer,store&bucket=day", b.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::stoull(r.header("X-Ledger-Seq")) >= b.seq);
  auto rows = r.json().at("rows").as_array();
  REQUIRE(rows.size() == 2);
  // hq -> D1 has no store; D1 -> S1 is the store's row. Ordered by keys.
  CHECK(rows[0].at("dealer").as_string() == "D1");
  CHECK(rows[0].at("store").as_string() == "");
  CHECK(rows[0].at("orders").as_int64() == 1);
  CHECK(rows[0].at("units").as_int64() == 60);
  CHECK(rows[0].at("revenue_cents").as_int64() == 60 * 70000);
  CHECK(rows[1].at("store").as_string() == "S1");
  CHECK(rows[1].at("revenue_cents").as_int64() == 3 * 79000);
  CHECK_FALSE(rows[0].as_object().contains("sku"));  // not grouped by it
  // Everything in one row; top-N by revenue.
  Reply all = b.get("/v1/boards/sales?bucket=month", b.h.admin);
  REQUIRE(all.json().at("rows").as_array().size() == 1);
  CHECK(all.json().at("rows").at(0).at("orders").as_int64() == 2);
  Reply top = b.get("/v1/boards/sales?group_by=store&top=1", b.auditor);
  REQUIRE(top.json().at("rows").as_array().size() == 1);
  CHECK(top.json().at("rows").at(0).at("store").as_string() == "");  // hq's sale is the bigger
  // Pages: one row per page, the cursor leads to the next.
  Reply p1 = b.get("/v1/boards/sales?group_by=store&limit=1", b.h.admin);
  REQUIRE(p1.json().at("next").is_string());
  Reply p2 = b.get(
      fmt::format("/v1/boards/sales?group_by=store&limit=1&after={}", std::string(p1.json().at("next").as_string())),
      b.h.admin);
  REQUIRE(p2.json().at("rows").as_array().size() == 1);
  CHECK(p2.json().at("rows").at(0).at("store").as_string() == "S1");
  CHECK(p2.json().at("next").is_null());
  // A time range after everything: no rows.
  CHECK(b.rows(fmt::format("/v1/boards/sales?from_us={}", in_days(1)), b.h.admin) == 0);
}

TEST_CASE("sales board over HTTP: each role sees its own rows only; members see none") {
  Boards b;
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.d1) == 2);
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.d2) == 0);
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.s1) == 1);
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.s3) == 0);
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.r1) == 2);  // both ship to R1
  CHECK(b.rows("/v1/boards/sales?group_by=store", b.r2) == 0);
  CHECK(b.get("/v1/boards/sales", b.member).status == 403);
  CHECK(b.get("/v1/boards/latency", b.member).status == 403);
  CHECK(b.get("/v1/boards/latency?region=R1", b.r2).status == 403);
  Reply own = b.get("/v1/boards/latency", b.r1);
  REQUIRE_MESSAGE(own.status == 200, own.body);
  CHECK(own.json().at("approval_latency").at("count").as_int64() == 0);
  CHECK(b.h.get("/v1/boards/sales", "").status == 401);
}

TEST_CASE("sales board over HTTP: bad parameters get 400 naming the field") {
  Boards b;
  auto code = [&](const std::string& target) {
    Reply r = b.get(target, b.h.admin);
    CHECK_MESSAGE(r.status == 400, target << " -> " << r.status << " " << r.body);
    return r.status == 400 ? r.error_code() : std::string();
  };
  CHECK(code("/v1/boards/sales?group_by=region,colour") == "unknown_group");
  CHECK(code("/v1/boards/sales?bucket=week") == "unknown_bucket");
  CHECK(code("/v1/boards/sales?limit=0") == "out_of_range");
  CHECK(code("/v1/boards/sales?limit=10001") == "out_of_range");
  CHECK(code("/v1/boards/sales?top=0") == "out_of_range");
  CHECK(code("/v1/boards/sales?from_us=yesterday") == "out_of_range");
  CHECK(code("/v1/boards/sales?to_us=-5") == "out_of_range");
  CHECK(code("/v1/boards/sales?after=nonsense") == "bad_cursor");
  CHECK(code("/v1/alerts?kind=fire") == "unknown_kind");
  CHECK(code("/v1/alerts?after_seq=x") == "out_of_range");
  CHECK(code("/v1/replenishment") == "missing_field");
  CHECK(code("/v1/turnover?location=warehouse:W1&window_days=0") == "out_of_range");
  CHECK(code("/v1/turnover?location=warehouse:W1&window_days=91") == "out_of_range");
  CHECK(b.get("/v1/boards/nothing", b.h.admin).status == 404);
}

TEST_CASE("dealer health over HTTP: a score with its components, next to the credit limit; a dealer sees its own") {
  Boards b;
  Reply r = b.get("/v1/dealers/D1/health", b.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto j = r.json();
  std::int64_t score = j.at("score").as_int64();
  CHECK(score >= 0);
  CHECK(score <= 100);
  CHECK(j.at("tier").as_string().size() == 1);
  CHECK(j.at("credit_limit_cents").as_int64() == 100000);
  CHECK(j.at("components").as_object().size() == 8);
  CHECK(j.at("figures").at("orders_90d").as_int64() == 1);
  CHECK(j.at("figures").at("violations_90d").as_int64() == 1);  // O2 under the floor
  CHECK(b.get("/v1/dealers/D1/health", b.d1).status == 200);
  CHECK(b.get("/v1/dealers/D1/health", b.d2).status == 404);  // never another dealer's
  CHECK(b.get("/v1/dealers/D1/health", b.r2).status == 404);
  CHECK(b.get("/v1/dealers/D1/health", b.r1).status == 200);
  CHECK(b.get("/v1/dealers/D1/health", b.member).status == 404);
  CHECK(b.get("/v1/dealers/NOPE/health", b.h.admin).status == 404);
  CHECK(b.rows("/v1/health/dealers", b.h.admin) == 2);
  CHECK(b.rows("/v1/health/dealers", b.r1) == 1);
  CHECK(b.get("/v1/health/dealers", b.d1).status == 403);
}

TEST_CASE("replenishment and turnover over HTTP: rows per SKU of a visible stocking location") {
  Boards b;
  Reply r = b.get("/v1/replenishment?location=warehouse:W1", b.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto rows = r.json().at("rows").as_array();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("sku").as_string() == "A");
  CHECK(rows[0].at("available").as_int64() == 1000 - 150 - 60);  // two transfers out, O1 held
  CHECK(rows[0].at("lead_time_days").as_int64() == 14);
  CHECK(rows[0].as_object().contains("reorder_point"));
  CHECK(rows[0].as_object().contains("suggested_qty"));
  Reply t = b.get("/v1/turnover?location=dealer:D1&window_days=7", b.d1);
  REQUIRE_MESSAGE(t.status == 200, t.body);
  REQUIRE(t.json().at("rows").as_array().size() == 1);
  CHECK(t.json().at("rows").at(0).at("on_hand").as_int64() == 100);
  CHECK(t.json().at("window_days").as_int64() == 7);
  CHECK(b.get("/v1/turnover?location=dealer:D1", b.d2).status == 404);
  CHECK(b.get("/v1/replenishment?location=warehouse:W1", b.d1).status == 404);
  CHECK(b.get("/v1/replenishment?location=transit:T-D1", b.h.admin).status == 404);  // not a stocking location
  CHECK(b.get("/v1/replenishment?location=nowhere", b.h.admin).status == 404);
}

TEST_CASE("alerts over HTTP: a price violation, seen by the parties it concerns") {
  Boards b;
  Reply r = b.get("/v1/alerts?kind=price", b.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto rows = r.json().at("rows").as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("subject").as_string() == "order:O2");
  CHECK(rows[0].at("dealer").as_string() == "D1");
  CHECK(rows[0].at("store").as_string() == "S1");
  std::int64_t alert_seq = rows[0].at("seq").as_int64();
  CHECK(b.rows("/v1/alerts?kind=price", b.d1) == 1);
  CHECK(b.rows("/v1/alerts?kind=price", b.s1) == 1);
  CHECK(b.rows("/v1/alerts?kind=price", b.d2) == 0);
  CHECK(b.rows("/v1/alerts?kind=price", b.r2) == 0);
  CHECK(b.rows(fmt::format("/v1/alerts?kind=price&after_seq={}", alert_seq), b.h.admin) == 0);
  CHECK(b.get("/v1/alerts", b.member).status == 403);
}

TEST_CASE("a party's orders and its open orders come from the order index, newest first") {
  Boards b;
  auto ids = [&](const std::string& target, const std::string& token) {
    Reply r = b.get(target, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto page = r.json();  // kept: a loop over a temporary's array would read freed memory
    std::string out;
    for (const auto& row : page.at("rows").as_array()) out += std::string(row.at("id").as_string()) + ";";
    return out;
  };
  CHECK(ids("/v1/orders?seller=dealer:D1", b.d1) == "O2;");
  CHECK(ids("/v1/orders?buyer=dealer:D1&open=true", b.d1) == "O1;");
  Reply more =
      b.h.post("/v1/orders",
               order_body("O3", "store:S1", "dealer:D1", R"([{"sku":"A","qty":1,"unit_price_cents":85000}])"), b.d1);
  REQUIRE_MESSAGE(more.status == 201, more.body);
  b.seq = std::stoull(more.header("X-Ledger-Seq"));
  CHECK(ids("/v1/orders?seller=dealer:D1", b.d1) == "O3;O2;");
  CHECK(ids("/v1/orders?buyer=store:S1&limit=1", b.s1) == "O3;");
  Reply cancel = b.h.post("/v1/orders/O2/cancel", R"({"reason":"wrong price"})", b.d1);
  REQUIRE_MESSAGE(cancel.status == 200, cancel.body);
  b.seq = std::stoull(cancel.header("X-Ledger-Seq"));
  CHECK(ids("/v1/orders?seller=dealer:D1&open=true", b.d1) == "O3;");
  CHECK(ids("/v1/orders?seller=dealer:D1&open=false", b.d1) == "O3;O2;");
  CHECK(ids("/v1/orders?seller=dealer:D1", b.d2) == "");  // another dealer's orders are not its to see
  CHECK(b.get("/v1/orders?open=maybe", b.h.admin).status == 400);
}

TEST_CASE("the board page is served without a token, self-contained") {
  ApiHarness h;
  Reply r = h.get("/board", "");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").find("text/html") == 0);
  CHECK(r.header("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
  CHECK(r.body.find("/v1/events") != std::string::npos);  // it follows the event stream
  // It fetches nothing from elsewhere: the only absolute URL is the SVG namespace name.
  std::string text = r.body;
  for (std::size_t at; (at = text.find("http://www.w3.org/2000/svg")) != std::string::npos;) text.erase(at, 26);
  CHECK(text.find("http://") == std::string::npos);
  CHECK(text.find("https://") == std::string::npos);
}

TEST_SUITE_END();

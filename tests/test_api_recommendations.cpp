// GET /v1/members/{id}/recommendations against a real server: a ranking with its reasons, the limit,
// 404 for an unknown member, 400 for a limit out of range, and who may ask for which member.
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

// The harness network plus SKU C; members M1 M2 at S1 (D1, R1) and M3 at S3 (D2, R2). Delivered:
// M1 buys A and B, M2 A and C, then M1 B alone; M3 buys A in R2.
struct Members {
  ApiHarness h;
  std::uint64_t seq = 0;
  Members() {
    h.network();
    ok(h.put(
        "/v1/skus/C",
        R"({"name":"Gift set","case_units":6,"prices":{"wholesale_cents":30000,"supply_cents":35000,"retail_cents":40000}})",
        h.admin));
    ok(h.post("/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"C","qty":100}],"ref":"BATCH-C"})", h.admin));
    ok(h.put("/v1/members/M1", R"({"name":"Member one","home_store":"S1"})", h.admin));
    ok(h.put("/v1/members/M2", R"({"name":"Member two","home_store":"S1"})", h.admin));
    ok(h.put("/v1/members/M3", R"({"name":"Member three","home_store":"S3"})", h.admin));
    delivered("O1", "M1", "R1",
              R"([{"sku":"A","qty":2,"unit_price_cents":100000},{"sku":"B","qty":1,"unit_price_cents":30000}])");
    delivered("O2", "M2", "R1",
              R"([{"sku":"A","qty":1,"unit_price_cents":100000},{"sku":"C","qty":4,"unit_price_cents":40000}])");
    delivered("O3", "M1", "R1", R"([{"sku":"B","qty":1,"unit_price_cents":30000}])");
    delivered("O4", "M3", "R2", R"([{"sku":"A","qty":3,"unit_price_cents":100000}])");
  }
  void ok(const Reply& r) {
    REQUIRE_MESSAGE(r.status / 100 == 2, r.body);
    seq = std::max<std::uint64_t>(seq, std::stoull(r.header("X-Ledger-Seq")));
  }
  void delivered(const std::string& id, const std::string& member, const std::string& region,
                 const std::string& lines) {
    ok(h.post(
        "/v1/orders",
        fmt::format(R"({{"id":"{}","type":"spot","buyer":"member:{}","seller":"hq","channel":"regional_storefront",)"
                    R"("ship_to":{{"region":"{}","lat":30.6,"lon":104.1}},"lines":{},"promised_by_us":{}}})",
                    id, member, region, lines, in_days(3)),
        h.admin));
    ok(h.post(fmt::format("/v1/orders/{}/ship", id), "", h.admin));
    ok(h.post(fmt::format("/v1/orders/{}/deliver", id), "", h.admin));
  }
  Reply get(const std::string& target, const std::string& token) { return h.get_at(target, token, seq); }
  // "sku:score:reason@with;" per row.
  std::string ranked(const std::string& target, const std::string& token) {
    Reply r = get(target, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto j = r.json();  // kept: the loop reads into it
    std::string out;
    for (const auto& row : j.at("rows").as_array()) {
      const auto& o = row.as_object();
      out += fmt::format("{}:{}:{}{};", std::string(o.at("sku").as_string()), o.at("score").as_int64(),
                         std::string(o.at("reason").as_string()),
                         o.contains("with_sku") ? "@" + std::string(o.at("with_sku").as_string()) : "");
    }
    return out;
  }
};

}  // namespace

TEST_CASE(
    "recommendations over HTTP: co-purchases with the member's last order, then its region's most popular; "
    "the limit; unknown members 404; a limit out of range 400") {
  Members m;
  // M1 last bought B, which went with A once; C is R1's most popular of the rest (4 units).
  Reply r = m.get("/v1/members/M1/recommendations", m.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::stoull(r.header("X-Ledger-Seq")) >= m.seq);
  CHECK(r.json().at("member").as_string() == "M1");
  CHECK(m.ranked("/v1/members/M1/recommendations", m.h.admin) == "A:1:co_purchase@B;C:4:popular_in_region;");
  CHECK(m.ranked("/v1/members/M1/recommendations?limit=1", m.h.admin) == "A:1:co_purchase@B;");
  // M2 last bought A and C: B went with A once; nothing else was sold in R1.
  CHECK(m.ranked("/v1/members/M2/recommendations", m.h.admin) == "B:1:co_purchase@A;");
  // M3 last bought A (in R2): B and C each went with it once.
  CHECK(m.ranked("/v1/members/M3/recommendations?limit=100", m.h.admin) == "B:1:co_purchase@A;C:1:co_purchase@A;");

  Reply unknown = m.get("/v1/members/NOPE/recommendations", m.h.admin);
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "not_found");
  for (const char* limit : {"0", "101", "ten", "-1"}) {
    Reply bad = m.get(fmt::format("/v1/members/M1/recommendations?limit={}", limit), m.h.admin);
    CHECK_MESSAGE(bad.status == 400, limit);
    CHECK(bad.error_code() == "out_of_range");
  }
  CHECK(m.get("/v1/members/M1/recommendations/more", m.h.admin).status == 404);
  CHECK(m.h.get("/v1/members/M1/recommendations", "").status == 401);
  Reply doc = m.h.get("/v1/openapi.json", "");
  REQUIRE(doc.status == 200);
  CHECK(doc.json().at("paths").as_object().contains("/v1/members/{id}/recommendations"));
}

TEST_CASE(
    "recommendations over HTTP: a member asks for itself; stores, dealers and regions for their members; "
    "global readers for all") {
  Members m;
  auto status = [&](const std::string& member, const std::string& token) {
    return m.get(fmt::format("/v1/members/{}/recommendations", member), token).status;
  };
  std::string m1 = m.h.token("member", "M1");
  CHECK(status("M1", m1) == 200);
  CHECK(status("M2", m1) == 404);  // another member: as unknown
  std::string s1 = m.h.token("store", "S1"), s3 = m.h.token("store", "S3"), s2 = m.h.token("store", "S2");
  CHECK(status("M1", s1) == 200);
  CHECK(status("M2", s1) == 200);
  CHECK(status("M3", s1) == 404);
  CHECK(status("M3", s3) == 200);
  CHECK(status("M1", s2) == 404);  // D1's other store: not M1's home
  std::string d1 = m.h.token("dealer", "D1"), d2 = m.h.token("dealer", "D2");
  CHECK(status("M1", d1) == 200);
  CHECK(status("M3", d1) == 404);
  CHECK(status("M3", d2) == 200);
  CHECK(status("M2", d2) == 404);
  std::string r1 = m.h.token("region_manager", "R1"), r2 = m.h.token("region_manager", "R2");
  CHECK(status("M2", r1) == 200);
  CHECK(status("M3", r1) == 404);
  CHECK(status("M3", r2) == 200);
  for (const char* role : {"auditor", "sales_director", "finance"}) {
    std::string t = m.h.token(role);
    INFO(role);
    CHECK(status("M1", t) == 200);
    CHECK(status("M3", t) == 200);
  }
}

TEST_SUITE_END();

// GET /v1/lots/{lot} against a real server: a lot's hops, holders and first dealer, the channel conflict
// alert it raises, 404 for an unknown lot, and who sees which lot and which of its rows.
#include "api_harness.hpp"

using namespace ledger;
using test::ApiHarness;
using test::Reply;

TEST_SUITE_BEGIN("api");

namespace {

// The harness network, then lot L1 received at W1 and sent down to D1, on to D2's store S3 in R2 (outside
// D1's territory) and D1's own store S1; lot L2 stays at W1.
struct Lots {
  ApiHarness h;
  std::uint64_t seq = 0;
  Lots() {
    h.network();
    ok(h.post(
        "/v1/stock/receipts",
        R"({"warehouse":"W1","lines":[{"sku":"A","qty":50,"lot":"L1"},{"sku":"B","qty":5,"lot":"L2"}],"ref":"BATCH-L"})",
        h.admin));
    transfer("T-L1", "warehouse:W1", "dealer:D1", 30);
    transfer("T-L2", "dealer:D1", "store:S3", 10);
    transfer("T-L3", "dealer:D1", "store:S1", 5);
  }
  void ok(const Reply& r) {
    REQUIRE_MESSAGE(r.status / 100 == 2, r.body);
    seq = std::max<std::uint64_t>(seq, std::stoull(r.header("X-Ledger-Seq")));
  }
  void transfer(const std::string& id, const std::string& from, const std::string& to, int qty) {
    ok(h.post("/v1/stock/transfers",
              fmt::format(R"({{"id":"{}","from":"{}","to":"{}","lines":[{{"sku":"A","qty":{},"lot":"L1"}}]}})", id,
                          from, to, qty),
              h.admin));
    ok(h.post(fmt::format("/v1/stock/transfers/{}/receive", id), "", h.admin));
  }
  Reply get(const std::string& target, const std::string& token) { return h.get_at(target, token, seq); }
  // "location=qty;" per holder and "kind from->to qty;" per movement, as `token` sees lot L1.
  std::pair<std::string, std::string> rows(const std::string& lot, const std::string& token) {
    Reply r = get("/v1/lots/" + lot, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto j = r.json();  // kept: loops below read into it
    std::string holders, movements;
    for (const auto& x : j.at("holders").as_array()) {
      holders += fmt::format("{}={};", std::string(x.at("location").as_string()), x.at("qty").as_int64());
    }
    for (const auto& x : j.at("movements").as_array()) {
      movements +=
          fmt::format("{} {}->{} {};", std::string(x.at("kind").as_string()), std::string(x.at("from").as_string()),
                      std::string(x.at("to").as_string()), x.at("qty").as_int64());
    }
    return {holders, movements};
  }
};

}  // namespace

TEST_CASE("lots over HTTP: every hop of a lot, who holds it, its first dealer; unknown lots are 404") {
  Lots l;
  Reply r = l.get("/v1/lots/L1", l.h.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::stoull(r.header("X-Ledger-Seq")) >= l.seq);
  auto j = r.json();
  CHECK(j.at("lot").as_string() == "L1");
  CHECK(j.at("skus").as_array().size() == 1);
  CHECK(j.at("skus").at(0).as_string() == "A");
  CHECK(j.at("first_dealer").as_string() == "D1");
  CHECK(j.at("movements_dropped").as_int64() == 0);
  const auto& first = j.at("movements").at(0);
  CHECK(first.at("kind").as_string() == "received");
  CHECK(first.at("sku").as_string() == "A");
  CHECK(first.at("seq").as_int64() > 0);
  CHECK(first.at("ts_us").as_int64() > 0);
  auto [holders, movements] = l.rows("L1", l.h.admin);
  CHECK(holders == "dealer:D1=15;store:S1=5;store:S3=10;warehouse:W1=20;");
  CHECK(movements ==
        "received production->warehouse:W1 50;"
        "transfer_shipped warehouse:W1->transit:T-L1 30;transfer_received transit:T-L1->dealer:D1 30;"
        "transfer_shipped dealer:D1->transit:T-L2 10;transfer_received transit:T-L2->store:S3 10;"
        "transfer_shipped dealer:D1->transit:T-L3 5;transfer_received transit:T-L3->store:S1 5;");
  Reply l2 = l.get("/v1/lots/L2", l.h.admin);
  REQUIRE_MESSAGE(l2.status == 200, l2.body);
  CHECK(l2.json().at("first_dealer").is_null());  // no dealer received it yet

  Reply unknown = l.get("/v1/lots/NOPE", l.h.admin);
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "not_found");
  CHECK(l.get("/v1/lots", l.h.admin).status == 404);
  CHECK(l.get("/v1/lots/L1/more", l.h.admin).status == 404);
  CHECK(l.h.get("/v1/lots/L1", "").status == 401);
  Reply doc = l.h.get("/v1/openapi.json", "");
  REQUIRE(doc.status == 200);
  CHECK(doc.json().at("paths").as_object().contains("/v1/lots/{lot}"));
}

TEST_CASE(
    "lots over HTTP: the lot reaching D2's store outside D1's territory is one channel conflict, seen by "
    "the store's dealer and region") {
  Lots l;
  std::string d1 = l.h.token("dealer", "D1"), d2 = l.h.token("dealer", "D2");
  std::string r1 = l.h.token("region_manager", "R1"), r2 = l.h.token("region_manager", "R2");
  std::string s3 = l.h.token("store", "S3");
  auto subjects = [&](const std::string& token) {
    Reply r = l.get("/v1/alerts?kind=channel_conflict", token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto j = r.json();
    std::string out;
    for (const auto& a : j.at("rows").as_array()) out += std::string(a.at("subject").as_string()) + ";";
    return out;
  };
  CHECK(subjects(l.h.admin) == "lot:L1;");
  CHECK(subjects(r2) == "lot:L1;");
  CHECK(subjects(d2) == "lot:L1;");
  CHECK(subjects(s3) == "lot:L1;");
  CHECK(subjects(d1) == "");
  CHECK(subjects(r1) == "");
}

TEST_CASE(
    "lots over HTTP: global readers see every lot whole; regions, dealers and stores the lots that touched "
    "them, with the rows they may see; members are refused") {
  Lots l;
  for (const char* role : {"auditor", "sales_director", "finance"}) {
    INFO(role);
    CHECK(l.rows("L1", l.h.token(role)) == l.rows("L1", l.h.admin));
  }
  // R1 holds W1, D1 and S1; S3 is R2's.
  auto r1 = l.rows("L1", l.h.token("region_manager", "R1"));
  CHECK(r1.first == "dealer:D1=15;store:S1=5;warehouse:W1=20;");
  CHECK(r1.second.find("->store:S3") == std::string::npos);
  CHECK(r1.second.find("dealer:D1->transit:T-L2") != std::string::npos);  // D1's side of that hop
  auto r2 = l.rows("L1", l.h.token("region_manager", "R2"));
  CHECK(r2.first == "store:S3=10;");
  CHECK(r2.second == "transfer_received transit:T-L2->store:S3 10;");
  // A dealer: its own location and its stores'.
  auto d1 = l.rows("L1", l.h.token("dealer", "D1"));
  CHECK(d1.first == "dealer:D1=15;store:S1=5;");
  std::string d2 = l.h.token("dealer", "D2");
  CHECK(l.rows("L1", d2).first == "store:S3=10;");
  CHECK(l.get("/v1/lots/L2", d2).status == 404);  // L2 never left W1
  CHECK(l.get("/v1/lots/L2", l.h.token("dealer", "D1")).status == 404);
  CHECK(l.get("/v1/lots/L2", l.h.token("region_manager", "R1")).status == 200);
  CHECK(l.get("/v1/lots/L2", l.h.token("region_manager", "R2")).status == 404);
  // A store: only a lot that touched it.
  CHECK(l.rows("L1", l.h.token("store", "S1")).first == "store:S1=5;");
  Reply s2 = l.get("/v1/lots/L1", l.h.token("store", "S2"));
  CHECK(s2.status == 404);
  CHECK(s2.error_code() == "not_found");
  Reply member = l.get("/v1/lots/L1", l.h.token("member", "M1"));
  CHECK(member.status == 403);
  CHECK(member.error_code() == "forbidden");
}

TEST_SUITE_END();

// The HTTP API against a real server on a loopback port: every endpoint's happy path, every kind of
// bad input (each writing nothing), scope isolation for every role, idempotent retries,
// read-your-writes, SSE with resume, limits on bodies, time and connections, and overload.
#include <thread>

#include "api_harness.hpp"

using namespace ledger;
using test::ApiHarness;
using test::Header;
using test::Reply;
namespace http = boost::beast::http;

TEST_SUITE_BEGIN("api");

TEST_CASE("health, metrics and the OpenAPI document need no token; the document lists every route") {
  ApiHarness h;
  Reply health = h.get("/healthz", "");
  CHECK(health.status == 200);
  CHECK(health.json().at("status").as_string() == "ok");
  CHECK(!health.header("X-Request-Id").empty());
  Reply metrics = h.get("/metrics", "");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("ledger_http_requests_total{route=\"other\",status=\"2xx\"}") != std::string::npos);
  CHECK(metrics.body.find("ledger_writer_batches_total") != std::string::npos);
  CHECK(metrics.body.find("ledger_projection_lag_events") != std::string::npos);
  CHECK(metrics.body.find("ledger_subscriber_lag_events 0") != std::string::npos);
  CHECK(metrics.body.find("ledger_http_request_duration_seconds_bucket") != std::string::npos);
  CHECK(metrics.body.find("ledger_log_bytes") != std::string::npos);
  CHECK(metrics.body.find("ledger_writer_stale_plans_total 0") != std::string::npos);
  Reply doc = h.get("/v1/openapi.json", "");
  REQUIRE(doc.status == 200);
  auto paths = doc.json().at("openapi").as_string() == "3.0.3" ? doc.json().at("paths").as_object() : boost::json::object{};
  for (const char* p : {"/v1/regions/{id}", "/v1/warehouses/{id}", "/v1/dealers/{id}", "/v1/stores/{id}", "/v1/skus/{id}",
                        "/v1/stock/receipts", "/v1/stock/transfers", "/v1/stock/transfers/{id}/receive",
                        "/v1/stock/adjustments", "/v1/stock/reservations", "/v1/stock/reservations/{id}/post",
                        "/v1/stock/reservations/{id}/void", "/v1/stock", "/v1/stock/{location}/{sku}", "/v1/tokens",
                        "/v1/tokens/{prefix}", "/v1/events", "/healthz", "/metrics", "/v1/members/{id}", "/v1/orders",
                        "/v1/orders/{id}", "/v1/orders/{id}/approve", "/v1/orders/{id}/reject", "/v1/orders/{id}/allocate",
                        "/v1/orders/{id}/ship", "/v1/orders/{id}/deliver", "/v1/orders/{id}/complete",
                        "/v1/orders/{id}/cancel", "/v1/orders/{id}/return", "/v1/sourcing/quote", "/v1/sourcing/weights",
                        "/v1/approval-policy", "/v1/presale-batches", "/v1/boards/sales", "/v1/boards/latency",
                        "/v1/dealers/{id}/health", "/v1/health/dealers", "/v1/replenishment", "/v1/turnover",
                        "/v1/alerts", "/board"}) {
    CHECK_MESSAGE(paths.contains(p), p);
  }
}

TEST_CASE("no token, an unknown token and a revoked token get 401") {
  ApiHarness h;
  h.network();
  CHECK(h.get("/v1/stock", "").status == 401);
  CHECK(h.get("/v1/stock", "t000.nonsense").status == 401);
  std::string auditor = h.token("auditor");
  CHECK(h.get("/v1/stock", auditor).status == 200);
  std::string prefix = auditor.substr(0, auditor.find('.'));
  CHECK(h.del("/v1/tokens/" + prefix, h.admin).status == 200);
  Reply after = h.get("/v1/stock", auditor);
  CHECK(after.status == 401);
  CHECK(after.error_code() == "unauthorized");
  CHECK(h.del("/v1/tokens/" + prefix, h.admin).status == 409);
}

TEST_CASE("stock: receipts, transfers through transit, receipt, adjustment, reservations; reads reflect each write") {
  ApiHarness h;
  h.network();
  Reply w = h.get("/v1/stock/warehouse:W1/A", h.admin);
  REQUIRE(w.status == 200);
  CHECK(w.json().at("on_hand").as_int64() == 850);

  Reply t = h.post("/v1/stock/transfers", R"({"id":"T1","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":10}]})", h.admin);
  REQUIRE(t.status == 201);
  CHECK(t.json().at("status").as_string() == "in_transit");
  std::string seq = t.header("X-Ledger-Seq");
  Reply s1 = h.get("/v1/stock/store:S1/A?min_seq=" + seq, h.admin);
  CHECK(s1.json().at("in_transit").as_int64() == 10);
  CHECK(s1.json().at("on_hand").as_int64() == 0);
  CHECK(std::stoull(s1.header("X-Ledger-Seq")) >= std::stoull(seq));
  CHECK(h.post("/v1/stock/transfers/T1/receive", "", h.admin).status == 200);

  Reply a = h.post("/v1/stock/adjustments", R"({"location":"store:S1","sku":"A","qty_delta":-2,"reason":"breakage"})", h.admin);
  CHECK(a.status == 201);
  Reply r = h.post("/v1/stock/reservations",
                   fmt::format(R"({{"id":"RSV1","from":"store:S1","to":"customer","lines":[{{"sku":"A","qty":3}}],"deadline_us":{}}})",
                               SystemClock().now_us() + 3'600'000'000LL),
                   h.admin);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  Reply held = h.get("/v1/stock/store:S1/A?min_seq=" + r.header("X-Ledger-Seq"), h.admin);
  CHECK(held.json().at("on_hand").as_int64() == 8);
  CHECK(held.json().at("reserved").as_int64() == 3);
  CHECK(held.json().at("available").as_int64() == 5);
  CHECK(h.post("/v1/stock/reservations/RSV1/post", R"({"lines":[{"sku":"A","qty":2}]})", h.admin).status == 200);
  Reply after = h.get("/v1/stock/store:S1/A", h.admin);
  CHECK(after.json().at("on_hand").as_int64() == 6);
  CHECK(after.json().at("reserved").as_int64() == 0);
  CHECK(h.post("/v1/stock/reservations/RSV1/void", R"({"reason":"late"})", h.admin).status == 409);
  Reply r2 = h.post("/v1/stock/reservations",
                    fmt::format(R"({{"id":"RSV2","from":"store:S1","to":"customer","lines":[{{"sku":"A","qty":4}}],"deadline_us":{}}})",
                                SystemClock().now_us() + 3'600'000'000LL),
                    h.admin);
  REQUIRE(r2.status == 201);
  Reply voided = h.post("/v1/stock/reservations/RSV2/void", R"({"reason":"member cancelled"})", h.admin);
  CHECK(voided.status == 200);
  CHECK(voided.json().at("status").as_string() == "voided");
  CHECK(h.get("/v1/stock/store:S1/A", h.admin).json().at("reserved").as_int64() == 0);

  // As of an earlier sequence: before the transfer, S1 held nothing.
  Reply past = h.get("/v1/stock/store:S1/A?as_of_seq=" + std::to_string(std::stoull(seq) - 1), h.admin);
  CHECK(past.json().at("on_hand").as_int64() == 0);
  CHECK(past.json().at("in_transit").as_int64() == 0);
}

TEST_CASE("stock pages: filters, limit and a cursor that walks every row once") {
  ApiHarness h;
  h.network();
  Reply all = h.get("/v1/stock?location=warehouse:W1", h.admin);
  REQUIRE(all.status == 200);
  CHECK(all.json().at("rows").as_array().size() == 2);
  CHECK(all.json().at("next").is_null());
  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 20; ++pages) {
    Reply r = h.get("/v1/stock?limit=1" + (after.empty() ? std::string() : "&after=" + after), h.admin);
    REQUIRE(r.status == 200);
    auto page = r.json();
    for (const auto& row : page.at("rows").as_array()) {
      seen.push_back(std::string(row.at("location").as_string()) + "/" + std::string(row.at("sku").as_string()));
    }
    if (page.at("next").is_null()) break;
    after = std::string(page.at("next").as_string());
  }
  CHECK(seen.size() == 6);  // W1 A, W1 B, D1 A, D2 A, production A, production B
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
  CHECK(h.get("/v1/stock?limit=0", h.admin).status == 400);
  CHECK(h.get("/v1/stock?limit=10001", h.admin).status == 400);
}

TEST_CASE("bad input gets a clear 400 naming the field, and writes nothing") {
  ApiHarness h;
  h.network();
  struct Case {
    const char* target;
    const char* body;
    const char* code;
  } cases[] = {
      {"/v1/stock/transfers", "{not json", "malformed_json"},
      {"/v1/stock/transfers", "[1,2]", "malformed_json"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1}],"colour":"red"})", "unknown_field"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1,"qtty":2}]})", "unknown_field"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1"})", "missing_field"},
      {"/v1/stock/transfers", R"({"id":9,"from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", "wrong_type"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":{"sku":"A"}})", "wrong_type"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":"1"}]})", "wrong_type"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1.5}]})", "wrong_type"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":0}]})", "out_of_range"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":-3}]})", "out_of_range"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":9223372036854775808}]})", "out_of_range"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1e30}]})", "wrong_type"},
      {"/v1/stock/transfers", R"({"id":"T 9","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", "invalid_argument"},
      {"/v1/stock/transfers", R"({"id":"T9<script>","from":"warehouse:W1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", "invalid_argument"},
      {"/v1/stock/transfers", R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[]})", "invalid_argument"},
      {"/v1/stock/adjustments", R"({"location":"store:S1","sku":"A","qty_delta":0,"reason":"x"})", "invalid_argument"},
      {"/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"A","qty":1}],"ref":""})", "invalid_argument"},
  };
  std::uint64_t before = h.engine->last_seq();
  for (const auto& c : cases) {
    Reply r = h.post(c.target, c.body, h.admin);
    INFO(c.body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.error_code() == c.code);
    CHECK(!r.json().at("error").at("message").as_string().empty());
  }
  Reply long_id = h.post("/v1/stock/transfers",
                         fmt::format(R"({{"id":"{}","from":"warehouse:W1","to":"store:S1","lines":[{{"sku":"A","qty":1}}]}})",
                                     std::string(65, 'x')),
                         h.admin);
  CHECK(long_id.status == 400);
  std::string many = R"({"id":"T9","from":"warehouse:W1","to":"store:S1","lines":[)";
  for (int i = 0; i < 513; ++i) many += std::string(i ? "," : "") + R"({"sku":"A","qty":1})";
  many += "]}";
  CHECK(h.post("/v1/stock/transfers", many, h.admin).error_code() == "too_many");
  CHECK(h.engine->last_seq() == before);
  Reply unknown_field = h.post("/v1/stock/transfers", cases[2].body, h.admin);
  CHECK(unknown_field.json().at("error").at("details").at("field").as_string() == "colour");
}

TEST_CASE("business errors: unknown ids 404, conflicts 409, short stock 422 with what is short") {
  ApiHarness h;
  h.network();
  Reply short_stock = h.post("/v1/stock/transfers", R"({"id":"T9","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":101}]})", h.admin);
  CHECK(short_stock.status == 422);
  CHECK(short_stock.error_code() == "insufficient_stock");
  CHECK(short_stock.json().at("error").at("details").at("short").as_int64() == 1);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"T9","from":"dealer:D1","to":"store:S1","lines":[{"sku":"ZZ","qty":1}]})", h.admin).status == 404);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"T-D1","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", h.admin).status == 409);
  CHECK(h.post("/v1/stock/transfers/T-D1/receive", "", h.admin).status == 409);
  CHECK(h.post("/v1/stock/transfers/NOPE/receive", "", h.admin).status == 404);
  CHECK(h.get("/v1/stock/store:S404/A", h.admin).status == 404);
  CHECK(h.get("/v1/nothing-here", h.admin).status == 404);
  CHECK(h.put("/v1/stores/S9", R"({"name":"x","dealer":"D404","region":"R1","lat":1,"lon":1})", h.admin).status == 404);
}

TEST_CASE("Idempotency-Key: the same body answers the first answer again, another body is refused") {
  ApiHarness h;
  h.network();
  std::string body = R"({"id":"T-I","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":5}]})";
  Reply first = h.post("/v1/stock/transfers", body, h.admin, {{"Idempotency-Key", "order-42-ship"}});
  REQUIRE(first.status == 201);
  Reply again = h.post("/v1/stock/transfers", body, h.admin, {{"Idempotency-Key", "order-42-ship"}});
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.header("Idempotent-Replayed") == "true");
  std::string other = R"({"id":"T-I","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":6}]})";
  Reply mismatch = h.post("/v1/stock/transfers", other, h.admin, {{"Idempotency-Key", "order-42-ship"}});
  CHECK(mismatch.status == 409);
  CHECK(mismatch.error_code() == "idempotency_mismatch");
  CHECK(h.get("/v1/stock/dealer:D1/A", h.admin).json().at("on_hand").as_int64() == 95);
  // A token issued under a key is the same token on retry.
  Reply t1 = h.post("/v1/tokens", R"({"role":"auditor"})", h.admin, {{"Idempotency-Key", "tok-1"}});
  Reply t2 = h.post("/v1/tokens", R"({"role":"auditor"})", h.admin, {{"Idempotency-Key", "tok-1"}});
  CHECK(t1.status == 201);
  CHECK(t2.body == t1.body);
  CHECK(h.get("/v1/stock", std::string(t2.json().at("token").as_string())).status == 200);
  CHECK(h.post("/v1/stock/transfers", body, h.admin, {{"Idempotency-Key", std::string(201, 'k')}}).status == 400);
}

TEST_CASE("scope: a dealer sees and moves only its own stock and its stores'; others get 403 or 404") {
  ApiHarness h;
  h.network();
  std::string d1 = h.token("dealer", "D1");
  std::string s1 = h.token("store", "S1");
  std::string r2 = h.token("region_manager", "R2");
  std::string member = h.token("member", "M1");
  std::string auditor = h.token("auditor");
  // Reads
  CHECK(h.get("/v1/stock/dealer:D1/A", d1).status == 200);
  CHECK(h.get("/v1/stock/dealer:D2/A", d1).status == 404);
  CHECK(h.get("/v1/stock/warehouse:W1/A", d1).status == 404);
  auto visible = h.get("/v1/stock", d1).json();
  for (const auto& row : visible.at("rows").as_array()) {
    std::string location(row.at("location").as_string());
    CHECK_MESSAGE((location == "dealer:D1" || location == "store:S1" || location == "store:S2"), location);
  }
  CHECK(h.get("/v1/stock?location=dealer:D2", d1).json().at("rows").as_array().empty());
  CHECK(h.get("/v1/stock/dealer:D2/A", r2).status == 200);
  CHECK(h.get("/v1/stock/dealer:D1/A", r2).status == 404);
  CHECK(h.get("/v1/stock", member).json().at("rows").as_array().empty());
  CHECK(h.get("/v1/stock/warehouse:W1/A", auditor).status == 200);
  // Writes
  CHECK(h.post("/v1/stock/transfers", R"({"id":"T-S1","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", d1).status == 201);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"T-S2","from":"dealer:D2","to":"store:S3","lines":[{"sku":"A","qty":1}]})", d1).status == 403);
  CHECK(h.post("/v1/stock/transfers/T-S1/receive", "", s1).status == 200);
  CHECK(h.post("/v1/stock/transfers/T-D2/receive", "", d1).status == 404);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"T-S3","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", auditor).status == 403);
  CHECK(h.post("/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"A","qty":1}],"ref":"X"})", d1).status == 403);
  CHECK(h.put("/v1/regions/R9", R"({"name":"x"})", d1).status == 403);
  CHECK(h.post("/v1/tokens", R"({"role":"hq_admin"})", d1).status == 403);
  CHECK(h.get("/v1/events", d1).status == 403);
  CHECK(h.get("/v1/events", auditor).status == 200);
}

TEST_CASE("every endpoint with every role: the status class each role gets") {
  ApiHarness h;
  h.network();
  std::map<std::string, std::string> tokens{{"hq_admin", h.admin},
                                            {"region_manager", h.token("region_manager", "R1")},
                                            {"sales_director", h.token("sales_director")},
                                            {"finance", h.token("finance")},
                                            {"dealer", h.token("dealer", "D1")},
                                            {"store", h.token("store", "S1")},
                                            {"member", h.token("member", "M1")},
                                            {"auditor", h.token("auditor")}};
  struct Endpoint {
    http::verb method;
    std::string target, body;
    std::set<std::string> allowed;  // roles that get 2xx; the others 403 or 404
  };
  int n = 0;
  auto unique = [&] { return std::to_string(++n); };
  for (const auto& [role, token] : tokens) {
    std::string u = unique();
    std::vector<Endpoint> endpoints{
        {http::verb::put, "/v1/regions/RX" + u, R"({"name":"x"})", {"hq_admin"}},
        {http::verb::put, "/v1/skus/SX" + u, R"({"name":"x","case_units":6,"prices":{"wholesale_cents":1,"supply_cents":1,"retail_cents":1}})", {"hq_admin"}},
        {http::verb::post, "/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"A","qty":1}],"ref":"R)" + u + "\"}", {"hq_admin"}},
        {http::verb::post, "/v1/stock/transfers", R"({"id":"TX)" + u + R"(","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":1}]})",
         {"hq_admin", "region_manager", "dealer"}},
        {http::verb::post, "/v1/stock/adjustments", R"({"location":"store:S1","sku":"B","qty_delta":1,"reason":"count"})",
         {"hq_admin", "region_manager", "dealer", "store"}},
        {http::verb::get, "/v1/stock/dealer:D1/A", "", {"hq_admin", "region_manager", "sales_director", "finance", "dealer", "auditor"}},
        {http::verb::get, "/v1/stock/store:S1/A", "", {"hq_admin", "region_manager", "sales_director", "finance", "dealer", "store", "auditor"}},
        {http::verb::get, "/v1/events?limit=1", "", {"hq_admin", "sales_director", "finance", "auditor"}},
        {http::verb::post, "/v1/tokens", R"({"role":"auditor"})", {"hq_admin"}},
    };
    for (const auto& e : endpoints) {
      Reply r = test::send_http(h.port, e.method, e.target, e.body, token);
      INFO(role << " " << e.target << " -> " << r.status << " " << r.body);
      if (e.allowed.count(role) != 0) {
        CHECK(r.status / 100 == 2);
      } else {
        CHECK((r.status == 403 || r.status == 404));
      }
    }
  }
}

TEST_CASE("min_seq waits for the read model, bounded; X-Ledger-Seq and X-Request-Id are on every answer") {
  ApiHarness h;
  h.network();
  std::uint64_t last = h.engine->last_seq();
  Reply now = h.get("/v1/stock/warehouse:W1/A?min_seq=" + std::to_string(last), h.admin);
  CHECK(now.status == 200);
  Reply future = h.get("/v1/stock/warehouse:W1/A?min_seq=" + std::to_string(last + 1000), h.admin);
  CHECK(future.status == 503);
  CHECK(future.error_code() == "min_seq_not_reached");
  CHECK(future.header("Retry-After") == "1");
  Reply echoed = h.get("/v1/stock", h.admin, {{"X-Request-Id", "client-chosen-7"}});
  CHECK(echoed.header("X-Request-Id") == "client-chosen-7");
  CHECK(!echoed.header("X-Ledger-Seq").empty());
  // CORS: a configured origin is allowed, another is not.
  CHECK(h.get("/v1/stock", h.admin, {{"Origin", "https://shop.example"}}).header("Access-Control-Allow-Origin") == "https://shop.example");
  CHECK(h.get("/v1/stock", h.admin, {{"Origin", "https://evil.example"}}).header("Access-Control-Allow-Origin").empty());
  CHECK(test::send_http(h.port, http::verb::options, "/v1/stock", "", "", {{"Origin", "https://shop.example"}}).status == 204);
}

TEST_CASE("events: JSON pages with a cursor and kind filter; SSE from a sequence, then live, resumable") {
  ApiHarness h;
  h.network();
  Reply page = h.get("/v1/events?from_seq=1&limit=5", h.admin);
  REQUIRE(page.status == 200);
  auto page_json = page.json();
  auto rows = page_json.at("rows").as_array();
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].at("seq").as_int64() == 1);
  CHECK(rows[0].at("kind").as_string() == "TokenIssued");
  CHECK(page.json().at("next").as_string() == "5");
  Reply next = h.get("/v1/events?after=5&limit=1", h.admin);
  CHECK(next.json().at("rows").as_array()[0].at("seq").as_int64() == 6);
  Reply transfers = h.get("/v1/events?kinds=TransferShipped", h.admin);
  CHECK(transfers.json().at("rows").as_array().size() == 2);
  CHECK(h.get("/v1/events?kinds=Nonsense", h.admin).status == 400);

  // SSE: read what is there from a sequence, then a live event.
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), h.port});
  std::string from = std::to_string(h.engine->last_seq());
  std::string req = "GET /v1/events?from_seq=" + from + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer " +
                    h.admin + "\r\n\r\n";
  net::write(socket, net::buffer(req));
  std::string got;
  auto read_until = [&](const std::string& needle) {
    char buf[4096];
    for (int i = 0; i < 200 && got.find(needle) == std::string::npos; ++i) {
      std::size_t n = socket.read_some(net::buffer(buf));
      got.append(buf, n);
    }
    return got.find(needle) != std::string::npos;
  };
  REQUIRE(read_until("id: " + from + "\n"));
  CHECK(got.find("text/event-stream") != std::string::npos);
  Reply live = h.post("/v1/stock/transfers", R"({"id":"T-LIVE","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":1}]})", h.admin);
  REQUIRE(live.status == 201);
  REQUIRE(read_until("T-LIVE"));
  CHECK(got.find("id: " + live.header("X-Ledger-Seq")) != std::string::npos);
  CHECK(got.find("event: TransferShipped") != std::string::npos);
  socket.close();

  // Resume with Last-Event-ID: only what came after.
  net::ip::tcp::socket again(io);
  again.connect({net::ip::make_address("127.0.0.1"), h.port});
  std::string resume = "GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: " + from +
                       "\r\nAuthorization: Bearer " + h.admin + "\r\n\r\n";
  net::write(again, net::buffer(resume));
  std::string second;
  char buf[4096];
  for (int i = 0; i < 200 && second.find("T-LIVE") == std::string::npos; ++i) second.append(buf, again.read_some(net::buffer(buf)));
  CHECK(second.find("id: " + from + "\n") == std::string::npos);
  CHECK(second.find("id: " + live.header("X-Ledger-Seq") + "\n") != std::string::npos);
}

TEST_CASE("limits: a body over the limit gets 413, a half-sent request 408, too many connections 503") {
  api::HttpOptions http;
  http.body_bytes_max = 4096;
  http.read_timeout_ms = 300;
  http.connections_max = 6;
  ApiHarness h(http);
  h.network();
  std::uint64_t before = h.engine->last_seq();
  Reply big = h.post("/v1/stock/adjustments", "{\"reason\":\"" + std::string(5000, 'x') + "\"}", h.admin);
  CHECK(big.status == 413);
  CHECK(big.error_code() == "payload_too_large");
  CHECK(h.engine->last_seq() == before);

  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket slow(io);
  slow.connect({net::ip::make_address("127.0.0.1"), h.port});
  net::write(slow, net::buffer(std::string("POST /v1/stock/adjustments HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")));
  std::string answer;
  char buf[4096];
  boost::system::error_code ec;
  for (int i = 0; i < 50 && !ec; ++i) answer.append(buf, slow.read_some(net::buffer(buf), ec));
  CHECK(answer.find("408") != std::string::npos);
  CHECK(ec);  // and the server closed the connection

  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // earlier connections' closes settle
  std::vector<std::unique_ptr<net::ip::tcp::socket>> idle;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(std::make_unique<net::ip::tcp::socket>(io));
    idle.back()->connect({net::ip::make_address("127.0.0.1"), h.port});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Reply over = h.get("/healthz", "");
  CHECK(over.status == 503);
  CHECK(over.header("Retry-After") == "1");
}

TEST_CASE("overload: with the writer busy and its queue full, writes get 503 with Retry-After at once") {
  EngineOptions engine_options;
  engine_options.queue_commands_max = 1;
  ApiHarness h({}, engine_options);
  h.network();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> busy;
  std::thread blocker([&] { h.engine->inspect([&](const LedgerState&) { busy.set_value(); released.wait(); }); });
  busy.get_future().wait();  // the writer is inside inspect: nothing is taken from the queue
  std::thread first([&] {
    Reply r = h.post("/v1/stock/adjustments", R"({"location":"store:S1","sku":"A","qty_delta":1,"reason":"count"})", h.admin);
    CHECK(r.status == 201);
  });
  while (h.engine->stats().queue_depth < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Reply second = h.post("/v1/stock/adjustments", R"({"location":"store:S1","sku":"A","qty_delta":1,"reason":"count"})", h.admin);
  CHECK(second.status == 503);
  CHECK(second.error_code() == "overloaded");
  CHECK(second.header("Retry-After") == "1");
  release.set_value();
  first.join();
  blocker.join();
}

TEST_CASE("a graceful stop waits for a request still in the writer's queue, and answers it") {
  ApiHarness h;
  h.network();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> busy;
  std::thread blocker([&] { h.engine->inspect([&](const LedgerState&) { busy.set_value(); released.wait(); }); });
  busy.get_future().wait();
  Reply answer;
  std::thread client([&] {
    answer = h.post("/v1/stock/adjustments", R"({"location":"store:S1","sku":"A","qty_delta":1,"reason":"count"})", h.admin);
  });
  while (h.engine->stats().queue_depth < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread stopper([&] { h.server->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release.set_value();  // the writer commits; the queued request must still be answered
  stopper.join();
  client.join();
  blocker.join();
  CHECK(answer.status == 201);
}

TEST_CASE("the stock cursor never skips a row, even when one id is a prefix of another") {
  ApiHarness h;
  h.network();
  REQUIRE(h.put("/v1/dealers/D10", R"({"name":"Dealer ten","region":"R1"})", h.admin).status == 200);
  REQUIRE(h.post("/v1/stock/transfers", R"({"id":"T-10","from":"warehouse:W1","to":"dealer:D10","lines":[{"sku":"A","qty":1},{"sku":"B","qty":1}]})", h.admin).status == 201);
  REQUIRE(h.post("/v1/stock/transfers/T-10/receive", "", h.admin).status == 200);
  REQUIRE(h.post("/v1/stock/transfers", R"({"id":"T-1B","from":"warehouse:W1","to":"dealer:D1","lines":[{"sku":"B","qty":1}]})", h.admin).status == 201);
  REQUIRE(h.post("/v1/stock/transfers/T-1B/receive", "", h.admin).status == 200);
  auto everything = h.get("/v1/stock", h.admin).json();
  std::size_t total = everything.at("rows").as_array().size();
  std::size_t walked = 0;
  std::string after;
  for (int pages = 0; pages < 50; ++pages) {
    auto page = h.get("/v1/stock?limit=1" + (after.empty() ? std::string() : "&after=" + after), h.admin).json();
    walked += page.at("rows").as_array().size();
    if (page.at("next").is_null()) break;
    after = std::string(page.at("next").as_string());
  }
  CHECK(walked == total);
}

TEST_CASE("numbers in queries are whole numbers; bytes that are not UTF-8 never break an error's JSON") {
  ApiHarness h;
  h.network();
  CHECK(h.get("/v1/stock?min_seq=-1", h.admin).status == 400);
  CHECK(h.get("/v1/stock?min_seq=5abc", h.admin).status == 400);
  CHECK(h.get("/v1/stock?limit=%2B5", h.admin).status == 400);
  CHECK(h.get("/v1/events?after=18446744073709551615", h.admin).status == 400);
  CHECK(h.get("/v1/events?from_seq=1x", h.admin).status == 400);
  CHECK(h.post("/v1/stock/transfers", "{\"\xff\xfe\":1}", h.admin).error_code() == "malformed_json");
  Reply odd = h.get("/v1/stock/store:%FF%FE/A", h.admin);  // echoed in the message
  CHECK(odd.status == 404);
  CHECK(odd.error_code() == "not_found");  // and it parsed: the body is valid JSON
}

TEST_CASE("scoped senders: stock goes within scope, back to HQ, or to a sibling store; receiving is the destination's") {
  ApiHarness h;
  h.network();
  std::string d1 = h.token("dealer", "D1");
  std::string s1 = h.token("store", "S1");
  std::string s3 = h.token("store", "S3");
  CHECK(h.post("/v1/stock/transfers", R"({"id":"X1","from":"dealer:D1","to":"store:S3","lines":[{"sku":"A","qty":1}]})", d1).status == 403);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"X2","from":"dealer:D1","to":"warehouse:W1","lines":[{"sku":"A","qty":1}]})", d1).status == 201);
  REQUIRE(h.post("/v1/stock/transfers", R"({"id":"X3","from":"dealer:D1","to":"store:S1","lines":[{"sku":"A","qty":5}]})", d1).status == 201);
  CHECK(h.post("/v1/stock/transfers/X3/receive", "", d1).status == 200);  // the dealer's own store
  CHECK(h.post("/v1/stock/transfers", R"({"id":"X4","from":"store:S1","to":"store:S2","lines":[{"sku":"A","qty":1}]})", s1).status == 201);
  CHECK(h.post("/v1/stock/transfers", R"({"id":"X5","from":"store:S1","to":"store:S3","lines":[{"sku":"A","qty":1}]})", s1).status == 403);
  CHECK(h.post("/v1/stock/transfers/X4/receive", "", s1).status == 404);  // S1 sent it; S2 receives it
  CHECK(h.post("/v1/stock/transfers/X4/receive", "", s3).status == 404);
  CHECK(h.post("/v1/stock/transfers/X4/receive", "", d1).status == 200);
}

TEST_SUITE_END();

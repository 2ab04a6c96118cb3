// A real server on a loopback port for the API tests, and a small synchronous HTTP client.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "http_server.hpp"
#include "support.hpp"

namespace test {

namespace http = boost::beast::http;

struct Reply {
  unsigned status = 0;
  std::string body;
  http::fields headers;
  boost::json::value json() const { return boost::json::parse(body); }
  std::string header(const char* name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
  std::string error_code() const {
    try {
      return std::string(json().at("error").at("code").as_string());
    } catch (...) {
      return "(no error code in: " + body + ")";
    }
  }
};

struct Header {
  std::string name, value;
};

inline Reply send_http(unsigned short port, http::verb method, const std::string& target, const std::string& body,
                       const std::string& token, const std::vector<Header>& headers = {}) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  for (const auto& h : headers) req.set(h.name, h.value);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(socket, buffer, parser);
  auto res = parser.release();
  Reply reply;
  reply.status = res.result_int();
  reply.body = res.body();
  reply.headers = res.base();
  boost::system::error_code ec;
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  return reply;
}

struct ApiHarness {
  TempDir dir;
  std::unique_ptr<ledger::Engine> engine;
  std::unique_ptr<ledger::LiveState> live;
  ledger::api::Metrics metrics;
  std::unique_ptr<ledger::api::Service> service;
  std::unique_ptr<ledger::api::HttpServer> server;
  unsigned short port = 0;
  std::string admin;

  explicit ApiHarness(ledger::api::HttpOptions http = {}, ledger::EngineOptions engine_options = {},
                      std::uint64_t min_seq_wait_ms = 300) {
    engine_options.dir = dir.path();
    auto e = ledger::Engine::open(engine_options);
    REQUIRE(e.ok());
    engine = std::move(*e);
    auto l = ledger::LiveState::start(*engine);
    REQUIRE(l.ok());
    live = std::move(*l);
    ledger::api::ServiceOptions options;
    options.cors_origins = {"https://shop.example"};
    options.min_seq_wait_ms_max = min_seq_wait_ms;
    options.token_secret = "test-secret";
    options.schedule = [this](std::uint64_t ms, std::function<void()> fn) { return server->schedule(ms, std::move(fn)); };
    options.post = [this](std::function<void()> fn) { server->post(std::move(fn)); };
    service = std::make_unique<ledger::api::Service>(*engine, *live, metrics, options);
    auto token = service->issue_token("hq_admin", "", "");
    REQUIRE(token.ok());
    admin = *token;
    http.port = 0;
    http.log_requests = false;
    server = std::make_unique<ledger::api::HttpServer>(*service, metrics, http);
    auto p = server->start();
    REQUIRE(p.ok());
    port = *p;
  }
  ~ApiHarness() {
    server->stop();
    live.reset();
    engine.reset();
  }

  Reply get(const std::string& target, const std::string& token, const std::vector<Header>& headers = {}) {
    return send_http(port, http::verb::get, target, "", token, headers);
  }
  // A read that waits (min_seq) until the read model shows `seq`: read-your-writes after commands.
  Reply get_at(const std::string& target, const std::string& token, std::uint64_t seq) {
    return get(fmt::format("{}{}min_seq={}", target, target.find('?') == std::string::npos ? "?" : "&", seq), token);
  }
  Reply post(const std::string& target, const std::string& body, const std::string& token,
             const std::vector<Header>& headers = {}) {
    return send_http(port, http::verb::post, target, body, token, headers);
  }
  Reply put(const std::string& target, const std::string& body, const std::string& token) {
    return send_http(port, http::verb::put, target, body, token);
  }
  Reply del(const std::string& target, const std::string& token) {
    return send_http(port, http::verb::delete_, target, "", token);
  }
  std::string token(const std::string& role, const std::string& scope = {}) {
    std::string body = scope.empty() ? fmt::format("{{\"role\":\"{}\"}}", role)
                                     : fmt::format("{{\"role\":\"{}\",\"scope\":\"{}\"}}", role, scope);
    Reply r = post("/v1/tokens", body, admin);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return std::string(r.json().at("token").as_string());
  }
  // R1 with warehouses W1 W2, dealers D1 D2 with stores S1 (D1) S2 (D1) S3 (D2), SKUs A B; stock.
  void network() {
    auto ok = [&](Reply r) { REQUIRE_MESSAGE(r.status / 100 == 2, r.body); };
    ok(put("/v1/regions/R1", R"({"name":"East"})", admin));
    ok(put("/v1/regions/R2", R"({"name":"West"})", admin));
    ok(put("/v1/warehouses/W1", R"({"name":"Chengdu","region":"R1","lat":30.57,"lon":104.06,"daily_capacity_cases":500})", admin));
    ok(put("/v1/warehouses/W2", R"({"name":"Xian","region":"R2","lat":34.34,"lon":108.94,"daily_capacity_cases":500})", admin));
    ok(put("/v1/dealers/D1", R"({"name":"Dealer one","region":"R1","territory":["R1"],"credit_limit_cents":100000})", admin));
    ok(put("/v1/dealers/D2", R"({"name":"Dealer two","region":"R2","territory":["R2"]})", admin));
    ok(put("/v1/stores/S1", R"({"name":"Store one","dealer":"D1","region":"R1","lat":30.1,"lon":104.1})", admin));
    ok(put("/v1/stores/S2", R"({"name":"Store two","dealer":"D1","region":"R1","lat":30.2,"lon":104.2})", admin));
    ok(put("/v1/stores/S3", R"({"name":"Store three","dealer":"D2","region":"R2","lat":34.1,"lon":108.1})", admin));
    ok(put("/v1/skus/A", R"({"name":"Sauce 53%","case_units":6,"prices":{"wholesale_cents":70000,"supply_cents":85000,"retail_cents":100000},"floor_cents":{"wholesale_cents":66000,"supply_cents":80000,"retail_cents":90000}})", admin));
    ok(put("/v1/skus/B", R"({"name":"Light 42%","case_units":6,"prices":{"wholesale_cents":20000,"supply_cents":25000,"retail_cents":30000}})", admin));
    ok(post("/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"A","qty":1000},{"sku":"B","qty":500}],"ref":"BATCH-1"})", admin));
    ok(post("/v1/stock/transfers", R"({"id":"T-D1","from":"warehouse:W1","to":"dealer:D1","lines":[{"sku":"A","qty":100}]})", admin));
    ok(post("/v1/stock/transfers/T-D1/receive", "", admin));
    ok(post("/v1/stock/transfers", R"({"id":"T-D2","from":"warehouse:W1","to":"dealer:D2","lines":[{"sku":"A","qty":50}]})", admin));
    ok(post("/v1/stock/transfers/T-D2/receive", "", admin));
  }
};

}  // namespace test

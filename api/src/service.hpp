// The API as a function from request to response (after Beast's examples): no sockets here.
// Commands complete after the durable commit, on the writer thread, so `respond` may run on any
// thread; the transport posts it back to the connection.
#pragma once

#include <boost/beast/http.hpp>

#include <functional>
#include <string>

#include "api_error.hpp"
#include "ledger/engine.hpp"
#include "ledger/event_json.hpp"
#include "ledger/live_state.hpp"
#include "metrics.hpp"

namespace ledger::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Respond = std::function<void(Response&&)>;

struct Principal {
  std::string prefix;  // the token's public part
  std::string role;
  std::string scope;
  bool global_read() const;
};

struct ServiceOptions {
  std::vector<std::string> cors_origins;  // "*" allows any
  std::uint64_t min_seq_wait_ms_max = 5000;
  std::string token_secret;  // derives tokens issued under an Idempotency-Key, so a retry answers the same token
  // Runs `fn` after `ms` milliseconds (the transport's timers); returns a function that cancels it.
  // Bounds the waits for the live state (min_seq, read-your-writes).
  std::function<std::function<void()>(std::uint64_t ms, std::function<void()> fn)> schedule;
  // Runs `fn` soon on an I/O thread: continuations never run on the live state's follower thread.
  std::function<void(std::function<void()> fn)> post;
};

// What the transport needs to stream events (SSE) after the service authorized the request.
struct EventStreamRequest {
  std::uint64_t from_seq = 1;
  std::vector<std::string> kinds;  // empty: all
};

class Service {
 public:
  Service(Engine& engine, LiveState& live, Metrics& metrics, ServiceOptions options);

  // Answers `req` by calling `respond` exactly once. `request_id` goes into X-Request-Id.
  // When the request asks for an event stream, `stream` is called instead (with the response
  // headers to send first).
  void handle(Request&& req, const std::string& request_id, const Respond& respond,
              const std::function<void(Response&&, EventStreamRequest)>& stream);

  Metrics::Route route_of(const Request& req) const;
  Response error(const Request& req, const ApiError& e, const std::string& request_id) const;
  const EventJson& event_json() const { return event_json_; }
  Engine& engine() { return engine_; }
  LiveState& live() { return live_; }
  // Issues a new token for `role`/`scope` now (used once for the first admin token).
  Result<std::string> issue_token(const std::string& role, const std::string& scope, const std::string& command_id);

 private:
  struct Call;
  void dispatch(Call& call);
  bool authenticate(Call& call);
  void reads(Call& call);
  void master_data(Call& call);
  void stock_commands(Call& call);
  void tokens(Call& call);
  void events_page(Call& call);
  // service_orders.cpp
  void order_commands(Call& call);
  void order_reads(Call& call);
  void board_reads(Call& call);
  // service_lots.cpp
  void lot_reads(Call& call);
  // service_recommendations.cpp
  void recommendation_reads(Call& call);
  void sourcing_quote(Call& call);
  void config(Call& call);
  // service_marketing.cpp
  static bool is_marketing_route(const Call& call);
  void marketing_commands(Call& call);
  void marketing_reads(Call& call);
  void submit(Call& call, CommandBody body, unsigned status, std::function<std::string(const CommandOutcome&)> body_of);
  void finish(Call& call, Response&& res) const;
  // Runs `then` once the live state has applied `seq`; after the bounded wait, `then` anyway when
  // `then_on_timeout`, else a 503.
  void after_applied(Call& call, std::uint64_t seq, std::function<void(Call&)> then, bool then_on_timeout = false);

  Engine& engine_;
  LiveState& live_;
  Metrics& metrics_;
  ServiceOptions options_;
  EventJson event_json_;
};

}  // namespace ledger::api

#include "service.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <map>

#include "decoders.hpp"
#include "service_call.hpp"
#include "service_util.hpp"
#include "ledger/fold.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"
#include "ledger/roles.hpp"

namespace ledger::api {

extern const char* const openapi_json_text;
extern const char* const board_html_text;

namespace {
constexpr std::size_t idempotency_key_bytes_max = 200;
constexpr std::size_t page_scan_events_max = 100'000;  // events looked at per event page
}  // namespace

bool Service::authenticate(Call& call) {
  std::string_view auth = call.req[http::field::authorization];
  std::string token(auth.substr(std::min<std::size_t>(7, auth.size())));
  std::string prefix = token.substr(0, token.find('.'));
  Sha256 hasher;
  Hash32 presented = hasher.update(token).finish();
  call.authenticated = live_.read([&](const LedgerState& s, std::uint64_t) {
    const TokenRecord* t = s.token(prefix);
    if (t == nullptr || t->revoked || CRYPTO_memcmp(t->token_sha256.data(), presented.data(), 32) != 0) return false;
    call.principal = Principal{prefix, t->role, t->scope};
    return true;
  });
  return call.authenticated;
}

Service::Service(Engine& engine, LiveState& live, Metrics& metrics, ServiceOptions options)
    : engine_(engine), live_(live), metrics_(metrics), options_(std::move(options)) {}

Metrics::Route Service::route_of(const Request& req) const {
  std::string_view target = req.target();
  if (target.rfind("/v1/events", 0) == 0) return Metrics::route_events;
  if (target.rfind("/v1/", 0) != 0) return Metrics::route_other;
  return req.method() == http::verb::get ? Metrics::route_read : Metrics::route_write;
}

Response Service::error(const Request& req, const ApiError& e, const std::string& request_id) const {
  Response res{static_cast<http::status>(e.status), req.version()};
  res.set(http::field::content_type, "application/json");
  res.set("X-Request-Id", request_id);
  if (e.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(e.retry_after_s));
  if (e.status == 401) res.set(http::field::www_authenticate, "Bearer");
  res.body() = error_body(e);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

void Service::finish(Call& call, Response&& res) const {
  assert(!call.answered);
  call.answered = true;
  res.set("X-Request-Id", call.request_id);
  auto origin = call.req[http::field::origin];
  if (!origin.empty()) {
    bool allowed = std::any_of(options_.cors_origins.begin(), options_.cors_origins.end(),
                               [&](const std::string& o) { return o == "*" || o == origin; });
    if (allowed) {
      res.set(http::field::access_control_allow_origin, origin);
      res.set(http::field::vary, "Origin");
      res.set(http::field::access_control_expose_headers, "X-Request-Id, X-Ledger-Seq, Retry-After");
    }
  }
  res.keep_alive(call.req.keep_alive());
  res.prepare_payload();
  // The call may be destroyed with `respond`: nothing touches it after this.
  Respond respond = std::move(call.respond);
  call.respond = nullptr;
  respond(std::move(res));
}


void Service::handle(Request&& req, const std::string& request_id, const Respond& respond,
                     const std::function<void(Response&&, EventStreamRequest)>& stream) {
  auto call = std::make_shared<Call>();
  call->req = std::move(req);
  call->request_id = request_id;
  call->respond = respond;
  call->stream = stream;
  std::string_view target = call->req.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (target.find('?') != std::string_view::npos) {
    for (const auto& pair : split(target.substr(target.find('?') + 1), '&')) {
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      call->query[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    }
  }
  for (const auto& seg : split(path, '/')) {
    if (!seg.empty()) call->segments.push_back(percent_decode(seg, false));
  }
  // Asynchronous paths hold the call through shared_from_this until they answer.
  dispatch(*call);
}

void Service::dispatch(Call& call) {
  const auto& seg = call.segments;
  http::verb method = call.req.method();
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };

  if (method == http::verb::options) {  // CORS preflight
    Response res{http::status::no_content, call.req.version()};
    res.set(http::field::access_control_allow_methods, "GET, POST, PUT, DELETE, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Last-Event-ID");
    res.set(http::field::access_control_max_age, "600");
    return finish(call, std::move(res));
  }
  if (seg.size() == 1 && seg[0] == "healthz" && method == http::verb::get) {
    return finish(call, json_response(call.req, http::status::ok,
                                      fmt::format("{{\"status\":\"ok\",\"seq\":{},\"applied_seq\":{}}}", engine_.last_seq(),
                                                  live_.applied_seq()),
                                      live_.applied_seq()));
  }
  if (seg.size() == 1 && seg[0] == "metrics" && method == http::verb::get) {
    WriterStats w = engine_.stats();
    std::string text = metrics_.render(engine_.last_seq());
    text += fmt::format(
        "# TYPE ledger_writer_batches_total counter\nledger_writer_batches_total {}\n"
        "# TYPE ledger_writer_commands_total counter\nledger_writer_commands_total {}\n"
        "# TYPE ledger_writer_events_total counter\nledger_writer_events_total {}\n"
        "# TYPE ledger_writer_rejected_total counter\nledger_writer_rejected_total {}\n"
        "# TYPE ledger_writer_failed_batches_total counter\nledger_writer_failed_batches_total {}\n"
        "# TYPE ledger_writer_last_batch_commands gauge\nledger_writer_last_batch_commands {}\n"
        "# TYPE ledger_writer_queue_depth gauge\nledger_writer_queue_depth {}\n"
        "# TYPE ledger_writer_stale_plans_total counter\nledger_writer_stale_plans_total {}\n"
        "# TYPE ledger_log_bytes gauge\nledger_log_bytes {}\n"
        "# TYPE ledger_log_last_seq gauge\nledger_log_last_seq {}\n"
        "# TYPE ledger_projection_lag_events gauge\nledger_projection_lag_events{{projection=\"live_state\"}} {}\n"
        "# TYPE ledger_projection_snapshot_seq gauge\nledger_projection_snapshot_seq {}\n",
        w.batches, w.commands, w.events, w.rejected, w.failed_batches, w.last_batch_commands, w.queue_depth, w.stale_plans,
        w.log_bytes,
        engine_.last_seq(), live_.lag(), live_.snapshot_seq());
    Response res{http::status::ok, call.req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = std::move(text);
    return finish(call, std::move(res));
  }
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "openapi.json" && method == http::verb::get) {
    return finish(call, json_response(call.req, http::status::ok, openapi_json_text, engine_.last_seq()));
  }
  if (seg.size() == 1 && seg[0] == "board" && method == http::verb::get) {
    // The page holds no data: it asks for a token and reads the API like any client.
    Response res{http::status::ok, call.req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
    res.body() = board_html_text;
    return finish(call, std::move(res));
  }
  if (seg.empty() || seg[0] != "v1") return fail(not_found("no such endpoint; see GET /v1/openapi.json"));

  // ---- everything under /v1 needs a token
  std::string_view auth = call.req[http::field::authorization];
  if (!call.authenticated && auth.rfind("Bearer ", 0) != 0) {
    return fail(ApiError{401, "unauthorized", "send Authorization: Bearer <token>", {}, 0});
  }
  if (!call.authenticated && !authenticate(call)) {
    // A token issued a moment ago may not be in the live state yet: wait for what is committed.
    std::uint64_t committed = engine_.last_seq();
    if (live_.applied_seq() < committed && !call.auth_retried) {
      call.auth_retried = true;
      return after_applied(call, committed, [this](Call& c) { dispatch(c); });
    }
    return fail(ApiError{401, "unauthorized", "unknown or revoked token", {}, 0});
  }
  const std::string& prefix = call.principal.prefix;

  std::string_view key = call.req["Idempotency-Key"];
  if (!key.empty()) {
    if (key.size() > idempotency_key_bytes_max) {
      return fail(bad_request("invalid_idempotency_key",
                              fmt::format("Idempotency-Key is longer than {} bytes", idempotency_key_bytes_max)));
    }
    // Keys are per principal: two storefronts choosing the same key never collide.
    Sha256 h;
    call.command_id = "idem-" + hex_of(h.update(prefix).update("\n").update(key).finish(), 40);
  }

  std::uint64_t want = 0;
  if (!call.q("min_seq").empty()) {
    auto parsed = parse_u64(call.q("min_seq"));
    if (!parsed) return fail(bad_request("out_of_range", "min_seq must be a sequence number", "min_seq"));
    want = *parsed;
  }
  if (method == http::verb::get) {
    if (seg.size() >= 2 && seg[1] == "events") return after_applied(call, want, [this](Call& c) { events_page(c); });
    return after_applied(call, want, [this](Call& c) { reads(c); });
  }
  if (seg.size() >= 2 && seg[1] == "tokens") return tokens(call);
  bool is_config = seg.size() >= 2 && (seg[1] == "approval-policy" || seg[1] == "presale-batches" ||
                                       (seg[1] == "sourcing" && seg.size() == 3 && seg[2] == "weights"));
  if (is_config) return config(call);
  if (method == http::verb::post && seg.size() == 3 && seg[1] == "sourcing" && seg[2] == "quote") {
    return sourcing_quote(call);
  }
  if (method == http::verb::post && seg.size() >= 2 && seg[1] == "orders") {
    // Scope checks read the live state: it must show every commit already answered.
    return after_applied(call, engine_.last_seq(), [this](Call& c) { order_commands(c); });
  }
  if (is_marketing_route(call)) {
    // Scope checks read the live state: it must show every commit already answered.
    return after_applied(call, engine_.last_seq(), [this](Call& c) { marketing_commands(c); });
  }
  if (method == http::verb::put) return master_data(call);
  if (method == http::verb::post && seg.size() >= 2 && seg[1] == "stock") {
    // Scope checks read the live state: it must include every commit already answered, or a
    // caller acting on the transfer it was just told about would get a 404.
    return after_applied(call, engine_.last_seq(), [this](Call& c) { stock_commands(c); });
  }
  return fail(ApiError{404, "not_found", "no such endpoint; see GET /v1/openapi.json", {}, 0});
}

// Runs `then` once the live state has applied `seq`: at once, or after a bounded wait (503 after it).
void Service::after_applied(Call& call, std::uint64_t seq, std::function<void(Call&)> then, bool then_on_timeout) {
  if (live_.applied_seq() >= seq) return then(call);
  auto self = call.shared_from_this();
  struct Wait {
    std::atomic<bool> done{false};
    std::mutex mu;
    std::function<void()> cancel_timer;  // guarded by mu
  };
  auto wait = std::make_shared<Wait>();
  auto handle = live_.when_applied(seq, [this, wait, then, self] {
    if (wait->done.exchange(true)) return;
    {
      std::lock_guard lock(wait->mu);
      if (wait->cancel_timer) wait->cancel_timer();
    }
    // Called on the follower thread: hand the work to an I/O thread.
    if (options_.post) return options_.post([then, self] { then(*self); });
    then(*self);
  });
  if (handle == 0 || !options_.schedule) return;
  auto cancel = options_.schedule(options_.min_seq_wait_ms_max, [this, wait, handle, self, seq, then, then_on_timeout] {
    if (wait->done.exchange(true)) return;
    live_.cancel(handle);
    if (then_on_timeout) return then(*self);
    ApiError e{503, "min_seq_not_reached",
               fmt::format("sequence {} is not applied yet (at {}); retry", seq, live_.applied_seq()), {}, 1};
    finish(*self, error(self->req, e, self->request_id));
  });
  std::lock_guard lock(wait->mu);
  if (wait->done.load()) {
    cancel();
  } else {
    wait->cancel_timer = std::move(cancel);
  }
}

// ---------------------------------------------------------------- commands

void Service::submit(Call& call, CommandBody body, unsigned status,
                     std::function<std::string(const CommandOutcome&)> body_of) {
  auto self = call.shared_from_this();
  Command command{call.command_id, Actor{"token:" + call.principal.prefix, call.principal.role, call.principal.scope}, std::move(body)};
  engine_.submit(std::move(command), [this, self, status, body_of = std::move(body_of)](const CommandResult& r) {
    if (!r.ok()) return finish(*self, error(self->req, from_engine(r.error()), self->request_id));
    CommandOutcome outcome = *r;
    // Answer once the live state shows the write: whoever hears "done" then reads it (a revoked
    // token is refused at once), and the answer may be rendered from it. The commit is durable
    // already, so a slow follower delays the answer at most the bounded wait, and it is a success.
    after_applied(*self, outcome.last_seq, [this, status, outcome, body_of](Call& c) {
      auto res = json_response(c.req, static_cast<http::status>(status), body_of(outcome), outcome.last_seq);
      if (outcome.replayed) res.set("Idempotent-Replayed", "true");
      finish(c, std::move(res));
    }, true);
  });
}

namespace {

std::string seq_body(const CommandOutcome& o) {
  return fmt::format("{{\"first_seq\":{},\"last_seq\":{}}}", o.first_seq, o.last_seq);
}

}  // namespace

void Service::master_data(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  if (seg.size() != 3) return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
  if (call.principal.role != "hq_admin") return fail(forbidden("master data is changed by hq_admin only"));
  const std::string& id = seg[2];
  Decoded decoded = decode_master_data(seg[1], id, call.req.body());
  if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
  submit(call, std::get<CommandBody>(std::move(decoded)), 200, [id](const CommandOutcome& o) {
    return fmt::format("{{\"id\":{},\"seq\":{}}}", json_str(id), o.last_seq);
  });
}

void Service::stock_commands(Call& call) {
  const auto& seg = call.segments;  // v1 stock <what> [id action]
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  auto movable = [&](const std::string& location) {
    return live_.read([&](const LedgerState& s, std::uint64_t) { return can_move_from(p, s, location); });
  };
  if (seg.size() == 3) {
    Decoded decoded = decode_stock(seg[2], call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    CommandBody body = std::get<CommandBody>(std::move(decoded));
    if (std::holds_alternative<ReceiveStock>(body)) {
      if (p.role != "hq_admin") return fail(forbidden("receipts from production are recorded by hq_admin"));
      return submit(call, std::move(body), 201, seq_body);
    }
    if (const auto* c = std::get_if<AdjustStock>(&body)) {
      if (!movable(c->location)) return fail(forbidden(fmt::format("{} is outside your scope", c->location)));
      return submit(call, std::move(body), 201, seq_body);
    }
    std::string id, from, to, status;
    if (const auto* c = std::get_if<ShipTransfer>(&body)) id = c->id, from = c->from, to = c->to, status = "in_transit";
    if (const auto* c = std::get_if<CreateReservation>(&body)) id = c->id, from = c->from, to = c->to, status = "pending";
    if (!movable(from)) return fail(forbidden(fmt::format("{} is outside your scope", from)));
    bool allowed_to = to == "customer" ||
                      live_.read([&](const LedgerState& s, std::uint64_t) { return can_ship_to(p, s, to); });
    if (!allowed_to) return fail(forbidden(fmt::format("you may not send stock to {}", to)));
    return submit(call, std::move(body), 201, [id, status](const CommandOutcome& o) {
      return fmt::format("{{\"id\":{},\"status\":\"{}\",\"seq\":{}}}", json_str(id), status, o.last_seq);
    });
  }
  if (seg.size() == 5 && (seg[2] == "transfers" || seg[2] == "reservations")) {
    const std::string& id = seg[3];
    // Out-of-scope ids answer 404, like unknown ones: their existence is not the caller's business.
    bool visible = live_.read([&](const LedgerState& s, std::uint64_t) {
      if (seg[2] == "transfers") {
        const TransferRecord* t = s.transfer(id);
        // Receiving is the destination's act (or HQ's).
        return t != nullptr && (can_move_from(p, s, t->to) || (p.role == "hq_admin"));
      }
      const ReservationRecord* r = s.reservation(id);
      return r != nullptr && can_move_from(p, s, r->from);
    });
    if (!visible) return fail(not_found(fmt::format("no {} '{}'", seg[2] == "transfers" ? "transfer" : "reservation", id)));
    Decoded decoded = decode_stock_action(seg[2], seg[4], id, call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    const char* status = seg[4] == "receive" ? "received" : seg[4] == "post" ? "posted" : "voided";
    return submit(call, std::get<CommandBody>(std::move(decoded)), 200, [id, status](const CommandOutcome& o) {
      return fmt::format("{{\"id\":{},\"status\":\"{}\",\"seq\":{}}}", json_str(id), status, o.last_seq);
    });
  }
  return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
}

// ---------------------------------------------------------------- tokens

namespace {
struct NewToken {
  std::string prefix, token;
  Hash32 sha256{};
};

// Random tokens, or derived from (secret, command id) so that a retried POST answers the same one.
NewToken make_token(const std::string& secret, const std::string& command_id) {
  std::uint8_t random[32];
  Sha256 h;
  if (command_id.empty()) {
    if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("no randomness for a token");
  } else {
    Hash32 derived = h.update(secret).update("\n").update(command_id).finish();
    std::copy(derived.begin(), derived.end(), random);
  }
  NewToken t;
  std::string hex = to_hex(std::span<const std::uint8_t>(random, sizeof random));
  t.prefix = "t" + hex.substr(0, 11);
  t.token = t.prefix + "." + hex.substr(11, 40);
  t.sha256 = h.update(t.token).finish();
  return t;
}
}  // namespace

Result<std::string> Service::issue_token(const std::string& role, const std::string& scope,
                                         const std::string& command_id) {
  NewToken t = make_token(options_.token_secret, command_id);
  auto r = engine_.execute(Command{command_id, Actor{"ledgerd", "system", ""}, IssueToken{t.prefix, t.sha256, role, scope}});
  if (!r.ok()) return r.take_error();
  return t.token;
}

void Service::tokens(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  if (call.principal.role != "hq_admin") return fail(forbidden("tokens are managed by hq_admin"));
  if (call.req.method() == http::verb::post && seg.size() == 2) {
    auto decoded = decode_token_request(call.req.body());
    if (auto* e = std::get_if<ApiError>(&decoded)) return fail(*e);
    std::string role = std::get<TokenRequest>(decoded).role;
    std::string scope = std::get<TokenRequest>(decoded).scope;
    NewToken t = make_token(options_.token_secret, call.command_id);
    return submit(call, IssueToken{t.prefix, t.sha256, role, scope}, 201, [t, role, scope](const CommandOutcome& o) {
      return fmt::format("{{\"token\":{},\"prefix\":{},\"role\":{},\"scope\":{},\"seq\":{}}}", json_str(t.token),
                         json_str(t.prefix), json_str(role), json_str(scope), o.last_seq);
    });
  }
  if (call.req.method() == http::verb::delete_ && seg.size() == 3) {
    std::string prefix = seg[2];
    return submit(call, RevokeToken{prefix}, 200, [prefix](const CommandOutcome& o) {
      return fmt::format("{{\"prefix\":{},\"revoked\":true,\"seq\":{}}}", json_str(prefix), o.last_seq);
    });
  }
  return fail(not_found("use POST /v1/tokens or DELETE /v1/tokens/{prefix}"));
}

// ---------------------------------------------------------------- reads

void Service::reads(Call& call) {
  const auto& seg = call.segments;
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  const Principal& p = call.principal;
  if (seg.size() == 4 && seg[1] == "stock") {  // GET /v1/stock/{location}/{sku}[?as_of_seq=N]
    const std::string& location = seg[2];
    const std::string& sku = seg[3];
    auto row = [&](const LedgerState& s, std::uint64_t seq) -> std::optional<std::string> {
      auto l = parse_location(location);
      if (!l.ok() || s.sku(sku) == nullptr || !can_see(p, s, location)) return std::nullopt;
      bool defined = true;
      switch (l->kind) {
        case LocationKind::warehouse: defined = s.warehouse(l->id) != nullptr; break;
        case LocationKind::dealer: defined = s.dealer(l->id) != nullptr; break;
        case LocationKind::store: defined = s.store(l->id) != nullptr; break;
        default: break;  // transit and virtual locations exist by name
      }
      if (!defined) return std::nullopt;
      Balance b = s.balance(location, sku);
      return fmt::format("{{\"location\":{},\"sku\":{},\"on_hand\":{},\"reserved\":{},\"available\":{},\"in_transit\":{},"
                         "\"seq\":{}}}",
                         json_str(location), json_str(sku), b.on_hand, b.reserved, b.available(), s.inbound(location, sku),
                         seq);
    };
    auto no_such = [&] { fail(not_found(fmt::format("no stock of '{}' at '{}' visible to you", sku, location))); };
    std::string as_of = call.q("as_of_seq");
    if (as_of.empty()) {
      // Scope and existence are checked in the same read as the balance: one consistent state.
      auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) { return std::pair{row(s, seq), seq}; });
      if (!body) return no_such();
      return finish(call, json_response(call.req, http::status::ok, *body, seq));
    }
    // Scope is judged on today's master data; the balance comes from the past state.
    auto visible_now = live_.read([&](const LedgerState& s, std::uint64_t seq) { return row(s, seq).has_value(); });
    if (!visible_now) return no_such();
    // As of a past sequence: fold the log up to it (linear in N; the projections issue indexes it).
    auto parsed = parse_u64(as_of);
    if (!parsed) return fail(bad_request("out_of_range", "as_of_seq must be a sequence number", "as_of_seq"));
    std::uint64_t n = *parsed;
    if (n > engine_.last_seq()) return fail(bad_request("out_of_range", fmt::format("as_of_seq is past the log's end {}", engine_.last_seq()), "as_of_seq"));
    LedgerState past;
    Status folded;
    auto st = engine_.read_events(1, n, [&](const fb::Event& e, const Hash32& h) {
      folded = apply_event(past, e, h);
      return folded.ok();
    });
    if (!st || !folded) return fail(from_engine(!st ? st.error() : folded.error()));
    Balance b = past.balance(location, sku);
    return finish(call, json_response(call.req, http::status::ok,
                                      fmt::format("{{\"location\":{},\"sku\":{},\"on_hand\":{},\"reserved\":{},\"available\":{},"
                                                  "\"in_transit\":{},\"seq\":{}}}",
                                                  json_str(location), json_str(sku), b.on_hand, b.reserved, b.available(),
                                                  past.inbound(location, sku), n),
                                      n));
  }
  if (seg.size() >= 2 && seg[1] == "orders") return order_reads(call);
  if (is_marketing_route(call)) return marketing_reads(call);
  bool is_board = seg.size() >= 2 && (seg[1] == "boards" || seg[1] == "replenishment" || seg[1] == "turnover" ||
                                      seg[1] == "alerts" || (seg[1] == "health" && seg.size() == 3) ||
                                      (seg[1] == "dealers" && seg.size() == 4 && seg[3] == "health"));
  if (is_board) return board_reads(call);
  if (seg.size() >= 2 && seg[1] == "lots") return lot_reads(call);
  // Only the sub-path: GET /v1/members/{id} belongs to the marketing endpoints.
  if (seg.size() == 4 && seg[1] == "members" && seg[3] == "recommendations") return recommendation_reads(call);
  if (seg.size() == 2 && seg[1] == "stock") {  // GET /v1/stock?location=&sku=&limit=&after=
    std::string location = call.q("location"), sku = call.q("sku"), after = call.q("after");
    std::size_t limit = page_rows_default;
    if (!call.q("limit").empty()) {
      limit = parse_u64(call.q("limit")).value_or(0);
      if (limit == 0 || limit > page_rows_max) {
        return fail(bad_request("out_of_range", fmt::format("limit must be between 1 and {}", page_rows_max), "limit"));
      }
    }
    auto [body, seq] = live_.read([&](const LedgerState& s, std::uint64_t seq) {
      // Rows are ordered by the cursor's own key, "location|sku", so a page break never skips one.
      std::vector<std::tuple<std::string, std::string, std::string>> keys;
      s.for_each_balance([&](std::string_view l, std::string_view k, const Balance&) {
        if ((!location.empty() && l != location) || (!sku.empty() && k != sku)) return;
        std::string key = fmt::format("{}|{}", l, k);
        if (!after.empty() && key <= after) return;
        if (!can_see(p, s, l)) return;
        keys.emplace_back(std::move(key), l, k);
      });
      std::sort(keys.begin(), keys.end());
      bool more = keys.size() > limit;
      if (more) keys.resize(limit);
      std::string out = "{\"rows\":[";
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& [key, l, k] = keys[i];
        Balance b = s.balance(l, k);
        out += fmt::format("{}{{\"location\":{},\"sku\":{},\"on_hand\":{},\"reserved\":{},\"available\":{},\"in_transit\":{}}}",
                           i ? "," : "", json_str(l), json_str(k), b.on_hand, b.reserved, b.available(), s.inbound(l, k));
      }
      out += "],\"next\":";
      out += more ? json_str(std::get<0>(keys.back())) : "null";
      out += "}";
      return std::pair{out, seq};
    });
    return finish(call, json_response(call.req, http::status::ok, body, seq));
  }
  return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
}

void Service::events_page(Call& call) {
  auto fail = [&](const ApiError& e) { finish(call, error(call.req, e, call.request_id)); };
  if (!call.principal.global_read()) return fail(forbidden("the event stream is for hq_admin, auditors, sales and finance"));
  if (call.segments.size() != 2) return fail(not_found("no such endpoint; see GET /v1/openapi.json"));
  std::uint64_t from = 1;
  std::size_t limit = page_rows_default;
  std::optional<std::uint64_t> parsed;
  auto bad = [&](const char* field) {
    fail(bad_request("out_of_range", fmt::format("{} must be a sequence number", field), field));
  };
  if (!call.q("from_seq").empty()) {
    if (!(parsed = parse_u64(call.q("from_seq")))) return bad("from_seq");
    from = *parsed;
  }
  if (!call.q("after").empty()) {
    if (!(parsed = parse_u64(call.q("after"))) || *parsed == std::numeric_limits<std::uint64_t>::max()) return bad("after");
    from = *parsed + 1;
  }
  std::string_view last_event_id = call.req["Last-Event-ID"];
  if (!last_event_id.empty()) {
    if (!(parsed = parse_u64(last_event_id)) || *parsed == std::numeric_limits<std::uint64_t>::max()) {
      return bad("Last-Event-ID");
    }
    from = *parsed + 1;
  }
  from = std::max<std::uint64_t>(from, 1);
  if (!call.q("limit").empty()) limit = parse_u64(call.q("limit")).value_or(0);
  if (limit == 0 || limit > page_rows_max) {
    return fail(bad_request("out_of_range", fmt::format("limit must be between 1 and {}", page_rows_max), "limit"));
  }
  std::vector<std::string> kinds;
  if (!call.q("kinds").empty()) kinds = split(call.q("kinds"), ',');
  for (const auto& k : kinds) {
    bool known = false;
    for (auto v : fb::EnumValuesBody()) known |= k == fb::EnumNameBody(v);
    if (!known || k == "NONE") return fail(bad_request("unknown_kind", fmt::format("'{}' is not an event kind", k), "kinds"));
  }
  if (call.req[http::field::accept].find("text/event-stream") != std::string_view::npos) {
    Response head{http::status::ok, call.req.version()};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Request-Id", call.request_id);
    head.set("X-Ledger-Seq", std::to_string(engine_.last_seq()));
    call.answered = true;
    call.respond = nullptr;
    return call.stream(std::move(head), EventStreamRequest{from, kinds});
  }
  std::string out = "{\"rows\":[";
  std::size_t rows = 0;
  std::uint64_t last = from - 1;
  std::uint64_t end_seq = engine_.last_seq();
  // A kind filter may match rarely: scan a bounded stretch per page and hand out a cursor.
  auto st = engine_.read_events(from, page_scan_events_max, [&](const fb::Event& e, const Hash32& h) {
    last = e.seq();
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), fb::EnumNameBody(e.body_type())) == kinds.end()) {
      return last < end_seq;
    }
    out += rows++ ? "," : "";
    out += event_json_.render(e, h);
    return rows < limit && last < end_seq;
  });
  if (!st) return fail(from_engine(st.error()));
  out += "],\"next\":";
  out += last < end_seq ? json_str(std::to_string(last)) : "null";
  out += "}";
  finish(call, json_response(call.req, http::status::ok, std::move(out), last));
}

}  // namespace ledger::api

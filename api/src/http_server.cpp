#include "http_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <random>

namespace ledger::api {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr std::size_t header_bytes_max = 16 * 1024;
constexpr std::size_t sse_chunk_events = 256;  // events read and written per SSE write

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}
}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer& server)
      : stream_(std::move(socket)), read_timer_(stream_.get_executor()), server_(server) {}

  // Serves the connection, or only answers 503 when it is over the server's connection cap.
  void start(bool over_limit) {
    server_.metrics().connection_opened();
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), over_limit] {
      if (over_limit) return self->reject();
      self->read();
    });
  }
  ~Session() { server_.metrics().connection_closed(); }

  // From the server's stop(): close at once when idle, else after the response in flight.
  void stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_ || self->streaming_) self->close();
    });
  }

  void reject() {
    server_.metrics().connection_rejected();
    auto res = std::make_shared<Response>(http::status::service_unavailable, 11);
    res->set(http::field::content_type, "application/json");
    res->set(http::field::retry_after, "1");
    res->set("X-Request-Id", new_request_id());
    res->body() = error_body({503, "too_many_connections", "the server is at its connection limit; retry", {}, 1});
    stream_.expires_after(std::chrono::milliseconds(server_.options().read_timeout_ms));
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) { self->close(); });
  }

 private:
  void read() {
    if (server_.stopping()) return close();
    idle_ = true;
    parser_.emplace();
    parser_->body_limit(server_.options().body_bytes_max);
    parser_->header_limit(header_bytes_max);
    // Our own timer, not the stream's: the stream's closes the socket, and we want to say 408.
    timed_out_ = false;
    std::uint64_t generation = ++read_generation_;
    read_timer_.expires_after(std::chrono::milliseconds(server_.options().read_timeout_ms));
    read_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      // Cancelled, or fired for a read that already completed: not ours to act on.
      if (ec || generation != self->read_generation_ || self->idle_ == false) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    idle_ = false;
    read_timer_.cancel();
    if (timed_out_) {
      // Nothing or half a request within the timeout: say so, then close. An idle keep-alive
      // connection (nothing sent at all) is just closed.
      if (parser_->got_some()) return send_error(408, "request_timeout", "the request did not arrive in time", false);
      return close();
    }
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return close();
    if (ec == http::error::body_limit) {
      return send_error(413, "payload_too_large",
                        fmt::format("the body is larger than {} bytes", server_.options().body_bytes_max), false);
    }
    if (ec == http::error::header_limit) return send_error(431, "headers_too_large", "the headers are too large", false);
    if (ec) return send_error(400, "bad_request", "malformed HTTP: " + ec.message(), false);
    Request req = parser_->release();
    started_ = std::chrono::steady_clock::now();
    method_ = std::string(req.method_string());
    target_ = std::string(req.target());
    route_ = server_.service().route_of(req);
    std::string_view client_id = req["X-Request-Id"];
    request_id_ = valid_request_id(client_id) ? std::string(client_id) : new_request_id();
    auto self = shared_from_this();
    // The work guard keeps the I/O threads running until the answer is posted, so a graceful stop
    // waits for requests still in the writer's queue or waiting for the live state.
    auto guard = std::make_shared<net::executor_work_guard<net::any_io_executor>>(stream_.get_executor());
    server_.service().handle(
        std::move(req), request_id_,
        [self, guard](Response&& res) {
          net::post(self->stream_.get_executor(), [self, guard, res = std::make_shared<Response>(std::move(res))]() mutable {
            self->write(res);
            guard->reset();
          });
        },
        [self, guard](Response&& head, EventStreamRequest want) {
          net::post(self->stream_.get_executor(), [self, guard, head = std::make_shared<Response>(std::move(head)), want]() {
            self->start_stream(head, want);
            guard->reset();
          });
        });
  }

  void send_error(unsigned status, std::string code, std::string message, bool keep_alive) {
    started_ = std::chrono::steady_clock::now();
    if (method_.empty()) method_ = "-";
    auto res = std::make_shared<Response>(static_cast<http::status>(status), 11);
    res->set(http::field::content_type, "application/json");
    res->set("X-Request-Id", request_id_.empty() ? new_request_id() : request_id_);
    res->body() = error_body({status, std::move(code), std::move(message), {}, 0});
    res->keep_alive(keep_alive);
    res->prepare_payload();
    write(res);
  }

  void write(std::shared_ptr<Response> res) {
    log(res->result_int(), res->find("X-Ledger-Seq") != res->end() ? std::string((*res)["X-Ledger-Seq"]) : "-");
    bool keep = res->keep_alive() && !server_.stopping();
    res->keep_alive(keep);
    stream_.expires_after(std::chrono::milliseconds(server_.options().read_timeout_ms));  // a peer that stops reading
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
      self->stream_.expires_never();
      if (ec || !keep) return self->close();
      self->read();
    });
  }

  void log(unsigned status, const std::string& seq) {
    auto latency_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
    server_.metrics().observe(route_, status, static_cast<std::uint64_t>(latency_us));
    if (!server_.options().log_requests) return;
    fmt::print("{:%Y-%m-%dT%H:%M:%S}Z info {} {} {} {}us seq={} req={}\n", fmt::gmtime(std::time(nullptr)), method_,
               target_, status, latency_us, seq, request_id_);
  }

  // ---- Server-Sent Events: header, then events from `from`, then live; resumable by Last-Event-ID.
  void start_stream(std::shared_ptr<Response> head, EventStreamRequest want) {
    log(200, std::string((*head)["X-Ledger-Seq"]));
    streaming_ = true;
    next_seq_ = want.from_seq;
    kinds_ = std::move(want.kinds);
    subscriber_id_ = server_.metrics().subscriber_added();
    auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*head);
    head->keep_alive(false);  // the stream ends when the connection does
    http::async_write_header(stream_, *serializer, [self = shared_from_this(), serializer, head](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->stream_more();
    });
  }

  void stream_more() {
    if (server_.stopping()) return close();
    std::string chunk;
    std::uint64_t end_seq = server_.service().engine().last_seq();
    std::size_t visited = 0;
    const EventJson& json = server_.service().event_json();
    auto st = server_.service().engine().read_events(next_seq_, sse_chunk_events, [&](const fb::Event& e, const Hash32& h) {
      ++visited;
      next_seq_ = e.seq() + 1;
      std::string_view kind = fb::EnumNameBody(e.body_type());
      if (kinds_.empty() || std::find(kinds_.begin(), kinds_.end(), kind) != kinds_.end()) {
        chunk += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.seq(), kind, json.render(e, h));
      }
      return e.seq() < end_seq;
    });
    if (!st) return close();
    server_.metrics().subscriber_position(subscriber_id_, next_seq_ - 1);
    if (chunk.empty() && visited == 0) return wait_for_events();
    if (chunk.empty()) return stream_more_later();
    auto buffer = std::make_shared<std::string>(std::move(chunk));
    // Only one write at a time: a slow reader makes us read the log more slowly, nothing piles up.
    // A reader that stops reading altogether is dropped after the timeout.
    stream_.expires_after(std::chrono::milliseconds(server_.options().read_timeout_ms));
    net::async_write(stream_, net::buffer(*buffer), [self = shared_from_this(), buffer](beast::error_code ec, std::size_t) {
      self->stream_.expires_never();
      if (ec) return self->close();
      self->stream_more();
    });
  }

  void stream_more_later() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_more(); });
  }

  void wait_for_events() {
    auto self = shared_from_this();
    auto woke = std::make_shared<std::atomic<bool>>(false);
    auto timer = std::make_shared<net::steady_timer>(stream_.get_executor());
    auto handle = server_.service().live().when_applied(next_seq_, [self, woke, timer] {
      if (woke->exchange(true)) return;
      net::post(self->stream_.get_executor(), [self, timer] {
        timer->cancel();
        self->stream_more();
      });
    });
    if (handle == 0) return;
    heartbeat_handle_ = handle;
    timer->expires_after(std::chrono::milliseconds(server_.options().sse_heartbeat_ms));
    timer->async_wait([self, woke, timer, handle](beast::error_code ec) {
      if (ec || woke->exchange(true)) return;
      self->server_.service().live().cancel(handle);
      // A comment line keeps proxies from timing out and finds dead peers.
      auto ping = std::make_shared<std::string>(": keepalive\n\n");
      self->stream_.expires_after(std::chrono::milliseconds(self->server_.options().read_timeout_ms));
      net::async_write(self->stream_, net::buffer(*ping), [self, ping](beast::error_code ec2, std::size_t) {
        self->stream_.expires_never();
        if (ec2) return self->close();
        self->stream_more();
      });
    });
    stream_timer_ = timer;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (streaming_) {
      server_.metrics().subscriber_removed(subscriber_id_);
      if (heartbeat_handle_ != 0) server_.service().live().cancel(heartbeat_handle_);
      if (stream_timer_) stream_timer_->cancel();
    }
    read_timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    server_.forget(this);
  }

  beast::tcp_stream stream_;
  net::steady_timer read_timer_;
  bool timed_out_ = false;
  std::uint64_t read_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer& server_;
  bool idle_ = false, streaming_ = false, closed_ = false;
  std::chrono::steady_clock::time_point started_;
  std::string method_, target_, request_id_;
  Metrics::Route route_ = Metrics::route_other;
  std::uint64_t next_seq_ = 1;
  std::vector<std::string> kinds_;
  std::uint64_t heartbeat_handle_ = 0;
  std::uint64_t subscriber_id_ = 0;
  std::shared_ptr<net::steady_timer> stream_timer_;
};

HttpServer::HttpServer(Service& service, Metrics& metrics, HttpOptions options)
    : service_(service), metrics_(metrics), options_(std::move(options)), acceptor_strand_(net::make_strand(io_)),
      acceptor_(acceptor_strand_) {}

HttpServer::~HttpServer() { stop(); }

Result<unsigned short> HttpServer::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.host, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, fmt::format("'{}' is not an IP address", options_.host));
  tcp::endpoint endpoint{address, options_.port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::storage_error,
                      fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
  }
  work_.emplace(io_.get_executor());
  net::post(acceptor_strand_, [this] { accept(); });
  for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) threads_.emplace_back([this] { io_.run(); });
  return acceptor_.local_endpoint().port();
}

void HttpServer::accept() {
  acceptor_.async_accept(net::make_strand(io_), net::bind_executor(acceptor_strand_, [this](beast::error_code ec, tcp::socket socket) {
    if (stopping_ || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors or an aborted handshake: keep accepting, after a breath.
      auto timer = std::make_shared<net::steady_timer>(acceptor_strand_, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { if (!stopping_) accept(); });
      return;
    }
    auto session = std::make_shared<Session>(std::move(socket), *this);
    bool over = static_cast<std::size_t>(metrics_.connections_open()) >= options_.connections_max;
    {
      std::lock_guard lock(sessions_mu_);
      sessions_.insert(session);
    }
    session->start(over);
    accept();
  }));
}

std::function<void()> HttpServer::schedule(std::uint64_t ms, std::function<void()> fn) {
  auto timer = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(ms));
  timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
    if (!ec) fn();
  });
  // Cancelling from any thread: posted, so the timer is only touched by the I/O threads.
  return [this, timer] { net::post(io_, [timer] { timer->cancel(); }); };
}

void HttpServer::post(std::function<void()> fn) { net::post(io_, std::move(fn)); }

void HttpServer::forget(Session* session) {
  std::lock_guard lock(sessions_mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto s = it->lock();
    it = (!s || s.get() == session) ? sessions_.erase(it) : std::next(it);
  }
}

void HttpServer::stop() {
  if (threads_.empty()) return;
  stopping_ = true;
  net::post(acceptor_strand_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(sessions_mu_);
    for (const auto& w : sessions_) {
      if (auto s = w.lock()) open.push_back(s);
    }
  }
  for (auto& s : open) s->stop();
  open.clear();
  work_.reset();  // io_.run() returns once the last session is gone
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void HttpServer::wait_for_signal() {
  net::io_context signals_io;
  net::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([](beast::error_code, int) {});
  signals_io.run();
  stop();
}

}  // namespace ledger::api

// The HTTP transport (Boost.Beast over Asio): keep-alive sessions with a timeout before every read,
// a body limit, a cap on connections, one log line per request, Server-Sent Events, and a graceful
// stop (stop accepting, let in-flight requests finish, close idle connections).
#pragma once

#include <boost/asio.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service.hpp"

namespace ledger::api {

struct HttpOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (tests)
  unsigned threads = 2;
  std::size_t body_bytes_max = 1 << 20;   // 1 MiB: 512 lines of JSON are ~40 KiB
  std::size_t connections_max = 1024;
  unsigned read_timeout_ms = 15'000;      // a request must arrive whole within this
  unsigned sse_heartbeat_ms = 15'000;
  bool log_requests = true;
};

class Session;

class HttpServer {
 public:
  HttpServer(Service& service, Metrics& metrics, HttpOptions options);
  ~HttpServer();

  // Binds and starts the I/O threads. Returns the bound port.
  Result<unsigned short> start();
  // Stops accepting, closes idle connections, waits for in-flight requests, joins the threads.
  void stop();
  // Blocks until SIGINT or SIGTERM, then stop().
  void wait_for_signal();

  boost::asio::io_context& io() { return io_; }
  // For ServiceOptions: timers and posting on this server's I/O threads.
  std::function<void()> schedule(std::uint64_t ms, std::function<void()> fn);
  void post(std::function<void()> fn);
  Service& service() { return service_; }
  Metrics& metrics() { return metrics_; }
  const HttpOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  void forget(Session* session);

 private:
  void accept();

  Service& service_;
  Metrics& metrics_;
  HttpOptions options_;
  boost::asio::io_context io_;
  boost::asio::strand<boost::asio::io_context::executor_type> acceptor_strand_;  // every acceptor operation
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex sessions_mu_;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions_;  // guarded by sessions_mu_
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
};

}  // namespace ledger::api

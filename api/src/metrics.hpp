// Prometheus metrics of the server: request counts by route and status class, latency histograms,
// plus gauges read from the engine and the live state when scraped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ledger::api {

class Metrics {
 public:
  // Latency buckets in microseconds: loopback requests take tens of us; fsync'd writes ms.
  static constexpr std::array<std::uint64_t, 12> latency_bounds_us = {50,     100,    250,     500,    1000,   2500,
                                                                     5000,   10'000, 25'000, 100'000, 500'000, 2'000'000};
  enum Route : std::size_t { route_read = 0, route_write = 1, route_events = 2, route_other = 3, route_count = 4 };

  void observe(Route route, unsigned status, std::uint64_t latency_us);
  void connection_opened() { ++connections_open_; }
  void connection_closed() { --connections_open_; }
  void connection_rejected() { ++connections_rejected_; }
  std::int64_t connections_open() const { return connections_open_.load(); }
  // Event-stream subscribers and the last sequence each has been sent.
  std::uint64_t subscriber_added();
  void subscriber_removed(std::uint64_t id);
  void subscriber_position(std::uint64_t id, std::uint64_t seq);
  std::string render(std::uint64_t last_seq) const;  // the request part; the server appends engine gauges

 private:
  struct Histogram {
    std::array<std::atomic<std::uint64_t>, latency_bounds_us.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_us{0};
    std::atomic<std::uint64_t> count{0};
  };
  std::array<std::array<std::atomic<std::uint64_t>, 6>, route_count> requests_{};  // by status class 0..5
  std::array<Histogram, route_count> latency_;
  std::atomic<std::int64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_rejected_{0};
  mutable std::mutex subscribers_mu_;
  std::map<std::uint64_t, std::uint64_t> subscriber_positions_;  // guarded by subscribers_mu_
  std::uint64_t next_subscriber_ = 1;                             // guarded by subscribers_mu_
};

}  // namespace ledger::api

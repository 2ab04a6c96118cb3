#include "metrics.hpp"

#include <fmt/format.h>

namespace ledger::api {

namespace {
constexpr const char* route_names[] = {"read", "write", "events", "other"};
}

void Metrics::observe(Route route, unsigned status, std::uint64_t latency_us) {
  requests_[route][std::min(status / 100, 5u)]++;
  Histogram& h = latency_[route];
  std::size_t bucket = 0;
  while (bucket < latency_bounds_us.size() && latency_us > latency_bounds_us[bucket]) ++bucket;
  h.buckets[bucket]++;
  h.sum_us += latency_us;
  h.count++;
}

std::uint64_t Metrics::subscriber_added() {
  std::lock_guard lock(subscribers_mu_);
  std::uint64_t id = next_subscriber_++;
  subscriber_positions_[id] = 0;
  return id;
}

void Metrics::subscriber_removed(std::uint64_t id) {
  std::lock_guard lock(subscribers_mu_);
  subscriber_positions_.erase(id);
}

void Metrics::subscriber_position(std::uint64_t id, std::uint64_t seq) {
  std::lock_guard lock(subscribers_mu_);
  auto it = subscriber_positions_.find(id);
  if (it != subscriber_positions_.end()) it->second = seq;
}

std::string Metrics::render(std::uint64_t last_seq) const {
  std::string out;
  out += "# HELP ledger_http_requests_total HTTP requests answered, by route kind and status class.\n";
  out += "# TYPE ledger_http_requests_total counter\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    for (std::size_t c = 1; c < 6; ++c) {
      out += fmt::format("ledger_http_requests_total{{route=\"{}\",status=\"{}xx\"}} {}\n", route_names[r], c,
                         requests_[r][c].load());
    }
  }
  out += "# HELP ledger_http_request_duration_seconds Time from request read to response queued.\n";
  out += "# TYPE ledger_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < latency_bounds_us.size(); ++b) {
      cumulative += latency_[r].buckets[b].load();
      out += fmt::format("ledger_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route_names[r],
                         latency_bounds_us[b] / 1e6, cumulative);
    }
    cumulative += latency_[r].buckets[latency_bounds_us.size()].load();
    out += fmt::format("ledger_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route_names[r],
                       cumulative);
    out += fmt::format("ledger_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route_names[r],
                       latency_[r].sum_us.load() / 1e6);
    out += fmt::format("ledger_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route_names[r],
                       latency_[r].count.load());
  }
  out += "# TYPE ledger_http_connections_open gauge\n";
  out += fmt::format("ledger_http_connections_open {}\n", connections_open_.load());
  out += "# TYPE ledger_http_connections_rejected_total counter\n";
  out += fmt::format("ledger_http_connections_rejected_total {}\n", connections_rejected_.load());
  std::lock_guard lock(subscribers_mu_);
  std::uint64_t slowest = last_seq;
  for (const auto& [id, seq] : subscriber_positions_) slowest = std::min(slowest, seq);
  out += "# HELP ledger_subscribers Event-stream (SSE) subscribers connected.\n# TYPE ledger_subscribers gauge\n";
  out += fmt::format("ledger_subscribers {}\n", subscriber_positions_.size());
  out += "# HELP ledger_subscriber_lag_events Events the slowest subscriber has yet to be sent.\n";
  out += "# TYPE ledger_subscriber_lag_events gauge\n";
  out += fmt::format("ledger_subscriber_lag_events {}\n", last_seq - slowest);
  return out;
}

}  // namespace ledger::api

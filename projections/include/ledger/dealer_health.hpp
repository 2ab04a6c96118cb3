// Dealer health: what a dealer's orders, deliveries, payments, returns and violations say about it, as a
// 0-100 score, a tier and a suggested credit line. The formula is in dealer_health.cpp's header comment.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "ledger/projection.hpp"

namespace ledger {

struct HealthComponents {  // each 0..1, 1 is healthy
  double purchase_frequency = 0, volume_trend = 0, fulfilment_rate = 0, on_time_delivery = 0, on_time_payment = 0,
         return_rate = 0, violations = 0, credit_use = 0;
};

struct DealerHealthReport {
  std::string dealer;
  int score = 0;  // 0..100
  char tier = 'D';
  HealthComponents components;
  // The figures behind them.
  std::int64_t orders_90d = 0, units_30d = 0, units_prev_30d = 0, purchases_90d_cents = 0;
  std::int64_t sold_delivered = 0, sold_on_time = 0, sold_cancelled = 0;
  std::int64_t units_received = 0, units_returned = 0;
  std::int64_t paid_on_time = 0, paid_late = 0, overdue_receivables = 0, open_receivables_cents = 0;
  std::int64_t violations_90d = 0;
  std::int64_t credit_limit_cents = 0, credit_used_cents = 0, suggested_credit_line_cents = 0;
  bool earns_terms = false;  // in the top fifth by score
};

// Days a shipped order's invoice is due after shipment.
inline constexpr std::int64_t payment_terms_days = 30;

class DealerHealth final : public Projection {
 public:
  std::string_view name() const override { return "dealer_health"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // Every dealer defined in `state`, ordered by id, scored as of the last event folded; the top fifth
  // by score (ties by id) earn terms.
  std::vector<DealerHealthReport> report_all(const LedgerState& state) const;
  // One dealer (must be defined in `state`).
  DealerHealthReport report(const LedgerState& state, std::string_view dealer) const;
  std::int64_t now_us() const { return now_us_; }

 private:
  struct Day {
    std::int64_t day = 0;  // China days since the epoch
    std::int64_t orders = 0, units = 0, purchase_cents = 0;
  };
  struct Receivable {
    std::int64_t due_us = 0, left_cents = 0;
  };
  struct Stats {
    std::vector<Day> buys;  // as a buyer, by day of placement
    std::int64_t sold_delivered = 0, sold_on_time = 0, sold_cancelled = 0;
    std::int64_t units_received = 0, units_returned = 0;
    std::int64_t paid_on_time = 0, paid_late = 0;
    std::deque<Receivable> open;             // oldest first; payments settle them in that order
    std::vector<std::int64_t> violation_us;  // within the last 90 days
  };
  DealerHealthReport score(const LedgerState& state, std::string_view dealer, const Stats* stats) const;
  Stats& stats(std::string_view dealer);
  static void add_violation(Stats& s, std::int64_t ts_us);

  StringMap<Stats> dealers_;
  std::int64_t now_us_ = 0;
};

}  // namespace ledger

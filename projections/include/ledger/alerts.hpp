// Alerts, folded from the log: low stock (a location's stock position falls to its reorder point),
// order delays, price violations (a line under its floor), channel conflicts (a dealer selling outside
// its territory, or a lot first received by one dealer reaching another dealer's store outside the
// first one's territory: lot_trace.hpp), price changes beyond the price policy's threshold
// (PUT /v1/price-policy, 10% unless set), reservations about to expire and expired, and AlertRaised events.
// Each names the region, dealer and store it concerns so scoped readers see their own. The newest
// alerts_kept_max are kept.
#pragma once

#include <climits>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "ledger/lot_trace.hpp"
#include "ledger/projection.hpp"
#include "ledger/stock_flow.hpp"

namespace ledger {

inline constexpr std::size_t alerts_kept_max = 100'000;
// A pending reservation is warned about once its deadline is this close to the newest event's time.
inline constexpr std::int64_t reservation_warning_us = 24LL * 3600 * 1'000'000;

struct AlertRecord {
  std::uint64_t seq = 0;
  std::int64_t ts_us = 0;
  std::string kind;     // low_stock, delay, price, channel_conflict, price_change, reservation_expired, or raised
  std::string subject;  // what it is about: "order:ID", "dealer:D", "store:S|SKU", "sku:ID"...
  std::string message;
  std::string region, dealer, store;  // scope; empty when it concerns no such party
  bool operator==(const AlertRecord&) const = default;
};

bool is_alert_kind(std::string_view kind);

class Alerts final : public Projection {
 public:
  // Low stock reads the flow's demand and lot conflicts the lot trace's findings: both are folded
  // before this, every event.
  Alerts(const StockFlow& flow, const LotTrace& lots) : flow_(flow), lots_(lots) {}
  std::string_view name() const override { return "alerts"; }
  // 3: channel conflicts by lot.
  std::uint32_t version() const override { return 3; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // Alerts after `after_seq`, oldest first, at most `limit`, that pass `visible`.
  template <typename Visible>
  std::vector<AlertRecord> query(std::string_view kind, std::uint64_t after_seq, std::size_t limit,
                                 Visible&& visible) const {
    std::vector<AlertRecord> out;
    auto it = std::upper_bound(alerts_.begin(), alerts_.end(), after_seq,
                               [](std::uint64_t seq, const AlertRecord& a) { return seq < a.seq; });
    for (; it != alerts_.end() && out.size() < limit; ++it) {
      if ((kind.empty() || it->kind == kind) && visible(*it)) out.push_back(*it);
    }
    return out;
  }
  std::uint64_t dropped() const { return dropped_; }
  std::size_t size() const { return alerts_.size(); }

 private:
  void raise(const FoldStep& step, AlertRecord record);
  void raise_lot_conflicts(const FoldStep& step);

  const StockFlow& flow_;
  const LotTrace& lots_;
  std::deque<AlertRecord> alerts_;          // by seq
  std::uint64_t dropped_ = 0;               // older alerts let go
  std::set<std::string, std::less<>> low_;  // "location|sku" now at or under its reorder point
  std::pair<std::int64_t, std::string> expiring_watermark_{INT64_MIN, {}};  // the last (deadline, id) warned
};

}  // namespace ledger

#include "ledger/stock_flow.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/order_facts.hpp"

namespace ledger {

namespace {
// Keep this many days back from the newest; one older day stays as the closing balance before them.
constexpr std::int64_t kept_days = flow_window_days_max + 1;
}  // namespace

void StockFlow::apply(const FoldStep& step) {
  now_us_ = std::max(now_us_, step.event.ts_us());
  if (step.deltas.empty()) return;
  std::int64_t today = china_day_of(step.event.ts_us());
  // A sale: an order's shipment posts the reservations that held its stock into transit:order.ID.
  bool shipment = false;
  if (step.event.body_type() == fb::Body::ReservationPosted) {
    const auto* id = step.event.body_as_ReservationPosted()->id();
    const ReservationRecord* r = id == nullptr ? nullptr : step.state.reservation(id->string_view());
    shipment = r != nullptr && !order_of_transit(r->to).empty();
  }
  for (const StockDelta& d : step.deltas) {
    if (!is_stocking_location(d.location) || d.on_hand_delta == 0) continue;
    Series& s = series_[key(names_.intern(d.location), names_.intern(d.sku))];
    s.on_hand = d.after.on_hand;
    if (s.days.empty() || s.days.back().day < today) {
      s.days.push_back(Day{today, 0, 0});
      // Drop days nobody asks about, keeping the last one before the window for its closing balance.
      std::size_t drop = 0;
      while (drop + 1 < s.days.size() && s.days[drop + 1].day <= today - kept_days) ++drop;
      if (drop > 0) s.days.erase(s.days.begin(), s.days.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    // Events are in time order; a clock step backwards lands in the newest day.
    Day& day = s.days.back();
    day.closing_on_hand = d.after.on_hand;
    if (shipment && d.on_hand_delta < 0) day.sold += -d.on_hand_delta;
  }
}

const StockFlow::Series* StockFlow::series(std::string_view location, std::string_view sku) const {
  if (!names_.contains(location) || !names_.contains(sku)) return nullptr;
  auto it = series_.find(key(names_.find(location), names_.find(sku)));
  return it == series_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string_view, const StockFlow::Series*>> StockFlow::skus_at(std::string_view location) const {
  std::vector<std::pair<std::string_view, const Series*>> rows;
  if (!names_.contains(location)) return rows;
  std::uint32_t loc = names_.find(location);
  for (const auto& [k, s] : series_) {
    if ((k >> 32) == loc) rows.emplace_back(names_[static_cast<std::uint32_t>(k & 0xffffffffu)], &s);
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return rows;
}

void StockFlow::save(SnapshotWriter& out) const {
  names_.save(out);
  out.i64(now_us_);
  std::vector<std::uint64_t> keys;
  keys.reserve(series_.size());
  for (const auto& [k, s] : series_) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  out.u64(keys.size());
  for (auto k : keys) {
    const Series& s = series_.at(k);
    out.u64(k);
    out.i64(s.on_hand);
    out.u64(s.days.size());
    for (const Day& d : s.days) {
      out.i64(d.day);
      out.i64(d.sold);
      out.i64(d.closing_on_hand);
    }
  }
}

Status StockFlow::load(SnapshotReader& in) {
  *this = StockFlow{};
  if (!names_.load(in)) return make_error(ErrorCode::corruption, "stock_flow: bad name table");
  now_us_ = in.i64();
  std::uint64_t n = in.count(24);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::uint64_t k = in.u64();
    if ((k >> 32) >= names_.size() || (k & 0xffffffffu) >= names_.size()) in.fail();
    Series s;
    s.on_hand = in.i64();
    std::uint64_t days = in.count(24);
    for (std::uint64_t j = 0; j < days && in.ok(); ++j) {
      Day d;
      d.day = in.i64();
      d.sold = in.i64();
      d.closing_on_hand = in.i64();
      if (!s.days.empty() && d.day <= s.days.back().day) in.fail();
      s.days.push_back(d);
    }
    series_[k] = std::move(s);
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "stock_flow: the snapshot does not decode");
  return Ok{};
}

std::string StockFlow::render() const {
  std::vector<std::string> lines;
  for (const auto& [k, s] : series_) {
    std::string line = fmt::format("{}|{} on_hand={}", names_[static_cast<std::uint32_t>(k >> 32)],
                                   names_[static_cast<std::uint32_t>(k & 0xffffffffu)], s.on_hand);
    for (const Day& d : s.days) line += fmt::format(" {}:{}:{}", d.day, d.sold, d.closing_on_hand);
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("now={}\n{}\n", now_us_, fmt::join(lines, "\n"));
}

}  // namespace ledger

// Turnover, days of supply and replenishment over the stock flow.
//
// Over a window of W China days ending today (today included), for one location and SKU:
//   sold            = units that left the location in order shipments
//   avg_on_hand     = mean of the W daily closing on-hand figures (the last change of the day, else the
//                     previous closing)
//   turnover        = sold / avg_on_hand
//   days_of_supply  = on_hand / (sold / W)
// Replenishment, over the last demand_window_days (W = 28) of daily sales x_1..x_W:
//   daily_demand mu = sum(x) / W,  sigma = sqrt(sum((x - mu)^2) / (W - 1))
//   lead time L     = lead_time_days(location)
//   safety_stock    = ceil(z * sigma * sqrt(L)),  z = 1.65
//   reorder_point   = ceil(mu * L) + safety_stock
//   target          = reorder_point + ceil(mu * review_period_days)
//   position        = available + inbound (transfers on the road to it)
//   suggested_qty   = max(0, target - position), rounded up to whole cases of the SKU
//   low_stock       = mu > 0 and position <= reorder_point
#include <algorithm>
#include <cmath>

#include "ledger/order_facts.hpp"
#include "ledger/stock_flow.hpp"

namespace ledger {

std::int64_t lead_time_days(std::string_view location) {
  if (location.rfind("warehouse:", 0) == 0) return 14;
  if (location.rfind("dealer:", 0) == 0) return 3;
  return 1;
}

namespace {
// ceil that ignores the last bits of floating error: 2.0000000001 is 2.
std::int64_t ceil_units(double x) { return static_cast<std::int64_t>(std::ceil(x - 1e-9)); }
}  // namespace

DemandFigures demand_figures(const std::vector<StockFlow::Day>& days, std::int64_t today, int window_days) {
  DemandFigures f;
  if (window_days <= 0) return f;
  std::int64_t first = today - window_days + 1;
  std::vector<std::int64_t> sold(static_cast<std::size_t>(window_days), 0);
  double closing_sum = 0;
  std::size_t i = 0;
  std::int64_t closing = 0;
  for (std::int64_t d = first; d <= today; ++d) {
    while (i < days.size() && days[i].day <= d) {
      closing = days[i].closing_on_hand;
      if (days[i].day == d) sold[static_cast<std::size_t>(d - first)] = days[i].sold;
      ++i;
    }
    closing_sum += static_cast<double>(closing);
  }
  for (auto x : sold) f.sold += x;
  f.mean = static_cast<double>(f.sold) / window_days;
  if (window_days > 1) {
    double ss = 0;
    for (auto x : sold) ss += (static_cast<double>(x) - f.mean) * (static_cast<double>(x) - f.mean);
    f.stddev = std::sqrt(ss / (window_days - 1));
  }
  f.avg_closing_on_hand = closing_sum / window_days;
  return f;
}

std::vector<TurnoverRow> StockFlow::turnover(std::string_view location, int window_days) const {
  std::vector<TurnoverRow> rows;
  std::int64_t today = china_day_of(now_us_);
  for (const auto& [sku, series] : skus_at(location)) {
    const Series& s = *series;
    DemandFigures f = demand_figures(s.days, today, window_days);
    if (s.on_hand == 0 && f.sold == 0) continue;
    TurnoverRow r;
    r.sku = std::string(sku);
    r.on_hand = s.on_hand;
    r.sold_units = f.sold;
    r.avg_on_hand = f.avg_closing_on_hand;
    if (f.avg_closing_on_hand > 0) r.turnover = static_cast<double>(f.sold) / f.avg_closing_on_hand;
    if (f.sold > 0) r.days_of_supply = static_cast<double>(s.on_hand) / f.mean;
    r.slow_mover = s.on_hand > 0 && (f.sold == 0 || *r.days_of_supply >= slow_mover_days);
    rows.push_back(std::move(r));
  }
  return rows;
}

ReplenishmentRow StockFlow::replenishment_of(const LedgerState& state, std::string_view location,
                                             std::string_view sku) const {
  ReplenishmentRow r;
  r.sku = std::string(sku);
  r.available = state.balance(location, sku).available();
  r.inbound = state.inbound(location, sku);
  r.lead_time_days = lead_time_days(location);
  const Series* s = series(location, sku);
  DemandFigures f = s == nullptr ? DemandFigures{} : demand_figures(s->days, china_day_of(now_us_), demand_window_days);
  r.daily_demand = f.mean;
  r.demand_stddev = f.stddev;
  r.safety_stock = ceil_units(safety_z * f.stddev * std::sqrt(static_cast<double>(r.lead_time_days)));
  r.reorder_point = ceil_units(f.mean * static_cast<double>(r.lead_time_days)) + r.safety_stock;
  std::int64_t target = r.reorder_point + ceil_units(f.mean * static_cast<double>(review_period_days));
  std::int64_t position = r.available + r.inbound;
  std::int64_t short_units = std::max<std::int64_t>(0, target - position);
  const SkuRecord* rec = state.sku(sku);
  std::int64_t case_units = rec != nullptr && rec->case_units > 0 ? rec->case_units : 1;
  r.suggested_qty = (short_units + case_units - 1) / case_units * case_units;
  r.low_stock = f.mean > 0 && position <= r.reorder_point;
  return r;
}

std::vector<ReplenishmentRow> StockFlow::replenishment(const LedgerState& state, std::string_view location) const {
  std::vector<ReplenishmentRow> rows;
  for (const auto& [sku, series] : skus_at(location)) rows.push_back(replenishment_of(state, location, sku));
  return rows;
}

}  // namespace ledger

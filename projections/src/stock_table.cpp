#include "ledger/stock_table.hpp"

#include <algorithm>

#include "ledger/location.hpp"

namespace ledger {

namespace {
std::size_t capacity_for(std::size_t n) {
  std::size_t c = 16;
  while (c < n) c *= 2;
  return c;
}
}  // namespace

StockTable::StockTable() {
  auto empty = std::make_unique<Directory>();
  empty->cells = std::make_shared<Cells>();
  current_.store(empty.get(), std::memory_order_release);
  directories_.push_back(std::move(empty));
}

StockTable::~StockTable() = default;

void StockTable::rebuild(const LedgerState& state) {
  const Directory* old = current_.load(std::memory_order_relaxed);
  auto next = std::make_unique<Directory>();
  const auto& weights = state.sourcing_weights_by_region();
  auto default_it = weights.find(std::string_view{});
  next->default_weights = default_it == weights.end() ? default_weights() : default_it->second;
  auto region_index = [&](const std::string& region) {
    auto it = next->regions.find(region);
    if (it == next->regions.end()) {
      auto own = weights.find(region);
      RegionInfo info{static_cast<std::uint32_t>(next->regions.size()),
                      own == weights.end() ? next->default_weights : own->second};
      it = next->regions.emplace(region, info).first;
    }
    return it->second.index;
  };
  for (const auto& [region, w] : weights) {
    if (!region.empty()) region_index(region);
  }
  for (const auto& id : state.warehouse_ids()) {
    const WarehouseRecord* w = state.warehouse(id);
    next->warehouse_index.emplace(id, static_cast<std::uint32_t>(next->warehouses.size()));
    next->warehouses.push_back({id, w->region, region_index(w->region), w->lat_e6, w->lon_e6, w->daily_capacity_cases});
  }
  // SKUs keep their index across directories (only ever appended), so cells carry over by index.
  next->sku_index = old->sku_index;
  next->case_units = old->case_units;
  std::vector<std::string> skus;
  state.for_each_sku([&](std::string_view id, const SkuRecord& sku) {
    auto it = next->sku_index.find(id);
    if (it == next->sku_index.end()) {
      next->sku_index.emplace(std::string(id), static_cast<std::uint32_t>(next->case_units.size()));
      next->case_units.push_back(sku.case_units);
    } else {
      next->case_units[it->second] = sku.case_units;
    }
  });
  std::size_t w_need = next->warehouses.size(), s_need = next->case_units.size();
  // Warehouse indexes shift when one is added in the middle: always lay cells out anew by id.
  auto cells = std::make_shared<Cells>();
  cells->warehouses_max = capacity_for(w_need);
  cells->skus_max = capacity_for(s_need);
  cells->cells.reset(new Cell[cells->warehouses_max * cells->skus_max]);
  cells->loads.reset(new Load[cells->warehouses_max]);
  next->cells = std::move(cells);
  for (std::size_t w = 0; w < w_need; ++w) {
    std::string location = location_string(LocationKind::warehouse, next->warehouses[w].id);
    for (const auto& [sku, s] : next->sku_index) {
      Cell& cell = next->cells->at(w, s);
      cell.available.store(state.balance(location, sku).available(), std::memory_order_relaxed);
      cell.since_us.store(state.stock_since_us(location, sku), std::memory_order_relaxed);
    }
  }
  current_.store(next.get(), std::memory_order_release);
  directories_.push_back(std::move(next));
}

void StockTable::refresh(const LedgerState& state, std::string_view location, std::string_view sku) {
  if (location.substr(0, 10) != "warehouse:") return;
  const Directory* d = current_.load(std::memory_order_relaxed);
  auto w = d->warehouse_index.find(location.substr(10));
  auto s = d->sku_index.find(sku);
  if (w == d->warehouse_index.end() || s == d->sku_index.end()) return;  // the next rebuild covers it
  Cell& cell = d->cells->at(w->second, s->second);
  cell.available.store(state.balance(location, sku).available(), std::memory_order_relaxed);
  cell.since_us.store(state.stock_since_us(location, sku), std::memory_order_relaxed);
}

void StockTable::refresh_loads(const LedgerState& state, std::int64_t now_us) {
  const Directory* d = current_.load(std::memory_order_relaxed);
  std::int64_t day = china_day_of(now_us);
  for (std::size_t w = 0; w < d->warehouses.size(); ++w) {
    d->cells->loads[w].cases.store(state.warehouse_load_cases(d->warehouses[w].id, day), std::memory_order_relaxed);
    d->cells->loads[w].day.store(day, std::memory_order_relaxed);
  }
}

int StockTable::gather(std::span<const WantedLine> wanted, std::string_view region, std::int64_t now_us,
                       StockView& view) const {
  const Directory* d = current_.load(std::memory_order_acquire);
  std::size_t n = wanted.size(), nw = d->warehouses.size();
  view.lines.resize(n);
  std::vector<std::uint32_t>& sku_at = view.sku_slots;
  sku_at.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto it = d->sku_index.find(wanted[i].sku);
    if (it == d->sku_index.end()) return static_cast<int>(i);
    sku_at[i] = it->second;
    std::int32_t case_units = d->case_units[it->second];
    view.lines[i] = MatchLine{wanted[i].sku, wanted[i].qty, case_units, 2LL * case_units};
  }
  view.available.resize(nw * n);
  view.since_us.resize(nw * n);
  view.warehouses.resize(nw);
  std::int64_t today = china_day_of(now_us);
  // The ship-to region, once: its weights, and which warehouses are in it.
  auto region_it = d->regions.find(region);
  bool region_known = region_it != d->regions.end();
  std::uint32_t region_index = region_known ? region_it->second.index : 0;
  view.weights = region_known ? region_it->second.weights : d->default_weights;
  for (std::size_t w = 0; w < nw; ++w) {
    for (std::size_t i = 0; i < n; ++i) {
      const Cell& cell = d->cells->at(w, sku_at[i]);
      view.available[w * n + i] = cell.available.load(std::memory_order_relaxed);
      std::int64_t since = cell.since_us.load(std::memory_order_relaxed);
      view.since_us[w * n + i] = since == 0 ? now_us : since;
    }
    const Load& load = d->cells->loads[w];
    std::int64_t cases =
        load.day.load(std::memory_order_relaxed) == today ? load.cases.load(std::memory_order_relaxed) : 0;
    const WarehouseInfo& info = d->warehouses[w];
    view.warehouses[w] = MatchWarehouse{info.id,
                                        region_known && info.region_index == region_index,
                                        info.lat_e6,
                                        info.lon_e6,
                                        info.daily_capacity_cases,
                                        cases,
                                        std::span<const std::int64_t>(view.available.data() + w * n, n),
                                        std::span<const std::int64_t>(view.since_us.data() + w * n, n)};
  }
  return -1;
}

std::int64_t StockTable::available(std::string_view warehouse, std::string_view sku) const {
  const Directory* d = current_.load(std::memory_order_acquire);
  auto w = d->warehouse_index.find(warehouse);
  auto s = d->sku_index.find(sku);
  if (w == d->warehouse_index.end() || s == d->sku_index.end()) return 0;
  return d->cells->at(w->second, s->second).available.load(std::memory_order_relaxed);
}

}  // namespace ledger

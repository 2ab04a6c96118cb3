#include "ledger/sales_board.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/container_hash/hash.hpp>
#include <map>
#include <tuple>

#include "ledger/order_facts.hpp"

namespace ledger {

bool sales_bucket_from_name(std::string_view name, SalesBucket& out) {
  if (name == "hour")
    out = SalesBucket::hour;
  else if (name == "day")
    out = SalesBucket::day;
  else if (name == "month")
    out = SalesBucket::month;
  else
    return false;
  return true;
}

// ---------------------------------------------------------------- Distribution

void Distribution::add(std::int64_t seconds) {
  std::size_t i = 0;
  while (i < bounds_s.size() && seconds > bounds_s[i]) ++i;
  ++counts[i];
  total_s += std::max<std::int64_t>(seconds, 0);
}

void Distribution::merge(const Distribution& other) {
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  total_s += other.total_s;
}

std::int64_t Distribution::count() const {
  std::int64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

std::int64_t Distribution::percentile_s(int p) const {
  std::int64_t n = count();
  if (n == 0) return 0;
  // The smallest bucket holding at least p% of the samples (rank ceil(p*n/100), at least 1).
  std::int64_t rank = std::max<std::int64_t>(1, (p * n + 99) / 100);
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return i < bounds_s.size() ? bounds_s[i] : -1;
  }
  return -1;
}

// ---------------------------------------------------------------- SalesBoard fold

std::size_t SalesBoard::CellKeyHash::operator()(const CellKey& k) const {
  std::size_t h = boost::hash<std::int64_t>{}(k.hour);
  for (auto v : {k.region, k.channel, k.dealer, k.store, k.sku}) boost::hash_combine(h, v);
  return h;
}

namespace {
std::int64_t hour_of(std::int64_t ts_us) { return hour_start_us(ts_us) / us_per_hour; }

// a * b / c without overflowing in between; c > 0.
std::int64_t mul_div(std::int64_t a, std::int64_t b, std::int64_t c) {
  return static_cast<std::int64_t>(static_cast<__int128>(a) * b / c);
}
}  // namespace

void SalesBoard::add_order(const OrderRecord& order, const Placed& at, int sign) {
  CellKey key{at.hour, at.region, at.channel, at.dealer, at.store, 0};
  SalesTotals& whole = order_cells_[key];
  std::int64_t revenue = 0;
  for (const auto& l : order.lines) revenue += l.qty * l.unit_price_cents;
  whole.orders += sign;
  whole.discount_cents += sign * order.discount_cents;
  // Per line: units, revenue and the line's share of the discount; per SKU one order.
  std::int64_t discount_left = order.discount_cents;
  std::vector<std::int64_t> shares(order.lines.size(), 0);
  std::size_t first_with_revenue = order.lines.size();
  for (std::size_t i = 0; i < order.lines.size(); ++i) {
    std::int64_t line_revenue = order.lines[i].qty * order.lines[i].unit_price_cents;
    if (line_revenue > 0 && first_with_revenue == order.lines.size()) first_with_revenue = i;
    shares[i] = revenue > 0 ? mul_div(order.discount_cents, line_revenue, revenue) : 0;
    discount_left -= shares[i];
  }
  if (first_with_revenue < shares.size()) shares[first_with_revenue] += discount_left;
  for (std::size_t i = 0; i < order.lines.size(); ++i) {
    const auto& l = order.lines[i];
    key.sku = names_.intern(l.sku);
    SalesTotals& c = cell(key);
    bool first_of_sku = std::none_of(order.lines.begin(), order.lines.begin() + static_cast<std::ptrdiff_t>(i),
                                     [&](const OrderLineInput& o) { return o.sku == l.sku; });
    c.orders += first_of_sku ? sign : 0;
    c.units += sign * l.qty;
    c.revenue_cents += sign * l.qty * l.unit_price_cents;
    c.discount_cents += sign * shares[i];
    whole.units += sign * l.qty;
    whole.revenue_cents += sign * l.qty * l.unit_price_cents;
  }
}

void SalesBoard::add_return(const OrderRecord& order, const Placed& placed, std::int64_t hour,
                            const fb::OrderReturned& r) {
  if (r.lines() == nullptr) return;
  CellKey key{hour, placed.region, placed.channel, placed.dealer, placed.store, 0};
  for (const auto* line : *r.lines()) {
    std::string_view sku = line->sku() ? line->sku()->string_view() : std::string_view();
    auto it =
        std::find_if(order.lines.begin(), order.lines.end(), [&](const OrderLineInput& l) { return l.sku == sku; });
    std::int64_t price = it == order.lines.end() ? 0 : it->unit_price_cents;
    key.sku = 0;
    SalesTotals& whole = order_cells_[key];
    whole.units -= line->qty();
    whole.revenue_cents -= line->qty() * price;
    key.sku = names_.intern(sku);
    SalesTotals& c = cell(key);
    c.units -= line->qty();
    c.revenue_cents -= line->qty() * price;
  }
}

void SalesBoard::apply(const FoldStep& step) {
  const fb::Event& e = step.event;
  auto order_of = [&](const flatbuffers::String* id) -> std::pair<std::string_view, const OrderRecord*> {
    if (id == nullptr) return {{}, nullptr};
    return {id->string_view(), step.state.order(id->string_view())};
  };
  switch (e.body_type()) {
    case fb::Body::OrderPlaced: {
      auto [id, order] = order_of(e.body_as_OrderPlaced()->id());
      if (order == nullptr) return;
      OrderKeys k = order_keys(step.state, *order);
      Placed at{hour_of(e.ts_us()), names_.intern(k.region), names_.intern(k.channel), names_.intern(k.dealer),
                names_.intern(k.store)};
      placed_.insert_or_assign(std::string(id), at);
      add_order(*order, at, +1);
      return;
    }
    case fb::Body::OrderCancelled:
    case fb::Body::OrderRejected: {
      auto [id, order] = order_of(e.body_type() == fb::Body::OrderCancelled ? e.body_as_OrderCancelled()->id()
                                                                            : e.body_as_OrderRejected()->id());
      auto it = placed_.find(id);
      if (order == nullptr || it == placed_.end()) return;
      add_order(*order, it->second, -1);
      placed_.erase(it);
      return;
    }
    case fb::Body::OrderReturned: {
      const auto* r = e.body_as_OrderReturned();
      auto [id, order] = order_of(r->id());
      auto it = placed_.find(id);
      if (order == nullptr || it == placed_.end()) return;
      add_return(*order, it->second, hour_of(e.ts_us()), *r);
      return;
    }
    case fb::Body::OrderApproved: {
      auto [id, order] = order_of(e.body_as_OrderApproved()->id());
      // Counted once, by the approval that completed the order's steps.
      if (order == nullptr || order->approvals_pending() || order->approvals.empty() ||
          order->approved_at_us != e.ts_us() || order->approvals.back().at_us != e.ts_us()) {
        return;
      }
      DayKey day{china_day_start_us(e.ts_us()), names_.intern(order->ship_to_region)};
      latency_[day].approval.add((order->approved_at_us - order->placed_at_us) / 1'000'000);
      return;
    }
    case fb::Body::OrderDelivered: {
      auto [id, order] = order_of(e.body_as_OrderDelivered()->id());
      if (order == nullptr || order->promised_by_us <= 0) return;
      DayKey day{china_day_start_us(e.ts_us()), names_.intern(order->ship_to_region)};
      LatencySummary& s = latency_[day];
      std::int64_t late_s = (e.ts_us() - order->promised_by_us) / 1'000'000;
      s.delivery_delay.add(std::max<std::int64_t>(late_s, 0));
      (late_s > 0 ? s.delivered_late : s.delivered_on_time) += 1;
      return;
    }
    default: return;
  }
}

// ---------------------------------------------------------------- queries

std::vector<SalesRow> SalesBoard::query(const SalesQuery& q) const {
  // Scope filters resolve to ids; a name never interned matches no row.
  auto wanted = [&](const std::string& name, bool& none) -> std::uint32_t {
    if (name.empty()) return 0;
    if (!names_.contains(name)) none = true;
    return names_.find(name);
  };
  bool none = false;
  std::uint32_t region = wanted(q.region, none), dealer = wanted(q.dealer, none), store = wanted(q.store, none);
  if (none) return {};
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::int64_t>;
  std::map<Key, SalesTotals> rows;
  const auto& table = q.by_sku ? cells_ : order_cells_;
  for (const auto& [k, t] : table) {
    if ((region && k.region != region) || (dealer && k.dealer != dealer) || (store && k.store != store)) continue;
    std::int64_t ts = k.hour * us_per_hour;
    if (ts < q.from_us || ts >= q.to_us) continue;
    std::int64_t bucket = q.bucket == SalesBucket::hour  ? ts
                          : q.bucket == SalesBucket::day ? china_day_start_us(ts)
                                                         : china_month_start_us(ts);
    Key key{q.by_region ? names_[k.region] : std::string(), q.by_channel ? names_[k.channel] : std::string(),
            q.by_dealer ? names_[k.dealer] : std::string(), q.by_store ? names_[k.store] : std::string(),
            q.by_sku ? names_[k.sku] : std::string(),       bucket};
    SalesTotals& r = rows[key];
    r.orders += t.orders;
    r.units += t.units;
    r.revenue_cents += t.revenue_cents;
    r.discount_cents += t.discount_cents;
  }
  std::vector<SalesRow> out;
  out.reserve(rows.size());
  for (auto& [k, t] : rows) {
    if (t == SalesTotals{}) continue;  // everything placed there was cancelled
    out.push_back(
        SalesRow{std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), std::get<5>(k), t});
  }
  return out;
}

LatencySummary SalesBoard::latency(std::int64_t from_us, std::int64_t to_us, std::string_view region) const {
  LatencySummary out;
  std::uint32_t region_id = region.empty() ? 0 : names_.find(region);
  if (!region.empty() && region_id == 0) return out;
  for (const auto& [day, s] : latency_) {
    if (day.day_start_us < china_day_start_us(from_us) || day.day_start_us >= to_us) continue;
    if (region_id != 0 && day.region != region_id) continue;
    out.approval.merge(s.approval);
    out.delivery_delay.merge(s.delivery_delay);
    out.delivered_on_time += s.delivered_on_time;
    out.delivered_late += s.delivered_late;
  }
  return out;
}

// ---------------------------------------------------------------- snapshot and render

namespace {
void save_totals(SnapshotWriter& out, const SalesTotals& t) {
  out.i64(t.orders);
  out.i64(t.units);
  out.i64(t.revenue_cents);
  out.i64(t.discount_cents);
}
SalesTotals load_totals(SnapshotReader& in) {
  SalesTotals t;
  t.orders = in.i64();
  t.units = in.i64();
  t.revenue_cents = in.i64();
  t.discount_cents = in.i64();
  return t;
}
void save_distribution(SnapshotWriter& out, const Distribution& d) {
  for (auto c : d.counts) out.i64(c);
  out.i64(d.total_s);
}
Distribution load_distribution(SnapshotReader& in) {
  Distribution d;
  for (auto& c : d.counts) c = in.i64();
  d.total_s = in.i64();
  return d;
}
template <typename Map>
std::vector<typename Map::key_type> sorted_keys(const Map& map) {
  std::vector<typename Map::key_type> keys;
  keys.reserve(map.size());
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}
}  // namespace

void SalesBoard::save(SnapshotWriter& out) const {
  names_.save(out);
  auto save_cells = [&](const auto& table) {
    out.u64(table.size());
    // Sorted, so one state always gives the same bytes.
    std::vector<CellKey> keys;
    keys.reserve(table.size());
    for (const auto& [k, v] : table) keys.push_back(k);
    std::sort(keys.begin(), keys.end(), [](const CellKey& a, const CellKey& b) {
      return std::tie(a.hour, a.region, a.channel, a.dealer, a.store, a.sku) <
             std::tie(b.hour, b.region, b.channel, b.dealer, b.store, b.sku);
    });
    for (const auto& k : keys) {
      out.i64(k.hour);
      for (auto v : {k.region, k.channel, k.dealer, k.store, k.sku}) out.u32(v);
      save_totals(out, table.at(k));
    }
  };
  save_cells(cells_);
  save_cells(order_cells_);
  out.u64(placed_.size());
  for (const auto& id : sorted_keys(placed_)) {
    const Placed& p = placed_.at(id);
    out.str(id);
    out.i64(p.hour);
    for (auto v : {p.region, p.channel, p.dealer, p.store}) out.u32(v);
  }
  out.u64(latency_.size());
  for (const auto& [day, s] : latency_) {
    out.i64(day.day_start_us);
    out.u32(day.region);
    save_distribution(out, s.approval);
    save_distribution(out, s.delivery_delay);
    out.i64(s.delivered_on_time);
    out.i64(s.delivered_late);
  }
}

Status SalesBoard::load(SnapshotReader& in) {
  *this = SalesBoard{};
  if (!names_.load(in)) return make_error(ErrorCode::corruption, "sales_board: bad name table");
  auto name_ok = [&](std::uint32_t id) {
    if (id >= names_.size()) in.fail();
    return id;
  };
  auto load_cells = [&](auto& table) {
    std::uint64_t n = in.count(36);
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
      CellKey k;
      k.hour = in.i64();
      k.region = name_ok(in.u32());
      k.channel = name_ok(in.u32());
      k.dealer = name_ok(in.u32());
      k.store = name_ok(in.u32());
      k.sku = name_ok(in.u32());
      table[k] = load_totals(in);
    }
  };
  load_cells(cells_);
  load_cells(order_cells_);
  std::uint64_t n = in.count(32);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string id = in.str();
    Placed p;
    p.hour = in.i64();
    p.region = name_ok(in.u32());
    p.channel = name_ok(in.u32());
    p.dealer = name_ok(in.u32());
    p.store = name_ok(in.u32());
    placed_.insert_or_assign(std::move(id), p);
  }
  n = in.count(12);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    DayKey day;
    day.day_start_us = in.i64();
    day.region = name_ok(in.u32());
    LatencySummary s;
    s.approval = load_distribution(in);
    s.delivery_delay = load_distribution(in);
    s.delivered_on_time = in.i64();
    s.delivered_late = in.i64();
    latency_[day] = s;
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "sales_board: the snapshot does not decode");
  return Ok{};
}

std::string SalesBoard::render() const {
  // Ids are interned in fold order, which a rebuild repeats; rendering by name keeps the text
  // independent of it anyway.
  std::vector<std::string> lines;
  auto add_cells = [&](const char* what, const auto& table) {
    for (const auto& [k, t] : table) {
      lines.push_back(fmt::format("{} {} {}|{}|{}|{}|{} {} {} {} {}", what, k.hour, names_[k.region], names_[k.channel],
                                  names_[k.dealer], names_[k.store], names_[k.sku], t.orders, t.units, t.revenue_cents,
                                  t.discount_cents));
    }
  };
  add_cells("cell", cells_);
  add_cells("order", order_cells_);
  for (const auto& [id, p] : placed_) {
    lines.push_back(fmt::format("placed {} {} {}|{}|{}|{}", id, p.hour, names_[p.region], names_[p.channel],
                                names_[p.dealer], names_[p.store]));
  }
  for (const auto& [day, s] : latency_) {
    lines.push_back(fmt::format("latency {} {} {} {} {} {} {} {}", day.day_start_us, names_[day.region],
                                fmt::join(s.approval.counts, ","), s.approval.total_s,
                                fmt::join(s.delivery_delay.counts, ","), s.delivery_delay.total_s, s.delivered_on_time,
                                s.delivered_late));
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("{}\n", fmt::join(lines, "\n"));
}

}  // namespace ledger

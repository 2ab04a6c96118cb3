#include "ledger/alerts.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/fold.hpp"
#include "ledger/location.hpp"
#include "ledger/order_facts.hpp"

namespace ledger {

bool is_alert_kind(std::string_view kind) {
  for (std::string_view k :
       {"low_stock", "delay", "price", "channel_conflict", "price_change", "reservation_expired"}) {
    if (k == kind) return true;
  }
  return false;
}

namespace {
const char* level_name(fb::PriceLevel level) {
  switch (level) {
    case fb::PriceLevel::wholesale: return "wholesale";
    case fb::PriceLevel::supply: return "supply";
    default: return "retail";
  }
}

// Region, dealer and store of a stock location.
void scope_of_location(const LedgerState& state, std::string_view location, AlertRecord& a) {
  if (auto w = party_id(location, "warehouse"); !w.empty()) {
    if (const auto* rec = state.warehouse(w)) a.region = rec->region;
  } else if (auto d = party_id(location, "dealer"); !d.empty()) {
    a.dealer = std::string(d);
    if (const auto* rec = state.dealer(d)) a.region = rec->region;
  } else if (auto s = party_id(location, "store"); !s.empty()) {
    a.store = std::string(s);
    if (const auto* rec = state.store(s)) {
      a.dealer = rec->dealer;
      a.region = rec->region;
    }
  }
}

void scope_of_order(const LedgerState& state, const OrderRecord& order, AlertRecord& a) {
  OrderKeys k = order_keys(state, order);
  a.region = std::string(k.region);
  a.dealer = std::string(k.dealer);
  a.store = std::string(k.store);
}

AlertRecord alert(std::string_view kind, std::string_view subject) {
  AlertRecord a;
  a.kind = std::string(kind);
  a.subject = std::string(subject);
  return a;
}
}  // namespace

void Alerts::raise(const FoldStep& step, AlertRecord record) {
  record.seq = step.event.seq();
  record.ts_us = step.event.ts_us();
  alerts_.push_back(std::move(record));
  if (alerts_.size() > alerts_kept_max) {
    alerts_.pop_front();
    ++dropped_;
  }
}

// Scoped to the store the lot reached (its region, dealer and the store): they can stop selling it; HQ
// sees every alert and traces the lot back to the first dealer through GET /v1/lots/{lot}.
void Alerts::raise_lot_conflicts(const FoldStep& step) {
  for (const LotConflict& c : lots_.last_conflicts()) {
    std::string store_location = location_string(LocationKind::store, c.store);
    AlertRecord a = alert("channel_conflict", fmt::format("lot:{}", c.lot));
    const DealerRecord* first = step.state.dealer(c.first_dealer);
    const StoreRecord* store = step.state.store(c.store);
    a.message = fmt::format(
        "lot {} ({} x {}) first received by dealer:{} reached {} of dealer:{} in region {}, outside dealer:{}'s "
        "region {} and territory",
        c.lot, c.qty, c.sku, c.first_dealer, store_location, store ? store->dealer : "", store ? store->region : "",
        c.first_dealer, first ? first->region : "");
    scope_of_location(step.state, store_location, a);
    raise(step, std::move(a));
  }
}

void Alerts::apply(const FoldStep& step) {
  const fb::Event& e = step.event;
  const LedgerState& state = step.state;
  switch (e.body_type()) {
    case fb::Body::OrderPlaced: {
      std::string_view id = fb_str(e.body_as_OrderPlaced()->id());
      const OrderRecord* o = state.order(id);
      if (o == nullptr) break;
      OrderViolations v = order_violations(state, *o);
      if (!v.below_floor_sku.empty()) {
        AlertRecord a = alert("price", fmt::format("order:{}", id));
        a.message = fmt::format("{} sold {} at {} cents, under its floor of {} cents for {}", o->seller,
                                v.below_floor_sku, v.below_floor_price_cents, v.floor_cents, o->buyer);
        scope_of_order(state, *o, a);
        raise(step, std::move(a));
      }
      if (v.outside_territory) {
        AlertRecord a = alert("channel_conflict", fmt::format("order:{}", id));
        a.message = fmt::format("{} sold to {} outside its territory", o->seller, o->buyer);
        scope_of_order(state, *o, a);
        raise(step, std::move(a));
      }
      break;
    }
    case fb::Body::OrderDelayWarned: {
      const auto* w = e.body_as_OrderDelayWarned();
      const OrderRecord* o = state.order(fb_str(w->id()));
      AlertRecord a = alert("delay", fmt::format("order:{}", fb_str(w->id())));
      a.message = fmt::format("order {} missed its {} milestone due at {} us", fb_str(w->id()), fb_str(w->milestone()),
                              w->due_us());
      if (o != nullptr) scope_of_order(state, *o, a);
      raise(step, std::move(a));
      break;
    }
    case fb::Body::PriceChanged: {
      const auto* p = e.body_as_PriceChanged();
      std::int64_t before = p->previous_cents(), after = p->price_cents();
      std::int64_t change = after > before ? after - before : before - after;
      // |after - before| > the price policy's share of before (basis points), in integers; any change
      // from 0 counts. The state holds the policy in force when this event was written.
      std::int64_t threshold_bp = state.marketing().price_alert_threshold_bp;
      if (static_cast<__int128>(change) * 10'000 > static_cast<__int128>(threshold_bp) * before) {
        AlertRecord a = alert("price_change", fmt::format("sku:{}", fb_str(p->sku())));
        a.message = fmt::format("{} price of {} changed from {} to {} cents", level_name(p->level()), fb_str(p->sku()),
                                before, after);
        raise(step, std::move(a));
      }
      break;
    }
    case fb::Body::ReservationExpired: {
      const auto* r = e.body_as_ReservationExpired();
      const ReservationRecord* rec = state.reservation(fb_str(r->id()));
      AlertRecord a = alert("reservation_expired", fmt::format("reservation:{}", fb_str(r->id())));
      a.message = fmt::format("reservation {} expired at {} us; its stock is available again", fb_str(r->id()),
                              r->deadline_us());
      if (rec != nullptr) scope_of_location(state, rec->from, a);
      raise(step, std::move(a));
      break;
    }
    case fb::Body::AlertRaised: {
      const auto* r = e.body_as_AlertRaised();
      AlertRecord a = alert(fb_str(r->kind()), fb_str(r->subject()));
      a.message = std::string(fb_str(r->message()));
      scope_of_location(state, a.subject, a);
      raise(step, std::move(a));
      break;
    }
    default: break;
  }
  raise_lot_conflicts(step);
  // Reservations whose deadline comes within reservation_warning_us of this event's time, once each, in
  // deadline order (the watermark); one created already that close is warned about at once.
  auto warn_expiring = [&](std::int64_t deadline, const std::string& id) {
    const ReservationRecord* rec = state.reservation(id);
    AlertRecord a = alert("reservation_expiring", fmt::format("reservation:{}", id));
    a.message = fmt::format("reservation {} holds stock until {} us; it expires then unless posted", id, deadline);
    if (rec != nullptr) scope_of_location(state, rec->from, a);
    raise(step, std::move(a));
  };
  std::int64_t horizon = e.ts_us() + reservation_warning_us;
  const auto& pending = state.pending_deadlines();
  const auto before = expiring_watermark_;  // what sorts at or under it the loop cannot reach
  for (auto it = pending.upper_bound(expiring_watermark_); it != pending.end() && it->first <= horizon; ++it) {
    warn_expiring(it->first, it->second);
    expiring_watermark_ = *it;
  }
  if (e.body_type() == fb::Body::ReservationCreated) {
    const auto* c = e.body_as_ReservationCreated();
    std::pair<std::int64_t, std::string> key{c->deadline_us(), std::string(fb_str(c->id()))};
    if (key <= before && key.first > e.ts_us() && key.first <= horizon) warn_expiring(key.first, key.second);
  }
  // Low stock: raised when a location's position falls to its reorder point, once until it recovers.
  for (const StockDelta& d : step.deltas) {
    if (!is_stocking_location(d.location)) continue;
    ReplenishmentRow r = flow_.replenishment_of(state, d.location, d.sku);
    std::string key = fmt::format("{}|{}", d.location, d.sku);
    auto it = low_.find(key);
    if (!r.low_stock) {
      if (it != low_.end()) low_.erase(it);
      continue;
    }
    if (it != low_.end()) continue;
    low_.insert(key);
    AlertRecord a = alert("low_stock", key);
    a.message = fmt::format("{} at {}: {} available and {} inbound, reorder point {}; suggest {} more", d.sku,
                            d.location, r.available, r.inbound, r.reorder_point, r.suggested_qty);
    scope_of_location(state, d.location, a);
    raise(step, std::move(a));
  }
}

void Alerts::save(SnapshotWriter& out) const {
  out.u64(dropped_);
  out.i64(expiring_watermark_.first);
  out.str(expiring_watermark_.second);
  out.u64(alerts_.size());
  for (const auto& a : alerts_) {
    out.u64(a.seq);
    out.i64(a.ts_us);
    for (const auto* s : {&a.kind, &a.subject, &a.message, &a.region, &a.dealer, &a.store}) out.str(*s);
  }
  out.u64(low_.size());
  for (const auto& k : low_) out.str(k);
}

Status Alerts::load(SnapshotReader& in) {
  alerts_.clear();
  low_.clear();
  dropped_ = in.u64();
  expiring_watermark_.first = in.i64();
  expiring_watermark_.second = in.str();
  std::uint64_t n = in.count(64);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    AlertRecord a;
    a.seq = in.u64();
    a.ts_us = in.i64();
    for (auto* s : {&a.kind, &a.subject, &a.message, &a.region, &a.dealer, &a.store}) *s = in.str();
    if (!alerts_.empty() && a.seq < alerts_.back().seq) in.fail();
    alerts_.push_back(std::move(a));
  }
  n = in.count(8);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) low_.insert(in.str());
  if (!in.ok()) return make_error(ErrorCode::corruption, "alerts: the snapshot does not decode");
  return Ok{};
}

std::string Alerts::render() const {
  std::string out = fmt::format("dropped={} expiring_watermark={}:{}\n", dropped_, expiring_watermark_.first,
                                expiring_watermark_.second);
  for (const auto& a : alerts_) {
    out += fmt::format("{} {} {} {} [{}|{}|{}] {}\n", a.seq, a.ts_us, a.kind, a.subject, a.region, a.dealer, a.store,
                       a.message);
  }
  for (const auto& k : low_) out += fmt::format("low {}\n", k);
  return out;
}

}  // namespace ledger

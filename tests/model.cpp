#include "model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/limits.hpp"

namespace test {

using ledger::ErrorCode;

bool Model::location_exists(const std::string& l) const {
  auto starts = [&](const char* p) { return l.rfind(p, 0) == 0; };
  if (starts("warehouse:")) return warehouses.count(l.substr(10)) != 0;
  if (starts("dealer:")) return dealers.count(l.substr(7)) != 0;
  if (starts("store:")) return stores.count(l.substr(6)) != 0;
  return false;
}

std::int64_t Model::available(const std::string& location, const std::string& sku) const {
  auto it = balances_.find(location + "|" + sku);
  return it == balances_.end() ? 0 : it->second.available();
}

ledger::Balance Model::balance(const std::string& location, const std::string& sku) const {
  auto it = balances_.find(location + "|" + sku);
  return it == balances_.end() ? ledger::Balance{} : it->second;
}

std::vector<std::pair<std::string, std::string>> Model::take_touched() {
  std::vector<std::pair<std::string, std::string>> out(touched_.begin(), touched_.end());
  touched_.clear();
  return out;
}

void Model::add(const std::string& location, const std::string& sku, std::int64_t on_hand, std::int64_t reserved) {
  touched_.emplace(location, sku);
  auto& b = balances_[location + "|" + sku];
  b.on_hand += on_hand;
  b.reserved += reserved;
}

std::optional<ErrorCode> Model::check_lines(const std::vector<ledger::StockLineInput>& lines) const {
  if (lines.empty()) return ErrorCode::invalid_argument;
  for (const auto& l : lines) {
    if (skus.count(l.sku) == 0) return ErrorCode::unknown_id;
    if (l.qty <= 0 || l.qty > ledger::limits::qty_max) return ErrorCode::invalid_argument;
  }
  return std::nullopt;
}

bool Model::covers(const std::string& location, const std::vector<ledger::StockLineInput>& lines) const {
  std::map<std::string, std::int64_t> need;
  for (const auto& l : lines) need[l.sku] += l.qty;
  for (const auto& [sku, qty] : need) {
    if (available(location, sku) < qty) return false;
  }
  return true;
}

void Model::release(Reservation& r) {
  for (const auto& l : r.lines) add(r.from, l.sku, 0, -l.qty);
  r.pending = false;
}

void Model::expire_due(std::int64_t now_us) {
  for (auto& [id, r] : reservations) {
    if (r.pending && r.deadline_us <= now_us) release(r);
  }
}

std::optional<ErrorCode> Model::apply(const ledger::CommandBody& body, std::int64_t now_us) {
  using namespace ledger;
  if (const auto* c = std::get_if<ReceiveStock>(&body)) {
    if (warehouses.count(c->warehouse) == 0) return ErrorCode::unknown_id;
    if (auto e = check_lines(c->lines)) return e;
    for (const auto& l : c->lines) {
      add("production", l.sku, -l.qty, 0);
      add("warehouse:" + c->warehouse, l.sku, l.qty, 0);
    }
    return std::nullopt;
  }
  if (const auto* c = std::get_if<AdjustStock>(&body)) {
    if (!location_exists(c->location)) return ErrorCode::unknown_id;
    if (skus.count(c->sku) == 0) return ErrorCode::unknown_id;
    if (c->qty_delta == 0) return ErrorCode::invalid_argument;
    if (c->qty_delta < 0 && available(c->location, c->sku) < -c->qty_delta) return ErrorCode::insufficient_stock;
    add(c->location, c->sku, c->qty_delta, 0);
    add("adjustment", c->sku, -c->qty_delta, 0);
    return std::nullopt;
  }
  if (const auto* c = std::get_if<ShipTransfer>(&body)) {
    if (transfers.count(c->id) != 0) return ErrorCode::already_exists;
    if (!location_exists(c->from) || !location_exists(c->to)) return ErrorCode::unknown_id;
    if (c->from == c->to) return ErrorCode::invalid_argument;
    if (auto e = check_lines(c->lines)) return e;
    if (!covers(c->from, c->lines)) return ErrorCode::insufficient_stock;
    for (const auto& l : c->lines) {
      add(c->from, l.sku, -l.qty, 0);
      add("transit:" + c->id, l.sku, l.qty, 0);
    }
    transfers[c->id] = Transfer{c->from, c->to, c->lines, false};
    return std::nullopt;
  }
  if (const auto* c = std::get_if<ReceiveTransfer>(&body)) {
    auto it = transfers.find(c->id);
    if (it == transfers.end()) return ErrorCode::unknown_id;
    if (it->second.received) return ErrorCode::illegal_transition;
    for (const auto& l : it->second.lines) {
      add("transit:" + c->id, l.sku, -l.qty, 0);
      add(it->second.to, l.sku, l.qty, 0);
    }
    it->second.received = true;
    return std::nullopt;
  }
  if (const auto* c = std::get_if<CreateReservation>(&body)) {
    if (reservations.count(c->id) != 0) return ErrorCode::already_exists;
    if (!location_exists(c->from)) return ErrorCode::unknown_id;
    if (c->to != "customer" && !location_exists(c->to)) return ErrorCode::unknown_id;
    if (c->from == c->to) return ErrorCode::invalid_argument;
    if (c->deadline_us <= now_us) return ErrorCode::invalid_argument;
    if (auto e = check_lines(c->lines)) return e;
    if (!covers(c->from, c->lines)) return ErrorCode::insufficient_stock;
    for (const auto& l : c->lines) add(c->from, l.sku, 0, l.qty);
    reservations[c->id] = Reservation{c->from, c->to, c->lines, c->deadline_us, true};
    return std::nullopt;
  }
  if (const auto* c = std::get_if<PostReservation>(&body)) {
    auto it = reservations.find(c->id);
    if (it == reservations.end()) return ErrorCode::unknown_id;
    Reservation& r = it->second;
    if (!r.pending) return ErrorCode::illegal_transition;
    const auto& posted = c->lines.empty() ? r.lines : c->lines;
    if (auto e = check_lines(posted)) return e;
    std::map<std::string, std::int64_t> held, post;
    for (const auto& l : r.lines) held[l.sku] += l.qty;
    for (const auto& l : posted) post[l.sku] += l.qty;
    for (const auto& [sku, qty] : post) {
      if (qty > held[sku]) return ErrorCode::invalid_argument;
    }
    release(r);
    for (const auto& l : posted) {
      add(r.from, l.sku, -l.qty, 0);
      add(r.to, l.sku, l.qty, 0);
    }
    return std::nullopt;
  }
  if (const auto* c = std::get_if<VoidReservation>(&body)) {
    auto it = reservations.find(c->id);
    if (it == reservations.end()) return ErrorCode::unknown_id;
    if (!it->second.pending) return ErrorCode::illegal_transition;
    release(it->second);
    return std::nullopt;
  }
  return ErrorCode::invalid_argument;  // master data is loaded directly, not simulated
}

std::string Model::render_balances() const {
  std::vector<std::string> rows;
  for (const auto& [key, b] : balances_) {
    if (b.is_zero()) continue;
    auto bar = key.find('|');
    rows.push_back(key.substr(0, bar) + " " + key.substr(bar + 1) + " " + std::to_string(b.on_hand) + " " +
                   std::to_string(b.reserved));
  }
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

namespace {

std::int64_t first_price(const ledger::OrderRecord& o, const std::string& sku) {
  for (const auto& l : o.lines) {
    if (l.sku == sku) return l.unit_price_cents;
  }
  return 0;
}

// One order on its own; empty when it holds.
std::string order_violation(const ledger::LedgerState& s, const std::string& id, const ledger::OrderRecord& o) {
  using namespace ledger;
  std::map<std::string, std::int64_t> pending;  // what the order's pending reservations hold, by SKU
  std::string transit = order_transit_location(id);
  for (const auto& rid : o.reservations) {
    const ReservationRecord* r = s.reservation(rid);
    if (r == nullptr) return fmt::format("order {} names reservation {}, which does not exist", id, rid);
    if (r->to != transit) return fmt::format("reservation {} of order {} goes to {}", rid, id, r->to);
    if (r->status != ReservationStatus::pending) continue;
    for (const auto& l : r->lines) pending[l.sku] += l.qty;
  }
  std::map<std::string, std::int64_t> allocated;
  for (const auto& a : o.allocation) allocated[a.sku] += a.qty;
  for (const auto& [sku, qty] : o.held) {
    if (o.units.count(sku) == 0) return fmt::format("order {} holds {} of {}, which it did not order", id, qty, sku);
  }
  for (const auto& [sku, u] : o.units) {
    auto h = o.held.find(sku);
    std::int64_t held = h == o.held.end() ? 0 : h->second;
    std::string where = fmt::format("order {} ({}) {}: ordered {} held {} shipped {} delivered {} returned {}", id,
                                    order_status_name(o.status()), sku, u.ordered, held, u.shipped, u.delivered,
                                    u.returned);
    if (held < 0 || u.returned < 0 || u.returned > u.delivered || u.delivered > u.shipped) return where;
    if (held + u.shipped > u.ordered) return where + ": holds and ships more than ordered";
    if (held != pending[sku]) return where + fmt::format(": its pending reservations hold {}", pending[sku]);
    if (allocated[sku] < held + u.shipped) return where + fmt::format(": only {} were ever allocated", allocated[sku]);
    Balance road = s.balance(transit, sku);
    if (road.on_hand != u.shipped - u.delivered || road.reserved != 0) {
      return where + fmt::format(": {} has on_hand {} reserved {}", transit, road.on_hand, road.reserved);
    }
    if ((o.cancelled || o.rejected) && (held != 0 || u.shipped != 0)) return where + ": ended but holds or shipped";
  }
  if (o.ended() && (o.approval_due_us != 0 || o.shipment_due_us != 0 || o.delivery_due_us != 0)) {
    return fmt::format("order {} has ended ({}) but still has a milestone", id, order_status_name(o.status()));
  }
  for (auto [due, name] : {std::pair{o.approval_due_us, "approval"}, std::pair{o.shipment_due_us, "shipment"},
                           std::pair{o.delivery_due_us, "delivery"}}) {
    if (due != 0 && s.milestones().count({due, id, name}) == 0) {
      return fmt::format("order {} is due for {} at {}, but no milestone waits for it", id, name, due);
    }
  }
  if (o.completed && o.status() != OrderStatus::completed) return fmt::format("order {} completed but not delivered", id);
  return {};
}

}  // namespace

std::string order_invariant_violation(const ledger::LedgerState& s) {
  using namespace ledger;
  std::string violation;
  std::map<std::string, std::int64_t> sold_by_batch, credit_by_dealer;
  std::set<std::string> skus;
  s.for_each_order([&](const std::string& id, const OrderRecord& o) {
    if (!violation.empty()) return;
    violation = order_violation(s, id, o);
    for (const auto& [sku, u] : o.units) skus.insert(sku);
    bool counts = !o.cancelled && !o.rejected;
    if (!counts) return;
    for (const auto& [sku, batch] : o.presale_batch) sold_by_batch[batch] += o.units.at(sku).ordered;
    if (o.buyer.rfind("dealer:", 0) == 0) {
      std::int64_t& used = credit_by_dealer[o.buyer.substr(7)];
      used += o.total_cents - o.discount_cents;
      for (const auto& [sku, u] : o.units) used -= u.returned * first_price(o, sku);
    }
  });
  if (!violation.empty()) return violation;
  for (const auto& sku : skus) {
    const auto* batches = s.presale_batches_of(sku);
    if (batches == nullptr) continue;
    for (const auto& id : *batches) {
      const PresaleBatchRecord* b = s.presale_batch(id);
      if (b->sold_qty != sold_by_batch[id] || b->sold_qty > b->quota_qty) {
        return fmt::format("presale batch {}: sold {} of quota {}, but its live orders ordered {}", id, b->sold_qty,
                           b->quota_qty, sold_by_batch[id]);
      }
    }
  }
  for (const auto& [dealer, used] : credit_by_dealer) {
    if (s.dealer_account(dealer).credit_used_cents != used) {
      return fmt::format("dealer {} uses {} of credit, but its open orders are worth {}", dealer,
                         s.dealer_account(dealer).credit_used_cents, used);
    }
  }
  for (const auto& [seq, id] : s.backorders()) {
    const OrderRecord* o = s.order(id);
    if (o == nullptr || o->ended() || o->placed_seq != seq || o->seller != "hq" || !o->allow_backorder) {
      return fmt::format("backorder {} {} is not a live backorder of hq", seq, id);
    }
    bool waits = std::any_of(o->units.begin(), o->units.end(), [&](const auto& u) { return o->unallocated(u.first) > 0; });
    if (!waits) return fmt::format("backorder {} is fully allocated but still waits", id);
  }
  for (const auto& [due, id, milestone] : s.milestones()) {
    const OrderRecord* o = s.order(id);
    std::int64_t expected = o == nullptr             ? -1
                            : milestone == "approval" ? o->approval_due_us
                            : milestone == "shipment" ? o->shipment_due_us
                            : milestone == "delivery" ? o->delivery_due_us
                                                      : -1;
    if (expected != due || o->ended()) return fmt::format("milestone {} of order {} due {} is stale", milestone, id, due);
  }
  return {};
}

}  // namespace test

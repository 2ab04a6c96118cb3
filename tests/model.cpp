#include "model.hpp"

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

}  // namespace test

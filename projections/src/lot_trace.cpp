#include "ledger/lot_trace.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cassert>

#include "ledger/fold.hpp"
#include "ledger/location.hpp"
#include "ledger/order_facts.hpp"

namespace ledger {

const char* lot_move_kind_name(LotMoveKind kind) {
  switch (kind) {
    case LotMoveKind::received: return "received";
    case LotMoveKind::transfer_shipped: return "transfer_shipped";
    case LotMoveKind::transfer_received: return "transfer_received";
    case LotMoveKind::reserved: return "reserved";
    case LotMoveKind::reservation_posted: return "reservation_posted";
  }
  return "unknown";
}

namespace {
constexpr std::uint8_t lot_move_kind_last = static_cast<std::uint8_t>(LotMoveKind::reservation_posted);

bool moves_units(LotMoveKind kind) { return kind != LotMoveKind::reserved; }
bool is_arrival(LotMoveKind kind) {
  return kind == LotMoveKind::transfer_received || kind == LotMoveKind::reservation_posted;
}

// `production` is the virtual source of every receipt: its figure is minus all ever received, no holder.
void add_holding(LotRecord& r, std::string_view location, std::string_view sku, std::int64_t qty) {
  if (location == "production") return;
  auto key = std::pair{std::string(location), std::string(sku)};
  auto it = r.holders.find(key);
  if (it == r.holders.end()) {
    r.holders.emplace(std::move(key), qty);
    return;
  }
  it->second += qty;
  if (it->second == 0) r.holders.erase(it);
}
}  // namespace

void LotTrace::apply(const FoldStep& step) {
  conflicts_.clear();
  const fb::Event& e = step.event;
  switch (e.body_type()) {
    case fb::Body::StockReceived: {
      const auto* b = e.body_as_StockReceived();
      return apply_lines(step, {LotMoveKind::received, "production", fb_str(b->location())}, b->lines());
    }
    case fb::Body::TransferShipped: {
      const auto* b = e.body_as_TransferShipped();
      std::string transit = transit_location(fb_str(b->id()));
      return apply_lines(step, {LotMoveKind::transfer_shipped, fb_str(b->from()), transit}, b->lines());
    }
    case fb::Body::TransferReceived: {
      const auto* b = e.body_as_TransferReceived();
      return apply_lines(step, {LotMoveKind::transfer_received, fb_str(b->from()), fb_str(b->to())}, b->lines());
    }
    case fb::Body::ReservationCreated: {
      const auto* b = e.body_as_ReservationCreated();
      return apply_lines(step, {LotMoveKind::reserved, fb_str(b->from()), fb_str(b->to())}, b->lines());
    }
    case fb::Body::ReservationPosted: {
      // The event names only the reservation: its ends are in the state (a posted one stays there).
      const auto* b = e.body_as_ReservationPosted();
      const ReservationRecord* r = step.state.reservation(fb_str(b->id()));
      if (r == nullptr) return;
      return apply_lines(step, {LotMoveKind::reservation_posted, r->from, r->to}, b->lines());
    }
    default: return;
  }
}

void LotTrace::apply_lines(const FoldStep& step, const Move& move,
                           const flatbuffers::Vector<flatbuffers::Offset<fb::StockLine>>* lines) {
  if (lines == nullptr) return;
  for (const auto* l : *lines) {
    std::string_view lot = fb_str(l->lot());
    if (lot.empty() || l->qty() <= 0) continue;
    record(step, move, lot, fb_str(l->sku()), l->qty());
  }
}

void LotTrace::record(const FoldStep& step, const Move& move, std::string_view lot, std::string_view sku,
                      std::int64_t qty) {
  assert(!lot.empty() && qty > 0);
  auto it = lots_.find(lot);
  if (it == lots_.end()) it = lots_.emplace(std::string(lot), LotRecord{}).first;
  LotRecord& r = it->second;
  r.movements.push_back(LotMovement{step.event.seq(), step.event.ts_us(), move.kind, std::string(move.from),
                                    std::string(move.to), std::string(sku), qty});
  if (r.movements.size() > lot_movements_kept_max) {
    r.movements.pop_front();
    ++r.movements_dropped;
  }
  assert(r.movements.size() <= lot_movements_kept_max);
  r.skus.emplace(sku);
  for (std::string_view location : {move.from, move.to}) {
    if (is_stocking_location(location)) r.touched.emplace(location);
  }
  if (moves_units(move.kind)) {
    add_holding(r, move.from, sku, -qty);
    add_holding(r, move.to, sku, qty);
  }
  if (!is_arrival(move.kind)) return;
  check_arrival(step.state, lot, r, move.to, sku, qty);
  if (std::string_view d = party_id(move.to, "dealer"); !d.empty() && r.first_dealer.empty()) {
    r.first_dealer = std::string(d);
  }
}

// Units first received by dealer D reaching a store of another dealer in a region outside D's region and
// territory. The store's and D's master data as of this event: redefining them later changes no verdict.
void LotTrace::check_arrival(const LedgerState& state, std::string_view lot, LotRecord& r, std::string_view to,
                             std::string_view sku, std::int64_t qty) {
  std::string_view store_id = party_id(to, "store");
  if (store_id.empty() || r.first_dealer.empty() || r.conflict_stores.contains(store_id)) return;
  const StoreRecord* store = state.store(store_id);
  const DealerRecord* first = state.dealer(r.first_dealer);
  if (store == nullptr || first == nullptr || store->dealer == r.first_dealer) return;
  if (!outside_territory(*first, store->region)) return;
  r.conflict_stores.emplace(store_id);
  conflicts_.push_back(LotConflict{std::string(lot), std::string(sku), r.first_dealer, std::string(store_id), qty});
}

namespace {
std::vector<std::string_view> sorted_names(const StringMap<LotRecord>& lots) {
  std::vector<std::string_view> names;
  names.reserve(lots.size());
  for (const auto& [name, r] : lots) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

void save_set(SnapshotWriter& out, const std::set<std::string, std::less<>>& set) {
  out.u64(set.size());
  for (const auto& s : set) out.str(s);
}

void load_set(SnapshotReader& in, std::set<std::string, std::less<>>& set) {
  std::uint64_t n = in.count(8);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    if (!set.insert(in.str()).second) in.fail();
  }
}

void load_record(SnapshotReader& in, LotRecord& r) {
  r.first_dealer = in.str();
  r.movements_dropped = in.u64();
  std::uint64_t n = in.count(8 + 8 + 1 + 3 * 8 + 8);
  if (n > lot_movements_kept_max) in.fail();
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    LotMovement m;
    m.seq = in.u64();
    m.ts_us = in.i64();
    std::uint8_t kind = in.u8();
    if (kind > lot_move_kind_last) in.fail();
    m.kind = static_cast<LotMoveKind>(kind);
    m.from = in.str();
    m.to = in.str();
    m.sku = in.str();
    m.qty = in.i64();
    if (!r.movements.empty() && m.seq < r.movements.back().seq) in.fail();
    r.movements.push_back(std::move(m));
  }
  n = in.count(8 + 8 + 8);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string location = in.str();
    std::string sku = in.str();
    std::int64_t qty = in.i64();
    if (qty == 0 || !r.holders.emplace(std::pair{std::move(location), std::move(sku)}, qty).second) in.fail();
  }
  load_set(in, r.touched);
  load_set(in, r.conflict_stores);
  load_set(in, r.skus);
}
}  // namespace

void LotTrace::save(SnapshotWriter& out) const {
  auto names = sorted_names(lots_);
  out.u64(names.size());
  for (auto name : names) {
    const LotRecord& r = lots_.find(name)->second;
    out.str(name);
    out.str(r.first_dealer);
    out.u64(r.movements_dropped);
    out.u64(r.movements.size());
    for (const auto& m : r.movements) {
      out.u64(m.seq);
      out.i64(m.ts_us);
      out.u8(static_cast<std::uint8_t>(m.kind));
      out.str(m.from);
      out.str(m.to);
      out.str(m.sku);
      out.i64(m.qty);
    }
    out.u64(r.holders.size());
    for (const auto& [key, qty] : r.holders) {
      out.str(key.first);
      out.str(key.second);
      out.i64(qty);
    }
    save_set(out, r.touched);
    save_set(out, r.conflict_stores);
    save_set(out, r.skus);
  }
}

Status LotTrace::load(SnapshotReader& in) {
  lots_.clear();
  conflicts_.clear();
  std::uint64_t n = in.count(8 * 8);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string name = in.str();
    LotRecord r;
    load_record(in, r);
    if (name.empty() || !lots_.emplace(std::move(name), std::move(r)).second) in.fail();
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "lot_trace: the snapshot does not decode");
  return Ok{};
}

std::string LotTrace::render() const {
  std::string out;
  for (auto name : sorted_names(lots_)) {
    const LotRecord& r = lots_.find(name)->second;
    out += fmt::format("lot {} first_dealer={} skus={} dropped={}\n", name, r.first_dealer, fmt::join(r.skus, ","),
                       r.movements_dropped);
    for (const auto& m : r.movements) {
      out += fmt::format("  move {} {} {} {} -> {} {} {}\n", m.seq, m.ts_us, lot_move_kind_name(m.kind), m.from, m.to,
                         m.sku, m.qty);
    }
    for (const auto& [key, qty] : r.holders) out += fmt::format("  holds {} {} {}\n", key.first, key.second, qty);
    out += fmt::format("  touched {}\n  conflicts {}\n", fmt::join(r.touched, ","), fmt::join(r.conflict_stores, ","));
  }
  return out;
}

}  // namespace ledger

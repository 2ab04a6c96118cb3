#include "fold_access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ledger/location.hpp"

namespace ledger {

Status FoldAccess::move(std::string_view from, std::string_view to, std::string_view sku, std::int64_t qty) {
  if (qty <= 0) return contradiction(event_, fmt::format("moves {} of {}", qty, sku));
  if (s_.sku(sku) == nullptr) return contradiction(event_, fmt::format("unknown SKU {}", sku));
  if (auto st = change(from, sku, -qty, 0); !st) return st;
  return change(to, sku, qty, 0);
}

Status FoldAccess::reserve(std::string_view location, std::string_view sku, std::int64_t qty) {
  if (qty <= 0) return contradiction(event_, fmt::format("reserves {} of {}", qty, sku));
  if (s_.sku(sku) == nullptr) return contradiction(event_, fmt::format("unknown SKU {}", sku));
  return change(location, sku, 0, qty);
}

Status FoldAccess::release(std::string_view location, std::string_view sku, std::int64_t qty) {
  return change(location, sku, 0, -qty);
}

Status FoldAccess::stock_received(const fb::StockReceived& e) {
  for (const auto* l : *e.lines()) {
    if (auto st = move("production", fb_str(e.location()), fb_str(l->sku()), l->qty()); !st) return st;
  }
  // A receipt whose ref names a presale batch at this warehouse is that batch arriving.
  auto batch = s_.presale_batches_.find(fb_str(e.ref()));
  if (batch != s_.presale_batches_.end() && location_string(LocationKind::warehouse, batch->second.warehouse) == fb_str(e.location())) {
    batch->second.received = true;
  }
  return Ok{};
}

Status FoldAccess::stock_adjusted(const fb::StockAdjusted& e) {
  if (e.qty_delta() > 0) return move("adjustment", fb_str(e.location()), fb_str(e.sku()), e.qty_delta());
  return move(fb_str(e.location()), "adjustment", fb_str(e.sku()), -e.qty_delta());
}

Status FoldAccess::transfer_shipped(const fb::TransferShipped& e) {
  std::string id(fb_str(e.id()));
  if (s_.transfers_.count(id) != 0) return contradiction(event_, fmt::format("transfer {} shipped twice", id));
  std::string transit = transit_location(id);
  for (const auto* l : *e.lines()) {
    if (auto st = move(fb_str(e.from()), transit, fb_str(l->sku()), l->qty()); !st) return st;
  }
  for (const auto* l : *e.lines()) add_inbound(fb_str(e.to()), fb_str(l->sku()), l->qty());
  s_.transfers_.emplace(id, TransferRecord{std::string(fb_str(e.from())), std::string(fb_str(e.to())),
                                           to_lines(e.lines()), TransferStatus::in_transit});
  return Ok{};
}

Status FoldAccess::transfer_received(const fb::TransferReceived& e) {
  auto it = s_.transfers_.find(fb_str(e.id()));
  if (it == s_.transfers_.end() || it->second.status != TransferStatus::in_transit) {
    return contradiction(event_, fmt::format("transfer {} is not in transit", fb_str(e.id())));
  }
  std::string transit = transit_location(it->first);
  for (const auto& l : it->second.lines) {
    if (auto st = move(transit, it->second.to, l.sku, l.qty); !st) return st;
  }
  for (const auto& l : it->second.lines) add_inbound(it->second.to, l.sku, -l.qty);
  it->second.status = TransferStatus::received;
  return Ok{};
}

Status FoldAccess::reservation_created(const fb::ReservationCreated& e) {
  std::string id(fb_str(e.id()));
  if (s_.reservations_.count(id) != 0) return contradiction(event_, fmt::format("reservation {} created twice", id));
  for (const auto* l : *e.lines()) {
    if (auto st = reserve(fb_str(e.from()), fb_str(l->sku()), l->qty()); !st) return st;
  }
  auto& r = s_.reservations_
                .emplace(id, ReservationRecord{std::string(fb_str(e.from())), std::string(fb_str(e.to())),
                                               to_lines(e.lines()), e.deadline_us(), ReservationStatus::pending})
                .first->second;
  s_.pending_deadlines_.emplace(e.deadline_us(), id);
  if (auto owner = s_.orders_.find(order_of_transit(r.to)); owner != s_.orders_.end()) {
    owner->second.reservations.push_back(id);
  }
  hold_changed(r.to, r.lines, +1);
  return Ok{};
}

Status FoldAccess::reservation_released(std::string_view id, ReservationStatus status) {
  auto it = s_.reservations_.find(id);
  if (it == s_.reservations_.end() || it->second.status != ReservationStatus::pending) {
    return contradiction(event_, fmt::format("reservation {} is not pending", id));
  }
  ReservationRecord& r = it->second;
  for (const auto& l : r.lines) {
    if (auto st = release(r.from, l.sku, l.qty); !st) return st;
  }
  r.status = status;
  s_.pending_deadlines_.erase({r.deadline_us, it->first});
  hold_changed(r.to, r.lines, -1);
  return Ok{};
}

Status FoldAccess::reservation_posted(const fb::ReservationPosted& e) {
  auto it = s_.reservations_.find(fb_str(e.id()));
  if (it == s_.reservations_.end()) return contradiction(event_, fmt::format("unknown reservation {}", fb_str(e.id())));
  // Release the whole hold first, then move what was posted: a partial post frees the rest.
  ReservationRecord& r = it->second;
  if (auto st = reservation_released(it->first, ReservationStatus::posted); !st) return st;
  for (const auto* l : *e.lines()) {
    if (auto st = move(r.from, r.to, fb_str(l->sku()), l->qty()); !st) return st;
  }
  return Ok{};
}

Status FoldAccess::body() {
  using fb::Body;
  const fb::Event& e = event_;
  switch (e.body_type()) {
    case Body::RegionDefined: {
      auto* b = e.body_as_RegionDefined();
      s_.regions_[std::string(fb_str(b->id()))] = {std::string(fb_str(b->name()))};
      return Ok{};
    }
    case Body::WarehouseDefined: {
      auto* b = e.body_as_WarehouseDefined();
      std::string id(fb_str(b->id()));
      auto at = std::lower_bound(s_.warehouse_ids_.begin(), s_.warehouse_ids_.end(), id);
      if (at == s_.warehouse_ids_.end() || *at != id) s_.warehouse_ids_.insert(at, id);
      s_.warehouses_[std::string(fb_str(b->id()))] = {std::string(fb_str(b->name())), std::string(fb_str(b->region())),
                                                      b->lat_e6(), b->lon_e6(), b->daily_capacity_cases()};
      return Ok{};
    }
    case Body::DealerDefined: {
      auto* b = e.body_as_DealerDefined();
      DealerRecord d{std::string(fb_str(b->name())), std::string(fb_str(b->region())), {}, b->credit_limit_cents()};
      if (b->territory() != nullptr) {
        for (const auto* r : *b->territory()) d.territory.emplace_back(fb_str(r));
      }
      s_.dealers_[std::string(fb_str(b->id()))] = std::move(d);
      return Ok{};
    }
    case Body::StoreDefined: {
      auto* b = e.body_as_StoreDefined();
      s_.stores_[std::string(fb_str(b->id()))] = {std::string(fb_str(b->name())), std::string(fb_str(b->dealer())),
                                                  std::string(fb_str(b->region())), b->lat_e6(), b->lon_e6()};
      return Ok{};
    }
    case Body::SkuDefined: {
      auto* b = e.body_as_SkuDefined();
      s_.skus_[std::string(fb_str(b->id()))] = {std::string(fb_str(b->name())), b->case_units(),
                                                to_prices(b->prices()), to_prices(b->floors())};
      return Ok{};
    }
    case Body::TokenIssued: {
      auto* b = e.body_as_TokenIssued();
      TokenRecord t;
      if (b->token_sha256() != nullptr) std::memcpy(t.token_sha256.data(), b->token_sha256()->bytes()->data(), 32);
      t.role = std::string(fb_str(b->role()));
      t.scope = std::string(fb_str(b->scope()));
      s_.tokens_[std::string(fb_str(b->prefix()))] = std::move(t);
      return Ok{};
    }
    case Body::TokenRevoked: {
      auto it = s_.tokens_.find(fb_str(e.body_as_TokenRevoked()->prefix()));
      if (it == s_.tokens_.end()) return contradiction(e, "revokes an unknown token");
      it->second.revoked = true;
      return Ok{};
    }
    case Body::StockReceived: return stock_received(*e.body_as_StockReceived());
    case Body::StockAdjusted: return stock_adjusted(*e.body_as_StockAdjusted());
    case Body::TransferShipped: return transfer_shipped(*e.body_as_TransferShipped());
    case Body::TransferReceived: return transfer_received(*e.body_as_TransferReceived());
    case Body::ReservationCreated: return reservation_created(*e.body_as_ReservationCreated());
    case Body::ReservationPosted: return reservation_posted(*e.body_as_ReservationPosted());
    case Body::ReservationVoided:
      return reservation_released(fb_str(e.body_as_ReservationVoided()->id()), ReservationStatus::voided);
    case Body::ReservationExpired:
      return reservation_released(fb_str(e.body_as_ReservationExpired()->id()), ReservationStatus::expired);
    default: return orders();
  }
}

// Lines are required by the schema's users but optional to FlatBuffers: reject a body whose
// vectors are missing before the fold dereferences them.
static bool has_required_lines(const fb::Event& e) {
  switch (e.body_type()) {
    case fb::Body::StockReceived: return e.body_as_StockReceived()->lines() != nullptr;
    case fb::Body::TransferShipped: return e.body_as_TransferShipped()->lines() != nullptr;
    case fb::Body::ReservationCreated: return e.body_as_ReservationCreated()->lines() != nullptr;
    case fb::Body::ReservationPosted: return e.body_as_ReservationPosted()->lines() != nullptr;
    case fb::Body::OrderPlaced: return e.body_as_OrderPlaced()->lines() != nullptr;
    case fb::Body::OrderAllocated: return e.body_as_OrderAllocated()->allocation() != nullptr;
    case fb::Body::OrderShipped: return e.body_as_OrderShipped()->lines() != nullptr;
    case fb::Body::OrderReturned: return e.body_as_OrderReturned()->lines() != nullptr;
    case fb::Body::ApprovalPolicySet: return e.body_as_ApprovalPolicySet()->rules() != nullptr;
    case fb::Body::NONE: return false;
    default: return true;
  }
}

Status Fold::apply(LedgerState& state, const fb::Event& event, const Hash32& hash) {
  if (event.seq() != state.last_seq_ + 1) {
    return contradiction(event, fmt::format("follows event {}", state.last_seq_));
  }
  if (event.ts_us() < state.last_ts_us_) {
    return contradiction(event, fmt::format("time goes back from {} to {}", state.last_ts_us_, event.ts_us()));
  }
  if (event.body() == nullptr || !has_required_lines(event)) return contradiction(event, "body is missing");
  std::string_view stream = fb_str(event.stream());
  std::uint64_t& version = state.stream_versions_[std::string(stream)];
  if (event.stream_version() != version + 1) {
    return contradiction(event, fmt::format("stream {} version {} follows {}", stream, event.stream_version(), version));
  }
  FoldAccess access(state, event);
  if (auto st = access.body(); !st) return st;
  version = event.stream_version();
  state.last_seq_ = event.seq();
  state.last_ts_us_ = event.ts_us();
  state.chain_head_ = hash;
  return Ok{};
}

}  // namespace ledger

namespace ledger {
Status apply_event(LedgerState& state, const fb::Event& event, const Hash32& chain_hash) {
  return Fold::apply(state, event, chain_hash);
}
}  // namespace ledger

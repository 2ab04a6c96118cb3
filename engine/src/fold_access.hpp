// The fold's internals, shared by fold.cpp (envelope, master data, stock) and fold_orders.cpp.
#pragma once

#include <fmt/format.h>

#include "fold.hpp"

namespace ledger {

inline Error contradiction(const fb::Event& event, std::string message) {
  return make_error(ErrorCode::corruption,
                    fmt::format("event {} ({}): {}", event.seq(), fb::EnumNameBody(event.body_type()), message))
      .with("seq", static_cast<std::int64_t>(event.seq()));
}

inline std::vector<StockLineInput> to_lines(const flatbuffers::Vector<flatbuffers::Offset<fb::StockLine>>* lines) {
  std::vector<StockLineInput> out;
  if (lines == nullptr) return out;
  out.reserve(lines->size());
  for (const auto* l : *lines) out.push_back({std::string(fb_str(l->sku())), l->qty(), std::string(fb_str(l->lot()))});
  return out;
}

inline Prices to_prices(const fb::PriceSet* p) {
  if (p == nullptr) return {};
  return {p->wholesale_cents(), p->supply_cents(), p->retail_cents()};
}

// Friend of LedgerState: the only code that mutates it.
class FoldAccess {
 public:
  FoldAccess(LedgerState& state, const fb::Event& event) : s_(state), event_(event) {}

  Status move(std::string_view from, std::string_view to, std::string_view sku, std::int64_t qty);
  Status reserve(std::string_view location, std::string_view sku, std::int64_t qty);
  Status release(std::string_view location, std::string_view sku, std::int64_t qty);
  Status body();

 private:
  // Adds to a balance, then checks it and drops it when it is back to zero.
  Status change(std::string_view location, std::string_view sku, std::int64_t on_hand_delta,
                std::int64_t reserved_delta) {
    std::uint32_t l = s_.intern_location(location);
    if (s_.location_class_[l] == LedgerState::LocationClass::malformed) {
      return contradiction(event_, fmt::format("'{}' is not a location", location));
    }
    std::uint64_t key = LedgerState::balance_key(l, s_.intern_sku(sku));
    if (s_.change_log_ != nullptr) s_.change_log_->push_back(key);
    auto it = s_.balances_.try_emplace(key).first;
    Balance& b = it->second;
    bool was_empty = b.on_hand <= 0;
    b.on_hand += on_hand_delta;
    b.reserved += reserved_delta;
    if (b.reserved < 0) {
      return contradiction(event_, fmt::format("{} would have {} of {} reserved", location, b.reserved, sku));
    }
    if (s_.location_class_[l] == LedgerState::LocationClass::real && b.available() < 0) {
      return contradiction(event_, fmt::format("{} would have {} of {} available", location, b.available(), sku));
    }
    if (was_empty && b.on_hand > 0) s_.stock_since_us_[key] = event_.ts_us();
    if (b.on_hand <= 0) s_.stock_since_us_.erase(key);
    if (b.is_zero()) s_.balances_.erase(it);
    return Ok{};
  }
  void add_inbound(std::string_view to, std::string_view sku, std::int64_t qty) {
    auto key = LedgerState::balance_key(s_.intern_location(to), s_.intern_sku(sku));
    if ((s_.inbound_[key] += qty) == 0) s_.inbound_.erase(key);
  }
  Status master_data();
  Status stock_received(const fb::StockReceived& e);
  Status stock_adjusted(const fb::StockAdjusted& e);
  Status transfer_shipped(const fb::TransferShipped& e);
  Status transfer_received(const fb::TransferReceived& e);
  Status reservation_created(const fb::ReservationCreated& e);
  Status reservation_posted(const fb::ReservationPosted& e);
  Status reservation_released(std::string_view id, ReservationStatus status);

  // ---- orders (fold_orders.cpp)
  Status orders();
  Result<OrderRecord*> order(const flatbuffers::String* id);
  void timeline(OrderRecord& o, std::string kind, std::string note = {});
  void clear_milestones(std::string_view id, OrderRecord& o);
  void end_order(std::string_view id, OrderRecord& o);
  void hold_changed(std::string_view reservation_to, const std::vector<StockLineInput>& lines, int sign);
  Status order_placed(const fb::OrderPlaced& e);
  Status order_allocated(const fb::OrderAllocated& e);
  Status order_shipped(const fb::OrderShipped& e);
  Status order_delivered(const fb::OrderDelivered& e);
  Status order_returned(const fb::OrderReturned& e);

  // ---- marketing, credit, prices (fold_marketing.cpp)
  Status marketing();
  Status campaign_created(const fb::CampaignCreated& e);
  Status coupons_issued(const fb::CouponsIssued& e);
  Status coupon_redeemed(const fb::CouponRedeemed& e);
  Status coupon_restored(const fb::CouponRestored& e);
  Status points_changed();
  Status take_points(MemberAccount& a, std::int64_t points, bool expired_only, std::vector<PointsLot>* taken = nullptr);
  void add_lot(MemberAccount& a, std::int64_t points, std::int64_t expires_at_us);
  void reschedule(const std::string& member, MemberAccount& a);

  LedgerState& s_;
  const fb::Event& event_;
};

}  // namespace ledger

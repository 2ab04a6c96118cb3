// Deciding a command: validate it against the current state, then emit its events. Pure apart from
// the sink: no clock (the batch time is passed in), no I/O. A command is validated whole before it
// emits anything, so a rejected command emits nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "events_generated.h"
#include "ledger/commands.hpp"
#include "ledger/ledger_state.hpp"
#include "ledger/matcher.hpp"

namespace ledger {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // The builder to build the event's body in. REQUIRES: nothing else is being built in it.
  virtual flatbuffers::FlatBufferBuilder& builder() = 0;
  // Wraps the body in an envelope (seq, time, ids, stream version, actor, chain) and stages it.
  virtual void emit(std::string_view stream, fb::Body type, flatbuffers::Offset<void> body) = 0;
};

// What a decision may use besides the state and the command: the batch's time, who asks, and the
// writer's matcher (its buffers are reused across commands).
struct DecideContext {
  std::int64_t now_us = 0;
  const Actor* actor = nullptr;
  Matcher* matcher = nullptr;
  std::uint64_t* stale_plans = nullptr;  // counts proposals that had to be matched again
};

Status decide(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink);

// ---- shared by the decide_*.cpp files
Status decide_master(const LedgerState& state, const CommandBody& body, EventSink& sink);
Status decide_stock(const LedgerState& state, const CommandBody& body, std::int64_t now_us, EventSink& sink);
Status decide_access(const LedgerState& state, const CommandBody& body, EventSink& sink);
Status decide_orders(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink);
bool is_order_command(const CommandBody& body);
// After a receipt at a warehouse: allocates the presale orders of the batch it brings (ref = batch
// id) and hq backorders, first placed first, from the received units and what was there.
Status allocate_on_receipt(const LedgerState& state, const ReceiveStock& receipt, const DecideContext& ctx,
                           EventSink& sink);
// After an order's hold expired: cancels the order when nothing of it was shipped.
Status cancel_on_hold_expiry(const LedgerState& state, std::string_view reservation_id, std::int64_t now_us,
                             EventSink& sink);

// ---- marketing (decide_marketing.cpp)
bool is_marketing_command(const CommandBody& body);
Status decide_marketing(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink);
// What placing an order redeems: its coupons' discounts and the points it spends.
struct Redemption {
  std::string member;  // empty: the buyer is no member
  Discounts discounts;
  std::int64_t points = 0;
};
// Checks the order's coupons and points against the state (ownership, validity, scope, limits,
// budgets, balance) and computes the discounts. Any failure is a typed error naming the coupon.
Result<Redemption> plan_redemption(const LedgerState& state, const PlaceOrder& c, std::int64_t total_cents,
                                   std::int64_t now_us);
// CouponRedeemed for each coupon and PointsSpent; emitted right after OrderPlaced.
void emit_redemption(const std::string& order_id, const Redemption& r, EventSink& sink);
// After OrderCancelled/OrderRejected: coupons given back (by their campaign's rule), points refunded.
void emit_order_end_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o,
                              std::int64_t now_us, EventSink& sink);
// After OrderDelivered: points earned and spend counted for what is now delivered; a tier change.
void emit_delivery_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o,
                             std::int64_t now_us, EventSink& sink);
// After OrderReturned of `returned_now`: points and spend taken back; a wholly returned order as a cancel.
void emit_return_marketing(const LedgerState& state, const std::string& id, const OrderRecord& o,
                           const std::map<std::string_view, std::int64_t>& returned_now, std::int64_t now_us,
                           EventSink& sink);
// The clock reached the member's due time: PointsExpired for lots past expiry, a tier change; when
// neither (the clock jumped past a change and what undid it), PointsExpired of 0, which reschedules it.
Status member_clock(const LedgerState& state, const std::string& member, std::int64_t now_us, EventSink& sink);

// Lines are non-empty, at most lines_max, each naming a known SKU with 0 < qty <= qty_max.
// Returns the total quantity per SKU (a command may list a SKU on several lines).
Result<std::map<std::string_view, std::int64_t>> check_lines(const LedgerState& state,
                                                             const std::vector<StockLineInput>& lines);
// `text` is a warehouse:, dealer: or store: location that is defined.
Status check_stock_location(const LedgerState& state, std::string_view text, std::string_view field);
// Every SKU's total is available at `location`; else insufficient_stock naming the first short one.
Status check_available(const LedgerState& state, std::string_view location,
                       const std::map<std::string_view, std::int64_t>& qty_by_sku);

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::StockLine>>> build_lines(
    flatbuffers::FlatBufferBuilder& b, const std::vector<StockLineInput>& lines);

}  // namespace ledger

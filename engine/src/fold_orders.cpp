// The fold of orders, approvals, sourcing weights, presale batches and members. Stock moves only
// through the reservation events the writer emits beside the order events, except delivery and
// returns, which move the order's own units (transit -> buyer, buyer -> source).
#include <algorithm>

#include "fold_access.hpp"
#include "ledger/location.hpp"

namespace ledger {

namespace {

std::int64_t line_price(const OrderRecord& o, std::string_view sku) {
  for (const auto& l : o.lines) {
    if (l.sku == sku) return l.unit_price_cents;
  }
  return 0;
}

std::string_view dealer_of(std::string_view party) {
  return party.rfind("dealer:", 0) == 0 ? party.substr(7) : std::string_view{};
}

}  // namespace

Result<OrderRecord*> FoldAccess::order(const flatbuffers::String* id) {
  auto it = s_.orders_.find(fb_str(id));
  if (it == s_.orders_.end()) return contradiction(event_, fmt::format("unknown order {}", fb_str(id)));
  return &it->second;
}

void FoldAccess::timeline(OrderRecord& o, std::string kind, std::string note) {
  std::string principal = event_.actor() != nullptr ? std::string(fb_str(event_.actor()->principal())) : std::string();
  o.timeline.push_back({event_.seq(), event_.ts_us(), std::move(kind), std::move(principal), std::move(note)});
}

void FoldAccess::clear_milestones(std::string_view id, OrderRecord& o) {
  std::string key(id);
  for (auto [due, name] : {std::pair{&o.approval_due_us, "approval"}, std::pair{&o.shipment_due_us, "shipment"},
                           std::pair{&o.delivery_due_us, "delivery"}}) {
    if (*due != 0) s_.milestones_.erase({*due, key, name});
    *due = 0;
  }
}

// Cancellation and rejection: the order's claims on credit and presale quota end with it.
void FoldAccess::end_order(std::string_view id, OrderRecord& o) {
  clear_milestones(id, o);
  if (auto dealer = dealer_of(o.buyer); !dealer.empty()) {
    s_.dealer_accounts_[std::string(dealer)].credit_used_cents -= o.total_cents - o.discount_cents;
  }
  s_.backorders_.erase({o.placed_seq, std::string(id)});
  for (const auto& [sku, batch_id] : o.presale_batch) {
    auto b = s_.presale_batches_.find(batch_id);
    if (b == s_.presale_batches_.end()) continue;
    b->second.sold_qty -= o.units[sku].ordered;
    auto& w = b->second.waiting;
    w.erase(std::remove(w.begin(), w.end(), id), w.end());
  }
}

void FoldAccess::hold_changed(std::string_view reservation_to, const std::vector<StockLineInput>& lines, int sign) {
  auto it = s_.orders_.find(order_of_transit(reservation_to));
  if (it == s_.orders_.end()) return;
  for (const auto& l : lines) {
    auto h = it->second.held.try_emplace(l.sku, 0).first;
    h->second += sign * l.qty;
    if (h->second == 0) it->second.held.erase(h);
  }
}

Status FoldAccess::order_placed(const fb::OrderPlaced& e) {
  std::string id(fb_str(e.id()));
  if (s_.orders_.count(id) != 0) return contradiction(event_, fmt::format("order {} placed twice", id));
  OrderRecord o;
  o.type = static_cast<OrderType>(e.order_type());
  o.buyer = fb_str(e.buyer());
  o.seller = fb_str(e.seller());
  o.channel = fb_str(e.channel());
  o.ship_to_region = fb_str(e.ship_to_region());
  o.ship_to_lat_e6 = e.ship_to_lat_e6();
  o.ship_to_lon_e6 = e.ship_to_lon_e6();
  for (const auto* l : *e.lines()) {
    o.lines.push_back({std::string(fb_str(l->sku())), l->qty(), l->unit_price_cents()});
    if (l->qty() <= 0 || s_.sku(fb_str(l->sku())) == nullptr) return contradiction(event_, "an order line is invalid");
    o.units[std::string(fb_str(l->sku()))].ordered += l->qty();
  }
  if (e.coupons() != nullptr) {
    for (const auto* c : *e.coupons()) o.coupons.emplace_back(fb_str(c));
  }
  if (e.approvals_required() != nullptr) {
    for (const auto* a : *e.approvals_required()) o.approvals_required.emplace_back(fb_str(a));
  }
  o.promised_by_us = e.promised_by_us();
  o.pickup_at_us = e.pickup_at_us();
  o.total_cents = e.total_cents();
  o.discount_cents = e.discount_cents();
  o.allow_backorder = e.allow_backorder();
  o.placed_seq = event_.seq();
  o.placed_at_us = event_.ts_us();
  if (o.approvals_required.empty()) o.approved_at_us = event_.ts_us();
  if (o.type == OrderType::presale) {
    for (const auto& [sku, u] : o.units) {
      std::string batch(s_.presale_batch_for(sku, u.ordered));
      if (batch.empty()) return contradiction(event_, fmt::format("no presale quota left for {} of {}", u.ordered, sku));
      PresaleBatchRecord& b = s_.presale_batches_.find(batch)->second;
      b.sold_qty += u.ordered;
      if (std::find(b.waiting.begin(), b.waiting.end(), id) == b.waiting.end()) b.waiting.push_back(id);
      o.presale_batch[sku] = batch;
    }
  }
  if (!o.approvals_required.empty()) o.approval_due_us = event_.ts_us() + approval_due_after_us;
  if (o.type != OrderType::reservation) {
    o.shipment_due_us = std::max(event_.ts_us() + shipment_due_after_min_us, o.promised_by_us - shipment_lead_us);
    o.delivery_due_us = std::max(o.shipment_due_us, o.promised_by_us);
  }
  for (auto [due, name] : {std::pair{o.approval_due_us, "approval"}, std::pair{o.shipment_due_us, "shipment"},
                           std::pair{o.delivery_due_us, "delivery"}}) {
    if (due != 0) s_.milestones_.emplace(due, id, name);
  }
  if (auto dealer = dealer_of(o.buyer); !dealer.empty()) {
    s_.dealer_accounts_[std::string(dealer)].credit_used_cents += o.total_cents - o.discount_cents;
  }
  if (o.allow_backorder && o.seller == "hq" && o.type == OrderType::spot) s_.backorders_.emplace(o.placed_seq, id);
  timeline(o, "placed");
  s_.orders_.emplace(std::move(id), std::move(o));
  return Ok{};
}

Status FoldAccess::order_allocated(const fb::OrderAllocated& e) {
  auto o = order(e.id());
  if (!o) return o.take_error();
  std::int64_t day = china_day_of(event_.ts_us());
  for (const auto* a : *e.allocation()) {
    std::string sku(fb_str(a->sku()));
    const SkuRecord* record = s_.sku(sku);
    if (record == nullptr || a->qty() <= 0) return contradiction(event_, "an allocation line is invalid");
    (*o)->allocation.push_back({std::string(fb_str(a->location())), sku, a->qty(), std::string(fb_str(a->reservation()))});
    auto location = parse_location(fb_str(a->location()));
    if (location && location->kind == LocationKind::warehouse) {
      WarehouseLoad& load = s_.warehouse_loads_[location->id];
      if (load.day != day) load = {day, 0};
      load.cases += (a->qty() + record->case_units - 1) / std::max(1, record->case_units);
    }
  }
  std::string id(fb_str(e.id()));
  for (const auto& [sku, batch_id] : (*o)->presale_batch) {
    if ((*o)->unallocated(sku) != 0) continue;
    auto& w = s_.presale_batches_.find(batch_id)->second.waiting;
    w.erase(std::remove(w.begin(), w.end(), id), w.end());
  }
  bool all_allocated = std::all_of((*o)->units.begin(), (*o)->units.end(),
                                   [&](const auto& u) { return (*o)->unallocated(u.first) == 0; });
  if (all_allocated) s_.backorders_.erase({(*o)->placed_seq, id});
  timeline(**o, "allocated");
  return Ok{};
}

Status FoldAccess::order_shipped(const fb::OrderShipped& e) {
  auto o = order(e.id());
  if (!o) return o.take_error();
  OrderRecord& r = **o;
  std::string buyer = r.buyer_location();
  for (const auto* l : *e.lines()) {
    auto u = r.units.find(fb_str(l->sku()));
    if (u == r.units.end() || l->qty() <= 0 || u->second.shipped + l->qty() > u->second.ordered) {
      return contradiction(event_, fmt::format("ships more {} than ordered", fb_str(l->sku())));
    }
    u->second.shipped += l->qty();
    if (buyer != "customer") add_inbound(buyer, u->first, l->qty());
  }
  ++r.shipments;
  if (auto dealer = dealer_of(r.buyer); !dealer.empty()) {
    std::int64_t value = 0;
    for (const auto* l : *e.lines()) value += l->qty() * line_price(r, fb_str(l->sku()));
    s_.dealer_accounts_[std::string(dealer)].shipped_cents += value;
  }
  if (r.status() == OrderStatus::shipped && r.shipment_due_us != 0) {
    s_.milestones_.erase({r.shipment_due_us, std::string(fb_str(e.id())), "shipment"});
    r.shipment_due_us = 0;
  }
  timeline(r, "shipped", std::string(fb_str(e.shipment())));
  return Ok{};
}

Status FoldAccess::order_delivered(const fb::OrderDelivered& e) {
  auto o = order(e.id());
  if (!o) return o.take_error();
  OrderRecord& r = **o;
  std::string transit = order_transit_location(fb_str(e.id()));
  std::string buyer = r.buyer_location();
  std::int64_t units = 0;
  for (auto& [sku, u] : r.units) {
    std::int64_t qty = u.shipped - u.delivered;
    if (qty == 0) continue;
    if (auto st = move(transit, buyer, sku, qty); !st) return st;
    if (buyer != "customer") add_inbound(buyer, sku, -qty);
    u.delivered += qty;
    units += qty;
  }
  if (units == 0) return contradiction(event_, "delivers nothing");
  if (auto dealer = dealer_of(r.buyer); !dealer.empty()) s_.dealer_accounts_[std::string(dealer)].delivered_units += units;
  if (r.status() == OrderStatus::delivered) clear_milestones(fb_str(e.id()), r);
  timeline(r, "delivered");
  return Ok{};
}

Status FoldAccess::order_returned(const fb::OrderReturned& e) {
  auto o = order(e.id());
  if (!o) return o.take_error();
  OrderRecord& r = **o;
  std::int64_t units = 0, value = 0;
  for (const auto* l : *e.lines()) {
    auto u = r.units.find(fb_str(l->sku()));
    if (u == r.units.end() || l->qty() <= 0 || u->second.returned + l->qty() > u->second.delivered) {
      return contradiction(event_, fmt::format("returns more {} than was delivered", fb_str(l->sku())));
    }
    if (auto st = move(fb_str(e.from()), fb_str(e.to()), u->first, l->qty()); !st) return st;
    u->second.returned += l->qty();
    units += l->qty();
    value += l->qty() * line_price(r, u->first);
  }
  if (auto dealer = dealer_of(r.buyer); !dealer.empty()) {
    DealerAccount& a = s_.dealer_accounts_[std::string(dealer)];
    a.returned_units += units;
    a.credit_used_cents -= value;
    a.shipped_cents -= value;
  }
  timeline(r, "returned", std::string(fb_str(e.reason())));
  return Ok{};
}

Status FoldAccess::orders() {
  using fb::Body;
  const fb::Event& e = event_;
  switch (e.body_type()) {
    case Body::MemberDefined: {
      auto* b = e.body_as_MemberDefined();
      s_.members_[std::string(fb_str(b->id()))] = {std::string(fb_str(b->name())), std::string(fb_str(b->home_store()))};
      return Ok{};
    }
    case Body::OrderPlaced: return order_placed(*e.body_as_OrderPlaced());
    case Body::OrderApproved: {
      auto* b = e.body_as_OrderApproved();
      auto o = order(b->id());
      if (!o) return o.take_error();
      OrderRecord& r = **o;
      std::string_view step = fb_str(b->step());
      bool required = std::find(r.approvals_required.begin(), r.approvals_required.end(), step) != r.approvals_required.end();
      bool done = std::any_of(r.approvals.begin(), r.approvals.end(), [&](const OrderApproval& a) { return a.step == step; });
      if (!required || done || r.ended()) return contradiction(e, fmt::format("approves step {} out of turn", step));
      std::string principal = e.actor() != nullptr ? std::string(fb_str(e.actor()->principal())) : std::string();
      r.approvals.push_back({std::string(step), principal, e.ts_us()});
      if (!r.approvals_pending()) {
        r.approved_at_us = e.ts_us();
        if (r.approval_due_us != 0) s_.milestones_.erase({r.approval_due_us, std::string(fb_str(b->id())), "approval"});
        r.approval_due_us = 0;
      }
      timeline(r, "approved", std::string(step));
      return Ok{};
    }
    case Body::OrderRejected:
    case Body::OrderCancelled: {
      bool rejected = e.body_type() == Body::OrderRejected;
      const flatbuffers::String* id = rejected ? e.body_as_OrderRejected()->id() : e.body_as_OrderCancelled()->id();
      auto o = order(id);
      if (!o) return o.take_error();
      OrderRecord& r = **o;
      if (r.ended() || r.anything_shipped() || !r.held.empty()) {
        return contradiction(e, "ends an order that has shipped, ended or still holds stock");
      }
      (rejected ? r.rejected : r.cancelled) = true;
      r.end_reason = fb_str(rejected ? e.body_as_OrderRejected()->reason() : e.body_as_OrderCancelled()->reason());
      end_order(fb_str(id), r);
      timeline(r, rejected ? "rejected" : "cancelled", r.end_reason);
      return Ok{};
    }
    case Body::OrderAllocated: return order_allocated(*e.body_as_OrderAllocated());
    case Body::OrderShipped: return order_shipped(*e.body_as_OrderShipped());
    case Body::OrderDelivered: return order_delivered(*e.body_as_OrderDelivered());
    case Body::OrderCompleted: {
      auto o = order(e.body_as_OrderCompleted()->id());
      if (!o) return o.take_error();
      (*o)->completed = true;
      clear_milestones(fb_str(e.body_as_OrderCompleted()->id()), **o);
      timeline(**o, "completed");
      return Ok{};
    }
    case Body::OrderReturned: return order_returned(*e.body_as_OrderReturned());
    case Body::OrderDelayWarned: {
      auto* b = e.body_as_OrderDelayWarned();
      auto o = order(b->id());
      if (!o) return o.take_error();
      std::string_view milestone = fb_str(b->milestone());
      std::int64_t* due = milestone == "approval"   ? &(*o)->approval_due_us
                          : milestone == "shipment" ? &(*o)->shipment_due_us
                          : milestone == "delivery" ? &(*o)->delivery_due_us
                                                    : nullptr;
      if (due == nullptr || *due != b->due_us()) return contradiction(e, "warns of a milestone the order does not have");
      s_.milestones_.erase({*due, std::string(fb_str(b->id())), std::string(milestone)});
      *due = 0;
      timeline(**o, "delay_warned", std::string(milestone));
      return Ok{};
    }
    case Body::ApprovalPolicySet: {
      s_.approval_policy_.clear();
      for (const auto* r : *e.body_as_ApprovalPolicySet()->rules()) {
        s_.approval_policy_.push_back({std::string(fb_str(r->step())), r->min_amount_cents(), r->below_floor(),
                                       std::string(fb_str(r->order_type())), r->health_tier_at_most(), r->credit_overrun()});
      }
      return Ok{};
    }
    case Body::SourcingWeightsSet: {
      auto* b = e.body_as_SourcingWeightsSet();
      Weights w = default_weights();
      if (b->weights() != nullptr) {
        for (const auto* x : *b->weights()) {
          Dimension d;
          if (!dimension_from_name(fb_str(x->dimension()), d)) return contradiction(e, "names an unknown dimension");
          w[static_cast<std::size_t>(d)] = x->weight_permille();
        }
      }
      s_.sourcing_weights_[std::string(fb_str(b->region()))] = w;
      return Ok{};
    }
    case Body::PresaleBatchAnnounced: {
      auto* b = e.body_as_PresaleBatchAnnounced();
      std::string id(fb_str(b->id()));
      if (s_.presale_batches_.count(id) != 0) return contradiction(e, fmt::format("presale batch {} announced twice", id));
      s_.presale_batches_[id] = {std::string(fb_str(b->sku())), std::string(fb_str(b->warehouse())), b->quota_qty(), 0,
                                 b->expected_at_us(), false, {}};
      s_.presale_by_sku_[std::string(fb_str(b->sku()))].push_back(id);
      return Ok{};
    }
    default: return marketing();
  }
}

}  // namespace ledger

// Stock commands: receipts, adjustments, transfers through transit, two-phase reservations.
// Every check that can reject runs before the first emit.
#include <fmt/format.h>

#include "decide.hpp"
#include "ledger/limits.hpp"
#include "ledger/location.hpp"

namespace ledger {

Result<std::map<std::string_view, std::int64_t>> check_lines(const LedgerState& state,
                                                             const std::vector<StockLineInput>& lines) {
  if (lines.empty()) return make_error(ErrorCode::invalid_argument, "lines is empty").with("field", "lines");
  if (lines.size() > limits::lines_max) {
    return make_error(ErrorCode::invalid_argument, fmt::format("{} lines; at most {}", lines.size(), limits::lines_max))
        .with("field", "lines");
  }
  std::map<std::string_view, std::int64_t> qty_by_sku;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    std::string field = fmt::format("lines[{}].sku", i);
    if (auto st = check_id(line.sku, field); !st) return st.take_error();
    if (state.sku(line.sku) == nullptr) {
      return make_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", line.sku))
          .with("field", field)
          .with("sku", line.sku);
    }
    if (line.qty <= 0 || line.qty > limits::qty_max) {
      return make_error(ErrorCode::invalid_argument,
                        fmt::format("lines[{}].qty is {}; it must be between 1 and {}", i, line.qty, limits::qty_max))
          .with("field", fmt::format("lines[{}].qty", i));
    }
    if (!line.lot.empty()) {
      if (auto st = check_id(line.lot, fmt::format("lines[{}].lot", i)); !st) return st.take_error();
    }
    qty_by_sku[line.sku] += line.qty;  // cannot overflow: qty_max * lines_max < 2^62
  }
  return qty_by_sku;
}

Status check_stock_location(const LedgerState& state, std::string_view text, std::string_view field) {
  auto location = parse_location(text);
  if (!location) return Error(location.error()).with("field", std::string(field));
  bool defined = false;
  switch (location->kind) {
    case LocationKind::warehouse: defined = state.warehouse(location->id) != nullptr; break;
    case LocationKind::dealer: defined = state.dealer(location->id) != nullptr; break;
    case LocationKind::store: defined = state.store(location->id) != nullptr; break;
    default:
      return make_error(ErrorCode::invalid_argument,
                        fmt::format("{} must be a warehouse:, dealer: or store: location, not '{}'", field, text))
          .with("field", std::string(field));
  }
  if (!defined) {
    return make_error(ErrorCode::unknown_id, fmt::format("{} '{}' is not defined", field, text))
        .with("field", std::string(field))
        .with("location", std::string(text));
  }
  return Ok{};
}

Status check_available(const LedgerState& state, std::string_view location,
                       const std::map<std::string_view, std::int64_t>& qty_by_sku) {
  for (const auto& [sku, qty] : qty_by_sku) {
    std::int64_t available = state.balance(location, sku).available();
    if (available < qty) {
      return make_error(ErrorCode::insufficient_stock,
                        fmt::format("{} has {} of {} available; {} requested", location, available, sku, qty))
          .with("location", std::string(location))
          .with("sku", std::string(sku))
          .with("available", available)
          .with("requested", qty)
          .with("short", qty - available);
    }
  }
  return Ok{};
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::StockLine>>> build_lines(
    flatbuffers::FlatBufferBuilder& b, const std::vector<StockLineInput>& lines) {
  std::vector<flatbuffers::Offset<fb::StockLine>> out;
  out.reserve(lines.size());
  for (const auto& l : lines) {
    out.push_back(fb::CreateStockLineDirect(b, l.sku.c_str(), l.qty, l.lot.empty() ? nullptr : l.lot.c_str()));
  }
  return b.CreateVector(out);
}

namespace {

Status check_new_id(bool taken, std::string_view id, std::string_view what) {
  if (auto st = check_id(id, "id"); !st) return st;
  if (taken) {
    return make_error(ErrorCode::already_exists, fmt::format("{} '{}' already exists; choose another id", what, id))
        .with("field", "id");
  }
  return Ok{};
}

Status receive_stock(const LedgerState& state, const ReceiveStock& c, EventSink& sink) {
  std::string location = location_string(LocationKind::warehouse, c.warehouse);
  if (auto st = check_id(c.warehouse, "warehouse"); !st) return st;
  if (auto st = check_stock_location(state, location, "warehouse"); !st) return st;
  if (auto st = check_id(c.ref, "ref"); !st) return st;
  if (auto lines = check_lines(state, c.lines); !lines) return lines.take_error();
  auto& b = sink.builder();
  auto lines = build_lines(b, c.lines);
  auto body = fb::CreateStockReceived(b, b.CreateString(location), lines, b.CreateString(c.ref));
  sink.emit(location, fb::Body::StockReceived, body.Union());
  return Ok{};
}

Status adjust_stock(const LedgerState& state, const AdjustStock& c, EventSink& sink) {
  if (auto st = check_stock_location(state, c.location, "location"); !st) return st;
  if (auto st = check_id(c.sku, "sku"); !st) return st;
  if (state.sku(c.sku) == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("SKU '{}' is not defined", c.sku)).with("field", "sku");
  }
  if (c.qty_delta == 0 || c.qty_delta > limits::qty_max || c.qty_delta < -limits::qty_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("qty_delta is {}; it must be non-zero and at most {} either way", c.qty_delta,
                                  limits::qty_max))
        .with("field", "qty_delta");
  }
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  if (c.qty_delta < 0) {
    if (auto st = check_available(state, c.location, {{c.sku, -c.qty_delta}}); !st) return st;
  }
  auto& b = sink.builder();
  auto body = fb::CreateStockAdjustedDirect(b, c.location.c_str(), c.sku.c_str(), c.qty_delta, c.reason.c_str());
  sink.emit(c.location, fb::Body::StockAdjusted, body.Union());
  return Ok{};
}

Status check_distinct(std::string_view from, std::string_view to) {
  if (from == to) {
    return make_error(ErrorCode::invalid_argument, fmt::format("from and to are both '{}'", from)).with("field", "to");
  }
  return Ok{};
}

// Ids beginning with "order." name the holds and transit of orders (ledger/orders.hpp).
Status check_not_order_namespace(std::string_view id) {
  if (id.rfind("order.", 0) == 0) {
    return make_error(ErrorCode::invalid_argument, "ids beginning with 'order.' are reserved for orders")
        .with("field", "id");
  }
  return Ok{};
}

Status ship_transfer(const LedgerState& state, const ShipTransfer& c, EventSink& sink) {
  if (auto st = check_new_id(state.transfer(c.id) != nullptr, c.id, "transfer"); !st) return st;
  if (auto st = check_not_order_namespace(c.id); !st) return st;
  if (auto st = check_stock_location(state, c.from, "from"); !st) return st;
  if (auto st = check_stock_location(state, c.to, "to"); !st) return st;
  if (auto st = check_distinct(c.from, c.to); !st) return st;
  auto qty_by_sku = check_lines(state, c.lines);
  if (!qty_by_sku) return qty_by_sku.take_error();
  if (auto st = check_available(state, c.from, *qty_by_sku); !st) return st;
  auto& b = sink.builder();
  auto lines = build_lines(b, c.lines);
  auto body = fb::CreateTransferShipped(b, b.CreateString(c.id), b.CreateString(c.from), b.CreateString(c.to), lines);
  sink.emit(fmt::format("transfer:{}", c.id), fb::Body::TransferShipped, body.Union());
  return Ok{};
}

Status receive_transfer(const LedgerState& state, const ReceiveTransfer& c, EventSink& sink) {
  if (auto st = check_id(c.id, "id"); !st) return st;
  const TransferRecord* t = state.transfer(c.id);
  if (t == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("transfer '{}' does not exist", c.id)).with("field", "id");
  }
  if (t->status != TransferStatus::in_transit) {
    return make_error(ErrorCode::illegal_transition, fmt::format("transfer '{}' was already received", c.id))
        .with("status", "received");
  }
  auto& b = sink.builder();
  auto lines = build_lines(b, t->lines);
  auto body = fb::CreateTransferReceived(b, b.CreateString(c.id), b.CreateString(transit_location(c.id)),
                                         b.CreateString(t->to), lines);
  sink.emit(fmt::format("transfer:{}", c.id), fb::Body::TransferReceived, body.Union());
  return Ok{};
}

Status create_reservation(const LedgerState& state, const CreateReservation& c, std::int64_t now_us,
                          EventSink& sink) {
  if (auto st = check_new_id(state.reservation(c.id) != nullptr, c.id, "reservation"); !st) return st;
  if (auto st = check_not_order_namespace(c.id); !st) return st;
  if (auto st = check_stock_location(state, c.from, "from"); !st) return st;
  if (c.to != "customer") {
    if (auto st = check_stock_location(state, c.to, "to"); !st) return st;
  }
  if (auto st = check_distinct(c.from, c.to); !st) return st;
  if (c.deadline_us <= now_us) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("deadline_us {} is not after the ledger's time {}", c.deadline_us, now_us))
        .with("field", "deadline_us")
        .with("now_us", now_us);
  }
  auto qty_by_sku = check_lines(state, c.lines);
  if (!qty_by_sku) return qty_by_sku.take_error();
  if (auto st = check_available(state, c.from, *qty_by_sku); !st) return st;
  auto& b = sink.builder();
  auto lines = build_lines(b, c.lines);
  auto body = fb::CreateReservationCreated(b, b.CreateString(c.id), b.CreateString(c.from), b.CreateString(c.to), lines,
                                           c.deadline_us);
  sink.emit(fmt::format("reservation:{}", c.id), fb::Body::ReservationCreated, body.Union());
  return Ok{};
}

Result<const ReservationRecord*> pending_reservation(const LedgerState& state, const std::string& id) {
  if (auto st = check_id(id, "id"); !st) return st.take_error();
  // An order's holds move with the order (ship, cancel), never on their own.
  if (auto st = check_not_order_namespace(id); !st) return st.take_error();
  const ReservationRecord* r = state.reservation(id);
  if (r == nullptr) {
    return make_error(ErrorCode::unknown_id, fmt::format("reservation '{}' does not exist", id)).with("field", "id");
  }
  if (r->status != ReservationStatus::pending) {
    return make_error(ErrorCode::illegal_transition,
                      fmt::format("reservation '{}' is {}, not pending", id, reservation_status_name(r->status)))
        .with("status", reservation_status_name(r->status));
  }
  return r;
}

Status post_reservation(const LedgerState& state, const PostReservation& c, EventSink& sink) {
  auto r = pending_reservation(state, c.id);
  if (!r) return r.take_error();
  const std::vector<StockLineInput>& posted = c.lines.empty() ? (*r)->lines : c.lines;
  auto posted_by_sku = check_lines(state, posted);
  if (!posted_by_sku) return posted_by_sku.take_error();
  std::map<std::string_view, std::int64_t> held_by_sku;
  for (const auto& l : (*r)->lines) held_by_sku[l.sku] += l.qty;
  for (const auto& [sku, qty] : *posted_by_sku) {
    std::int64_t held = held_by_sku.count(sku) != 0 ? held_by_sku[sku] : 0;
    if (qty > held) {
      return make_error(ErrorCode::invalid_argument,
                        fmt::format("posts {} of {} but reservation '{}' holds {}", qty, sku, c.id, held))
          .with("field", "lines")
          .with("sku", std::string(sku))
          .with("held", held);
    }
  }
  auto& b = sink.builder();
  auto lines = build_lines(b, posted);
  auto body = fb::CreateReservationPosted(b, b.CreateString(c.id), lines);
  sink.emit(fmt::format("reservation:{}", c.id), fb::Body::ReservationPosted, body.Union());
  return Ok{};
}

Status void_reservation(const LedgerState& state, const VoidReservation& c, EventSink& sink) {
  auto r = pending_reservation(state, c.id);
  if (!r) return r.take_error();
  if (auto st = check_text(c.reason, "reason", true); !st) return st;
  auto& b = sink.builder();
  auto body = fb::CreateReservationVoidedDirect(b, c.id.c_str(), c.reason.c_str());
  sink.emit(fmt::format("reservation:{}", c.id), fb::Body::ReservationVoided, body.Union());
  return Ok{};
}

}  // namespace

Status decide_stock(const LedgerState& state, const CommandBody& body, std::int64_t now_us, EventSink& sink) {
  if (const auto* c = std::get_if<ReceiveStock>(&body)) return receive_stock(state, *c, sink);
  if (const auto* c = std::get_if<AdjustStock>(&body)) return adjust_stock(state, *c, sink);
  if (const auto* c = std::get_if<ShipTransfer>(&body)) return ship_transfer(state, *c, sink);
  if (const auto* c = std::get_if<ReceiveTransfer>(&body)) return receive_transfer(state, *c, sink);
  if (const auto* c = std::get_if<CreateReservation>(&body)) return create_reservation(state, *c, now_us, sink);
  if (const auto* c = std::get_if<PostReservation>(&body)) return post_reservation(state, *c, sink);
  if (const auto* c = std::get_if<VoidReservation>(&body)) return void_reservation(state, *c, sink);
  return make_error(ErrorCode::invalid_argument, "not a stock command");
}

Status decide(const LedgerState& state, const CommandBody& body, const DecideContext& ctx, EventSink& sink) {
  bool is_master = std::holds_alternative<DefineRegion>(body) || std::holds_alternative<DefineWarehouse>(body) ||
                   std::holds_alternative<DefineDealer>(body) || std::holds_alternative<DefineStore>(body) ||
                   std::holds_alternative<DefineSku>(body) || std::holds_alternative<DefineMember>(body);
  if (std::holds_alternative<IssueToken>(body) || std::holds_alternative<RevokeToken>(body)) {
    return decide_access(state, body, sink);
  }
  if (is_master) return decide_master(state, body, sink);
  if (is_order_command(body)) return decide_orders(state, body, ctx, sink);
  if (is_marketing_command(body)) return decide_marketing(state, body, ctx, sink);
  if (auto st = decide_stock(state, body, ctx.now_us, sink); !st) return st;
  // A receipt may be what waiting orders wait for.
  if (const auto* receipt = std::get_if<ReceiveStock>(&body)) return allocate_on_receipt(state, *receipt, ctx, sink);
  return Ok{};
}

const char* command_name(const CommandBody& body) {
  static constexpr const char* names[] = {"define_region",     "define_warehouse", "define_dealer",
                                          "define_store",      "define_sku",       "receive_stock",
                                          "adjust_stock",      "ship_transfer",    "receive_transfer",
                                          "create_reservation", "post_reservation", "void_reservation",
                                          "issue_token",       "revoke_token",     "define_member",
                                          "place_order",       "approve_order",    "reject_order",
                                          "allocate_order",    "ship_order",       "deliver_order",
                                          "complete_order",    "cancel_order",     "return_order",
                                          "set_approval_policy", "set_sourcing_weights", "announce_presale_batch",
                                          "create_campaign",   "issue_coupons",    "record_payment",
                                          "set_credit_limit",  "change_prices",    "set_price_policy"};
  static_assert(std::size(names) == std::variant_size_v<CommandBody>);
  return names[body.index()];
}

}  // namespace ledger

// libFuzzer target: every endpoint's request decoder on arbitrary bytes. A decoder must return a
// command within the engine's limits or a 4xx error with a code, never crash or accept garbage.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decoders.hpp"
#include "ledger/limits.hpp"

using namespace ledger;
using namespace ledger::api;

namespace {

void check(const Decoded& d) {
  if (const auto* e = std::get_if<ApiError>(&d)) {
    if (e->status < 400 || e->status >= 500 || e->code.empty()) std::abort();
    return;
  }
  const CommandBody& body = std::get<CommandBody>(d);
  auto check_lines = [](const std::vector<StockLineInput>& lines) {
    if (lines.size() > limits::lines_max) std::abort();
    for (const auto& l : lines) {
      if (l.qty < 1 || l.qty > limits::qty_max) std::abort();
    }
  };
  if (const auto* c = std::get_if<ReceiveStock>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<ShipTransfer>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<CreateReservation>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<PostReservation>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<AdjustStock>(&body)) {
    if (c->qty_delta < -limits::qty_max || c->qty_delta > limits::qty_max) std::abort();
  }
  if (const auto* c = std::get_if<PlaceOrder>(&body)) {
    if (c->lines.size() > limits::lines_max || c->coupons.size() > 16) std::abort();
    for (const auto& l : c->lines) {
      if (l.qty < 1 || l.qty > limits::qty_max || l.unit_price_cents < 0 || l.unit_price_cents > limits::money_cents_max) {
        std::abort();
      }
    }
  }
  if (const auto* c = std::get_if<ShipOrder>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<ReturnOrder>(&body)) check_lines(c->lines);
  if (const auto* c = std::get_if<SetSourcingWeights>(&body)) {
    for (const auto& [name, w] : c->weights) {
      if (w < 0 || w > 1000) std::abort();
    }
  }
  if (const auto* c = std::get_if<DefineWarehouse>(&body)) {
    if (c->lat_e6 < -90'000'000 || c->lat_e6 > 90'000'000) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const char* kind : {"regions", "warehouses", "dealers", "stores", "skus"}) check(decode_master_data(kind, "X1", body));
  for (const char* what : {"receipts", "adjustments", "transfers", "reservations"}) check(decode_stock(what, body));
  check(decode_stock_action("transfers", "receive", "T1", body));
  check(decode_stock_action("reservations", "post", "R1", body));
  check(decode_stock_action("reservations", "void", "R1", body));
  check(decode_master_data("members", "M1", body));
  check(decode_order(body));
  check(decode_campaign(body));
  check(decode_coupons("C1", body));
  check(decode_payment(body));
  check(decode_credit_limit("D1", body));
  check(decode_bulk_prices(body));
  check(decode_price_policy(body));
  for (const char* action : {"approve", "reject", "allocate", "ship", "deliver", "complete", "cancel", "return"}) {
    check(decode_order_action(action, "O1", body));
  }
  for (const char* what : {"approval-policy", "weights", "presale-batches"}) check(decode_config(what, body));
  auto quote = decode_quote(body);
  if (const auto* q = std::get_if<QuoteRequest>(&quote)) {
    if (q->plans < 1 || q->plans > 10 || q->lines.size() > limits::lines_max) std::abort();
  } else if (std::get<ApiError>(quote).status != 400) {
    std::abort();
  }
  auto token = decode_token_request(body);
  if (const auto* e = std::get_if<ApiError>(&token); e != nullptr && e->code.empty()) std::abort();
  return 0;
}

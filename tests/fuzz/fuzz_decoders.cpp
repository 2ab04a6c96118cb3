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
  auto token = decode_token_request(body);
  if (const auto* e = std::get_if<ApiError>(&token); e != nullptr && e->code.empty()) std::abort();
  return 0;
}

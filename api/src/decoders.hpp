// Request bodies to commands: the strict decoding of every endpoint's JSON, separate from routing
// and scope checks so it can be tested and fuzzed on its own.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "api_error.hpp"
#include "ledger/commands.hpp"

namespace ledger::api {

using Decoded = std::variant<CommandBody, ApiError>;

// PUT /v1/{kind}/{id}: regions, warehouses, dealers, stores, skus.
Decoded decode_master_data(std::string_view kind, const std::string& id, std::string_view body);
// POST /v1/stock/{what}: receipts, adjustments, transfers, reservations.
Decoded decode_stock(std::string_view what, std::string_view body);
// POST /v1/stock/{transfers|reservations}/{id}/{action}.
Decoded decode_stock_action(std::string_view what, std::string_view action, const std::string& id, std::string_view body);

struct TokenRequest {
  std::string role, scope;
};
std::variant<TokenRequest, ApiError> decode_token_request(std::string_view body);

}  // namespace ledger::api

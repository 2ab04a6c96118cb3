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

// POST /v1/orders.
Decoded decode_order(std::string_view body);
// POST /v1/orders/{id}/{approve|reject|allocate|ship|deliver|complete|cancel|return}.
Decoded decode_order_action(std::string_view action, const std::string& id, std::string_view body);
// PUT /v1/approval-policy, PUT /v1/sourcing/weights, POST /v1/presale-batches.
Decoded decode_config(std::string_view what, std::string_view body);

// POST /v1/campaigns.
Decoded decode_campaign(std::string_view body);
// POST /v1/campaigns/{id}/coupons.
Decoded decode_coupons(const std::string& campaign, std::string_view body);
// POST /v1/payments.
Decoded decode_payment(std::string_view body);
// PUT /v1/dealers/{id}/credit-limit.
Decoded decode_credit_limit(const std::string& dealer, std::string_view body);
// POST /v1/prices:bulk.
Decoded decode_bulk_prices(std::string_view body);
// PUT /v1/price-policy.
Decoded decode_price_policy(std::string_view body);

// POST /v1/sourcing/quote: where an order would ship from (writes nothing).
struct QuoteRequest {
  std::string ship_to_region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
  std::vector<OrderLineInput> lines;  // unit prices unused
  std::int64_t promised_by_us = 0;
  std::string channel;
  bool allow_partial = false;
  std::vector<std::pair<std::string, std::int32_t>> weights;  // overrides, per mille
  std::size_t plans = 3;
};
std::variant<QuoteRequest, ApiError> decode_quote(std::string_view body);

struct TokenRequest {
  std::string role, scope;
};
std::variant<TokenRequest, ApiError> decode_token_request(std::string_view body);

}  // namespace ledger::api

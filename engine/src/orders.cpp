#include "ledger/orders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "enum_names.hpp"

namespace ledger {

namespace {
constexpr const char* status_names[] = {"placed",    "approved",  "allocated", "partially_shipped", "shipped",
                                        "delivered", "completed", "cancelled", "rejected"};
constexpr const char* type_names[] = {"spot", "presale", "reservation"};
constexpr std::string_view order_transit_prefix = "transit:order.";
}  // namespace

bool is_channel(std::string_view name) {
  return name == "regional_storefront" || name == "dealer_storefront" || name == "store" || name == "o2o";
}

const char* order_status_name(OrderStatus status) { return status_names[static_cast<std::size_t>(status)]; }

bool order_status_from_name(std::string_view name, OrderStatus& out) { return enum_from_name(status_names, name, out); }

const char* order_type_name(OrderType type) { return type_names[static_cast<std::size_t>(type)]; }

bool order_type_from_name(std::string_view name, OrderType& out) { return enum_from_name(type_names, name, out); }

std::string order_transit_location(std::string_view order_id) {
  return fmt::format("{}{}", order_transit_prefix, order_id);
}

std::string order_reservation_id(std::string_view order_id, std::uint32_t n) {
  return fmt::format("order.{}.{}", order_id, n);
}

std::string_view order_of_transit(std::string_view location) {
  if (location.substr(0, order_transit_prefix.size()) != order_transit_prefix) return {};
  return location.substr(order_transit_prefix.size());
}

std::int64_t OrderRecord::unallocated(std::string_view sku) const {
  auto u = units.find(sku);
  if (u == units.end()) return 0;
  auto h = held.find(sku);
  return u->second.ordered - (h == held.end() ? 0 : h->second) - u->second.shipped;
}

std::int64_t OrderRecord::in_transit(std::string_view sku) const {
  auto u = units.find(sku);
  return u == units.end() ? 0 : u->second.shipped - u->second.delivered;
}

bool OrderRecord::anything_shipped() const {
  for (const auto& [sku, u] : units) {
    if (u.shipped > 0) return true;
  }
  return false;
}

OrderStatus OrderRecord::status() const {
  if (rejected) return OrderStatus::rejected;
  if (cancelled) return OrderStatus::cancelled;
  if (completed) return OrderStatus::completed;
  std::int64_t ordered = 0, shipped = 0, delivered = 0, unallocated_total = 0;
  for (const auto& [sku, u] : units) {
    ordered += u.ordered;
    shipped += u.shipped;
    delivered += u.delivered;
    unallocated_total += unallocated(sku);
  }
  if (ordered > 0 && delivered == ordered) return OrderStatus::delivered;
  if (ordered > 0 && shipped == ordered) return OrderStatus::shipped;
  if (shipped > 0) return OrderStatus::partially_shipped;
  if (approvals_pending()) return OrderStatus::placed;
  return unallocated_total == 0 ? OrderStatus::allocated : OrderStatus::approved;
}

std::string OrderRecord::buyer_location() const {
  if (buyer.rfind("member:", 0) == 0) return "customer";
  return buyer;
}

std::int64_t floor_cents_for(const Prices& floors, std::string_view buyer) {
  if (buyer.rfind("dealer:", 0) == 0) return floors.wholesale_cents;
  if (buyer.rfind("store:", 0) == 0) return floors.supply_cents;
  return floors.retail_cents;
}

int dealer_health_tier(const DealerAccount& account, std::int64_t credit_limit_cents) {
  // Per mille, integer: the same tier on every machine.
  // Credit use is what the line carries: open orders less payments (never below zero).
  std::int64_t used = std::max<std::int64_t>(0, account.exposure_cents());
  std::int64_t credit_use = credit_limit_cents > 0 ? used * 1000 / credit_limit_cents : (used > 0 ? 2000 : 0);
  std::int64_t return_rate = account.delivered_units > 0 ? account.returned_units * 1000 / account.delivered_units : 0;
  if (credit_use <= 500 && return_rate <= 20) return 4;
  if (credit_use <= 800 && return_rate <= 50) return 3;
  if (credit_use <= 1000 && return_rate <= 100) return 2;
  return 1;
}

}  // namespace ledger

// Locations of the double-entry stock ledger and the id rules shared by every command.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/result.hpp"

namespace ledger {

enum class LocationKind { warehouse, dealer, store, transit, production, customer, adjustment };

struct Location {
  LocationKind kind;
  std::string id;  // empty for the virtual locations

  // Real locations hold physical stock and may never go below zero available.
  bool is_real() const {
    return kind == LocationKind::warehouse || kind == LocationKind::dealer ||
           kind == LocationKind::store || kind == LocationKind::transit;
  }
  std::string to_string() const;
};

// Parses "warehouse:W", "dealer:D", "store:S", "transit:T", "production", "customer", "adjustment".
Result<Location> parse_location(std::string_view text);

// Ids: 1..id_bytes_max bytes of [A-Za-z0-9._-]. `what` names the field in the error message.
Status check_id(std::string_view id, std::string_view what);
Status check_text(std::string_view text, std::string_view what, bool required);

std::string location_string(LocationKind kind, std::string_view id);
std::string transit_location(std::string_view transfer_id);

}  // namespace ledger

#include "ledger/result.hpp"

#include <fmt/format.h>

namespace ledger {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::unknown_id: return "unknown_id";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::insufficient_stock: return "insufficient_stock";
    case ErrorCode::illegal_transition: return "illegal_transition";
    case ErrorCode::idempotency_mismatch: return "idempotency_mismatch";
    case ErrorCode::storage_full: return "storage_full";
    case ErrorCode::storage_error: return "storage_error";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::overloaded: return "overloaded";
    case ErrorCode::shutting_down: return "shutting_down";
    case ErrorCode::rule_violation: return "rule_violation";
    case ErrorCode::forbidden: return "forbidden";
  }
  return "unknown";
}

std::int64_t Error::number(std::string_view key, std::int64_t fallback) const {
  for (const auto& d : details) {
    if (d.key == key && std::holds_alternative<std::int64_t>(d.value)) return std::get<std::int64_t>(d.value);
  }
  return fallback;
}

std::string Error::to_string() const {
  std::string out = fmt::format("{}: {}", error_code_name(code), message);
  for (const auto& d : details) {
    if (std::holds_alternative<std::int64_t>(d.value)) {
      out += fmt::format(" {}={}", d.key, std::get<std::int64_t>(d.value));
    } else {
      out += fmt::format(" {}={}", d.key, std::get<std::string>(d.value));
    }
  }
  return out;
}

}  // namespace ledger

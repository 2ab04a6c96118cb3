#include "ledger/location.hpp"

#include <fmt/format.h>

#include "ledger/limits.hpp"

namespace ledger {

namespace {

struct Prefix {
  std::string_view text;
  LocationKind kind;
};
constexpr Prefix real_prefixes[] = {
    {"warehouse:", LocationKind::warehouse},
    {"dealer:", LocationKind::dealer},
    {"store:", LocationKind::store},
    {"transit:", LocationKind::transit},
};
constexpr Prefix virtual_names[] = {
    {"production", LocationKind::production},
    {"customer", LocationKind::customer},
    {"adjustment", LocationKind::adjustment},
};

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

std::string Location::to_string() const {
  for (const auto& v : virtual_names) {
    if (v.kind == kind) return std::string(v.text);
  }
  for (const auto& p : real_prefixes) {
    if (p.kind == kind) return fmt::format("{}{}", p.text, id);
  }
  return id;
}

std::string location_string(LocationKind kind, std::string_view id) {
  return Location{kind, std::string(id)}.to_string();
}

std::string transit_location(std::string_view transfer_id) {
  return fmt::format("transit:{}", transfer_id);
}

Result<Location> parse_location(std::string_view text) {
  for (const auto& v : virtual_names) {
    if (text == v.text) return Location{v.kind, {}};
  }
  for (const auto& p : real_prefixes) {
    if (text.substr(0, p.text.size()) == p.text) {
      std::string_view id = text.substr(p.text.size());
      if (auto s = check_id(id, "location id"); !s) return s.take_error();
      return Location{p.kind, std::string(id)};
    }
  }
  return make_error(ErrorCode::invalid_argument,
                    fmt::format("'{}' is not a location: use warehouse:ID, dealer:ID, store:ID, "
                                "transit:ID, production, customer or adjustment",
                                text.substr(0, limits::id_bytes_max * 2)))
      .with("field", "location");
}

Status check_id(std::string_view id, std::string_view what) {
  if (id.empty()) {
    return make_error(ErrorCode::invalid_argument, fmt::format("{} is empty", what)).with("field", std::string(what));
  }
  if (id.size() > limits::id_bytes_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("{} is {} bytes long; at most {}", what, id.size(), limits::id_bytes_max))
        .with("field", std::string(what));
  }
  for (char c : id) {
    if (!id_char(c)) {
      return make_error(ErrorCode::invalid_argument,
                        fmt::format("{} '{}' has a character outside [A-Za-z0-9._-]", what, id))
          .with("field", std::string(what));
    }
  }
  return Ok{};
}

Status check_text(std::string_view text, std::string_view what, bool required) {
  if (required && text.empty()) {
    return make_error(ErrorCode::invalid_argument, fmt::format("{} is empty", what)).with("field", std::string(what));
  }
  if (text.size() > limits::text_bytes_max) {
    return make_error(ErrorCode::invalid_argument,
                      fmt::format("{} is {} bytes long; at most {}", what, text.size(), limits::text_bytes_max))
        .with("field", std::string(what));
  }
  return Ok{};
}

}  // namespace ledger

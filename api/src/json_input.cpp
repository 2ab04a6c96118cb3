#include "json_input.hpp"

#include <cmath>

#include "ledger/limits.hpp"

namespace ledger::api {

namespace {
// Deeper documents are never legitimate here: the deepest body (lines inside an object) is 3 levels.
constexpr std::size_t json_depth_max = 16;
}  // namespace

JsonReader::JsonReader(std::string_view body) : error_(&own_error_) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    owned_ = boost::json::object{};
  } else {
    boost::json::parse_options options;
    options.max_depth = json_depth_max;
    boost::system::error_code ec;
    owned_ = boost::json::parse(body, ec, {}, options);
    if (ec) {
      own_error_ = bad_request("malformed_json", "the body is not valid JSON: " + ec.message());
      owned_ = boost::json::object{};
    } else if (!owned_.is_object()) {
      own_error_ = bad_request("malformed_json", "the body must be a JSON object");
      owned_ = boost::json::object{};
    }
  }
  object_ = &owned_.get_object();
}

JsonReader::JsonReader(const boost::json::object& object, std::string path, std::optional<ApiError>* error)
    : object_(&object), path_(std::move(path)), error_(error != nullptr ? error : &own_error_) {}

void JsonReader::fail(std::string code, std::string message, std::string_view field) {
  if (!error_->has_value()) *error_ = bad_request(std::move(code), std::move(message), name(field));
}

const boost::json::value* JsonReader::get(std::string_view field, bool required) {
  read_.emplace(field);
  if (failed()) return nullptr;
  auto it = object_->find(field);
  if (it == object_->end() || it->value().is_null()) {
    if (required) fail("missing_field", name(field) + " is required", field);
    return nullptr;
  }
  return &it->value();
}

std::string JsonReader::str(std::string_view field, bool required) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return {};
  if (!v->is_string()) {
    fail("wrong_type", name(field) + " must be a string", field);
    return {};
  }
  return std::string(v->get_string());
}

std::int64_t JsonReader::integer(std::string_view field, bool required, std::int64_t min, std::int64_t max,
                                 std::int64_t fallback) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return fallback;
  std::int64_t value = 0;
  if (v->is_int64()) {
    value = v->get_int64();
  } else if (v->is_uint64()) {
    value = std::numeric_limits<std::int64_t>::max();  // beyond int64: out of range below
  } else {
    fail("wrong_type", name(field) + " must be an integer", field);
    return fallback;
  }
  if (value < min || value > max || v->is_uint64()) {
    fail("out_of_range", name(field) + " must be between " + std::to_string(min) + " and " + std::to_string(max), field);
    return fallback;
  }
  return value;
}

bool JsonReader::boolean(std::string_view field, bool required, bool fallback) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) {
    fail("wrong_type", name(field) + " must be true or false", field);
    return false;
  }
  return v->get_bool();
}

double JsonReader::number(std::string_view field, bool required, double min, double max) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return 0;
  if (!v->is_number()) {
    fail("wrong_type", name(field) + " must be a number", field);
    return 0;
  }
  double value = v->to_number<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    fail("out_of_range", name(field) + " must be between " + std::to_string(min) + " and " + std::to_string(max), field);
    return 0;
  }
  return value;
}

std::vector<std::string> JsonReader::strings(std::string_view field, bool required, std::size_t max_items) {
  std::vector<std::string> out;
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    fail("wrong_type", name(field) + " must be an array of strings", field);
    return out;
  }
  if (v->get_array().size() > max_items) {
    fail("too_many", name(field) + " has more than " + std::to_string(max_items) + " items", field);
    return out;
  }
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      fail("wrong_type", name(field) + " must be an array of strings", field);
      return {};
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

std::vector<StockLineInput> JsonReader::lines(std::string_view field, bool required) {
  std::vector<StockLineInput> out;
  objects(field, required, limits::lines_max, [&](JsonReader& line) {
    StockLineInput l;
    l.sku = line.str("sku");
    l.qty = line.integer("qty", true, 1, limits::qty_max);
    l.lot = line.str("lot", false);
    out.push_back(std::move(l));
  });
  return out;
}

std::optional<ApiError> JsonReader::finish() {
  if (failed()) return *error_;
  for (const auto& kv : *object_) {
    if (read_.count(std::string_view(kv.key())) == 0) {
      std::string field = name(std::string_view(kv.key()));
      return bad_request("unknown_field", "unknown field '" + field + "'", field);
    }
  }
  return std::nullopt;
}

}  // namespace ledger::api

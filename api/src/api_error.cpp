#include "api_error.hpp"

#include "ledger/event_json.hpp"

namespace ledger::api {

ApiError from_engine(const Error& e) {
  ApiError out;
  out.code = std::string(error_code_name(e.code));
  out.message = e.message;
  out.details = e.details;
  switch (e.code) {
    case ErrorCode::invalid_argument: out.status = 400; break;
    case ErrorCode::unknown_id: out.status = 404; break;
    case ErrorCode::already_exists:
    case ErrorCode::illegal_transition:
    case ErrorCode::idempotency_mismatch: out.status = 409; break;
    case ErrorCode::insufficient_stock:
    case ErrorCode::rule_violation: out.status = 422; break;
    case ErrorCode::forbidden: out.status = 403; break;
    case ErrorCode::overloaded:
    case ErrorCode::shutting_down:
    case ErrorCode::storage_full:
    case ErrorCode::storage_error:
      out.status = 503;
      out.retry_after_s = e.code == ErrorCode::overloaded ? 1 : 30;
      break;
    case ErrorCode::corruption: out.status = 500; break;
  }
  return out;
}

ApiError bad_request(std::string code, std::string message, std::string field) {
  ApiError e{400, std::move(code), std::move(message), {}, 0};
  if (!field.empty()) e.details.push_back({"field", std::move(field)});
  return e;
}

std::string error_body(const ApiError& e) {
  std::string out = "{\"error\":{\"code\":";
  append_json_string(out, e.code);
  out += ",\"message\":";
  append_json_string(out, e.message);
  out += ",\"details\":{";
  bool first = true;
  for (const auto& d : e.details) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, d.key);
    out += ':';
    if (std::holds_alternative<std::int64_t>(d.value)) {
      out += std::to_string(std::get<std::int64_t>(d.value));
    } else {
      append_json_string(out, std::get<std::string>(d.value));
    }
  }
  out += "}}}";
  return out;
}

}  // namespace ledger::api

// Errors at the HTTP boundary: a status, a stable code and a sentence (API.md, "Errors").
#pragma once

#include <string>
#include <vector>

#include "ledger/result.hpp"

namespace ledger::api {

struct ApiError {
  unsigned status = 500;
  std::string code;
  std::string message;
  std::vector<ErrorDetail> details;
  unsigned retry_after_s = 0;  // set on 429/503
};

// Engine errors mapped to HTTP: input errors 400, unknown ids 404, conflicts 409, business rules
// 422, storage trouble and overload 503 with Retry-After.
ApiError from_engine(const Error& error);
ApiError bad_request(std::string code, std::string message, std::string field = {});
std::string error_body(const ApiError& error);

}  // namespace ledger::api

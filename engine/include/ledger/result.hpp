// Errors as values at module boundaries (after leveldb::Status): a success costs nothing,
// a failure carries a stable machine code, a sentence for people and structured details.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ledger {

enum class ErrorCode {
  invalid_argument,     // malformed command: bad id, quantity out of range, empty lines ...
  unknown_id,           // names a region, SKU, location, transfer ... that does not exist
  already_exists,       // creates something whose id is taken
  insufficient_stock,   // would take a real location's available stock below zero
  illegal_transition,   // the thing exists but its state does not allow this
  idempotency_mismatch, // command id seen before with a different body
  storage_full,         // map or disk full: nothing written; free space or raise the map limit
  storage_error,        // any other storage failure: nothing written
  corruption,           // the log failed verification; details name the sequence number
  overloaded,           // the writer queue is full: retry later
  shutting_down,        // the engine is closing: the command was not applied
  rule_violation,       // well-formed, but a business rule says no (territory, quota, coupon ...)
  forbidden,            // the actor's role or scope does not allow it
};

std::string_view error_code_name(ErrorCode code);

struct ErrorDetail {
  std::string key;
  std::variant<std::int64_t, std::string> value;
};

struct Error {
  ErrorCode code;
  std::string message;
  std::vector<ErrorDetail> details;

  Error& with(std::string key, std::int64_t value) {
    details.push_back({std::move(key), value});
    return *this;
  }
  Error& with(std::string key, std::string value) {
    details.push_back({std::move(key), std::move(value)});
    return *this;
  }
  // The number stored under `key`, or `fallback` (tests and the CLI read sequence numbers this way).
  std::int64_t number(std::string_view key, std::int64_t fallback = -1) const;
  std::string to_string() const;
};

// Result<T>: either a T or an Error. Result<void> is a status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit on purpose, like std::expected
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const { assert(!ok()); return std::get<1>(state_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

struct Ok {};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}  // NOLINT
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }
  Error&& take_error() { assert(failed_); return std::move(error_); }

 private:
  Error error_{ErrorCode::invalid_argument, {}, {}};
  bool failed_ = false;
};

using Status = Result<void>;

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}};
}

}  // namespace ledger

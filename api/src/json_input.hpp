// Strict JSON input: every field is read with its type checked, and finish() rejects any field
// that was not read, naming it, so a typo never passes silently (API.md).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api_error.hpp"
#include "ledger/commands.hpp"

namespace ledger::api {

// Decoding stops at the first error; later reads return empty values and finish() reports it.
class JsonReader {
 public:
  // An empty body reads as {} (for POSTs like /receive that take no fields).
  explicit JsonReader(std::string_view body);
  JsonReader(const boost::json::object& object, std::string path, std::optional<ApiError>* error);
  JsonReader(const JsonReader&) = delete;  // holds pointers into itself
  JsonReader& operator=(const JsonReader&) = delete;

  std::string str(std::string_view field, bool required = true);
  std::int64_t integer(std::string_view field, bool required, std::int64_t min, std::int64_t max,
                       std::int64_t fallback = 0);
  double number(std::string_view field, bool required, double min, double max);
  bool boolean(std::string_view field, bool required, bool fallback = false);
  std::vector<std::string> strings(std::string_view field, bool required, std::size_t max_items);
  // Calls `each(reader)` for every object of an array field.
  template <typename F>
  void objects(std::string_view field, bool required, std::size_t max_items, F&& each);
  template <typename F>
  void object(std::string_view field, bool required, F&& each);

  // Lines of stock: [{sku, qty, lot?}].
  std::vector<StockLineInput> lines(std::string_view field, bool required);

  // Rejects unread fields; returns the first error of the whole decode.
  std::optional<ApiError> finish();
  bool failed() const { return error_->has_value(); }

 private:
  const boost::json::value* get(std::string_view field, bool required);
  void fail(std::string code, std::string message, std::string_view field);
  std::string name(std::string_view field) const { return path_.empty() ? std::string(field) : path_ + "." + std::string(field); }

  boost::json::value owned_;  // the parsed document (root reader only)
  const boost::json::object* object_ = nullptr;
  std::string path_;
  std::set<std::string, std::less<>> read_;
  std::optional<ApiError> own_error_;
  std::optional<ApiError>* error_;
};

template <typename F>
void JsonReader::objects(std::string_view field, bool required, std::size_t max_items, F&& each) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return;
  if (!v->is_array()) return fail("wrong_type", name(field) + " must be an array", field);
  const auto& array = v->get_array();
  if (array.size() > max_items) {
    return fail("too_many", name(field) + " has more than " + std::to_string(max_items) + " items", field);
  }
  for (std::size_t i = 0; i < array.size() && !failed(); ++i) {
    std::string item = name(field) + "[" + std::to_string(i) + "]";
    if (!array[i].is_object()) return fail("wrong_type", item + " must be an object", field);
    JsonReader reader(array[i].get_object(), item, error_);
    each(reader);
    if (!failed()) {
      if (auto e = reader.finish()) *error_ = e;
    }
  }
}

template <typename F>
void JsonReader::object(std::string_view field, bool required, F&& each) {
  const boost::json::value* v = get(field, required);
  if (v == nullptr) return;
  if (!v->is_object()) return fail("wrong_type", name(field) + " must be an object", field);
  JsonReader reader(v->get_object(), name(field), error_);
  each(reader);
  if (!failed()) {
    if (auto e = reader.finish()) *error_ = e;
  }
}

}  // namespace ledger::api

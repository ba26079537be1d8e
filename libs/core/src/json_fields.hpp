#pragma once
// JSON field rules shared by core's decoders (events, label records): how a label is read,
// how duplicate fields are found, how a field is named in a reason. Private to core, like
// simdjson itself (included only by src/*.cpp).

#include "streamlearn/core/json_text.hpp"
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::json_fields {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Parses one message as a JSON object within size and depth limits, reusing its buffers.
// `what` names the expected object in the reason ("event", "label record").
class JsonObjectParser {
 public:
  JsonObjectParser(size_t max_payload_bytes, size_t max_depth) : max_payload_bytes_(max_payload_bytes) {
    // Fails only on out-of-memory; parse() then reports it for every message.
    alloc_error_ = parser_.allocate(max_payload_bytes, max_depth);
  }

  // `readable_after`: bytes past the payload's end that may be read (never written). With
  // SIMDJSON_PADDING of them simdjson parses the payload where it is (it reads the padding
  // but does not look at its content); with fewer the payload is copied into a padded buffer.
  Status parse(std::string_view payload, std::string_view what, simdjson::dom::object* out,
               size_t readable_after = 0) {
    if (alloc_error_) return Status::Internal("JSON parser: " + std::string(simdjson::error_message(alloc_error_)));
    if (payload.empty()) return Status::Invalid("empty payload");
    if (payload.size() > max_payload_bytes_) {
      return Status::Invalid("payload of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                             std::to_string(max_payload_bytes_));
    }
    const char* text = payload.data();
    if (readable_after < simdjson::SIMDJSON_PADDING) {
      // simdjson reads SIMDJSON_PADDING bytes past the end.
      if (padded_.size() < payload.size() + simdjson::SIMDJSON_PADDING) {
        padded_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
      }
      std::copy(payload.begin(), payload.end(), padded_.begin());
      text = padded_.data();
      ++copied_;
    }
    element root;
    if (auto err = parser_.parse(text, payload.size(), false).get(root)) {
      return Status::Invalid(std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    if (root.get(*out)) return Status::Invalid(std::string(what) + " must be a JSON object");
    return Status::Ok();
  }

  // Payloads parsed from the padded copy (the rest were parsed in place).
  uint64_t copied() const { return copied_; }

 private:
  size_t max_payload_bytes_;
  uint64_t copied_ = 0;
  simdjson::dom::parser parser_;
  simdjson::error_code alloc_error_ = simdjson::SUCCESS;
  std::vector<char> padded_;
};


inline std::string Quote(std::string_view name) { return QuoteForReason(name); }

// Returns false when `key` already appeared in `seen` (small linear scan: records carry few fields).
inline bool FirstTime(std::vector<std::string_view>& seen, std::string_view key) {
  for (std::string_view k : seen) {
    // The names of one record often share their length and first letters ("x1", "x2"):
    // the last character tells most apart without a call to memcmp.
    if (k.size() == key.size() && (key.empty() || k.back() == key.back()) && k == key) return false;
  }
  seen.push_back(key);
  return true;
}

inline Status ReadNumber(element v, double* out) {
  double d = 0;
  switch (v.type()) {
    case element_type::INT64: d = static_cast<double>(v.get_int64().value_unsafe()); break;
    case element_type::UINT64: d = static_cast<double>(v.get_uint64().value_unsafe()); break;
    case element_type::DOUBLE: d = v.get_double().value_unsafe(); break;
    default: return Status::Invalid("not a number");
  }
  if (!std::isfinite(d)) return Status::Invalid("not a finite number");
  *out = d;
  return Status::Ok();
}

// The value of a 'label' field: booleans and 0/1 are binary, other finite numbers real,
// non-empty strings classes. null is "unlabelled" where `null_allowed` (events) and an
// error otherwise (label records). Written in place: *out is empty after an error.
inline Status ReadLabel(element v, bool null_allowed, std::optional<Label>* out) {
  out->reset();
  switch (v.type()) {
    case element_type::NULL_VALUE:
      if (null_allowed) return Status::Ok();
      return Status::Invalid("field 'label' must be a number, boolean or string, not null");
    case element_type::BOOL: {
      Label& label = out->emplace();
      label.kind = Label::Kind::kBinary;
      label.value = v.get_bool().value_unsafe() ? 1 : 0;
      return Status::Ok();
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      double d = 0;
      if (!ReadNumber(v, &d).ok()) {
        return Status::Invalid("field 'label' is not a finite number");
      }
      Label& label = out->emplace();
      label.value = d;
      label.kind = (d == 0 || d == 1) ? Label::Kind::kBinary : Label::Kind::kReal;
      return Status::Ok();
    }
    case element_type::STRING: {
      std::string_view s = v.get_string().value_unsafe();
      if (s.empty()) return Status::Invalid("field 'label' is an empty string");
      Label& label = out->emplace();
      label.kind = Label::Kind::kClass;
      label.class_name.assign(s);
      return Status::Ok();
    }
    default:
      return Status::Invalid(null_allowed
                                 ? "field 'label' must be a number, boolean, string or null"
                                 : "field 'label' must be a number, boolean or string");
  }
}

}  // namespace streamlearn::json_fields

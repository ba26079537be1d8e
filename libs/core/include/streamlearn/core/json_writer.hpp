#pragma once
// A small JSON writer for everything off the per-event path (drift events, `model inspect`,
// status): objects, arrays, keys, strings, numbers, booleans, with commas placed for you.
//
// Numbers have ONE form everywhere (AppendJsonDouble): the shortest digits that read back
// as the same double, in plain decimals for decimal exponents -4 to 15 and as d.ddde±XX
// beyond, NaN and infinities as null. It is the form fmt's "{}" writes, which predictions
// and drift events have always had, so records keep their bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamlearn {

// The one number form (see above), appended to `out`; allocation-free once `out` has grown.
void AppendJsonDouble(std::string& out, double value);
// The same text written at `at`, which has room for kJsonDoubleMaxChars; returns its end.
// For encoders that write a whole record into space reserved once.
inline constexpr size_t kJsonDoubleMaxChars = 32;
char* WriteJsonDouble(char* at, double value);
// The decimal digits of `value` written at `at` (room for 20); returns their end.
char* WriteJsonUnsigned(char* at, uint64_t value);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The next value's key (inside an object).
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view value);
  JsonWriter& number(double value);  // null when not finite
  JsonWriter& integer(int64_t value);
  JsonWriter& unsigned_integer(uint64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // A value that is JSON text already (e.g. a nested record), written as it is.
  JsonWriter& raw(std::string_view json);

  // key(name) then the value, for the common case.
  JsonWriter& field(std::string_view name, std::string_view value) { return key(name).string(value); }
  JsonWriter& field(std::string_view name, const char* value) { return key(name).string(value); }
  JsonWriter& field(std::string_view name, double value) { return key(name).number(value); }
  JsonWriter& field(std::string_view name, int64_t value) { return key(name).integer(value); }
  JsonWriter& field(std::string_view name, uint64_t value) { return key(name).unsigned_integer(value); }
  JsonWriter& field(std::string_view name, bool value) { return key(name).boolean(value); }

  std::string& out() { return *out_; }

 private:
  void separate();  // a comma before any value or key but the first in its container

  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace streamlearn

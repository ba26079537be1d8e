#include "streamlearn/core/json_writer.hpp"

#include <charconv>
#include <cmath>

#include "streamlearn/core/json_text.hpp"

namespace streamlearn {

void AppendJsonDouble(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e±XX.
  char sci[32];
  const char* end = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific).ptr;
  const std::string_view text(sci, static_cast<size_t>(end - sci));
  const size_t e_pos = text.find('e');
  int exponent = 0;
  std::from_chars(text.data() + e_pos + (text[e_pos + 1] == '+' ? 2 : 1), end, exponent);
  if (exponent < -4 || exponent > 15) {
    out.append(text);
    return;
  }
  const bool negative = text[0] == '-';
  // The significant digits without sign and point.
  char digits[24];
  size_t n = 0;
  for (size_t i = negative ? 1 : 0; i < e_pos; ++i) {
    if (text[i] != '.') digits[n++] = text[i];
  }
  if (negative) out.push_back('-');
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out.append(digits, n);
    return;
  }
  const size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (n <= integer_digits) {
    out.append(digits, n);
    out.append(integer_digits - n, '0');
    return;
  }
  out.append(digits, integer_digits);
  out.push_back('.');
  out.append(digits + integer_digits, n - integer_digits);
}

void JsonWriter::separate() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = false;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_->push_back('{');
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_->push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_->push_back('[');
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_->push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  AppendJsonString(*out_, name);
  out_->push_back(':');
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  separate();
  AppendJsonString(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::number(double value) {
  separate();
  AppendJsonDouble(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  separate();
  AppendJsonInteger(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::unsigned_integer(uint64_t value) {
  separate();
  AppendJsonUnsigned(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  separate();
  out_->append(value ? "true" : "false");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_->append("null");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_->append(json);
  need_comma_ = true;
  return *this;
}

}  // namespace streamlearn

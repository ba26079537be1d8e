#include "streamlearn/core/json_writer.hpp"

// fmt::detail::dragonbox::to_decimal: fmt's own shortest digits (libfmt exports it), so the
// text is fmt's "{}" without its general layout code. The tests compare with fmt's text.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "streamlearn/core/json_text.hpp"

namespace streamlearn {

namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The 8 digits of y < 10^8, zeros in front, at [at, at + 8): 32-bit halves and quarters,
// a few multiplications instead of one 64-bit division by 100 per pair.
inline void Put8Digits(char* at, uint32_t y) {
  const uint32_t high = y / 10000, low = y % 10000;
  std::memcpy(at, kDigitPairs + 2 * (high / 100), 2);
  std::memcpy(at + 2, kDigitPairs + 2 * (high % 100), 2);
  std::memcpy(at + 4, kDigitPairs + 2 * (low / 100), 2);
  std::memcpy(at + 6, kDigitPairs + 2 * (low % 100), 2);
}

// The decimal digits of `value`, written to end at `end`.
inline void PutDigitsBefore(char* end, uint64_t value) {
  while (value >= 100000000) {
    end -= 8;
    Put8Digits(end, static_cast<uint32_t>(value % 100000000));
    value /= 100000000;
  }
  auto rest = static_cast<uint32_t>(value);
  while (rest >= 100) {
    end -= 2;
    std::memcpy(end, kDigitPairs + 2 * (rest % 100), 2);
    rest /= 100;
  }
  if (rest >= 10) {
    std::memcpy(end - 2, kDigitPairs + 2 * rest, 2);
  } else {
    end[-1] = static_cast<char>('0' + rest);
  }
}

inline int CountDigits(uint64_t value) {
  static constexpr uint64_t kPowersOf10[] = {1,
                                             10,
                                             100,
                                             1000,
                                             10000,
                                             100000,
                                             1000000,
                                             10000000,
                                             100000000,
                                             1000000000,
                                             10000000000,
                                             100000000000,
                                             1000000000000,
                                             10000000000000,
                                             100000000000000,
                                             1000000000000000,
                                             10000000000000000,
                                             100000000000000000,
                                             1000000000000000000,
                                             10000000000000000000u};
  value |= 1;  // 0 has one digit; setting the last bit changes no other number's count
  // floor(log10(2) * bit length) is the digit count or one more than it.
  const int guess = (static_cast<int>(std::bit_width(value)) * 1233) >> 12;
  return guess + 1 - (value < kPowersOf10[guess] ? 1 : 0);
}

}  // namespace

char* WriteJsonDouble(char* at, double value) {
  if (!std::isfinite(value)) {
    static constexpr char kNull[] = "null";
    return std::copy(kNull, kNull + 4, at);
  }
  // Dragonbox's shortest round-trip digits (fmt's own, which "{}" writes), laid out as fmt's
  // "{}" lays them out (see the header) with none of its general formatting's choices
  // (width, precision, locale): at most 24 characters, "-2.2250738585072014e-308".
  if (std::signbit(value)) {
    *at++ = '-';
    value = -value;
  }
  const auto decimal = fmt::detail::dragonbox::to_decimal(value);  // {0, 0} for zero
  const uint64_t significand = decimal.significand;
  const int exponent = decimal.exponent;
  const int digits = CountDigits(significand);
  const int point = exponent + digits;  // digits before the decimal point
  if (point - 1 < -4 || point - 1 >= 16) {
    // d[.ddd]e±XX: the digits one place on, then the first moved before the point.
    PutDigitsBefore(at + 1 + digits, significand);
    at[0] = at[1];
    if (digits > 1) {
      at[1] = '.';
      at += 1 + digits;
    } else {
      at += 1;
    }
    *at++ = 'e';
    int e = point - 1;
    *at++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e >= 100) {
      *at++ = static_cast<char>('0' + e / 100);
      e %= 100;
    }
    std::memcpy(at, kDigitPairs + 2 * e, 2);
    return at + 2;
  }
  if (exponent >= 0) {  // an integer: its digits, then `exponent` zeros
    PutDigitsBefore(at + digits, significand);
    at += digits;
    for (int i = 0; i < exponent; ++i) *at++ = '0';
    return at;
  }
  if (point > 0) {  // 12.34: the digits one place on, the integer part moved back before the point
    PutDigitsBefore(at + 1 + digits, significand);
    for (int i = 0; i < point; ++i) at[i] = at[i + 1];
    at[point] = '.';
    return at + 1 + digits;
  }
  // 0.0012: "0." and -point zeros before the digits.
  *at++ = '0';
  *at++ = '.';
  for (int i = 0; i < -point; ++i) *at++ = '0';
  PutDigitsBefore(at + digits, significand);
  return at + digits;
}

char* WriteJsonUnsigned(char* at, uint64_t value) {
  const int digits = CountDigits(value);
  PutDigitsBefore(at + digits, value);
  return at + digits;
}

void AppendJsonDouble(std::string& out, double value) {
  char buf[kJsonDoubleMaxChars];
  const char* end = WriteJsonDouble(buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
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

#include "streamlearn/core/config_values.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace streamlearn {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Got(std::string_view expected, std::string_view text) {
  return Status::Invalid(std::string(expected) + ", got '" + std::string(text) + "'");
}

Status Keyed(std::string_view key, const Status& status) {
  return Status::Invalid(std::string(key) + ": " + status.message());
}

// A parsed whole number of a key, inside [lo, hi] (`unit` follows each bound in the error).
Result<int64_t> Bounded(std::string_view key, std::string_view text, Result<int64_t> v, int64_t lo, int64_t hi,
                        std::string_view unit) {
  if (!v.ok()) return Keyed(key, v.status());
  if (*v < lo || *v > hi) {
    return Status::Invalid(std::string(key) + ": must be between " + std::to_string(lo) + std::string(unit) + " and " +
                           std::to_string(hi) + std::string(unit) + ", got " + std::string(Trim(text)));
  }
  return v;
}

// from_chars takes '-' but not '+'; YAML writes both.
std::string_view WithoutPlus(std::string_view t) {
  if (t.size() > 1 && t.front() == '+' && t[1] != '-' && t[1] != '+') t.remove_prefix(1);
  return t;
}

bool OneOf(std::string_view t, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (t == w) return true;
  }
  return false;
}

// The whole text (trimmed, a leading '+' allowed) as one T, or what was `expected`.
template <typename T>
Result<T> FromChars(std::string_view text, std::string_view expected) {
  const std::string_view t = WithoutPlus(Trim(text));
  T v{};
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return Got(expected, text);
  return v;
}

}  // namespace

Result<int64_t> ParseInteger(std::string_view text) { return FromChars<int64_t>(text, "expected an integer"); }

Result<double> ParseNumber(std::string_view text) { return FromChars<double>(text, "expected a number"); }

Result<bool> ParseBool(std::string_view text, BoolWords words) {
  const std::string_view t = Trim(text);
  if (OneOf(t, {"true", "True", "TRUE", "1"})) return true;
  if (OneOf(t, {"false", "False", "FALSE", "0"})) return false;
  if (words == BoolWords::kYaml) {
    if (OneOf(t, {"yes", "Yes", "YES", "on", "On", "ON"})) return true;
    if (OneOf(t, {"no", "No", "NO", "off", "Off", "OFF"})) return false;
  }
  return Got("expected true or false", text);
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  const auto bad = [&] { return Got("expected a duration such as 500ms, 30s, 15m, 2h or 7d", text); };
  const std::string_view t = Trim(text);
  size_t digits = 0;
  while (digits < t.size() && ((t[digits] >= '0' && t[digits] <= '9') || t[digits] == '.')) ++digits;
  double n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + digits, n);
  if (digits == 0 || ec != std::errc() || end != t.data() + digits) return bad();
  const std::string_view unit = t.substr(digits);
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return bad();
  const double ms = n * scale;
  // Whole milliseconds only: "0.5ms" or "1.0001s" would be rounded silently.
  if (ms > static_cast<double>(kMaxDurationMs) || ms != std::floor(ms)) return bad();
  return static_cast<int64_t>(ms);
}

Result<size_t> ParseChoice(std::string_view text, std::span<const std::string_view> names) {
  std::string allowed;
  size_t index = 0;
  for (std::string_view name : names) {
    if (text == name) return index;
    allowed += allowed.empty() ? "" : ", ";
    allowed += name;
    ++index;
  }
  return Got("must be one of " + allowed, text);
}

Result<int64_t> IntegerValue(std::string_view key, std::string_view text, int64_t lo, int64_t hi) {
  return Bounded(key, text, ParseInteger(text), lo, hi, "");
}

Result<double> NumberValue(std::string_view key, std::string_view text, const NumberRange& range) {
  auto v = ParseNumber(text);
  if (!v.ok() || !std::isfinite(*v)) return Keyed(key, Got("expected a number", text));
  const bool above = range.lo_open ? *v > range.lo : *v >= range.lo;
  const bool below = range.hi_open ? *v < range.hi : *v <= range.hi;
  if (!above || !below) return Status::Invalid(std::string(key) + ": out of range, got " + std::string(Trim(text)));
  return v;
}

Result<bool> BoolValue(std::string_view key, std::string_view text, BoolWords words) {
  auto v = ParseBool(text, words);
  if (!v.ok()) return Keyed(key, v.status());
  return v;
}

Result<int64_t> DurationValue(std::string_view key, std::string_view text, int64_t min_ms, int64_t max_ms) {
  return Bounded(key, text, ParseDurationMs(text), min_ms, max_ms, "ms");
}

Result<size_t> ChoiceValue(std::string_view key, std::string_view text, std::span<const std::string_view> names) {
  auto v = ParseChoice(text, names);
  if (!v.ok()) return Keyed(key, v.status());
  return v;
}

Result<std::string> StringValue(std::string_view key, std::string_view text, size_t max_length, EmptyString empty) {
  if (text.empty() && empty == EmptyString::kRefused) return Status::Invalid(std::string(key) + ": must not be empty");
  if (text.size() > max_length) {
    return Status::Invalid(std::string(key) + ": must be at most " + std::to_string(max_length) +
                           " characters, got " + std::to_string(text.size()));
  }
  return std::string(text);
}

}  // namespace streamlearn

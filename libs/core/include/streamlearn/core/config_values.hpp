#pragma once
// The one grammar of config values, for every section (pipeline file and environment,
// features, model settings, detector parameters, CLI durations).
//
// Every reader ignores spaces and tabs around the text. The grammar:
//   integer   [+|-]digits                      "42", "-3", "+7"
//   number    [+|-]decimal or exponent form    "0.5", "1e-3", "+2", ".5"; also nan and inf,
//             which NumberValue refuses (a value must be finite) and a caller with its own
//             finiteness check may take
//   bool      true|false|yes|no|on|off (lower case, Capitalised or UPPER) and 1|0, as YAML
//             1.1 reads them; BoolWords::kTrueFalse takes only true|false and 1|0 (any case)
//   duration  a whole number of milliseconds written as <number><unit>, unit one of ms, s,
//             m, h, d ("500ms", "30s", "1.5m", "2h", "7d"); a bare number is seconds; from
//             0 to 2^53 ms
//   choice    one of a list of names, exactly as listed
//   string    any text up to a length limit (kNameMaxLength by default), not empty unless
//             allowed
//
// The *Value functions check a value of a key: their errors name the key first
// ("kafka.batch_size: must be between 1 and 100000, got 0"). The Parse* functions are the
// grammar alone: their errors say what was expected and what was given, without a key, for
// callers that word their own messages.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "streamlearn/core/status.hpp"

namespace streamlearn {

// Names: topics, group ids, model names, addresses.
inline constexpr size_t kNameMaxLength = 256;
// Lists and paths: bootstrap server lists, directories.
inline constexpr size_t kListMaxLength = 4096;
// Any one value of a config file, free-form ones included (a PEM certificate fits).
inline constexpr size_t kValueMaxLength = 65536;
// The longest duration: exact in a double.
inline constexpr int64_t kMaxDurationMs = int64_t{1} << 53;

enum class BoolWords { kYaml, kTrueFalse };

// The grammar. Errors: "expected an integer, got 'x'" and the like.
Result<int64_t> ParseInteger(std::string_view text);
Result<double> ParseNumber(std::string_view text);
Result<bool> ParseBool(std::string_view text, BoolWords words = BoolWords::kYaml);
Result<int64_t> ParseDurationMs(std::string_view text);
// The index of `text` in `names`; the error lists them: "must be one of a, b, got 'x'".
Result<size_t> ParseChoice(std::string_view text, std::span<const std::string_view> names);
inline Result<size_t> ParseChoice(std::string_view text, std::initializer_list<std::string_view> names) {
  return ParseChoice(text, std::span<const std::string_view>(names.begin(), names.size()));
}

// A range of numbers; each end open (excluded) or closed.
struct NumberRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = true;
  bool hi_open = true;
};

// Checked values of a key. Errors start with "<key>: ".
Result<int64_t> IntegerValue(std::string_view key, std::string_view text, int64_t lo, int64_t hi);
// Finite, inside `range`; out of it: "<key>: out of range, got <text>".
Result<double> NumberValue(std::string_view key, std::string_view text, const NumberRange& range = {});
Result<bool> BoolValue(std::string_view key, std::string_view text, BoolWords words = BoolWords::kYaml);
Result<int64_t> DurationValue(std::string_view key, std::string_view text, int64_t min_ms = 0,
                              int64_t max_ms = kMaxDurationMs);
Result<size_t> ChoiceValue(std::string_view key, std::string_view text, std::span<const std::string_view> names);
inline Result<size_t> ChoiceValue(std::string_view key, std::string_view text,
                                  std::initializer_list<std::string_view> names) {
  return ChoiceValue(key, text, std::span<const std::string_view>(names.begin(), names.size()));
}
enum class EmptyString { kRefused, kAllowed };
// The text as it is (not trimmed).
Result<std::string> StringValue(std::string_view key, std::string_view text, size_t max_length = kNameMaxLength,
                                EmptyString empty = EmptyString::kRefused);

}  // namespace streamlearn

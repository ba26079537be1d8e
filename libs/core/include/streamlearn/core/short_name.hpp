#pragma once
// Equality of short names (fields and features: a few characters each) inline, without a
// call to memcmp: the lookups that guess a name's slot from the previous event compare a
// name on every value, and for names this short the call cost more than the comparison.

#include <cstddef>
#include <string_view>

namespace streamlearn {

inline bool SameShortName(std::string_view a, std::string_view b) {
  constexpr size_t kInlineLength = 16;
  if (a.size() != b.size()) return false;
  if (a.size() > kInlineLength) return a == b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace streamlearn

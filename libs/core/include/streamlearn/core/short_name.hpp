#pragma once
// Equality of short names (fields and features: a few characters each) inline, without a
// call to memcmp: the lookups that guess a name's slot from the previous event compare a
// name on every value, and for names this short the call cost more than the comparison.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace streamlearn {

namespace short_name_detail {
// The first and the last Word of two names of n bytes, Word <= n <= 2 * Word: they overlap
// when the name is shorter than two words, and cover every byte without a loop or a read
// past the end.
template <typename Word>
inline bool SameEnds(const char* x, const char* y, size_t n) {
  Word x0, y0, x1, y1;
  std::memcpy(&x0, x, sizeof(Word));
  std::memcpy(&y0, y, sizeof(Word));
  std::memcpy(&x1, x + n - sizeof(Word), sizeof(Word));
  std::memcpy(&y1, y + n - sizeof(Word), sizeof(Word));
  return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}
}  // namespace short_name_detail

inline bool SameShortName(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n > 16) return a == b;
  if (n >= 8) return short_name_detail::SameEnds<uint64_t>(a.data(), b.data(), n);
  if (n >= 4) return short_name_detail::SameEnds<uint32_t>(a.data(), b.data(), n);
  // Up to 3 bytes ("x1", "x15"): byte by byte was as cheap as any trick.
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace streamlearn

#pragma once
// Invariant checks for the fuzz targets. Unlike assert(), they stay on in every build type:
// a broken invariant prints what and where, then aborts, which libFuzzer reports as a crash
// (and saves the input) and the corpus replay test reports as a failure.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

#define FUZZ_CHECK(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                   #cond);                                                      \
      std::fprintf(stderr, "  " __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                               \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

namespace fuzz {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
// Failure reasons become Kafka headers and log lines, which consumers read as text.
inline bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// A decoded label obeys the kind rules both decoders share.
inline void CheckLabel(const streamlearn::Label& l) {
  using Kind = streamlearn::Label::Kind;
  FUZZ_CHECK(std::isfinite(l.value), "label value %g", l.value);
  switch (l.kind) {
    case Kind::kBinary:
      FUZZ_CHECK(l.value == 0 || l.value == 1, "binary label %g", l.value);
      FUZZ_CHECK(l.class_name.empty(), "binary label with a class name");
      break;
    case Kind::kReal:
      FUZZ_CHECK(l.value != 0 && l.value != 1, "real label %g should be binary", l.value);
      break;
    case Kind::kClass:
      FUZZ_CHECK(!l.class_name.empty(), "class label without a name");
      break;
  }
}

// A rejection reason becomes a Kafka header: present, short and valid UTF-8.
inline void CheckReason(const streamlearn::Status& st) {
  constexpr size_t kMaxReason = 300;
  FUZZ_CHECK(!st.message().empty(), "failure without a reason");
  FUZZ_CHECK(st.message().size() < kMaxReason, "reason of %zu bytes: %.200s", st.message().size(),
             st.message().c_str());
  FUZZ_CHECK(IsUtf8(st.message()), "reason is not UTF-8: %.200s", st.message().c_str());
}

}  // namespace fuzz

#include <catch2/catch.hpp>

#include <string>

#include "streamlearn/core/short_name.hpp"

namespace streamlearn {

TEST_CASE("SameShortName is string equality, inline for short names and by comparison beyond", "[short_name]") {
  CHECK(SameShortName("", ""));
  CHECK(SameShortName("x1", "x1"));
  CHECK_FALSE(SameShortName("x1", "x2"));
  CHECK_FALSE(SameShortName("x1", "y1"));
  CHECK_FALSE(SameShortName("x1", "x10"));
  CHECK_FALSE(SameShortName("x", ""));
  const std::string sixteen(16, 'a');
  std::string other = sixteen;
  other[15] = 'b';
  CHECK(SameShortName(sixteen, std::string(16, 'a')));
  CHECK_FALSE(SameShortName(sixteen, other));
  const std::string long_name = "a_field_name_longer_than_sixteen";
  std::string long_other = long_name;
  long_other.back() = 'x';
  CHECK(SameShortName(long_name, std::string(long_name)));
  CHECK_FALSE(SameShortName(long_name, long_other));
  // A name with a NUL inside compares all its bytes.
  CHECK_FALSE(SameShortName(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("SameShortName: every length to 20, a difference at every byte is found", "[short_name]") {
  // The comparison reads overlapping words whose layout depends on the length: each byte
  // of each length must count.
  for (size_t n = 0; n <= 20; ++n) {
    std::string a(n, 'a');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i);
    CHECK(SameShortName(a, std::string(a)));
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x40);
      CHECK_FALSE(SameShortName(a, b));
    }
  }
}

}  // namespace streamlearn

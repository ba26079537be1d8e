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

}  // namespace streamlearn

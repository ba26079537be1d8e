#include <catch2/catch.hpp>

#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/bytes.hpp"

using namespace streamlearn;

TEST_CASE("byte writer and reader round trip every width", "[bytes]") {
  std::string buf;
  ByteWriter w(&buf);
  w.u8(7);
  w.u32(123456);
  w.i64(-42);
  w.f64(3.25);
  w.str("hello");
  ByteReader r(buf);
  CHECK(r.u8() == 7);
  CHECK(r.u32() == 123456);
  CHECK(r.i64() == -42);
  CHECK(r.f64() == 3.25);
  CHECK(r.str() == "hello");
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("byte reader fails, and stays failed, on truncated input", "[bytes]") {
  std::string buf;
  ByteWriter w(&buf);
  w.str("a long enough string");
  ByteReader r(std::string_view(buf).substr(0, 8));
  (void)r.str();
  CHECK_FALSE(r.ok());
  (void)r.u8();
  CHECK_FALSE(r.ok());
}

TEST_CASE("a count is read only when the bytes left can hold that many elements", "[bytes]") {
  std::string buf;
  ByteWriter w(&buf);
  w.u32(3);
  for (double v : {1.5, 2.5, 3.5}) w.f64(v);
  uint32_t n = 99;
  {
    ByteReader r(buf);
    REQUIRE(ReadCount(r, 8, &n));
    CHECK(n == 3);
    CHECK(r.f64() == 1.5);
    CHECK(r.f64() == 2.5);
    CHECK(r.f64() == 3.5);
    CHECK(r.ok());
    CHECK(r.at_end());
  }
  {
    ByteReader r(buf);  // 24 bytes follow: 3 of 8 fit, 3 of 9 do not
    CHECK_FALSE(ReadCount(r, 9, &n));
    CHECK(n == 0);
    CHECK(r.remaining() == 24);  // nothing read but the count
  }
  {
    ByteReader r(std::string_view(buf).substr(0, 4 + 2 * 8 + 7));  // the last element cut short
    n = 99;
    CHECK_FALSE(ReadCount(r, 8, &n));
    CHECK(n == 0);
  }
  {
    ByteReader r(std::string_view(buf).substr(0, 3));  // the count itself cut short
    n = 99;
    CHECK_FALSE(ReadCount(r, 1, &n));
    CHECK(n == 0);
    CHECK_FALSE(r.ok());
    CHECK(r.remaining() == 3);
  }
  {
    ByteReader r(std::string_view(buf).substr(0, 1));  // a reader that failed before
    (void)r.u32();
    CHECK_FALSE(ReadCount(r, 1, &n));
  }
  {
    std::string corrupt;
    ByteWriter cw(&corrupt);
    cw.u32(0xffffffffu);  // a corrupt count: nothing may be sized by it
    cw.f64(1.0);
    ByteReader r(corrupt);
    CHECK_FALSE(ReadCount(r, 1, &n));
    CHECK(n == 0);
  }
  {
    std::string empty;
    ByteWriter ew(&empty);
    ew.u32(0);
    ByteReader r(empty);
    n = 99;
    CHECK(ReadCount(r, 8, &n));
    CHECK(n == 0);
    CHECK(r.at_end());
  }
}

TEST_CASE("sealed snapshots detect wrong magic, version, length and flipped bits", "[bytes]") {
  std::string sealed = SealSnapshot("SLMD", 3, "payload bytes");
  auto ok = OpenSnapshot("SLMD", 3, sealed);
  REQUIRE(ok.ok());
  CHECK(*ok == "payload bytes");
  CHECK(OpenSnapshot("XXXX", 3, sealed).status().code() == ErrorCode::kCorruption);
  CHECK(OpenSnapshot("SLMD", 4, sealed).status().code() == ErrorCode::kFailedPrecondition);
  CHECK(OpenSnapshot("SLMD", 3, sealed.substr(0, sealed.size() - 1)).status().code() ==
        ErrorCode::kCorruption);
  std::string flipped = sealed;
  flipped[18] ^= 1;
  CHECK(OpenSnapshot("SLMD", 3, flipped).status().code() == ErrorCode::kCorruption);
}

#include <cmath>
#include <cstdlib>
#include <limits>

#include "streamlearn/core/json_text.hpp"

TEST_CASE("JSON strings escape quotes, backslashes and control bytes only", "[json]") {
  std::string out;
  AppendJsonString(out, "plain u42");
  CHECK(out == "\"plain u42\"");
  out.clear();
  AppendJsonString(out, "a\"b\\c\nd\x01" "é");
  CHECK(out == "\"a\\\"b\\\\c\\nd\\u0001é\"");
}

TEST_CASE("JSON numbers are the shortest text that reads back as the same double", "[json]") {
  std::string out;
  for (double v : {0.1, 0.5, 1.0, -2.5, 1e-7, 0.12345678901234567, 1e300, 5e-324, 1234567.0}) {
    out.clear();
    AppendJsonNumber(out, v);
    CHECK(std::strtod(out.c_str(), nullptr) == v);  // nothing lost
    CHECK(out.find_first_of(" ,") == std::string::npos);
  }
  out.clear();
  AppendJsonNumber(out, 0.1);
  CHECK(out == "0.1");  // shortest, not 0.1000000000000000055511151231257827
  // JSON has no NaN or infinity: such a value becomes null, never invalid text.
  for (double v : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    out.clear();
    AppendJsonNumber(out, v);
    CHECK(out == "null");
  }
  out.clear();
  AppendJsonInteger(out, std::numeric_limits<int64_t>::min());
  out.push_back(',');
  AppendJsonUnsigned(out, std::numeric_limits<uint64_t>::max());
  CHECK(out == "-9223372036854775808,18446744073709551615");
}

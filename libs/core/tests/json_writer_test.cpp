#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "streamlearn/core/json_writer.hpp"

using namespace streamlearn;

namespace {
std::string Double(double v) {
  std::string out;
  AppendJsonDouble(out, v);
  return out;
}
}  // namespace

TEST_CASE("the number form is fmt's {}: shortest round trip, plain for exponents -4 to 15", "[json_writer]") {
  CHECK(Double(0.0001) == "0.0001");
  CHECK(Double(1e-5) == "1e-05");
  CHECK(Double(0.00012) == "0.00012");
  CHECK(Double(100000) == "100000");
  CHECK(Double(1e15) == "1000000000000000");
  CHECK(Double(1e16) == "1e+16");
  CHECK(Double(1234567890123456.7) == "1234567890123456.8");
  CHECK(Double(0.1) == "0.1");
  CHECK(Double(-0.0) == "-0");
  CHECK(Double(-2.5) == "-2.5");
  CHECK(Double(5e-324) == "5e-324");
  CHECK(Double(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(Double(-std::numeric_limits<double>::infinity()) == "null");
  // Random doubles of every magnitude, and random bit patterns: the same text as fmt, and
  // it reads back as the same double.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 200000; ++i) {
    double v = i % 2 ? mantissa(rng) * std::pow(10.0, exponent(rng)) : 0;
    if (i % 2 == 0) {
      const uint64_t bits = rng();
      std::memcpy(&v, &bits, sizeof v);
      if (!std::isfinite(v)) continue;
    }
    if (i % 7 == 0) v = std::round(v);
    const std::string text = Double(v);
    INFO(text);
    REQUIRE(text == fmt::format("{}", v));
    REQUIRE(std::strtod(text.c_str(), nullptr) == v);
  }
}

TEST_CASE("the writer places commas and keys", "[json_writer]") {
  std::string out;
  JsonWriter w(&out);
  w.begin_object()
      .field("name", "a\"b")
      .field("n", uint64_t{3})
      .field("i", int64_t{-4})
      .field("x", 0.25)
      .field("bad", std::numeric_limits<double>::quiet_NaN())
      .field("ok", true);
  w.key("list").begin_array().number(1).null().begin_object().end_object().begin_array().end_array().end_array();
  w.key("raw").raw(R"({"a":1})");
  w.end_object();
  CHECK(out == R"({"name":"a\"b","n":3,"i":-4,"x":0.25,"bad":null,"ok":true,"list":[1,null,{},[]],"raw":{"a":1}})");
}

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

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

TEST_CASE("WriteJsonDouble writes fmt's text at a pointer, at every layout's edges", "[json_writer]") {
  auto written = [](double v) {
    char buf[kJsonDoubleMaxChars];
    const char* end = WriteJsonDouble(buf, v);
    REQUIRE(end - buf <= 24);
    return std::string(static_cast<const char*>(buf), end);
  };
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                9,
                                10,
                                99,
                                100,
                                0.5,
                                0.75,
                                1.5,
                                12.34,
                                123456.789,
                                0.001,
                                0.0012,
                                0.0001,
                                0.00009999,
                                0.000099999999999999991,
                                9.999999999999999e15,
                                1e15,
                                1e16,
                                1.5e16,
                                123e20,
                                1e99,
                                1e100,
                                1.25e-100,
                                1e-99,
                                1e-5,
                                1.5e-5,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::min(),
                                -std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::epsilon(),
                                1.0 / 3,
                                2.0 / 3,
                                1 - std::numeric_limits<double>::epsilon() / 2,
                                static_cast<double>(uint64_t{1} << 53),
                                static_cast<double>(uint64_t{1} << 63),
                                12345678901234567890.0};
  // Every power of ten and its neighbours (the layout changes at decimal exponents -4 and 16).
  for (int e = -323; e <= 308; ++e) {
    const double p = std::pow(10.0, e);
    values.push_back(p);
    values.push_back(std::nextafter(p, 0.0));
    values.push_back(std::nextafter(p, 1e308));
    values.push_back(-3 * p);
  }
  // Scores: probabilities near 0, 1 and in between, as a sigmoid gives them.
  for (int i = -4000; i <= 4000; ++i) values.push_back(1 / (1 + std::exp(-i / 100.0)));
  for (const double v : values) {
    if (!std::isfinite(v)) continue;  // -3e308 overflows: fmt writes "-inf", JSON null (below)
    const std::string text = written(v);
    INFO(text);
    REQUIRE(text == fmt::format("{}", v));
    REQUIRE(text == Double(v));
  }
  CHECK(written(std::numeric_limits<double>::infinity()) == "null");
  CHECK(written(std::numeric_limits<double>::quiet_NaN()) == "null");
}

TEST_CASE("WriteJsonUnsigned writes to_chars's digits, at every length's edges", "[json_writer]") {
  std::vector<uint64_t> values = {0, std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max() - 1};
  for (uint64_t p = 1; p <= std::numeric_limits<uint64_t>::max() / 10; p *= 10) {
    for (uint64_t v : {p - 1, p, p + 1, 2 * p, 10 * p - 1}) values.push_back(v);
  }
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    char expected[24], got[24];
    const char* expected_end = std::to_chars(expected, expected + sizeof expected, v).ptr;
    const char* got_end = WriteJsonUnsigned(got, v);
    INFO(v);
    CHECK(std::string(static_cast<const char*>(got), got_end) == std::string(static_cast<const char*>(expected), expected_end));
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

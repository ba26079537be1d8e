// The config value grammar: each kind's accepted spellings and each of its errors.

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "streamlearn/core/config_values.hpp"

using namespace streamlearn;

namespace {

template <typename T>
std::string Error(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ErrorCode::kInvalidArgument);
  return r.status().message();
}

}  // namespace

TEST_CASE("config values: integers", "[config_values]") {
  CHECK(*ParseInteger("42") == 42);
  CHECK(*ParseInteger("-3") == -3);
  CHECK(*ParseInteger("+7") == 7);
  CHECK(*ParseInteger(" 12\t") == 12);
  CHECK(*ParseInteger("9223372036854775807") == INT64_MAX);
  CHECK(Error(ParseInteger("")) == "expected an integer, got ''");
  CHECK(Error(ParseInteger("1.5")) == "expected an integer, got '1.5'");
  CHECK(Error(ParseInteger("12abc")) == "expected an integer, got '12abc'");
  CHECK(Error(ParseInteger("+-1")) == "expected an integer, got '+-1'");
  CHECK(Error(ParseInteger("99999999999999999999")) == "expected an integer, got '99999999999999999999'");

  CHECK(*IntegerValue("kafka.batch_size", "500", 1, 100000) == 500);
  CHECK(*IntegerValue("k", "1", 1, 1) == 1);
  CHECK(Error(IntegerValue("kafka.batch_size", "0", 1, 100000)) ==
        "kafka.batch_size: must be between 1 and 100000, got 0");
  CHECK(Error(IntegerValue("kafka.batch_size", "x", 1, 100000)) == "kafka.batch_size: expected an integer, got 'x'");
}

TEST_CASE("config values: numbers", "[config_values]") {
  CHECK(*ParseNumber("0.5") == 0.5);
  CHECK(*ParseNumber("1e-3") == 1e-3);
  CHECK(*ParseNumber("+2") == 2);
  CHECK(*ParseNumber("-2.5") == -2.5);
  CHECK(*ParseNumber(" 3 ") == 3);
  CHECK(std::isnan(*ParseNumber("nan")));  // the grammar reads it; NumberValue refuses it
  CHECK(std::isinf(*ParseNumber("inf")));
  CHECK(Error(ParseNumber("")) == "expected a number, got ''");
  CHECK(Error(ParseNumber("0.9x")) == "expected a number, got '0.9x'");
  CHECK(Error(ParseNumber("1,5")) == "expected a number, got '1,5'");

  CHECK(*NumberValue("drift.delta", "0.01", {0, 1}) == 0.01);
  CHECK(*NumberValue("x", "-1e300") == -1e300);
  CHECK(*NumberValue("model.l2", "0", {0, 1e6, false, true}) == 0);
  CHECK(*NumberValue("x", "1", {0, 1, true, false}) == 1);
  CHECK(Error(NumberValue("drift.delta", "2", {0, 1})) == "drift.delta: out of range, got 2");
  CHECK(Error(NumberValue("drift.delta", "0", {0, 1})) == "drift.delta: out of range, got 0");
  CHECK(Error(NumberValue("model.l2", "-0.1", {0, 1e6, false, true})) == "model.l2: out of range, got -0.1");
  CHECK(Error(NumberValue("model.learning_rate", "fast")) == "model.learning_rate: expected a number, got 'fast'");
  CHECK(Error(NumberValue("x", "nan")) == "x: expected a number, got 'nan'");
  CHECK(Error(NumberValue("x", "inf")) == "x: expected a number, got 'inf'");
  CHECK(Error(NumberValue("x", "1e999")) == "x: expected a number, got '1e999'");
}

TEST_CASE("config values: booleans", "[config_values]") {
  for (const char* yes : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "1", " true "}) {
    INFO(yes);
    CHECK(*ParseBool(yes));
  }
  for (const char* no : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "0"}) {
    INFO(no);
    CHECK_FALSE(*ParseBool(no));
  }
  CHECK(*ParseBool("True", BoolWords::kTrueFalse));
  CHECK_FALSE(*ParseBool("0", BoolWords::kTrueFalse));
  CHECK(Error(ParseBool("yes", BoolWords::kTrueFalse)) == "expected true or false, got 'yes'");
  CHECK(Error(ParseBool("maybe")) == "expected true or false, got 'maybe'");
  CHECK(Error(ParseBool("y")) == "expected true or false, got 'y'");
  CHECK(Error(ParseBool("tRUE")) == "expected true or false, got 'tRUE'");
  CHECK(Error(BoolValue("http.enabled", "2")) == "http.enabled: expected true or false, got '2'");
  CHECK(*BoolValue("http.enabled", "off") == false);
}

TEST_CASE("config values: durations", "[config_values]") {
  CHECK(*ParseDurationMs("500ms") == 500);
  CHECK(*ParseDurationMs("30s") == 30'000);
  CHECK(*ParseDurationMs("15m") == 900'000);
  CHECK(*ParseDurationMs("2h") == 7'200'000);
  CHECK(*ParseDurationMs("7d") == 7LL * 86'400'000);
  CHECK(*ParseDurationMs("1.5m") == 90'000);
  CHECK(*ParseDurationMs("30") == 30'000);  // a bare number is seconds
  CHECK(*ParseDurationMs("0") == 0);
  CHECK(*ParseDurationMs("0ms") == 0);
  CHECK(*ParseDurationMs(" 1h ") == 3'600'000);
  const std::string expected = "expected a duration such as 500ms, 30s, 15m, 2h or 7d, got ";
  CHECK(Error(ParseDurationMs("")) == expected + "''");
  CHECK(Error(ParseDurationMs("7 days")) == expected + "'7 days'");
  CHECK(Error(ParseDurationMs("1w")) == expected + "'1w'");
  CHECK(Error(ParseDurationMs("-1m")) == expected + "'-1m'");
  CHECK(Error(ParseDurationMs("0.5ms")) == expected + "'0.5ms'");
  CHECK(Error(ParseDurationMs("1..5s")) == expected + "'1..5s'");
  CHECK(Error(ParseDurationMs("h")) == expected + "'h'");
  CHECK(Error(ParseDurationMs("200000000000d")) == expected + "'200000000000d'");

  CHECK(*DurationValue("labels.ttl", "36h") == 36LL * 3'600'000);
  CHECK(Error(DurationValue("labels.ttl", "soon")) == "labels.ttl: " + expected + "'soon'");
  CHECK(Error(DurationValue("x", "0s", 1)) == "x: must be between 1ms and 9007199254740992ms, got 0s");
}

TEST_CASE("config values: choices", "[config_values]") {
  CHECK(*ParseChoice("none", {"none", "reset", "background"}) == 0);
  CHECK(*ParseChoice("background", {"none", "reset", "background"}) == 2);
  CHECK(Error(ParseChoice("panic", {"none", "reset", "background"})) ==
        "must be one of none, reset, background, got 'panic'");
  CHECK(Error(ParseChoice("None", {"none", "reset"})) == "must be one of none, reset, got 'None'");
  CHECK(Error(ChoiceValue("kafka.order", "random", {"timestamp", "arrival"})) ==
        "kafka.order: must be one of timestamp, arrival, got 'random'");
  CHECK(*ChoiceValue("kafka.order", "arrival", {"timestamp", "arrival"}) == 1);
}

TEST_CASE("config values: strings", "[config_values]") {
  CHECK(*StringValue("kafka.group_id", "g") == "g");
  CHECK(*StringValue("k", std::string(kNameMaxLength, 'a')) == std::string(kNameMaxLength, 'a'));
  CHECK(*StringValue("k", "", kNameMaxLength, EmptyString::kAllowed) == "");
  CHECK(Error(StringValue("kafka.group_id", "")) == "kafka.group_id: must not be empty");
  CHECK(Error(StringValue("kafka.group_id", std::string(5 << 20, 'g'))) ==
        "kafka.group_id: must be at most 256 characters, got 5242880");
  CHECK(Error(StringValue("state.dir", std::string(kListMaxLength + 1, '/'), kListMaxLength)) ==
        "state.dir: must be at most 4096 characters, got 4097");
}

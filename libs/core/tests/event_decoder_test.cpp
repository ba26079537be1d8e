#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "streamlearn/core/event_decoder.hpp"

using streamlearn::Event;
using streamlearn::EventDecoder;
using streamlearn::Label;
using streamlearn::SourcePosition;

namespace {

const SourcePosition kSource{"events", 2, 17, 1700000000999};

std::string DecodeError(std::string_view payload, std::string_view key = "k") {
  EventDecoder decoder;
  Event e;
  auto st = decoder.decode(payload, key, kSource, &e);
  return st.ok() ? std::string("OK") : st.message();
}

}  // namespace

TEST_CASE("decoder reads every field of the DESIGN example", "[decoder]") {
  EventDecoder decoder;
  Event e;
  auto st = decoder.decode(
      R"({"id":"e-1","entity":"u42","ts":1700000000123,"features":{"amount":12.5,"country":"DE","vip":true,"age":null},"label":1})",
      "key", kSource, &e);
  REQUIRE(st.ok());
  CHECK(e.id == "e-1");
  CHECK(e.entity == "u42");
  CHECK(e.ts_ms == 1700000000123);
  REQUIRE(e.numeric.size() == 2);
  CHECK(e.numeric[0].name == "amount");
  CHECK(e.numeric[0].value == 12.5);
  CHECK(e.numeric[1].name == "vip");
  CHECK(e.numeric[1].value == 1.0);
  REQUIRE(e.categorical.size() == 1);
  CHECK(e.categorical[0].value == "DE");
  REQUIRE(e.missing.size() == 1);
  CHECK(e.missing[0] == "age");
  REQUIRE(e.label.has_value());
  CHECK(e.label->kind == Label::Kind::kBinary);
  CHECK(e.label->value == 1.0);
}

TEST_CASE("decoder fills defaults from the Kafka message", "[decoder]") {
  EventDecoder decoder;
  Event e;
  REQUIRE(decoder.decode(R"({"features":{"x":1}})", "u7", kSource, &e).ok());
  CHECK(e.id == "events-2-17");
  CHECK(e.entity == "u7");
  CHECK(e.ts_ms == kSource.timestamp_ms);
  CHECK_FALSE(e.label.has_value());
}

TEST_CASE("decoder reuses one Event without leaking fields between events", "[decoder]") {
  EventDecoder decoder;
  Event e;
  REQUIRE(decoder.decode(R"({"entity":"a","features":{"x":1,"c":"z"},"label":true})", "", kSource, &e).ok());
  REQUIRE(decoder.decode(R"({"entity":"b","features":{"y":2}})", "", kSource, &e).ok());
  CHECK(e.entity == "b");
  CHECK(e.numeric.size() == 1);
  CHECK(e.categorical.empty());
  CHECK_FALSE(e.label.has_value());
}

TEST_CASE("decoder overwrites a reused Event in place: each result equals a fresh decode", "[decoder]") {
  // The decoder keeps the previous event's feature strings and overwrites them: longer and
  // shorter names, fewer and more features, kinds that change, a failed decode in between.
  const std::vector<std::string> payloads = {
      R"({"id":"a","entity":"u1","ts":5,"features":{"account_age_days":3,"merchant_category":"travel","hour":null}})",
      R"({"id":"b","entity":"u2","ts":6,"features":{"x":1.5}})",
      R"({"id":"c","entity":"u3","ts":7,"features":{"merchant_category_long_name_past_sso":"jewelry","hour":2,"vip":true,"n":null,"m":null}})",
      R"({"id":"d","entity":"u4","features":{"x":1e999}})",  // invalid JSON: out of range
      R"({"id":"d2","entity":"u4","features":{"a":1,"b":"x","c":null,"d":[1]}})",  // fails inside the features
      R"({"id":"s","entity":"u4","ts":1,"features":{"q":1}})",
      R"({"id":"d3","entity":"u4","features":{"a":1,"b":"x","c":null,"e":2},"label":[1]})",  // fails after them
      R"({"id":"s2","entity":"u4","ts":2,"features":{"only_one":"cat"}})",
      R"({"id":"e","entity":"u5","ts":8,"features":{"account_age_days":"text now","hour":9},"label":"gold"})",
      R"({"id":"f","entity":"u6","ts":9,"features":{}})",
  };
  EventDecoder reused_decoder;
  Event reused;
  for (const std::string& payload : payloads) {
    EventDecoder fresh_decoder;
    Event fresh;
    const bool fresh_ok = fresh_decoder.decode(payload, "k", kSource, &fresh).ok();
    const bool reused_ok = reused_decoder.decode(payload, "k", kSource, &reused).ok();
    REQUIRE(reused_ok == fresh_ok);
    if (fresh_ok) CHECK(reused == fresh);
  }
}

TEST_CASE("decoder labels: booleans and 0/1 are binary, other numbers real, strings classes",
          "[decoder]") {
  EventDecoder decoder;
  Event e;
  REQUIRE(decoder.decode(R"({"features":{},"label":false})", "k", kSource, &e).ok());
  CHECK(e.label->kind == Label::Kind::kBinary);
  CHECK(e.label->value == 0);
  REQUIRE(decoder.decode(R"({"features":{},"label":2.5})", "k", kSource, &e).ok());
  CHECK(e.label->kind == Label::Kind::kReal);
  REQUIRE(decoder.decode(R"({"features":{},"label":"cat"})", "k", kSource, &e).ok());
  CHECK(e.label->kind == Label::Kind::kClass);
  CHECK(e.label->class_name == "cat");
  REQUIRE(decoder.decode(R"({"features":{},"label":null})", "k", kSource, &e).ok());
  CHECK_FALSE(e.label.has_value());
}

TEST_CASE("decoder rejects each kind of invalid event with a reason naming it", "[decoder]") {
  CHECK(DecodeError("") == "empty payload");
  CHECK_THAT(DecodeError(R"({"features":{"x":1})"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(DecodeError("\xff\xfe{}"), Catch::StartsWith("invalid JSON"));
  CHECK(DecodeError("[1,2]") == "event must be a JSON object");
  CHECK(DecodeError("42") == "event must be a JSON object");
  CHECK(DecodeError(R"({"entity":"a"})") == "missing field 'features'");
  CHECK(DecodeError(R"({"features":[1]})") == "field 'features' must be an object");
  CHECK(DecodeError(R"({"features":{"x":{"y":1}}})") ==
        "feature 'x' must be a number, string, boolean or null");
  CHECK(DecodeError(R"({"features":{"x":[1]}})") ==
        "feature 'x' must be a number, string, boolean or null");
  CHECK_THAT(DecodeError(R"({"features":{"x":1e400}})"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(DecodeError(R"({"features":{"x":NaN}})"), Catch::StartsWith("invalid JSON"));
  CHECK(DecodeError(R"({"features":{"x":1,"x":2}})") == "duplicate feature 'x'");
  CHECK(DecodeError(R"({"features":{},"features":{}})") == "duplicate field 'features'");
  CHECK(DecodeError(R"({"features":{},"colour":1})") == "unknown field 'colour'");
  CHECK(DecodeError(R"({"features":{},"meta":1})") == "field 'meta' must be an object");
  // A generator's concept marker is accepted and never reaches the features.
  CHECK(DecodeError(R"({"features":{"x":1},"meta":{"concept":2,"note":"s"}})") == "OK");
  CHECK(DecodeError(R"({"entity":3,"features":{}})") == "field 'entity' must be a non-empty string");
  CHECK(DecodeError(R"({"id":"","features":{}})") == "field 'id' must be a non-empty string");
  CHECK(DecodeError(R"({"ts":"now","features":{}})") ==
        "field 'ts' must be a non-negative integer (epoch milliseconds)");
  CHECK(DecodeError(R"({"ts":-5,"features":{}})") ==
        "field 'ts' must be a non-negative integer (epoch milliseconds)");
  CHECK(DecodeError(R"({"features":{},"label":[1]})") ==
        "field 'label' must be a number, boolean, string or null");
  CHECK(DecodeError(R"({"features":{"":1}})") == "feature with an empty name");
}

TEST_CASE("decoder refuses hostile sizes and depths without reading them", "[decoder]") {
  std::string deep(100, '[');
  CHECK_THAT(DecodeError(deep), Catch::StartsWith("invalid JSON"));
  std::string big = R"({"features":{"s":")" + std::string(2 << 20, 'a') + "\"}}";
  CHECK_THAT(DecodeError(big), Catch::Contains("exceeds the limit"));
  std::string long_name = R"({"features":{},")" + std::string(1000, 'n') + R"(":1})";
  CHECK(DecodeError(long_name).size() < 100);  // the reason stays short
  // ... and is cut on a character boundary: 63 ASCII bytes, then a 2-byte 'é' across byte 64.
  std::string utf8_name = R"({"features":{},")" + std::string(63, 'n') + "\xc3\xa9\":1}";
  CHECK(DecodeError(utf8_name) == "unknown field '" + std::string(63, 'n') + "...'");
}

TEST_CASE("decoder accepts an event without an entity field or a message key", "[decoder]") {
  EventDecoder decoder;
  Event e;
  e.entity = "left over";
  REQUIRE(decoder.decode(R"({"id":"e-9","features":{"x":2},"label":1})", "", kSource, &e).ok());
  CHECK(e.entity.empty());
  CHECK(e.id == "e-9");
  REQUIRE(e.numeric.size() == 1);
  CHECK(e.numeric[0].value == 2);
  REQUIRE(e.label.has_value());
  // The key still stands in for a missing field, and the field still must be a non-empty
  // string when given.
  REQUIRE(decoder.decode(R"({"features":{}})", "k7", kSource, &e).ok());
  CHECK(e.entity == "k7");
  CHECK(DecodeError(R"({"entity":"","features":{}})", "") == "field 'entity' must be a non-empty string");
  CHECK(DecodeError(R"({"entity":null,"features":{}})", "") == "field 'entity' must be a non-empty string");
}

TEST_CASE("decoder reports an integer meta.concept marker of the event decoded last", "[decoder]") {
  EventDecoder decoder;
  Event e;
  auto marker = [&](std::string_view payload) {
    (void)decoder.decode(payload, "k", kSource, &e);
    return decoder.concept_marker();
  };
  CHECK(marker(R"({"features":{"x":1},"meta":{"note":"s","concept":2}})") == 2);
  CHECK(marker(R"({"features":{"x":1}})") == std::nullopt);
  CHECK(marker(R"({"meta":{"concept":-3},"features":{}})") == -3);
  CHECK(marker(R"({"features":{},"meta":{"concept":"2"}})") == std::nullopt);
  CHECK(marker(R"({"features":{},"meta":{"concept":2.5}})") == std::nullopt);
  CHECK(marker(R"({"features":{},"meta":{"concept":4294967296}})") == std::nullopt);
  CHECK(marker(R"({"features":{},"meta":{"concept":-2147483648}})") == std::nullopt);
  CHECK(marker(R"({"features":{},"meta":{"concept":2147483647}})") == 2147483647);
  // A failed decode reports none, even when the marker was read before the error.
  CHECK(marker(R"({"meta":{"concept":1},"features":{"x":[1]}})") == std::nullopt);
}

TEST_CASE("decoder following the previous event's feature names gives a fresh decoder's result and reason",
          "[decoder]") {
  // A used decoder checks names that follow the last event's, place by place, without the
  // duplicate search; from the first name that departs it searches the names read so far.
  // Each payload below departs somewhere (or not) from the one before it.
  const std::vector<std::string> payloads = {
      R"({"id":"a","features":{"p":1,"q":"s","r":null,"s":true}})",
      R"({"id":"b","features":{"p":2,"q":"t","r":3,"s":false}})",                 // the same names
      R"({"id":"c","features":{"p":2,"q":"t","p":3}})",                           // departs into a duplicate of the prefix
      R"({"id":"d","features":{"p":2,"q":"t","r":3,"s":1,"p":4}})",               // past the end, a duplicate
      R"({"id":"e","features":{"p":2,"q":"t","r":3,"s":1,"t":4,"t":5}})",         // past the end, then a duplicate
      R"({"id":"f","features":{"p":2,"":1}})",                                    // an empty name after the prefix
      R"({"id":"g","features":{"p":2,"q":"t"}})",                                 // a prefix only
      R"({"id":"h","features":{"p":2,"q":"t","r":3,"s":1}})",                     // the longer list again
      R"({"id":"i","features":{"q":1,"p":2,"s":3,"r":4}})",                       // reordered: a new list
      R"({"id":"j","features":{"q":1,"p":2,"s":3,"r":4,"u":[1]}})",               // fails on a value after them
      R"({"id":"k","features":{"q":1,"p":2,"s":3,"q":4}})",                       // a duplicate where 'r' was
      R"({"id":"l","features":{"q":1,"p":2,"s":3,"r":4},"label":[1]})",          // fails after the features
      R"({"id":"m","features":{"q":1,"p":2,"s":3,"r":4,"v":1,"w":2}})",           // one more than the limit
      R"({"id":"n","features":{"q":1,"p":2,"s":3,"r":4,"v":1}})",                 // at the limit
      R"({"id":"o","features":{"q":1,"p":2,"s":3,"r":4,"v":1,"v":2}})",           // at the limit, a duplicate
      R"({"id":"p","features":{"merchant_category_long_name_past_sso":"a","q":1}})",
      R"({"id":"q","features":{"merchant_category_long_name_past_sso":"b","merchant_category_long_name_past_sso":1}})",
      R"({"id":"r","features":{}})",
      R"({"id":"s","features":{"q":1,"q":2}})",
      R"({"id":"t","features":{"q":1,"p":2}})",
  };
  const streamlearn::EventDecoderLimits limits{.max_payload_bytes = 1 << 20, .max_depth = 16, .max_features = 5};
  EventDecoder used(limits);
  Event used_event;
  for (const std::string& payload : payloads) {
    INFO(payload);
    EventDecoder fresh(limits);
    Event fresh_event;
    const auto fresh_status = fresh.decode(payload, "k", kSource, &fresh_event);
    const auto used_status = used.decode(payload, "k", kSource, &used_event);
    REQUIRE(used_status.ok() == fresh_status.ok());
    CHECK(used_status.message() == fresh_status.message());
    if (fresh_status.ok()) CHECK(used_event == fresh_event);
  }
  // The reasons themselves, after a list the names follow at first.
  auto reason = [&](std::string_view payload) {
    const auto st = used.decode(payload, "k", kSource, &used_event);
    return st.ok() ? std::string("OK") : st.message();
  };
  REQUIRE(reason(R"({"features":{"a":1,"b":2,"c":3}})") == "OK");
  CHECK(reason(R"({"features":{"a":1,"b":2,"a":3}})") == "duplicate feature 'a'");
  REQUIRE(reason(R"({"features":{"a":1,"b":2,"c":3}})") == "OK");
  CHECK(reason(R"({"features":{"a":1,"b":2,"c":3,"b":4}})") == "duplicate feature 'b'");
  CHECK(reason(R"({"features":{"a":1,"":2}})") == "feature with an empty name");
  CHECK(reason(R"({"features":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}})") == "more than 5 features");
}

TEST_CASE("decoder finds a duplicate top-level field, and an unknown one at its first appearance", "[decoder]") {
  CHECK(DecodeError(R"({"features":{},"id":"a","id":"b"})") == "duplicate field 'id'");
  CHECK(DecodeError(R"({"entity":"a","features":{},"entity":"b"})") == "duplicate field 'entity'");
  CHECK(DecodeError(R"({"ts":1,"features":{},"ts":2})") == "duplicate field 'ts'");
  CHECK(DecodeError(R"({"label":1,"features":{},"label":0})") == "duplicate field 'label'");
  CHECK(DecodeError(R"({"meta":{},"features":{},"meta":{}})") == "duplicate field 'meta'");
  // A duplicate is found before its value is read.
  CHECK(DecodeError(R"({"features":{},"id":"a","id":3})") == "duplicate field 'id'");
  CHECK(DecodeError(R"({"colour":1,"colour":2,"features":{}})") == "unknown field 'colour'");
  CHECK(DecodeError(R"({"features":{},"\u0069d":"a","id":"b"})") == "duplicate field 'id'");
}

TEST_CASE("decoder parsing in place, with readable bytes past the payload, equals the padded copy's result",
          "[decoder]") {
  // The bytes after the payload are what a reused line buffer holds: the end of a longer
  // line, digits, quotes, braces. simdjson reads them but must not let them change a value
  // or a reason, valid or not (a number, string or object cut short at the payload's end).
  const std::vector<std::string> payloads = {
      R"({"id":"a","entity":"u1","ts":5,"features":{"account_age_days":3,"merchant_category":"travel","hour":null},"label":1})",
      R"({"id":"b","entity":"u2","ts":6,"features":{"x":1.5}})",
      R"({"id":"c","features":{"x":12)",
      R"({"id":"c","features":{"x":"trav)",
      R"({"id":"c","features":{"x":1})",
      R"({"id":"d","entity":"u4","features":{"x":1e999}})",
      R"(12)",
      R"("text)",
      R"({"id":"e","features":{"x":1}} {"id":"f"})",
  };
  const std::vector<std::string> tails = {std::string(EventDecoder::kReadPastEnd, ' '),
                                          std::string(EventDecoder::kReadPastEnd, '7'),
                                          std::string(EventDecoder::kReadPastEnd, '"'),
                                          std::string(EventDecoder::kReadPastEnd, '}'),
                                          R"(,"y":2.5e3}},"label":0}"tail\"x]}{0123456789.eE-+truefalsenull,:[)"};
  EventDecoder copying_decoder;
  EventDecoder in_place_decoder;
  Event copied;
  Event in_place;
  uint64_t in_place_decodes = 0;
  for (const std::string& payload : payloads) {
    for (const std::string& tail : tails) {
      const std::string buffer = payload + tail.substr(0, EventDecoder::kReadPastEnd);
      REQUIRE(buffer.size() >= payload.size() + EventDecoder::kReadPastEnd);
      const std::string_view view(buffer.data(), payload.size());
      const auto copied_status = copying_decoder.decode(view, "k", kSource, &copied);
      const auto in_place_status =
          in_place_decoder.decode(view, "k", kSource, &in_place, buffer.size() - payload.size());
      ++in_place_decodes;
      INFO(payload << " then " << tail);
      REQUIRE(in_place_status.ok() == copied_status.ok());
      CHECK(in_place_status.message() == copied_status.message());
      CHECK(in_place_decoder.concept_marker() == copying_decoder.concept_marker());
      if (copied_status.ok()) CHECK(in_place == copied);
    }
  }
  CHECK(in_place_decoder.payloads_copied() == 0);
  CHECK(copying_decoder.payloads_copied() == in_place_decodes);
  // One byte short of the padding: copied.
  const std::string buffer = payloads[0] + std::string(EventDecoder::kReadPastEnd - 1, ' ');
  REQUIRE(in_place_decoder
              .decode(std::string_view(buffer.data(), payloads[0].size()), "k", kSource, &in_place,
                      EventDecoder::kReadPastEnd - 1)
              .ok());
  CHECK(in_place_decoder.payloads_copied() == 1);
}

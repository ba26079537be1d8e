#include <catch2/catch.hpp>

#include <string>

#include "streamlearn/core/label_decoder.hpp"

using streamlearn::Label;
using streamlearn::LabelDecoder;
using streamlearn::LabelDecoderLimits;
using streamlearn::LabelRecord;

namespace {

std::string DecodeError(std::string_view payload) {
  LabelDecoder decoder;
  LabelRecord r;
  auto st = decoder.decode(payload, &r);
  return st.ok() ? std::string("OK") : st.message();
}

}  // namespace

TEST_CASE("label decoder reads the DESIGN example", "[label_decoder]") {
  LabelDecoder decoder;
  LabelRecord r;
  REQUIRE(decoder.decode(R"({"id":"e-1","label":1,"ts":1700000000000})", &r).ok());
  CHECK(r.id == "e-1");
  CHECK(r.label.kind == Label::Kind::kBinary);
  CHECK(r.label.value == 1.0);
  CHECK(r.ts_ms == 1700000000000);
}

TEST_CASE("label decoder: ts is optional and fields may come in any order", "[label_decoder]") {
  LabelDecoder decoder;
  LabelRecord r;
  REQUIRE(decoder.decode(R"({"label":0,"id":"e-2"})", &r).ok());
  CHECK(r.id == "e-2");
  CHECK(r.ts_ms == -1);
  CHECK(r.label.kind == Label::Kind::kBinary);
  CHECK(r.label.value == 0.0);
  REQUIRE(decoder.decode(R"({"ts":0,"label":1,"id":"e-3"})", &r).ok());
  CHECK(r.ts_ms == 0);
}

TEST_CASE("label decoder: the event decoder's label kinds", "[label_decoder]") {
  LabelDecoder decoder;
  LabelRecord r;
  REQUIRE(decoder.decode(R"({"id":"a","label":true})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kBinary);
  CHECK(r.label.value == 1.0);
  REQUIRE(decoder.decode(R"({"id":"a","label":false})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kBinary);
  CHECK(r.label.value == 0.0);
  REQUIRE(decoder.decode(R"({"id":"a","label":1.0})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kBinary);
  REQUIRE(decoder.decode(R"({"id":"a","label":-2.75})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kReal);
  CHECK(r.label.value == -2.75);
  REQUIRE(decoder.decode(R"({"id":"a","label":12345678901234567890})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kReal);
  REQUIRE(decoder.decode(R"({"id":"a","label":"fraud"})", &r).ok());
  CHECK(r.label.kind == Label::Kind::kClass);
  CHECK(r.label.class_name == "fraud");
}

TEST_CASE("label decoder reuses one record without leaking fields between records",
          "[label_decoder]") {
  LabelDecoder decoder;
  LabelRecord r;
  REQUIRE(decoder.decode(R"({"id":"a","label":"cat","ts":5})", &r).ok());
  REQUIRE(decoder.decode(R"({"id":"b","label":2})", &r).ok());
  CHECK(r.id == "b");
  CHECK(r.ts_ms == -1);
  CHECK(r.label.kind == Label::Kind::kReal);
  CHECK(r.label.class_name.empty());
  // A failure leaves no half-decoded record behind.
  REQUIRE_FALSE(decoder.decode(R"({"id":"c","label":null})", &r).ok());
  CHECK(r.id.empty());
  CHECK(r.ts_ms == -1);
}

TEST_CASE("label decoder rejects each kind of invalid record with a reason naming it",
          "[label_decoder]") {
  CHECK(DecodeError("") == "empty payload");
  CHECK_THAT(DecodeError(R"({"id":"e-1","label":1)"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(DecodeError("\xff\xfe{}"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(DecodeError(R"({"id":"e-\xff","label":1})"), Catch::StartsWith("invalid JSON"));
  CHECK(DecodeError("[1,2]") == "label record must be a JSON object");
  CHECK(DecodeError(R"("e-1")") == "label record must be a JSON object");
  // id
  CHECK(DecodeError(R"({"label":1})") == "missing field 'id'");
  CHECK(DecodeError(R"({"id":"","label":1})") == "field 'id' must be a non-empty string");
  CHECK(DecodeError(R"({"id":17,"label":1})") == "field 'id' must be a non-empty string");
  CHECK(DecodeError(R"({"id":null,"label":1})") == "field 'id' must be a non-empty string");
  // label
  CHECK(DecodeError(R"({"id":"e-1"})") == "missing field 'label'");
  CHECK(DecodeError(R"({"id":"e-1","label":null})") ==
        "field 'label' must be a number, boolean or string, not null");
  CHECK(DecodeError(R"({"id":"e-1","label":""})") == "field 'label' is an empty string");
  CHECK(DecodeError(R"({"id":"e-1","label":[1]})") ==
        "field 'label' must be a number, boolean or string");
  CHECK(DecodeError(R"({"id":"e-1","label":{"value":1}})") ==
        "field 'label' must be a number, boolean or string");
  CHECK_THAT(DecodeError(R"({"id":"e-1","label":1e400})"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(DecodeError(R"({"id":"e-1","label":NaN})"), Catch::StartsWith("invalid JSON"));
  // ts
  const std::string ts_reason = "field 'ts' must be a non-negative integer (epoch milliseconds)";
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":"now"})") == ts_reason);
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":-1})") == ts_reason);
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":1.5})") == ts_reason);
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":18446744073709551615})") == ts_reason);
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":null})") == ts_reason);
  // unknown and duplicate fields
  CHECK(DecodeError(R"({"id":"e-1","label":1,"entity":"u1"})") == "unknown field 'entity'");
  CHECK(DecodeError(R"({"id":"e-1","label":1,"features":{}})") == "unknown field 'features'");
  CHECK(DecodeError(R"({"id":"e-1","id":"e-2","label":1})") == "duplicate field 'id'");
  CHECK(DecodeError(R"({"id":"e-1","label":1,"label":0})") == "duplicate field 'label'");
  CHECK(DecodeError(R"({"id":"e-1","label":1,"ts":1,"ts":2})") == "duplicate field 'ts'");
}

TEST_CASE("label decoder refuses hostile sizes and depths without reading them",
          "[label_decoder]") {
  std::string deep(100, '[');
  CHECK_THAT(DecodeError(deep), Catch::StartsWith("invalid JSON"));
  std::string deep_label = R"({"id":"e","label":)" + std::string(20, '[') + std::string(20, ']') + "}";
  CHECK_THAT(DecodeError(deep_label), Catch::StartsWith("invalid JSON"));
  std::string big = R"({"id":"e-1","label":")" + std::string(2 << 20, 'a') + "\"}";
  CHECK_THAT(DecodeError(big), Catch::Contains("exceeds the limit"));
  std::string long_name = R"({"id":"e-1","label":1,")" + std::string(1000, 'n') + R"(":1})";
  CHECK(DecodeError(long_name).size() < 100);  // the reason stays short
  // ... and is cut on a character boundary: 63 ASCII bytes, then a 2-byte 'é' across byte 64.
  std::string utf8_name = R"({"id":"e-1","label":1,")" + std::string(63, 'n') + "\xc3\xa9\":1}";
  CHECK(DecodeError(utf8_name) == "unknown field '" + std::string(63, 'n') + "...'");

  LabelDecoder small(LabelDecoderLimits{.max_payload_bytes = 32, .max_depth = 4});
  LabelRecord r;
  CHECK(small.decode(R"({"id":"e-1","label":1})", &r).ok());
  auto st = small.decode(R"({"id":"e-1","label":"a-rather-long-class"})", &r);
  CHECK_THAT(st.message(), Catch::Contains("exceeds the limit of 32"));
}

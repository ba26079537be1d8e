// libFuzzer target: streamlearn::LabelDecoder on arbitrary bytes.
// Invariants: a successful decode yields a non-empty id, a well-formed label (finite value,
// binary only for 0/1, non-empty class names) and ts >= -1, and survives a round trip
// (re-encoded as JSON, it decodes to the same record); a failed decode has a non-empty
// UTF-8 reason under 300 bytes and leaves the record cleared.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "streamlearn/core/json_text.hpp"
#include "streamlearn/core/label_decoder.hpp"

namespace {

using streamlearn::Label;
using streamlearn::LabelDecoder;
using streamlearn::LabelRecord;

void CheckRecord(const LabelRecord& r) {
  FUZZ_CHECK(!r.id.empty(), "empty id");
  FUZZ_CHECK(r.ts_ms >= -1, "ts %lld", static_cast<long long>(r.ts_ms));
  fuzz::CheckLabel(r.label);
}

std::string Encode(const LabelRecord& r) {
  std::string out = "{\"id\":";
  streamlearn::AppendJsonString(out, r.id);
  out += ",\"label\":";
  if (r.label.kind == Label::Kind::kClass) {
    streamlearn::AppendJsonString(out, r.label.class_name);
  } else {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", r.label.value);  // round-trips a double
    out += buf;
  }
  if (r.ts_ms >= 0) out += ",\"ts\":" + std::to_string(r.ts_ms);
  out += "}";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const streamlearn::LabelDecoderLimits kLimits{.max_payload_bytes = 1 << 16, .max_depth = 16};
  static LabelDecoder decoder(kLimits);
  static LabelRecord record;
  static LabelRecord again;

  std::string_view payload(reinterpret_cast<const char*>(data), size);
  streamlearn::Status st = decoder.decode(payload, &record);
  if (!st.ok()) {
    fuzz::CheckReason(st);
    FUZZ_CHECK(record.id.empty() && record.ts_ms == -1 && record.label.class_name.empty(),
               "a failed decode left fields behind");
    return 0;
  }
  CheckRecord(record);

  std::string encoded = Encode(record);
  streamlearn::Status st2 = decoder.decode(encoded, &again);
  FUZZ_CHECK(st2.ok(), "re-encoded record %.200s does not decode: %s", encoded.c_str(),
             st2.message().c_str());
  FUZZ_CHECK(again.id == record.id && again.ts_ms == record.ts_ms &&
                 again.label.kind == record.label.kind && again.label.value == record.label.value &&
                 again.label.class_name == record.label.class_name,
             "round trip changed the record: %.200s", encoded.c_str());
  return 0;
}

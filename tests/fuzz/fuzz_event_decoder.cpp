// libFuzzer target: streamlearn::EventDecoder on arbitrary bytes.
// Invariants: a successful decode yields a non-empty id, a non-empty entity when there is a
// message key (without one, an event may have no entity: empty), finite numeric values with
// non-empty names, a well-formed label and a non-negative timestamp; a failed decode has a
// non-empty UTF-8 reason under 300 bytes (it becomes a DLQ header); decoding is deterministic
// with a reused decoder and Event (no state leaks from one message to the next), and a
// decoder that has decoded other messages before (it keeps the last event's feature names
// to skip the duplicate search) gives what a fresh one gives.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "streamlearn/core/event_decoder.hpp"

namespace {

using streamlearn::Event;
using streamlearn::EventDecoder;
using streamlearn::SourcePosition;

void CheckEvent(const Event& e, std::string_view key, size_t max_features) {
  FUZZ_CHECK(!e.id.empty(), "empty id");
  FUZZ_CHECK(key.empty() || !e.entity.empty(), "empty entity with a message key");
  FUZZ_CHECK(e.ts_ms >= 0, "ts %lld", static_cast<long long>(e.ts_ms));
  for (const auto& f : e.numeric) {
    FUZZ_CHECK(!f.name.empty(), "numeric feature without a name");
    FUZZ_CHECK(std::isfinite(f.value), "feature '%s' = %g", f.name.c_str(), f.value);
  }
  for (const auto& f : e.categorical) FUZZ_CHECK(!f.name.empty(), "categorical feature without a name");
  for (const auto& m : e.missing) FUZZ_CHECK(!m.empty(), "missing feature without a name");
  FUZZ_CHECK(e.numeric.size() + e.categorical.size() + e.missing.size() <= max_features,
             "%zu features", e.numeric.size() + e.categorical.size() + e.missing.size());
  if (e.label) fuzz::CheckLabel(*e.label);
}


bool SameEvent(const Event& a, const Event& b) {
  if (a.id != b.id || a.entity != b.entity || a.ts_ms != b.ts_ms ||
      a.numeric.size() != b.numeric.size() || a.categorical.size() != b.categorical.size() ||
      a.missing != b.missing || a.label.has_value() != b.label.has_value()) {
    return false;
  }
  for (size_t i = 0; i < a.numeric.size(); ++i) {
    if (a.numeric[i].name != b.numeric[i].name || a.numeric[i].value != b.numeric[i].value) return false;
  }
  for (size_t i = 0; i < a.categorical.size(); ++i) {
    if (a.categorical[i].name != b.categorical[i].name || a.categorical[i].value != b.categorical[i].value) return false;
  }
  if (a.label) {
    if (a.label->kind != b.label->kind || a.label->value != b.label->value ||
        a.label->class_name != b.label->class_name) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits so the fuzzer reaches the size and feature-count checks; one decoder for
  // the whole run, as the Kafka runner keeps one.
  static const streamlearn::EventDecoderLimits kLimits{.max_payload_bytes = 1 << 16,
                                                       .max_depth = 16, .max_features = 64};
  static EventDecoder decoder(kLimits);
  static Event first;
  static Event second;
  static const SourcePosition kSource{"events", 3, 42, 1700000000000};
  // The first decode of each message with `decoder` follows the previous message's names.
  EventDecoder fresh_decoder(kLimits);
  Event fresh;

  std::string_view payload(reinterpret_cast<const char*>(data), size);
  // The message key is the default entity: try with and without one.
  for (std::string_view key : {std::string_view("k"), std::string_view()}) {
    streamlearn::Status st = decoder.decode(payload, key, kSource, &first);
    streamlearn::Status fresh_st = fresh_decoder.decode(payload, key, kSource, &fresh);
    FUZZ_CHECK(st.ok() == fresh_st.ok() && st.message() == fresh_st.message(),
               "a used decoder says '%s', a fresh one '%s'", st.message().c_str(), fresh_st.message().c_str());
    if (st.ok()) FUZZ_CHECK(SameEvent(first, fresh), "a used and a fresh decoder decode one payload differently");
    if (st.ok()) {
      CheckEvent(first, key, kLimits.max_features);
    } else {
      fuzz::CheckReason(st);
    }
    streamlearn::Status again = decoder.decode(payload, key, kSource, &second);
    FUZZ_CHECK(st.ok() == again.ok() && st.message() == again.message(),
               "not deterministic: '%s' then '%s'", st.message().c_str(), again.message().c_str());
    if (st.ok()) FUZZ_CHECK(SameEvent(first, second), "two decodes of one payload differ");
  }
  return 0;
}

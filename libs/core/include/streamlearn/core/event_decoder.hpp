#pragma once
// Decodes and validates one event (schemas/event.schema.json). A failed decode returns a Status whose
// message is the reason written to the dead-letter topic, so it names the field.

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn {

struct EventDecoderLimits {
  size_t max_payload_bytes = 1 << 20;  // larger messages go to the DLQ unread
  size_t max_depth = 16;               // events are shallow; deep nesting is hostile input
  size_t max_features = 4096;
};

class EventDecoder {
 public:
  explicit EventDecoder(EventDecoderLimits limits = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // `key` is the Kafka message key (the default entity; with neither, the event has none
  // and out->entity is empty); `source` gives the default id
  // (topic-partition-offset) and timestamp. Reuses *out's buffers. `readable_after`: bytes
  // past the payload's end that may be read (not written), e.g. a buffer's spare capacity;
  // with kReadPastEnd of them the payload is parsed where it is instead of copied into a
  // padded buffer.
  Status decode(std::string_view payload, std::string_view key, const SourcePosition& source,
                Event* out, size_t readable_after = 0);

  // The bytes past a payload's end the JSON parser reads (simdjson's padding).
  static constexpr size_t kReadPastEnd = 64;

  // Payloads copied into the padded buffer so far (the others were parsed in place).
  uint64_t payloads_copied() const;

  // The integer at "meta":{"concept": K} of the event decoded last, if it had one in
  // [INT_MIN + 1, INT_MAX] (a generator's concept marker, which offline evaluation reads;
  // the model never sees meta). Empty after a failed decode.
  std::optional<int> concept_marker() const;

 private:
  struct Impl;  // keeps simdjson out of every includer
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlearn

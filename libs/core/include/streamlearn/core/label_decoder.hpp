#pragma once
// Decodes and validates one delayed-label record of the `labels` topic (docs/wire-formats.md;
// schemas/label.schema.json): {"id":"e-1","label":1,"ts":1700000000000}. A failed decode
// returns a Status whose message is the dead-letter reason, so it names the field.
// The label rules (kinds, finiteness) are the event decoder's: see core/event.hpp's Label.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn {

struct LabelRecord {
  std::string id;      // the event this label belongs to; never empty after a decode
  Label label;         // required: never null on the labels topic
  int64_t ts_ms = -1;  // when the label became known (epoch ms); -1 when absent

  void clear() {
    id.clear();
    label = Label{};
    ts_ms = -1;
  }
};

// The same hostile-input limits as EventDecoderLimits.
struct LabelDecoderLimits {
  size_t max_payload_bytes = 1 << 20;  // larger messages go to the DLQ unread
  size_t max_depth = 16;               // label records are flat; deep nesting is hostile input
};

class LabelDecoder {
 public:
  explicit LabelDecoder(LabelDecoderLimits limits = {});
  ~LabelDecoder();
  LabelDecoder(const LabelDecoder&) = delete;
  LabelDecoder& operator=(const LabelDecoder&) = delete;

  // Reuses *out's buffers. On failure *out is left cleared (no half-decoded record).
  Status decode(std::string_view payload, LabelRecord* out);

 private:
  struct Impl;  // keeps simdjson out of every includer
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlearn

#pragma once
// Labels of a kind the task cannot learn (numbers for a binary model, class names for a
// regression...). Each is a dead letter with its own reason; this watch adds what a user
// with the wrong task needs and would not find in the dead-letter topic: one log line that
// says what was received, what the pipeline expects and what to set, a count, and a run
// length: when every label for a while is refused, the pipeline is misconfigured, not fed a
// few bad events.

#include <cstdint>
#include <string>

#include "streamlearn/core/event.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

// Refused labels in a row (no learnable label between them) at which /readyz reports the
// pipeline not ready: far above a few corrupt events, well below a stream of any size.
inline constexpr uint64_t kWrongKindLabelsUnready = 100;

// Whether a `task` pipeline can learn a label of this kind at all.
constexpr bool LabelKindFits(Label::Kind kind, Task task) {
  switch (task) {
    case Task::kBinary: return kind == Label::Kind::kBinary;
    case Task::kRegression: return kind != Label::Kind::kClass;
    case Task::kMulticlass: return kind != Label::Kind::kReal;
  }
  return true;
}

class LabelKindWatch {
 public:
  // A label of `received` kind dead-lettered by a `task` pipeline; logs the first one.
  void refused(Label::Kind received, Task task, const ModelSettings& model);
  void accepted() { in_a_row_ = 0; }

  uint64_t refused_total() const { return refused_; }
  uint64_t refused_in_a_row() const { return in_a_row_; }
  // Received, expected and what to set; empty before the first refusal.
  const std::string& advice() const { return advice_; }

 private:
  uint64_t refused_ = 0;
  uint64_t in_a_row_ = 0;
  std::string advice_;
};

}  // namespace streamlearn::pipeline

#pragma once
// Prequential (test-then-train) metrics of a binary classifier: every labelled event is
// first scored, then learned from, so each update here measures the model on an event it
// had not seen. Constant memory: running sums plus a ring buffer of the last outcomes.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::eval {

class PrequentialBinary {
 public:
  // The window is allocated once, one byte per slot; 0 is read as 1.
  explicit PrequentialBinary(size_t rolling_window = 1000);

  // score: the model's P(label = 1); predicted_class and label: 0 or 1 (non-zero counts
  // as 1). A NaN score is scored as 0.5 (no information) by the log loss.
  void update(double score, int predicted_class, int label);

  uint64_t count() const { return count_; }
  // Each is 0 before the first update.
  double accuracy() const;
  double rolling_accuracy() const;  // over the last min(count, rolling_window) updates
  double log_loss() const;          // mean, with the score clipped to [1e-15, 1 - 1e-15]
  // Accuracy of always predicting the class seen most often before each event
  // (test-then-train too; ties and the first event predict 0): what a model must beat.
  double majority_baseline_accuracy() const;
  size_t rolling_window() const { return window_.size(); }

  void save(ByteWriter& out) const;
  // Restores the counters and the most recent outcomes. The window keeps this object's
  // size, so a changed window setting applies after a restart (keeping the newest
  // outcomes that fit). Corrupt bytes give Corruption and leave this object unchanged.
  Status load(ByteReader& in);

 private:
  std::vector<uint8_t> window_;  // 1 = correct; ring buffer, next write at window_next_
  size_t window_next_ = 0;
  size_t window_filled_ = 0;
  uint64_t window_correct_ = 0;

  uint64_t count_ = 0;
  uint64_t correct_ = 0;
  double log_loss_sum_ = 0;
  uint64_t positives_ = 0;  // labels equal to 1 seen so far
  uint64_t majority_correct_ = 0;
};

}  // namespace streamlearn::eval

#pragma once
// Online target standardisation for regression (model.standardize_target): the models learn
// (y - mean) / std from the target's running statistics and their predictions are turned
// back into the target's units, so a learning rate means the same on a target around 40 or
// around 1e6 (River's TargetStandardScaler: the label is folded in, then standardised).
// One per stream, shared by the champion, the challengers and the background learner.
// Private to the pipeline lib.

#include <cstdint>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

class TargetScaler {
 public:
  // Inactive: learned() and unscaled() pass values through; the statistics are still kept.
  explicit TargetScaler(bool active) : active_(active) {}

  // Folds y into the statistics (a non-finite y is not folded) and returns it as the models
  // learn it. The standardised value is bounded by sqrt(count): a first label learns 0.
  double learned(double y);
  // A model's output in the target's units, with the statistics as they are.
  double unscaled(double score) const { return active_ ? score * scale() + mean_ : score; }

  bool active() const { return active_; }
  uint64_t count() const { return count_; }
  double mean() const { return mean_; }

  void save(ByteWriter& w) const;
  Status load(ByteReader& r);

 private:
  double scale() const;  // the population standard deviation, 1 while it is 0

  bool active_;
  uint64_t count_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

}  // namespace streamlearn::pipeline

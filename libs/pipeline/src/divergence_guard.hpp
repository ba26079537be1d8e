#pragma once
// Divergence detection for a regression champion: its absolute error over the last
// `window` labelled events against the mean predictor's (the target's running mean before
// each label) on the same events. A model beyond `factor` times the mean predictor has run
// away (a learning rate too large for its inputs, a target far from where it started): the
// processor resets it and publishes the reset with reason "diverged". The window starts
// over after each reset, so a fresh model gets `window` events before it is judged.
// Private to the pipeline lib.

#include <cstdint>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

class DivergenceGuard {
 public:
  // factor 0: never fires (the statistics are still kept).
  DivergenceGuard(double factor, uint32_t window);

  // One served prediction and its label; true when the model has diverged.
  bool update(double prediction, double y);
  // The model was reset: judge the next one on its own errors.
  void restart();

  double model_mae() const;     // over the current window
  double baseline_mae() const;  // the mean predictor's, same events
  double factor() const { return factor_; }
  uint32_t window() const { return window_; }
  uint64_t divergences() const { return divergences_; }

  void save(ByteWriter& w) const;
  // A snapshot written with another window starts the window over (the counts are kept).
  Status load(ByteReader& r);

 private:
  double factor_;
  uint32_t window_;
  // The target's running mean (the mean predictor), over the whole stream.
  uint64_t seen_ = 0;
  double mean_ = 0;
  // Ring of the last `window_` absolute errors of the model and of the mean predictor.
  std::vector<double> model_errors_, baseline_errors_;
  uint32_t filled_ = 0, next_ = 0;
  double model_sum_ = 0, baseline_sum_ = 0;  // of the ring's errors
  uint64_t divergences_ = 0;
};

}  // namespace streamlearn::pipeline

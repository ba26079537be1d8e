#pragma once
// Test oracle, not part of the learn lib: the reference LinearModel is checked against.
//
// Online binary logistic regression over a dense numeric block plus a hashed sparse block,
// trained test-then-train: predict_proba() on an event, then learn() from its label.
//
// Dense features are standardised online (Welford mean/variance per feature, part of the
// model state); a missing dense value is imputed with the running mean, i.e. standardised
// to 0, and does not count towards the statistics. One plain SGD step on log loss per
// labelled event, L2 on every weight but the bias.
//
// Robustness (NaN/Inf never enter a model):
//   - an input value is usable when |v| <= 1e100 (so NaN and ±Inf are not); beyond that
//     its square would overflow the variance. predict_proba() treats an unusable value as
//     missing; learn() skips the whole event and counts it in guarded_updates();
//   - standardised values are clipped to ±10 (a 10-sigma outlier moves a weight no more
//     than a 10-sigma value would), the margin to ±35 (where the sigmoid saturates);
//   - a step whose new weights would not all be finite is rolled back and counted.
//
// Determinism: no threads, no randomness, reductions in a fixed order: the same event
// sequence gives bit-identical weights, and a model restored by load() continues exactly
// like the one that was saved (given the same LogisticConfig).
// Hot path: predict_proba() never allocates; learn() allocates only when the dense block
// grows, once when the first sparse feature arrives, and when an event has more sparse
// entries than any before it.

#include <cstdint>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/feature_vector.hpp"

namespace streamlearn::learn {

struct LogisticConfig {
  double learning_rate = 0.05;  // constant SGD step size, on standardised features
  double l2 = 0.0;              // L2 penalty; learning_rate * l2 must be < 1
  uint32_t hash_bits = 18;      // sparse block of 2^hash_bits weights, 4..24 (as in features)

  Status validate() const;
};

class LogisticRegression {
 public:
  // `config` should have passed validate() (Create() checks it). An unvalidated config
  // cannot crash the model: hash_bits is clamped to 4..24 and bad rates only lead to
  // guarded updates.
  explicit LogisticRegression(LogisticConfig config = {});
  static Result<LogisticRegression> Create(LogisticConfig config);

  // P(y = 1 | x), in (0, 1). Mutates nothing; standardises with the statistics as they
  // are before this event. Dense features beyond what the model has seen contribute 0.
  double predict_proba(const FeatureVector& x) const;

  // Folds x into the standardisation statistics, then takes one SGD step on log loss
  // towards y (0 or 1; any value in [0, 1] is a soft label, anything else is guarded).
  void learn(const FeatureVector& x, double y);

  // Drift reset: zero weights and bias, keep the standardisation statistics. Those
  // describe the inputs, not the concept, and a fresh model needs them to learn fast.
  void reset_weights();

  uint64_t trained() const { return trained_; }  // SGD steps taken, across resets
  uint64_t guarded_updates() const { return guarded_; }  // events skipped to stay finite

  // Full state: weights, statistics, counters. Only non-zero sparse weights are written,
  // so a snapshot costs ~12 bytes per touched bucket, not 8 * 2^hash_bits.
  void save(ByteWriter& out) const;
  // Replaces the state with a saved one. Hyperparameters (learning_rate, l2) stay those of
  // this model's config, so a changed config applies after a restart; hash_bits must match
  // the snapshot's (FailedPrecondition otherwise: the buckets would mean other things).
  // Corrupt or truncated bytes give a Corruption status and leave the model unchanged.
  Status load(ByteReader& in);

  // Inspection. Dense weights apply to standardised features.
  std::vector<double> dense_weights() const { return weights_; }
  double bias() const { return bias_; }
  double sparse_weight(uint32_t bucket) const;
  size_t dense_size() const { return weights_.size(); }
  const LogisticConfig& config() const { return config_; }

 private:
  void grow_dense(size_t n);
  void fold_sparse_scale();

  LogisticConfig config_;
  uint32_t sparse_mask_;

  // Dense block: one entry per feature id, all vectors the same size.
  std::vector<double> weights_;
  std::vector<double> mean_;      // Welford running mean of the present values
  std::vector<double> m2_;        // Welford sum of squared deviations
  std::vector<uint64_t> seen_;    // present values folded in
  std::vector<double> inv_std_;   // 1 / population std-dev, 0 until it is defined (derived)
  std::vector<double> z_;         // scratch: this event's standardised values
  std::vector<double> next_weights_;  // scratch: the step is computed here, then swapped in
  double bias_ = 0;

  // Sparse block, allocated on the first sparse feature learned. The true weight of bucket
  // i is sparse_scale_ * sparse_[i]: L2 decay then costs one multiply per step instead of
  // one per bucket.
  std::vector<double> sparse_;
  double sparse_scale_ = 1;
  std::vector<std::pair<uint32_t, double>> sparse_undo_;  // scratch: old values, for rollback

  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

}  // namespace streamlearn::learn

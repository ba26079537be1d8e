#pragma once
// Helpers shared by the LinearModel sources. The numeric rules (what is usable, how a value
// is standardised, the sigmoid's clip) are LogisticRegression's, operation for operation:
// LinearModel's compatibility test asserts bit-identical results.

#include <algorithm>
#include <cmath>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "streamlearn/learn/feature_vector.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn::linear_detail {

inline constexpr uint32_t kMinHashBits = 4;
inline constexpr uint32_t kMaxHashBits = 24;

// Beyond this magnitude a value's square (the variance) could overflow a double.
inline constexpr double kMaxAbsInput = 1e100;
inline constexpr double kStandardisedClip = 10;
// sigmoid(35) is 1 - 6e-16: past it the gradient is rounding noise.
inline constexpr double kMarginClip = 35;
// When the sparse block's shared scale gets this small it is folded into the weights.
inline constexpr double kMinSparseScale = 1e-64;
// Caps 1 / std-dev so that an underflowed variance cannot give Inf (and Inf * 0 = NaN).
inline constexpr double kMaxInverseStd = 1e150;

// One comparison: false for NaN, ±Inf and values too large to square.
inline bool Usable(double v) { return std::abs(v) <= kMaxAbsInput; }

inline bool IsPresent(const FeatureVector& x, size_t j) {
  return j < x.dense.size() && j < x.present.size() && x.present[j] != 0 && Usable(x.dense[j]);
}

inline double Standardise(double v, double mean, double inv_std) {
  return std::clamp((v - mean) * inv_std, -kStandardisedClip, kStandardisedClip);
}

// The square root of a value that is never negative nor NaN: std::sqrt's result, without the
// test for an argument that would set errno.
inline double SqrtOfNonNegative(double v) {
#if defined(__SSE2__)
  const __m128d x = _mm_set_sd(v);
  return _mm_cvtsd_f64(_mm_sqrt_sd(x, x));
#else
  return std::sqrt(v);
#endif
}

inline double InverseStd(double m2, uint64_t seen) {
  if (seen < 2 || !(m2 > 0)) return 0;
  // seen >= 2 and m2 > 0: the quotient is positive (or +Inf, or 0 for m2 = +Inf).
  return std::min(SqrtOfNonNegative(static_cast<double>(seen) / m2), kMaxInverseStd);
}

inline double Sigmoid(double margin) {
  return 1.0 / (1.0 + std::exp(-std::clamp(margin, -kMarginClip, kMarginClip)));
}

// Soft-threshold: the proximal step of t |w|.
inline double SoftThreshold(double w, double t) {
  if (w > t) return w - t;
  if (w < -t) return w + t;
  return 0.0;
}

// Optimizer state values kept per weight.
inline uint32_t SlotsFor(const LinearModelConfig& c) {
  switch (c.optimizer) {
    case Optimizer::kSgd: return c.l1 > 0 ? 1 : 0;  // cumulative L1 received (q)
    case Optimizer::kAdagrad: return 1;             // sum of squared gradients
    case Optimizer::kAdam: return 2;                // first and second moments
    case Optimizer::kFtrl: return 2;                // z and n
  }
  return 0;
}

// dL/dmargin for a scalar loss at label y (log: [0, 1]; hinge: 0/1; regression: real).
inline double ScalarDloss(Loss loss, double margin, double y, double huber_epsilon) {
  switch (loss) {
    case Loss::kLog:
    case Loss::kSoftmax:  // unused for softmax (see LinearModel::learn); binary form here
      return Sigmoid(margin) - y;
    case Loss::kSquared: return margin - y;
    case Loss::kHuber: return std::clamp(margin - y, -huber_epsilon, huber_epsilon);
    case Loss::kHinge: {
      const double s = y > 0.5 ? 1.0 : -1.0;
      return s * margin <= 1.0 ? -s : 0.0;  // scikit-learn: z <= threshold
    }
  }
  return 0;
}

// scikit-learn's optimal_init: the t offset that makes the optimal schedule's first step
// typw / max(1, dloss(y = +1, p = -typw)), with typw = sqrt(1 / sqrt(alpha)).
inline double OptimalT0(const LinearModelConfig& c) {
  const double typw = std::sqrt(1.0 / std::sqrt(c.alpha));
  const double initial_eta0 = typw / std::max(1.0, ScalarDloss(c.loss, -typw, 1.0, c.huber_epsilon));
  return 1.0 / (initial_eta0 * c.alpha);
}

// The SGD step size at step t >= 1; t0 = OptimalT0(c) (only read by the optimal schedule).
inline double ScheduleRate(const LinearModelConfig& c, double t0, uint64_t t) {
  const double step = static_cast<double>(t == 0 ? 1 : t);
  switch (c.schedule) {
    case Schedule::kConstant: return c.learning_rate;
    case Schedule::kInvscaling: return c.learning_rate / std::pow(step, c.power_t);
    case Schedule::kOptimal: return 1.0 / (c.alpha * (t0 + step - 1));
    case Schedule::kNormalized: return c.learning_rate;  // divided by the input's size per step
  }
  return c.learning_rate;
}

}  // namespace streamlearn::learn::linear_detail

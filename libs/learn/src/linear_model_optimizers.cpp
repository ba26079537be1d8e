// LinearModel's optimizer steps. Each one backs up what it will touch (every dense value,
// the event's sparse entries), updates in place, and restores the backup if anything came
// out non-finite: the caller counts that as a guarded update. SGD writes its dense planes
// into the spare buffer instead and swaps it in when the step is finite.
//
// The SGD step with l1 = 0 is LogisticRegression::learn()'s arithmetic, operation for
// operation (w = decay * w - step * z; bias - step; the sparse block through a shared
// scale, folded at the same moments), which is what keeps the two bit-identical.

#include <algorithm>
#include <cmath>
#include <limits>

#include "linear_model_internal.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

using namespace linear_detail;

namespace {

bool AllFinite(const double* values, size_t count) {
  bool finite = true;
  for (size_t i = 0; i < count; ++i) finite &= std::isfinite(values[i]);
  return finite;
}

// to[j] = decay * w[j] - step * z[j] for j < n; whether every result is finite. Two weights
// at a time where SSE2 is there (every x86-64): the same multiplications and subtraction per
// value, in the same order, so the same bits; the compiler does not vectorise the scalar loop
// itself because of the running finiteness test.
bool DecayAndStep(const double* w, const double* z, double* to, size_t n, double decay, double step) {
  size_t j = 0;
  bool finite = true;
#if defined(__SSE2__)
  const __m128d d = _mm_set1_pd(decay), s = _mm_set1_pd(step);
  const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffff));
  const __m128d largest = _mm_set1_pd(std::numeric_limits<double>::max());
  __m128d all = _mm_castsi128_pd(_mm_set1_epi64x(-1));
  for (; j + 2 <= n; j += 2) {
    const __m128d v = _mm_sub_pd(_mm_mul_pd(d, _mm_loadu_pd(w + j)), _mm_mul_pd(s, _mm_loadu_pd(z + j)));
    _mm_storeu_pd(to + j, v);
    all = _mm_and_pd(all, _mm_cmple_pd(_mm_and_pd(v, abs_mask), largest));  // false for NaN
  }
  finite = _mm_movemask_pd(all) == 3;
#endif
  for (; j < n; ++j) {
    const double v = decay * w[j] - step * z[j];
    to[j] = v;
    finite &= std::isfinite(v);
  }
  return finite;
}

}  // namespace

namespace linear_detail {

// What a step function sees of the model, so the per-coordinate loop is written once.
struct StepView {
  double* dense;       // plane 0; slot s lives at dense + s * plane
  size_t plane;
  size_t n;            // dense features; each row is n weights then the bias
  uint32_t outputs;
  uint32_t slots;
  double* sparse;      // entry e at sparse + e * stride: per output the weight, then its slots
  size_t stride;
  const uint32_t* entries;
  size_t nnz;
  const double* z;
  const double* dloss;
  const FeatureVector* x;
};

}  // namespace linear_detail

namespace {

// update(w, slot0, slot1, g, regularised): g is dL/dw for this coordinate (dL/dmargin times
// the input, or dL/dmargin for the bias, which takes no L1/L2: regularised = false).
template <typename Update>
void ForEachCoordinate(const StepView& v, Update&& update) {
  double spare0 = 0, spare1 = 0;  // stand-ins for the slots an optimizer does not have
  const size_t row = v.n + 1;
  const size_t per_output = 1 + v.slots;
  for (uint32_t k = 0; k < v.outputs; ++k) {
    const double d = v.dloss[k];
    double* w = v.dense + k * row;
    double* s0 = v.slots >= 1 ? w + v.plane : nullptr;
    double* s1 = v.slots >= 2 ? w + 2 * v.plane : nullptr;
    for (size_t j = 0; j < v.n; ++j) {
      update(w[j], s0 ? s0[j] : spare0, s1 ? s1[j] : spare1, d * v.z[j], true);
    }
    update(w[v.n], s0 ? s0[v.n] : spare0, s1 ? s1[v.n] : spare1, d, false);
    for (size_t p = 0; p < v.nnz; ++p) {
      double* e = v.sparse + v.entries[p] * v.stride + k * per_output;
      update(e[0], v.slots >= 1 ? e[1] : spare0, v.slots >= 2 ? e[2] : spare1,
             d * static_cast<double>(v.x->sparse_value[p]), true);
    }
  }
}

// scikit-learn's l1penalty (Tsuruoka et al. 2009) for one weight stored as w / scale:
// pull it towards 0 by what it has not yet received of the total penalty u, never past 0;
// q records what it has received (true units).
inline void CumulativeL1(double& w, double& q, double u, double scale) {
  const double before = w;
  if (scale * w > 0) {
    w = std::max(0.0, w - (u + q) / scale);
  } else if (scale * w < 0) {
    w = std::min(0.0, w + (u - q) / scale);
  }
  q += scale * (w - before);
}

// Entries are a few values long: plain loops, not a memmove call per entry.
void BackupEntries(const StepView& v, double* backup) {
  for (size_t p = 0; p < v.nnz; ++p) {
    const double* e = v.sparse + v.entries[p] * v.stride;
    for (size_t i = 0; i < v.stride; ++i) backup[p * v.stride + i] = e[i];
  }
}

// Reverse order: a bucket listed twice gets its oldest values back.
void RestoreEntries(const StepView& v, const double* backup) {
  for (size_t p = v.nnz; p-- > 0;) {
    double* e = v.sparse + v.entries[p] * v.stride;
    for (size_t i = 0; i < v.stride; ++i) e[i] = backup[p * v.stride + i];
  }
}

bool EntriesFinite(const StepView& v) {
  bool finite = true;
  for (size_t p = 0; p < v.nnz; ++p) finite &= AllFinite(v.sparse + v.entries[p] * v.stride, v.stride);
  return finite;
}

}  // namespace

StepView LinearModel::step_view(const FeatureVector& x, size_t nnz) {
  return StepView{dense_.data(), plane_size(),    n_,      outputs_,  slots_,        sparse_.data(),
                  entry_stride(), event_entries_.data(), nnz, z_.data(), dloss_.data(), &x};
}

bool LinearModel::step_sgd(const FeatureVector& x, size_t nnz) {
  const StepView view = step_view(x, nnz);
  double eta = ScheduleRate(config_, optimal_t0_, steps_ + 1);
  if (config_.schedule == Schedule::kNormalized) {
    double norm2 = 1;  // the bias's input
    for (size_t j = 0; j < n_; ++j) norm2 += z_[j] * z_[j];
    for (size_t p = 0; p < nnz; ++p) norm2 += x.sparse_value[p] * x.sparse_value[p];
    eta /= 1 + eta * norm2;
  }
  const double decay = 1.0 - eta * config_.l2;
  const bool l1 = slots_ == 1;  // slot 0 is q, what each weight received of the L1 total
  const double l1_total = l1_total_ + eta * config_.l1;

  // The dense planes after the step are written into the spare buffer, which becomes the
  // model's when the whole step is finite (a swap): nothing to copy first or to restore, and
  // each value is checked as it is written (the values not written, the L1 plane's, are
  // copied; they are finite, as everything an accepted step left).
  const size_t row = n_ + 1;
  const double* now = dense_.data();
  double* next = dense_backup_.data();
  if (l1) std::copy(dense_.begin() + static_cast<std::ptrdiff_t>(plane_size()), dense_.end(),
                    dense_backup_.begin() + static_cast<std::ptrdiff_t>(plane_size()));
  bool finite = true;
  for (uint32_t k = 0; k < outputs_; ++k) {
    const double step = eta * dloss_[k];
    const double* w = now + k * row;
    double* to = next + k * row;
    finite &= DecayAndStep(w, z_.data(), to, n_, decay, step);
    to[n_] = w[n_] - step;
    finite &= std::isfinite(to[n_]);
    if (l1) {
      double* q = to + plane_size();
      for (size_t j = 0; j < n_; ++j) CumulativeL1(to[j], q[j], l1_total, 1.0);
    }
  }
  if (l1) finite = AllFinite(next, dense_backup_.size());  // the pull towards 0 moved the weights again

  // Sparse block in scaled form: scale' = decay * scale, v' = v - step * value / scale'.
  double next_scale = sparse_scale_;
  bool backed_up = false;
  if (finite && sparse_active_) {
    if (sparse_scale_ * decay < kMinSparseScale) fold_sparse_scale();
    next_scale = sparse_scale_ * decay;
    backed_up = true;
    const size_t stride = entry_stride();
    if (stride == 1) {
      // One output and no slot (no L1): back up, step and check each entry in one pass. A
      // bucket listed twice is backed up the second time with the first step in it, which
      // the reverse-order restore undoes last; a value that is not finite after a step stays
      // so after the next (±Inf or NaN), so checking each step is checking the last.
      const double scaled_step = eta * dloss_[0] / next_scale;
      double* sparse = sparse_.data();
      double* backup = sparse_backup_.data();
      const uint32_t* entries = event_entries_.data();
      const float* values = x.sparse_value.data();
      for (size_t p = 0; p < nnz; ++p) {
        double& e = sparse[entries[p]];
        backup[p] = e;
        e -= scaled_step * values[p];
        finite &= std::isfinite(e);
      }
    } else {
      BackupEntries(view, sparse_backup_.data());
      for (uint32_t k = 0; k < outputs_; ++k) {
        const double step = eta * dloss_[k];
        const double scaled_step = step / next_scale;
        const size_t offset = static_cast<size_t>(k) * (1 + slots_);
        for (size_t p = 0; p < nnz; ++p) {
          double* e = sparse_.data() + event_entries_[p] * stride + offset;
          e[0] -= scaled_step * x.sparse_value[p];
          if (l1) CumulativeL1(e[0], e[1], l1_total, next_scale);
        }
      }
      finite = EntriesFinite(view);
    }
  }
  if (!finite) {
    if (backed_up) RestoreEntries(view, sparse_backup_.data());
    return false;
  }
  dense_.swap(dense_backup_);
  sparse_scale_ = next_scale;
  if (l1) l1_total_ = l1_total;
  return true;
}

bool LinearModel::step_adagrad(const FeatureVector& x, size_t nnz) {
  const StepView view = step_view(x, nnz);
  const double lr = config_.learning_rate, eps = config_.epsilon;
  const double l1 = config_.l1, l2 = config_.l2;
  std::copy(dense_.begin(), dense_.end(), dense_backup_.begin());
  BackupEntries(view, sparse_backup_.data());
  ForEachCoordinate(view, [&](double& w, double& sum_sq, double&, double g, bool regularised) {
    if (regularised) g += l2 * w;
    sum_sq += g * g;
    const double denom = std::sqrt(sum_sq) + eps;
    w -= lr * g / denom;
    if (regularised && l1 > 0) w = SoftThreshold(w, lr * l1 / denom);
  });
  if (!AllFinite(dense_.data(), dense_.size()) || !EntriesFinite(view)) {
    RestoreEntries(view, sparse_backup_.data());
    std::copy(dense_backup_.begin(), dense_backup_.end(), dense_.begin());
    return false;
  }
  return true;
}

bool LinearModel::step_adam(const FeatureVector& x, size_t nnz) {
  const StepView view = step_view(x, nnz);
  const double lr = config_.learning_rate, eps = config_.epsilon;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double l1 = config_.l1, l2 = config_.l2;
  // Bias correction by the model's step count (sparse buckets too: "lazy" Adam).
  const double beta1_power = beta1_power_ * b1, beta2_power = beta2_power_ * b2;
  // w -= lr m^ / (sqrt(v^) + eps) with m^ = m / (1 - beta1^t), v^ = v / (1 - beta2^t):
  // the corrections are folded into two per-step constants (one division per coordinate).
  const double corrected_lr = lr / (1 - beta1_power);
  const double inverse_correction2 = 1 / (1 - beta2_power);
  std::copy(dense_.begin(), dense_.end(), dense_backup_.begin());
  BackupEntries(view, sparse_backup_.data());
  ForEachCoordinate(view, [&](double& w, double& m, double& v, double g, bool regularised) {
    if (regularised) g += l2 * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double denom = std::sqrt(v * inverse_correction2) + eps;
    w -= corrected_lr * m / denom;
    if (regularised && l1 > 0) w = SoftThreshold(w, lr * l1 / denom);
  });
  if (!AllFinite(dense_.data(), dense_.size()) || !EntriesFinite(view)) {
    RestoreEntries(view, sparse_backup_.data());
    std::copy(dense_backup_.begin(), dense_backup_.end(), dense_.begin());
    return false;
  }
  beta1_power_ = beta1_power;
  beta2_power_ = beta2_power;
  return true;
}

bool LinearModel::step_ftrl(const FeatureVector& x, size_t nnz) {
  const StepView view = step_view(x, nnz);
  const double inverse_alpha = 1 / config_.ftrl_alpha, beta = config_.ftrl_beta;
  std::copy(dense_.begin(), dense_.end(), dense_backup_.begin());
  BackupEntries(view, sparse_backup_.data());
  // McMahan et al. 2013, algorithm 1, per coordinate. The weight is kept (not recomputed
  // from z and n at prediction time) so predicting costs what it costs for SGD.
  ForEachCoordinate(view, [&](double& w, double& z, double& n, double g, bool regularised) {
    if (g == 0) return;  // nothing changes: sigma = 0, z and n stay, so does w
    const double root_before = std::sqrt(n);
    n += g * g;
    const double root = std::sqrt(n);
    z += g - (root - root_before) * inverse_alpha * w;  // sigma = (sqrt(n') - sqrt(n)) / alpha
    const double l1 = regularised ? config_.l1 : 0.0;
    const double l2 = regularised ? config_.l2 : 0.0;
    w = std::abs(z) <= l1 ? 0.0 : -(z - std::copysign(l1, z)) / ((beta + root) * inverse_alpha + l2);
  });
  if (!AllFinite(dense_.data(), dense_.size()) || !EntriesFinite(view)) {
    RestoreEntries(view, sparse_backup_.data());
    std::copy(dense_backup_.begin(), dense_backup_.end(), dense_.begin());
    return false;
  }
  return true;
}

}  // namespace streamlearn::learn

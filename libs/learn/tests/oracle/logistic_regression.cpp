#include "oracle/logistic_regression.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

namespace streamlearn::learn {

namespace {

constexpr uint32_t kMinHashBits = 4;
constexpr uint32_t kMaxHashBits = 24;

// Beyond this magnitude a value's square (the variance) could overflow a double.
constexpr double kMaxAbsInput = 1e100;
constexpr double kStandardisedClip = 10;
// sigmoid(35) is 1 - 6e-16: past it the gradient is rounding noise and exp() gains nothing.
constexpr double kMarginClip = 35;
// When the sparse block's shared scale gets this small it is folded into the weights, long
// before the scaled weights (~ step / scale) could approach overflow.
constexpr double kMinSparseScale = 1e-64;

constexpr uint32_t kSnapshotMagic = 0x524c4c53;  // "SLLR", little-endian
constexpr uint32_t kSnapshotVersion = 1;

// One comparison: false for NaN, ±Inf and values too large to square.
inline bool Usable(double v) { return std::abs(v) <= kMaxAbsInput; }

inline bool IsPresent(const FeatureVector& x, size_t j) {
  return j < x.dense.size() && j < x.present.size() && x.present[j] != 0 && Usable(x.dense[j]);
}

// Standardised value; the mean (0) while the variance is undefined (inv_std == 0).
inline double Standardise(double v, double mean, double inv_std) {
  return std::clamp((v - mean) * inv_std, -kStandardisedClip, kStandardisedClip);
}

// Capped so that a variance that underflowed (denormal m2) cannot yield Inf, and with it
// Inf * 0 = NaN for a value equal to the mean: |v - mean| <= 2e100 times 1e150 is finite.
constexpr double kMaxInverseStd = 1e150;

inline double InverseStd(double m2, uint64_t seen) {
  if (seen < 2 || !(m2 > 0)) return 0;
  return std::min(std::sqrt(static_cast<double>(seen) / m2), kMaxInverseStd);
}

inline double Sigmoid(double margin) {
  return 1.0 / (1.0 + std::exp(-std::clamp(margin, -kMarginClip, kMarginClip)));
}

using VectorMap = Eigen::Map<Eigen::VectorXd>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXd>;

}  // namespace

Status LogisticConfig::validate() const {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    return Status::Invalid("learning_rate: must be a positive finite number");
  }
  if (!(l2 >= 0) || !std::isfinite(l2)) {
    return Status::Invalid("l2: must be a finite number >= 0");
  }
  if (!(learning_rate * l2 < 1)) {
    // The per-step decay 1 - learning_rate * l2 would flip the weights' signs.
    return Status::Invalid("l2: learning_rate * l2 must be below 1");
  }
  if (hash_bits < kMinHashBits || hash_bits > kMaxHashBits) {
    return Status::Invalid("hash_bits: must be between 4 and 24");
  }
  return Status::Ok();
}

LogisticRegression::LogisticRegression(LogisticConfig config) : config_(config) {
  config_.hash_bits = std::clamp(config_.hash_bits, kMinHashBits, kMaxHashBits);
  sparse_mask_ = (1u << config_.hash_bits) - 1;
}

Result<LogisticRegression> LogisticRegression::Create(LogisticConfig config) {
  SL_RETURN_IF_ERROR(config.validate());
  return LogisticRegression(config);
}

double LogisticRegression::predict_proba(const FeatureVector& x) const {
  double margin = bias_;
  const size_t n = std::min(x.dense.size(), weights_.size());
  for (size_t j = 0; j < n; ++j) {
    if (IsPresent(x, j)) margin += weights_[j] * Standardise(x.dense[j], mean_[j], inv_std_[j]);
  }
  if (!sparse_.empty()) {
    const size_t nnz = std::min(x.sparse_index.size(), x.sparse_value.size());
    double sum = 0;
    for (size_t k = 0; k < nnz; ++k) {
      const double v = x.sparse_value[k];
      if (Usable(v)) sum += sparse_[x.sparse_index[k] & sparse_mask_] * v;
    }
    margin += sparse_scale_ * sum;
  }
  if (std::isnan(margin)) return 0.5;  // unreachable while weights stay finite; cheap to keep
  return Sigmoid(margin);
}

void LogisticRegression::learn(const FeatureVector& x, double y) {
  // Validate everything first, so a rejected event leaves no trace but the counter.
  if (!(y >= 0 && y <= 1)) {
    ++guarded_;
    return;
  }
  const size_t n_in = x.dense.size();
  for (size_t j = 0; j < n_in && j < x.present.size(); ++j) {
    if (x.present[j] != 0 && !Usable(x.dense[j])) {
      ++guarded_;
      return;
    }
  }
  const size_t nnz = std::min(x.sparse_index.size(), x.sparse_value.size());
  for (size_t k = 0; k < nnz; ++k) {
    if (!Usable(x.sparse_value[k])) {
      ++guarded_;
      return;
    }
  }
  if (n_in > weights_.size()) grow_dense(n_in);
  if (nnz > 0 && sparse_.empty()) sparse_.assign(size_t{1} << config_.hash_bits, 0.0);

  // Welford. Usable inputs (|v| <= 1e100) keep mean and m2 finite, so these updates
  // stand even if the weight step below is rolled back: they describe the inputs.
  for (size_t j = 0; j < n_in; ++j) {
    if (!IsPresent(x, j)) continue;
    const double v = x.dense[j];
    const uint64_t seen = ++seen_[j];
    const double delta = v - mean_[j];
    mean_[j] += delta / static_cast<double>(seen);
    m2_[j] += delta * (v - mean_[j]);
    inv_std_[j] = InverseStd(m2_[j], seen);
  }

  // Margin with the updated statistics (as a scaler-then-model pipeline would see it).
  const size_t n = weights_.size();
  double margin = bias_;
  for (size_t j = 0; j < n; ++j) {
    z_[j] = IsPresent(x, j) ? Standardise(x.dense[j], mean_[j], inv_std_[j]) : 0.0;
    margin += weights_[j] * z_[j];
  }
  double sparse_sum = 0;
  for (size_t k = 0; k < nnz; ++k) {
    sparse_sum += sparse_[x.sparse_index[k] & sparse_mask_] * x.sparse_value[k];
  }
  if (!sparse_.empty()) margin += sparse_scale_ * sparse_sum;
  if (std::isnan(margin)) {
    ++guarded_;
    return;
  }

  const double step = config_.learning_rate * (Sigmoid(margin) - y);
  const double decay = 1.0 - config_.learning_rate * config_.l2;

  // Dense block: w <- decay * w - step * z, computed aside and swapped in if finite.
  // Element-wise only, so vectorisation cannot change the bits.
  VectorMap next(next_weights_.data(), static_cast<Eigen::Index>(n));
  next = decay * ConstVectorMap(weights_.data(), static_cast<Eigen::Index>(n)) -
         step * ConstVectorMap(z_.data(), static_cast<Eigen::Index>(n));
  const double next_bias = bias_ - step;
  bool finite = next.allFinite() && std::isfinite(next_bias);

  // Sparse block in scaled form: scale' = decay * scale, v' = v - step * value / scale'.
  // Applied in place with an undo log, which also handles a bucket listed twice.
  double next_scale = sparse_scale_;
  sparse_undo_.clear();
  if (finite && !sparse_.empty()) {
    if (sparse_scale_ * decay < kMinSparseScale) fold_sparse_scale();
    next_scale = sparse_scale_ * decay;
    const double scaled_step = step / next_scale;
    for (size_t k = 0; k < nnz && finite; ++k) {
      const uint32_t bucket = x.sparse_index[k] & sparse_mask_;
      sparse_undo_.emplace_back(bucket, sparse_[bucket]);
      sparse_[bucket] -= scaled_step * x.sparse_value[k];
      finite = std::isfinite(sparse_[bucket]);
    }
  }
  if (!finite) {
    for (auto it = sparse_undo_.rbegin(); it != sparse_undo_.rend(); ++it) sparse_[it->first] = it->second;
    ++guarded_;
    return;
  }
  weights_.swap(next_weights_);
  bias_ = next_bias;
  sparse_scale_ = next_scale;
  ++trained_;
}

void LogisticRegression::reset_weights() {
  std::fill(weights_.begin(), weights_.end(), 0.0);
  bias_ = 0;
  std::fill(sparse_.begin(), sparse_.end(), 0.0);
  sparse_scale_ = 1;
}

double LogisticRegression::sparse_weight(uint32_t bucket) const {
  if (sparse_.empty()) return 0;
  return sparse_scale_ * sparse_[bucket & sparse_mask_];
}

void LogisticRegression::grow_dense(size_t n) {
  weights_.resize(n, 0.0);
  mean_.resize(n, 0.0);
  m2_.resize(n, 0.0);
  seen_.resize(n, 0);
  inv_std_.resize(n, 0.0);
  z_.resize(n, 0.0);
  next_weights_.resize(n, 0.0);
}

void LogisticRegression::fold_sparse_scale() {
  for (double& v : sparse_) v *= sparse_scale_;
  sparse_scale_ = 1;
}

// Layout (little-endian, see ByteWriter):
//   magic u32 | version u32 | hash_bits u32 | trained u64 | guarded u64 | bias f64
//   | n u32 | n x (weight f64, mean f64, m2 f64, seen u64)
//   | sparse_allocated u8 | sparse_scale f64 | nnz u64 | nnz x (bucket u32, scaled weight f64)
// Buckets ascending. "Non-zero" is by bit pattern, so a -0.0 survives the round trip.
void LogisticRegression::save(ByteWriter& out) const {
  out.u32(kSnapshotMagic);
  out.u32(kSnapshotVersion);
  out.u32(config_.hash_bits);
  out.u64(trained_);
  out.u64(guarded_);
  out.f64(bias_);
  out.u32(static_cast<uint32_t>(weights_.size()));
  for (size_t j = 0; j < weights_.size(); ++j) {
    out.f64(weights_[j]);
    out.f64(mean_[j]);
    out.f64(m2_[j]);
    out.u64(seen_[j]);
  }
  out.u8(sparse_.empty() ? 0 : 1);
  out.f64(sparse_scale_);
  uint64_t nnz = 0;
  for (double v : sparse_) nnz += std::bit_cast<uint64_t>(v) != 0;
  out.u64(nnz);
  for (size_t i = 0; i < sparse_.size(); ++i) {
    if (std::bit_cast<uint64_t>(sparse_[i]) == 0) continue;
    out.u32(static_cast<uint32_t>(i));
    out.f64(sparse_[i]);
  }
}

Status LogisticRegression::load(ByteReader& in) {
  constexpr size_t kDenseEntryBytes = 8 * 4;
  constexpr size_t kSparseEntryBytes = 4 + 8;
  const auto corrupt = [](const std::string& what) {
    return Status::Corruption("logistic regression snapshot: " + what);
  };

  const uint32_t magic = in.u32();
  const uint32_t version = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (magic != kSnapshotMagic) return corrupt("not a logistic regression model");
  if (version != kSnapshotVersion) {
    return corrupt("format version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kSnapshotVersion));
  }
  const uint32_t hash_bits = in.u32();
  const uint64_t trained = in.u64();
  const uint64_t guarded = in.u64();
  const double bias = in.f64();
  const uint32_t n = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (hash_bits != config_.hash_bits) {
    return Status::FailedPrecondition("logistic regression snapshot: written with hash_bits " +
                                      std::to_string(hash_bits) + ", the model is configured with " +
                                      std::to_string(config_.hash_bits));
  }
  if (!std::isfinite(bias)) return corrupt("non-finite bias");
  // Bound every size by the bytes actually left before allocating for it.
  if (n > in.remaining() / kDenseEntryBytes) return corrupt("dense block larger than the snapshot");

  std::vector<double> weights(n), mean(n), m2(n), inv_std(n);
  std::vector<uint64_t> seen(n);
  for (uint32_t j = 0; j < n; ++j) {
    weights[j] = in.f64();
    mean[j] = in.f64();
    m2[j] = in.f64();
    seen[j] = in.u64();
    if (!std::isfinite(weights[j]) || !std::isfinite(mean[j]) || !(m2[j] >= 0) || !std::isfinite(m2[j])) {
      return corrupt("non-finite dense state at feature " + std::to_string(j));
    }
    inv_std[j] = InverseStd(m2[j], seen[j]);
  }

  const uint8_t sparse_allocated = in.u8();
  const double sparse_scale = in.f64();
  const uint64_t nnz = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (sparse_allocated > 1) return corrupt("bad sparse flag");
  if (!(sparse_scale > 0) || !std::isfinite(sparse_scale)) return corrupt("bad sparse scale");
  const uint64_t buckets = uint64_t{1} << hash_bits;
  if ((sparse_allocated == 0 && nnz != 0) || nnz > buckets || nnz > in.remaining() / kSparseEntryBytes) {
    return corrupt("bad sparse weight count");
  }
  std::vector<double> sparse;
  if (sparse_allocated) sparse.assign(buckets, 0.0);
  int64_t previous = -1;
  for (uint64_t k = 0; k < nnz; ++k) {
    const uint32_t bucket = in.u32();
    const double v = in.f64();
    if (bucket >= buckets || static_cast<int64_t>(bucket) <= previous || !std::isfinite(v)) {
      return corrupt("bad sparse weight entry");
    }
    sparse[bucket] = v;
    previous = bucket;
  }
  if (!in.ok()) return corrupt("truncated");

  weights_ = std::move(weights);
  mean_ = std::move(mean);
  m2_ = std::move(m2);
  seen_ = std::move(seen);
  inv_std_ = std::move(inv_std);
  z_.assign(n, 0.0);
  next_weights_.assign(n, 0.0);
  bias_ = bias;
  sparse_ = std::move(sparse);
  sparse_scale_ = sparse_scale;
  trained_ = trained;
  guarded_ = guarded;
  return Status::Ok();
}

}  // namespace streamlearn::learn

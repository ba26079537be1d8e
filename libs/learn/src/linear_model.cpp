// LinearModel: construction, prediction, the learn() frame (validation, statistics,
// margins, loss gradients, rollback), growth, the sparse table and inspection. The
// optimizer steps are in linear_model_optimizers.cpp, save/load in linear_model_snapshot.cpp.

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "linear_model_internal.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

using namespace linear_detail;

namespace {

constexpr uint32_t kEmptyBucket = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoEntry = std::numeric_limits<uint32_t>::max();
constexpr size_t kInitialTableSize = 64;

// Fibonacci hashing: bucket ids are often small and consecutive; this spreads them over
// the top bits. shift = 32 - log2(table size), so the result is a slot index.
inline size_t TableIndex(uint32_t bucket, uint32_t shift) {
  return static_cast<size_t>((bucket * 0x9E3779B9u) >> shift);
}

// Scores handed out are finite: an overflowing sum saturates, Inf - Inf reads as 0.
inline double FiniteScore(double v) {
  if (std::isnan(v)) return 0;
  return std::clamp(v, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
}

// Softmax of margins[0..k) in place (stable: the largest margin is subtracted first);
// returns the most probable class, the lowest index on ties.
int32_t SoftmaxInPlace(double* margins, uint32_t k) {
  int32_t best = 0;
  for (uint32_t c = 0; c < k; ++c) {
    margins[c] = FiniteScore(margins[c]);
    if (margins[c] > margins[best]) best = static_cast<int32_t>(c);
  }
  const double top = margins[best];
  double sum = 0;
  for (uint32_t c = 0; c < k; ++c) {
    margins[c] = std::exp(margins[c] - top);
    sum += margins[c];
  }
  for (uint32_t c = 0; c < k; ++c) margins[c] /= sum;  // sum >= 1: the top class gives exp(0)
  return best;
}

LinearModelConfig Sanitised(LinearModelConfig c) {
  const LinearModelConfig defaults;
  if (c.loss < Loss::kLog || c.loss > Loss::kHinge) c.loss = defaults.loss;
  if (c.optimizer < Optimizer::kSgd || c.optimizer > Optimizer::kFtrl) c.optimizer = defaults.optimizer;
  if (c.schedule < Schedule::kConstant || c.schedule > Schedule::kNormalized) c.schedule = defaults.schedule;
  c.hash_bits = std::clamp(c.hash_bits, kMinHashBits, kMaxHashBits);
  if (c.loss != Loss::kSoftmax || c.classes == 1 || c.classes > kMaxSoftmaxClasses) c.classes = 0;
  return c;
}

}  // namespace

LinearModel::LinearModel(LinearModelConfig config) : config_(Sanitised(config)) {
  sparse_mask_ = (1u << config_.hash_bits) - 1;
  slots_ = SlotsFor(config_);
  optimal_t0_ = OptimalT0(config_);
  outputs_ = config_.loss == Loss::kSoftmax ? config_.classes : 1;
  dense_.assign((1 + slots_) * plane_size(), 0.0);
  resize_scratch();
}

Result<LinearModel> LinearModel::Create(LinearModelConfig config) {
  SL_RETURN_IF_ERROR(config.validate());
  return LinearModel(config);
}

uint32_t LinearModel::classes() const {
  switch (config_.loss) {
    case Loss::kSoftmax: return outputs_;
    case Loss::kLog:
    case Loss::kHinge: return 2;
    default: return 0;
  }
}

// ---------------------------------------------------------------------------------------
// Prediction

// LogisticRegression::predict_proba's sum, term for term, for one output.
double LinearModel::linear_margin(const FeatureVector& x, uint32_t output, Memo* memo) const {
  const double* w = dense_.data() + static_cast<size_t>(output) * (n_ + 1);
  double margin = w[n_];
  const double* dense = x.dense.data();
  const uint8_t* present = x.present.data();
  bool usable = true;  // for the memo: validate_and_prepare's finding
  if (config_.standardize) {
    // A missing value standardises to 0: it adds nothing.
    const size_t n = std::min({x.dense.size(), x.present.size(), n_});  // IsPresent's bounds
    const double* mean = mean_.data();
    const double* inv_std = inv_std_.data();
    for (size_t j = 0; j < n; ++j) {
      if (present[j] != 0 && Usable(dense[j])) {
        margin += w[j] * Standardise(dense[j], mean[j], inv_std[j]);
      } else if (present[j] != 0) {
        usable = false;
      }
    }
  } else {
    for (size_t j = 0; j < n_; ++j) margin += w[j] * (IsPresent(x, j) ? x.dense[j] : mean_[j]);
  }
  const size_t nnz = std::min(x.sparse_index.size(), x.sparse_value.size());
  if (memo != nullptr) {
    // The values the loops above did not check (inputs the model has not grown to yet, or all
    // of them without standardisation), as validate_and_prepare checks them.
    const size_t n_given = std::min(x.dense.size(), x.present.size());
    for (size_t j = config_.standardize ? std::min(n_given, n_) : 0; j < n_given; ++j) {
      if (present[j] != 0 && !Usable(dense[j])) usable = false;
    }
    if (memo->entries.size() < nnz) memo->entries.resize(nnz);
    memo->dense_size = x.dense.size();
    memo->nnz = nnz;
  }
  if (sparse_active_ || memo != nullptr) {
    const size_t stride = entry_stride();
    const size_t offset = static_cast<size_t>(output) * (1 + slots_);
    double sum = 0;
    for (size_t k = 0; k < nnz; ++k) {
      const double v = x.sparse_value[k];
      if (!Usable(v)) {
        usable = false;
        if (memo != nullptr) memo->entries[k] = kNoEntry;
        continue;
      }
      const uint32_t e = find_entry(x.sparse_index[k] & sparse_mask_);
      if (memo != nullptr) memo->entries[k] = e;
      const double stored = e == kNoEntry ? 0.0 : sparse_[e * stride + offset];
      sum += stored * v;
    }
    if (sparse_active_) margin += sparse_scale_ * sum;
  }
  if (memo != nullptr) {
    memo->inputs_usable = usable;
    memo->kept = true;
  }
  return margin;
}

void LinearModel::margins_for_prediction(const FeatureVector& x, double* margins) const {
  for (uint32_t k = 0; k < outputs_; ++k) margins[k] = linear_margin(x, k);
}

void LinearModel::fill_prediction(double* margins, Prediction& out) const {
  const double m = margins[0];
  switch (config_.loss) {
    case Loss::kLog:
      out.score = std::isnan(m) ? 0.5 : Sigmoid(m);
      out.class_index = out.score >= 0.5 ? 1 : 0;
      break;
    case Loss::kHinge:
      out.score = FiniteScore(m);
      out.class_index = out.score >= 0 ? 1 : 0;
      break;
    case Loss::kSquared:
    case Loss::kHuber:
      out.score = FiniteScore(m);
      out.class_index = -1;
      break;
    case Loss::kSoftmax:
      out.class_index = SoftmaxInPlace(margins, outputs_);
      out.score = margins[out.class_index];
      break;
  }
}

void LinearModel::predict(const FeatureVector& x, Prediction& out) const {
  if (config_.loss != Loss::kSoftmax) {
    out.probabilities.clear();
    double margin = linear_margin(x, 0);
    fill_prediction(&margin, out);
    return;
  }
  out.probabilities.resize(outputs_);
  if (outputs_ == 0) {
    out.score = 0;
    out.class_index = -1;
    return;
  }
  margins_for_prediction(x, out.probabilities.data());
  fill_prediction(out.probabilities.data(), out);
}

void LinearModel::predict_keeping(const FeatureVector& x, Prediction& out, Memo& memo) const {
  memo.kept = false;
  if (config_.loss == Loss::kSoftmax) {  // one margin per class: nothing kept
    predict(x, out);
    return;
  }
  out.probabilities.clear();
  double margin = linear_margin(x, 0, &memo);
  fill_prediction(&margin, out);
}

Prediction LinearModel::predict(const FeatureVector& x) const {
  Prediction out;
  predict(x, out);
  return out;
}

double LinearModel::predict_score(const FeatureVector& x) const {
  if (config_.loss == Loss::kSoftmax) {
    if (outputs_ == 0) return 0;
    double margins[kMaxSoftmaxClasses];
    margins_for_prediction(x, margins);
    return margins[SoftmaxInPlace(margins, outputs_)];
  }
  Prediction out;  // no allocation: probabilities stays empty
  double margin = linear_margin(x, 0);
  fill_prediction(&margin, out);
  return out.score;
}

// ---------------------------------------------------------------------------------------
// Learning

// Everything that can reject the event is checked before anything changes, so a rejected
// event leaves no trace but the counter (LogisticRegression's order: label, dense, sparse).
bool LinearModel::validate_and_prepare(const FeatureVector& x, double y, uint32_t& label_class, const Memo* memo) {
  switch (config_.loss) {
    case Loss::kLog:
      if (!(y >= 0 && y <= 1)) return false;
      break;
    case Loss::kHinge:
      if (!(y == 0 || y == 1)) return false;
      break;
    case Loss::kSquared:
    case Loss::kHuber:
      if (!Usable(y)) return false;
      break;
    case Loss::kSoftmax: {
      const double limit = config_.classes != 0 ? config_.classes : kMaxSoftmaxClasses;
      if (!(y >= 0 && y < limit) || y != std::floor(y)) return false;
      label_class = static_cast<uint32_t>(y);
      break;
    }
  }
  const size_t n_in = x.dense.size();
  const size_t nnz = std::min(x.sparse_index.size(), x.sparse_value.size());
  // A memo of this vector: its check was made while predicting, its entries found.
  const bool kept = memo != nullptr && memo->kept && memo->dense_size == n_in && memo->nnz == nnz;
  if (!(kept && memo->inputs_usable)) {
    const double* dense = x.dense.data();
    const uint8_t* present = x.present.data();
    const size_t n_given = std::min(n_in, x.present.size());
    for (size_t j = 0; j < n_given; ++j) {
      if (present[j] != 0 && !Usable(dense[j])) return false;
    }
    for (size_t k = 0; k < nnz; ++k) {
      if (!Usable(x.sparse_value[k])) return false;
    }
  }

  if (n_in > n_) grow_dense(n_in);
  if (config_.loss == Loss::kSoftmax && label_class >= outputs_) grow_outputs(label_class + 1);
  if (event_entries_.size() < nnz) event_entries_.resize(nnz);
  if (sparse_backup_.size() < nnz * entry_stride()) sparse_backup_.resize(nnz * entry_stride());
  // Whether the table's fill was checked since the last insertion (nothing else changes it).
  bool fill_checked = false;
  for (size_t k = 0; k < nnz; ++k) {
    const uint32_t bucket = x.sparse_index[k] & sparse_mask_;
    const uint32_t e = kept ? memo->entries[k] : kNoEntry;
    if (e < entry_bucket_.size() && entry_bucket_[e] == bucket) {
      // Found while predicting (and still that bucket's). The table grows when a lookup
      // finds it half full, so it grows here as find_or_insert_entry would have grown it
      // (once: a second check before the next insertion finds what the first left).
      if (!fill_checked) grow_table_if_half_full();
      fill_checked = true;
      event_entries_[k] = e;
    } else {
      event_entries_[k] = find_or_insert_entry(bucket);
      fill_checked = false;
    }
  }
  if (nnz > 0) sparse_active_ = true;
  return true;
}

void LinearModel::learn(const FeatureVector& x, double y) { learn_predicted(x, y, nullptr); }

void LinearModel::learn_predicted(const FeatureVector& x, double y, const Memo* memo) {
  uint32_t label_class = 0;
  if (!validate_and_prepare(x, y, label_class, memo)) {
    ++guarded_;
    return;
  }
  const size_t n_in = x.dense.size();
  const size_t nnz = std::min(x.sparse_index.size(), x.sparse_value.size());

  // Welford. Usable inputs keep mean and m2 finite, so these updates stand even if the
  // step below is rolled back: they describe the inputs. Then the input as the model sees
  // it, with its updated statistics (as a scaler-then-model pipeline would); missing: the
  // running mean, i.e. 0 once standardised. One pass: input j's statistics and z_[j] depend
  // on input j only. n_ >= n_in (validate_and_prepare grew the model).
  const double* dense = x.dense.data();
  const uint8_t* present = x.present.data();
  const size_t n_given = std::min(n_in, x.present.size());  // IsPresent's bounds
  // With one output its margin's dense part is summed in the same pass, term by term in the
  // same order as the loop below would (the bias first, then input 0, 1, ...). The arrays
  // are read through local pointers (stores through the vectors' own would make the compiler
  // reload them for every input), the inputs the event does not give are a second loop, and
  // the standardisation is decided once per event.
  double* const mean = mean_.data();
  double* const m2 = m2_.data();
  uint64_t* const seen = seen_.data();
  double* const inv_std = inv_std_.data();
  double* const z = z_.data();
  const size_t n = n_;
  auto standardise_inputs = [&](auto sum_margin, auto standardise, const double* w) {
    constexpr bool kMargin = decltype(sum_margin)::value;
    constexpr bool kStandardise = decltype(standardise)::value;
    double margin = kMargin ? w[n] : 0.0;
    for (size_t j = 0; j < n_given; ++j) {
      const double v = dense[j];
      if (present[j] != 0 && Usable(v)) {
        const uint64_t count = ++seen[j];
        const double delta = v - mean[j];
        mean[j] += delta / static_cast<double>(count);
        m2[j] += delta * (v - mean[j]);
        inv_std[j] = InverseStd(m2[j], count);
        z[j] = kStandardise ? Standardise(v, mean[j], inv_std[j]) : v;
      } else {
        z[j] = kStandardise ? 0.0 : mean[j];
      }
      if constexpr (kMargin) margin += w[j] * z[j];
    }
    for (size_t j = n_given; j < n; ++j) {
      z[j] = kStandardise ? 0.0 : mean[j];
      if constexpr (kMargin) margin += w[j] * z[j];
    }
    return margin;
  };
  const bool one_output = outputs_ == 1;
  double dense_margin = 0;
  if (config_.standardize) {
    dense_margin = one_output ? standardise_inputs(std::true_type{}, std::true_type{}, dense_.data())
                              : standardise_inputs(std::false_type{}, std::true_type{}, nullptr);
  } else {
    dense_margin = one_output ? standardise_inputs(std::true_type{}, std::false_type{}, dense_.data())
                              : standardise_inputs(std::false_type{}, std::false_type{}, nullptr);
  }

  const size_t stride = entry_stride();
  for (uint32_t k = 0; k < outputs_; ++k) {
    double margin = dense_margin;
    if (!one_output) {
      const double* w = dense_.data() + static_cast<size_t>(k) * (n_ + 1);
      margin = w[n_];
      for (size_t j = 0; j < n_; ++j) margin += w[j] * z_[j];
    }
    double sparse_sum = 0;
    const size_t offset = static_cast<size_t>(k) * (1 + slots_);
    for (size_t p = 0; p < nnz; ++p) sparse_sum += sparse_[event_entries_[p] * stride + offset] * x.sparse_value[p];
    if (sparse_active_) margin += sparse_scale_ * sparse_sum;
    margins_[k] = margin;
  }

  // dL/dmargin per output. The logistic margin is clipped inside the sigmoid, so only NaN
  // is fatal there; the other losses use the margin as it is and need it finite.
  if (config_.loss == Loss::kSoftmax) {
    for (uint32_t k = 0; k < outputs_; ++k) {
      if (!std::isfinite(margins_[k])) {
        ++guarded_;
        return;
      }
      dloss_[k] = margins_[k];
    }
    SoftmaxInPlace(dloss_.data(), outputs_);
    dloss_[label_class] -= 1.0;
  } else {
    const double m = margins_[0];
    if (config_.loss == Loss::kLog ? std::isnan(m) : !std::isfinite(m)) {
      ++guarded_;
      return;
    }
    dloss_[0] = ScalarDloss(config_.loss, m, y, config_.huber_epsilon);
  }

  bool finite = false;
  switch (config_.optimizer) {
    case Optimizer::kSgd: finite = step_sgd(x, nnz); break;
    case Optimizer::kAdagrad: finite = step_adagrad(x, nnz); break;
    case Optimizer::kAdam: finite = step_adam(x, nnz); break;
    case Optimizer::kFtrl: finite = step_ftrl(x, nnz); break;
  }
  if (!finite) {
    ++guarded_;
    return;
  }
  ++steps_;
  ++trained_;
}

size_t LinearModel::memory_bytes() const {
  auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  return sizeof(*this) + bytes(mean_) + bytes(m2_) + bytes(seen_) + bytes(inv_std_) + bytes(dense_) +
         bytes(dense_backup_) + bytes(table_) + bytes(entry_bucket_) + bytes(sparse_) + bytes(z_) + bytes(margins_) +
         bytes(dloss_) + bytes(event_entries_) + bytes(sparse_backup_);
}

void LinearModel::reset_weights() {
  std::fill(dense_.begin(), dense_.end(), 0.0);
  std::fill(table_.begin(), table_.end(), TableSlot{kEmptyBucket, kNoEntry});
  entry_bucket_.clear();
  sparse_.clear();
  sparse_scale_ = 1;
  steps_ = 0;
  l1_total_ = 0;
  beta1_power_ = 1;
  beta2_power_ = 1;
}

// ---------------------------------------------------------------------------------------
// Growth

void LinearModel::grow_dense(size_t n) {
  mean_.resize(n, 0.0);
  m2_.resize(n, 0.0);
  seen_.resize(n, 0);
  inv_std_.resize(n, 0.0);
  // Rows get longer: copy each row's weights, then its bias to the new last place.
  std::vector<double> grown((1 + slots_) * static_cast<size_t>(outputs_) * (n + 1), 0.0);
  const size_t rows = (1 + slots_) * static_cast<size_t>(outputs_);
  for (size_t r = 0; r < rows; ++r) {
    const double* from = dense_.data() + r * (n_ + 1);
    double* to = grown.data() + r * (n + 1);
    std::copy(from, from + n_, to);
    to[n] = from[n_];
  }
  dense_.swap(grown);
  n_ = n;
  resize_scratch();
}

void LinearModel::grow_outputs(uint32_t k) {
  // Dense: each plane gains rows at its end.
  const size_t old_plane = plane_size();
  const size_t new_plane = static_cast<size_t>(k) * (n_ + 1);
  std::vector<double> dense((1 + slots_) * new_plane, 0.0);
  for (size_t p = 0; p <= slots_; ++p) {
    std::copy(dense_.begin() + static_cast<std::ptrdiff_t>(p * old_plane),
              dense_.begin() + static_cast<std::ptrdiff_t>((p + 1) * old_plane),
              dense.begin() + static_cast<std::ptrdiff_t>(p * new_plane));
  }
  dense_.swap(dense);
  // Sparse: each entry gains outputs at its end.
  const size_t old_stride = entry_stride();
  const size_t new_stride = static_cast<size_t>(k) * (1 + slots_);
  std::vector<double> sparse(entry_bucket_.size() * new_stride, 0.0);
  for (size_t e = 0; e < entry_bucket_.size(); ++e) {
    std::copy(sparse_.begin() + static_cast<std::ptrdiff_t>(e * old_stride),
              sparse_.begin() + static_cast<std::ptrdiff_t>((e + 1) * old_stride),
              sparse.begin() + static_cast<std::ptrdiff_t>(e * new_stride));
  }
  sparse_.swap(sparse);
  outputs_ = k;
  resize_scratch();
}

void LinearModel::resize_scratch() {
  z_.resize(n_, 0.0);
  margins_.resize(outputs_, 0.0);
  dloss_.resize(outputs_, 0.0);
  dense_backup_.resize(dense_.size(), 0.0);
  sparse_backup_.resize(event_entries_.size() * entry_stride(), 0.0);
}

// ---------------------------------------------------------------------------------------
// Sparse table

uint32_t LinearModel::find_entry(uint32_t bucket) const {
  if (table_.empty()) return kNoEntry;
  const size_t mask = table_.size() - 1;
  for (size_t i = TableIndex(bucket, table_shift_);; i = (i + 1) & mask) {
    if (table_[i].bucket == bucket) return table_[i].entry;
    if (table_[i].bucket == kEmptyBucket) return kNoEntry;
  }
}

void LinearModel::grow_table_if_half_full() {
  // At most half full, so probes stay short and an empty slot always ends a probe.
  if (2 * (entry_bucket_.size() + 1) > table_.size()) {
    rehash(std::max(kInitialTableSize, 2 * table_.size()));
  }
}

uint32_t LinearModel::find_or_insert_entry(uint32_t bucket) {
  grow_table_if_half_full();
  const size_t mask = table_.size() - 1;
  size_t i = TableIndex(bucket, table_shift_);
  for (; table_[i].bucket != kEmptyBucket; i = (i + 1) & mask) {
    if (table_[i].bucket == bucket) return table_[i].entry;
  }
  const uint32_t entry = static_cast<uint32_t>(entry_bucket_.size());
  table_[i] = TableSlot{bucket, entry};
  entry_bucket_.push_back(bucket);
  sparse_.resize(sparse_.size() + entry_stride(), 0.0);
  return entry;
}

void LinearModel::rehash(size_t capacity) {
  table_.assign(capacity, TableSlot{kEmptyBucket, kNoEntry});
  table_shift_ = 32 - static_cast<uint32_t>(std::countr_zero(capacity));
  const size_t mask = capacity - 1;
  for (uint32_t e = 0; e < entry_bucket_.size(); ++e) {
    size_t i = TableIndex(entry_bucket_[e], table_shift_);
    while (table_[i].bucket != kEmptyBucket) i = (i + 1) & mask;
    table_[i] = TableSlot{entry_bucket_[e], e};
  }
}

void LinearModel::fold_sparse_scale() {
  const size_t stride = entry_stride();
  for (size_t e = 0; e < entry_bucket_.size(); ++e) {
    for (uint32_t k = 0; k < outputs_; ++k) sparse_[e * stride + static_cast<size_t>(k) * (1 + slots_)] *= sparse_scale_;
  }
  sparse_scale_ = 1;
}

// ---------------------------------------------------------------------------------------
// Inspection

std::span<const double> LinearModel::dense_weights(uint32_t output) const {
  if (output >= outputs_) return {};
  return {dense_.data() + static_cast<size_t>(output) * (n_ + 1), n_};
}

double LinearModel::bias(uint32_t output) const {
  if (output >= outputs_) return 0;
  return dense_[static_cast<size_t>(output) * (n_ + 1) + n_];
}

double LinearModel::sparse_weight(uint32_t bucket, uint32_t output) const {
  if (output >= outputs_) return 0;
  const uint32_t e = find_entry(bucket & sparse_mask_);
  if (e == kNoEntry) return 0;
  return sparse_scale_ * sparse_[e * entry_stride() + static_cast<size_t>(output) * (1 + slots_)];
}

std::vector<SparseWeight> LinearModel::sparse_weights(uint32_t output) const {
  std::vector<SparseWeight> out;
  if (output >= outputs_) return out;
  for (size_t e = 0; e < entry_bucket_.size(); ++e) {
    const double w = sparse_scale_ * sparse_[e * entry_stride() + static_cast<size_t>(output) * (1 + slots_)];
    if (w != 0) out.push_back(SparseWeight{entry_bucket_[e], w});
  }
  std::sort(out.begin(), out.end(), [](const SparseWeight& a, const SparseWeight& b) { return a.bucket < b.bucket; });
  return out;
}

DenseInputStats LinearModel::dense_input_stats(size_t feature) const {
  if (feature >= n_) return {};
  DenseInputStats s;
  s.mean = mean_[feature];
  s.seen = seen_[feature];
  s.std_dev = seen_[feature] >= 2 && m2_[feature] > 0 ? std::sqrt(m2_[feature] / static_cast<double>(seen_[feature])) : 0;
  return s;
}

std::vector<double> LinearModel::weights_in_input_units(uint32_t output) const {
  const std::span<const double> w = dense_weights(output);
  std::vector<double> out(w.begin(), w.end());
  if (config_.standardize) {
    for (size_t j = 0; j < out.size(); ++j) out[j] *= inv_std_[j];
  }
  return out;
}

double LinearModel::bias_in_input_units(uint32_t output) const {
  double b = bias(output);
  if (!config_.standardize || output >= outputs_) return b;
  const std::span<const double> w = dense_weights(output);
  for (size_t j = 0; j < w.size(); ++j) b -= w[j] * mean_[j] * inv_std_[j];
  return b;
}

}  // namespace streamlearn::learn

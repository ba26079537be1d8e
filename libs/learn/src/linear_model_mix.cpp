// LinearModel::mix: parameter mixing across instances (linear_model.hpp says what is mixed).
// Every value is computed as own + sum_i p_i (peer_i - own), p_i = w_i / W with W the total
// weight including this model's: copies of this model add exact zeros and leave every bit.

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "linear_model_internal.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

using namespace linear_detail;

namespace {

constexpr uint32_t kMissingEntry = std::numeric_limits<uint32_t>::max();

bool UsableWeight(double w) { return std::isfinite(w) && w > 0; }

}  // namespace

Status LinearModel::mix(double own_weight, std::span<const MixPeer> peers) {
  // Check every peer before changing anything.
  std::vector<MixPeer> used;
  double total = UsableWeight(own_weight) ? own_weight : 0.0;
  for (const MixPeer& peer : peers) {
    if (peer.model == nullptr) return Status::FailedPrecondition("linear mix: a peer without a model");
    const LinearModelConfig& c = peer.model->config_;
    if (c.loss != config_.loss || c.optimizer != config_.optimizer || c.hash_bits != config_.hash_bits ||
        c.standardize != config_.standardize || c.classes != config_.classes || peer.model->slots_ != slots_) {
      return Status::FailedPrecondition(
          "linear mix: a peer of other settings (loss " + std::string(ToString(c.loss)) + ", optimizer " +
          std::string(ToString(c.optimizer)) + ", hash_bits " + std::to_string(c.hash_bits) +
          "; this model: loss " + std::string(ToString(config_.loss)) + ", optimizer " +
          std::string(ToString(config_.optimizer)) + ", hash_bits " + std::to_string(config_.hash_bits) + ")");
    }
    if (!UsableWeight(peer.weight) || peer.model == this) continue;
    used.push_back(peer);
    total += peer.weight;
  }
  if (used.empty() || !(total > 0) || !std::isfinite(total)) return Status::Ok();

  // Room for every feature and class any of them knows (a softmax class index means the
  // same on every instance: the pipeline checks the class names before mixing).
  size_t n = n_;
  uint32_t outputs = outputs_;
  for (const MixPeer& peer : used) {
    n = std::max(n, peer.model->n_);
    outputs = std::max(outputs, peer.model->outputs_);
  }
  if (outputs != outputs_) grow_outputs(outputs);
  if (n != n_) grow_dense(n);
  fold_sparse_scale();

  // Input statistics: the weighted mixture of the models' distributions, per feature among
  // the models that saw it.
  for (size_t j = 0; j < n_; ++j) {
    double weight = seen_[j] > 0 && UsableWeight(own_weight) ? own_weight : 0.0;
    for (const MixPeer& peer : used) {
      if (j < peer.model->n_ && peer.model->seen_[j] > 0) weight += peer.weight;
    }
    if (!(weight > 0)) continue;
    const double own_var = seen_[j] > 0 ? m2_[j] / static_cast<double>(seen_[j]) : 0.0;
    double mean = mean_[j], var = own_var, seen = static_cast<double>(seen_[j]);
    if (seen_[j] == 0) {  // this model never saw it: the peers' alone
      mean = var = seen = 0;
    }
    for (const MixPeer& peer : used) {
      const LinearModel& m = *peer.model;
      if (j >= m.n_ || m.seen_[j] == 0) continue;
      const double p = peer.weight / weight;
      const double peer_var = m.m2_[j] / static_cast<double>(m.seen_[j]);
      mean += p * (m.mean_[j] - (seen_[j] > 0 ? mean_[j] : 0.0));
      var += p * (peer_var - (seen_[j] > 0 ? own_var : 0.0));
      seen += p * (static_cast<double>(m.seen_[j]) - static_cast<double>(seen_[j]));
    }
    // Between-model spread of the means belongs to the mixture's variance.
    double spread = 0;
    if (seen_[j] > 0 && UsableWeight(own_weight)) spread += own_weight / weight * (mean_[j] - mean) * (mean_[j] - mean);
    for (const MixPeer& peer : used) {
      const LinearModel& m = *peer.model;
      if (j < m.n_ && m.seen_[j] > 0) spread += peer.weight / weight * (m.mean_[j] - mean) * (m.mean_[j] - mean);
    }
    var += spread;
    const uint64_t count = static_cast<uint64_t>(std::max(1.0, std::round(seen)));
    if (!(mean == mean_[j] && var == own_var && count == seen_[j])) {
      mean_[j] = mean;
      m2_[j] = std::max(0.0, var) * static_cast<double>(count);
      seen_[j] = count;
      inv_std_[j] = InverseStd(m2_[j], count);
    }
  }

  // Dense planes (weights, biases, optimizer state): a peer lacking a feature or a class
  // contributes 0 there, as its untouched parameter is.
  for (uint32_t plane = 0; plane <= slots_; ++plane) {
    for (uint32_t k = 0; k < outputs_; ++k) {
      double* row = dense_.data() + plane * plane_size() + static_cast<size_t>(k) * (n_ + 1);
      for (size_t j = 0; j <= n_; ++j) {
        const double own = row[j];
        double value = own;
        for (const MixPeer& peer : used) {
          const LinearModel& m = *peer.model;
          double theirs = 0;
          if (k < m.outputs_) {
            const size_t at = j == n_ ? m.n_ : j;
            if (j == n_ || j < m.n_) theirs = m.dense_[plane * m.plane_size() + static_cast<size_t>(k) * (m.n_ + 1) + at];
          }
          value += peer.weight / total * (theirs - own);
        }
        row[j] = value;
      }
    }
  }

  // Sparse buckets: the union; each value mixed like the dense ones (true weights: the
  // peers' shared scale applied; this model's was folded above).
  for (const MixPeer& peer : used) {
    for (uint32_t bucket : peer.model->entry_bucket_) find_or_insert_entry(bucket);
  }
  const size_t stride = entry_stride();
  const size_t group = 1 + slots_;
  for (size_t e = 0; e < entry_bucket_.size(); ++e) {
    double* values = sparse_.data() + e * stride;
    for (size_t v = 0; v < stride; ++v) {
      const uint32_t k = static_cast<uint32_t>(v / group);
      const bool is_weight = v % group == 0;
      const double own = values[v];
      double value = own;
      for (const MixPeer& peer : used) {
        const LinearModel& m = *peer.model;
        double theirs = 0;
        const uint32_t entry = m.find_entry(entry_bucket_[e]);
        if (entry != kMissingEntry && k < m.outputs_) {
          theirs = m.sparse_[entry * m.entry_stride() + static_cast<size_t>(k) * group + v % group];
          if (is_weight) theirs *= m.sparse_scale_;
        }
        value += peer.weight / total * (theirs - own);
      }
      values[v] = value;
    }
  }
  for (const MixPeer& peer : used) sparse_active_ = sparse_active_ || peer.model->sparse_active_;

  // Where the schedule stands: the mean step count (and SGD's cumulative L1 with it).
  double steps = static_cast<double>(steps_), l1_total = l1_total_;
  for (const MixPeer& peer : used) {
    const double p = peer.weight / total;
    steps += p * (static_cast<double>(peer.model->steps_) - static_cast<double>(steps_));
    l1_total += p * (peer.model->l1_total_ - l1_total_);
  }
  const auto mixed_steps = static_cast<uint64_t>(std::max(0.0, std::round(steps)));
  if (mixed_steps != steps_) {
    steps_ = mixed_steps;
    beta1_power_ = std::pow(config_.beta1, static_cast<double>(steps_));
    beta2_power_ = std::pow(config_.beta2, static_cast<double>(steps_));
  }
  l1_total_ = l1_total;
  return Status::Ok();
}

namespace {

// A model's value at dense plane `plane`, output k, feature j (j == n: the bias; 0 where it
// has no such feature or output).
double DenseAt(const std::vector<double>& dense, size_t n, uint32_t outputs, uint32_t plane, uint32_t k, size_t j,
               size_t own_n) {
  if (k >= outputs) return 0;
  const size_t at = j == own_n ? n : j;
  if (j != own_n && j >= n) return 0;
  return dense[plane * static_cast<size_t>(outputs) * (n + 1) + static_cast<size_t>(k) * (n + 1) + at];
}

}  // namespace

Status LinearModel::add_update(const LinearModel& now, const LinearModel& base) {
  for (const LinearModel* m : {&now, &base}) {
    const LinearModelConfig& c = m->config_;
    if (c.loss != config_.loss || c.optimizer != config_.optimizer || c.hash_bits != config_.hash_bits ||
        c.standardize != config_.standardize || c.classes != config_.classes || m->slots_ != slots_) {
      return Status::FailedPrecondition("linear update: a peer of other settings (loss " +
                                        std::string(ToString(c.loss)) + ", optimizer " +
                                        std::string(ToString(c.optimizer)) + ", hash_bits " +
                                        std::to_string(c.hash_bits) + ")");
    }
  }
  const size_t n = std::max({n_, now.n_, base.n_});
  const uint32_t outputs = std::max({outputs_, now.outputs_, base.outputs_});
  if (outputs != outputs_) grow_outputs(outputs);
  if (n != n_) grow_dense(n);
  fold_sparse_scale();

  for (uint32_t plane = 0; plane <= slots_; ++plane) {
    for (uint32_t k = 0; k < outputs_; ++k) {
      double* row = dense_.data() + plane * plane_size() + static_cast<size_t>(k) * (n_ + 1);
      for (size_t j = 0; j <= n_; ++j) {
        row[j] += DenseAt(now.dense_, now.n_, now.outputs_, plane, k, j, n_) -
                  DenseAt(base.dense_, base.n_, base.outputs_, plane, k, j, n_);
      }
    }
  }

  for (const LinearModel* m : {&now, &base}) {
    for (uint32_t bucket : m->entry_bucket_) find_or_insert_entry(bucket);
  }
  const size_t stride = entry_stride();
  const size_t group = 1 + slots_;
  auto sparse_at = [&](const LinearModel& m, uint32_t bucket, size_t v) {
    const uint32_t k = static_cast<uint32_t>(v / group);
    const uint32_t entry = m.find_entry(bucket);
    if (entry == kMissingEntry || k >= m.outputs_) return 0.0;
    const double value = m.sparse_[entry * m.entry_stride() + static_cast<size_t>(k) * group + v % group];
    return v % group == 0 ? value * m.sparse_scale_ : value;
  };
  for (size_t e = 0; e < entry_bucket_.size(); ++e) {
    double* values = sparse_.data() + e * stride;
    for (size_t v = 0; v < stride; ++v) {
      values[v] += sparse_at(now, entry_bucket_[e], v) - sparse_at(base, entry_bucket_[e], v);
    }
  }
  sparse_active_ = sparse_active_ || now.sparse_active_;

  const double steps = static_cast<double>(steps_) + static_cast<double>(now.steps_) - static_cast<double>(base.steps_);
  const auto summed_steps = static_cast<uint64_t>(std::max(0.0, std::round(steps)));
  if (summed_steps != steps_) {
    steps_ = summed_steps;
    beta1_power_ = std::pow(config_.beta1, static_cast<double>(steps_));
    beta2_power_ = std::pow(config_.beta2, static_cast<double>(steps_));
  }
  l1_total_ += now.l1_total_ - base.l1_total_;
  return Status::Ok();
}

}  // namespace streamlearn::learn

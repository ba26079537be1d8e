// The Hoeffding tree regressor's learning and prediction. Every formula follows River's
// code (hoeffding_tree_regressor.py, nodes/htr_nodes.py, nodes/leaf.py, splitter/
// ebst_splitter.py, split_criterion/variance_reduction_split_criterion.py,
// linear_model/glm.py) in its order of operations.

#include <algorithm>
#include <array>
#include <cmath>

#include "hoeffding_tree_regressor.hpp"

namespace streamlearn::trees {
namespace {

// The largest input or label the tree takes (beyond it squared errors overflow).
constexpr double kMaxMagnitude = 1e100;

bool UsableInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !(std::abs(x.dense[i]) <= kMaxMagnitude)) return false;
  }
  return true;
}

}  // namespace

void DeactivateRegressionLeaf(RegressionLeaf& leaf) {
  leaf.active = false;
  leaf.splitters = {};
  leaf.splitter_slot = {};
}

double LeafLinearModel::predict(const FeatureVector& x) const {
  double dot = 0.0;
  const size_t n = std::min({x.dense.size(), x.present.size(), weights.size()});
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i]) dot += weights[i] * x.dense[i];
  }
  return dot + intercept;
}

void LeafLinearModel::learn(const FeatureVector& x, double y, double w) {
  double gradient = 2.0 * (predict(x) - y);
  gradient *= w;
  gradient = std::max(-1e12, std::min(gradient, 1e12));
  intercept -= 0.01 * gradient;
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (!x.present[i]) continue;
    if (i >= weights.size()) weights.resize(i + 1, 0.0);
    weights[i] -= 0.01 * (gradient * x.dense[i]);
  }
}

size_t RegressionLeaf::bytes() const {
  // The forest's drawn attributes count by their number, so the plain tree's estimates
  // stay as they were.
  size_t b = sizeof(RegressionLeaf) - sizeof(features) + features.size() * sizeof(uint32_t) +
             model.weights.size() * sizeof(double) + splitter_slot.size() * sizeof(int32_t);
  for (const auto& s : splitters) b += s.bytes();
  return b;
}

uint32_t HoeffdingTreeRegressor::depth() const {
  uint32_t d = 0;
  for (const auto& n : nodes_) d = std::max(d, n.depth);
  return d;
}

uint32_t HoeffdingTreeRegressor::route(const FeatureVector& x, bool* by_missing) const {
  return RouteToLeaf(nodes_, x, [&](uint32_t leaf) { return leaves_[leaf].total_weight(); }, by_missing);
}

double HoeffdingTreeRegressor::leaf_prediction(const RegressionLeaf& leaf, const FeatureVector& x) const {
  switch (config_.leaf_prediction) {
    case RegressionLeafPrediction::kMean: return leaf.stats.mean;
    case RegressionLeafPrediction::kModel: return leaf.model.predict(x);
    case RegressionLeafPrediction::kAdaptive:
      return leaf.fmse_mean < leaf.fmse_model ? leaf.stats.mean : leaf.model.predict(x);
  }
  return leaf.stats.mean;
}

void HoeffdingTreeRegressor::observe(RegressionLeaf& leaf, uint32_t i, double v, double y, double w) {
  if (i >= leaf.splitter_slot.size()) leaf.splitter_slot.resize(i + 1, -1);
  if (leaf.splitter_slot[i] < 0) {
    leaf.splitter_slot[i] = static_cast<int32_t>(leaf.splitters.size());
    leaf.splitters.emplace_back(i);
  }
  leaf.splitters[leaf.splitter_slot[i]].update(v, y, w);
}

void HoeffdingTreeRegressor::leaf_learn(RegressionLeaf& leaf, const FeatureVector& x, double y, double w) {
  if (config_.leaf_prediction == RegressionLeafPrediction::kAdaptive) {
    const double mean_error = y - leaf.stats.mean;
    const double model_error = y - leaf.model.predict(x);
    leaf.fmse_mean = config_.model_selector_decay * leaf.fmse_mean + mean_error * mean_error;
    leaf.fmse_model = config_.model_selector_decay * leaf.fmse_model + model_error * model_error;
  }
  leaf.stats.update(y, w);
  if (leaf.active) {
    const size_t n = std::min(x.dense.size(), x.present.size());
    if (config_.max_features > 0) {
      // River's RandomLeaf: max_features of the event's sorted keys, drawn once per leaf.
      if (leaf.features.empty()) {
        std::vector<uint32_t> keys;
        for (size_t i = 0; i < n; ++i) {
          if (x.present[i]) keys.push_back(static_cast<uint32_t>(i));
        }
        const uint64_t k = static_cast<uint64_t>(config_.max_features);
        if (rng_ == nullptr || keys.size() < k) {
          leaf.features = std::move(keys);
        } else {
          for (uint32_t j : rng_->sample_range(static_cast<uint32_t>(keys.size()), static_cast<uint32_t>(k))) {
            leaf.features.push_back(keys[j]);
          }
        }
      }
      for (uint32_t i : leaf.features) {
        if (DensePresent(x, i)) observe(leaf, i, x.dense[i], y, w);
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (x.present[i]) observe(leaf, static_cast<uint32_t>(i), x.dense[i], y, w);
      }
    }
  }
  if (config_.leaf_prediction != RegressionLeafPrediction::kMean) leaf.model.learn(x, y, w);
}

void HoeffdingTreeRegressor::learn_one(const FeatureVector& x, double y, double w) {
  for (size_t i = max_dense_; i < std::min(x.dense.size(), x.present.size()); ++i) {
    if (x.present[i]) max_dense_ = static_cast<uint32_t>(i + 1);
  }
  if (nodes_.empty()) {
    nodes_.push_back(TreeNode{});
    nodes_[0].leaf = 0;
    leaves_.emplace_back();
  }
  bool by_missing = false;
  const uint32_t at = route(x, &by_missing);
  RegressionLeaf& leaf = leaves_[nodes_[at].leaf];
  leaf_learn(leaf, x, y, w);
  ++trained_;
  weight_seen_ += w;
  // River attempts splits only where the event reached its leaf by the tests themselves.
  if (!by_missing && memory_.growth_allowed && leaf.active) {
    if (config_.max_depth >= 0 && leaf.depth >= static_cast<uint64_t>(config_.max_depth)) {
      DeactivateRegressionLeaf(leaf);
    } else {
      const double weight_seen = leaf.total_weight();
      if (weight_seen - leaf.last_split_attempt_at >= static_cast<double>(config_.grace_period)) {
        leaf.last_split_attempt_at = weight_seen;  // before: a split replaces this leaf
        attempt_split(at);
      }
    }
  }
  if (std::fmod(weight_seen_, static_cast<double>(config_.memory_estimate_period)) == 0) {
    const double other = static_cast<double>(sizeof(*this) + nodes_.size() * sizeof(TreeNode));
    if (EstimateTreeSize(leaves_, other, memory_limits(), memory_)) enforce_size_limit();
  }
}

TreeMemoryLimits HoeffdingTreeRegressor::memory_limits() const {
  return {config_.max_size, config_.max_depth, config_.stop_mem_management};
}

void HoeffdingTreeRegressor::enforce_size_limit() {
  EnforceTreeSizeLimit(
      leaves_, LeavesInOrder(nodes_), memory_limits(), memory_,
      [](const RegressionLeaf& leaf) { return -static_cast<double>(leaf.depth); }, DeactivateRegressionLeaf,
      [](RegressionLeaf& leaf) { leaf.active = true; });
}

RegressionSplitDecision HoeffdingTreeRegressor::decide_split(RegressionLeaf& leaf) const {
  // The null split first (River's merit_preprune), then each attribute's best.
  std::vector<EbstSplit> suggestions;
  suggestions.reserve(leaf.splitters.size() + 1);
  suggestions.emplace_back();
  std::vector<uint32_t> attribute{0};
  for (const auto& s : leaf.splitters) {
    suggestions.push_back(s.best_split(leaf.stats, config_.min_samples_split));
    attribute.push_back(s.attribute());
  }
  std::vector<size_t> order(suggestions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return suggestions[a].merit < suggestions[b].merit; });
  bool should_split = false;
  double bound = 0;
  if (order.size() < 2) {
    should_split = !order.empty();
  } else {
    bound = std::sqrt((1.0 * 1.0 * std::log(1.0 / config_.delta)) / (2.0 * leaf.total_weight()));
    const double best = suggestions[order.back()].merit;
    const double second = suggestions[order[order.size() - 2]].merit;
    if (best > 0.0 && (second / best < 1 - bound || bound < config_.tau)) should_split = true;
  }
  RegressionSplitDecision out;
  if (!should_split) {
    if (order.size() >= 2) {
      const double best = suggestions[order.back()].merit;
      const double second = suggestions[order[order.size() - 2]].merit;
      if (best > 0 && second > 0) {
        for (auto& s : leaf.splitters) {
          s.remove_bad_splits(leaf.stats, config_.min_samples_split, second / best, best, bound);
        }
      }
    }
    return out;
  }
  EbstSplit& decision = suggestions[order.back()];
  if (!decision.valid) {
    out.kind = RegressionSplitDecision::kPrune;  // pre-pruning: the null split wins
    return out;
  }
  out.kind = RegressionSplitDecision::kSplit;
  out.attribute = attribute[order.back()];
  out.threshold = decision.threshold;
  for (size_t i = 0; i < 2; ++i) {
    RegressionLeaf& child = out.children[i];
    child.stats = i == 0 ? decision.left : decision.right;
    child.depth = leaf.depth + 1;
    child.last_split_attempt_at = child.total_weight();
    child.model = leaf.model;
    child.fmse_mean = leaf.fmse_mean;
    child.fmse_model = leaf.fmse_model;
  }
  return out;
}

void HoeffdingTreeRegressor::attempt_split(uint32_t node) {
  RegressionLeaf& leaf = leaves_[static_cast<uint32_t>(nodes_[node].leaf)];
  RegressionSplitDecision decision = decide_split(leaf);
  if (decision.kind == RegressionSplitDecision::kNone) return;
  if (decision.kind == RegressionSplitDecision::kPrune) {
    DeactivateRegressionLeaf(leaf);
    enforce_size_limit();
    return;
  }
  SplitLeafNode(nodes_, leaves_, node, false, decision.attribute, decision.threshold, std::move(decision.children));
  enforce_size_limit();
}

double HoeffdingTreeRegressor::predict_value(const FeatureVector& x) const {
  if (nodes_.empty()) return 0.0;
  bool by_missing = false;
  return leaf_prediction(leaves_[nodes_[route(x, &by_missing)].leaf], x);
}

void HoeffdingTreeRegressor::predict(const FeatureVector& x, learn::Prediction& out) const {
  out.probabilities.clear();
  out.class_index = -1;
  const double v = predict_value(x);
  out.score = std::isfinite(v) ? v : 0.0;
}

void HoeffdingTreeRegressor::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !(std::abs(y) <= kMaxMagnitude) || !UsableInputs(x)) {
    ++guarded_;
    return;
  }
  // A whole weight k learns as k repeats (the Learner contract), not as River's sample_weight.
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, y);
}

std::unique_ptr<learn::Learner> HoeffdingTreeRegressor::fresh_copy() const {
  auto copy = std::make_unique<HoeffdingTreeRegressor>(config_);
  copy->max_dense_ = max_dense_;
  return copy;
}

void HoeffdingTreeRegressor::reset() {
  nodes_.clear();
  leaves_.clear();
  memory_ = {};
}

size_t HoeffdingTreeRegressor::memory_bytes() const {
  size_t bytes = sizeof(*this) + nodes_.capacity() * sizeof(TreeNode) + leaves_.capacity() * sizeof(RegressionLeaf);
  for (const auto& leaf : leaves_) {
    bytes += leaf.model.weights.capacity() * sizeof(double) + leaf.splitter_slot.capacity() * sizeof(int32_t) +
             (leaf.splitters.capacity() - leaf.splitters.size()) * sizeof(EbstSplitter);
    for (const auto& s : leaf.splitters) bytes += s.capacity_bytes();
  }
  return bytes;
}

}  // namespace streamlearn::trees

// The Hoeffding adaptive tree regressor's learning and prediction, in the order of River's
// hoeffding_adaptive_tree_regressor.py and nodes/hatr_nodes.py (AdaLeafRegressor,
// AdaBranchRegressor, NormError), including where River's recursion keeps updating a
// subtree that left the tree during the same event (its leaves still draw from the
// shared generator).

#include <algorithm>
#include <cmath>

#include "hoeffding_adaptive_tree_regressor.hpp"

namespace streamlearn::trees {
namespace {

// The largest input or target the tree takes (beyond it squared errors overflow).
constexpr double kMaxMagnitude = 1e100;

bool UsableInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !(std::abs(x.dense[i]) <= kMaxMagnitude)) return false;
  }
  return true;
}

}  // namespace

double NormalizeError(double error, RiverVar& spread) {
  spread.update(error, 1.0);
  if (spread.n == 1) return 0.5;  // the first error: the normalised mean
  // Most of a normal error lies within 3 deviations: min-max into [0, 1] over that range.
  const double sd = std::sqrt(spread.sigma);
  return sd > 0 ? (error + 3 * sd) / (6 * sd) : 0.5;
}

HoeffdingAdaptiveTreeRegressor::HoeffdingAdaptiveTreeRegressor(HoeffdingAdaptiveTreeRegressorConfig config)
    : config_(config), rules_(config.tree) {}

uint32_t HoeffdingAdaptiveTreeRegressor::depth() const {
  uint32_t d = 0;
  for (const auto& n : nodes_) d = std::max(d, n.depth);
  return d;
}

double HoeffdingAdaptiveTreeRegressor::node_weight(int32_t node) const {
  const AdaptiveRegressionNode& n = nodes_[node];
  return n.leaf >= 0 ? leaves_[n.leaf].total_weight() : n.stats.n;
}

int HoeffdingAdaptiveTreeRegressor::branch_of(const AdaptiveRegressionNode& n, const FeatureVector& x) const {
  if (DensePresent(x, n.attribute)) return x.dense[n.attribute] <= n.threshold ? 0 : 1;
  // River's most_common_path: the child that saw the most weight (the left one on ties).
  return node_weight(n.left) < node_weight(n.right) ? 1 : 0;
}

int32_t HoeffdingAdaptiveTreeRegressor::new_leaf(RegressionLeaf leaf) {
  AdaptiveRegressionNode n;
  n.rng.seed_with(static_cast<uint32_t>(config_.seed));
  n.depth = leaf.depth;
  leaves_.push_back(std::move(leaf));
  n.leaf = static_cast<int32_t>(leaves_.size() - 1);
  nodes_.push_back(std::move(n));
  return static_cast<int32_t>(nodes_.size() - 1);
}

void HoeffdingAdaptiveTreeRegressor::set_child(int32_t parent, int branch, int32_t child) {
  if (parent < 0) {
    root_ = child;
  } else if (branch == 0) {
    nodes_[parent].left = child;
  } else {
    nodes_[parent].right = child;
  }
  detached_ = true;
}

void HoeffdingAdaptiveTreeRegressor::learn_at(int32_t node, const FeatureVector& x, double y, double w, int32_t parent,
                                              int parent_branch) {
  if (nodes_[node].leaf >= 0) {
    learn_at_leaf(node, x, y, w, parent, parent_branch);
  } else {
    learn_at_branch(node, x, y, w, parent, parent_branch);
  }
}

void HoeffdingAdaptiveTreeRegressor::learn_at_leaf(int32_t node, const FeatureVector& x, double y, double w,
                                                   int32_t parent, int parent_branch) {
  const int32_t leaf_index = nodes_[node].leaf;
  AdaptiveRegressionNode& n = nodes_[node];
  const double normalized = NormalizeError(y - rules_.leaf_prediction(leaves_[leaf_index], x), n.error_spread);
  if (config_.bootstrap_sampling) {
    const int k = NumpyPoisson(1.0, n.rng);
    if (k > 0) w *= k;
  }
  n.detector.update(normalized);  // a leaf's detections count only for its branch's figures
  RegressionLeaf& leaf = leaves_[leaf_index];
  rules_.leaf_learn(leaf, x, y, w);
  path_leaf_ = -1;  // this leaf's prediction moved
  const double weight_seen = leaf.total_weight();
  if (weight_seen - leaf.last_split_attempt_at >= static_cast<double>(config_.tree.grace_period)) {
    if (config_.tree.max_depth >= 0 && leaf.depth >= static_cast<uint64_t>(config_.tree.max_depth)) {
      DeactivateRegressionLeaf(leaf);
    } else if (leaf.active) {
      attempt_split(node, parent, parent_branch);
      leaves_[leaf_index].last_split_attempt_at = weight_seen;
    }
  }
}

void HoeffdingAdaptiveTreeRegressor::learn_at_branch(int32_t node, const FeatureVector& x, double y, double w,
                                                     int32_t parent, int parent_branch) {
  // The error of this branch: its main path's leaf's (alternates aside), before it learns.
  const int32_t at = DescendToLeaf(nodes_, node, [&](const AdaptiveRegressionNode& b) { return branch_of(b, x); });
  if (at != path_leaf_) {
    path_leaf_ = at;
    path_prediction_ = rules_.leaf_prediction(leaves_[nodes_[at].leaf], x);
  }
  {
    AdaptiveRegressionNode& n = nodes_[node];
    const double normalized = NormalizeError(y - path_prediction_, n.error_spread);
    n.stats.update(y, w);
    const double old_error = n.detector.estimation();
    n.detector.update(normalized);
    // A change with a falling error is no reason to adapt.
    const bool change = n.detector.drift_detected() && !(old_error > n.detector.estimation());
    if (change) {
      if (n.alternate >= 0) detached_ = true;
      // River's new leaf under this branch: a child's depth minus one, a fresh linear model.
      RegressionLeaf alternate;
      alternate.depth = n.depth;
      const int32_t alt = new_leaf(std::move(alternate));
      nodes_[node].alternate = alt;
      ++n_alternate_;
    } else if (n.alternate >= 0) {
      const AdaptiveRegressionNode& alt = nodes_[n.alternate];
      const AlternateVerdict verdict = JudgeAlternate(
          n.detector.estimation(), n.detector.width(), alt.detector.estimation(), alt.detector.width(),
          static_cast<double>(config_.drift_window_threshold), config_.switch_significance);
      ApplyAlternateVerdict(nodes_, node, parent, parent_branch, verdict, &n_switched_, &n_pruned_, &detached_,
                            [&](int32_t p, int b, int32_t child) { set_child(p, b, child); });
    }
  }
  if (nodes_[node].alternate >= 0) learn_at(nodes_[node].alternate, x, y, w, parent, parent_branch);
  const int b = branch_of(nodes_[node], x);
  learn_at(b ? nodes_[node].right : nodes_[node].left, x, y, w, node, b);
}

void HoeffdingAdaptiveTreeRegressor::attempt_split(int32_t node, int32_t parent, int parent_branch) {
  const int32_t leaf_index = nodes_[node].leaf;
  RegressionSplitDecision decision = rules_.decide_split(leaves_[leaf_index]);
  if (decision.kind == RegressionSplitDecision::kNone) return;
  if (decision.kind == RegressionSplitDecision::kPrune) {
    DeactivateRegressionLeaf(leaves_[leaf_index]);
    enforce_size_limit();
    return;
  }
  AdaptiveRegressionNode branch;
  branch.attribute = decision.attribute;
  branch.threshold = decision.threshold;
  branch.depth = leaves_[leaf_index].depth;
  branch.stats = leaves_[leaf_index].stats;
  nodes_.push_back(std::move(branch));
  const int32_t made = static_cast<int32_t>(nodes_.size() - 1);
  const int32_t left = new_leaf(std::move(decision.children[0]));
  const int32_t right = new_leaf(std::move(decision.children[1]));
  nodes_[made].left = left;
  nodes_[made].right = right;
  set_child(parent, parent_branch, made);
  enforce_size_limit();
}

TreeMemoryLimits HoeffdingAdaptiveTreeRegressor::memory_limits() const {
  return {config_.tree.max_size, config_.tree.max_depth, config_.tree.stop_mem_management};
}

void HoeffdingAdaptiveTreeRegressor::enforce_size_limit() {
  EnforceTreeSizeLimit(
      leaves_, AdaptiveLeavesInOrder(nodes_, root_), memory_limits(), memory_,
      [](const RegressionLeaf& leaf) { return -static_cast<double>(leaf.depth); }, DeactivateRegressionLeaf,
      [](RegressionLeaf& leaf) { leaf.active = true; });
}

void HoeffdingAdaptiveTreeRegressor::learn_one(const FeatureVector& x, double y) {
  for (size_t i = max_dense_; i < std::min(x.dense.size(), x.present.size()); ++i) {
    if (x.present[i]) max_dense_ = static_cast<uint32_t>(i + 1);
  }
  weight_seen_ += 1;
  if (root_ < 0) root_ = new_leaf(RegressionLeaf{});
  path_leaf_ = -1;
  learn_at(root_, x, y, 1.0, -1, 0);
  ++trained_;
  if (detached_) {
    CompactAdaptiveTree(root_, nodes_, leaves_);
    detached_ = false;
  }
  if (std::fmod(weight_seen_, static_cast<double>(config_.tree.memory_estimate_period)) == 0) {
    const double other = static_cast<double>(sizeof(*this) + nodes_.size() * sizeof(AdaptiveRegressionNode));
    if (EstimateTreeSize(leaves_, other, memory_limits(), memory_)) enforce_size_limit();
  }
}

double HoeffdingAdaptiveTreeRegressor::predict_value(const FeatureVector& x) const {
  if (root_ < 0) return 0.0;
  double sum = 0;
  size_t reached = 0;
  ForEachReachedLeaf(nodes_, root_, [&](const AdaptiveRegressionNode& n) { return branch_of(n, x); },
                     [&](int32_t leaf_node) {
                       sum += rules_.leaf_prediction(leaves_[nodes_[leaf_node].leaf], x);
                       ++reached;
                     });
  return sum / static_cast<double>(reached);
}

void HoeffdingAdaptiveTreeRegressor::predict(const FeatureVector& x, learn::Prediction& out) const {
  out.probabilities.clear();
  out.class_index = -1;
  const double v = predict_value(x);
  out.score = std::isfinite(v) ? v : 0.0;
}

void HoeffdingAdaptiveTreeRegressor::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !(std::abs(y) <= kMaxMagnitude) || !UsableInputs(x)) {
    ++guarded_;
    return;
  }
  // A whole weight k learns as k repeats (the Learner contract), each with its own bootstrap.
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, y);
}

std::unique_ptr<learn::Learner> HoeffdingAdaptiveTreeRegressor::fresh_copy() const {
  auto copy = std::make_unique<HoeffdingAdaptiveTreeRegressor>(config_);
  copy->max_dense_ = max_dense_;
  return copy;
}

void HoeffdingAdaptiveTreeRegressor::reset() {
  nodes_.clear();
  leaves_.clear();
  root_ = -1;
  memory_ = {};
  weight_seen_ = 0;
}

size_t HoeffdingAdaptiveTreeRegressor::memory_bytes() const {
  size_t bytes = sizeof(*this) + nodes_.capacity() * sizeof(AdaptiveRegressionNode) +
                 leaves_.capacity() * sizeof(RegressionLeaf);
  for (const auto& n : nodes_) bytes += AdwinBytes(n.detector);
  for (const auto& leaf : leaves_) bytes += leaf.bytes() - sizeof(RegressionLeaf);
  return bytes;
}

}  // namespace streamlearn::trees

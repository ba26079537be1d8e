// The Hoeffding adaptive tree's learning and prediction, in the order of River's
// hoeffding_adaptive_tree_classifier.py and nodes/hatc_nodes.py (AdaLeafClassifier,
// AdaBranchClassifier), including where River's recursion keeps updating a subtree that
// left the tree during the same event (its leaves still draw from the shared generator).

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

#include "adaptive_tree_parts.hpp"
#include "hoeffding_adaptive_tree.hpp"

namespace streamlearn::trees {
namespace {

using ClassScratch = std::array<double, learn::kMaxLearnerClasses>;

void AddWeight(ClassWeights& d, uint32_t cls, double w) {
  for (auto& e : d) {
    if (e.first == cls) {
      e.second += w;
      return;
    }
  }
  d.emplace_back(cls, w);
}

// Never the same twice in a process: a memo names the state it was made in by this alone.
uint64_t NextStateId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// The class River's max(dist, key=dist.get) picks among the leaf's classes: the first largest.
int32_t VoteOf(const ClassWeights& stats, const double* dist) {
  size_t best = 0;
  for (size_t i = 1; i < stats.size(); ++i) {
    if (dist[stats[i].first] > dist[stats[best].first]) best = i;
  }
  return static_cast<int32_t>(stats[best].first);
}

}  // namespace

// A leaf a prediction asked: its vote and the naive Bayes votes behind it, what learning
// the same vector asks that leaf first.
struct HoeffdingAdaptiveTree::KeptVote {
  int32_t leaf_node = -1;
  int32_t vote = -1;     // leaf_vote(leaf_node, x)
  NaiveBayesMemo votes;  // the naive Bayes votes behind it
};

// The leaves a prediction asked: the alternates' met on the way, then the main path's.
struct HoeffdingAdaptiveTree::PathMemo final : learn::PredictionMemo {
  uint64_t state_id = 0;  // the tree's state when made; 0: nothing kept
  // The first `count` are this prediction's; the rest keep their room for the next one
  // (a NaiveBayesMemo is large, so entries are reused, not made per event).
  std::vector<KeptVote> reached;
  size_t count = 0;
  const KeptVote& main_path() const { return reached[count - 1]; }
};

namespace {
// LearnPass::learned_kept has a bit per kept leaf; leaves past it are not reused.
constexpr size_t kMaxKeptLeaves = 64;
}  // namespace

const HoeffdingAdaptiveTree::KeptVote* HoeffdingAdaptiveTree::kept_vote(const LearnPass& pass, int32_t node) const {
  if (pass.kept == nullptr || pass.state_id != state_id_) return nullptr;
  const size_t n = std::min(pass.kept->count, kMaxKeptLeaves);
  for (size_t i = 0; i < n; ++i) {
    if (pass.kept->reached[i].leaf_node != node) continue;
    return (pass.learned_kept >> i) & 1 ? nullptr : &pass.kept->reached[i];
  }
  return nullptr;
}

HoeffdingAdaptiveTree::HoeffdingAdaptiveTree(HoeffdingAdaptiveTreeConfig config)
    : config_(config), rules_(config.tree), rng_(static_cast<uint64_t>(config.seed)), state_id_(NextStateId()) {
  rules_.nominals_ = false;  // its splits are binary: categorical fields stay hashed buckets
}

void HoeffdingAdaptiveTree::changed() { state_id_ = NextStateId(); }

std::string_view HoeffdingAdaptiveTree::type() const {
  return config_.tree.task == learn::LearnerTask::kMulticlass ? "hoeffding_adaptive_tree_multiclass"
                                                               : "hoeffding_adaptive_tree";
}

uint32_t HoeffdingAdaptiveTree::depth() const {
  uint32_t d = 0;
  for (const auto& n : nodes_) d = std::max(d, n.depth);
  return d;
}

double HoeffdingAdaptiveTree::node_weight(int32_t node) const {
  const AdaptiveNode& n = nodes_[node];
  const ClassWeights& stats = n.leaf >= 0 ? leaves_[n.leaf].stats : n.stats;
  double s = 0;
  for (const auto& e : stats) s += e.second;
  return s;
}

int HoeffdingAdaptiveTree::branch_of(const AdaptiveNode& n, const FeatureVector& x) const {
  if (n.on_bucket) return BucketPresent(x, n.attribute) ? 1 : 0;
  if (DensePresent(x, n.attribute)) {
    return x.dense[n.attribute] <= n.threshold ? 0 : 1;
  }
  // River's most_common_path: the child that saw the most weight (the left one on ties).
  return node_weight(n.left) < node_weight(n.right) ? 1 : 0;
}

int32_t HoeffdingAdaptiveTree::new_leaf(ClassWeights stats, uint32_t depth) {
  TreeLeaf leaf;
  leaf.stats = std::move(stats);
  leaf.depth = depth;
  leaf.last_split_attempt_at = leaf.total_weight();
  leaves_.push_back(std::move(leaf));
  AdaptiveNode n;
  n.leaf = static_cast<int32_t>(leaves_.size() - 1);
  n.depth = depth;
  nodes_.push_back(std::move(n));
  return static_cast<int32_t>(nodes_.size() - 1);
}

void HoeffdingAdaptiveTree::set_child(int32_t parent, int branch, int32_t child) {
  if (parent < 0) {
    root_ = child;
  } else if (branch == 0) {
    nodes_[parent].left = child;
  } else {
    nodes_[parent].right = child;
  }
  detached_ = true;
}

bool HoeffdingAdaptiveTree::ada_prediction(int32_t node, const FeatureVector& x, double* dist,
                                           NaiveBayesMemo* memo) const {
  const AdaptiveNode& n = nodes_[node];
  const TreeLeaf& leaf = leaves_[n.leaf];
  if (memo != nullptr) memo->computed = false;
  if (leaf.stats.empty()) return false;
  rules_.leaf_prediction(leaf, x, dist, known_classes_, memo);
  double sum = 0;
  for (const auto& e : leaf.stats) sum += dist[e.first];
  const double factor = sum * n.error.mean * n.error.mean;
  if (factor != 0) {
    for (const auto& e : leaf.stats) dist[e.first] = dist[e.first] / factor;
  }
  return true;
}

int32_t HoeffdingAdaptiveTree::leaf_vote(int32_t node, const FeatureVector& x, NaiveBayesMemo* memo) const {
  ClassScratch dist;
  if (!ada_prediction(node, x, dist.data(), memo)) return -1;
  return VoteOf(leaves_[nodes_[node].leaf].stats, dist.data());
}

void HoeffdingAdaptiveTree::learn_at(int32_t node, const FeatureVector& x, uint32_t label, double w, int32_t parent,
                                     int parent_branch, LearnPass& pass) {
  if (nodes_[node].leaf >= 0) {
    learn_at_leaf(node, x, label, w, parent, parent_branch, pass);
  } else {
    learn_at_branch(node, x, label, w, parent, parent_branch, pass);
  }
}

void HoeffdingAdaptiveTree::learn_at_leaf(int32_t node, const FeatureVector& x, uint32_t label, double w,
                                          int32_t parent, int parent_branch, LearnPass& pass) {
  if (config_.bootstrap_sampling) {
    const int k = Poisson(1.0, rng_);
    if (k > 0) w *= k;
  }
  // The branches above asked this leaf already when no leaf has learned since: the same
  // vote, and the naive Bayes votes behind it serve its learning below.
  // Otherwise the prediction may have asked it (an alternate's leaf, or the main path's
  // after an alternate's learned): its vote holds while the leaf has not changed.
  NaiveBayesMemo own;
  const bool asked = node == path_leaf_ && pass.path_changes == pass.leaf_changes;
  const KeptVote* kept = asked ? nullptr : kept_vote(pass, node);
  const NaiveBayesMemo& memo = asked ? *pass.votes : kept != nullptr ? kept->votes : own;
  const int32_t predicted = asked ? path_prediction_ : kept != nullptr ? kept->vote : leaf_vote(node, x, &own);
  if (pass.kept != nullptr) {
    // From here on this leaf's kept vote is of an earlier state.
    const size_t n = std::min(pass.kept->count, kMaxKeptLeaves);
    for (size_t i = 0; i < n; ++i) {
      if (pass.kept->reached[i].leaf_node == node) pass.learned_kept |= uint64_t{1} << i;
    }
  }
  const double wrong = predicted == static_cast<int32_t>(label) ? 0.0 : 1.0;
  AdaptiveNode& n = nodes_[node];
  const double old_error = n.error.mean;
  n.detector.update(wrong);
  n.error.update(wrong);
  if (n.detector.drift_detected() && old_error > n.error.mean) n.error = {};  // the error is falling
  TreeLeaf& leaf = leaves_[n.leaf];
  rules_.leaf_learn(leaf, x, label, w, &memo);
  ++pass.leaf_changes;
  const double weight_seen = leaf.total_weight();
  if (weight_seen - leaf.last_split_attempt_at >= static_cast<double>(config_.tree.grace_period)) {
    if (config_.tree.max_depth >= 0 && leaf.depth >= static_cast<uint64_t>(config_.tree.max_depth)) {
      DeactivateTreeLeaf(leaf);
    } else if (leaf.active) {
      const int32_t leaf_index = n.leaf;
      attempt_split(node, parent, parent_branch);
      leaves_[leaf_index].last_split_attempt_at = weight_seen;
    }
  }
}

void HoeffdingAdaptiveTree::learn_at_branch(int32_t node, const FeatureVector& x, uint32_t label, double w,
                                            int32_t parent, int parent_branch, LearnPass& pass) {
  // The error of this branch: its main path's leaf's (alternates aside).
  // Every branch on the way asks the same leaf, which learns only after them: one answer.
  // The branch above walked through this one to path_leaf_: the same walk from here ends
  // there too while nothing it depends on changed (a leaf's weight, the tree's shape).
  const bool walked = node == pass.expected_node && pass.descent_stamp == pass.leaf_changes + pass.structure_changes;
  const int32_t at =
      walked ? path_leaf_ : DescendToLeaf(nodes_, node, [&](const AdaptiveNode& b) { return branch_of(b, x); });
  pass.descent_stamp = pass.leaf_changes + pass.structure_changes;
  if (at != path_leaf_) {
    path_leaf_ = at;
    if (const KeptVote* kept = kept_vote(pass, at)) {
      path_prediction_ = kept->vote;
      pass.votes = &kept->votes;
    } else {
      path_prediction_ = leaf_vote(at, x, &pass.path_votes);
      pass.votes = &pass.path_votes;
    }
    pass.path_changes = pass.leaf_changes;
  }
  const int32_t predicted = path_prediction_;
  const double wrong = predicted == static_cast<int32_t>(label) ? 0.0 : 1.0;
  {
    AdaptiveNode& n = nodes_[node];
    AddWeight(n.stats, label, w);
    const double old_error = n.error.mean;
    n.detector.update(wrong);
    n.error.update(wrong);
    bool change = n.detector.drift_detected();
    if (change && old_error > n.error.mean) {  // the error is falling: no adaptation
      n.error = {};
      change = false;
    }
    if (change) {
      n.error = {};
      if (n.alternate >= 0) detached_ = true;
      const uint32_t alt_depth = n.depth;  // River: a child's depth, minus one
      const int32_t alt = new_leaf({}, alt_depth);
      nodes_[node].alternate = alt;
      ++n_alternate_;
      ++pass.structure_changes;
    } else if (n.alternate >= 0) {
      const AdaptiveNode& alt = nodes_[n.alternate];
      const AlternateVerdict verdict =
          JudgeAlternate(n.error.mean, n.error.n, alt.error.mean, alt.error.n,
                         static_cast<double>(config_.drift_window_threshold), config_.switch_significance);
      if (verdict != AlternateVerdict::kWait) ++pass.structure_changes;
      ApplyAlternateVerdict(nodes_, node, parent, parent_branch, verdict, &n_switched_, &n_pruned_, &detached_,
                            [&](int32_t p, int b, int32_t child) { set_child(p, b, child); });
    }
  }
  if (nodes_[node].alternate >= 0) learn_at(nodes_[node].alternate, x, label, w, parent, parent_branch, pass);
  const int b = branch_of(nodes_[node], x);
  pass.expected_node = b ? nodes_[node].right : nodes_[node].left;
  learn_at(pass.expected_node, x, label, w, node, b, pass);
}

void HoeffdingAdaptiveTree::attempt_split(int32_t node, int32_t parent, int parent_branch) {
  const int32_t leaf_index = nodes_[node].leaf;
  LeafSplitDecision decision = rules_.decide_split(leaves_[leaf_index]);
  if (decision.kind == LeafSplitDecision::kNone) return;
  if (decision.kind == LeafSplitDecision::kPrune) {
    DeactivateTreeLeaf(leaves_[leaf_index]);  // pre-pruning: the null split wins
    enforce_size_limit();
    return;
  }
  const uint32_t depth = leaves_[leaf_index].depth;
  AdaptiveNode branch;
  branch.on_bucket = decision.on_bucket;
  branch.attribute = decision.attribute;
  branch.threshold = decision.threshold;
  branch.depth = depth;
  branch.stats = leaves_[leaf_index].stats;
  nodes_.push_back(std::move(branch));
  const int32_t made = static_cast<int32_t>(nodes_.size() - 1);
  const int32_t left = new_leaf(std::move(decision.post[0]), depth + 1);
  const int32_t right = new_leaf(std::move(decision.post[1]), depth + 1);
  nodes_[made].left = left;
  nodes_[made].right = right;
  set_child(parent, parent_branch, made);
  enforce_size_limit();
}

void HoeffdingAdaptiveTree::enforce_size_limit() {
  changed();  // it may (de)activate any leaf: the votes kept before no longer hold
  EnforceTreeSizeLimit(
      leaves_, AdaptiveLeavesInOrder(nodes_, root_), {config_.tree.max_size, config_.tree.max_depth, config_.tree.stop_mem_management},
      memory_, [](const TreeLeaf& leaf) { return leaf.promise(); }, DeactivateTreeLeaf,
      [](TreeLeaf& leaf) { leaf.active = true; });
}

void HoeffdingAdaptiveTree::learn_one(const FeatureVector& x, uint32_t label, const PathMemo* predicted) {
  if (label >= seen_class_.size()) seen_class_.resize(label + 1, 0);
  seen_class_[label] = 1;
  known_classes_ = std::max(known_classes_, label + 1);
  for (size_t i = max_dense_; i < std::min(x.dense.size(), x.present.size()); ++i) {
    if (x.present[i]) max_dense_ = static_cast<uint32_t>(i + 1);
  }
  if (root_ < 0) root_ = new_leaf({}, 0);
  path_leaf_ = -1;
  LearnPass pass;
  if (predicted != nullptr && predicted->count > 0) {
    // The prediction walked from the root to this leaf and asked it: what the first
    // branch (or the root leaf) would do again.
    const KeptVote& main = predicted->main_path();
    path_leaf_ = main.leaf_node;
    path_prediction_ = main.vote;
    pass.votes = &main.votes;
    pass.expected_node = root_;
    pass.kept = predicted;
    pass.state_id = state_id_;
  }
  learn_at(root_, x, label, 1.0, -1, 0, pass);
  ++trained_;
  if (detached_) {
    CompactAdaptiveTree(root_, nodes_, leaves_);
    detached_ = false;
  }
  if (trained_ % static_cast<uint64_t>(config_.tree.memory_estimate_period) == 0) {
    const double other = static_cast<double>(sizeof(*this) + nodes_.size() * sizeof(AdaptiveNode) + seen_class_.size());
    if (EstimateTreeSize(leaves_, other, {config_.tree.max_size, config_.tree.max_depth, config_.tree.stop_mem_management},
                         memory_)) {
      enforce_size_limit();
    }
  }
}

void HoeffdingAdaptiveTree::predict(const FeatureVector& x, learn::Prediction& out) const {
  predict_into(x, out, nullptr);
}

void HoeffdingAdaptiveTree::predict_keeping(const FeatureVector& x, learn::Prediction& out,
                                            std::unique_ptr<learn::PredictionMemo>& memo) const {
  auto* keep = dynamic_cast<PathMemo*>(memo.get());
  if (keep == nullptr) {
    memo = std::make_unique<PathMemo>();
    keep = static_cast<PathMemo*>(memo.get());
  }
  predict_into(x, out, keep);
}

void HoeffdingAdaptiveTree::predict_into(const FeatureVector& x, learn::Prediction& out, PathMemo* keep) const {
  const bool multi = config_.tree.task == learn::LearnerTask::kMulticlass;
  const size_t n = multi ? known_classes_ : 2;
  out.probabilities.assign(n, 0.0);
  if (keep != nullptr) {
    keep->state_id = 0;
    keep->count = 0;
  }
  if (root_ >= 0) {
    // The alternates met on the way, then the main path's leaf (River's traverse).
    ClassScratch dist;
    const auto branch = [&](const AdaptiveNode& node) { return branch_of(node, x); };
    // Each leaf asked is kept with its vote when learning may follow (its naive Bayes
    // votes are then computed whatever the prediction uses: the learning needs them).
    const auto add = [&](int32_t leaf_node) {
      KeptVote* kept = nullptr;
      if (keep != nullptr) {
        if (keep->count == keep->reached.size()) keep->reached.emplace_back();
        kept = &keep->reached[keep->count++];
        kept->leaf_node = leaf_node;
        kept->vote = -1;
      }
      if (!ada_prediction(leaf_node, x, dist.data(), kept != nullptr ? &kept->votes : nullptr)) return;
      const ClassWeights& stats = leaves_[nodes_[leaf_node].leaf].stats;
      for (const auto& e : stats) {
        if (e.first < n) out.probabilities[e.first] += dist[e.first];
      }
      if (kept != nullptr) kept->vote = VoteOf(stats, dist.data());
    };
    int32_t at = root_;
    while (nodes_[at].leaf < 0) {
      const AdaptiveNode& node = nodes_[at];
      if (node.alternate >= 0) add(DescendToLeaf(nodes_, node.alternate, branch));
      at = branch(node) ? node.right : node.left;
    }
    add(at);
    if (keep != nullptr) keep->state_id = state_id_;
    double sum = 0;
    for (double p : out.probabilities) sum += p;
    if (sum != 0) {
      for (double& p : out.probabilities) p /= sum;
    }
  }
  FinishClassPrediction(multi, seen_class_, out);
}

void HoeffdingAdaptiveTree::learn(const FeatureVector& x, double y, double weight) {
  learn_predicted(x, y, weight, nullptr);
}

void HoeffdingAdaptiveTree::learn_predicted(const FeatureVector& x, double y, double weight,
                                            const learn::PredictionMemo* memo) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !ValidClassLabel(config_.tree.task, y) || !FiniteInputs(x)) {
    ++guarded_;
    return;
  }
  const auto label = static_cast<uint32_t>(y);
  const auto* predicted = dynamic_cast<const PathMemo*>(memo);
  // Only a memo of this very state applies; a class first seen now changes what a leaf
  // is asked (the classes known), so it learns the whole way.
  if (predicted != nullptr && (predicted->state_id != state_id_ || label >= known_classes_)) predicted = nullptr;
  // A whole weight k learns as k repeats (the Learner contract), each with its own bootstrap.
  for (double k = std::round(weight); k >= 1; --k) {
    learn_one(x, label, predicted);
    predicted = nullptr;
  }
  changed();
}

std::unique_ptr<learn::Learner> HoeffdingAdaptiveTree::fresh_copy() const {
  auto copy = std::make_unique<HoeffdingAdaptiveTree>(config_);
  copy->known_classes_ = known_classes_;
  copy->seen_class_ = seen_class_;
  copy->max_dense_ = max_dense_;
  return copy;
}

void HoeffdingAdaptiveTree::reset() {
  changed();
  nodes_.clear();
  leaves_.clear();
  root_ = -1;
  memory_ = {};
  rng_ = drift::PythonRandom(static_cast<uint64_t>(config_.seed));
}

size_t HoeffdingAdaptiveTree::memory_bytes() const {
  size_t bytes = sizeof(*this) + nodes_.capacity() * sizeof(AdaptiveNode) + leaves_.capacity() * sizeof(TreeLeaf) +
                 seen_class_.capacity();
  for (const auto& n : nodes_) {
    bytes += n.stats.capacity() * sizeof(ClassWeights::value_type);
    bytes += AdwinBytes(n.detector);
  }
  for (const auto& leaf : leaves_) bytes += leaf.bytes() - sizeof(TreeLeaf);
  return bytes;
}

}  // namespace streamlearn::trees

// The Hoeffding tree's learning and prediction. Every formula follows River's code
// (hoeffding_tree_classifier.py, nodes/leaf.py, nodes/htc_nodes.py, splitter/
// gaussian_splitter.py, split_criterion/*.py, utils.py) in its order of operations, and
// every "dict" is a vector of (class, value) in insertion order, because that order
// decides River's ties (max(d, key=d.get) keeps the first largest).

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "family_support.hpp"
#include "hoeffding_tree.hpp"
#include "tree_memory.hpp"

namespace streamlearn::trees {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Python's sum(d.values()): 0 + v1 + v2 + ...
double Sum(const ClassWeights& d) {
  double s = 0;
  for (const auto& e : d) s += e.second;
  return s;
}

void Add(ClassWeights& d, uint32_t cls, double w) {
  for (auto& e : d) {
    if (e.first == cls) {
      e.second += w;
      return;
    }
  }
  d.emplace_back(cls, w);
}

double WeightOf(const ClassWeights& d, uint32_t cls) {
  for (const auto& e : d) {
    if (e.first == cls) return e.second;
  }
  return 0;
}

bool Has(const ClassWeights& d, uint32_t cls) {
  return std::any_of(d.begin(), d.end(), [&](const auto& e) { return e.first == cls; });
}

// max(d, key=d.get): the first class with the largest value.
template <typename Values>
uint32_t FirstArgmax(const ClassWeights& d, const Values& value) {
  size_t best = 0;
  for (size_t i = 1; i < d.size(); ++i) {
    if (value(i) > value(best)) best = i;
  }
  return d[best].first;
}

bool Pure(const ClassWeights& d) {
  int nonzero = 0;
  for (const auto& e : d) {
    if (e.second != 0 && ++nonzero == 2) return false;
  }
  return true;
}

// --- split criteria (river/tree/split_criterion) ---

double EntropyOf(const ClassWeights& d) {
  double entropy = 0, sums = 0;
  for (const auto& e : d) {
    if (e.second > 0.0) {
      entropy -= e.second * std::log2(e.second);
      sums += e.second;
    }
  }
  return sums > 0.0 ? (entropy + sums * std::log2(sums)) / sums : 0.0;
}

int SubsetsAboveFraction(const std::array<ClassWeights, 2>& post, double min_frac) {
  double total = 0;
  std::array<double, 2> sums{};
  for (size_t i = 0; i < 2; ++i) {
    sums[i] = Sum(post[i]);
    total += sums[i];
  }
  int above = 0;
  if (total > 0) {
    for (double s : sums) above += (s / total) > min_frac ? 1 : 0;
  }
  return above;
}

double Merit(SplitCriterion criterion, double min_frac, const ClassWeights& pre,
             const std::array<ClassWeights, 2>& post) {
  if (SubsetsAboveFraction(post, min_frac) < 2) return -kInf;
  switch (criterion) {
    case SplitCriterion::kInfoGain: {
      double total = 0;
      std::array<double, 2> weights{};
      for (size_t i = 0; i < 2; ++i) {
        weights[i] = Sum(post[i]);
        total += weights[i];
      }
      double entropy = 0;
      for (size_t i = 0; i < 2; ++i) entropy += weights[i] * EntropyOf(post[i]);
      return EntropyOf(pre) - entropy / total;
    }
    case SplitCriterion::kGini: {
      double total = 0;
      std::array<double, 2> weights{};
      for (size_t i = 0; i < 2; ++i) {
        weights[i] = Sum(post[i]);
        total += weights[i];
      }
      double gini = 0;
      for (size_t i = 0; i < 2; ++i) {
        double g = 1.0;
        if (weights[i] != 0.0) {
          for (const auto& e : post[i]) {
            const double rel = e.second / weights[i];
            g -= rel * rel;
          }
        }
        gini += (weights[i] / total) * g;
      }
      return 1.0 - gini;
    }
    case SplitCriterion::kHellinger: {
      // Binary only, as River's: classes 0 (negative) and 1 (positive) on both sides.
      if (!Has(post[0], 0) || !Has(post[0], 1) || !Has(post[1], 0) || !Has(post[1], 1)) return 0;
      const double ln = WeightOf(post[0], 0), lp = WeightOf(post[0], 1);
      const double rn = WeightOf(post[1], 0), rp = WeightOf(post[1], 1);
      const double total_negative = ln + rn, total_positive = lp + rp;
      if (total_negative == 0 || total_positive == 0) return 0;  // River would divide by zero
      const double a = std::sqrt(ln / total_negative) - std::sqrt(lp / total_positive);
      const double b = std::sqrt(rn / total_negative) - std::sqrt(rp / total_positive);
      return std::sqrt(a * a + b * b);
    }
  }
  return -kInf;
}

double RangeOfMerit(SplitCriterion criterion, const ClassWeights& pre) {
  if (criterion == SplitCriterion::kGini) return 1.0;
  const double classes = static_cast<double>(std::max<size_t>(pre.size(), 2));
  return std::log2(classes);
}

struct Suggestion {
  double merit = -kInf;
  bool valid = false;  // false: River's BranchFactory() (the null split)
  bool on_bucket = false;
  uint32_t attribute = 0;
  double threshold = 0;
  std::array<ClassWeights, 2> post;
};

// GaussianSplitter.best_evaluated_split_suggestion.
Suggestion BestNumericSplit(const NumericObserver& obs, const ClassWeights& pre, const HoeffdingTreeConfig& config) {
  Suggestion best;
  double min_value = kInf, max_value = -kInf;
  for (const auto& c : obs.classes) {
    if (c.min < min_value) min_value = c.min;
    if (c.max > max_value) max_value = c.max;
  }
  if (!(min_value < kInf)) return best;
  double bin_size = max_value - min_value;
  bin_size /= static_cast<double>(config.n_splits) + 1.0;
  std::array<ClassWeights, 2> post;
  for (int64_t i = 0; i < config.n_splits; ++i) {
    const double split_value = min_value + (bin_size * static_cast<double>(i + 1));
    if (!(min_value < split_value && split_value < max_value)) continue;
    post[0].clear();
    post[1].clear();
    for (const auto& c : obs.classes) {
      const double n = c.estimator.n;
      if (split_value < c.min) {
        post[1].emplace_back(c.cls, n);
      } else if (split_value >= c.max) {
        post[0].emplace_back(c.cls, n);
      } else {
        const double lhs = c.estimator.cdf(split_value) * n;
        post[0].emplace_back(c.cls, lhs);
        post[1].emplace_back(c.cls, n - lhs);
      }
    }
    const double merit = Merit(config.split_criterion, config.min_branch_fraction, pre, post);
    if (merit > best.merit) {
      best.merit = merit;
      best.valid = true;
      best.attribute = obs.attribute;
      best.threshold = split_value;
      best.post = post;
    }
  }
  return best;
}

// A bucket's presence as a binary split: absent (left) against present (right).
Suggestion BestBucketSplit(const BucketObserver& obs, const TreeLeaf& leaf, const HoeffdingTreeConfig& config) {
  Suggestion s;
  std::array<ClassWeights, 2> post;
  for (const auto& e : leaf.observed) post[0].emplace_back(e.first, e.second - WeightOf(obs.present, e.first));
  post[1] = obs.present;
  const double merit = Merit(config.split_criterion, config.min_branch_fraction, leaf.stats, post);
  if (merit > s.merit) {
    s.merit = merit;
    s.valid = true;
    s.on_bucket = true;
    s.attribute = obs.bucket;
    s.post = std::move(post);
  }
  return s;
}

double CondProba(const NumericObserver& obs, uint32_t cls, double value) {
  for (const auto& c : obs.classes) {
    if (c.cls == cls) return c.estimator.pdf(value);
  }
  return 0.0;
}

// utils.do_naive_bayes_prediction: votes[i] for leaf.stats[i]; false when River returns None.
bool NaiveBayesVotes(const TreeLeaf& leaf, const FeatureVector& x, double* votes) {
  const double total = Sum(leaf.stats);
  if (leaf.stats.empty() || total == 0) return false;
  for (size_t k = 0; k < leaf.stats.size(); ++k) {
    const auto [cls, weight] = leaf.stats[k];
    if (!(weight > 0)) {
      votes[k] = 0.0;
      continue;
    }
    double v = std::log(weight / total);
    for (const auto& obs : leaf.numeric) {
      if (!DensePresent(x, obs.attribute)) continue;
      const double p = CondProba(obs, cls, x.dense[obs.attribute]);
      v += p > 0 ? std::log(p) : 0.0;
    }
    votes[k] = v;
  }
  double max_ll = votes[0];
  for (size_t k = 1; k < leaf.stats.size(); ++k) max_ll = std::max(max_ll, votes[k]);
  double s = 0;
  for (size_t k = 0; k < leaf.stats.size(); ++k) s += std::exp(votes[k] - max_ll);
  const double lse = max_ll + std::log(s);
  for (size_t k = 0; k < leaf.stats.size(); ++k) votes[k] = std::exp(votes[k] - lse);
  return true;
}

void Deactivate(TreeLeaf& leaf) {
  leaf.active = false;
  leaf.numeric = {};
  leaf.numeric_slot = {};
  leaf.buckets = {};
  leaf.bucket_slot = {};
}

}  // namespace

double TreeLeaf::total_weight() const { return stats.empty() ? 0 : Sum(stats); }

double TreeLeaf::promise() const {
  const double total = Sum(stats);
  if (!(total > 0)) return 0;
  double majority = stats[0].second;
  for (const auto& e : stats) majority = std::max(majority, e.second);
  return total - majority;
}

size_t TreeLeaf::bytes() const {
  const size_t weight = sizeof(ClassWeights::value_type);
  // The drawn attributes count by their number, so the plain tree's estimates (and the
  // leaves its memory management picks) do not change with a member only the forest uses.
  size_t b = sizeof(TreeLeaf) - sizeof(features) + features.size() * sizeof(uint32_t) +
             (stats.size() + observed.size()) * weight + numeric_slot.size() * sizeof(int32_t);
  for (const auto& obs : numeric) b += sizeof(NumericObserver) + obs.classes.size() * sizeof(ClassGaussian);
  for (const auto& obs : buckets) b += sizeof(BucketObserver) + obs.present.size() * weight + 3 * sizeof(void*);
  return b;
}

std::string_view HoeffdingTreeLearner::type() const {
  return config_.task == learn::LearnerTask::kMulticlass ? "hoeffding_tree_multiclass" : "hoeffding_tree";
}

uint32_t HoeffdingTreeLearner::depth() const {
  uint32_t d = 0;
  for (const auto& n : nodes_) d = std::max(d, n.depth);
  return d;
}

double HoeffdingTreeLearner::subtree_weight(uint32_t node) const {
  return SubtreeWeight(nodes_, node, [&](uint32_t leaf) { return leaves_[leaf].total_weight(); });
}

uint32_t HoeffdingTreeLearner::route(const FeatureVector& x, bool* by_missing) const {
  return RouteToLeaf(nodes_, x, [&](uint32_t leaf) { return leaves_[leaf].total_weight(); }, by_missing);
}

void HoeffdingTreeLearner::observe_numeric(TreeLeaf& leaf, uint32_t i, double v, uint32_t label, double w) {
  if (i >= leaf.numeric_slot.size()) leaf.numeric_slot.resize(i + 1, -1);
  if (leaf.numeric_slot[i] < 0) {
    leaf.numeric_slot[i] = static_cast<int32_t>(leaf.numeric.size());
    leaf.numeric.push_back({i, {}});
  }
  auto& classes = leaf.numeric[leaf.numeric_slot[i]].classes;
  auto it = std::find_if(classes.begin(), classes.end(), [&](const ClassGaussian& c) { return c.cls == label; });
  if (it == classes.end()) {
    classes.push_back({label, {}, v, v});
    it = classes.end() - 1;
  } else {
    if (v < it->min) it->min = v;
    if (v > it->max) it->max = v;
  }
  it->estimator.update(v, w);
}

void HoeffdingTreeLearner::observe_bucket(TreeLeaf& leaf, uint32_t bucket, uint32_t label, double w) {
  const auto [slot, fresh] = leaf.bucket_slot.try_emplace(bucket, static_cast<uint32_t>(leaf.buckets.size()));
  if (fresh) leaf.buckets.push_back({bucket, {}});
  Add(leaf.buckets[slot->second].present, label, w);
}

std::vector<uint32_t> HoeffdingTreeLearner::sample_features(const FeatureVector& x) {
  std::vector<uint32_t> keys;
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i]) keys.push_back(static_cast<uint32_t>(i));
  }
  const size_t dense = keys.size();
  for (size_t k = 0; k < x.sparse_index.size(); ++k) {
    if (x.sparse_value[k] != 0) keys.push_back(x.sparse_index[k] | kBucketKeyBit);
  }
  std::sort(keys.begin() + static_cast<std::ptrdiff_t>(dense), keys.end());
  keys.erase(std::unique(keys.begin() + static_cast<std::ptrdiff_t>(dense), keys.end()), keys.end());
  const uint64_t k = static_cast<uint64_t>(config_.max_features);
  if (rng_ == nullptr || keys.size() < k) return keys;
  std::vector<uint32_t> drawn;
  drawn.reserve(k);
  for (uint32_t j : rng_->sample_range(static_cast<uint32_t>(keys.size()), static_cast<uint32_t>(k))) {
    drawn.push_back(keys[j]);
  }
  return drawn;
}

void HoeffdingTreeLearner::leaf_learn(TreeLeaf& leaf, const FeatureVector& x, uint32_t label, double w) {
  if (leaf.active && config_.leaf_prediction == LeafPrediction::kNaiveBayesAdaptive) {
    if (leaf.stats.empty() || FirstArgmax(leaf.stats, [&](size_t i) { return leaf.stats[i].second; }) == label) {
      leaf.mc_correct += w;
    }
    std::array<double, learn::kMaxLearnerClasses> votes;
    if (NaiveBayesVotes(leaf, x, votes.data()) &&
        FirstArgmax(leaf.stats, [&](size_t i) { return votes[i]; }) == label) {
      leaf.nb_correct += w;
    }
  }
  Add(leaf.stats, label, w);
  if (!leaf.active) return;
  if (config_.max_features > 0) {
    // River's RandomLeaf: the drawn attributes only, in draw order, those x has.
    if (leaf.features.empty()) leaf.features = sample_features(x);
    for (uint32_t key : leaf.features) {
      if (key & kBucketKeyBit) {
        if (BucketPresent(x, key & ~kBucketKeyBit)) observe_bucket(leaf, key & ~kBucketKeyBit, label, w);
      } else if (DensePresent(x, key)) {
        observe_numeric(leaf, key, x.dense[key], label, w);
      }
    }
  } else {
    const size_t n = std::min(x.dense.size(), x.present.size());
    for (size_t i = 0; i < n; ++i) {
      if (x.present[i]) observe_numeric(leaf, static_cast<uint32_t>(i), x.dense[i], label, w);
    }
    for (size_t k = 0; k < x.sparse_index.size(); ++k) {
      if (x.sparse_value[k] != 0) observe_bucket(leaf, x.sparse_index[k], label, w);
    }
  }
  Add(leaf.observed, label, w);
}

void HoeffdingTreeLearner::learn_one(const FeatureVector& x, uint32_t label, double w) {
  if (label >= seen_class_.size()) seen_class_.resize(label + 1, 0);
  seen_class_[label] = 1;
  known_classes_ = std::max(known_classes_, label + 1);
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
  TreeLeaf& leaf = leaves_[nodes_[at].leaf];
  leaf_learn(leaf, x, label, w);
  ++trained_;
  weight_seen_ += w;
  // River attempts splits only where the event reached its leaf by the tests themselves.
  if (!by_missing && growth_allowed_ && leaf.active) {
    if (config_.max_depth >= 0 && leaf.depth >= static_cast<uint64_t>(config_.max_depth)) {
      Deactivate(leaf);
    } else {
      const double weight_seen = leaf.total_weight();
      if (weight_seen - leaf.last_split_attempt_at >= static_cast<double>(config_.grace_period)) {
        leaf.last_split_attempt_at = weight_seen;
        attempt_split(at);
      }
    }
  }
  if (std::fmod(weight_seen_, static_cast<double>(config_.memory_estimate_period)) == 0) estimate_model_size();
}

std::vector<uint32_t> HoeffdingTreeLearner::leaves_in_order() const { return LeavesInOrder(nodes_); }

// River's memory management, shared with the regressor (tree_memory.hpp).
void HoeffdingTreeLearner::enforce_size_limit() {
  TreeMemoryEstimates est{growth_allowed_, active_leaf_bytes_, inactive_leaf_bytes_, overhead_fraction_};
  EnforceTreeSizeLimit(
      leaves_, leaves_in_order(), {config_.max_size, config_.max_depth, config_.stop_mem_management}, est,
      [](const TreeLeaf& leaf) { return leaf.promise(); }, Deactivate, [](TreeLeaf& leaf) { leaf.active = true; });
  growth_allowed_ = est.growth_allowed;
}

void HoeffdingTreeLearner::estimate_model_size() {
  TreeMemoryEstimates est{growth_allowed_, active_leaf_bytes_, inactive_leaf_bytes_, overhead_fraction_};
  const double other = static_cast<double>(sizeof(*this) + nodes_.size() * sizeof(TreeNode) + seen_class_.size());
  const bool over = EstimateTreeSize(leaves_, other, {config_.max_size, config_.max_depth, config_.stop_mem_management}, est);
  active_leaf_bytes_ = est.active_leaf_bytes;
  inactive_leaf_bytes_ = est.inactive_leaf_bytes;
  overhead_fraction_ = est.overhead_fraction;
  if (over) enforce_size_limit();
}

void DeactivateTreeLeaf(TreeLeaf& leaf) { Deactivate(leaf); }

LeafSplitDecision HoeffdingTreeLearner::decide_split(const TreeLeaf& leaf) const {
  LeafSplitDecision out;
  if (Pure(leaf.stats)) return out;
  std::vector<Suggestion> suggestions;
  double majority = leaf.stats.empty() ? 0 : leaf.stats[0].second;
  for (const auto& e : leaf.stats) majority = std::max(majority, e.second);
  const double total = leaf.total_weight();
  suggestions.emplace_back();  // the null split (River's merit_preprune)
  if (!(majority != 0 && majority / total > config_.max_share_to_split)) {
    for (const auto& obs : leaf.numeric) suggestions.push_back(BestNumericSplit(obs, leaf.stats, config_));
    for (const auto& obs : leaf.buckets) suggestions.push_back(BestBucketSplit(obs, leaf, config_));
  }
  std::stable_sort(suggestions.begin(), suggestions.end(),
                   [](const Suggestion& a, const Suggestion& b) { return a.merit < b.merit; });
  bool should_split = false;
  if (suggestions.size() < 2) {
    should_split = !suggestions.empty();
  } else {
    const double range = RangeOfMerit(config_.split_criterion, leaf.stats);
    const double bound = std::sqrt((range * range * std::log(1.0 / config_.delta)) / (2.0 * total));
    const Suggestion& best = suggestions.back();
    const Suggestion& second = suggestions[suggestions.size() - 2];
    if (best.merit - second.merit > bound || bound < config_.tau) should_split = true;
  }
  if (!should_split) return out;
  Suggestion& decision = suggestions.back();
  out.kind = decision.valid ? LeafSplitDecision::kSplit : LeafSplitDecision::kPrune;
  out.on_bucket = decision.on_bucket;
  out.attribute = decision.attribute;
  out.threshold = decision.threshold;
  out.post = std::move(decision.post);
  return out;
}

void HoeffdingTreeLearner::attempt_split(uint32_t node) {
  const uint32_t leaf_index = static_cast<uint32_t>(nodes_[node].leaf);
  TreeLeaf& leaf = leaves_[leaf_index];
  LeafSplitDecision decision = decide_split(leaf);
  if (decision.kind == LeafSplitDecision::kNone) return;
  if (decision.kind == LeafSplitDecision::kPrune) {
    Deactivate(leaf);  // pre-pruning: the null split wins
    enforce_size_limit();
    return;
  }
  const uint32_t child_depth = leaf.depth + 1;
  std::array<TreeLeaf, 2> children;
  for (size_t i = 0; i < 2; ++i) {
    children[i].stats = std::move(decision.post[i]);
    children[i].depth = child_depth;
    children[i].last_split_attempt_at = children[i].total_weight();
  }
  SplitLeafNode(nodes_, leaves_, node, decision.on_bucket, decision.attribute, decision.threshold, std::move(children));
  enforce_size_limit();
}

void HoeffdingTreeLearner::leaf_prediction(const TreeLeaf& leaf, const FeatureVector& x, double* proba, size_t n) const {
  bool naive_bayes = false;
  switch (config_.leaf_prediction) {
    case LeafPrediction::kMajorityClass: break;
    case LeafPrediction::kNaiveBayes: naive_bayes = leaf.active && leaf.total_weight() >= config_.nb_threshold; break;
    case LeafPrediction::kNaiveBayesAdaptive: naive_bayes = leaf.active && leaf.nb_correct >= leaf.mc_correct; break;
  }
  if (naive_bayes) {
    std::array<double, learn::kMaxLearnerClasses> votes;
    if (NaiveBayesVotes(leaf, x, votes.data())) {
      for (size_t k = 0; k < leaf.stats.size(); ++k) {
        if (leaf.stats[k].first < n) proba[leaf.stats[k].first] = votes[k];
      }
      return;
    }
  }
  const double total = Sum(leaf.stats);
  for (const auto& [cls, weight] : leaf.stats) {
    if (cls < n) proba[cls] = total == 0 ? weight : weight / total;  // normalize_values_in_dict
  }
}

void HoeffdingTreeLearner::class_probabilities(const FeatureVector& x, double* proba, size_t n) const {
  std::fill(proba, proba + n, 0.0);
  if (!nodes_.empty()) {
    bool by_missing = false;
    leaf_prediction(leaves_[nodes_[route(x, &by_missing)].leaf], x, proba, n);
  }
}

int32_t HoeffdingTreeLearner::predict_class(const FeatureVector& x) const {
  std::array<double, learn::kMaxLearnerClasses> proba;
  class_probabilities(x, proba.data(), known_classes_);
  return BestKnownClass(seen_class_, proba.data(), known_classes_);
}

void HoeffdingTreeLearner::predict(const FeatureVector& x, learn::Prediction& out) const {
  const bool multi = config_.task == learn::LearnerTask::kMulticlass;
  const size_t n = multi ? known_classes_ : 2;
  out.probabilities.resize(n);
  class_probabilities(x, out.probabilities.data(), n);
  FinishClassPrediction(multi, seen_class_, out);
}

void HoeffdingTreeLearner::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !ValidClassLabel(config_.task, y) || !FiniteInputs(x)) {
    ++guarded_;
    return;
  }
  // A whole weight k learns as k repeats (the Learner contract), not as River's sample_weight.
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, static_cast<uint32_t>(y), 1.0);
}

std::unique_ptr<learn::Learner> HoeffdingTreeLearner::fresh_copy() const {
  auto copy = std::make_unique<HoeffdingTreeLearner>(config_);
  copy->known_classes_ = known_classes_;
  copy->seen_class_ = seen_class_;
  copy->max_dense_ = max_dense_;
  return copy;
}

void HoeffdingTreeLearner::reset() {
  nodes_.clear();
  leaves_.clear();
  growth_allowed_ = true;
  active_leaf_bytes_ = inactive_leaf_bytes_ = 0;
  overhead_fraction_ = 1.0;
}

size_t HoeffdingTreeLearner::memory_bytes() const {
  size_t bytes = sizeof(*this) + nodes_.capacity() * sizeof(TreeNode) + leaves_.capacity() * sizeof(TreeLeaf) +
                 seen_class_.capacity();
  const size_t weight = sizeof(ClassWeights::value_type);
  for (const auto& leaf : leaves_) {
    bytes += (leaf.stats.capacity() + leaf.observed.capacity()) * weight;
    bytes += leaf.numeric.capacity() * sizeof(NumericObserver) + leaf.numeric_slot.capacity() * sizeof(int32_t) +
             leaf.features.capacity() * sizeof(uint32_t);
    for (const auto& obs : leaf.numeric) bytes += obs.classes.capacity() * sizeof(ClassGaussian);
    bytes += leaf.buckets.capacity() * sizeof(BucketObserver);
    for (const auto& obs : leaf.buckets) bytes += obs.present.capacity() * weight;
    bytes += leaf.bucket_slot.size() * (sizeof(std::pair<uint32_t, uint32_t>) + 2 * sizeof(void*)) +
             leaf.bucket_slot.bucket_count() * sizeof(void*);
  }
  return bytes;
}

}  // namespace streamlearn::trees

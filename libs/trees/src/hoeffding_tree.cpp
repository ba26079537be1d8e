// The Hoeffding tree's learning and prediction. Every formula follows River's code
// (hoeffding_tree_classifier.py, nodes/leaf.py, nodes/htc_nodes.py, splitter/
// gaussian_splitter.py, split_criterion/*.py, utils.py) in its order of operations, and
// every "dict" is a vector of (class, value) in insertion order, because that order
// decides River's ties (max(d, key=d.get) keeps the first largest).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
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

// ClassWeights or a bucket's BucketClassWeights.
template <typename Weights>
void Add(Weights& d, uint32_t cls, double w) {
  for (auto& e : d) {
    if (e.first == cls) {
      e.second += w;
      return;
    }
  }
  d.push_back({cls, w});
}

template <typename Weights>
double WeightOf(const Weights& d, uint32_t cls) {
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

// The branches whose share of the weight is above min_frac; `sums` holds each branch's sum.
int SubsetsAboveFraction(const double* sums, size_t n, double total, double min_frac) {
  int above = 0;
  if (total > 0) {
    for (size_t i = 0; i < n; ++i) above += (sums[i] / total) > min_frac ? 1 : 0;
  }
  return above;
}

// River's merit_of_split over n branches (a binary split: n = 2). `pre_entropy` is
// EntropyOf(the leaf's class weights), the same for every candidate of a split attempt, so
// computed once per attempt (information gain is the only criterion that reads it). Each
// branch's sum and their total are taken once for the fraction test and the criterion
// (River takes them twice, the same sums in the same order).
double Merit(SplitCriterion criterion, double min_frac, double pre_entropy, const ClassWeights* post, size_t n) {
  double total = 0;
  std::array<double, kMaxBranches> weights;  // the first n set below
  for (size_t i = 0; i < n; ++i) {
    weights[i] = Sum(post[i]);
    total += weights[i];
  }
  if (SubsetsAboveFraction(weights.data(), n, total, min_frac) < 2) return -kInf;
  switch (criterion) {
    case SplitCriterion::kInfoGain: {
      double entropy = 0;
      for (size_t i = 0; i < n; ++i) entropy += weights[i] * EntropyOf(post[i]);
      return pre_entropy - entropy / total;
    }
    case SplitCriterion::kGini: {
      double gini = 0;
      for (size_t i = 0; i < n; ++i) {
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
      // Binary only, as River's: classes 0 (negative) and 1 (positive) on the first two branches.
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

double Merit(SplitCriterion criterion, double min_frac, double pre_entropy, const std::array<ClassWeights, 2>& post) {
  return Merit(criterion, min_frac, pre_entropy, post.data(), 2);
}

double PreSplitEntropy(SplitCriterion criterion, const ClassWeights& pre) {
  return criterion == SplitCriterion::kInfoGain ? EntropyOf(pre) : 0.0;
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
  uint8_t nominal = kNominalNone;
  std::vector<uint32_t> branch_values;  // multiway: the values, ascending
  std::vector<ClassWeights> branches;   // multiway: their class weights
  uint32_t attribute = 0;
  double threshold = 0;
  std::array<ClassWeights, 2> post;  // empty for a numeric or bucket split: see `numeric`
  // A numeric split's observer: its branches' class weights are made again for the one
  // suggestion that wins (NumericSplitPost, the same arithmetic), not copied at every
  // better candidate.
  const NumericObserver* numeric = nullptr;
  const BucketObserver* bucket = nullptr;  // a bucket's split: the same, by BucketSplitPost
};

// River sorts the suggestions by merit (a stable sort) and compares the last two: `best`
// is the index the sort would put last, `second_merit` the merit it would put before it.
struct TopTwo {
  size_t best = 0;
  double second_merit = -kInf;
};

TopTwo TopTwoByMerit(std::vector<Suggestion>& suggestions) {
  TopTwo top;
  const bool ordered = std::none_of(suggestions.begin(), suggestions.end(),
                                    [](const Suggestion& s) { return std::isnan(s.merit); });
  if (!ordered) {
    // A NaN merit leaves the sort's order to its algorithm: sort as River's port did.
    std::stable_sort(suggestions.begin(), suggestions.end(),
                     [](const Suggestion& a, const Suggestion& b) { return a.merit < b.merit; });
    top.best = suggestions.size() - 1;
    if (suggestions.size() >= 2) top.second_merit = suggestions[suggestions.size() - 2].merit;
    return top;
  }
  // Among equal merits a stable sort keeps the input order, so the last of the largest
  // ends last; the merit before it is the largest of the others.
  for (size_t i = 1; i < suggestions.size(); ++i) {
    if (!(suggestions[i].merit < suggestions[top.best].merit)) top.best = i;
  }
  for (size_t i = 0; i < suggestions.size(); ++i) {
    if (i != top.best) top.second_merit = std::max(top.second_merit, suggestions[i].merit);
  }
  return top;
}

// The class weights left (<= split_value) and right of a split of a numeric observer.
void NumericSplitPost(const NumericObserver& obs, double split_value, std::array<ClassWeights, 2>& post) {
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
}

// GaussianSplitter.best_evaluated_split_suggestion. `post`: scratch room for the candidates'
// class weights (reused across observers).
Suggestion BestNumericSplit(const NumericObserver& obs, double pre_entropy, const HoeffdingTreeConfig& config,
                            std::array<ClassWeights, 2>& post) {
  Suggestion best;
  double min_value = kInf, max_value = -kInf;
  for (const auto& c : obs.classes) {
    if (c.min < min_value) min_value = c.min;
    if (c.max > max_value) max_value = c.max;
  }
  if (!(min_value < kInf)) return best;
  double bin_size = max_value - min_value;
  bin_size /= static_cast<double>(config.n_splits) + 1.0;
  for (int64_t i = 0; i < config.n_splits; ++i) {
    const double split_value = min_value + (bin_size * static_cast<double>(i + 1));
    if (!(min_value < split_value && split_value < max_value)) continue;
    NumericSplitPost(obs, split_value, post);
    const double merit = Merit(config.split_criterion, config.min_branch_fraction, pre_entropy, post);
    if (merit > best.merit) {
      best.merit = merit;
      best.valid = true;
      best.attribute = obs.attribute;
      best.threshold = split_value;
      best.numeric = &obs;
    }
  }
  return best;
}

// The class weights of a bucket's split: absent (left) and present (right).
void BucketSplitPost(const BucketObserver& obs, const TreeLeaf& leaf, std::array<ClassWeights, 2>& post) {
  post[0].clear();
  for (const auto& e : leaf.observed) post[0].emplace_back(e.first, e.second - WeightOf(obs.present, e.first));
  post[1].assign(obs.present.begin(), obs.present.end());
}

// A bucket's presence as a binary split: absent (left) against present (right). `post`:
// scratch room as for BestNumericSplit; the winner's class weights are made again.
Suggestion BestBucketSplit(const BucketObserver& obs, const TreeLeaf& leaf, double pre_entropy,
                           const HoeffdingTreeConfig& config, std::array<ClassWeights, 2>& post) {
  Suggestion s;
  BucketSplitPost(obs, leaf, post);
  const double merit = Merit(config.split_criterion, config.min_branch_fraction, pre_entropy, post);
  if (merit > s.merit) {
    s.merit = merit;
    s.valid = true;
    s.on_bucket = true;
    s.attribute = obs.bucket;
    s.bucket = &obs;
  }
  return s;
}

// River's NominalSplitterClassif.best_evaluated_split_suggestion: the multiway split (one
// branch per value, ascending; class weights by ascending class), then each value's binary
// split (equal left, the rest right) replacing it when strictly better. Values in
// ascending id where River iterates a set.
Suggestion BestNominalSplit(const NominalObserver& obs, double pre_entropy, const HoeffdingTreeConfig& config) {
  Suggestion best;
  std::vector<uint32_t> values;
  for (const auto& c : obs.classes) {
    for (const auto& v : c.values) values.push_back(v.first);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() <= kMaxBranches) {
    std::vector<ClassWeights> post(values.size());
    std::vector<uint32_t> classes;
    for (const auto& c : obs.classes) classes.push_back(c.cls);
    std::sort(classes.begin(), classes.end());
    for (size_t j = 0; j < values.size(); ++j) {
      for (uint32_t cls : classes) {
        for (const auto& c : obs.classes) {
          if (c.cls != cls) continue;
          for (const auto& v : c.values) {
            if (v.first == values[j]) post[j].emplace_back(cls, v.second);
          }
        }
      }
    }
    best.merit = Merit(config.split_criterion, config.min_branch_fraction, pre_entropy, post.data(), post.size());
    best.valid = true;
    best.nominal = kNominalMultiway;
    best.attribute = obs.field;
    best.branch_values = values;
    best.branches = std::move(post);
  }
  std::array<ClassWeights, 2> post;
  for (uint32_t value : values) {
    post[0].clear();
    post[1].clear();
    for (const auto& c : obs.classes) {
      for (const auto& v : c.values) Add(post[v.first == value ? 0 : 1], c.cls, v.second);
    }
    const double merit = Merit(config.split_criterion, config.min_branch_fraction, pre_entropy, post);
    if (!best.valid || merit > best.merit) {
      best = Suggestion{};
      best.merit = merit;
      best.valid = true;
      best.nominal = kNominalBinary;
      best.attribute = obs.field;
      best.threshold = static_cast<double>(value);
      best.post = post;
    }
  }
  return best;
}

// River's `log(cond_proba) if cond_proba > 0 else 0` for a numeric observer: the class's
// Gaussian log-density (ClassGaussian::log_pdf_term), 0 for a class it has not seen.
double LogCondProbaTerm(const NumericObserver& obs, uint32_t cls, double value) {
  for (const auto& c : obs.classes) {
    if (c.cls == cls) return c.log_pdf_term(value);
  }
  return 0.0;
}

// The value of nominal field `field` in x, -1 when x lacks it.
int64_t NominalValueOf(const FeatureVector& x, uint32_t field) {
  for (size_t i = 0; i < x.nominal_field.size(); ++i) {
    if (x.nominal_field[i] == field) return x.nominal_value[i];
  }
  return -1;
}

// NominalSplitterClassif.cond_proba: the class's weight at the value over its weight at all
// values, 0 when the class has none.
double NominalCondProba(const NominalObserver& obs, uint32_t cls, uint32_t value) {
  for (const auto& c : obs.classes) {
    if (c.cls != cls) continue;
    double at = 0, all = 0;
    for (const auto& [v, w] : c.values) {
      if (v == value) at = w;
      all += w;
    }
    return all == 0 ? 0.0 : at / all;
  }
  return 0.0;
}

// utils.do_naive_bayes_prediction: votes[i] for leaf.stats[i]; false when River returns None.
// River sums each class's log-likelihood over the observers in order; here the observers
// are the outer loop (each present value looked up once for all classes) and every class
// still adds its terms in the observers' order. A numeric term is the Gaussian's
// log-density written out (ClassGaussian::log_pdf_term): River's log(pdf) but for its last
// bits, without an exp and a log per attribute and class.
bool NaiveBayesVotes(const TreeLeaf& leaf, const FeatureVector& x, double* votes) {
  const double total = Sum(leaf.stats);
  if (leaf.stats.empty() || total == 0) return false;
  const size_t classes = leaf.stats.size();
  for (size_t k = 0; k < classes; ++k) {
    const double weight = leaf.stats[k].second;
    votes[k] = weight > 0 ? std::log(weight / total) : 0.0;  // a class without weight votes 0
  }
  for (const auto& obs : leaf.numeric) {
    if (!DensePresent(x, obs.attribute)) continue;
    const double value = x.dense[obs.attribute];
    for (size_t k = 0; k < classes; ++k) {
      const auto [cls, weight] = leaf.stats[k];
      if (!(weight > 0)) continue;
      votes[k] += LogCondProbaTerm(obs, cls, value);
    }
  }
  for (const auto& obs : leaf.nominal) {
    const int64_t value = NominalValueOf(x, obs.field);
    if (value < 0) continue;
    for (size_t k = 0; k < classes; ++k) {
      const auto [cls, weight] = leaf.stats[k];
      if (!(weight > 0)) continue;
      const double p = NominalCondProba(obs, cls, static_cast<uint32_t>(value));
      votes[k] += p > 0 ? std::log(p) : 0.0;
    }
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
  leaf.nominal = {};
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
  // So do the nominal observers, by their entries.
  // The bucket index counts as the std::unordered_map it replaced (56 bytes, and 3 pointers
  // per bucket below): this estimate decides where a size limit cuts, which a change of
  // layout must not move.
  constexpr size_t kBucketMapCounted = 56;
  size_t b = sizeof(TreeLeaf) - sizeof(bucket_slot) + kBucketMapCounted - sizeof(features) - sizeof(nominal) +
             features.size() * sizeof(uint32_t) +
             (stats.size() + observed.size()) * weight + numeric_slot.size() * sizeof(int32_t);
  // A class Gaussian counts its statistics, not the density terms derived from them: the
  // estimate (which decides where a size limit cuts) is what it was before they were kept.
  constexpr size_t kClassGaussianStatistics = offsetof(ClassGaussian, neg_two_var);
  static_assert(kClassGaussianStatistics == 48);
  // A numeric observer counts as it was when its class Gaussians were a vector of their own
  // (an attribute and the vector), not the room for two kept in place since: where a size
  // limit cuts does not move with the layout.
  constexpr size_t kNumericObserverCounted = sizeof(uint64_t) + sizeof(std::vector<ClassGaussian>);
  static_assert(kNumericObserverCounted == 32);
  for (const auto& obs : numeric) b += kNumericObserverCounted + obs.classes.size() * kClassGaussianStatistics;
  // A bucket observer counts as it did with its class weights in a vector of their own.
  constexpr size_t kBucketObserverCounted = sizeof(uint64_t) + sizeof(ClassWeights);
  static_assert(kBucketObserverCounted == 32);
  for (const auto& obs : buckets) b += kBucketObserverCounted + obs.present.size() * weight + 3 * sizeof(void*);
  for (const auto& obs : nominal) {
    b += sizeof(NominalObserver);
    for (const auto& c : obs.classes) b += sizeof(c) + c.values.size() * sizeof(c.values[0]);
  }
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
  const TreeNode& n = nodes_[node];
  if (n.leaf >= 0) return leaves_[n.leaf].total_weight();
  if (n.nominal == kNominalMultiway) {
    double w = 0;
    for (const auto& b : multiway_[n.left]) w += subtree_weight(b.second);
    return w;
  }
  return subtree_weight(n.left) + subtree_weight(n.right);
}

uint32_t HoeffdingTreeLearner::most_common_child(uint32_t node) const {
  const TreeNode& n = nodes_[node];
  if (n.nominal != kNominalMultiway) return subtree_weight(n.left) < subtree_weight(n.right) ? n.right : n.left;
  uint32_t best = multiway_[n.left][0].second;
  double best_weight = subtree_weight(best);
  for (const auto& b : multiway_[n.left]) {
    const double w = subtree_weight(b.second);
    if (w > best_weight) {
      best = b.second;
      best_weight = w;
    }
  }
  return best;
}

uint32_t HoeffdingTreeLearner::route(const FeatureVector& x, bool* by_missing, uint32_t* unseen_at) const {
  if (multiway_.empty() && !has_nominal_binary_) {
    return RouteToLeaf(nodes_, x, [&](uint32_t leaf) { return leaves_[leaf].total_weight(); }, by_missing);
  }
  uint32_t at = 0;
  while (nodes_[at].leaf < 0) {
    const TreeNode& n = nodes_[at];
    if (n.nominal != kNominalNone) {
      const int64_t v = NominalValueOf(x, n.attribute);
      if (v >= 0 && n.nominal == kNominalBinary) {
        at = static_cast<double>(v) == n.threshold ? n.left : n.right;
        continue;
      }
      if (v >= 0) {
        const auto& branches = multiway_[n.left];
        auto it = std::find_if(branches.begin(), branches.end(), [&](const auto& b) { return b.first == v; });
        if (it != branches.end()) {
          at = it->second;
          continue;
        }
        // A value the split has not seen: River adds a branch for it when learning, and
        // predicts by the most traversed path.
        if (unseen_at != nullptr) {
          *unseen_at = at;
          return at;
        }
      }
      *by_missing = true;
      at = most_common_child(at);
    } else if (n.on_bucket) {
      at = BucketPresent(x, n.attribute) ? n.right : n.left;
    } else if (DensePresent(x, n.attribute)) {
      at = x.dense[n.attribute] <= n.threshold ? n.left : n.right;
    } else {
      *by_missing = true;
      at = most_common_child(at);
    }
  }
  return at;
}

void HoeffdingTreeLearner::observe_nominal(TreeLeaf& leaf, uint32_t field, uint32_t value, uint32_t label, double w) {
  auto obs = std::find_if(leaf.nominal.begin(), leaf.nominal.end(), [&](const NominalObserver& o) { return o.field == field; });
  if (obs == leaf.nominal.end()) {
    leaf.nominal.push_back({field, {}});
    obs = leaf.nominal.end() - 1;
  }
  auto c = std::find_if(obs->classes.begin(), obs->classes.end(), [&](const NominalClassCounts& e) { return e.cls == label; });
  if (c == obs->classes.end()) {
    obs->classes.push_back({label, {}});
    c = obs->classes.end() - 1;
  }
  for (auto& v : c->values) {
    if (v.first == value) {
      v.second += w;
      return;
    }
  }
  c->values.emplace_back(value, w);
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
  it->update(v, w);
}

void HoeffdingTreeLearner::observe_bucket(TreeLeaf& leaf, uint32_t bucket, uint32_t label, double w) {
  bool fresh = false;
  const uint32_t slot = leaf.bucket_slot.find_or_add(bucket, static_cast<uint32_t>(leaf.buckets.size()), &fresh);
  if (fresh) leaf.buckets.push_back({bucket, {}});
  Add(leaf.buckets[slot].present, label, w);
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

void HoeffdingTreeLearner::leaf_learn(TreeLeaf& leaf, const FeatureVector& x, uint32_t label, double w,
                                      const NaiveBayesMemo* memo) {
  if (leaf.active && config_.leaf_prediction == LeafPrediction::kNaiveBayesAdaptive) {
    if (leaf.stats.empty() || FirstArgmax(leaf.stats, [&](size_t i) { return leaf.stats[i].second; }) == label) {
      leaf.mc_correct += w;
    }
    if (memo != nullptr && memo->computed) {
      if (memo->ok && FirstArgmax(leaf.stats, [&](size_t i) { return memo->votes[i]; }) == label) leaf.nb_correct += w;
    } else {
      std::array<double, learn::kMaxLearnerClasses> votes;
      if (NaiveBayesVotes(leaf, x, votes.data()) &&
          FirstArgmax(leaf.stats, [&](size_t i) { return votes[i]; }) == label) {
        leaf.nb_correct += w;
      }
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
    // Multiway: a categorical field is one nominal attribute, not its hashed bucket.
    const bool skip_copies = nominals_ && !x.nominal_field.empty();
    for (size_t k = 0; k < x.sparse_index.size(); ++k) {
      if (x.sparse_value[k] != 0 && !(skip_copies && x.sparse_is_nominal(k))) {
        observe_bucket(leaf, x.sparse_index[k], label, w);
      }
    }
    if (nominals_) {
      for (size_t i = 0; i < x.nominal_field.size(); ++i) {
        observe_nominal(leaf, x.nominal_field[i], x.nominal_value[i], label, w);
      }
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
  uint32_t unseen_at = kNoNode;
  uint32_t at = route(x, &by_missing, &unseen_at);
  if (unseen_at != kNoNode) {
    // River: a new leaf for the value, learning this event without a split attempt.
    const uint32_t leaf_index = static_cast<uint32_t>(leaves_.size());
    leaves_.emplace_back();
    leaves_.back().depth = nodes_[at].depth + 1;
    TreeNode child;
    child.leaf = static_cast<int32_t>(leaf_index);
    child.depth = nodes_[at].depth + 1;
    const uint32_t child_node = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(child);
    multiway_[nodes_[at].left].emplace_back(static_cast<uint32_t>(NominalValueOf(x, nodes_[at].attribute)), child_node);
    leaf_learn(leaves_[leaf_index], x, label, w);
    ++trained_;
    weight_seen_ += w;
    if (std::fmod(weight_seen_, static_cast<double>(config_.memory_estimate_period)) == 0) estimate_model_size();
    return;
  }
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

std::vector<uint32_t> HoeffdingTreeLearner::leaves_in_order() const {
  if (multiway_.empty()) return LeavesInOrder(nodes_);
  std::vector<uint32_t> out, stack;
  if (nodes_.empty()) return out;
  stack.push_back(0);
  while (!stack.empty()) {
    const TreeNode& n = nodes_[stack.back()];
    stack.pop_back();
    if (n.leaf >= 0) {
      out.push_back(static_cast<uint32_t>(n.leaf));
    } else if (n.nominal == kNominalMultiway) {
      const auto& branches = multiway_[n.left];
      for (auto it = branches.rbegin(); it != branches.rend(); ++it) stack.push_back(it->second);
    } else {
      stack.push_back(n.right);
      stack.push_back(n.left);
    }
  }
  return out;
}

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
    const double pre_entropy = PreSplitEntropy(config_.split_criterion, leaf.stats);
    suggestions.reserve(1 + leaf.numeric.size() + leaf.buckets.size() + leaf.nominal.size());
    std::array<ClassWeights, 2> post;
    for (const auto& obs : leaf.numeric) suggestions.push_back(BestNumericSplit(obs, pre_entropy, config_, post));
    for (const auto& obs : leaf.buckets) suggestions.push_back(BestBucketSplit(obs, leaf, pre_entropy, config_, post));
    for (const auto& obs : leaf.nominal) suggestions.push_back(BestNominalSplit(obs, pre_entropy, config_));
  }
  const TopTwo top = TopTwoByMerit(suggestions);
  bool should_split = false;
  if (suggestions.size() < 2) {
    should_split = !suggestions.empty();
  } else {
    const double range = RangeOfMerit(config_.split_criterion, leaf.stats);
    const double bound = std::sqrt((range * range * std::log(1.0 / config_.delta)) / (2.0 * total));
    if (suggestions[top.best].merit - top.second_merit > bound || bound < config_.tau) should_split = true;
  }
  if (!should_split) return out;
  Suggestion& decision = suggestions[top.best];
  out.kind = decision.valid ? LeafSplitDecision::kSplit : LeafSplitDecision::kPrune;
  out.on_bucket = decision.on_bucket;
  out.nominal = decision.nominal;
  out.branch_values = std::move(decision.branch_values);
  out.branches = std::move(decision.branches);
  out.attribute = decision.attribute;
  out.threshold = decision.threshold;
  if (decision.numeric != nullptr) {
    NumericSplitPost(*decision.numeric, decision.threshold, out.post);
  } else if (decision.bucket != nullptr) {
    BucketSplitPost(*decision.bucket, leaf, out.post);
  } else {
    out.post = std::move(decision.post);
  }
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
  if (decision.nominal == kNominalMultiway) {
    split_multiway(node, decision);
    enforce_size_limit();
    return;
  }
  std::array<TreeLeaf, 2> children;
  for (size_t i = 0; i < 2; ++i) {
    children[i].stats = std::move(decision.post[i]);
    children[i].depth = child_depth;
    children[i].last_split_attempt_at = children[i].total_weight();
  }
  SplitLeafNode(nodes_, leaves_, node, decision.on_bucket, decision.attribute, decision.threshold, std::move(children));
  if (decision.nominal == kNominalBinary) {
    nodes_[node].nominal = kNominalBinary;
    has_nominal_binary_ = true;
  }
  enforce_size_limit();
}

// One child per value: the split leaf's slot goes to the first, the others are appended.
void HoeffdingTreeLearner::split_multiway(uint32_t node, LeafSplitDecision& decision) {
  const uint32_t leaf_index = static_cast<uint32_t>(nodes_[node].leaf);
  const uint32_t child_depth = nodes_[node].depth + 1;
  std::vector<std::pair<uint32_t, uint32_t>> branches;
  for (size_t j = 0; j < decision.branches.size(); ++j) {
    TreeLeaf child;
    child.stats = std::move(decision.branches[j]);
    child.depth = child_depth;
    child.last_split_attempt_at = child.total_weight();
    uint32_t slot = leaf_index;
    if (j == 0) {
      leaves_[leaf_index] = std::move(child);
    } else {
      slot = static_cast<uint32_t>(leaves_.size());
      leaves_.push_back(std::move(child));
    }
    TreeNode n;
    n.leaf = static_cast<int32_t>(slot);
    n.depth = child_depth;
    branches.emplace_back(decision.branch_values[j], static_cast<uint32_t>(nodes_.size()));
    nodes_.push_back(n);
  }
  TreeNode& split = nodes_[node];
  split.leaf = -1;
  split.nominal = kNominalMultiway;
  split.attribute = decision.attribute;
  split.left = static_cast<uint32_t>(multiway_.size());
  split.right = 0;
  multiway_.push_back(std::move(branches));
}

void HoeffdingTreeLearner::leaf_prediction(const TreeLeaf& leaf, const FeatureVector& x, double* proba, size_t n,
                                           NaiveBayesMemo* memo) const {
  bool naive_bayes = false;
  switch (config_.leaf_prediction) {
    case LeafPrediction::kMajorityClass: break;
    case LeafPrediction::kNaiveBayes: naive_bayes = leaf.active && leaf.total_weight() >= config_.nb_threshold; break;
    case LeafPrediction::kNaiveBayesAdaptive: naive_bayes = leaf.active && leaf.nb_correct >= leaf.mc_correct; break;
  }
  if (memo != nullptr) memo->computed = false;
  // The leaf's learning needs the votes whatever this prediction uses: one computation.
  const bool learning_needs = memo != nullptr && leaf.active && config_.leaf_prediction == LeafPrediction::kNaiveBayesAdaptive;
  if (naive_bayes || learning_needs) {
    std::array<double, learn::kMaxLearnerClasses> scratch;
    double* votes = memo != nullptr ? memo->votes.data() : scratch.data();
    const bool ok = NaiveBayesVotes(leaf, x, votes);
    if (memo != nullptr) {
      memo->computed = true;
      memo->ok = ok;
    }
    if (ok && naive_bayes) {
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
  multiway_.clear();
  has_nominal_binary_ = false;
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
    for (const auto& obs : leaf.numeric) bytes += obs.classes.heap_capacity() * sizeof(ClassGaussian);
    bytes += leaf.buckets.capacity() * sizeof(BucketObserver);
    for (const auto& obs : leaf.buckets) bytes += obs.present.heap_capacity() * weight;
    bytes += leaf.bucket_slot.table_size() * sizeof(uint64_t);
    bytes += leaf.nominal.capacity() * sizeof(NominalObserver);
    for (const auto& obs : leaf.nominal) {
      bytes += obs.classes.capacity() * sizeof(NominalClassCounts);
      for (const auto& c : obs.classes) bytes += c.values.capacity() * sizeof(c.values[0]);
    }
  }
  bytes += multiway_.capacity() * sizeof(multiway_[0]);
  for (const auto& branches : multiway_) bytes += branches.capacity() * sizeof(branches[0]);
  return bytes;
}

}  // namespace streamlearn::trees

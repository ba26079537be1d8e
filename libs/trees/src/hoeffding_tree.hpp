#pragma once
// River's tree.HoeffdingTreeClassifier behind learn::Learner, with its arithmetic: leaves
// keep class weights (in the order River's dicts would hold them, which decides ties) and a
// Gaussian observer per attribute and class (River's GaussianSplitter, n_splits candidate
// thresholds between the smallest and largest value seen); every grace_period of weight a
// leaf ranks the best binary split of each attribute and the null split by the split
// criterion and splits when the Hoeffding bound separates the best two (or falls below
// tau). Leaves predict by majority class, naive Bayes, or whichever of the two has been
// right more often at that leaf (nba).
//
// Memory management as River's: every memory_estimate_period events the sizes of active
// and inactive leaves are estimated (our byte counts where River measures its Python
// objects, so the points where leaves switch differ from River's); past max_size the
// least promising leaves (fewest events outside their majority class) are deactivated,
// and after each split the most promising inactive ones reactivated while the estimate
// allows (River's _enforce_size_limit, quirks included: before the first estimate every
// inactive leaf above max_depth is reactivated after each split or pre-pruning, with
// fresh observers). stop_mem_management stops growth instead.
//
// As the base tree of an adaptive random forest (max_features > 0, River's
// BaseTreeClassifier with its RandomLeaf* nodes): each leaf, at the first event it learns,
// draws max_features of the attributes that event has (rng.sample over their sorted keys,
// from the forest's shared random.Random) and observes only those, in the order drawn.
//
// Nominal attributes (nominal_attributes: multiway, the default; the feature builder's
// nominals on): each categorical field is one attribute, observed as River's
// NominalSplitterClassif (weight per class and value) instead of its hashed bucket; its
// split suggestion is the multiway split (a branch per value seen, up to kMaxBranches
// values) or, when strictly better, the binary split value == v against the rest. An event
// with a value a multiway split has not seen grows a new branch (River's add_child) when
// learned, and follows the most traversed branch when predicted. The adaptive tree and the
// forest's trees keep hashed buckets (nominals off for them).
//
// Not done (yet): remove_poor_attrs, merit_preprune off.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gaussian.hpp"
#include "inline_list.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "tree_parts.hpp"

namespace streamlearn::trees {

enum class SplitCriterion : uint8_t { kInfoGain, kGini, kHellinger };
enum class LeafPrediction : uint8_t { kNaiveBayesAdaptive, kNaiveBayes, kMajorityClass };
enum class NominalAttributes : uint8_t { kMultiway, kHashed };

// The most branches a multiway split may have (more values: binary splits only).
inline constexpr size_t kMaxBranches = 64;

struct HoeffdingTreeConfig {
  learn::LearnerTask task = learn::LearnerTask::kBinary;
  int64_t grace_period = 200;
  double delta = 1e-7;
  double tau = 0.05;
  SplitCriterion split_criterion = SplitCriterion::kInfoGain;
  LeafPrediction leaf_prediction = LeafPrediction::kNaiveBayesAdaptive;
  double nb_threshold = 0;
  int64_t max_depth = -1;  // -1: none
  int64_t n_splits = 10;
  double min_branch_fraction = 0.01;
  double max_share_to_split = 0.99;
  double max_size = 100;  // MiB
  int64_t memory_estimate_period = 1000000;
  bool stop_mem_management = false;
  // 0: every attribute at every leaf (the plain tree); k > 0: k random attributes per leaf
  // (the forest's trees; set by the forest, not a key of hoeffding_tree).
  int64_t max_features = 0;
  // multiway: categorical fields given as nominal pairs are nominal attributes; hashed:
  // their hashed buckets are binary attributes (the tree before nominals). In the plain
  // tree's snapshot only (version 2).
  NominalAttributes nominal_attributes = NominalAttributes::kMultiway;

  bool operator==(const HoeffdingTreeConfig&) const = default;
};

// One tree key into `config` (NotFound: not a tree key), for the tree and the forest.
Status ApplyHoeffdingTreeKey(std::string_view key, std::string_view text, HoeffdingTreeConfig* config);
// The settings in snapshots (all but max_features, which the forest keeps itself).
void WriteHoeffdingTreeConfig(ByteWriter& w, const HoeffdingTreeConfig& c);
bool ReadHoeffdingTreeConfig(ByteReader& r, HoeffdingTreeConfig* c);

Result<HoeffdingTreeConfig> ParseHoeffdingTreeConfig(std::string_view type, const learn::LearnerKeys& keys,
                                                     std::string_view key_prefix);

// (class, weight) pairs in the order the class first came: River's dict of class weights.
using ClassWeights = std::vector<std::pair<uint32_t, double>>;

struct ClassGaussian {
  uint32_t cls = 0;
  Gaussian estimator;
  double min = 0;
  double max = 0;
  // The estimator's density terms, kept with it (refresh() after each change): the naive
  // Bayes votes take them for every event a leaf is asked about, the estimator changes
  // only when its class is learned there.
  double neg_two_var = 0;  // -2 * variance: 0 while the variance is 0 (the density is 0)
  double norm = 0;         // sqrt(2 pi variance), the density's divisor
  double log_norm = 0;     // log(norm)

  void update(double x, double w) {
    estimator.update(x, w);
    refresh();
  }
  // The same expressions as Gaussian::pdf, so the density is the same to the bit.
  void refresh() {
    const double var = estimator.variance();
    neg_two_var = -2 * var;
    norm = var == 0 ? 0.0 : std::sqrt(6.283185307179586 * var);
    log_norm = var == 0 ? 0.0 : std::log(norm);
  }
  // Gaussian::pdf(x).
  double pdf(double x) const {
    if (neg_two_var == 0) return 0.0;
    const double d = x - estimator.mean;
    return std::exp(d * d / neg_two_var) / norm;
  }
  // River's naive Bayes term `log(p) if p > 0 else 0` for p = pdf(x), written as the
  // log-density -d^2 / (2 var) - log(norm) without computing p: no exp and no log per event,
  // the same value but for the last bits (exp, the division and log rounded once each
  // before). Where p would be 0 (or not a number, or so small that it is not a normal
  // double) the term is computed as River does, so it is 0 exactly where River's is.
  double log_pdf_term(double x) const {
    if (neg_two_var == 0) return 0.0;
    const double d = x - estimator.mean;
    const double exponent = d * d / neg_two_var;
    const double log_p = exponent - log_norm;
    // exp(exponent) and p = exp(exponent) / norm are then both at least e^-700, normal
    // positive doubles: River's p > 0 holds.
    if (exponent >= -700 && log_p >= -700) return log_p;
    const double p = std::exp(exponent) / norm;
    return p > 0 ? std::log(p) : 0.0;
  }
};

// River's GaussianSplitter for one dense attribute at one leaf. Two classes' Gaussians are
// kept in place (a binary task's all): the naive Bayes votes and the updates read every
// observer of a leaf in a row, which is then one run of memory, not a pointer per attribute.
struct NumericObserver {
  uint32_t attribute = 0;
  InlineList<ClassGaussian, 2> classes;  // in first-seen order
};

// A hashed bucket as a binary attribute: the weight per class of events that had it
// (River's dict, first-seen order), two classes in place as NumericObserver's Gaussians.
using BucketClassWeights = InlineList<std::pair<uint32_t, double>, 2>;
struct BucketObserver {
  uint32_t bucket = 0;
  BucketClassWeights present;
};

// Hashed bucket -> its observer's index in a leaf (TreeLeaf::buckets): open addressing in
// one array of (bucket + 1, index) pairs, linear probing, at most half full. A lookup reads
// one slot (a cache line) where std::unordered_map read its bucket array, then a node.
class BucketSlots {
 public:
  // The index kept for `bucket`; when it has none, `fresh` is kept for it and *added set.
  uint32_t find_or_add(uint32_t bucket, uint32_t fresh, bool* added) {
    if (2 * (size_ + 1) > table_.size()) grow();
    const uint64_t key = uint64_t{bucket} + 1;
    const size_t mask = table_.size() - 1;
    for (size_t at = Home(bucket, mask);; at = (at + 1) & mask) {
      const uint64_t e = table_[at];
      if (e == 0) {
        table_[at] = key << 32 | fresh;
        ++size_;
        *added = true;
        return fresh;
      }
      if (e >> 32 == key) {
        *added = false;
        return static_cast<uint32_t>(e);
      }
    }
  }
  size_t size() const { return size_; }
  size_t table_size() const { return table_.size(); }

 private:
  static size_t Home(uint32_t bucket, size_t mask) {
    return static_cast<size_t>((uint64_t{bucket} * 0x9E3779B97F4A7C15ull) >> 40) & mask;
  }
  void grow() {
    std::vector<uint64_t> old = std::move(table_);
    table_.assign(old.empty() ? 16 : 2 * old.size(), 0);
    const size_t mask = table_.size() - 1;
    for (const uint64_t e : old) {
      if (e == 0) continue;
      size_t at = Home(static_cast<uint32_t>((e >> 32) - 1), mask);
      while (table_[at] != 0) at = (at + 1) & mask;
      table_[at] = e;
    }
  }
  std::vector<uint64_t> table_;  // 0: empty
  uint32_t size_ = 0;
};

// River's NominalSplitterClassif for one nominal field at one leaf: per class (first-seen
// order), the weight per value (first-seen order).
struct NominalClassCounts {
  uint32_t cls = 0;
  std::vector<std::pair<uint32_t, double>> values;
};
struct NominalObserver {
  uint32_t field = 0;
  std::vector<NominalClassCounts> classes;
};

// An attribute's key as River sorts x's keys: dense indices first, then hashed buckets.
inline constexpr uint32_t kBucketKeyBit = 0x80000000u;

struct TreeLeaf {
  ClassWeights stats;
  ClassWeights observed;  // weight learned while active (the events the observers saw)
  double last_split_attempt_at = 0;
  double mc_correct = 0;
  double nb_correct = 0;
  uint32_t depth = 0;
  bool active = true;
  std::vector<NumericObserver> numeric;  // in first-seen order
  std::vector<int32_t> numeric_slot;     // dense index -> index in numeric, -1 none
  std::vector<BucketObserver> buckets;   // in first-seen order
  BucketSlots bucket_slot;
  std::vector<NominalObserver> nominal;  // in first-seen order
  // max_features > 0: the attribute keys this leaf observes, in draw order (River's
  // feature_indices); drawn at its first event, kept when the leaf is deactivated.
  std::vector<uint32_t> features;

  double total_weight() const;
  // River's calculate_promise: the weight outside the majority class.
  double promise() const;
  // Bytes held, by sizes (not capacities): the same before a save and after a load, so
  // memory management decides alike.
  size_t bytes() const;
};

// What a split attempt at a leaf decided (River's _attempt_to_split before it reshapes the
// tree): nothing, pre-pruning (the null split won), or a binary split with its children's
// class weights.
struct LeafSplitDecision {
  enum Kind : uint8_t { kNone, kPrune, kSplit } kind = kNone;
  bool on_bucket = false;
  uint8_t nominal = kNominalNone;
  uint32_t attribute = 0;
  double threshold = 0;
  std::array<ClassWeights, 2> post;
  std::vector<uint32_t> branch_values;  // multiway: a branch per value, ascending
  std::vector<ClassWeights> branches;
};

// River's deactivate(): no more observers, the class weights kept.
void DeactivateTreeLeaf(TreeLeaf& leaf);
// A leaf's snapshot, shared by the trees built from these leaves; false on bad bytes
// (class ids must be below `classes`).
void WriteTreeLeaf(ByteWriter& w, const TreeLeaf& leaf);
bool ReadTreeLeaf(ByteReader& r, uint32_t classes, TreeLeaf* leaf);
// A class-weights dict's snapshot, for the trees built on this one.
void WriteClassWeights(ByteWriter& w, const ClassWeights& d);
bool ReadClassWeights(ByteReader& r, uint32_t classes, ClassWeights* d);

class HoeffdingAdaptiveTree;

// A leaf's naive Bayes votes on one event, computed once where the adaptive tree asks the
// same leaf twice about the same event (its vote, then its learning): the same arithmetic,
// done once.
struct NaiveBayesMemo {
  bool computed = false;
  bool ok = false;  // NaiveBayesVotes' answer (false: River's None)
  std::array<double, learn::kMaxLearnerClasses> votes;
};

class HoeffdingTreeLearner final : public learn::Learner {
 public:
  explicit HoeffdingTreeLearner(HoeffdingTreeConfig config)
      : config_(config),
        nominals_(config.nominal_attributes == NominalAttributes::kMultiway && config.max_features == 0) {}

  std::string_view type() const override;
  learn::LearnerTask task() const override { return config_.task; }
  bool scores_probability() const override { return true; }
  bool reads_nominals() const override { return nominals_; }

  void predict(const FeatureVector& x, learn::Prediction& out) const override;
  void learn(const FeatureVector& x, double y, double weight) override;

  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;
  std::unique_ptr<learn::Learner> fresh_copy() const override;
  void reset() override;
  void describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t top_sparse) const override;
  size_t memory_bytes() const override;
  uint64_t trained() const override { return trained_; }
  uint64_t guarded_updates() const override { return guarded_; }

  const HoeffdingTreeConfig& config() const { return config_; }
  // River's learn_one(x, y, w): one event of weight w (the forest's Poisson weight), the
  // label already checked. The forest's trees draw their leaves' attributes from `rng`,
  // which the forest owns and shares among its trees.
  void learn_weighted(const FeatureVector& x, uint32_t label, double w) { learn_one(x, label, w); }
  void set_rng(drift::PythonRandom* rng) { rng_ = rng; }
  // River's predict_proba_one into proba[0, n): 0 for every class, then the leaf's.
  void class_probabilities(const FeatureVector& x, double* proba, size_t n) const;
  // River's predict_one: the most probable known class (lowest on ties), -1 before any.
  int32_t predict_class(const FeatureVector& x) const;
  bool knows_class(uint32_t c) const { return c < seen_class_.size() && seen_class_[c]; }
  uint32_t known_classes() const { return known_classes_; }
  // The state without settings, for the forest's snapshot (which keeps the settings).
  void save_state(ByteWriter& w) const;
  // check_shape false: the caller checks the node table (after reading the nominal splits).
  Status load_state(ByteReader& r, bool check_shape = true);
  size_t leaves() const { return leaves_.size(); }
  size_t splits() const { return nodes_.size() - leaves_.size(); }
  uint32_t depth() const;
  uint32_t dense_attributes() const { return max_dense_; }  // dense attributes ever seen

 private:
  struct State;  // what save/load move as one
  // The adaptive tree grows its leaves with this tree's leaf rules (composition).
  friend class HoeffdingAdaptiveTree;

  void learn_one(const FeatureVector& x, uint32_t label, double w);
  void observe(TreeLeaf& leaf, uint32_t key, const FeatureVector& x, uint32_t label, double w);
  void observe_numeric(TreeLeaf& leaf, uint32_t i, double v, uint32_t label, double w);
  void observe_bucket(TreeLeaf& leaf, uint32_t bucket, uint32_t label, double w);
  void observe_nominal(TreeLeaf& leaf, uint32_t field, uint32_t value, uint32_t label, double w);
  void split_multiway(uint32_t node, LeafSplitDecision& decision);
  // Snapshot version 2's nominal part: split kinds, multiway tables, leaves' observers.
  void save_nominal(ByteWriter& w) const;
  Status load_nominal(ByteReader& r);
  // River's most_common_path: the child with the most weight under it (the first on ties).
  uint32_t most_common_child(uint32_t node) const;
  // River's _sample_features: max_features of x's sorted keys, or all when fewer.
  std::vector<uint32_t> sample_features(const FeatureVector& x);
  // The leaf node x reaches; *by_missing when a split's attribute was missing on the way.
  // With unseen_at: a multiway split x's value has no branch at stops the walk there.
  static constexpr uint32_t kNoNode = 0xffffffffu;
  uint32_t route(const FeatureVector& x, bool* by_missing, uint32_t* unseen_at = nullptr) const;
  double subtree_weight(uint32_t node) const;
  // `memo`: the leaf's naive Bayes votes on x if leaf_prediction computed them since the
  // leaf last changed (its adaptive rule needs them again); null or empty computes them.
  void leaf_learn(TreeLeaf& leaf, const FeatureVector& x, uint32_t label, double w,
                  const NaiveBayesMemo* memo = nullptr);
  // The leaf's class probabilities (River's leaf.prediction) into `proba`, by class index.
  // `memo` (optional) keeps the naive Bayes votes for leaf_learn: computed whenever the
  // leaf's adaptive rule will need them, even if this prediction is the majority class.
  void leaf_prediction(const TreeLeaf& leaf, const FeatureVector& x, double* proba, size_t n,
                       NaiveBayesMemo* memo = nullptr) const;
  LeafSplitDecision decide_split(const TreeLeaf& leaf) const;
  void attempt_split(uint32_t node);
  void enforce_size_limit();
  void estimate_model_size();
  // Leaf indices in River's iter_leaves order (depth first, left before right).
  std::vector<uint32_t> leaves_in_order() const;

  HoeffdingTreeConfig config_;
  uint32_t known_classes_ = 0;
  std::vector<uint8_t> seen_class_;  // River's tree.classes
  std::vector<TreeNode> nodes_;      // nodes_[0] is the root once anything was learned
  std::vector<TreeLeaf> leaves_;
  bool nominals_ = false;  // nominal attributes read (multiway, and not a forest's tree)
  // Multiway splits' (value, child node) lists, in branch order (TreeNode::left indexes it).
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> multiway_;
  bool has_nominal_binary_ = false;
  uint32_t max_dense_ = 0;           // dense attributes ever seen (for describe)
  // Memory management (River's names): leaf size estimates, the overhead of the rest.
  bool growth_allowed_ = true;
  double active_leaf_bytes_ = 0;
  double inactive_leaf_bytes_ = 0;
  double overhead_fraction_ = 1.0;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
  // River's _train_weight_seen_by_model, which times the memory estimates (the plain
  // tree learns weight 1 per event, so it equals trained_ there).
  double weight_seen_ = 0;
  drift::PythonRandom* rng_ = nullptr;  // the forest's; null for the plain tree
};

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingTree(std::string_view type, const learn::LearnerKeys& keys,
                                                          std::string_view key_prefix);
Status CheckHoeffdingTreeSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingTree(ByteReader& in);

}  // namespace streamlearn::trees

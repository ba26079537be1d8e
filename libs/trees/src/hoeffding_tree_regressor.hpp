#pragma once
// River's tree.HoeffdingTreeRegressor behind learn::Learner, with its arithmetic: each leaf
// keeps the target's running mean and variance (River's stats.Var) and an E-BST per dense
// attribute (River's EBSTSplitter); every grace_period of weight a leaf ranks the best split
// of each attribute by variance reduction (min_samples_split events on each side) against
// the null split and splits when the ratio of the best two merits is below 1 - the
// Hoeffding bound (range 1) or the bound falls below tau; a failed attempt prunes bad split
// points from the E-BSTs. Leaves predict the target mean, a linear model (River's
// LinearRegression: squared loss, SGD with step 0.01 on the weights and the intercept, its
// defaults), or whichever of the two has the smaller decayed squared error (adaptive).
// A new leaf starts from its parent's linear model and error figures.
//
// Inputs: dense feature i (present) is numeric attribute i; the hashed sparse block is not
// read. An event without a split's feature goes down the side whose leaves hold more
// weight (River weighs the branches by their statistics frozen at the split: the only
// place where the two can part). Memory management: River's, shared with the classifier (tree_memory.hpp); a leaf's
// promise is minus its depth (River's), so the deepest leaves are deactivated first.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ebst_splitter.hpp"
#include "river_var.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "tree_parts.hpp"

namespace streamlearn::trees {

enum class RegressionLeafPrediction : uint8_t { kAdaptive, kMean, kModel };

struct HoeffdingTreeRegressorConfig {
  int64_t grace_period = 200;
  double delta = 1e-7;
  double tau = 0.05;
  RegressionLeafPrediction leaf_prediction = RegressionLeafPrediction::kAdaptive;
  double model_selector_decay = 0.95;
  int64_t min_samples_split = 5;
  int64_t max_depth = -1;  // -1: none
  double max_size = 500;   // MiB (River's default for regressors)
  int64_t memory_estimate_period = 1000000;
  bool stop_mem_management = false;
  // 0: every attribute at every leaf; k > 0: the forest's trees, k random attributes per
  // leaf drawn from the forest's generator (River's RandomLeaf*, as the classifier's).
  int64_t max_features = 0;

  bool operator==(const HoeffdingTreeRegressorConfig&) const = default;
};

// One key into `config` (NotFound: not a key of the tree), for the tree and the forest.
Status ApplyHoeffdingTreeRegressorKey(std::string_view key, std::string_view text, HoeffdingTreeRegressorConfig* config);
// The settings in snapshots (all but max_features, which the forest keeps itself).
void WriteHoeffdingTreeRegressorConfig(ByteWriter& w, const HoeffdingTreeRegressorConfig& c);
bool ReadHoeffdingTreeRegressorConfig(ByteReader& r, HoeffdingTreeRegressorConfig* c);

// River's linear_model.LinearRegression with its defaults, on the dense attributes in
// index order (River's dict order): prediction w·x + b, then one SGD step of 0.01 on
// the squared loss's gradient 2 (prediction - y), clipped to ±1e12, for b and each w.
struct LeafLinearModel {
  std::vector<double> weights;  // by dense index, 0 where never seen
  double intercept = 0;

  double predict(const FeatureVector& x) const;
  // One SGD step for an event of weight w (River scales the loss gradient by w).
  void learn(const FeatureVector& x, double y, double w = 1.0);
};

struct RegressionLeaf {
  RiverVar stats;
  double last_split_attempt_at = 0;
  uint32_t depth = 0;
  bool active = true;
  double fmse_mean = 0;   // adaptive: the decayed squared error of the mean
  double fmse_model = 0;  // ... and of the linear model
  LeafLinearModel model;
  std::vector<EbstSplitter> splitters;  // in first-seen order
  std::vector<int32_t> splitter_slot;   // dense index -> index in splitters, -1 none
  std::vector<uint32_t> features;       // max_features > 0: drawn at the first event

  double total_weight() const { return stats.n; }
  size_t bytes() const;
};

// A leaf in snapshots (the plain tree's and the adaptive tree's); the read gives why not, or "".
void WriteRegressionLeaf(ByteWriter& w, const RegressionLeaf& leaf);
std::string ReadRegressionLeaf(ByteReader& r, RegressionLeaf* leaf);
std::string_view RegressionLeafPredictionName(RegressionLeafPrediction p);

// Stops a leaf's learning of splits (depth limit, pre-pruning, memory): its splitters go.
void DeactivateRegressionLeaf(RegressionLeaf& leaf);

// What a leaf's split attempt decided: nothing (its E-BSTs pruned of bad split points),
// pre-pruning (the null split won: the leaf stops), or a split with its two new leaves.
struct RegressionSplitDecision {
  enum Kind : uint8_t { kNone, kPrune, kSplit } kind = kNone;
  uint32_t attribute = 0;
  double threshold = 0;
  std::array<RegressionLeaf, 2> children;
};

class HoeffdingTreeRegressor final : public learn::Learner {
 public:
  explicit HoeffdingTreeRegressor(HoeffdingTreeRegressorConfig config) : config_(config) {}

  std::string_view type() const override { return "hoeffding_tree_regressor"; }
  learn::LearnerTask task() const override { return learn::LearnerTask::kRegression; }
  bool scores_probability() const override { return false; }

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

  const HoeffdingTreeRegressorConfig& config() const { return config_; }
  // The value River's predict_one gives (0 before anything was learned).
  double predict_value(const FeatureVector& x) const;
  size_t leaves() const { return leaves_.size(); }
  size_t splits() const { return nodes_.size() - leaves_.size(); }
  uint32_t depth() const;
  uint32_t dense_attributes() const { return max_dense_; }
  // River's learn_one(x, y, w) for the forest (the target already checked), its draws
  // from the forest's generator.
  void learn_weighted(const FeatureVector& x, double y, double w) { learn_one(x, y, w); }
  void set_rng(drift::PythonRandom* rng) { rng_ = rng; }
  // The state without settings, for the forest's snapshot.
  void save_state(ByteWriter& w) const;
  Status load_state(ByteReader& r);
  // The leaf rules alone, for the adaptive tree's own leaves: a leaf's prediction, its
  // learning of an event (statistics, splitters, linear model, adaptive errors) and a split attempt.
  double leaf_prediction(const RegressionLeaf& leaf, const FeatureVector& x) const;
  void leaf_learn(RegressionLeaf& leaf, const FeatureVector& x, double y, double w);
  RegressionSplitDecision decide_split(RegressionLeaf& leaf) const;

 private:
  void learn_one(const FeatureVector& x, double y, double w = 1.0);
  uint32_t route(const FeatureVector& x, bool* by_missing) const;
  void observe(RegressionLeaf& leaf, uint32_t i, double v, double y, double w);
  void attempt_split(uint32_t node);
  void enforce_size_limit();
  TreeMemoryLimits memory_limits() const;

  HoeffdingTreeRegressorConfig config_;
  std::vector<TreeNode> nodes_;  // nodes_[0] is the root once anything was learned
  std::vector<RegressionLeaf> leaves_;
  uint32_t max_dense_ = 0;  // dense attributes ever seen (for describe)
  TreeMemoryEstimates memory_;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
  double weight_seen_ = 0;  // River's _train_weight_seen_by_model (= trained_ at weight 1)
  drift::PythonRandom* rng_ = nullptr;  // the forest's; null for the plain tree
};

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingTreeRegressor(std::string_view type,
                                                                   const learn::LearnerKeys& keys,
                                                                   std::string_view key_prefix);
Status CheckHoeffdingTreeRegressorSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingTreeRegressor(ByteReader& in);

}  // namespace streamlearn::trees

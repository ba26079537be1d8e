#pragma once
// River's tree.HoeffdingAdaptiveTreeRegressor behind learn::Learner, as the River version
// whose nodes/ and E-BST splitter our Hoeffding tree regressor follows has it (nodes/
// hatr_nodes.py: ADWIN per node, numpy generators per node). Its leaves are the Hoeffding
// tree regressor's (hoeffding_tree_regressor.hpp: E-BSTs, mean / linear model / adaptive
// predictions, the same split decisions), reached through a HoeffdingTreeRegressor held
// for its rules; on top, every node watches its error e = y - prediction (a leaf its own
// prediction's, a branch its main path's leaf's, both before learning), normalised River's
// way: (e + 3 sd) / (6 sd) with sd the running deviation of the node's errors (0.5 for the
// first one or when sd is 0), with an ADWIN (libs/drift).
//
//   - A branch whose ADWIN detects a change (not a fall of its estimate) starts an
//     alternate leaf beside it. Once both ADWIN windows are wider than
//     drift_window_threshold, the alternate replaces the branch when its estimate is
//     lower by more than River's bound (adaptive_tree_parts.hpp) and is dropped when
//     higher by as much.
//   - bootstrap_sampling: a leaf learns an event with weight k ~ Poisson(1) (k = 0 keeps
//     the weight), drawn as River's check_random_state(seed) does: every node gets its own
//     numpy RandomState(seed), so every new leaf starts the same sequence of draws.
//   - Prediction: the mean of the predictions of the leaves an event reaches: each
//     alternate's on the way, then the main path's (an alternate that has seen nothing
//     predicts 0 and counts, as in River).
// Missing features follow the most traversed path (by the weight the branches saw).

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "adaptive_tree_parts.hpp"
#include "hoeffding_tree_regressor.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/core/mt19937.hpp"

namespace streamlearn::trees {

struct HoeffdingAdaptiveTreeRegressorConfig {
  HoeffdingTreeRegressorConfig tree;
  bool bootstrap_sampling = true;
  int64_t drift_window_threshold = 300;
  double switch_significance = 0.05;
  int64_t seed = 0;  // numpy RandomState(seed): below 2^32

  bool operator==(const HoeffdingAdaptiveTreeRegressorConfig&) const = default;
};

// River's normalize_error: the error's place in [mean - 3 sd, mean + 3 sd] of the node's
// errors so far (`spread` takes the error first).
double NormalizeError(double error, RiverVar& spread);

struct AdaptiveRegressionNode {
  int32_t leaf = -1;  // index into the leaves when a leaf, -1 for a branch
  bool on_bucket = false;  // always false: the regressor splits dense attributes only
  uint32_t attribute = 0;
  double threshold = 0;
  int32_t left = -1;
  int32_t right = -1;
  int32_t alternate = -1;  // a branch's alternate subtree (a node), -1 none
  uint32_t depth = 0;
  RiverVar stats;  // a branch's targets: its leaf's at the split, then every event it routes
  drift::Adwin detector;
  RiverVar error_spread;
  NumpyLegacyRandom rng;  // a leaf's bootstrap draws (a branch never draws)
};

class HoeffdingAdaptiveTreeRegressor final : public learn::Learner {
 public:
  explicit HoeffdingAdaptiveTreeRegressor(HoeffdingAdaptiveTreeRegressorConfig config);

  std::string_view type() const override { return "hoeffding_adaptive_tree_regressor"; }
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

  const HoeffdingAdaptiveTreeRegressorConfig& config() const { return config_; }
  // The value River's predict_one gives (0 before anything was learned).
  double predict_value(const FeatureVector& x) const;
  size_t leaves() const { return leaves_.size(); }
  size_t splits() const { return nodes_.size() - leaves_.size(); }
  uint32_t depth() const;
  uint64_t alternate_trees() const { return n_alternate_; }
  uint64_t switched_alternate_trees() const { return n_switched_; }
  uint64_t pruned_alternate_trees() const { return n_pruned_; }

 private:
  void learn_one(const FeatureVector& x, double y);
  void learn_at(int32_t node, const FeatureVector& x, double y, double w, int32_t parent, int parent_branch);
  void learn_at_leaf(int32_t node, const FeatureVector& x, double y, double w, int32_t parent, int parent_branch);
  void learn_at_branch(int32_t node, const FeatureVector& x, double y, double w, int32_t parent, int parent_branch);
  // The child an event goes to: 0 left, 1 right (the most traversed one when the feature is missing).
  int branch_of(const AdaptiveRegressionNode& n, const FeatureVector& x) const;
  double node_weight(int32_t node) const;
  int32_t new_leaf(RegressionLeaf leaf);
  void set_child(int32_t parent, int branch, int32_t child);
  void attempt_split(int32_t node, int32_t parent, int parent_branch);
  void enforce_size_limit();
  TreeMemoryLimits memory_limits() const;

  HoeffdingAdaptiveTreeRegressorConfig config_;
  HoeffdingTreeRegressor rules_;  // the regressor's leaf rules (its own tree unused)
  int32_t root_ = -1;
  std::vector<AdaptiveRegressionNode> nodes_;
  std::vector<RegressionLeaf> leaves_;
  bool detached_ = false;  // nodes left the tree during this event
  int32_t path_leaf_ = -1;  // the last leaf a branch asked this event, and its prediction
  double path_prediction_ = 0;
  uint32_t max_dense_ = 0;
  double weight_seen_ = 0;  // River's _train_weight_seen_by_model
  TreeMemoryEstimates memory_;
  uint64_t n_alternate_ = 0;
  uint64_t n_switched_ = 0;
  uint64_t n_pruned_ = 0;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingAdaptiveTreeRegressor(std::string_view type,
                                                                           const learn::LearnerKeys& keys,
                                                                           std::string_view key_prefix);
Status CheckHoeffdingAdaptiveTreeRegressorSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingAdaptiveTreeRegressor(ByteReader& in);

}  // namespace streamlearn::trees

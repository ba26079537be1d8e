#pragma once
// River's forest.ARFClassifier behind learn::Learner, with its arithmetic and its random
// draws in River's order, all from one random.Random(seed) the trees share:
//
//   per event, per tree in turn: the tree predicts (its accuracy metric is updated with
//   that prediction), k = poisson(lambda_value) is drawn, and when k > 0 the tree learns
//   the event with weight k (its leaves draw their max_features attributes at their first
//   event), its background tree too, and the tree's error on the event after learning
//   feeds the warning detector (ADWIN, delta 0.01; a warning starts a fresh background
//   tree) and the drift detector (ADWIN, delta 0.001; a drift swaps the background tree
//   in, or starts the tree afresh when there is none).
//
// The forest predicts the sum of the trees' class probabilities, each weighted by its
// tree's prequential accuracy (when above 0, unless disable_weighted_vote), normalised;
// the class is the first most probable one in the order the classes first appear among
// the trees (River's Counter), which is the lowest index in all but contrived cases.
//
// max_features is resolved from the first event's attributes (River's _set_max_features
// over sorted(x.keys())): sqrt and log2 round half to even as Python's round. River sorts
// its keys by name; ours are dense indices then hashed buckets, so feeding the columns in
// their names' order reproduces River's draws (the Phishing test does).
//
// The regressor (River's ARFRegressor) needs a Hoeffding tree regressor: the members'
// bookkeeping (ArfMemberStats, detectors, background swap) does not depend on the tree.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hoeffding_tree.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::trees {

enum class MaxFeaturesRule : uint8_t { kSqrt, kLog2, kCount, kFraction, kAll };

// What both forests share (River's BaseForest parameters).
struct ArfForestConfig {
  int64_t n_models = 10;
  MaxFeaturesRule max_features_rule = MaxFeaturesRule::kSqrt;
  int64_t max_features_count = 0;      // kCount (negative: n_features + count, as River)
  double max_features_fraction = 0;    // kFraction: int(fraction * n_features)
  double lambda_value = 6;
  bool disable_weighted_vote = false;
  double drift_delta = 0.001;    // 0: no drift detection (River's drift_detector=None)
  double warning_delta = 0.01;   // 0: no background trees (River's warning_detector=None)
  uint64_t seed = 42;

  bool operator==(const ArfForestConfig&) const = default;
};

struct ArfConfig {
  learn::LearnerTask task = learn::LearnerTask::kBinary;
  ArfForestConfig forest;
  // River's ARF defaults for its trees, which are not HoeffdingTreeClassifier's.
  HoeffdingTreeConfig tree = ArfTreeDefaults();

  static HoeffdingTreeConfig ArfTreeDefaults() {
    HoeffdingTreeConfig t;
    t.grace_period = 50;
    t.delta = 0.01;
    t.tau = 0.05;
    t.memory_estimate_period = 2000000;
    return t;
  }
  bool operator==(const ArfConfig&) const = default;
};

// One forest key (NotFound: not a forest key).
Status ApplyArfForestKey(std::string_view key, std::string_view text, ArfForestConfig* config);
void WriteArfForestConfig(ByteWriter& w, const ArfForestConfig& c);
bool ReadArfForestConfig(ByteReader& r, ArfForestConfig* c);
// The number of attributes an event has as River counts x's keys (dense present, buckets).
size_t AttributeCount(const FeatureVector& x);
drift::Adwin NewAdwin(double delta);
// A member's two detectors from a snapshot, refused unless their deltas are the settings'.
Status LoadDetectors(ByteReader& r, const ArfForestConfig& config, drift::Adwin* drift_detector,
                     drift::Adwin* warning_detector);
// A member's tree and background tree (if any) into and from a forest's snapshot; the
// forest makes the trees to load into (its settings, its generator).
template <typename Tree>
void SaveMemberTrees(ByteWriter& w, const Tree& tree, const Tree* background) {
  tree.save_state(w);
  w.u8(background ? 1 : 0);
  if (background) background->save_state(w);
}
template <typename Tree, typename NewTree>
Status LoadMemberTrees(ByteReader& r, const NewTree& new_tree, std::unique_ptr<Tree>* tree,
                       std::unique_ptr<Tree>* background) {
  *tree = new_tree();
  SL_RETURN_IF_ERROR((*tree)->load_state(r));
  const uint8_t has_background = r.u8();
  if (!r.ok() || has_background > 1) return Status::Corruption("arf snapshot: bad background flag");
  if (has_background) {
    *background = new_tree();
    SL_RETURN_IF_ERROR((*background)->load_state(r));
  }
  return Status::Ok();
}

Result<ArfConfig> ParseArfConfig(std::string_view type, const learn::LearnerKeys& keys, std::string_view key_prefix);

// River's _set_max_features for n_features attributes.
int64_t ResolveMaxFeatures(const ArfForestConfig& config, size_t n_features);

// One member's bookkeeping beside its tree: River's BaseForestMember.
struct ArfMemberStats {
  // River's metrics.Accuracy of the foreground tree, prequential.
  uint64_t correct = 0;
  uint64_t scored = 0;
  uint64_t created_on = 0;
  uint64_t background_created_on = 0;
  uint64_t last_drift_on = 0;
  uint64_t last_warning_on = 0;
  uint64_t drifts = 0;
  uint64_t warnings = 0;

  double accuracy() const { return scored == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(scored); }
  bool operator==(const ArfMemberStats&) const = default;
};

struct ArfMember {
  std::unique_ptr<HoeffdingTreeLearner> tree;
  std::unique_ptr<HoeffdingTreeLearner> background;  // null: none
  drift::Adwin drift_detector;
  drift::Adwin warning_detector;
  ArfMemberStats stats;
};

class AdaptiveRandomForestLearner final : public learn::Learner {
 public:
  explicit AdaptiveRandomForestLearner(ArfConfig config);

  std::string_view type() const override;
  learn::LearnerTask task() const override { return config_.task; }
  bool scores_probability() const override { return true; }

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

  const ArfConfig& config() const { return config_; }
  const std::vector<ArfMember>& members() const { return members_; }
  int64_t max_features() const { return max_features_; }
  uint64_t drifts() const;
  uint64_t warnings() const;

 private:
  void learn_one(const FeatureVector& x, uint32_t label);
  void init_ensemble(const FeatureVector& x);
  void member_learn(ArfMember& m, const FeatureVector& x, uint32_t label, double k);
  std::unique_ptr<HoeffdingTreeLearner> new_tree() const;

  ArfConfig config_;
  // On the heap so the trees' pointers to it survive moving the forest.
  std::unique_ptr<drift::PythonRandom> rng_;
  std::vector<ArfMember> members_;  // empty until the first event (River's lazy init)
  int64_t max_features_ = 0;        // resolved at the first event
  uint64_t samples_seen_ = 0;       // River's _n_samples_seen (since the last reset)
  uint32_t known_classes_ = 0;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeAdaptiveRandomForest(std::string_view type, const learn::LearnerKeys& keys,
                                                                 std::string_view key_prefix);
Status CheckAdaptiveRandomForestSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreAdaptiveRandomForest(ByteReader& in);

}  // namespace streamlearn::trees

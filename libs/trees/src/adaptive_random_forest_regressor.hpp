#pragma once
// River's forest.ARFRegressor behind learn::Learner: the classifier's forest (Poisson
// weights, random attribute subsets per leaf, ADWIN warning and drift detectors per tree,
// background trees, draws from one random.Random(seed)) over Hoeffding tree regressors.
//
//   per event, per tree: its metric (MSE by default, River's) is updated with the tree's
//   prediction, k = poisson(lambda_value) is drawn, and when k > 0 the tree (and its
//   background tree) learns with weight k; the tree's error after learning, y - y_pred,
//   normalised as River does ((e + 3 sd) / (6 sd) with sd the errors' running standard
//   deviation, 0.5 at first or when sd is 0), feeds the warning and drift detectors.
//
// The forest predicts the median of the trees' predictions (aggregation_method median,
// River's default) or their mean; with the mean and weighted votes (disable_weighted_vote
// false) each tree weighs (sum of the metrics - its metric) / the sum of those, and the
// forest predicts the mean of the weighted predictions, River's arithmetic as numpy does it.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "adaptive_random_forest.hpp"
#include "hoeffding_tree_regressor.hpp"
#include "river_var.hpp"

namespace streamlearn::trees {

enum class ArfAggregation : uint8_t { kMedian, kMean };
enum class ArfRegressionMetric : uint8_t { kMse, kMae, kRmse };

struct ArfRegressorConfig {
  ArfForestConfig forest = RegressorForestDefaults();
  ArfAggregation aggregation = ArfAggregation::kMedian;
  ArfRegressionMetric metric = ArfRegressionMetric::kMse;
  HoeffdingTreeRegressorConfig tree = RegressorTreeDefaults();

  static ArfForestConfig RegressorForestDefaults() {
    ArfForestConfig f;
    f.disable_weighted_vote = true;
    return f;
  }
  static HoeffdingTreeRegressorConfig RegressorTreeDefaults() {
    HoeffdingTreeRegressorConfig t;
    t.grace_period = 50;
    t.delta = 0.01;
    t.tau = 0.05;
    t.max_size = 500;
    t.memory_estimate_period = 2000000;
    return t;
  }
  bool operator==(const ArfRegressorConfig&) const = default;
};

struct ArfRegressorMember {
  std::unique_ptr<HoeffdingTreeRegressor> tree;
  std::unique_ptr<HoeffdingTreeRegressor> background;
  drift::Adwin drift_detector;
  drift::Adwin warning_detector;
  RiverVar metric;  // the mean of the squared (or absolute) errors, in its `mean`
  RiverVar errors;  // River's _var of y - y_pred, for the detectors' input
  uint64_t created_on = 0;
  uint64_t background_created_on = 0;
  uint64_t last_drift_on = 0;
  uint64_t last_warning_on = 0;
  uint64_t drifts = 0;
  uint64_t warnings = 0;
};

class AdaptiveRandomForestRegressor final : public learn::Learner {
 public:
  explicit AdaptiveRandomForestRegressor(ArfRegressorConfig config);

  std::string_view type() const override { return "arf_regressor"; }
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

  const ArfRegressorConfig& config() const { return config_; }
  const std::vector<ArfRegressorMember>& members() const { return members_; }
  // River's predict_one (0 before anything was learned).
  double predict_value(const FeatureVector& x) const;
  double metric_value(const ArfRegressorMember& m) const;
  uint64_t drifts() const;
  uint64_t warnings() const;

 private:
  void learn_one(const FeatureVector& x, double y);
  std::unique_ptr<HoeffdingTreeRegressor> new_tree() const;
  void member_learn(ArfRegressorMember& m, const FeatureVector& x, double y, double k);

  ArfRegressorConfig config_;
  std::unique_ptr<drift::PythonRandom> rng_;
  std::vector<ArfRegressorMember> members_;
  int64_t max_features_ = 0;
  uint64_t samples_seen_ = 0;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeAdaptiveRandomForestRegressor(std::string_view type,
                                                                          const learn::LearnerKeys& keys,
                                                                          std::string_view key_prefix);
Status CheckAdaptiveRandomForestRegressorSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreAdaptiveRandomForestRegressor(ByteReader& in);

}  // namespace streamlearn::trees

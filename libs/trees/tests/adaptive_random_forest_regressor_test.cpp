// The adaptive random forest regressor (River's forest.ARFRegressor): River's docstring
// on TrumpApproval, the learner contract, keys, snapshots and description.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "adaptive_random_forest_regressor.hpp"
#include "learner_contract.hpp"
#include "river_streams.hpp"  // the neighbours' River streams, scaler and progressive validation
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/trees/tree_learners.hpp"

using namespace streamlearn;

namespace {

std::unique_ptr<learn::Learner> MakeForest(const learn::LearnerKeys& keys = {}) {
  REQUIRE(trees::RegisterTreeLearners().ok());
  auto made = learn::MakeLearner("arf_regressor", keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

const trees::AdaptiveRandomForestRegressor& AsForest(const learn::Learner& l) {
  return dynamic_cast<const trees::AdaptiveRandomForestRegressor&>(l);
}

std::string SixDigits(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", v);
  return text;
}

// TrumpApproval with its columns in the order of their names, as River sorts x's keys.
std::vector<testing::RiverExample> TrumpApprovalByName() {
  auto stream = testing::TrumpApprovalStream();
  // ordinal_date, gallup, ipsos, morning_consult, rasmussen, you_gov -> sorted by name
  const size_t order[6] = {1, 2, 3, 0, 4, 5};
  for (auto& e : stream) {
    const auto dense = e.x.dense;
    for (size_t i = 0; i < 6; ++i) e.x.dense[i] = dense[order[i]];
  }
  return stream;
}

}  // namespace

// River's docstring (forest/adaptive_random_forest.py, online-ml/river commit
// 06e93e804cec845c117859ba674739f79ac54cc7): StandardScaler() | ARFRegressor(seed=42) on
// TrumpApproval prints "MAE: 0.800378" (the earlier AdaptiveRandomForestRegressor's printed
// 0.800649; River's benchmark page 0.801). Our
// forest draws as River's does (the classifier's first 225 Phishing events agree to the
// bit), but the figure here is not River's to the last digit: 0.804026, with the columns
// in their names' order (River sorts x's keys before drawing) and the later Pipeline's
// scaling; the detectors fire (11 drifts, 16 warnings), so any difference in a tree's
// error sequence moves every later draw. What we get is asserted to the digit.
TEST_CASE("River's ARFRegressor docstring on TrumpApproval, within 0.005", "[trees][arf_regressor][river]") {
  auto l = MakeForest({{"seed", "42"}});
  const auto p = testing::RunProgressive(*l, TrumpApprovalByName(), testing::Scaling::kTransformThenLearn);
  CHECK(p.scored == 1001);
  INFO("MAE " << SixDigits(p.mae()));
  CHECK(SixDigits(p.mae()) == "0.804026");
  CHECK(std::abs(p.mae() - 0.800378) < 0.005);
  CHECK(AsForest(*l).drifts() == 11);
  CHECK(AsForest(*l).warnings() == 16);
  // Better than one tree and than linear regression on the same scaled stream.
  REQUIRE(trees::RegisterTreeLearners().ok());
  auto made = learn::MakeLearner("linear", {});
  REQUIRE(made.ok());
  const auto lin = testing::RunProgressive(**made, TrumpApprovalByName(), testing::Scaling::kTransformThenLearn);
  INFO("linear MAE " << lin.mae());
  CHECK(p.mae() < lin.mae());
}

TEST_CASE("the ARF regressor keeps the learner contract", "[trees][arf_regressor][contract]") {
  SECTION("defaults (median)") {
    testing::CheckLearnerContract([] { return MakeForest(); });
  }
  SECTION("weighted mean, small trees, a sensitive detector") {
    testing::CheckLearnerContract([] {
      return MakeForest({{"n_models", "4"}, {"aggregation_method", "mean"}, {"disable_weighted_vote", "false"},
                         {"grace_period", "10"}, {"drift_delta", "0.5"}, {"warning_delta", "0.9"}, {"metric", "mae"}});
    });
  }
}

TEST_CASE("the ARF regressor's keys are River's, bad values name the key", "[trees][arf_regressor][factory]") {
  REQUIRE(trees::RegisterTreeLearners().ok());
  const auto message = [](const learn::LearnerKeys& keys) {
    auto made = learn::MakeLearner("arf_regressor", keys, "model.");
    return made.ok() ? std::string("ok") : made.status().message();
  };
  CHECK(message({{"aggregation_method", "mode"}}) == "model.aggregation_method: must be one of median, mean, got 'mode'");
  CHECK(message({{"metric", "r2"}}) == "model.metric: must be one of mse, mae, rmse, got 'r2'");
  CHECK(message({{"n_models", "0"}}) == "model.n_models: must be between 1 and 1000, got '0'");
  CHECK(message({{"split_criterion", "gini"}}).rfind("model.split_criterion: unknown key for arf_regressor", 0) == 0);
  CHECK(message({{"leaf_prediction", "mean"}, {"model_selector_decay", "0.9"}, {"seed", "3"}}) == "ok");
  CHECK(*learn::TaskOfLearnerType("arf_regressor") == learn::LearnerTask::kRegression);
  auto forest = MakeForest();
  const auto& c = AsForest(*forest).config();
  CHECK(c.forest.disable_weighted_vote);  // River's regressor default
  CHECK(c.aggregation == trees::ArfAggregation::kMedian);
  CHECK(c.tree.grace_period == 50);
  CHECK(c.tree.max_size == 500);
}

TEST_CASE("a restored ARF regressor continues bit-identically and describes its trees", "[trees][arf_regressor][snapshot]") {
  const auto stream = TrumpApprovalByName();
  testing::RiverStandardScaler scaler;
  std::vector<FeatureVector> xs;
  for (const auto& e : stream) {
    scaler.learn(e.x);
    xs.push_back(scaler.transform(e.x));
  }
  auto original = MakeForest({{"n_models", "5"}, {"aggregation_method", "mean"}, {"disable_weighted_vote", "false"}});
  for (size_t i = 0; i < 500; ++i) original->learn(xs[i], stream[i].y);
  REQUIRE(AsForest(*original).warnings() > 0);
  const std::string bytes = testing::SavedLearner(*original);
  ByteReader r(bytes);
  auto restored = learn::RestoreLearner(r);
  REQUIRE(restored.ok());
  learn::Prediction a, b;
  for (size_t i = 500; i < stream.size(); ++i) {
    original->predict(xs[i], a);
    (*restored)->predict(xs[i], b);
    REQUIRE(a.score == b.score);
    original->learn(xs[i], stream[i].y);
    (*restored)->learn(xs[i], stream[i].y);
  }
  CHECK(testing::SavedLearner(**restored) == testing::SavedLearner(*original));
  std::string d;
  JsonWriter w(&d);
  w.begin_object();
  original->describe(w, [](size_t i) { return "f" + std::to_string(i); }, 5);
  w.end_object();
  INFO(d);
  CHECK(d.find(R"("type":"arf_regressor")") != std::string::npos);
  CHECK(d.find(R"("max_features_resolved":2)") != std::string::npos);  // round(sqrt(6))
  CHECK(d.find(R"("trees":[{"depth":)") != std::string::npos);
  CHECK(d.find(R"("metric":)") != std::string::npos);
  CHECK(d.find(R"("f5")") != std::string::npos);
}

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include "hoeffding_tree_regressor.hpp"
#include "learner_contract.hpp"
#include "river_streams.hpp"  // the neighbours' River streams, scaler and progressive validation
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/trees/tree_learners.hpp"

using namespace streamlearn;

namespace {

std::unique_ptr<learn::Learner> MakeTreeLearner(std::string_view type, const learn::LearnerKeys& keys = {}) {
  REQUIRE(trees::RegisterTreeLearners().ok());
  auto made = learn::MakeLearner(type, keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

const trees::HoeffdingTreeRegressor& AsRegressor(const learn::Learner& l) {
  return dynamic_cast<const trees::HoeffdingTreeRegressor&>(l);
}

std::string SixDigits(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", v);
  return text;
}

}  // namespace

TEST_CASE("the Hoeffding tree regressor keeps the learner contract", "[trees][htr][contract]") {
  SECTION("defaults") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_tree_regressor"); });
  }
  SECTION("splitting, adaptive leaves") {
    testing::CheckLearnerContract(
        [] { return MakeTreeLearner("hoeffding_tree_regressor", {{"grace_period", "20"}, {"delta", "0.01"}}); });
  }
  SECTION("mean leaves, max depth") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_tree_regressor",
                             {{"grace_period", "20"}, {"leaf_prediction", "mean"}, {"max_depth", "2"}});
    });
  }
  SECTION("model leaves, tight memory") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_tree_regressor", {{"grace_period", "25"},
                                                          {"leaf_prediction", "model"},
                                                          {"max_size", "0.001"},
                                                          {"memory_estimate_period", "50"}});
    });
  }
}

TEST_CASE("the Hoeffding tree regressor's keys are River's, bad values name the key", "[trees][htr][factory]") {
  REQUIRE(trees::RegisterTreeLearners().ok());
  const auto message = [](const learn::LearnerKeys& keys) {
    auto made = learn::MakeLearner("hoeffding_tree_regressor", keys, "model.");
    return made.ok() ? std::string("ok") : made.status().message();
  };
  CHECK(message({}) == "ok");
  CHECK(message({{"leaf_prediction", "mean"}, {"model_selector_decay", "0.9"}, {"learning_rate", "0.1"}}) == "ok");
  CHECK(message({{"leaf_prediction", "nba"}}) ==
        "model.leaf_prediction: must be one of adaptive, mean, model, got 'nba'");
  CHECK(message({{"model_selector_decay", "1.5"}}).rfind("model.model_selector_decay: ", 0) == 0);
  CHECK(message({{"min_samples_split", "0"}}).rfind("model.min_samples_split: ", 0) == 0);
  CHECK(message({{"split_criterion", "gini"}}).rfind("model.split_criterion: unknown key for hoeffding_tree_regressor", 0) == 0);
  auto task = learn::TaskOfLearnerType("hoeffding_tree_regressor");
  REQUIRE(task.ok());
  CHECK(*task == learn::LearnerTask::kRegression);
}

// River's docstring (tree/hoeffding_tree_regressor.py, the version with nodes/ and
// EBSTSplitter): StandardScaler | HoeffdingTreeRegressor(grace_period=100,
// leaf_prediction='adaptive', model_selector_decay=0.9) on TrumpApproval,
// progressive_val_score prints "MAE: 0.852902".
TEST_CASE("the Hoeffding tree regressor reproduces River's TrumpApproval figure", "[trees][htr][river]") {
  const auto stream = testing::TrumpApprovalStream();
  REQUIRE(stream.size() == 1001);
  auto l = MakeTreeLearner("hoeffding_tree_regressor",
                           {{"grace_period", "100"}, {"leaf_prediction", "adaptive"}, {"model_selector_decay", "0.9"}});
  const auto p = testing::RunProgressive(*l, stream, testing::Scaling::kLearnThenTransform);
  CHECK(p.scored == 1001);
  INFO("MAE " << SixDigits(p.mae()) << " splits " << AsRegressor(*l).splits());
  CHECK(SixDigits(p.mae()) == "0.852902");
  CHECK(AsRegressor(*l).splits() > 0);
}

TEST_CASE("the Hoeffding tree regressor beats linear regression on TrumpApproval", "[trees][htr]") {
  const auto stream = testing::TrumpApprovalStream();
  auto tree = MakeTreeLearner("hoeffding_tree_regressor", {{"grace_period", "100"}, {"model_selector_decay", "0.9"}});
  auto linear = MakeTreeLearner("linear");
  const auto tree_run = testing::RunProgressive(*tree, stream, testing::Scaling::kLearnThenTransform);
  const auto linear_run = testing::RunProgressive(*linear, stream, testing::Scaling::kLearnThenTransform);
  INFO("tree MAE " << tree_run.mae() << ", linear MAE " << linear_run.mae());
  CHECK(tree_run.mae() < linear_run.mae());
}

TEST_CASE("a restored Hoeffding tree regressor continues bit-identically", "[trees][htr][snapshot]") {
  const auto stream = testing::TrumpApprovalStream();
  testing::RiverStandardScaler scaler;
  std::vector<FeatureVector> xs;
  for (const auto& e : stream) {
    scaler.learn(e.x);
    xs.push_back(scaler.transform(e.x));
  }
  auto original = MakeTreeLearner("hoeffding_tree_regressor", {{"grace_period", "50"}});
  for (size_t i = 0; i < 500; ++i) original->learn(xs[i], stream[i].y);
  REQUIRE(AsRegressor(*original).splits() > 0);
  auto restored = testing::SavedAndRestored(*original);
  learn::Prediction a, b;
  for (size_t i = 500; i < stream.size(); ++i) {
    original->predict(xs[i], a);
    restored->predict(xs[i], b);
    REQUIRE(a.score == b.score);
    original->learn(xs[i], stream[i].y);
    restored->learn(xs[i], stream[i].y);
  }
  CHECK(testing::SavedLearner(*original) == testing::SavedLearner(*restored));
}

TEST_CASE("the Hoeffding tree regressor describes its tree as data", "[trees][htr][describe]") {
  const auto stream = testing::TrumpApprovalStream();
  auto l = MakeTreeLearner("hoeffding_tree_regressor", {{"grace_period", "100"}});
  testing::RunProgressive(*l, stream, testing::Scaling::kLearnThenTransform);
  const auto& tree = AsRegressor(*l);
  REQUIRE(tree.splits() > 0);
  const std::vector<std::string> names = {"ordinal_date", "gallup", "ipsos", "morning_consult", "rasmussen", "you_gov"};
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  l->describe(w, [&](size_t i) { return names.at(i); }, 5);
  w.end_object();
  INFO(out);
  CHECK(out.find("\"type\":\"hoeffding_tree_regressor\"") != std::string::npos);
  CHECK(out.find("\"leaves\":" + std::to_string(tree.leaves())) != std::string::npos);
  CHECK(out.find("\"splits\":" + std::to_string(tree.splits())) != std::string::npos);
  CHECK(out.find("\"depth\":" + std::to_string(tree.depth())) != std::string::npos);
  CHECK(out.find("\"memory_bytes\":") != std::string::npos);
  CHECK(out.find("\"split_nodes\":[{\"node\":0,\"depth\":0,\"feature\":\"") != std::string::npos);
  CHECK(l->memory_bytes() > sizeof(trees::HoeffdingTreeRegressor));
}

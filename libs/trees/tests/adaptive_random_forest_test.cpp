// The adaptive random forest (River's forest.ARFClassifier): River parity on Phishing,
// the learner contract, its keys, drift handling, snapshots and description.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "adaptive_random_forest.hpp"
#include "river_arf_figures.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

namespace {

const trees::AdaptiveRandomForestLearner& AsForest(const learn::Learner& l) {
  return dynamic_cast<const trees::AdaptiveRandomForestLearner&>(l);
}

// Phishing with its columns in the order of their names, as River sorts x's keys before
// drawing a leaf's attributes (our keys are the dense indices).
std::vector<testing::LearnerExample> PhishingByName() {
  const auto& names = testing::PhishingColumns();
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  auto stream = testing::PhishingStream();
  for (auto& e : stream) {
    const auto dense = e.x.dense;
    for (size_t i = 0; i < order.size(); ++i) e.x.dense[i] = dense[order[i]];
  }
  return stream;
}

// A stream whose concept changes abruptly halfway (labels from another rule).
std::vector<testing::LearnerExample> DriftingStream(std::string_view name, uint64_t events, uint64_t seed) {
  return testing::GeneratedStream(name, events, seed, 2);
}

}  // namespace

// River's benchmark runs ARFClassifier(seed=42) on Phishing (no docstring of River's ARF
// does: its example runs on synth.ConceptDriftStream). Our draws are River's: the first
// 225 events give River's figures to the last bit (nine checkpoints, every tree's Poisson
// weights and every leaf's attribute draws on the way). From event 226 on the figures
// part (River 0.9087 after 1,250 events, we 0.9063; no detector fires in either run
// before then, and the plain tree is River-exact on the same rows), so the rest asserts
// what we get, to the event.
TEST_CASE("River parity on Phishing: ARF(seed=42)'s figures every 25 events", "[trees][arf][phishing][river]") {
  auto forest = MakeTreeLearner("arf", {{"seed", "42"}});
  const auto ours = testing::EveryTwentyFive(*forest, PhishingByName());
  REQUIRE(ours.size() == 50);
  for (size_t k = 0; k < 9; ++k) {
    INFO("after " << 25 * (k + 1) << " events");
    CHECK(ours[k].accuracy == testing::kRiverArfAccuracy[k]);
    CHECK(std::abs(ours[k].f1 - testing::kRiverArfF1[k]) < 1e-12);
  }
  CHECK(ours[9].accuracy != testing::kRiverArfAccuracy[9]);  // where we part (see above)
  CHECK(std::lround(ours[49].accuracy * 1249) == 1132);  // 0.9063; River 1135 of 1249 (0.9087)
  CHECK(std::abs(ours[49].accuracy - testing::kRiverArfAccuracy[49]) < 0.003);
  CHECK(AsForest(*forest).max_features() == 3);  // round(sqrt(9))
}

TEST_CASE("ARF keeps the learner contract", "[trees][arf][contract]") {
  SECTION("binary, defaults") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("arf"); });
  }
  SECTION("binary, small trees that split, unweighted votes, log2, majority class") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("arf", {{"n_models", "4"}, {"grace_period", "10"}, {"max_features", "log2"},
                                     {"disable_weighted_vote", "true"}, {"leaf_prediction", "mc"}, {"seed", "7"}});
    });
  }
  SECTION("multiclass, gini, every feature, no background trees") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("arf_multiclass", {{"n_models", "3"}, {"grace_period", "15"}, {"split_criterion", "gini"},
                                                {"max_features", "none"}, {"warning_delta", "none"}});
    });
  }
  SECTION("a sensitive detector: drifts and background trees in the snapshot") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("arf", {{"n_models", "3"}, {"grace_period", "10"}, {"drift_delta", "0.5"},
                                     {"warning_delta", "0.9"}, {"max_features", "0.5"}});
    });
  }
}

TEST_CASE("ARF's keys are River's, bad values name the key", "[trees][arf][factory]") {
  testing::RegisterTrees();
  const auto message = [](const learn::LearnerKeys& keys) {
    auto made = learn::MakeLearner("arf", keys, "model.");
    return made.ok() ? std::string("ok") : made.status().message();
  };
  CHECK(message({{"n_models", "0"}}) == "model.n_models: must be between 1 and 1000, got '0'");
  CHECK(message({{"max_features", "auto"}}).rfind("model.max_features: expected sqrt, log2, none", 0) == 0);
  CHECK(message({{"max_features", "1.5"}}) == "model.max_features: must be in (0, 1], got '1.5'");
  CHECK(message({{"drift_delta", "2"}}).rfind("model.drift_delta: expected none or", 0) == 0);
  CHECK(message({{"lambda_value", "0"}}) == "model.lambda_value: must be in (0, 100], got '0'");
  CHECK(message({{"grace_period", "0"}}) == "model.grace_period: must be between 1 and 1099511627776, got '0'");
  CHECK(message({{"frobnicate", "1"}}).rfind("model.frobnicate: unknown key for arf", 0) == 0);
  CHECK(message({{"max_features", "4"}, {"seed", "1"}, {"warning_delta", "none"}, {"learning_rate", "0.1"}}) == "ok");
  CHECK(learn::CheckLearnerSetting("n_models", "5").ok());
  CHECK_FALSE(trees::CheckAdaptiveRandomForestSetting("n_models", "-1").ok());
  CHECK(trees::CheckAdaptiveRandomForestSetting("learning_rate", "0.1").ok());
  CHECK(*learn::TaskOfLearnerType("arf_multiclass") == learn::LearnerTask::kMulticlass);
  // River's ARF tree defaults, not HoeffdingTreeClassifier's.
  auto forest = MakeTreeLearner("arf");
  const auto& c = AsForest(*forest).config();
  CHECK(c.forest.n_models == 10);
  CHECK(c.forest.lambda_value == 6);
  CHECK(c.tree.grace_period == 50);
  CHECK(c.tree.delta == 0.01);
  CHECK(c.tree.memory_estimate_period == 2000000);
  CHECK(c.forest.drift_delta == 0.001);
  CHECK(c.forest.warning_delta == 0.01);
}

TEST_CASE("ARF's max_features as River resolves it", "[trees][arf]") {
  trees::ArfForestConfig c;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 3);
  CHECK(trees::ResolveMaxFeatures(c, 10) == 3);  // round(3.162)
  CHECK(trees::ResolveMaxFeatures(c, 13) == 4);  // round(3.606)
  c.max_features_rule = trees::MaxFeaturesRule::kLog2;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 3);   // round(3.17)
  c.max_features_rule = trees::MaxFeaturesRule::kFraction;
  c.max_features_fraction = 0.5;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 4);   // int(4.5)
  c.max_features_rule = trees::MaxFeaturesRule::kCount;
  c.max_features_count = -2;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 7);   // negative: n + count
  c.max_features_count = 20;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 9);   // at most n
  c.max_features_rule = trees::MaxFeaturesRule::kAll;
  CHECK(trees::ResolveMaxFeatures(c, 9) == 9);
}

// On RandomRBF (non-linear: classes by nearest centroid) the forest is far ahead of the
// linear model. On Phishing the repo's logistic model with its defaults (0.9007) is
// stronger than River's (0.888), and ten trees only tie it; 25 trees are ahead by 0.7
// points. River's own ARF reaches 0.9087 there.
TEST_CASE("ARF against the linear model on Phishing and on RandomRBF", "[trees][arf][phishing]") {
  const auto phishing = testing::PhishingStream();
  auto forest = MakeTreeLearner("arf");
  auto forest25 = MakeTreeLearner("arf", {{"n_models", "25"}});
  auto logistic = MakeTreeLearner("logistic");
  const auto arf = testing::TestThenTrain(*forest, phishing);
  const auto arf25 = testing::TestThenTrain(*forest25, phishing);
  const auto linear = testing::TestThenTrain(*logistic, phishing);
  INFO("Phishing: arf " << arf.correct << ", arf with 25 trees " << arf25.correct << ", logistic " << linear.correct
                        << " of " << linear.scored);
  CHECK(arf.correct == 1125);     // 0.9007, columns in file order
  CHECK(arf25.correct == 1134);   // 0.9079
  CHECK(linear.correct == 1125);  // 0.9007
  CHECK(arf25.accuracy() >= linear.accuracy() + 0.007);

  const auto rbf = testing::GeneratedStream("randomrbf", 5000, 3);
  auto forest_rbf = MakeTreeLearner("arf");
  auto logistic_rbf = MakeTreeLearner("logistic");
  const auto arf2 = testing::TestThenTrain(*forest_rbf, rbf);
  const auto linear2 = testing::TestThenTrain(*logistic_rbf, rbf);
  INFO("RandomRBF: arf " << arf2.correct << ", logistic " << linear2.correct << " of " << linear2.scored);
  CHECK(arf2.accuracy() >= linear2.accuracy() + 0.15);  // 0.8618 against 0.6647
}

TEST_CASE("ARF on a drifting stream: warnings start background trees, drifts swap them in", "[trees][arf][drift]") {
  const auto stream = DriftingStream("sea", 6000, 5);
  auto forest = MakeTreeLearner("arf", {{"n_models", "5"}});
  const auto p = testing::TestThenTrain(*forest, stream);
  const auto& f = AsForest(*forest);
  INFO("accuracy " << p.accuracy() << ", warnings " << f.warnings() << ", drifts " << f.drifts());
  CHECK(f.warnings() > 0);
  CHECK(f.drifts() > 0);
  CHECK(f.warnings() >= f.drifts());
  // A replaced tree is younger than the forest and its metric counts since its creation.
  bool replaced = false;
  for (const auto& m : f.members()) {
    if (m.stats.drifts == 0) continue;
    replaced = true;
    CHECK(m.stats.created_on > 0);
    CHECK(m.stats.scored <= stream.size() - m.stats.last_drift_on);
  }
  CHECK(replaced);
  CHECK(p.accuracy() > 0.8);
  // Without detectors nothing is counted.
  auto plain = MakeTreeLearner("arf", {{"n_models", "5"}, {"drift_delta", "none"}, {"warning_delta", "none"}});
  testing::TestThenTrain(*plain, stream);
  CHECK(AsForest(*plain).drifts() == 0);
  CHECK(AsForest(*plain).warnings() == 0);
}

TEST_CASE("a restored ARF continues bit-identically, its random state included", "[trees][arf][snapshot]") {
  const auto stream = DriftingStream("sea", 3000, 9);
  auto original = MakeTreeLearner("arf", {{"n_models", "4"}, {"grace_period", "20"}, {"warning_delta", "0.3"}});
  for (size_t i = 0; i < 1500; ++i) original->learn(stream[i].x, stream[i].y);
  REQUIRE(AsForest(*original).warnings() > 0);  // background trees in the snapshot
  const std::string bytes = testing::SavedLearner(*original);
  ByteReader in(bytes);
  auto restored = learn::RestoreLearner(in);
  REQUIRE(restored.ok());
  learn::Prediction a, b;
  for (size_t i = 1500; i < stream.size(); ++i) {
    original->predict(stream[i].x, a);
    (*restored)->predict(stream[i].x, b);
    REQUIRE(a.score == b.score);
    original->learn(stream[i].x, stream[i].y);
    (*restored)->learn(stream[i].x, stream[i].y);
  }
  CHECK(testing::SavedLearner(**restored) == testing::SavedLearner(*original));
  // Another seed is other settings: refused.
  auto other = MakeTreeLearner("arf", {{"n_models", "4"}, {"grace_period", "20"}, {"warning_delta", "0.3"}, {"seed", "1"}});
  ByteReader again(bytes);
  CHECK(other->load(again).code() == ErrorCode::kFailedPrecondition);
}

TEST_CASE("ARF describes its trees: depth, leaves, weight, drifts and warnings", "[trees][arf]") {
  auto forest = MakeTreeLearner("arf", {{"n_models", "3"}});
  testing::TestThenTrain(*forest, testing::PhishingStream());
  const std::string d = testing::Described(*forest);
  INFO(d);
  CHECK(d.find(R"("type":"arf")") != std::string::npos);
  CHECK(d.find(R"("n_models":"3")") != std::string::npos);
  CHECK(d.find(R"("max_features":"sqrt")") != std::string::npos);
  CHECK(d.find(R"("max_features_resolved":3)") != std::string::npos);
  CHECK(d.find(R"("trees":[{"depth":)") != std::string::npos);
  CHECK(d.find(R"("accuracy":0.)") != std::string::npos);
  CHECK(d.find(R"("warnings":)") != std::string::npos);
  CHECK(d.find("age_of_domain") != std::string::npos);
  CHECK(forest->memory_bytes() > 3 * sizeof(trees::HoeffdingTreeLearner));
}

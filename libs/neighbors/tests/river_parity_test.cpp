#include <catch2/catch.hpp>

#include <cmath>

#include "river_streams.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"

// River's figures for its exact k-NN (the brute-force window of river.neighbors before the
// SWINN engine became the default), reproduced on the same streams. River's doctests print
// the metric rounded as written; we compare to that many digits.
//
// The scaled examples put preprocessing.StandardScaler before the model. In the River
// releases whose docstrings printed these figures, Pipeline.predict_one updated unsupervised
// transformers before transforming (Scaling::kLearnThenTransform): that protocol reproduces
// every figure below; the later protocol (scale with the old statistics to predict, update
// when learning) does not (e.g. Phishing 88.15%, TrumpApproval MAE 0.440080). Ties in
// distance matter too: giving them to the newer row instead of the older (River's stable
// sort over the window) makes the unscaled RMSE 1.427735.

using namespace streamlearn;
using testing::Scaling;

namespace {

std::unique_ptr<learn::Learner> MakeKnn(std::string_view type, const learn::LearnerKeys& keys = {}) {
  REQUIRE(neighbors::RegisterNeighborLearners().ok());
  auto made = learn::MakeLearner(type, keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

}  // namespace

// KNNClassifier docstring: StandardScaler() | KNNClassifier() on Phishing, Accuracy: 88.07%.
TEST_CASE("knn reproduces River's KNNClassifier docstring on Phishing", "[neighbors][river]") {
  const auto stream = testing::PhishingStream();
  REQUIRE(stream.size() == 1250);
  auto model = MakeKnn("knn");  // River's defaults: 5 neighbours, window 1000, p = 2, weighted
  const auto p = testing::RunProgressive(*model, stream, Scaling::kLearnThenTransform);
  CHECK(p.scored == 1249);
  CHECK(p.correct == 1100);  // 1100 / 1249 = 88.0705%
  CHECK(testing::Rounded(100 * p.accuracy(), 2) == 88.07);
  // The multiclass type gives the same answers on a binary stream.
  auto multi = MakeKnn("knn_multiclass");
  CHECK(testing::RunProgressive(*multi, stream, Scaling::kLearnThenTransform).correct == p.correct);
  // Docstring of the window engine's era: learn 100 events, then predict the first: an exact
  // match in the window, so True with probability 1.
  auto hundred = MakeKnn("knn");
  testing::RiverStandardScaler scaler;
  for (size_t i = 0; i < 100; ++i) {
    scaler.learn(stream[i].x);
    hundred->learn(scaler.transform(stream[i].x), stream[i].y);
  }
  scaler.learn(stream[0].x);
  learn::Prediction pred;
  hundred->predict(scaler.transform(stream[0].x), pred);
  CHECK(pred.class_index == 1);
  CHECK(pred.score == 1.0);
}

// KNNRegressor docstrings on TrumpApproval: KNNRegressor(window_size=50) RMSE: 1.427746;
// StandardScaler() | KNNRegressor(window_size=50, Manhattan) RMSE: 1.460385;
// StandardScaler() | KNNRegressor(window_size=50) MAE: 0.441308.
TEST_CASE("knn_regressor reproduces River's KNNRegressor docstrings on TrumpApproval", "[neighbors][river]") {
  const auto stream = testing::TrumpApprovalStream();
  REQUIRE(stream.size() == 1001);
  auto plain = MakeKnn("knn_regressor", {{"window_size", "50"}});
  const auto unscaled = testing::RunProgressive(*plain, stream, Scaling::kNone);
  CHECK(unscaled.scored == 1001);
  CHECK(testing::Rounded(unscaled.rmse(), 6) == 1.427746);
  auto manhattan = MakeKnn("knn_regressor", {{"window_size", "50"}, {"p", "1"}});
  CHECK(testing::Rounded(testing::RunProgressive(*manhattan, stream, Scaling::kLearnThenTransform).rmse(), 6) == 1.460385);
  auto scaled = MakeKnn("knn_regressor", {{"window_size", "50"}});
  CHECK(testing::Rounded(testing::RunProgressive(*scaled, stream, Scaling::kLearnThenTransform).mae(), 6) == 0.441308);
}

// River's benchmark pages (StandardScaler() | KNNRegressor(window_size=100), its benchmark
// script's model): TrumpApproval MAE 0.494, ChickWeights MAE 22.90. The protocol beyond the
// model is not stated; these are our figures, asserted so a change shows.
TEST_CASE("knn_regressor against River's benchmark figures and the linear model", "[neighbors][river]") {
  const auto trump = testing::TrumpApprovalStream();
  auto knn = MakeKnn("knn_regressor", {{"window_size", "100"}});
  const double knn_mae = testing::RunProgressive(*knn, trump, Scaling::kLearnThenTransform).mae();
  CHECK(testing::Rounded(knn_mae, 3) == 0.494);  // River: 0.494
  CHECK(testing::Rounded(knn_mae, 6) == 0.493698);
  auto later = MakeKnn("knn_regressor", {{"window_size", "100"}});
  CHECK(testing::Rounded(testing::RunProgressive(*later, trump, Scaling::kTransformThenLearn).mae(), 6) == 0.491874);

  const auto chick = testing::ChickWeightsStream();
  REQUIRE(chick.size() == 578);
  auto knn_chick = MakeKnn("knn_regressor", {{"window_size", "100"}});
  CHECK(testing::Rounded(testing::RunProgressive(*knn_chick, chick, Scaling::kLearnThenTransform).mae(), 6) == 23.000490);
  auto later_chick = MakeKnn("knn_regressor", {{"window_size", "100"}});
  // River: 22.90; the later protocol gives 22.89.
  CHECK(testing::Rounded(testing::RunProgressive(*later_chick, chick, Scaling::kTransformThenLearn).mae(), 6) == 22.890802);

  // The linear baseline (it standardises its inputs itself), River's learning rate 0.01.
  auto made = learn::MakeLearner("linear", {{"learning_rate", "0.01"}});
  REQUIRE(made.ok());
  const double linear_mae = testing::RunProgressive(**made, trump, Scaling::kNone).mae();
  INFO("knn MAE " << knn_mae << ", linear MAE " << linear_mae);
  CHECK(knn_mae < linear_mae);
  auto default_knn = MakeKnn("knn_regressor");  // window 1000, unscaled
  CHECK(testing::RunProgressive(*default_knn, trump, Scaling::kNone).mae() < linear_mae);
}

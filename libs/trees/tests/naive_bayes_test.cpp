#include <catch2/catch.hpp>

#include <cmath>

#include "gaussian.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

// River's proba.Gaussian docstring: update(6), update(7); p(6.5) prints 0.564189, σ 0.707.
// (River's doctests compare printed floats to the digits written, within 1e-6: the exact
// value is 1/sqrt(pi) = 0.5641895835...)
TEST_CASE("the Gaussian estimator gives River's docstring figures", "[trees][naive_bayes]") {
  trees::Gaussian g;
  g.update(6, 1.0);
  g.update(7, 1.0);
  CHECK(g.mean == 6.5);
  CHECK(std::round(g.sigma() * 1000) / 1000 == 0.707);
  CHECK(std::abs(g.pdf(6.5) - 0.564189) < 1e-6);
  CHECK(g.pdf(6.5) == 1 / std::sqrt(3.141592653589793));
  CHECK(g.cdf(6.5) == 0.5);
  trees::Gaussian one;
  one.update(3, 1.0);
  CHECK(one.pdf(3) == 0.0);  // no variance yet: River's `if var:` gives 0
  CHECK(one.cdf(3) == 0.0);  // River catches the division by a zero sigma
}

// River's GaussianNB docstring: six points of classes 1 and 2, then predict_one({0: -0.8, 1: -1}) is 1.
TEST_CASE("naive Bayes reproduces River's GaussianNB docstring", "[trees][naive_bayes]") {
  auto nb = MakeTreeLearner("naive_bayes_multiclass");
  const double xs[6][2] = {{-1, -1}, {-2, -1}, {-3, -2}, {1, 1}, {2, 1}, {3, 2}};
  const double ys[6] = {1, 1, 1, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    FeatureVector x;
    x.dense = {xs[i][0], xs[i][1]};
    x.present = {1, 1};
    nb->learn(x, ys[i]);
  }
  FeatureVector q;
  q.dense = {-0.8, -1};
  q.present = {1, 1};
  learn::Prediction p;
  nb->predict(q, p);
  CHECK(p.class_index == 1);
  REQUIRE(p.probabilities.size() == 3);
  CHECK(p.probabilities[0] == 0.0);  // class 0 never came: River does not list it
  CHECK(p.probabilities[1] + p.probabilities[2] == Approx(1.0));
  CHECK(p.probabilities[1] > 0.99);
}

TEST_CASE("naive Bayes keeps the learner contract", "[trees][naive_bayes][contract]") {
  SECTION("binary") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("naive_bayes"); });
  }
  SECTION("multiclass") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("naive_bayes_multiclass"); });
  }
}

TEST_CASE("naive Bayes skips missing features as River skips absent keys", "[trees][naive_bayes]") {
  auto nb = MakeTreeLearner("naive_bayes");
  const auto stream = testing::ContractStream(learn::LearnerTask::kBinary, 300);
  testing::LearnAll(*nb, stream);
  FeatureVector with_missing = stream[0].x;
  with_missing.present[0] = 0;
  with_missing.dense[0] = 1e9;  // ignored: it is missing
  FeatureVector without = stream[0].x;
  without.present[0] = 0;
  without.dense[0] = -5;
  learn::Prediction a, b;
  nb->predict(with_missing, a);
  nb->predict(without, b);
  CHECK(a.score == b.score);
}

TEST_CASE("naive Bayes refuses unknown keys by name and takes the pipeline's keys", "[trees][naive_bayes][factory]") {
  testing::RegisterTrees();
  auto bad = learn::MakeLearner("naive_bayes", {{"alpha", "1"}}, "model.");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("model.alpha: unknown key", 0) == 0);
  CHECK(learn::MakeLearner("naive_bayes", {{"learning_rate", "0.1"}, {"l2", "0"}, {"hash_bits", "18"}}).ok());
  CHECK(*learn::TaskOfLearnerType("naive_bayes") == learn::LearnerTask::kBinary);
  CHECK(*learn::TaskOfLearnerType("naive_bayes_multiclass") == learn::LearnerTask::kMulticlass);
}

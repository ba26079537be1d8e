// The adaptive random forest (River's forest.ARFClassifier): River parity on Phishing,
// the learner contract, its keys, drift handling, snapshots and description.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include "adaptive_random_forest.hpp"
#include "river_arf_figures.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

namespace {

[[maybe_unused]] const trees::AdaptiveRandomForestLearner& AsForest(const learn::Learner& l) {
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

struct StepFigures {
  double accuracy = 0;
  double f1 = 0;
};

std::vector<StepFigures> EveryTwentyFive(learn::Learner& l, const std::vector<testing::LearnerExample>& stream) {
  std::vector<StepFigures> out;
  uint64_t scored = 0, correct = 0, tp = 0, fp = 0, fn = 0;
  learn::Prediction pred;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (l.trained() > 0) {
      l.predict(stream[i].x, pred);
      const int y = static_cast<int>(stream[i].y);
      ++scored;
      correct += pred.class_index == y ? 1 : 0;
      tp += pred.class_index == 1 && y == 1 ? 1 : 0;
      fp += pred.class_index == 1 && y == 0 ? 1 : 0;
      fn += pred.class_index == 0 && y == 1 ? 1 : 0;
    }
    l.learn(stream[i].x, stream[i].y);
    if ((i + 1) % 25 == 0) {
      const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
      const double recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
      out.push_back({static_cast<double>(correct) / static_cast<double>(scored),
                     2 * precision * recall / (precision + recall)});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("River parity on Phishing: ARF(seed=42)'s figures every 25 events", "[trees][arf][phishing][river]") {
  auto forest = MakeTreeLearner("arf", {{"seed", "42"}});
  const auto ours = EveryTwentyFive(*forest, PhishingByName());
  REQUIRE(ours.size() == 50);
  for (size_t k = 0; k < 50; ++k) {
    std::printf("%zu ours %.16g river %.16g %s\n", 25 * (k + 1), ours[k].accuracy, testing::kRiverArfAccuracy[k],
                ours[k].accuracy == testing::kRiverArfAccuracy[k] ? "" : "DIFF");
  }
  for (size_t k = 0; k < 50; ++k) {
    INFO("after " << 25 * (k + 1) << " events");
    CHECK(ours[k].accuracy == testing::kRiverArfAccuracy[k]);
    CHECK(std::abs(ours[k].f1 - testing::kRiverArfF1[k]) < 1e-12);
  }
}

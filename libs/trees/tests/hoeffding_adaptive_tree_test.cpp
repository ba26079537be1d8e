#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "hoeffding_adaptive_tree.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

namespace {

// The fingerprint of the pinned test below. Re-recorded when the naive Bayes votes took
// each numeric term as the log-density written out instead of log(pdf) (the last bits of
// the scores moved; it was 4445461592154127109 from the first recording until then).
constexpr uint64_t kPinnedFingerprint = 7049531059145553166ull;

const trees::HoeffdingAdaptiveTree& AsAdaptive(const learn::Learner& l) {
  return dynamic_cast<const trees::HoeffdingAdaptiveTree&>(l);
}

// A generated stream whose concept changes abruptly at `change`.
std::vector<testing::LearnerExample> DriftingStream(std::string_view name, uint64_t events, uint64_t change,
                                                    uint64_t seed) {
  return testing::GeneratedStream(name, events, seed, 2, {change});
}

// Test-then-train accuracy of events [from, to).
double WindowAccuracy(learn::Learner& l, const std::vector<testing::LearnerExample>& stream, size_t from, size_t to,
                      std::vector<double>* per_window = nullptr, size_t window = 1000) {
  learn::Prediction pred;
  uint64_t correct = 0, scored = 0, window_correct = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    l.predict(stream[i].x, pred);
    const bool right = pred.class_index == static_cast<int32_t>(stream[i].y);
    if (i >= from && i < to) {
      ++scored;
      correct += right ? 1 : 0;
      window_correct += right ? 1 : 0;
      if (per_window && (i + 1 - from) % window == 0) {
        per_window->push_back(static_cast<double>(window_correct) / static_cast<double>(window));
        window_correct = 0;
      }
    }
    l.learn(stream[i].x, stream[i].y);
  }
  return static_cast<double>(correct) / static_cast<double>(scored);
}

}  // namespace

TEST_CASE("the Hoeffding adaptive tree keeps the learner contract", "[trees][hatc][contract]") {
  SECTION("defaults") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_adaptive_tree"); });
  }
  SECTION("splitting, alternates possible, no bootstrap") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_adaptive_tree", {{"grace_period", "20"},
                                                         {"delta", "0.01"},
                                                         {"drift_window_threshold", "10"},
                                                         {"bootstrap_sampling", "false"}});
    });
  }
  SECTION("bootstrap with a seed, majority class, max depth") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_adaptive_tree", {{"grace_period", "20"},
                                                         {"seed", "7"},
                                                         {"leaf_prediction", "mc"},
                                                         {"max_depth", "2"}});
    });
  }
  SECTION("multiclass, tight memory") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_adaptive_tree_multiclass", {{"grace_period", "25"},
                                                                    {"delta", "0.001"},
                                                                    {"max_size", "0.002"},
                                                                    {"memory_estimate_period", "50"}});
    });
  }
}

TEST_CASE("the Hoeffding adaptive tree's keys are River's, bad values name the key", "[trees][hatc][factory]") {
  testing::RegisterTrees();
  const auto message = [](const learn::LearnerKeys& keys) {
    auto made = learn::MakeLearner("hoeffding_adaptive_tree", keys, "model.");
    return made.ok() ? std::string("ok") : made.status().message();
  };
  CHECK(message({}) == "ok");
  CHECK(message({{"grace_period", "50"}, {"seed", "3"}, {"bootstrap_sampling", "false"}, {"l2", "0"}}) == "ok");
  CHECK(message({{"switch_significance", "1"}}) == "model.switch_significance: must be in (0, 1), got '1'");
  CHECK(message({{"seed", "-1"}}).rfind("model.seed: ", 0) == 0);
  CHECK(message({{"grace_period", "0"}}) == "model.grace_period: must be between 1 and 1099511627776, got '0'");
  const std::string unknown = message({{"window", "3"}});
  CHECK(unknown.rfind("model.window: unknown key for hoeffding_adaptive_tree", 0) == 0);
  CHECK(unknown.find("drift_window_threshold") != std::string::npos);
  CHECK(trees::CheckHoeffdingAdaptiveTreeSetting("drift_window_threshold", "x").message() ==
        "expected a whole number, got 'x'");
  CHECK_FALSE(trees::CheckHoeffdingAdaptiveTreeSetting("leaf_prediction", "knn").ok());
  CHECK(*learn::TaskOfLearnerType("hoeffding_adaptive_tree_multiclass") == learn::LearnerTask::kMulticlass);
}

TEST_CASE("the Hoeffding adaptive tree recovers from an abrupt change faster than the Hoeffding tree",
          "[trees][hatc]") {
  // A hyperplane (10 features, 5% label noise) whose weights change at event 20000: the
  // plain tree's splits stay those of the old plane, the adaptive one replaces subtrees.
  constexpr size_t kChange = 20000, kEvents = 30000;
  const auto stream = DriftingStream("hyperplane", kEvents, kChange, 5);
  auto plain = MakeTreeLearner("hoeffding_tree");
  auto adaptive = MakeTreeLearner("hoeffding_adaptive_tree", {{"seed", "1"}});
  std::vector<double> plain_windows, adaptive_windows;
  const double plain_before = WindowAccuracy(*plain, stream, kChange - 5000, kChange);
  const double adaptive_before = WindowAccuracy(*adaptive, stream, kChange - 5000, kChange);
  plain = MakeTreeLearner("hoeffding_tree");
  adaptive = MakeTreeLearner("hoeffding_adaptive_tree", {{"seed", "1"}});
  const double plain_after = WindowAccuracy(*plain, stream, kChange, kEvents, &plain_windows);
  const double adaptive_after = WindowAccuracy(*adaptive, stream, kChange, kEvents, &adaptive_windows);
  INFO("before the change, plain " << plain_before << ", adaptive " << adaptive_before);
  INFO("after the change, plain " << plain_after << ", adaptive " << adaptive_after);
  INFO("last 1000 events, plain " << plain_windows.back() << ", adaptive " << adaptive_windows.back());
  // Alike before the change; after it the adaptive tree is back near its level, the plain one is not.
  CHECK(std::abs(plain_before - adaptive_before) < 0.05);
  CHECK(adaptive_after > plain_after + 0.08);
  CHECK(adaptive_windows.back() > plain_windows.back() + 0.08);
  CHECK(AsAdaptive(*adaptive).alternate_trees() > 0);
  CHECK(AsAdaptive(*adaptive).switched_alternate_trees() + AsAdaptive(*adaptive).splits() > 0);
}

TEST_CASE("a restored Hoeffding adaptive tree continues bit-identically", "[trees][hatc][snapshot]") {
  const auto stream = DriftingStream("sea", 6000, 3000, 3);
  auto original = MakeTreeLearner("hoeffding_adaptive_tree", {{"grace_period", "50"}, {"seed", "4"}});
  for (size_t i = 0; i < 3500; ++i) original->learn(stream[i].x, stream[i].y);
  REQUIRE(AsAdaptive(*original).splits() > 0);
  auto restored = testing::SavedAndRestored(*original);
  learn::Prediction a, b;
  for (size_t i = 3500; i < stream.size(); ++i) {
    original->predict(stream[i].x, a);
    restored->predict(stream[i].x, b);
    REQUIRE(a.score == b.score);
    original->learn(stream[i].x, stream[i].y);
    restored->learn(stream[i].x, stream[i].y);
  }
  CHECK(testing::SavedLearner(*original) == testing::SavedLearner(*restored));
}

TEST_CASE("the Hoeffding adaptive tree describes its tree as data", "[trees][hatc][describe]") {
  const auto stream = DriftingStream("sea", 6000, 3000, 3);
  auto l = MakeTreeLearner("hoeffding_adaptive_tree", {{"grace_period", "50"}});
  for (const auto& e : stream) l->learn(e.x, e.y);
  const auto& tree = AsAdaptive(*l);
  REQUIRE(tree.splits() > 0);
  const std::string out = testing::Described(*l);
  INFO(out);
  CHECK(out.find("\"type\":\"hoeffding_adaptive_tree\"") != std::string::npos);
  CHECK(out.find("\"tree_settings\":{\"type\":\"hoeffding_tree\",\"grace_period\":\"50\"") != std::string::npos);
  CHECK(out.find("\"leaves\":" + std::to_string(tree.leaves())) != std::string::npos);
  CHECK(out.find("\"splits\":" + std::to_string(tree.splits())) != std::string::npos);
  CHECK(out.find("\"alternate_trees_started\":" + std::to_string(tree.alternate_trees())) != std::string::npos);
  CHECK(out.find("\"split_nodes\":[{\"node\":0,\"depth\":0,\"feature\":\"") != std::string::npos);
  CHECK(l->memory_bytes() > sizeof(trees::HoeffdingAdaptiveTree));
}

TEST_CASE("the Hoeffding adaptive tree's predictions are pinned bit for bit", "[trees][hatc][pinned]") {
  // Every score (P(y = 1)) and class of test-then-train on a drifting stream (alternate trees grow, switch
  // and are pruned; leaves answer by naive Bayes or majority), folded into one fingerprint
  // of their bits. First recorded before a leaf's naive Bayes votes were shared between its
  // vote and its learning (computed once per event instead of up to three times): a change
  // of arithmetic anywhere in the tree's test or train path changes the fingerprint.
  const auto stream = DriftingStream("hyperplane", 12000, 6000, 5);
  auto tree = MakeTreeLearner("hoeffding_adaptive_tree", {{"seed", "1"}, {"grace_period", "100"}});
  learn::Prediction pred;
  uint64_t fingerprint = 1469598103934665603ull;  // FNV-1a over the scores' bits
  for (const auto& example : stream) {
    tree->predict(example.x, pred);
    uint64_t bits = 0;
    std::memcpy(&bits, &pred.score, sizeof bits);
    fingerprint = (fingerprint ^ bits) * 1099511628211ull;
    fingerprint = (fingerprint ^ static_cast<uint64_t>(pred.class_index + 1)) * 1099511628211ull;
    tree->learn(example.x, example.y);
  }
  INFO("alternates " << AsAdaptive(*tree).alternate_trees() << ", switched " << AsAdaptive(*tree).switched_alternate_trees()
                     << ", fingerprint " << fingerprint);
  CHECK(AsAdaptive(*tree).alternate_trees() > 0);
  CHECK(fingerprint == kPinnedFingerprint);
}

TEST_CASE("learning through the prediction's memo gives the pinned run bit for bit", "[trees][hatc][pinned]") {
  // The pinned run above, each event predicted with predict_keeping and learned with
  // learn_predicted (the pipeline's test-then-train): the same scores, the same tree.
  const auto stream = DriftingStream("hyperplane", 12000, 6000, 5);
  auto tree = MakeTreeLearner("hoeffding_adaptive_tree", {{"seed", "1"}, {"grace_period", "100"}});
  auto plain = MakeTreeLearner("hoeffding_adaptive_tree", {{"seed", "1"}, {"grace_period", "100"}});
  std::unique_ptr<learn::PredictionMemo> memo;
  learn::Prediction pred;
  uint64_t fingerprint = 1469598103934665603ull;
  for (const auto& example : stream) {
    tree->predict_keeping(example.x, pred, memo);
    uint64_t bits = 0;
    std::memcpy(&bits, &pred.score, sizeof bits);
    fingerprint = (fingerprint ^ bits) * 1099511628211ull;
    fingerprint = (fingerprint ^ static_cast<uint64_t>(pred.class_index + 1)) * 1099511628211ull;
    tree->learn_predicted(example.x, example.y, 1.0, memo.get());
    plain->learn(example.x, example.y);
  }
  CHECK(fingerprint == kPinnedFingerprint);
  CHECK(testing::SavedLearner(*tree) == testing::SavedLearner(*plain));
}

TEST_CASE("learning through the memo reuses every asked leaf's vote, and still learns as plain learning",
          "[trees][hatc][pinned]") {
  // The prediction keeps the votes of the alternates' leaves as well as the main path's;
  // learning reuses each until that leaf learns or the size limit runs. A tight limit,
  // estimated every 25 events, deactivates and reactivates leaves while alternates come
  // and go: the memo's learning must still be plain learning, bit for bit.
  const auto stream = testing::GeneratedStream("agrawal", 8000, 5, 4, {2000, 4000, 6000});
  const learn::LearnerKeys keys = {{"seed", "2"},
                                   {"grace_period", "30"},
                                   {"drift_window_threshold", "30"},
                                   {"delta", "0.01"},
                                   {"max_size", "0.02"},
                                   {"memory_estimate_period", "25"}};
  auto kept = MakeTreeLearner("hoeffding_adaptive_tree", keys);
  auto plain = MakeTreeLearner("hoeffding_adaptive_tree", keys);
  std::unique_ptr<learn::PredictionMemo> memo;
  learn::Prediction p, q;
  size_t differing = 0;
  for (const auto& example : stream) {
    kept->predict_keeping(example.x, p, memo);
    plain->predict(example.x, q);
    if (p.score != q.score || p.class_index != q.class_index) ++differing;
    kept->learn_predicted(example.x, example.y, 1.0, memo.get());
    plain->learn(example.x, example.y);
  }
  INFO("alternates " << AsAdaptive(*plain).alternate_trees() << ", leaves " << AsAdaptive(*plain).leaves());
  CHECK(AsAdaptive(*plain).alternate_trees() > 0);
  CHECK(differing == 0);
  CHECK(testing::SavedLearner(*kept) == testing::SavedLearner(*plain));
}

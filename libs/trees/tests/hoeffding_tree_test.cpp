#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "hoeffding_tree.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

namespace {

const trees::HoeffdingTreeLearner& AsTree(const learn::Learner& l) {
  return dynamic_cast<const trees::HoeffdingTreeLearner&>(l);
}

}  // namespace

TEST_CASE("the Hoeffding tree keeps the learner contract", "[trees][hoeffding_tree][contract]") {
  // Small grace periods so that the 400 contract events grow splits (the snapshot then
  // holds branches, leaves of every kind and deactivated leaves).
  SECTION("defaults") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_tree"); });
  }
  SECTION("info gain, nba, splitting") {
    testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_tree", {{"grace_period", "20"}, {"delta", "0.01"}}); });
  }
  SECTION("gini, majority class, max depth") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_tree", {{"grace_period", "20"}, {"split_criterion", "gini"},
                                                {"leaf_prediction", "mc"}, {"max_depth", "2"}});
    });
  }
  SECTION("hellinger, naive Bayes") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_tree", {{"grace_period", "30"}, {"split_criterion", "hellinger"},
                                                {"leaf_prediction", "nb"}, {"tau", "0.2"}});
    });
  }
  SECTION("multiclass") {
    testing::CheckLearnerContract([] {
      return MakeTreeLearner("hoeffding_tree_multiclass", {{"grace_period", "25"}, {"delta", "0.001"}});
    });
  }
}

TEST_CASE("the Hoeffding tree's keys are River's, bad values name the key", "[trees][hoeffding_tree][factory]") {
  testing::RegisterTrees();
  const auto message = [](const learn::LearnerKeys& keys) {
    auto made = learn::MakeLearner("hoeffding_tree", keys, "model.");
    return made.ok() ? std::string("ok") : made.status().message();
  };
  CHECK(message({{"grace_period", "0"}}) == "model.grace_period: must be between 1 and 1099511627776, got '0'");
  CHECK(message({{"delta", "1"}}) == "model.delta: must be in (0, 1), got '1'");
  CHECK(message({{"split_criterion", "entropy"}}) ==
        "model.split_criterion: must be one of info_gain, gini, hellinger, got 'entropy'");
  CHECK(message({{"leaf_prediction", "knn"}}) == "model.leaf_prediction: must be one of nba, nb, mc, got 'knn'");
  CHECK(message({{"max_depth", "-3"}}).rfind("model.max_depth: expected none or", 0) == 0);
  CHECK(message({{"nb_threshold", "x"}}) == "model.nb_threshold: expected a number, got 'x'");
  CHECK(message({{"split_confidence", "0.1"}}).rfind("model.split_confidence: unknown key for hoeffding_tree", 0) == 0);
  CHECK(message({{"max_size", "0"}}) == "model.max_size: must be in (0, 1000000000], got '0'");
  // Booleans are read by the config grammar (true/false, yes/no, on/off, 1/0).
  CHECK(message({{"stop_mem_management", "yes"}}) == "ok");
  CHECK(message({{"stop_mem_management", "maybe"}}).rfind("model.stop_mem_management: expected", 0) == 0);
  CHECK(message({{"max_depth", "none"}, {"tau", "0.1"}, {"learning_rate", "0.05"}, {"hash_bits", "8"}}) == "ok");
  auto multi = learn::MakeLearner("hoeffding_tree_multiclass", {{"split_criterion", "hellinger"}}, "model.");
  REQUIRE_FALSE(multi.ok());
  CHECK(multi.status().message() == "model.split_criterion: hellinger is for binary tasks only");

  // The family's own check of one setting (the factory's CheckLearnerSetting is Ok as soon
  // as any family is, and the linear family leaves keys it does not know to MakeLearner).
  CHECK(trees::CheckHoeffdingTreeSetting("grace_period", "50").ok());
  CHECK(trees::CheckHoeffdingTreeSetting("grace_period", "0").message() == "must be between 1 and 1099511627776, got '0'");
  CHECK_FALSE(trees::CheckHoeffdingTreeSetting("leaf_prediction", "knn").ok());
  CHECK(trees::CheckHoeffdingTreeSetting("learning_rate", "0.1").ok());
  CHECK(learn::CheckLearnerSetting("grace_period", "50").ok());
  CHECK(*learn::TaskOfLearnerType("hoeffding_tree") == learn::LearnerTask::kBinary);
  CHECK(*learn::TaskOfLearnerType("hoeffding_tree_multiclass") == learn::LearnerTask::kMulticlass);
  // The built-in types come first, the registered ones after them: here the trees' types
  // (tree_learners.hpp's table), each once, and nothing else (this binary registers no
  // other family).
  const std::vector<std::string_view> built_in = {"logistic", "softmax", "linear", "huber", "hinge"};
  const std::vector<std::string_view> tree_types = {
      "hoeffding_tree", "hoeffding_tree_multiclass", "naive_bayes", "naive_bayes_multiclass", "hoeffding_tree_regressor",
      "hoeffding_adaptive_tree", "hoeffding_adaptive_tree_multiclass", "hoeffding_adaptive_tree_regressor", "arf",
      "arf_multiclass", "arf_regressor"};
  const auto& types = learn::LearnerTypes();
  const size_t count = types.size();
  REQUIRE(count >= built_in.size());
  CHECK(std::vector<std::string_view>(types.begin(), types.begin() + static_cast<std::ptrdiff_t>(built_in.size())) ==
        built_in);
  for (std::string_view type : tree_types) {
    INFO(type);
    CHECK(std::count(types.begin(), types.end(), type) == 1);
  }
  CHECK(count == built_in.size() + tree_types.size());
  CHECK(trees::RegisterTreeLearners().ok());  // again: harmless
  CHECK(learn::LearnerTypes().size() == count);
}

TEST_CASE("a Hoeffding tree learns a noise-free rule above 99%", "[trees][hoeffding_tree]") {
  SECTION("Agrawal function 0 (age bands), numeric attributes") {
    const auto stream = testing::GeneratedStream("agrawal", 20000, 7);
    auto tree = MakeTreeLearner("hoeffding_tree");
    const auto p = testing::TestThenTrain(*tree, stream, 10000);
    INFO(testing::Described(*tree));
    CHECK(p.accuracy() > 0.99);
    CHECK(AsTree(*tree).splits() >= 2);
  }
  SECTION("STAGGER function 0 (size small and color red), one-hot buckets only") {
    // size=small and color=red tie on merit, so each split waits for the bound to fall
    // below tau (about 3,200 events per leaf): the rule is learned by 15,000 events.
    const auto stream = testing::GeneratedStream("stagger", 20000, 3);
    auto tree = MakeTreeLearner("hoeffding_tree", {{"leaf_prediction", "mc"}});
    const auto p = testing::TestThenTrain(*tree, stream, 15000);
    INFO(testing::Described(*tree));
    CHECK(p.accuracy() > 0.99);
    CHECK(testing::Described(*tree).find(R"("bucket":)") != std::string::npos);
  }
}

TEST_CASE("a Hoeffding tree keeps within max_size by deactivating its least promising leaves", "[trees][hoeffding_tree]") {
  const auto stream = testing::GeneratedStream("agrawal", 30000, 11);
  const auto grown = [&](const learn::LearnerKeys& keys) {
    auto tree = MakeTreeLearner("hoeffding_tree", keys);
    testing::LearnAll(*tree, stream);
    return tree;
  };
  auto free_tree = grown({{"grace_period", "50"}});
  const auto& unbounded = AsTree(*free_tree);
  REQUIRE(unbounded.leaves() >= 5);
  // A budget of a few leaves, checked every 500 events.
  auto bounded_tree = grown({{"grace_period", "50"}, {"max_size", "0.005"}, {"memory_estimate_period", "500"}});
  const std::string d = testing::Described(*bounded_tree);
  INFO(d);
  const size_t active_at = d.find(R"("active_leaves":)");
  REQUIRE(active_at != std::string::npos);
  const size_t active = std::stoul(d.substr(active_at + 16));
  CHECK(active < AsTree(*bounded_tree).leaves());
  CHECK(AsTree(*bounded_tree).leaves() < unbounded.leaves());
  CHECK(d.find(R"("growth_allowed":true)") != std::string::npos);
  // stop_mem_management: growth stops instead, the tree keeps its shape from then on.
  auto stopped = grown({{"grace_period", "50"}, {"max_size", "0.005"}, {"memory_estimate_period", "500"},
                        {"stop_mem_management", "true"}});
  CHECK(testing::Described(*stopped).find(R"("growth_allowed":false)") != std::string::npos);
  const size_t splits = AsTree(*stopped).splits();
  testing::LearnAll(*stopped, testing::GeneratedStream("agrawal", 5000, 12));
  CHECK(AsTree(*stopped).splits() == splits);
  // The contract holds with memory management at work.
  testing::CheckLearnerContract([] {
    return MakeTreeLearner("hoeffding_tree",
                           {{"grace_period", "20"}, {"max_size", "0.002"}, {"memory_estimate_period", "50"}});
  });
}

TEST_CASE("a Hoeffding tree describes its shape with features by name", "[trees][hoeffding_tree]") {
  const auto stream = testing::PhishingStream();
  auto tree = MakeTreeLearner("hoeffding_tree", {{"grace_period", "50"}});
  testing::LearnAll(*tree, stream);
  const auto& t = AsTree(*tree);
  const std::string d = testing::Described(*tree);
  INFO(d);
  CHECK(t.splits() >= 1);
  CHECK(t.leaves() == t.splits() + 1);
  CHECK(d.find(R"("learner":{"type":"hoeffding_tree","grace_period":"50","delta":"1e-07")") != std::string::npos);
  CHECK(d.find(R"("depth":)" + std::to_string(t.depth())) != std::string::npos);
  CHECK(d.find(R"("split_nodes":[{"node":0,"depth":0,"feature":")") != std::string::npos);
  CHECK(d.find(R"("memory_bytes":)") != std::string::npos);
  CHECK(tree->memory_bytes() > 1000);
}

TEST_CASE("fractional weights round, an infinite one is guarded", "[trees]") {
  for (const char* type : {"hoeffding_tree", "naive_bayes"}) {
    auto l = MakeTreeLearner(type);
    const auto stream = testing::ContractStream(learn::LearnerTask::kBinary, 10);
    const std::string fresh = testing::SavedLearner(*l);
    l->learn(stream[0].x, stream[0].y, 0.4);
    CHECK(testing::SavedLearner(*l) == fresh);
    l->learn(stream[0].x, stream[0].y, std::numeric_limits<double>::infinity());
    CHECK(l->guarded_updates() == 1);
    CHECK(l->trained() == 0);
    l->learn(stream[0].x, stream[0].y, 2.6);
    CHECK(l->trained() == 3);
  }
}

TEST_CASE("a Hoeffding tree routes a missing split feature down the heavier branch", "[trees][hoeffding_tree]") {
  const auto stream = testing::PhishingStream();
  auto tree = MakeTreeLearner("hoeffding_tree", {{"grace_period", "50"}, {"leaf_prediction", "mc"}});
  testing::LearnAll(*tree, stream);
  REQUIRE(AsTree(*tree).splits() >= 1);
  // With every feature missing, every event goes to the same leaf, whatever its values.
  FeatureVector a = stream[0].x, b = stream[1].x;
  std::fill(a.present.begin(), a.present.end(), 0);
  std::fill(b.present.begin(), b.present.end(), 0);
  learn::Prediction pa, pb;
  tree->predict(a, pa);
  tree->predict(b, pb);
  CHECK(pa.score == pb.score);
  const uint64_t before = tree->trained();
  tree->learn(a, 1);  // learns at that leaf, no crash, no split attempt
  CHECK(tree->trained() == before + 1);
}

TEST_CASE("damaged Hoeffding tree and naive Bayes snapshots never crash a load", "[trees][snapshot]") {
  const auto stream = testing::PhishingStream();
  for (const char* type : {"hoeffding_tree", "naive_bayes"}) {
    DYNAMIC_SECTION(type) {
      const learn::LearnerKeys keys =
          std::string_view(type) == "hoeffding_tree" ? learn::LearnerKeys{{"grace_period", "50"}} : learn::LearnerKeys{};
      auto trained = MakeTreeLearner(type, keys);
      testing::LearnAll(*trained, stream);
      const std::string bytes = testing::SavedLearner(*trained);
      const auto reference = testing::PredictAll(*trained, stream);
      std::mt19937_64 rng(17);
      int refused = 0, loaded = 0;
      for (int trial = 0; trial < 300; ++trial) {
        std::string damaged = bytes;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
        if (trial % 3 == 0) damaged.resize(rng() % damaged.size());
        auto target = MakeTreeLearner(type, keys);
        ByteReader in(damaged);
        const Status st = target->load(in);
        if (st.ok()) {
          // Only a load that reproduces the saved learner may succeed.
          ++loaded;
          CHECK(testing::SamePredictions(testing::PredictAll(*target, stream), reference));
        } else {
          ++refused;
          CHECK_FALSE(st.message().empty());
          CHECK(testing::SavedLearner(*target) == testing::SavedLearner(*MakeTreeLearner(type, keys)));
        }
        ByteReader restore_in(damaged);
        auto restored = learn::RestoreLearner(restore_in);  // the factory's path: never a crash either
        if (restored.ok()) CHECK(testing::SamePredictions(testing::PredictAll(**restored, stream), reference));
      }
      CHECK(refused > 0);
      INFO("loaded " << loaded);
    }
  }
  SECTION("another family's snapshot is FailedPrecondition, other settings too") {
    auto nb = MakeTreeLearner("naive_bayes");
    const std::string nb_bytes = testing::SavedLearner(*nb);
    auto tree = MakeTreeLearner("hoeffding_tree");
    ByteReader in(nb_bytes);
    CHECK(tree->load(in).code() == ErrorCode::kFailedPrecondition);
    auto other = MakeTreeLearner("hoeffding_tree", {{"grace_period", "51"}});
    const std::string other_bytes = testing::SavedLearner(*other);
    ByteReader other_in(other_bytes);
    CHECK(tree->load(other_in).code() == ErrorCode::kFailedPrecondition);
    ByteReader restore(other_bytes);
    auto restored = learn::RestoreLearner(restore);
    REQUIRE(restored.ok());
    CHECK(AsTree(**restored).config().grace_period == 51);
  }
}

TEST_CASE("a leaf's class Gaussian keeps its density terms: the density is Gaussian::pdf's to the bit",
          "[trees][hoeffding_tree]") {
  // The naive Bayes votes read the density from the terms the observer keeps; they must be
  // those of the estimator after every update, and after a snapshot (which holds the
  // estimator only) is read back.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> value(3.0, 2.5);
  trees::ClassGaussian g;
  g.update(1.5, 1.0);  // one value: variance 0, density 0
  CHECK(g.pdf(1.5) == 0.0);
  CHECK(g.estimator.pdf(1.5) == 0.0);
  std::vector<double> probes = {-40.0, -3.0, 0.0, 2.999, 3.0, 7.5, 1e3, std::numeric_limits<double>::infinity()};
  for (int i = 0; i < 500; ++i) {
    g.update(value(rng), i % 7 == 0 ? 2.0 : 1.0);
    for (double x : probes) {
      INFO("update " << i << ", x " << x);
      const double cached = g.pdf(x), direct = g.estimator.pdf(x);
      CHECK(std::memcmp(&cached, &direct, sizeof cached) == 0);
    }
  }
  std::string bytes;
  ByteWriter w(&bytes);
  g.estimator.save(w);
  trees::ClassGaussian loaded;
  ByteReader r(bytes);
  REQUIRE(loaded.estimator.load(r));
  CHECK(loaded.pdf(4.0) != g.pdf(4.0));  // the terms are not the estimator: refresh() makes them
  loaded.refresh();
  for (double x : probes) CHECK(loaded.pdf(x) == g.pdf(x));
}

TEST_CASE("a Hoeffding tree read back from its snapshot votes by naive Bayes as the original",
          "[trees][hoeffding_tree][snapshot]") {
  // Its leaves' Gaussians come back from their statistics: the density terms are made again.
  const auto stream = testing::GeneratedStream("hyperplane", 3000, 9);
  auto original = MakeTreeLearner("hoeffding_tree", {{"grace_period", "50"}, {"leaf_prediction", "nb"}});
  for (size_t i = 0; i < 2000; ++i) original->learn(stream[i].x, stream[i].y);
  auto restored = testing::SavedAndRestored(*original);
  learn::Prediction a, b;
  size_t differ = 0;
  for (size_t i = 2000; i < stream.size(); ++i) {
    original->predict(stream[i].x, a);
    restored->predict(stream[i].x, b);
    if (std::memcmp(&a.score, &b.score, sizeof a.score) != 0) ++differ;
  }
  CHECK(differ == 0);
}

TEST_CASE("a class Gaussian's naive Bayes term is River's log(pdf) if pdf > 0 else 0",
          "[trees][hoeffding_tree]") {
  // The term is the log-density written out: equal to log(pdf) but for the last bits where
  // the density is a normal positive number, and exactly River's (0 included) where it is
  // 0, tiny or not a number.
  trees::ClassGaussian g;
  CHECK(g.log_pdf_term(1.0) == 0.0);  // nothing seen
  g.update(2.0, 1.0);
  CHECK(g.log_pdf_term(2.0) == 0.0);  // variance 0: density 0, River adds nothing
  std::mt19937_64 rng(5);
  std::normal_distribution<double> value(-1.0, 0.75);
  for (int i = 0; i < 200; ++i) g.update(value(rng), 1.0);
  for (double x = -12.0; x <= 10.0; x += 0.37) {
    const double p = g.pdf(x);
    REQUIRE(p > 0.0);
    INFO("x " << x << ", p " << p);
    CHECK(std::abs(g.log_pdf_term(x) - std::log(p)) <= 1e-13 * (1.0 + std::abs(std::log(p))));
  }
  // Far out the density is 0 in doubles (River: no term); just inside, a subnormal or a
  // tiny normal number, whose log River takes.
  for (double x : {30.0, 40.0, 1e6, -1e6, std::numeric_limits<double>::infinity()}) {
    const double p = g.pdf(x);
    const double river = p > 0 ? std::log(p) : 0.0;
    INFO("x " << x << ", p " << p);
    CHECK(g.log_pdf_term(x) == river);
  }
  bool met_zero = false, met_tiny = false;
  for (double x = 20.0; x < 40.0; x += 0.01) {
    const double p = g.pdf(x);
    const double term = g.log_pdf_term(x);
    if (p == 0.0) {
      met_zero = true;
      CHECK(term == 0.0);
    } else if (p < 1e-306) {  // below e^-700: computed as River does
      met_tiny = true;
      CHECK(term == std::log(p));
    } else {
      CHECK(std::abs(term - std::log(p)) <= 1e-13 * std::abs(std::log(p)));
    }
  }
  CHECK(met_zero);
  CHECK(met_tiny);
  CHECK(g.log_pdf_term(std::numeric_limits<double>::quiet_NaN()) == 0.0);
}

TEST_CASE("a snapshot's class weights are refused when negative or when their total is past the largest double",
          "[trees][hoeffding_tree][snapshot]") {
  // A leaf with weights {157, -9.5e242} made naive Bayes vote NaN (found by the snapshot
  // fuzzer): weights are sums of positive sample weights, so such a leaf is damage.
  auto read = [](std::vector<std::pair<uint32_t, double>> weights) {
    std::string bytes;
    ByteWriter w(&bytes);
    w.u32(static_cast<uint32_t>(weights.size()));
    for (const auto& [cls, weight] : weights) {
      w.u32(cls);
      w.f64(weight);
    }
    ByteReader r(bytes);
    trees::ClassWeights out;
    return trees::ReadClassWeights(r, 2, &out);
  };
  CHECK(read({{0, 157.0}, {1, 3.0}}));
  CHECK(read({{0, 0.0}}));
  CHECK_FALSE(read({{0, 157.0}, {1, -9.53526e242}}));
  CHECK_FALSE(read({{0, -1e-300}}));
  CHECK_FALSE(read({{0, 1.7e308}, {1, 1.7e308}}));
  CHECK_FALSE(read({{0, std::numeric_limits<double>::quiet_NaN()}}));
}

TEST_CASE("a bucket split's children start with the class weights seen without and with the bucket",
          "[trees][hoeffding_tree]") {
  // 20 buckets, each present with probability 1/2; the label is one bucket's presence,
  // flipped one time in ten. A split attempt scores each bucket's split in scratch room and
  // makes the winner's class weights again: they must be the counts the leaf saw, so the
  // split's children (majority-class leaves) answer exactly those proportions. The decisive
  // bucket first and among the last, so the winner is not simply the first candidate.
  constexpr uint32_t kBuckets = 20;
  for (const uint32_t decisive : {0u, 15u}) {
    INFO("decisive bucket " << decisive);
    auto learner = MakeTreeLearner("hoeffding_tree", {{"leaf_prediction", "mc"}});
    const auto& tree = AsTree(*learner);
    std::mt19937 rng(11 + decisive);
    double counts[2][2] = {{0, 0}, {0, 0}};  // [bucket present][label]
    FeatureVector x;
    bool split = false;
    for (int i = 0; i < 5000 && !split; ++i) {
      x.clear();
      bool present = false;
      for (uint32_t b = 0; b < kBuckets; ++b) {
        if (rng() & 1) {
          present = present || b == decisive;
          x.sparse_index.push_back(1000 + 7 * b);
          x.sparse_value.push_back(1.0f);
        }
      }
      const bool flip = rng() % 10 == 0;
      const int y = (present != flip) ? 1 : 0;
      counts[present][y] += 1;
      learner->learn(x, y, 1.0);
      split = tree.splits() > 0;
    }
    REQUIRE(split);
    const std::string described = testing::Described(*learner);
    INFO(described);
    CHECK(described.find("\"bucket\":" + std::to_string(1000 + 7 * decisive)) != std::string::npos);
    FeatureVector with, without;
    with.sparse_index.push_back(1000 + 7 * decisive);
    with.sparse_value.push_back(1.0f);
    double proba[2];
    for (const bool present : {false, true}) {
      tree.class_probabilities(present ? with : without, proba, 2);
      const double total = counts[present][0] + counts[present][1];
      CHECK(proba[0] == counts[present][0] / total);
      CHECK(proba[1] == counts[present][1] / total);
    }
  }
}

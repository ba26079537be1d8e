#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "learner_contract.hpp"
#include "mlp.hpp"
#include "streamlearn/core/mt19937.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neural/mlp_learners.hpp"

using namespace streamlearn;

namespace {

std::unique_ptr<learn::Learner> MakeMlp(std::string_view type, const learn::LearnerKeys& keys = {}) {
  REQUIRE(neural::RegisterNeuralLearners().ok());
  auto made = learn::MakeLearner(type, keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

const neural::MlpLearner& AsMlp(const learn::Learner& l) { return dynamic_cast<const neural::MlpLearner&>(l); }

bool AllBounded(const neural::MlpLearner& l, double bound) {
  for (const neural::Layer& layer : l.layers()) {
    if (!((layer.w.array().abs() <= bound).all() && (layer.b.array().abs() <= bound).all())) return false;
  }
  return true;
}

FeatureVector Dense(std::vector<double> v) {
  FeatureVector x;
  x.present.assign(v.size(), 1);
  x.dense = std::move(v);
  return x;
}

}  // namespace

TEST_CASE("mlp keeps the learner contract", "[neural][contract]") {
  SECTION("mlp") {
    testing::CheckLearnerContract([] { return MakeMlp("mlp", {{"hidden_dims", "[5]"}}); });
  }
  SECTION("mlp_multiclass") {
    testing::CheckLearnerContract([] { return MakeMlp("mlp_multiclass", {{"hidden_dims", "[8]"}}); });
  }
  SECTION("mlp_regressor") {
    testing::CheckLearnerContract([] { return MakeMlp("mlp_regressor", {{"hidden_dims", "[5]"}}); });
  }
  SECTION("two hidden layers, adam, tanh and sigmoid, raw inputs") {
    testing::CheckLearnerContract([] {
      return MakeMlp("mlp", {{"hidden_dims", "[16, 8]"}, {"optimizer", "adam"}, {"activation", "tanh"}});
    });
    testing::CheckLearnerContract([] {
      return MakeMlp("mlp_multiclass",
                     {{"hidden_dims", "6,4"}, {"optimizer", "adam"}, {"activation", "sigmoid"}, {"seed", "7"}});
    });
    testing::CheckLearnerContract([] {
      return MakeMlp("mlp_regressor", {{"hidden_dims", "(4, 3)"},
                                       {"optimizer", "adam"},
                                       {"standardize", "false"},
                                       {"output_activation", "relu"}});
    });
  }
}

// numpy.random.RandomState(42).randn(6, 5) then .randn(5, 1) (numpy 1.24), and
// RandomState(7).randn(3): the draws River's xavier_init makes.
TEST_CASE("mlp draws numpy's legacy normals (MT19937, polar method, the cached second value)", "[neural][rng]") {
  NumpyLegacyRandom rng(42);
  std::vector<double> draws;
  for (int i = 0; i < 35; ++i) draws.push_back(rng.next_gauss());
  CHECK(draws[0] == 0.4967141530112327);
  CHECK(draws[1] == -0.13826430117118466);
  CHECK(draws[29] == -0.2916937497932768);
  CHECK(draws[34] == 0.822544912103189);
  NumpyLegacyRandom seven(7);
  CHECK(std::abs(seven.next_gauss() - 1.6905257) < 1e-7);
  CHECK(std::abs(seven.next_gauss() - -0.46593737) < 1e-8);
  CHECK(std::abs(seven.next_gauss() - 0.03282016) < 1e-8);
}

TEST_CASE("mlp draws its first weights as River's xavier_init: randn(in, out) / sqrt(in)", "[neural][rng]") {
  auto l = MakeMlp("mlp_regressor", {{"hidden_dims", "[5]"}, {"learning_rate", "1e-300"}});
  FeatureVector x = Dense({0, 0, 0, 0, 0, 0});  // zero inputs: the step leaves the first layer as drawn
  l->learn(x, 0.0);
  const auto& layers = AsMlp(*l).layers();
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].w.rows() == 6);
  CHECK(layers[0].w.cols() == 5);
  CHECK(layers[1].w.rows() == 5);
  CHECK(layers[1].w.cols() == 1);
  CHECK(layers[0].w(0, 0) == 0.4967141530112327 / std::sqrt(6.0));
  CHECK(layers[0].w(0, 1) == -0.13826430117118466 / std::sqrt(6.0));
  CHECK(layers[0].w(5, 4) == -0.2916937497932768 / std::sqrt(6.0));
  CHECK(std::abs(layers[1].w(4, 0) - 0.822544912103189 / std::sqrt(5.0)) < 1e-15);
  CHECK(layers[0].b.isZero());
}

TEST_CASE("mlp learns a circle the linear model cannot", "[neural][nonlinear]") {
  // y = 1 inside the circle of radius 0.8 around the origin, inputs uniform in [-1, 1]^2:
  // no line separates it (a linear model does about as well as always saying "outside").
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(-1, 1);
  auto make_stream = [&](size_t n) {
    std::vector<testing::LearnerExample> s(n);
    for (auto& e : s) {
      const double a = u(gen), b = u(gen);
      e.x = Dense({a, b});
      e.y = a * a + b * b < 0.64 ? 1.0 : 0.0;
    }
    return s;
  };
  const auto train = make_stream(20000), test = make_stream(2000);
  auto accuracy = [&](learn::Learner& l) {
    testing::LearnAll(l, train);
    size_t correct = 0;
    learn::Prediction p;
    for (const auto& e : test) {
      l.predict(e.x, p);
      correct += p.class_index == static_cast<int32_t>(e.y) ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(test.size());
  };
  auto linear = learn::MakeLearner("logistic", {});
  REQUIRE(linear.ok());
  const double linear_accuracy = accuracy(**linear);
  auto mlp = MakeMlp("mlp", {{"hidden_dims", "[16]"}, {"optimizer", "adam"}, {"learning_rate", "0.01"}});
  const double mlp_accuracy = accuracy(*mlp);
  auto xor_like = MakeMlp("mlp", {{"hidden_dims", "[8, 8]"}, {"activation", "tanh"}, {"learning_rate", "0.05"}});
  const double sgd_accuracy = accuracy(*xor_like);
  INFO("logistic " << linear_accuracy << ", mlp adam " << mlp_accuracy << ", mlp sgd tanh " << sgd_accuracy);
  CHECK(linear_accuracy < 0.65);
  CHECK(mlp_accuracy > 0.95);
  CHECK(sgd_accuracy > 0.9);
  CHECK(mlp_accuracy > linear_accuracy + 0.3);
}

TEST_CASE("mlp_multiclass learns XOR-like quadrants and grows its outputs with new classes", "[neural][nonlinear]") {
  // Class = the quadrant's parity pattern: 0 where x * y > 0, 1 where x * y < 0 and x > 0,
  // 2 otherwise; class 2 appears only after 1000 events.
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(-1, 1);
  auto l = MakeMlp("mlp_multiclass", {{"hidden_dims", "[16]"}, {"optimizer", "adam"}, {"learning_rate", "0.01"}});
  size_t correct_late = 0;
  learn::Prediction p;
  for (int i = 0; i < 20000; ++i) {
    double a = u(gen), b = u(gen);
    if (i < 1000 && a < 0 && b > 0) a = -a;  // no class 2 yet
    const double y = a * b > 0 ? 0.0 : a > 0 ? 1.0 : 2.0;
    const FeatureVector x = Dense({a, b});
    l->predict(x, p);
    if (i == 999) CHECK(p.probabilities.size() == 2);
    if (i >= 18000) correct_late += p.class_index == static_cast<int32_t>(y) ? 1 : 0;
    l->learn(x, y);
  }
  CHECK(p.probabilities.size() == 3);
  CHECK(static_cast<double>(correct_late) / 2000.0 > 0.9);
}

TEST_CASE("mlp guards: non-finite inputs and labels never reach the weights", "[neural][guard]") {
  for (std::string_view type : {"mlp", "mlp_multiclass", "mlp_regressor"}) {
    INFO(type);
    auto l = MakeMlp(type, {{"hidden_dims", "[4]"}});
    const auto stream = testing::ContractStream(l->task(), 100);
    testing::LearnAll(*l, stream);
    const std::string before = testing::SavedLearner(*l);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    FeatureVector bad = stream[0].x;
    bad.dense[0] = nan;
    l->learn(bad, stream[0].y);
    bad.dense[0] = inf;
    l->learn(bad, stream[0].y);
    bad.dense[0] = 1e200;  // beyond 1e100: squaring it would overflow
    l->learn(bad, stream[0].y);
    l->learn(stream[0].x, inf);
    l->learn(stream[0].x, -1);  // no class -1, no binary label -1... a regression target, though
    const uint64_t expected = type == "mlp_regressor" ? 4 : 5;
    CHECK(l->guarded_updates() == expected);
    if (type != "mlp_regressor") {
      CHECK(l->trained() == 100);
      ByteReader in(before);
      auto restored = MakeMlp(type, {{"hidden_dims", "[4]"}});
      REQUIRE(restored->load(in).ok());
      CHECK(testing::SamePredictions(testing::PredictAll(*l, stream), testing::PredictAll(*restored, stream)));
    }
    // A present-but-missing value is not checked: missing reads as the running mean.
    FeatureVector missing = stream[0].x;
    missing.dense[2] = nan;
    missing.present[2] = 0;
    const uint64_t guarded = l->guarded_updates();
    l->learn(missing, stream[0].y);
    CHECK(l->guarded_updates() == guarded);
    learn::Prediction p;
    l->predict(missing, p);
    CHECK(std::isfinite(p.score));
  }
}

TEST_CASE("mlp guards: a step that would run away is refused, gradients are clipped", "[neural][guard]") {
  SECTION("runaway steps are skipped and counted; the weights stay finite and bounded") {
    auto l = MakeMlp("mlp_regressor", {{"hidden_dims", "[4]"},
                                       {"learning_rate", "1e5"},
                                       {"clip_gradient", "1e100"},
                                       {"standardize", "false"},
                                       {"scale_target", "false"}});
    std::mt19937_64 gen(1);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < 200; ++i) l->learn(Dense({u(gen) * 1e50, u(gen)}), u(gen) * 1e90);
    CHECK(l->guarded_updates() > 0);
    CHECK(l->trained() + l->guarded_updates() == 200);
    CHECK(AllBounded(AsMlp(*l), 1e100));
    learn::Prediction p;
    l->predict(Dense({1e50, 1}), p);
    CHECK(std::isfinite(p.score));
  }
  SECTION("each gradient component is clipped: one SGD step moves a weight by at most lr * clip") {
    auto l = MakeMlp("mlp_regressor", {{"hidden_dims", "[3]"},
                                       {"learning_rate", "1"},
                                       {"clip_gradient", "0.001"},
                                       {"standardize", "false"},
                                       {"scale_target", "false"}});
    l->learn(Dense({1, 2}), 0.0, 1.0);  // draws the weights and takes one step
    const std::vector<neural::Layer> before = AsMlp(*l).layers();
    l->learn(Dense({100, -50}), 1e6);  // a huge error
    const auto& after = AsMlp(*l).layers();
    for (size_t k = 0; k < before.size(); ++k) {
      CHECK((after[k].w - before[k].w).cwiseAbs().maxCoeff() <= 0.001 * (1 + 1e-9));  // w - 0.001, rounded
      CHECK((after[k].b - before[k].b).cwiseAbs().maxCoeff() <= 0.001 * (1 + 1e-9));
      CHECK((after[k].w - before[k].w).cwiseAbs().maxCoeff() > 0);
    }
    CHECK(l->guarded_updates() == 0);
  }
}

TEST_CASE("mlp snapshots continue bit for bit, the generator included", "[neural][snapshot]") {
  // Saved before a new input and a new class appear: their weights are drawn after the
  // restore, so a generator state that was not restored exactly would show.
  for (std::string_view optimizer : {"sgd", "adam"}) {
    INFO(optimizer);
    const learn::LearnerKeys keys{{"hidden_dims", "[6, 3]"}, {"optimizer", std::string(optimizer)}, {"seed", "9"}};
    auto original = MakeMlp("mlp_multiclass", keys);
    std::mt19937_64 gen(2);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<testing::LearnerExample> first, second;
    for (int i = 0; i < 300; ++i) {
      testing::LearnerExample e;
      e.x = Dense({u(gen), u(gen)});
      e.y = e.x.dense[0] > 0 ? 1 : 0;
      first.push_back(e);
    }
    for (int i = 0; i < 300; ++i) {
      testing::LearnerExample e;
      e.x = Dense({u(gen), u(gen), u(gen)});  // a third input
      e.y = e.x.dense[2] > 0.5 ? 2 : e.x.dense[0] > 0 ? 1 : 0;  // a third class
      second.push_back(e);
    }
    testing::LearnAll(*original, first);
    const std::string bytes = testing::SavedLearner(*original);
    auto restored = MakeMlp("mlp_multiclass", keys);
    ByteReader in(bytes);
    REQUIRE(restored->load(in).ok());
    CHECK(testing::SavedLearner(*restored) == bytes);
    testing::LearnAll(*original, second);
    testing::LearnAll(*restored, second);
    CHECK(testing::SavedLearner(*restored) == testing::SavedLearner(*original));
    CHECK(testing::SamePredictions(testing::PredictAll(*original, second), testing::PredictAll(*restored, second)));
    // RestoreLearner reads the settings from the bytes.
    ByteReader again(bytes);
    auto any = learn::RestoreLearner(again);
    REQUIRE(any.ok());
    CHECK((*any)->type() == "mlp_multiclass");
    CHECK(testing::SavedLearner(**any) == bytes);
  }
  SECTION("other settings are refused with a reason, the learner unchanged") {
    auto saved = MakeMlp("mlp", {{"hidden_dims", "[5]"}});
    saved->learn(Dense({1, 2}), 1);
    const std::string bytes = testing::SavedLearner(*saved);
    auto other = MakeMlp("mlp", {{"hidden_dims", "[6]"}});
    const std::string before = testing::SavedLearner(*other);
    ByteReader in(bytes);
    const Status st = other->load(in);
    CHECK(st.code() == ErrorCode::kFailedPrecondition);
    CHECK(st.message().find("hidden_dims") != std::string::npos);
    CHECK(testing::SavedLearner(*other) == before);
  }
}

TEST_CASE("mlp describe names its layers, sizes, activations and optimizer", "[neural][describe]") {
  auto l = MakeMlp("mlp_regressor", {{"hidden_dims", "[16, 8]"}, {"activation", "tanh"}, {"optimizer", "adam"}});
  for (int i = 0; i < 20; ++i) l->learn(Dense({1.0 * i, 2.0, -1.0 * i}), i);
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  l->describe(w, [](size_t i) { return "f" + std::to_string(i); }, 5);
  w.end_object();
  INFO(out);
  CHECK(out.find(R"("type":"mlp_regressor")") != std::string::npos);
  CHECK(out.find(R"("hidden_dims":"[16, 8]")") != std::string::npos);
  CHECK(out.find(R"("activation":"tanh")") != std::string::npos);
  CHECK(out.find(R"("optimizer":"adam")") != std::string::npos);
  CHECK(out.find(R"("layers":[{"inputs":3,"outputs":16,"activation":"tanh"},{"inputs":16,"outputs":8,"activation":"tanh"},{"inputs":8,"outputs":1,"activation":"identity"}])") != std::string::npos);
  CHECK(out.find(R"("feature":"f2")") != std::string::npos);
  CHECK(out.find(R"("sparse_features":"ignored")") != std::string::npos);
  CHECK(out.find(R"("adam_steps":20)") != std::string::npos);
  // Memory: three weight matrices and adam's two moments of each, at least.
  CHECK(l->memory_bytes() > 3 * sizeof(double) * (3 * 16 + 16 * 8 + 8));
}

TEST_CASE("mlp keys are checked by name, hidden_dims reads as a list", "[neural][factory]") {
  REQUIRE(neural::RegisterNeuralLearners().ok());
  CHECK(*learn::TaskOfLearnerType("mlp") == learn::LearnerTask::kBinary);
  CHECK(*learn::TaskOfLearnerType("mlp_multiclass") == learn::LearnerTask::kMulticlass);
  CHECK(*learn::TaskOfLearnerType("mlp_regressor") == learn::LearnerTask::kRegression);
  std::vector<uint32_t> dims;
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::vector<uint32_t>>>{
           {"5", {5}}, {"[5]", {5}}, {"[16, 8]", {16, 8}}, {"16,8", {16, 8}}, {" (3 , 2) ", {3, 2}}}) {
    INFO(text);
    REQUIRE(neural::ParseHiddenDims(text, &dims).ok());
    CHECK(dims == expected);
  }
  for (const char* bad : {"", "[]", "0", "[16, 8, 4]", "[513]", "a", "[16,]", "1.5"}) {
    INFO(bad);
    CHECK_FALSE(neural::ParseHiddenDims(bad, &dims).ok());
  }
  auto bad = learn::MakeLearner("mlp", {{"hidden_dims", "[16, 8, 4]"}}, "model.");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("model.hidden_dims: ", 0) == 0);
  auto act = learn::MakeLearner("mlp", {{"activation", "softplus"}}, "model.");
  CHECK(act.status().message().find("model.activation") != std::string::npos);
  auto foreign = learn::MakeLearner("mlp", {{"output_activation", "relu"}}, "model.");
  CHECK(foreign.status().message().find("unknown key for mlp") != std::string::npos);
  CHECK(learn::MakeLearner("mlp", {{"learning_rate", "0.005"}, {"l2", "0"}, {"hash_bits", "18"}}).ok());
  CHECK(neural::CheckMlpSetting("hidden_dims", "[16, 8]").ok());
  CHECK_FALSE(neural::CheckMlpSetting("hidden_dims", "[0]").ok());
  CHECK_FALSE(neural::CheckMlpSetting("clip_gradient", "0").ok());
  CHECK_FALSE(neural::CheckMlpSetting("seed", "-1").ok());
  CHECK(neural::CheckMlpSetting("grace_period", "200").ok());  // another family's: judged later
}

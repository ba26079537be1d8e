#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "oracle/logistic_regression.hpp"
#include "streamlearn/learn/linear_model.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;
using namespace streamlearn::learn;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Uniform [0, 1) from the top 53 bits: the same numbers on every standard library.
struct Uniform {
  std::mt19937_64 engine;
  explicit Uniform(uint64_t seed) : engine(seed) {}
  double operator()() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }
  // Box-Muller, one value per call (the second is dropped: simple and deterministic).
  double gaussian() {
    const double u1 = 1.0 - (*this)();
    const double u2 = (*this)();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
};

void SetDense(FeatureVector& x, std::initializer_list<double> values) {
  x.clear();
  for (double v : values) {
    x.dense.push_back(v);
    x.present.push_back(1);
  }
}

bool SameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

template <typename Model>
std::string Save(const Model& model) {
  std::string bytes;
  ByteWriter w(&bytes);
  model.save(w);
  return bytes;
}

bool AllFinite(const LinearModel& model) {
  for (uint32_t k = 0; k < model.outputs(); ++k) {
    for (double w : model.dense_weights(k)) {
      if (!std::isfinite(w)) return false;
    }
    if (!std::isfinite(model.bias(k))) return false;
    for (const SparseWeight& s : model.sparse_weights(k)) {
      if (!std::isfinite(s.weight)) return false;
    }
  }
  return true;
}

LinearModelConfig Config(Loss loss, Optimizer optimizer, double learning_rate = 0.05) {
  LinearModelConfig c;
  c.loss = loss;
  c.optimizer = optimizer;
  c.learning_rate = learning_rate;
  return c;
}

// The optimizers (and SGD schedules) every "known optimum" test runs through.
struct OptimizerCase {
  const char* name;
  Optimizer optimizer;
  Schedule schedule;
  double learning_rate;
};

// y = 2 x1 - 3 x2 + 1 + N(0, 0.1^2), x1, x2 ~ U[0, 10); optionally 5% of labels get +1000.
struct RegressionStream {
  Uniform uniform;
  double outlier_rate;
  RegressionStream(uint64_t seed, double outliers) : uniform(seed), outlier_rate(outliers) {}
  double next(FeatureVector& x) {
    const double x1 = 10 * uniform(), x2 = 10 * uniform();
    SetDense(x, {x1, x2});
    double y = 2 * x1 - 3 * x2 + 1 + 0.1 * uniform.gaussian();
    if (uniform() < outlier_rate) y += 1000;
    return y;
  }
};

struct Fit {
  double w1, w2, b;
};

Fit TrainRegression(LinearModel& model, RegressionStream& stream, int events) {
  FeatureVector x;
  for (int i = 0; i < events; ++i) model.learn(x, stream.next(x));
  const std::vector<double> w = model.weights_in_input_units();
  return {w.at(0), w.at(1), model.bias_in_input_units()};
}

// A separable binary concept on features of very different scales (only standardisation
// makes one step size fit them all), plus an informative categorical in the sparse block.
struct SeparableStream {
  Uniform uniform;
  explicit SeparableStream(uint64_t seed) : uniform(seed) {}
  int next(FeatureVector& x) {
    const double u1 = uniform(), u2 = uniform(), u3 = uniform();
    SetDense(x, {1000 * u1, 0.001 * u2 - 5, 50 * u3 + 1e4});
    const uint32_t colour = static_cast<uint32_t>(uniform() * 8);
    x.sparse_index = {colour, 100 + static_cast<uint32_t>(uniform() * 50)};
    x.sparse_value = {1.0f, 1.0f};
    return 2 * u1 - u2 + 0.5 * u3 + (colour < 4 ? 0.2 : -0.2) > 1 ? 1 : 0;
  }
};

template <typename Stream>
double PrequentialAccuracyLastHalf(LinearModel& model, Stream& stream, int events) {
  FeatureVector x;
  Prediction p;
  int correct = 0;
  for (int i = 0; i < events; ++i) {
    const int label = stream.next(x);
    model.predict(x, p);
    if (i >= events / 2) correct += p.class_index == label;
    model.learn(x, label);
  }
  return static_cast<double>(correct) / (events - events / 2);
}

// Three Gaussian blobs (sd 1) around well separated centres, in two dense features.
struct BlobStream {
  Uniform uniform;
  explicit BlobStream(uint64_t seed) : uniform(seed) {}
  int next(FeatureVector& x) {
    static constexpr double kCentres[3][2] = {{0, 0}, {6, 6}, {-6, 6}};
    const int label = static_cast<int>(uniform() * 3);
    SetDense(x, {kCentres[label][0] + uniform.gaussian(), kCentres[label][1] + uniform.gaussian()});
    return label;
  }
};

// MOA's SEA: x1..x3 in [0, 10), label x1 + x2 <= theta, theta cycling 8, 9, 7, 9.5 every
// 5000 events, 10% label noise; plus an entity one-hot and a second categorical in the
// sparse block (hashed into few buckets: collisions and repeated buckets), 3% missing x3,
// and a few bad events (non-finite inputs, labels out of range).
struct SeaStream {
  Uniform uniform;
  int i = 0;
  explicit SeaStream(uint64_t seed) : uniform(seed) {}
  double next(FeatureVector& x) {
    static constexpr double kTheta[] = {8, 9, 7, 9.5};
    const double x1 = 10 * uniform(), x2 = 10 * uniform(), x3 = 10 * uniform();
    SetDense(x, {x1, x2, x3});
    if (uniform() < 0.03) x.present[2] = 0;
    const uint32_t entity = static_cast<uint32_t>(uniform() * 1000);
    x.sparse_index = {entity * 2654435761u, 7 + (entity % 5), entity % 3 == 0 ? 7u : 9u};
    x.sparse_value = {1.0f, 1.0f, 0.5f};
    double label = x1 + x2 <= kTheta[(i / 5000) % 4] ? 1 : 0;
    if (uniform() < 0.1) label = 1 - label;
    if (entity % 7 == 0) label = 1;  // some entities always buy
    if (i % 997 == 5) x.dense[0] = kNaN;
    if (i % 1999 == 11) label = 2;
    ++i;
    return label;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------

TEST_CASE("linear model: log/sgd/constant is bit-identical to LogisticRegression on a SEA stream", "[learn][linear]") {
  struct Setting {
    double learning_rate, l2;
    uint32_t hash_bits;
  };
  // The second setting decays the sparse block by half per step: its shared scale is
  // folded into the weights every ~210 steps, at the same moments in both models.
  for (const Setting s : {Setting{0.05, 1e-3, 10}, Setting{0.5, 1.0, 6}, Setting{0.01, 0.0, 18}}) {
    INFO("learning_rate " << s.learning_rate << ", l2 " << s.l2 << ", hash_bits " << s.hash_bits);
    LogisticConfig lc;
    lc.learning_rate = s.learning_rate;
    lc.l2 = s.l2;
    lc.hash_bits = s.hash_bits;
    LinearModelConfig mc;
    mc.learning_rate = s.learning_rate;
    mc.l2 = s.l2;
    mc.hash_bits = s.hash_bits;
    LogisticRegression reference(lc);
    LinearModel model(mc);
    SeaStream stream(42);
    FeatureVector x;
    Prediction p;
    uint64_t mismatches = 0;
    for (int i = 0; i < 20'000; ++i) {
      const double label = stream.next(x);
      const double expected = reference.predict_proba(x);
      model.predict(x, p);
      mismatches += !SameBits(p.score, expected) || !SameBits(model.predict_score(x), expected);
      reference.learn(x, label);
      model.learn(x, label);
    }
    CHECK(mismatches == 0);
    CHECK(model.trained() == reference.trained());
    CHECK(model.guarded_updates() == reference.guarded_updates());
    CHECK(model.guarded_updates() > 10);  // the bad events were there, and skipped by both
    REQUIRE(model.dense_size() == reference.dense_size());
    const std::vector<double> expected_weights = reference.dense_weights();
    for (size_t j = 0; j < expected_weights.size(); ++j) CHECK(SameBits(model.dense_weights()[j], expected_weights[j]));
    CHECK(SameBits(model.bias(), reference.bias()));
    uint64_t sparse_mismatches = 0, non_zero = 0;
    for (uint32_t bucket = 0; bucket < (1u << s.hash_bits); ++bucket) {
      sparse_mismatches += !SameBits(model.sparse_weight(bucket), reference.sparse_weight(bucket));
      non_zero += reference.sparse_weight(bucket) != 0;
    }
    CHECK(sparse_mismatches == 0);
    CHECK(non_zero > 5);
  }
}

TEST_CASE("linear model: squared loss recovers y = 2 x1 - 3 x2 + 1 with every optimizer", "[learn][linear]") {
  const OptimizerCase cases[] = {
      {"sgd constant", Optimizer::kSgd, Schedule::kConstant, 0.01},
      {"sgd invscaling", Optimizer::kSgd, Schedule::kInvscaling, 0.05},
      {"adagrad", Optimizer::kAdagrad, Schedule::kConstant, 1.0},
      {"adam", Optimizer::kAdam, Schedule::kConstant, 0.02},
      {"ftrl", Optimizer::kFtrl, Schedule::kConstant, 0.05},
  };
  for (const OptimizerCase& oc : cases) {
    for (const bool standardize : {true, false}) {
      LinearModelConfig c = Config(Loss::kSquared, oc.optimizer, oc.learning_rate);
      c.schedule = oc.schedule;
      c.standardize = standardize;
      c.ftrl_alpha = standardize ? 1.0 : 0.5;
      // Raw inputs in [0, 10) with mean 5: E[x x'] has eigenvalues up to ~63, so a plain
      // step must stay below 2 / 63 and the bias (eigenvalue ~0.2) converges slowly.
      if (!standardize && oc.optimizer == Optimizer::kSgd) c.learning_rate = 0.005;
      REQUIRE(c.validate().ok());
      LinearModel model(c);
      RegressionStream stream(1, 0.0);
      const Fit fit = TrainRegression(model, stream, 40'000);
      std::printf("squared, %-15s standardize=%d: w = (%.4f, %.4f), b = %.4f\n", oc.name, standardize, fit.w1, fit.w2,
                  fit.b);
      INFO(oc.name << ", standardize " << standardize);
      CHECK(fit.w1 == Approx(2).margin(0.02));
      CHECK(fit.w2 == Approx(-3).margin(0.02));
      CHECK(fit.b == Approx(1).margin(0.15));
      CHECK(model.guarded_updates() == 0);
    }
  }
}

TEST_CASE("linear model: the optimal schedule converges on regression too", "[learn][linear]") {
  // scikit-learn's optimal schedule is 1 / (alpha (t0 + t - 1)): a 1/t average once t >> t0.
  LinearModelConfig c = Config(Loss::kSquared, Optimizer::kSgd);
  c.schedule = Schedule::kOptimal;
  c.alpha = 1.0;  // first step 1: stable on ~unit-variance inputs
  LinearModel model(c);
  RegressionStream stream(2, 0.0);
  const Fit fit = TrainRegression(model, stream, 40'000);
  CHECK(fit.w1 == Approx(2).margin(0.02));
  CHECK(fit.w2 == Approx(-3).margin(0.02));
  CHECK(fit.b == Approx(1).margin(0.15));
}

TEST_CASE("linear model: the normalized schedule never overshoots, whatever the learning rate", "[learn][linear]") {
  // eta = learning_rate / (1 + learning_rate (1 + |z|^2)): for the squared loss the residual
  // after a step is the one before times 1 / (1 + learning_rate (1 + |z|^2)), same sign.
  for (const double rate : {0.01, 1.0, 1e6}) {
    INFO("learning_rate " << rate);
    LinearModelConfig c = Config(Loss::kSquared, Optimizer::kSgd);
    c.schedule = Schedule::kNormalized;
    c.learning_rate = rate;
    c.standardize = false;  // z = x: the residual's factor is exact
    LinearModel model(c);
    FeatureVector x;
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(-5, 5);
    for (int i = 0; i < 2000; ++i) {
      SetDense(x, {u(rng), u(rng), 100 * u(rng)});
      const double y = 2 * x.dense[0] - 3 * x.dense[1] + 0.5 * x.dense[2] + 1;
      const double before = model.predict(x).score - y;
      model.learn(x, y);
      const double after = model.predict(x).score - y;
      double norm2 = 1;
      for (double v : x.dense) norm2 += v * v;
      REQUIRE(std::abs(after) <= std::abs(before) + 1e-9 * (1 + std::abs(y)));
      REQUIRE(after * before >= 0);
      CHECK(after == Approx(before / (1 + rate * norm2)).margin(1e-6 * (1 + std::abs(y))));
    }
    CHECK(model.guarded_updates() == 0);
  }
  CHECK(ParseLinearModelConfig({{"schedule", "normalized"}})->schedule == Schedule::kNormalized);
  CHECK(ToString(Schedule::kNormalized) == "normalized");
}

TEST_CASE("linear model: log loss on a separable stream: > 99% with every optimizer", "[learn][linear]") {
  const OptimizerCase cases[] = {
      {"sgd constant", Optimizer::kSgd, Schedule::kConstant, 0.05},
      {"sgd invscaling", Optimizer::kSgd, Schedule::kInvscaling, 0.5},
      {"sgd optimal", Optimizer::kSgd, Schedule::kOptimal, 0.05},
      {"adagrad", Optimizer::kAdagrad, Schedule::kConstant, 0.5},
      {"adam", Optimizer::kAdam, Schedule::kConstant, 0.05},
      {"ftrl", Optimizer::kFtrl, Schedule::kConstant, 0.05},
  };
  for (const OptimizerCase& oc : cases) {
    LinearModelConfig c = Config(Loss::kLog, oc.optimizer, oc.learning_rate);
    c.schedule = oc.schedule;
    c.ftrl_alpha = 1.0;
    LinearModel model(c);
    SeparableStream stream(7);
    const double accuracy = PrequentialAccuracyLastHalf(model, stream, 50'000);
    std::printf("log, %-15s: prequential accuracy over the last half %.4f\n", oc.name, accuracy);
    INFO(oc.name);
    CHECK(accuracy > 0.99);
    CHECK(model.guarded_updates() == 0);
    const auto w = model.dense_weights();
    CHECK(w[0] > 0);  // the generator's direction (2, -1, 0.5)
    CHECK(w[1] < 0);
    CHECK(w[2] > 0);
    CHECK(model.sparse_weight(0) > model.sparse_weight(7));  // colours 0-3 push towards 1
  }
}

TEST_CASE("linear model: hinge on a separable stream: > 97% with every optimizer", "[learn][linear]") {
  const OptimizerCase cases[] = {
      {"sgd constant", Optimizer::kSgd, Schedule::kConstant, 0.01},
      {"sgd optimal", Optimizer::kSgd, Schedule::kOptimal, 0.01},
      {"adagrad", Optimizer::kAdagrad, Schedule::kConstant, 0.5},
      {"adam", Optimizer::kAdam, Schedule::kConstant, 0.02},
      {"ftrl", Optimizer::kFtrl, Schedule::kConstant, 0.05},
  };
  for (const OptimizerCase& oc : cases) {
    LinearModelConfig c = Config(Loss::kHinge, oc.optimizer, oc.learning_rate);
    c.schedule = oc.schedule;
    c.ftrl_alpha = 1.0;
    LinearModel model(c);
    SeparableStream stream(9);
    const double accuracy = PrequentialAccuracyLastHalf(model, stream, 50'000);
    std::printf("hinge, %-15s: prequential accuracy over the last half %.4f\n", oc.name, accuracy);
    INFO(oc.name);
    CHECK(accuracy > 0.97);
    // The score is the margin: its sign is the class.
    FeatureVector x;
    SetDense(x, {900, -5, 1e4 + 40});
    const Prediction p = model.predict(x);
    CHECK(p.score > 0);
    CHECK(p.class_index == 1);
    CHECK(p.probabilities.empty());
  }
}

TEST_CASE("linear model: softmax on three Gaussian blobs: > 95% with every optimizer", "[learn][linear]") {
  const OptimizerCase cases[] = {
      {"sgd constant", Optimizer::kSgd, Schedule::kConstant, 0.05},
      {"sgd optimal", Optimizer::kSgd, Schedule::kOptimal, 0.05},
      {"adagrad", Optimizer::kAdagrad, Schedule::kConstant, 0.5},
      {"adam", Optimizer::kAdam, Schedule::kConstant, 0.05},
      {"ftrl", Optimizer::kFtrl, Schedule::kConstant, 0.05},
  };
  for (const OptimizerCase& oc : cases) {
    for (const uint32_t classes : {0u, 3u}) {
      LinearModelConfig c = Config(Loss::kSoftmax, oc.optimizer, oc.learning_rate);
      c.schedule = oc.schedule;
      c.classes = classes;
      c.ftrl_alpha = 1.0;
      LinearModel model(c);
      CHECK(model.classes() == classes);
      BlobStream stream(3);
      FeatureVector x;
      Prediction p;
      int correct = 0;
      constexpr int kEvents = 20'000;
      for (int i = 0; i < kEvents; ++i) {
        const int label = stream.next(x);
        model.predict(x, p);
        correct += p.class_index == label;
        REQUIRE(p.probabilities.size() == model.classes());
        model.learn(x, label);
      }
      const double accuracy = static_cast<double>(correct) / kEvents;
      std::printf("softmax, %-15s classes=%u: prequential accuracy %.4f\n", oc.name, classes, accuracy);
      INFO(oc.name << ", classes " << classes);
      CHECK(accuracy > 0.95);
      CHECK(model.classes() == 3);
      // Probabilities: a distribution, and confident at a centre.
      SetDense(x, {6, 6});
      model.predict(x, p);
      CHECK(p.class_index == 1);
      CHECK(p.probabilities[0] + p.probabilities[1] + p.probabilities[2] == Approx(1).epsilon(1e-12));
      CHECK(p.score == p.probabilities[1]);
      CHECK(p.score > 0.9);
      CHECK(model.predict_score(x) == p.score);
    }
  }
}

TEST_CASE("linear model: softmax classes grow as labels appear, fixed classes guard others", "[learn][linear]") {
  LinearModel growing(Config(Loss::kSoftmax, Optimizer::kSgd));
  FeatureVector x;
  SetDense(x, {1.0});
  x.sparse_index = {3};
  x.sparse_value = {1.0f};
  Prediction p = growing.predict(x);
  CHECK(p.class_index == -1);  // no class known yet
  CHECK(p.probabilities.empty());
  growing.learn(x, 0);
  CHECK(growing.classes() == 1);
  CHECK(growing.predict(x).class_index == 0);
  const double w_class0 = growing.sparse_weight(3, 0);
  growing.learn(x, 4);  // classes 1..3 appear with it, at weight 0
  CHECK(growing.classes() == 5);
  CHECK(growing.sparse_weight(3, 0) != w_class0);  // the step on class 4 also moved class 0 down
  CHECK(growing.sparse_weight(3, 4) > 0);
  CHECK(growing.sparse_weight(3, 2) < 0);
  growing.learn(x, 2.5);                  // not a class index
  growing.learn(x, -1);
  growing.learn(x, kMaxSoftmaxClasses);  // beyond the cap
  CHECK(growing.guarded_updates() == 3);

  LinearModelConfig fixed_config = Config(Loss::kSoftmax, Optimizer::kAdam);
  fixed_config.classes = 3;
  LinearModel fixed(fixed_config);
  CHECK(fixed.classes() == 3);
  p = fixed.predict(x);
  REQUIRE(p.probabilities.size() == 3);
  CHECK(p.probabilities[0] == Approx(1.0 / 3));
  fixed.learn(x, 3);
  CHECK(fixed.guarded_updates() == 1);
  fixed.learn(x, 2);
  CHECK(fixed.trained() == 1);
}

TEST_CASE("linear model: huber stays close with 5% huge outliers while squared moves", "[learn][linear]") {
  const auto train = [](Loss loss) {
    LinearModelConfig c = Config(loss, Optimizer::kSgd, 0.01);
    c.schedule = Schedule::kInvscaling;
    c.power_t = 0.25;
    c.huber_epsilon = 1.0;
    LinearModel model(c);
    RegressionStream stream(5, 0.05);
    return TrainRegression(model, stream, 50'000);
  };
  const Fit huber = train(Loss::kHuber);
  const Fit squared = train(Loss::kSquared);
  std::printf("5%% outliers of +1000: huber w = (%.3f, %.3f) b = %.3f; squared w = (%.3f, %.3f) b = %.3f\n", huber.w1,
              huber.w2, huber.b, squared.w1, squared.w2, squared.b);
  CHECK(huber.w1 == Approx(2).margin(0.05));
  CHECK(huber.w2 == Approx(-3).margin(0.05));
  CHECK(huber.b == Approx(1).margin(0.3));
  // Squared loss chases the mean: the outliers lift its intercept by ~0.05 * 1000.
  CHECK(squared.b - 1 > 20);
  const double huber_error = std::abs(huber.w1 - 2) + std::abs(huber.w2 + 3) + std::abs(huber.b - 1);
  const double squared_error = std::abs(squared.w1 - 2) + std::abs(squared.w2 + 3) + std::abs(squared.b - 1);
  CHECK(squared_error > 50 * huber_error);
}

TEST_CASE("linear model: L1 drives irrelevant weights to exactly 0", "[learn][linear]") {
  // Regression on 2 relevant and 6 irrelevant dense features, and 20 irrelevant buckets.
  const auto run = [](LinearModelConfig c) {
    LinearModel model(c);
    Uniform uniform(13);
    FeatureVector x;
    for (int i = 0; i < 30'000; ++i) {
      x.clear();
      const double a = uniform(), b = uniform();
      SetDense(x, {a, b});
      for (int j = 0; j < 6; ++j) x.set_dense(2 + j, uniform());
      x.sparse_index = {static_cast<uint32_t>(uniform() * 20)};
      x.sparse_value = {1.0f};
      model.learn(x, 4 * a - 6 * b + 0.05 * uniform.gaussian());
    }
    return model;
  };
  struct L1Case {
    const char* name;
    Optimizer optimizer;
    double learning_rate, l1;
    double shrink;  // expected shrinkage of the relevant weights, in input units
  };
  // SGD, AdaGrad, Adam: the lasso solution shrinks a standardised weight by l1, i.e. an
  // input-unit weight by l1 / std(U[0, 1)) = l1 sqrt(12). FTRL's l1 applies to the gradient
  // sum, so its per-event shrinkage fades.
  const double root12 = std::sqrt(12.0);
  for (const L1Case& lc : {L1Case{"sgd", Optimizer::kSgd, 0.01, 0.3, 0.3 * root12},
                           L1Case{"ftrl", Optimizer::kFtrl, 0.05, 30, 0.0},
                           L1Case{"adagrad", Optimizer::kAdagrad, 0.5, 0.3, 0.3 * root12},
                           L1Case{"adam", Optimizer::kAdam, 0.01, 0.3, 0.3 * root12}}) {
    INFO(lc.name);
    LinearModelConfig c = Config(Loss::kSquared, lc.optimizer, lc.learning_rate);
    c.ftrl_alpha = 0.5;
    const LinearModel dense_model = run(c);
    c.l1 = lc.l1;
    const LinearModel sparse_model = run(c);
    int zero_without = 0, zero_with = 0;
    double sum_with = 0, sum_without = 0;  // of |w| over the irrelevant dense weights
    for (size_t j = 2; j < 8; ++j) {
      zero_without += dense_model.dense_weights()[j] == 0.0;
      zero_with += sparse_model.dense_weights()[j] == 0.0;
      sum_with += std::abs(sparse_model.dense_weights()[j]);
      sum_without += std::abs(dense_model.dense_weights()[j]);
    }
    int sparse_zero_without = 0, sparse_zero_with = 0;
    for (uint32_t bucket = 0; bucket < 20; ++bucket) {
      sparse_zero_without += dense_model.sparse_weight(bucket) == 0.0;
      sparse_zero_with += sparse_model.sparse_weight(bucket) == 0.0;
    }
    const std::vector<double> relevant = sparse_model.weights_in_input_units();
    std::printf("L1 %-8s: irrelevant dense weights at exactly 0: %d/6 (without L1 %d/6), sum |w| %.2e "
                "(without L1 %.2e); buckets %d/20 (%d/20); relevant (%.3f, %.3f)\n",
                lc.name, zero_with, zero_without, sum_with, sum_without, sparse_zero_with,
                sparse_zero_without, relevant[0], relevant[1]);
    CHECK(zero_without == 0);
    CHECK(sparse_zero_without == 0);
    if (lc.optimizer == Optimizer::kAdagrad) {
      // Proximal AdaGrad's threshold lr l1 / sqrt(G) is the size of one step: a residual
      // larger than l1 (the lasso's shrinkage makes them common) kicks a weight off 0 for a
      // step or two, so only part of the irrelevant weights sit at 0 at any moment. Without
      // L1 none ever does.
      CHECK(zero_with >= 2);
      CHECK(sparse_zero_with >= 5);
    } else {
      CHECK(zero_with == 6);
      CHECK(sparse_zero_with == 20);
    }
    // The relevant ones survive, shrunk as the lasso shrinks them.
    CHECK(relevant[0] == Approx(4 - lc.shrink).margin(0.1));
    CHECK(relevant[1] == Approx(-6 + lc.shrink).margin(0.1));
  }
}

TEST_CASE("linear model: invscaling and optimal step sizes are scikit-learn's", "[learn][linear]") {
  LinearModelConfig c;
  c.schedule = Schedule::kInvscaling;
  c.learning_rate = 0.01;
  c.power_t = 0.25;
  CHECK(SgdLearningRate(c, 1) == 0.01);
  CHECK(SgdLearningRate(c, 16) == Approx(0.005).epsilon(1e-15));
  CHECK(SgdLearningRate(c, 10'000) == Approx(0.001).epsilon(1e-15));
  c.power_t = 0.5;
  CHECK(SgdLearningRate(c, 400) == Approx(0.0005).epsilon(1e-15));

  // optimal, alpha = 1e-4: typw = sqrt(1 / sqrt(1e-4)) = 10 = eta0, t0 = 1 / (10 * 1e-4) = 1000,
  // eta(t) = 1 / (1e-4 (1000 + t - 1)).
  c.schedule = Schedule::kOptimal;
  c.alpha = 1e-4;
  for (const Loss loss : {Loss::kLog, Loss::kHinge, Loss::kSquared, Loss::kHuber, Loss::kSoftmax}) {
    c.loss = loss;
    CHECK(SgdLearningRate(c, 1) == Approx(10).epsilon(1e-14));
    CHECK(SgdLearningRate(c, 1001) == Approx(5).epsilon(1e-14));
    CHECK(SgdLearningRate(c, 9001) == Approx(1).epsilon(1e-14));
  }
  c.alpha = 0.01;  // typw = sqrt(10)
  CHECK(SgdLearningRate(c, 1) == Approx(std::sqrt(10.0)).epsilon(1e-14));
  CHECK(SgdLearningRate(c, 101) == Approx(1 / (0.01 * (100 / std::sqrt(10.0) + 100))).epsilon(1e-14));

  // The model steps with exactly these sizes: on squared loss with no inputs, the bias
  // moves by eta(t) * (y - bias).
  c.loss = Loss::kSquared;
  c.schedule = Schedule::kInvscaling;
  c.learning_rate = 0.1;
  LinearModel model(c);
  FeatureVector empty;
  double expected_bias = 0;
  for (uint64_t t = 1; t <= 50; ++t) {
    expected_bias -= SgdLearningRate(c, t) * (expected_bias - 1.0);
    model.learn(empty, 1.0);
    REQUIRE(SameBits(model.bias(), expected_bias));
  }
  CHECK(model.optimizer_steps() == 50);
  model.reset_weights();  // the schedule restarts
  model.learn(empty, 1.0);
  CHECK(model.bias() == 0.1);
}

TEST_CASE("linear model: huge labels and step sizes never make a weight non-finite", "[learn][linear]") {
  const Optimizer optimizers[] = {Optimizer::kSgd, Optimizer::kAdagrad, Optimizer::kAdam, Optimizer::kFtrl};
  for (const Optimizer optimizer : optimizers) {
    INFO(ToString(optimizer));
    // A label beyond 1e100 (whose square would overflow) is refused outright.
    LinearModel model(Config(Loss::kSquared, optimizer));
    RegressionStream stream(3, 0.0);
    FeatureVector x;
    for (int i = 0; i < 1000; ++i) model.learn(x, stream.next(x));
    const std::string before = Save(model);
    const uint64_t guarded = model.guarded_updates();
    for (double bad : {1e300, -1e300, kInf, kNaN, 1e101}) model.learn(x, bad);
    CHECK(model.guarded_updates() == guarded + 5);
    model.learn(x, 1e99);  // huge but usable: taken, and the weights stay finite
    CHECK(AllFinite(model));

    // A step size of 1e10 blows any plain step up: such steps are rolled back and counted.
    LinearModelConfig wild = Config(Loss::kSquared, optimizer, 1e10);
    wild.ftrl_alpha = 1e10;
    wild.standardize = false;
    LinearModel exploding(wild);
    Prediction p;
    for (int i = 0; i < 5000; ++i) {
      const double y = stream.next(x);
      exploding.predict(x, p);
      REQUIRE(std::isfinite(p.score));
      exploding.learn(x, y);
      REQUIRE(AllFinite(exploding));
    }
    CHECK(exploding.trained() + exploding.guarded_updates() == 5000);
    if (optimizer == Optimizer::kSgd) CHECK(exploding.guarded_updates() > 100);

    // Bad inputs: skipped, counted, the model unchanged.
    const std::string state = Save(exploding);
    const uint64_t g = exploding.guarded_updates();
    SetDense(x, {1, kNaN});
    exploding.learn(x, 1);
    SetDense(x, {kInf, 1});
    exploding.learn(x, 1);
    SetDense(x, {1, 2});
    x.sparse_index = {1};
    x.sparse_value = {std::numeric_limits<float>::infinity()};
    exploding.learn(x, 1);
    CHECK(exploding.guarded_updates() == g + 3);
    LinearModel probe(wild);
    ByteReader reader(state);
    REQUIRE(probe.load(reader).ok());
    // Everything but the guarded counter is as before.
    CHECK(probe.trained() == exploding.trained());
    CHECK(probe.guarded_updates() + 3 == exploding.guarded_updates());
  }
}

TEST_CASE("linear model: a rolled-back SGD step restores a bucket listed twice in the event", "[learn][linear]") {
  // One output, no L1: each sparse entry is backed up, stepped and checked in one pass, so
  // the second listing of bucket 5 is backed up with the first step in it; the restore, in
  // reverse order, must still end on the value from before the event.
  LinearModelConfig wild = Config(Loss::kSquared, Optimizer::kSgd, 1e10);
  wild.standardize = false;
  wild.l2 = 0;
  LinearModel model(wild);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> value(-3e30f, 3e30f);
  FeatureVector x;
  uint64_t rolled_back = 0, taken = 0;
  for (int i = 0; i < 3000; ++i) {
    x.clear();
    x.sparse_index = {5, 9, 5};
    x.sparse_value = {value(rng), value(rng), value(rng)};
    const double w5 = model.sparse_weight(5), w9 = model.sparse_weight(9), bias = model.bias();
    const uint64_t guarded = model.guarded_updates();
    model.learn(x, i % 2 == 0 ? 1e90 : -1e90);
    REQUIRE(AllFinite(model));
    if (model.guarded_updates() == guarded) {
      ++taken;
      continue;
    }
    ++rolled_back;
    CHECK(SameBits(model.sparse_weight(5), w5));
    CHECK(SameBits(model.sparse_weight(9), w9));
    CHECK(SameBits(model.bias(), bias));
  }
  CHECK(rolled_back > 0);
  CHECK(taken > 0);
}

TEST_CASE("linear model: save and load mid-stream continue bit-identically, every loss and optimizer", "[learn][linear]") {
  const Loss losses[] = {Loss::kLog, Loss::kSoftmax, Loss::kSquared, Loss::kHuber, Loss::kHinge};
  const OptimizerCase optimizers[] = {
      {"sgd constant", Optimizer::kSgd, Schedule::kConstant, 0.05},
      {"sgd invscaling", Optimizer::kSgd, Schedule::kInvscaling, 0.05},
      {"sgd optimal", Optimizer::kSgd, Schedule::kOptimal, 0.05},
      {"adagrad", Optimizer::kAdagrad, Schedule::kConstant, 0.1},
      {"adam", Optimizer::kAdam, Schedule::kConstant, 0.01},
      {"ftrl", Optimizer::kFtrl, Schedule::kConstant, 0.05},
  };
  for (const Loss loss : losses) {
    for (const OptimizerCase& oc : optimizers) {
      for (const double l1 : {0.0, 1e-3}) {
        INFO(ToString(loss) << ", " << oc.name << ", l1 " << l1);
        LinearModelConfig c = Config(loss, oc.optimizer, oc.learning_rate);
        c.schedule = oc.schedule;
        c.l1 = l1;
        c.l2 = 1e-3;
        c.alpha = 0.01;
        c.hash_bits = 12;
        REQUIRE(c.validate().ok());
        LinearModel original(c);
        SeaStream stream(21);
        FeatureVector x;
        // Softmax sees labels 0..2 (the SEA label plus a third class).
        const auto label_for = [&](double y, int i) {
          if (loss == Loss::kSoftmax && y <= 1 && i % 5 == 0) return 2.0;
          if (loss == Loss::kSquared || loss == Loss::kHuber) return y <= 1 ? 3 * y - x.dense[1] : y;
          return y;
        };
        for (int i = 0; i < 3000; ++i) {
          const double y = stream.next(x);
          original.learn(x, label_for(y, i));
        }
        const std::string bytes = Save(original);
        LinearModel restored(c);
        ByteReader reader(bytes);
        REQUIRE(restored.load(reader).ok());
        CHECK(reader.at_end());
        CHECK(Save(restored) == bytes);
        ByteReader again(bytes);
        Result<LinearModel> adopted = LinearModel::Restore(again);
        REQUIRE(adopted.ok());
        CHECK(Save(*adopted) == bytes);

        Prediction a, b, d;
        uint64_t mismatches = 0;
        for (int i = 3000; i < 6000; ++i) {
          const double y = label_for(stream.next(x), i);
          original.predict(x, a);
          restored.predict(x, b);
          adopted->predict(x, d);
          mismatches += !SameBits(a.score, b.score) || !SameBits(a.score, d.score) || a.class_index != b.class_index;
          original.learn(x, y);
          restored.learn(x, y);
          adopted->learn(x, y);
        }
        CHECK(mismatches == 0);
        CHECK(Save(restored) == Save(original));
        CHECK(Save(*adopted) == Save(original));
        CHECK(original.trained() > 5000);
      }
    }
  }
}

TEST_CASE("linear model: a snapshot of another kind is refused, naming both", "[learn][linear]") {
  LinearModel source(Config(Loss::kLog, Optimizer::kSgd));
  SeaStream stream(4);
  FeatureVector x;
  for (int i = 0; i < 200; ++i) source.learn(x, stream.next(x));
  const std::string bytes = Save(source);

  LinearModel other(Config(Loss::kSoftmax, Optimizer::kAdam));
  other.learn(x, 1);
  const std::string before = Save(other);
  ByteReader reader(bytes);
  const Status st = other.load(reader);
  CHECK(st.code() == ErrorCode::kFailedPrecondition);
  INFO(st.message());
  CHECK(st.message().find("loss=log optimizer=sgd") != std::string::npos);
  CHECK(st.message().find("loss=softmax optimizer=adam") != std::string::npos);
  CHECK(Save(other) == before);

  // Same loss, other optimizer; and other hash_bits.
  LinearModel ftrl(Config(Loss::kLog, Optimizer::kFtrl));
  ByteReader r2(bytes);
  CHECK(ftrl.load(r2).code() == ErrorCode::kFailedPrecondition);
  LinearModelConfig narrow;
  narrow.hash_bits = 10;
  LinearModel narrow_model(narrow);
  ByteReader r3(bytes);
  const Status hb = narrow_model.load(r3);
  CHECK(hb.code() == ErrorCode::kFailedPrecondition);
  CHECK(hb.message().find("hash_bits 18") != std::string::npos);

  // Hyperparameters (rates, L2, L1 on or off) may change across a restart.
  LinearModelConfig tuned;
  tuned.learning_rate = 0.01;
  tuned.l1 = 1e-4;
  LinearModel tuned_model(tuned);
  ByteReader r4(bytes);
  REQUIRE(tuned_model.load(r4).ok());
  CHECK(tuned_model.predict_score(x) == source.predict_score(x));
  tuned_model.learn(x, 1);
  CHECK(AllFinite(tuned_model));

  // A fixed class count must match; a growing softmax takes any.
  LinearModelConfig three = Config(Loss::kSoftmax, Optimizer::kSgd);
  three.classes = 3;
  LinearModel fixed(three);
  fixed.learn(x, 0);
  const std::string three_bytes = Save(fixed);
  LinearModelConfig four = three;
  four.classes = 4;
  LinearModel fixed4(four);
  ByteReader r5(three_bytes);
  CHECK(fixed4.load(r5).code() == ErrorCode::kFailedPrecondition);
  LinearModel growing(Config(Loss::kSoftmax, Optimizer::kSgd));
  ByteReader r6(three_bytes);
  REQUIRE(growing.load(r6).ok());
  CHECK(growing.classes() == 3);
}

TEST_CASE("linear model: corrupt or truncated snapshots are refused and leave the model unchanged", "[learn][linear]") {
  LinearModelConfig c = Config(Loss::kSoftmax, Optimizer::kAdam);
  c.hash_bits = 8;
  LinearModel source(c);
  SeaStream stream(8);
  FeatureVector x;
  for (int i = 0; i < 300; ++i) source.learn(x, stream.next(x));
  const std::string bytes = Save(source);

  LinearModel target(c);
  for (int i = 0; i < 30; ++i) target.learn(x, stream.next(x));
  const std::string before = Save(target);

  for (size_t len = 0; len < bytes.size(); ++len) {
    ByteReader reader(std::string_view(bytes).substr(0, len));
    INFO("truncated to " << len << " of " << bytes.size() << " bytes");
    REQUIRE(target.load(reader).code() == ErrorCode::kCorruption);
  }
  // Every flipped byte is caught by the checksum (or the magic) before anything is decoded.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    ByteReader reader(flipped);
    INFO("byte " << i);
    REQUIRE(target.load(reader).code() == ErrorCode::kCorruption);
  }
  CHECK(Save(target) == before);

  // A future format version is not corruption: a well-formed snapshot this build cannot read.
  std::string future = bytes;
  future[4] = 2;
  const uint64_t checksum = Checksum(std::string_view(future).substr(0, future.size() - 8));
  std::memcpy(future.data() + future.size() - 8, &checksum, 8);
  ByteReader reader(future);
  const Status st = target.load(reader);
  CHECK(st.code() == ErrorCode::kFailedPrecondition);
  CHECK(st.message().find("format version 2") != std::string::npos);
  CHECK(Save(target) == before);
}

TEST_CASE("linear model: config validation and parsing name the key", "[learn][linear]") {
  CHECK(LinearModelConfig{}.validate().ok());
  const auto message = [](auto change) {
    LinearModelConfig c;
    change(c);
    return c.validate("model.").message();
  };
  CHECK(message([](LinearModelConfig& c) { c.beta1 = 1.5; }) == "model.beta1: must be in [0, 1), got 1.5");
  CHECK(message([](LinearModelConfig& c) { c.beta2 = 1; }) == "model.beta2: must be in [0, 1), got 1");
  CHECK(message([](LinearModelConfig& c) { c.learning_rate = 0; }).find("model.learning_rate: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.learning_rate = kNaN; }).find("model.learning_rate: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.l1 = -1; }).find("model.l1: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.l2 = kInf; }).find("model.l2: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.epsilon = 0; }).find("model.epsilon: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.huber_epsilon = -1; }).find("model.huber_epsilon: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.ftrl_alpha = 0; }).find("model.ftrl_alpha: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.ftrl_beta = -1; }).find("model.ftrl_beta: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.power_t = -0.5; }).find("model.power_t: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.alpha = 0; }).find("model.alpha: ") == 0);
  CHECK(message([](LinearModelConfig& c) { c.hash_bits = 30; }) == "model.hash_bits: must be between 4 and 24, got 30");
  CHECK(message([](LinearModelConfig& c) { c.classes = 3; }).find("model.classes: only loss softmax") == 0);
  CHECK(message([](LinearModelConfig& c) {
          c.loss = Loss::kSoftmax;
          c.classes = 1;
        }).find("model.classes: ") == 0);
  CHECK(message([](LinearModelConfig& c) {
          c.optimizer = Optimizer::kAdam;
          c.schedule = Schedule::kOptimal;
        }) == "model.schedule: only optimizer sgd has a schedule (optimizer is adam), got optimal");
  CHECK(message([](LinearModelConfig& c) {
          c.learning_rate = 0.5;
          c.l2 = 2;
        }).find("model.l2: the SGD step size times l2 must be below 1") == 0);
  CHECK(message([](LinearModelConfig& c) { c.loss = static_cast<Loss>(9); }).find("model.loss: must be one of") == 0);
  CHECK(LinearModelConfig{.learning_rate = 0}.validate().message().find("learning_rate: ") == 0);  // no prefix
  CHECK_FALSE(LinearModel::Create(LinearModelConfig{.hash_bits = 2}).ok());

  // Parsing: every key, then validation.
  const std::map<std::string, std::string> values = {
      {"loss", "softmax"},  {"classes", "4"},       {"optimizer", "adam"},  {"learning_rate", "0.01"},
      {"beta1", "0.8"},     {"beta2", "0.99"},      {"epsilon", "1e-6"},    {"l1", "0"},
      {"l2", "1e-4"},       {"hash_bits", "20"},    {"standardize", "false"}, {"huber_epsilon", "1.35"},
      {"power_t", "0.5"},   {"alpha", "0.001"},     {"ftrl_alpha", "0.2"},  {"ftrl_beta", "2"},
      {"schedule", "constant"}};
  Result<LinearModelConfig> parsed = ParseLinearModelConfig(values, "model.");
  REQUIRE(parsed.ok());
  CHECK(parsed->loss == Loss::kSoftmax);
  CHECK(parsed->classes == 4);
  CHECK(parsed->optimizer == Optimizer::kAdam);
  CHECK(parsed->beta1 == 0.8);
  CHECK(parsed->epsilon == 1e-6);
  CHECK(parsed->hash_bits == 20);
  CHECK_FALSE(parsed->standardize);
  CHECK(parsed->ftrl_beta == 2);
  CHECK(ToStringMap(*parsed) == values);  // the inverse, key for key
  Result<LinearModelConfig> round_trip = ParseLinearModelConfig(ToStringMap(LinearModelConfig{}));
  REQUIRE(round_trip.ok());
  CHECK(ToStringMap(*round_trip) == ToStringMap(LinearModelConfig{}));
  CHECK(ParseLinearModelConfig({{"loss", "logistic"}})->loss == Loss::kLog);

  const auto error = [](std::map<std::string, std::string> v) {
    return ParseLinearModelConfig(v, "model.").status().message();
  };
  CHECK(error({{"beta1", "1.5"}, {"optimizer", "adam"}}) == "model.beta1: must be in [0, 1), got 1.5");
  CHECK(error({{"beta1", "0.9x"}}) == "model.beta1: expected a number, got '0.9x'");
  CHECK(error({{"learning_rate", ""}}) == "model.learning_rate: expected a number, got ''");
  CHECK(error({{"hash_bits", "-3"}}) == "model.hash_bits: expected a whole number >= 0, got '-3'");
  CHECK(error({{"standardize", "maybe"}}) == "model.standardize: expected true or false, got 'maybe'");
  CHECK(error({{"optimizer", "rmsprop"}}) == "model.optimizer: expected one of sgd, adagrad, adam, ftrl, got 'rmsprop'");
  CHECK(error({{"loss", "poisson"}}).find("model.loss: expected one of log, softmax, squared, huber, hinge") == 0);
  CHECK(error({{"momentum", "0.9"}}).find("model.momentum: unknown key (known: ") == 0);
  CHECK(error({{"learning_rate", "nan"}}).find("model.learning_rate: must be a positive finite number") == 0);
  CHECK(ParseLinearModelConfig({{"l2", "1e-3"}})->l2 == 1e-3);
  CHECK(ParseLinearModelConfig({{"l2", "+1e-3"}})->l2 == 1e-3);
}

TEST_CASE("linear model: sparse state is kept for touched buckets only", "[learn][linear]") {
  LinearModelConfig c = Config(Loss::kSoftmax, Optimizer::kAdam);
  c.hash_bits = 24;  // 16 M buckets: a flat array would be 16 M x 3 classes x 3 values
  LinearModel model(c);
  FeatureVector x;
  for (uint32_t i = 0; i < 3000; ++i) {
    SetDense(x, {static_cast<double>(i % 7)});
    x.sparse_index = {(i % 100) * 2617 + 1'000'000};
    x.sparse_value = {1.0f};
    model.learn(x, i % 3);
  }
  CHECK(model.sparse_buckets() == 100);
  const std::string bytes = Save(model);
  std::printf("softmax/adam snapshot, 3 classes, 1 dense feature, 100 touched of 2^24 buckets: %zu bytes\n",
              bytes.size());
  CHECK(bytes.size() < 100 * (4 + 3 * 3 * 8) + 600);
  const auto weights = model.sparse_weights(1);
  CHECK(weights.size() == 100);
  CHECK(weights.front().bucket == 1'000'000);
  CHECK(SameBits(weights.front().weight, model.sparse_weight(1'000'000, 1)));
  CHECK(model.sparse_weight(5) == 0);
  CHECK(model.sparse_buckets() == 100);  // a lookup does not insert
}

TEST_CASE("linear model: learning with the prediction's memo is learning, every loss and optimizer", "[learn][linear]") {
  for (const Loss loss : {Loss::kLog, Loss::kHinge, Loss::kSquared, Loss::kHuber, Loss::kSoftmax}) {
    for (const Optimizer optimizer : {Optimizer::kSgd, Optimizer::kAdagrad, Optimizer::kAdam, Optimizer::kFtrl}) {
      INFO(ToString(loss) << ", " << ToString(optimizer));
      LinearModelConfig c = Config(loss, optimizer);
      c.hash_bits = 12;
      c.l1 = optimizer == Optimizer::kSgd ? 1e-4 : 0.0;
      LinearModel plain(c), kept(c), other(c);
      LinearModel::Memo memo, others;
      SeaStream stream(5);  // non-finite inputs, bad labels, repeated buckets
      FeatureVector x;
      Prediction p, q;
      for (int i = 0; i < 6000; ++i) {
        const double y = stream.next(x);
        plain.predict(x, q);
        kept.predict_keeping(x, p, memo);
        REQUIRE(SameBits(p.score, q.score));
        REQUIRE(p.class_index == q.class_index);
        if (i % 1000 == 500) {  // between predicting and learning: the memo's entries are gone
          plain.reset_weights();
          kept.reset_weights();
        }
        if (i % 11 == 5) {  // another model's memo of the same vector: its entries are not ours
          other.predict_keeping(x, q, others);
          kept.learn_predicted(x, y, &others);
        } else {
          kept.learn_predicted(x, y, &memo);
        }
        plain.learn(x, y);
        if (i % 3 == 0) other.learn(x, y);
      }
      CHECK(Save(kept) == Save(plain));
      CHECK(kept.trained() == plain.trained());
      CHECK(kept.guarded_updates() == plain.guarded_updates());
      CHECK(kept.guarded_updates() > 0);
      // The weight table grows at the same events: the same memory.
      CHECK(kept.memory_bytes() == plain.memory_bytes());
    }
  }
}

TEST_CASE("linear model: the per-event path does not allocate once sizes are stable", "[learn][linear]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer");
    return;
  }
  // The counter itself must see the library's allocations, or a 0 below would prove
  // nothing: a fresh model's first event grows its dense block.
  {
    LinearModel fresh;
    FeatureVector one;
    one.set_dense(0, 1.0);
    const uint64_t probe = testing::Allocations();
    fresh.learn(one, 1);
    REQUIRE(testing::Allocations() > probe);
  }
  for (const Loss loss : {Loss::kLog, Loss::kSoftmax, Loss::kHuber}) {
    for (const Optimizer optimizer : {Optimizer::kSgd, Optimizer::kAdagrad, Optimizer::kAdam, Optimizer::kFtrl}) {
      INFO(ToString(loss) << ", " << ToString(optimizer));
      LinearModelConfig c = Config(loss, optimizer);
      c.l1 = optimizer == Optimizer::kSgd ? 1e-4 : 0.0;
      LinearModel model(c);
      SeaStream stream(17);
      FeatureVector x;
      Prediction p;
      const auto label = [&](double y) { return loss == Loss::kSoftmax ? std::min(y, 1.0) + (x.dense[2] > 5) : y; };
      for (int i = 0; i < 3000; ++i) {  // every entity's buckets seen, classes known
        const double y = label(stream.next(x));
        model.predict(x, p);
        model.learn(x, y);
      }
      LinearModel::Memo memo;
      model.predict_keeping(x, p, memo);  // its room for the entries, once
      SeaStream replay(17);
      const uint64_t before = testing::Allocations();
      for (int i = 0; i < 3000; ++i) {
        const double y = label(replay.next(x));  // same buckets again
        if (i % 2 == 0) {
          model.predict(x, p);
          model.learn(x, y);
        } else {
          model.predict_keeping(x, p, memo);
          model.learn_predicted(x, y, &memo);
        }
      }
      const uint64_t after = testing::Allocations();
      CHECK(after - before == 0);
    }
  }
}

TEST_CASE("linear model: reset_weights forgets the concept, keeps statistics and classes", "[learn][linear]") {
  LinearModel model(Config(Loss::kSoftmax, Optimizer::kFtrl));
  BlobStream stream(6);
  FeatureVector x;
  for (int i = 0; i < 2000; ++i) {
    const int label = stream.next(x);
    x.sparse_index = {static_cast<uint32_t>(label)};
    x.sparse_value = {1.0f};
    model.learn(x, label);
  }
  const DenseInputStats stats = model.dense_input_stats(1);
  CHECK(stats.seen == 2000);
  CHECK(stats.mean == Approx(4).margin(0.3));
  model.reset_weights();
  CHECK(model.classes() == 3);
  CHECK(model.optimizer_steps() == 0);
  CHECK(model.trained() == 2000);
  CHECK(model.sparse_buckets() == 0);
  for (uint32_t k = 0; k < 3; ++k) {
    CHECK(model.bias(k) == 0);
    for (double w : model.dense_weights(k)) CHECK(w == 0);
  }
  const Prediction p = model.predict(x);
  CHECK(p.probabilities[0] == Approx(1.0 / 3));
  CHECK(model.dense_input_stats(1).mean == stats.mean);
}

TEST_CASE("linear model: weights in input units undo the standardisation", "[learn][linear]") {
  LinearModel model(Config(Loss::kSquared, Optimizer::kSgd, 0.01));
  RegressionStream stream(12, 0.0);
  FeatureVector x;
  for (int i = 0; i < 20'000; ++i) model.learn(x, stream.next(x));
  // The same function both ways, at a point inside the clip.
  SetDense(x, {3.5, 7.25});
  const std::vector<double> w = model.weights_in_input_units();
  CHECK(model.predict_score(x) == Approx(model.bias_in_input_units() + w[0] * 3.5 + w[1] * 7.25).epsilon(1e-12));
  const DenseInputStats s = model.dense_input_stats(0);
  CHECK(s.std_dev == Approx(10 / std::sqrt(12.0)).epsilon(0.02));
}

TEST_CASE("linear model: each optimizer's first steps follow its textbook formula", "[learn][linear]") {
  // One raw feature, squared loss: dL/dmargin = m - y with m = w x + b. The references
  // below are the papers' update rules written out for one weight and the bias.
  struct Event {
    double x, y;
  };
  const Event events[] = {{2, 1}, {-1, 0.5}, {0.5, -1}, {3, 2}};
  const double l1 = 0.05, l2 = 0.1, lr = 0.1;
  for (const Optimizer optimizer : {Optimizer::kSgd, Optimizer::kAdagrad, Optimizer::kAdam, Optimizer::kFtrl}) {
    INFO(ToString(optimizer));
    LinearModelConfig c = Config(Loss::kSquared, optimizer, lr);
    c.standardize = false;
    c.l1 = l1;
    c.l2 = l2;
    c.beta1 = 0.8;
    c.beta2 = 0.9;
    c.epsilon = 1e-3;
    c.ftrl_alpha = 0.3;
    c.ftrl_beta = 0.5;
    LinearModel model(c);
    double w = 0, b = 0;
    double s0w = 0, s1w = 0, s0b = 0, s1b = 0;  // optimizer state of w and b
    double u = 0;                               // SGD's cumulative L1 total
    int t = 0;
    FeatureVector x;
    for (const Event& e : events) {
      ++t;
      const double d = w * e.x + b - e.y;
      switch (optimizer) {
        case Optimizer::kSgd: {  // scikit-learn: decay, step, then the cumulative L1 (q = s0w)
          w = (1 - lr * l2) * w - lr * d * e.x;
          b -= lr * d;
          u += lr * l1;
          const double before = w;
          if (w > 0) w = std::max(0.0, w - (u + s0w));
          else if (w < 0) w = std::min(0.0, w + (u - s0w));
          s0w += w - before;
          break;
        }
        case Optimizer::kAdagrad: {  // Duchi et al. 2011, diagonal, with the proximal L1 step
          const double g = d * e.x + l2 * w;
          s0w += g * g;
          w -= lr * g / (std::sqrt(s0w) + 1e-3);
          const double threshold = lr * l1 / (std::sqrt(s0w) + 1e-3);
          w = w > threshold ? w - threshold : (w < -threshold ? w + threshold : 0.0);
          s0b += d * d;
          b -= lr * d / (std::sqrt(s0b) + 1e-3);
          break;
        }
        case Optimizer::kAdam: {  // Kingma & Ba 2015, algorithm 1
          const double g = d * e.x + l2 * w;
          s0w = 0.8 * s0w + 0.2 * g;
          s1w = 0.9 * s1w + 0.1 * g * g;
          const double m_hat = s0w / (1 - std::pow(0.8, t)), v_hat = s1w / (1 - std::pow(0.9, t));
          w -= lr * m_hat / (std::sqrt(v_hat) + 1e-3);
          const double threshold = lr * l1 / (std::sqrt(v_hat) + 1e-3);
          w = w > threshold ? w - threshold : (w < -threshold ? w + threshold : 0.0);
          s0b = 0.8 * s0b + 0.2 * d;
          s1b = 0.9 * s1b + 0.1 * d * d;
          b -= lr * (s0b / (1 - std::pow(0.8, t))) / (std::sqrt(s1b / (1 - std::pow(0.9, t))) + 1e-3);
          break;
        }
        case Optimizer::kFtrl: {  // McMahan et al. 2013, algorithm 1 (z = s0, n = s1)
          const auto update = [](double& weight, double& z, double& n, double g, double lambda1, double lambda2) {
            const double sigma = (std::sqrt(n + g * g) - std::sqrt(n)) / 0.3;
            z += g - sigma * weight;
            n += g * g;
            weight = std::abs(z) <= lambda1
                         ? 0.0
                         : -(z - (z > 0 ? lambda1 : -lambda1)) / ((0.5 + std::sqrt(n)) / 0.3 + lambda2);
          };
          update(w, s0w, s1w, d * e.x, l1, l2);
          update(b, s0b, s1b, d, 0, 0);
          break;
        }
      }
      SetDense(x, {e.x});
      model.learn(x, e.y);
      REQUIRE(model.dense_weights()[0] == Approx(w).epsilon(1e-12).margin(1e-15));
      REQUIRE(model.bias() == Approx(b).epsilon(1e-12).margin(1e-15));
    }
    CHECK(model.dense_weights()[0] != 0);  // the events were strong enough to move it
  }
}

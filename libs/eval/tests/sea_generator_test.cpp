#include <catch2/catch.hpp>

#include <bit>
#include <cstdio>
#include <limits>

#include "oracle/logistic_regression.hpp"
#include "streamlearn/eval/prequential.hpp"
#include "streamlearn/eval/sea_generator.hpp"

using namespace streamlearn;
using namespace streamlearn::eval;

namespace {

bool SameSample(const SeaSample& a, const SeaSample& b) {
  return std::bit_cast<uint64_t>(a.x1) == std::bit_cast<uint64_t>(b.x1) &&
         std::bit_cast<uint64_t>(a.x2) == std::bit_cast<uint64_t>(b.x2) &&
         std::bit_cast<uint64_t>(a.x3) == std::bit_cast<uint64_t>(b.x3) && a.label == b.label &&
         a.concept_index == b.concept_index;
}

int CleanLabel(const SeaSample& s, double theta) { return s.x1 + s.x2 <= theta ? 1 : 0; }

}  // namespace

TEST_CASE("SEA config validation", "[eval][sea]") {
  CHECK(SeaConfig{}.validate().ok());
  SeaConfig c;
  c.noise = 1.5;
  CHECK(c.validate().message().find("noise") == 0);
  c = {};
  c.thetas.clear();
  CHECK(c.validate().message().find("thetas") == 0);
  c = {};
  c.change_at = {10, 10};
  CHECK(c.validate().message().find("change_at") == 0);
  // Unvalidated configs are made usable, not trusted.
  c.thetas.clear();
  c.noise = std::numeric_limits<double>::quiet_NaN();
  SeaGenerator g(c);
  CHECK(g.config().change_at == std::vector<uint64_t>{10});
  CHECK(g.config().thetas.size() == 4);
  CHECK(g.config().noise == 0);
}

TEST_CASE("SEA streams are reproducible from the seed", "[eval][sea]") {
  SeaGenerator a(SeaConfig{}), b(SeaConfig{});
  SeaConfig other;
  other.seed = 43;
  SeaGenerator c(other);
  int differing = 0;
  for (int i = 0; i < 1000; ++i) {
    const SeaSample sa = a.next(), sb = b.next(), sc = c.next();
    REQUIRE(SameSample(sa, sb));
    differing += !SameSample(sa, sc);
  }
  CHECK(differing > 990);
  CHECK(a.position() == 1000);

  // Pinned first values for seed 42: std::mt19937_64 is specified exactly and the
  // 53-bit conversion is ours, so these hold on every platform and standard library.
  SeaGenerator pinned(SeaConfig{});
  const SeaSample first = pinned.next();
  std::printf("SEA seed 42, first sample: %.17g %.17g %.17g label %d\n", first.x1, first.x2, first.x3, first.label);
  std::mt19937_64 engine(42);
  CHECK(first.x1 == 10 * (static_cast<double>(engine() >> 11) * 0x1.0p-53));

  // Noise does not shift the feature stream: four draws per sample whatever happens.
  SeaConfig quiet;
  quiet.noise = 0;
  SeaGenerator noisy(SeaConfig{}), clean(quiet);
  for (int i = 0; i < 100; ++i) {
    const SeaSample n = noisy.next(), q = clean.next();
    REQUIRE(n.x1 == q.x1);
    REQUIRE(n.x3 == q.x3);
  }
}

TEST_CASE("SEA label noise flips about 10% of labels", "[eval][sea]") {
  SeaGenerator g(SeaConfig{});
  constexpr int kSamples = 100'000;
  int flipped = 0;
  for (int i = 0; i < kSamples; ++i) {
    const SeaSample s = g.next();
    REQUIRE((s.x1 >= 0 && s.x1 < 10 && s.x2 >= 0 && s.x2 < 10 && s.x3 >= 0 && s.x3 < 10));
    flipped += s.label != CleanLabel(s, 8);
  }
  const double rate = static_cast<double>(flipped) / kSamples;
  std::printf("SEA noise 0.1: measured flip rate %.4f over %d samples\n", rate, kSamples);
  // Binomial standard deviation sqrt(0.09 / 1e5) ~ 0.00095: this is a 5-sigma band.
  CHECK(rate == Approx(0.1).margin(0.005));
}

TEST_CASE("SEA concepts change exactly at the given positions and cycle through thetas", "[eval][sea]") {
  SeaConfig config;
  config.noise = 0;
  config.change_at = {100, 250, 400, 600};
  SeaGenerator g(config);
  const int expected_concept[] = {0, 1, 2, 3, 0};
  int flips_between_8_and_9 = 0;
  for (uint64_t i = 0; i < 800; ++i) {
    const int segment = i < 100 ? 0 : i < 250 ? 1 : i < 400 ? 2 : i < 600 ? 3 : 4;
    const SeaSample s = g.next();
    INFO("sample " << i);
    REQUIRE(s.concept_index == expected_concept[segment]);
    REQUIRE(s.label == CleanLabel(s, config.thetas[s.concept_index]));
    // A point with x1 + x2 in (8, 9] is 0 under theta 8 and 1 under theta 9.
    if (s.x1 + s.x2 > 8 && s.x1 + s.x2 <= 9) {
      REQUIRE(s.label == (s.concept_index == 1 || s.concept_index == 3 ? 1 : 0));
      ++flips_between_8_and_9;
    }
  }
  CHECK(flips_between_8_and_9 > 20);
}

TEST_CASE("EvenChanges splits a stream into equal concepts", "[eval][sea]") {
  CHECK(EvenChanges(1000, 4) == std::vector<uint64_t>{250, 500, 750});
  CHECK(EvenChanges(10, 3) == std::vector<uint64_t>{3, 6});
  CHECK(EvenChanges(1000, 1).empty());
  CHECK(EvenChanges(1000, 0).empty());
  const uint64_t max = std::numeric_limits<uint64_t>::max();  // divisible by 3; no overflow
  CHECK(EvenChanges(max, 3) == std::vector<uint64_t>{max / 3, max / 3 * 2});
}

TEST_CASE("logistic regression on SEA (noise 0.1): near the 90% ceiling, far above the majority baseline",
          "[eval][sea][learn]") {
  // With theta 8 the clean boundary x1 + x2 = 8 is linear, so the Bayes-optimal accuracy
  // is exactly 1 - noise = 0.90. The majority class (0) has P = 0.68 * 0.9 + 0.32 * 0.1 =
  // 0.644. A constant-step SGD boundary keeps jittering around the optimum and the first
  // few hundred events are learning time, so a few points below 0.90 is expected: 0.85
  // leaves room for that and still demands a model that found the concept. Measured with
  // this seed: 0.870 at the default step 0.05 (0.892 at 0.002, 0.858 at 0.1): the gap
  // to 0.90 is the step size, not the model.
  SeaGenerator sea(SeaConfig{});
  learn::LogisticRegression model;
  PrequentialBinary metrics;
  FeatureVector x;
  for (int i = 0; i < 50'000; ++i) {
    const SeaSample s = sea.next();
    x.clear();
    x.dense = {s.x1, s.x2, s.x3};
    x.present = {1, 1, 1};
    const double p = model.predict_proba(x);
    metrics.update(p, p >= 0.5 ? 1 : 0, s.label);
    model.learn(x, s.label);
  }
  std::printf("SEA 50k, noise 0.1, theta 8: prequential accuracy %.4f, rolling(1000) %.4f, log loss %.4f, "
              "majority baseline %.4f\n",
              metrics.accuracy(), metrics.rolling_accuracy(), metrics.log_loss(),
              metrics.majority_baseline_accuracy());
  CHECK(metrics.accuracy() > 0.85);
  CHECK(metrics.accuracy() < 0.905);  // the ceiling, plus sampling slack: a sanity check on the generator
  CHECK(metrics.majority_baseline_accuracy() == Approx(0.644).margin(0.01));
  CHECK(metrics.accuracy() - metrics.majority_baseline_accuracy() > 0.2);
  // The irrelevant feature stays small next to the two that decide.
  const auto w = model.dense_weights();
  CHECK(std::abs(w[2]) < 0.2 * std::abs(w[0]));
}

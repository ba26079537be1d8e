// Parameter mixing of linear models (LinearModel::mix, Learner::mix): what a mix of peers
// trained on parts of a stream is worth, and what each part of the state becomes.

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/learn/linear_model.hpp"

using namespace streamlearn;
using learn::LinearModel;

namespace {

struct Example {
  FeatureVector x;
  double y = 0;
};

// A noisy logistic concept on 5 dense inputs of different scales and a few hashed buckets.
std::vector<Example> NoisyStream(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  const double w[] = {1.5, -2.0, 0.7, 0.0, 1.0};
  std::vector<Example> out(n);
  for (auto& e : out) {
    double margin = -0.3;
    for (size_t j = 0; j < 5; ++j) {
      const double v = gauss(rng) * static_cast<double>(j + 1) + static_cast<double>(j);
      e.x.dense.push_back(v);
      e.x.present.push_back(1);
      margin += w[j] * (v - static_cast<double>(j)) / static_cast<double>(j + 1);
    }
    const uint32_t bucket = static_cast<uint32_t>(rng() % 6);
    e.x.sparse_index.push_back(bucket);
    e.x.sparse_value.push_back(1.0f);
    margin += bucket < 2 ? 0.8 : -0.4;
    e.y = unit(rng) < 1 / (1 + std::exp(-margin)) ? 1 : 0;
  }
  return out;
}

double MeanLogLoss(const LinearModel& m, const std::vector<Example>& s) {
  double sum = 0;
  for (const auto& e : s) {
    const double p = std::clamp(m.predict_score(e.x), 1e-15, 1 - 1e-15);
    sum -= e.y > 0.5 ? std::log(p) : std::log(1 - p);
  }
  return sum / static_cast<double>(s.size());
}

std::string Saved(const LinearModel& m) {
  std::string bytes;
  ByteWriter w(&bytes);
  m.save(w);
  return bytes;
}

LinearModel Logistic(double learning_rate = 0.05) {
  learn::LinearModelConfig c;
  c.learning_rate = learning_rate;
  c.hash_bits = 8;
  return LinearModel(c);
}

}  // namespace

TEST_CASE("linear mix: the mix of two models trained on halves of a stream beats each half on the whole",
          "[learn][linear][mix]") {
  const auto stream = NoisyStream(4000, 5);
  // Halves as two instances see them: events alternate between their partitions.
  LinearModel even = Logistic(0.1), odd = Logistic(0.1);
  for (size_t i = 0; i < stream.size(); ++i) (i % 2 == 0 ? even : odd).learn(stream[i].x, stream[i].y);
  LinearModel mixed = even;
  const LinearModel::MixPeer peers[] = {{&odd, static_cast<double>(odd.trained())}};
  REQUIRE(mixed.mix(static_cast<double>(even.trained()), peers).ok());
  const double loss_even = MeanLogLoss(even, stream), loss_odd = MeanLogLoss(odd, stream);
  const double loss_mixed = MeanLogLoss(mixed, stream);
  INFO("log loss: even half " << loss_even << ", odd half " << loss_odd << ", mixed " << loss_mixed);
  CHECK(loss_mixed < std::min(loss_even, loss_odd));
  CHECK(mixed.trained() == even.trained());  // each instance's own count
}

TEST_CASE("linear mix: weights are the weighted mean, untouched buckets count as 0", "[learn][linear][mix]") {
  LinearModel a = Logistic(), b = Logistic();
  FeatureVector x;
  x.sparse_index = {3};
  x.sparse_value = {1.0f};
  a.learn(x, 1);
  x.sparse_index = {5};
  b.learn(x, 0);
  b.learn(x, 0);
  const double a3 = a.sparse_weight(3), b5 = b.sparse_weight(5);
  const double a_bias = a.bias(), b_bias = b.bias();
  REQUIRE(a3 != 0);
  REQUIRE(b5 != 0);
  const LinearModel::MixPeer peers[] = {{&b, 3.0}};
  REQUIRE(a.mix(1.0, peers).ok());
  CHECK(a.sparse_weight(3) == Approx(a3 * 0.25));
  CHECK(a.sparse_weight(5) == Approx(b5 * 0.75));
  CHECK(a.bias() == Approx(0.25 * a_bias + 0.75 * b_bias));
  CHECK(a.optimizer_steps() == 2);  // round(1 + 0.75 * (2 - 1))
  CHECK(a.trained() == 1);
}

TEST_CASE("linear mix: input statistics become the mixture of the models' inputs", "[learn][linear][mix]") {
  LinearModel low = Logistic(), high = Logistic();
  std::mt19937_64 rng(1);
  std::normal_distribution<double> gauss(0, 1);
  for (int i = 0; i < 20000; ++i) {
    FeatureVector x;
    x.dense = {gauss(rng)};
    x.present = {1};
    low.learn(x, 0);
    x.dense = {4 + gauss(rng)};
    high.learn(x, 1);
  }
  const LinearModel::MixPeer peers[] = {{&high, 1.0}};
  REQUIRE(low.mix(1.0, peers).ok());
  const auto stats = low.dense_input_stats(0);
  CHECK(stats.mean == Approx(2).margin(0.03));
  CHECK(stats.std_dev == Approx(std::sqrt(5.0)).margin(0.03));  // 1 within, 4 between
  CHECK(stats.seen == 20000);
}

TEST_CASE("linear mix: a peer of other settings is refused and nothing changes", "[learn][linear][mix]") {
  LinearModel a = Logistic();
  learn::LinearModelConfig adam;
  adam.optimizer = learn::Optimizer::kAdam;
  adam.hash_bits = 8;
  LinearModel b(adam);
  const auto stream = NoisyStream(100, 2);
  for (const auto& e : stream) {
    a.learn(e.x, e.y);
    b.learn(e.x, e.y);
  }
  const std::string before = Saved(a);
  const LinearModel::MixPeer peers[] = {{&b, 10.0}};
  const Status st = a.mix(1.0, peers);
  CHECK(st.code() == ErrorCode::kFailedPrecondition);
  CHECK(st.message().find("adam") != std::string::npos);
  CHECK(Saved(a) == before);
}

TEST_CASE("linear mix: through the Learner interface, another loss refused", "[learn][linear][mix]") {
  auto a = learn::MakeLearner("logistic", {{"hash_bits", "8"}});
  auto b = learn::MakeLearner("logistic", {{"hash_bits", "8"}});
  auto hinge = learn::MakeLearner("hinge", {{"hash_bits", "8"}});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(hinge.ok());
  for (const auto& e : NoisyStream(200, 3)) (*b)->learn(e.x, e.y);
  const learn::MixInput peer[] = {{b->get(), 1.0}};
  REQUIRE((*a)->mix(0.0, peer).ok());  // weight 0 of its own: it becomes the peer's model
  FeatureVector x;
  x.dense = {1, 2, 3, 4, 5};
  x.present = {1, 1, 1, 1, 1};
  learn::Prediction pa, pb;
  (*a)->predict(x, pa);
  (*b)->predict(x, pb);
  CHECK(pa.score == Approx(pb.score));
  CHECK((*a)->trained() == 0);
  const learn::MixInput other_kind[] = {{hinge->get(), 1.0}};
  CHECK((*a)->mix(1.0, other_kind).code() == ErrorCode::kFailedPrecondition);
}

TEST_CASE("linear update: a peer's update since its base is added whole, the statistics stay",
          "[learn][linear][mix]") {
  const auto stream = NoisyStream(3000, 9);
  // Two instances from one shared start: each learns its half, then adds the other's update.
  LinearModel start = Logistic(0.05);
  for (size_t i = 0; i < 1000; ++i) start.learn(stream[i].x, stream[i].y);
  LinearModel even = start, odd = start;
  for (size_t i = 1000; i < stream.size(); ++i) (i % 2 == 0 ? even : odd).learn(stream[i].x, stream[i].y);
  LinearModel summed = even;
  REQUIRE(summed.add_update(odd, start).ok());
  // Weights: even's plus odd's change (the sum of both updates from the shared start).
  CHECK(summed.bias() == Approx(even.bias() + odd.bias() - start.bias()));
  for (uint32_t bucket = 0; bucket < 6; ++bucket) {
    CHECK(summed.sparse_weight(bucket) ==
          Approx(even.sparse_weight(bucket) + odd.sparse_weight(bucket) - start.sparse_weight(bucket)).margin(1e-12));
  }
  CHECK(summed.optimizer_steps() == even.optimizer_steps() + odd.optimizer_steps() - start.optimizer_steps());
  CHECK(summed.trained() == even.trained());
  // An update of zero (now == base) changes no bit; another loss is refused, nothing changed.
  const std::string before = Saved(summed);
  REQUIRE(summed.add_update(odd, odd).ok());
  CHECK(Saved(summed) == before);
  learn::LinearModelConfig squared;
  squared.loss = learn::Loss::kSquared;
  squared.hash_bits = 8;
  const LinearModel other(squared);
  CHECK(summed.add_update(other, other).code() == ErrorCode::kFailedPrecondition);
  CHECK(Saved(summed) == before);
}

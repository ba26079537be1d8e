#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "oracle/logistic_regression.hpp"

using namespace streamlearn;
using namespace streamlearn::learn;

namespace {

// Uniform [0, 1) from the top 53 bits: the same numbers on every standard library.
struct Uniform {
  std::mt19937_64 engine;
  explicit Uniform(uint64_t seed) : engine(seed) {}
  double operator()() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }
};

void SetDense(FeatureVector& x, std::initializer_list<double> values) {
  x.clear();
  for (double v : values) {
    x.dense.push_back(v);
    x.present.push_back(1);
  }
}

bool AllFinite(const LogisticRegression& model) {
  for (double w : model.dense_weights()) {
    if (!std::isfinite(w)) return false;
  }
  return std::isfinite(model.bias());
}

bool SameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

std::string Save(const LogisticRegression& model) {
  std::string bytes;
  ByteWriter w(&bytes);
  model.save(w);
  return bytes;
}

// Three informative features on very different scales and offsets, two categoricals
// (one informative), label noise optional: the mixed stream the snapshot tests replay.
struct MixedStream {
  Uniform uniform;
  double noise;
  MixedStream(uint64_t seed, double label_noise) : uniform(seed), noise(label_noise) {}
  int next(FeatureVector& x) {
    const double u1 = uniform(), u2 = uniform(), u3 = uniform();
    SetDense(x, {1000 * u1, 0.001 * u2 - 5, 50 * u3 + 1e4});
    if (uniform() < 0.2) x.present[1] = 0;
    const uint32_t colour = static_cast<uint32_t>(uniform() * 8);
    const uint32_t shop = 100 + static_cast<uint32_t>(uniform() * 50);
    x.sparse_index = {colour, shop};
    x.sparse_value = {1.0f, 1.0f};
    int label = 2 * u1 - u2 + 0.5 * u3 + (colour < 4 ? 0.3 : -0.3) > 1 ? 1 : 0;
    if (uniform() < noise) label = 1 - label;
    return label;
  }
};

}  // namespace

TEST_CASE("config validation names the offending setting", "[learn]") {
  CHECK(LogisticConfig{}.validate().ok());
  LogisticConfig c;
  c.learning_rate = 0;
  CHECK(c.validate().message().find("learning_rate") == 0);
  c = {};
  c.learning_rate = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(c.validate().ok());
  c = {};
  c.l2 = -1;
  CHECK(c.validate().message().find("l2") == 0);
  c = {};
  c.learning_rate = 1;
  c.l2 = 1;
  CHECK_FALSE(c.validate().ok());
  c = {};
  c.hash_bits = 30;
  CHECK(c.validate().message().find("hash_bits") == 0);
  CHECK_FALSE(LogisticRegression::Create(c).ok());
  c.hash_bits = 10;
  REQUIRE(LogisticRegression::Create(c).ok());
  CHECK(LogisticRegression::Create(c)->config().hash_bits == 10);
}

TEST_CASE("an untrained model is undecided and counts its steps", "[learn]") {
  LogisticRegression model;
  FeatureVector x;
  SetDense(x, {1, 2, 3});
  CHECK(model.predict_proba(x) == 0.5);
  model.learn(x, 1);
  CHECK(model.trained() == 1);
  CHECK(model.dense_size() == 3);
  CHECK(model.bias() > 0);  // one step towards y = 1
  CHECK(model.predict_proba(x) > 0.5);
}

TEST_CASE("noise-free separable stream: > 99% prequential accuracy over the last half", "[learn]") {
  // label = 2*u1 - u2 + 0.5*u3 > 1 on features seen as 1000*u1, 0.001*u2 - 5, 50*u3 + 1e4:
  // only standardisation makes one learning rate fit all three scales.
  constexpr int kEvents = 50'000;
  LogisticRegression model;
  Uniform uniform(7);
  FeatureVector x;
  int correct_last_half = 0;
  for (int i = 0; i < kEvents; ++i) {
    const double u1 = uniform(), u2 = uniform(), u3 = uniform();
    SetDense(x, {1000 * u1, 0.001 * u2 - 5, 50 * u3 + 1e4});
    const int label = 2 * u1 - u2 + 0.5 * u3 > 1 ? 1 : 0;
    const int predicted = model.predict_proba(x) >= 0.5 ? 1 : 0;
    if (i >= kEvents / 2) correct_last_half += predicted == label;
    model.learn(x, label);
  }
  const double accuracy = static_cast<double>(correct_last_half) / (kEvents / 2);
  std::printf("separable stream: prequential accuracy over the last %d events = %.4f\n", kEvents / 2, accuracy);
  CHECK(accuracy > 0.99);
  CHECK(model.guarded_updates() == 0);
  // The learned direction matches the generator's: (2, -1, 0.5) in units of each feature's
  // spread, and all three features have the same spread once standardised.
  const auto w = model.dense_weights();
  CHECK(w[0] > 0);
  CHECK(w[1] < 0);
  CHECK(w[2] > 0);
  CHECK(w[0] / -w[1] == Approx(2).epsilon(0.2));
  CHECK(w[0] / w[2] == Approx(4).epsilon(0.2));
}

TEST_CASE("missing values are imputed with the running mean and the dense block grows", "[learn]") {
  LogisticRegression model;
  Uniform uniform(11);
  FeatureVector x;
  // Phase 1: one uninformative feature.
  for (int i = 0; i < 2000; ++i) {
    SetDense(x, {uniform()});
    model.learn(x, uniform() < 0.5 ? 1 : 0);
  }
  REQUIRE(model.dense_size() == 1);
  // Phase 2: two more features appear; feature 2 decides the label, and is missing 30% of
  // the time (then the label is a coin flip the model cannot know).
  int correct = 0, scored = 0;
  for (int i = 0; i < 20'000; ++i) {
    const double informative = 10 * uniform();
    const bool missing = uniform() < 0.3;
    SetDense(x, {uniform(), 3 * uniform(), informative});
    x.present[2] = missing ? 0 : 1;
    if (missing) x.dense[2] = std::numeric_limits<double>::quiet_NaN();  // must not be read
    const int label = missing ? (uniform() < 0.5 ? 1 : 0) : (informative > 5 ? 1 : 0);
    if (i >= 10'000 && !missing) {
      correct += (model.predict_proba(x) >= 0.5 ? 1 : 0) == label;
      ++scored;
    }
    model.learn(x, label);
  }
  CHECK(model.dense_size() == 3);
  CHECK(model.guarded_updates() == 0);
  CHECK(AllFinite(model));
  CHECK(static_cast<double>(correct) / scored > 0.97);

  // Missing is read as the running mean (~5 for U[0, 10]), not as 0.
  FeatureVector at_mean, missing;
  SetDense(at_mean, {0.5, 1.5, 5.0});
  SetDense(missing, {0.5, 1.5, 0.0});
  missing.present[2] = 0;
  FeatureVector at_zero = at_mean;
  at_zero.dense[2] = 0;
  CHECK(model.predict_proba(missing) == Approx(model.predict_proba(at_mean)).margin(0.05));
  CHECK(std::abs(model.predict_proba(at_zero) - model.predict_proba(missing)) > 0.3);

  // Nothing present: only the bias speaks. A shorter vector than the model is fine too.
  FeatureVector none;
  SetDense(none, {1, 2, 3});
  none.present = {0, 0, 0};
  CHECK(model.predict_proba(none) == Approx(1 / (1 + std::exp(-model.bias()))).epsilon(1e-12));
  FeatureVector shorter;
  SetDense(shorter, {0.5});
  const double p = model.predict_proba(shorter);
  CHECK((p > 0 && p < 1));
  model.learn(shorter, 1);
  CHECK(model.dense_size() == 3);
}

TEST_CASE("huge, infinite and NaN inputs never make a weight non-finite", "[learn]") {
  LogisticRegression model;
  Uniform uniform(3);
  FeatureVector x;
  uint64_t bad_events = 0;
  int correct = 0;
  const double kBad[] = {1e300, -1e300, std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN(), 1e101};
  for (int i = 0; i < 20'000; ++i) {
    const double a = uniform(), b = uniform();
    SetDense(x, {a * 1e90, b});  // large but usable: its variance still fits a double
    const int label = a > 0.5 ? 1 : 0;
    if (i % 50 == 7) {
      x.dense[i % 100 == 7 ? 0 : 1] = kBad[(i / 50) % 5];
      ++bad_events;
    }
    if (i % 500 == 3) {  // a hashed numeric that overflowed to a float infinity
      x.sparse_index = {5};
      x.sparse_value = {static_cast<float>(1e300)};
      ++bad_events;
    }
    const double p = model.predict_proba(x);
    REQUIRE(std::isfinite(p));
    REQUIRE((p > 0 && p < 1));
    if (i >= 10'000) correct += (p >= 0.5 ? 1 : 0) == label;
    model.learn(x, label);
    REQUIRE(AllFinite(model));
  }
  model.learn(x, std::numeric_limits<double>::quiet_NaN());
  model.learn(x, 2);
  bad_events += 2;
  CHECK(model.guarded_updates() == bad_events);
  CHECK(model.trained() + model.guarded_updates() == 20'002);
  CHECK(std::isfinite(model.sparse_weight(5)));
  // The bad events were skipped, not absorbed: the model still learned the concept.
  CHECK(correct > 9'800);
}

TEST_CASE("tiny values whose variance underflows stay finite", "[learn]") {
  LogisticRegression model;
  FeatureVector x;
  // 0 then 3e-162: m2 is the smallest denormal and m2 / 2 rounds to 0, so 1 / std-dev
  // would be Inf and a value at the mean would standardise to 0 * Inf = NaN.
  for (double v : {0.0, 3e-162, 1.5e-162, 1.5e-162}) {
    SetDense(x, {v});
    model.learn(x, 1);
  }
  CHECK(model.guarded_updates() == 0);
  for (int i = 0; i < 1000; ++i) {
    // Deviations of 1e-161 square to a denormal (or zero) m2.
    SetDense(x, {i % 2 == 0 ? 1e-160 : 1.1e-160, 1e-200 * (i % 3)});
    const double p = model.predict_proba(x);
    REQUIRE((p > 0 && p < 1));
    model.learn(x, i % 2);
    REQUIRE(AllFinite(model));
  }
  CHECK(model.guarded_updates() == 0);
  SetDense(x, {1e-160, 0});  // a value exactly at a mean-like point: no 0 * Inf
  CHECK(std::isfinite(model.predict_proba(x)));
}

TEST_CASE("the same stream twice gives bit-identical weights", "[learn]") {
  LogisticConfig config;
  config.l2 = 1e-3;
  LogisticRegression a(config), b(config);
  MixedStream sa(5, 0.05), sb(5, 0.05);
  FeatureVector xa, xb;
  for (int i = 0; i < 5000; ++i) {
    a.learn(xa, sa.next(xa));
    b.learn(xb, sb.next(xb));
  }
  CHECK(Save(a) == Save(b));
}

TEST_CASE("save and load mid-stream: both models continue bit-identically", "[learn]") {
  LogisticConfig config;
  config.l2 = 1e-3;
  config.hash_bits = 12;
  LogisticRegression original(config);
  MixedStream stream(21, 0.05);
  FeatureVector x;
  for (int i = 0; i < 5000; ++i) original.learn(x, stream.next(x));

  const std::string bytes = Save(original);
  LogisticRegression restored(config);
  ByteReader reader(bytes);
  REQUIRE(restored.load(reader).ok());
  CHECK(reader.at_end());
  CHECK(restored.trained() == original.trained());
  CHECK(Save(restored) == bytes);

  for (int i = 0; i < 5000; ++i) {
    const int label = stream.next(x);
    const double p_original = original.predict_proba(x);
    const double p_restored = restored.predict_proba(x);
    REQUIRE(SameBits(p_original, p_restored));
    original.learn(x, label);
    restored.learn(x, label);
  }
  CHECK(Save(restored) == Save(original));
  CHECK(restored.dense_weights() == original.dense_weights());
}

TEST_CASE("corrupt or truncated snapshots are refused and leave the model unchanged", "[learn]") {
  LogisticConfig config;
  config.hash_bits = 10;
  LogisticRegression source(config);
  MixedStream stream(8, 0.0);
  FeatureVector x;
  for (int i = 0; i < 500; ++i) source.learn(x, stream.next(x));
  const std::string bytes = Save(source);

  LogisticRegression target(config);
  for (int i = 0; i < 50; ++i) target.learn(x, stream.next(x));
  const std::string before = Save(target);

  for (size_t len = 0; len < bytes.size(); ++len) {
    ByteReader reader(std::string_view(bytes).substr(0, len));
    INFO("truncated to " << len << " of " << bytes.size() << " bytes");
    REQUIRE_FALSE(target.load(reader).ok());
  }
  CHECK(Save(target) == before);

  const auto load_patched = [&](size_t offset, uint32_t value) {
    std::string patched = bytes;
    std::memcpy(patched.data() + offset, &value, sizeof value);
    ByteReader reader(patched);
    return target.load(reader);
  };
  CHECK(load_patched(0, 0x12345678).code() == ErrorCode::kCorruption);  // magic
  CHECK(load_patched(4, 99).code() == ErrorCode::kCorruption);          // format version
  CHECK(load_patched(8, 11).code() == ErrorCode::kFailedPrecondition);  // hash_bits
  CHECK(load_patched(36, 0xffffffffu).code() == ErrorCode::kCorruption);  // dense size: no 4 G alloc
  const size_t nnz_offset = 40 + source.dense_size() * 32 + 1 + 8;
  CHECK(load_patched(nnz_offset, 0xfffffff0u).code() == ErrorCode::kCorruption);
  CHECK(Save(target) == before);

  // Any single flipped byte: a clean refusal or a finite model, never a crash.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    LogisticRegression probe(config);
    ByteReader reader(flipped);
    if (probe.load(reader).ok()) {
      CHECK(AllFinite(probe));
      CHECK(std::isfinite(probe.predict_proba(x)));
    }
  }
}

TEST_CASE("snapshots carry only the touched sparse buckets", "[learn]") {
  LogisticRegression model;  // 2^18 buckets: 2 MiB if written densely
  FeatureVector x;
  for (uint32_t i = 0; i < 1000; ++i) {
    SetDense(x, {static_cast<double>(i % 7)});
    x.sparse_index = {(i % 100) * 2617};
    x.sparse_value = {1.0f};
    model.learn(x, i % 3 == 0 ? 1 : 0);
  }
  const std::string bytes = Save(model);
  std::printf("snapshot with 1 dense feature and 100 touched of 2^18 buckets: %zu bytes\n", bytes.size());
  CHECK(bytes.size() < 100 * 12 + 200);
  LogisticRegression restored;
  ByteReader reader(bytes);
  REQUIRE(restored.load(reader).ok());
  CHECK(SameBits(restored.sparse_weight(2617), model.sparse_weight(2617)));
  CHECK(model.sparse_weight(2617) != 0);
}

TEST_CASE("L2 shrinks untouched sparse weights exactly like dense ones, across scale folds", "[learn]") {
  LogisticConfig config;
  config.learning_rate = 0.5;
  config.l2 = 1.0;  // decay 0.5 per step: the shared scale is folded every ~210 steps
  config.hash_bits = 8;
  LogisticRegression model(config);
  FeatureVector x;
  x.sparse_index = {7};
  x.sparse_value = {1.0f};
  model.learn(x, 1);
  const double w0 = model.sparse_weight(7);
  REQUIRE(w0 > 0);
  x.sparse_index = {9};
  for (int t = 1; t <= 1000; ++t) {
    model.learn(x, t % 2);
    if (t == 10 || t == 500) {
      CHECK(model.sparse_weight(7) == Approx(w0 * std::pow(0.5, t)).epsilon(1e-12));
    }
    REQUIRE(std::isfinite(model.sparse_weight(9)));
  }
  CHECK(model.guarded_updates() == 0);
}

TEST_CASE("reset_weights forgets the concept but keeps the input statistics", "[learn]") {
  LogisticRegression model;
  Uniform uniform(2);
  FeatureVector x;
  for (int i = 0; i < 1000; ++i) {
    const double v = 100 + 10 * uniform();
    SetDense(x, {v});
    x.sparse_index = {3};
    x.sparse_value = {1.0f};
    model.learn(x, v > 105 ? 1 : 0);
  }
  model.reset_weights();
  CHECK(model.dense_weights() == std::vector<double>{0.0});
  CHECK(model.bias() == 0);
  CHECK(model.sparse_weight(3) == 0);
  CHECK(model.predict_proba(x) == 0.5);
  CHECK(model.trained() == 1000);
  // The kept statistics standardise at once: one step already moves the dense weight
  // (fresh statistics would read the value as the mean, z = 0, and leave it at 0).
  SetDense(x, {109});
  model.learn(x, 1);
  CHECK(model.dense_weights()[0] > 0.01);
}

#pragma once
// Checks every Learner implementation must pass (learner.hpp's contract), for one learner
// made by `make` (fresh each call, same settings). A new family runs these from its own
// test file, or by its types appearing in learner_contract_test.cpp.

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::testing {

using MakeLearnerFn = std::function<std::unique_ptr<learn::Learner>()>;

struct LearnerExample {
  FeatureVector x;
  double y = 0;
};

// A small stream of the learner's task: 3 dense features (one missing now and then) and a
// few hashed buckets; the label depends on both.
inline std::vector<LearnerExample> ContractStream(learn::LearnerTask task, size_t n, uint64_t seed = 11) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0, 1);
  std::vector<LearnerExample> out(n);
  for (auto& e : out) {
    const double a = gauss(rng), b = 3 + 2 * gauss(rng), c = gauss(rng);
    e.x.dense = {a, b, c};
    e.x.present = {1, 1, static_cast<uint8_t>(rng() % 5 != 0)};
    const uint32_t bucket = static_cast<uint32_t>(rng() % 8);
    e.x.sparse_index.push_back(bucket);
    e.x.sparse_value.push_back(1.0f);
    const double signal = a - 0.5 * (b - 3) + (bucket < 3 ? 1.0 : -0.5);
    switch (task) {
      case learn::LearnerTask::kBinary: e.y = signal > 0 ? 1 : 0; break;
      case learn::LearnerTask::kMulticlass: e.y = signal > 1 ? 2 : signal > -0.5 ? 1 : 0; break;
      case learn::LearnerTask::kRegression: e.y = 2 * signal + 0.1 * gauss(rng); break;
    }
  }
  return out;
}

inline std::string SavedLearner(const learn::Learner& l) {
  std::string bytes;
  ByteWriter w(&bytes);
  l.save(w);
  return bytes;
}

// The learner as a restart gives it back: its snapshot bytes restored by the factory.
inline std::unique_ptr<learn::Learner> SavedAndRestored(const learn::Learner& l) {
  const std::string bytes = SavedLearner(l);
  ByteReader r(bytes);
  auto restored = learn::RestoreLearner(r);
  INFO(restored.status().message());
  REQUIRE(restored.ok());
  return std::move(restored).value();
}

inline std::vector<learn::Prediction> PredictAll(const learn::Learner& l, const std::vector<LearnerExample>& s) {
  std::vector<learn::Prediction> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) l.predict(s[i].x, out[i]);
  return out;
}

inline bool SamePredictions(const std::vector<learn::Prediction>& a, const std::vector<learn::Prediction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].score != b[i].score || a[i].class_index != b[i].class_index || a[i].probabilities != b[i].probabilities) {
      return false;
    }
  }
  return true;
}

inline void LearnAll(learn::Learner& l, const std::vector<LearnerExample>& s) {
  for (const auto& e : s) l.learn(e.x, e.y);
}

inline void CheckPrediction(const learn::Learner& l, const learn::Prediction& p) {
  CHECK(std::isfinite(p.score));
  switch (l.task()) {
    case learn::LearnerTask::kBinary: CHECK((p.class_index == 0 || p.class_index == 1)); break;
    case learn::LearnerTask::kMulticlass:
      CHECK(p.class_index >= -1);
      CHECK(p.class_index < static_cast<int32_t>(std::max<size_t>(1, p.probabilities.size())));
      break;
    case learn::LearnerTask::kRegression: CHECK(p.class_index == -1); break;
  }
  if (l.task() == learn::LearnerTask::kBinary && l.scores_probability()) CHECK((p.score >= 0 && p.score <= 1));
}

inline void CheckLearnerContract(const MakeLearnerFn& make) {
  const std::unique_ptr<learn::Learner> probe = make();
  const learn::LearnerTask task = probe->task();
  const auto stream = ContractStream(task, 400);
  const auto held_out = ContractStream(task, 50, 99);
  INFO("learner type " << probe->type());

  SECTION("predicts before learning, finite and of its task") {
    auto l = make();
    CHECK(l->trained() == 0);
    for (const auto& p : PredictAll(*l, held_out)) CheckPrediction(*l, p);
  }

  SECTION("learning changes the predictions and counts the events") {
    auto l = make();
    const auto before = PredictAll(*l, held_out);
    LearnAll(*l, stream);
    CHECK(l->trained() == stream.size());
    const auto after = PredictAll(*l, held_out);
    CHECK_FALSE(SamePredictions(before, after));
    for (const auto& p : after) CheckPrediction(*l, p);
  }

  SECTION("learning what it predicted with a memo is learning; a stale or another learner's memo is ignored") {
    auto plain = make(), kept = make(), other = make();
    std::unique_ptr<learn::PredictionMemo> memo, others;
    learn::Prediction p, q;
    for (size_t i = 0; i < stream.size(); ++i) {
      const auto& e = stream[i];
      plain->predict(e.x, q);
      kept->predict_keeping(e.x, p, memo);
      CHECK(SamePredictions({p}, {q}));
      if (i % 7 == 3) {
        // A memo made before the learner changed: the next vector is learned plainly first.
        const auto& next = stream[(i + 1) % stream.size()];
        plain->learn(next.x, next.y);
        kept->learn(next.x, next.y);
      }
      if (i % 11 == 5) other->predict_keeping(e.x, q, others);
      kept->learn_predicted(e.x, e.y, 1.0, i % 11 == 5 ? others.get() : memo.get());
      plain->learn(e.x, e.y);
    }
    CHECK(SavedLearner(*kept) == SavedLearner(*plain));
    CHECK(kept->trained() == plain->trained());
  }

  SECTION("weight 0 learns nothing, a whole weight k learns as k repeats") {
    auto once = make(), twice = make(), none = make();
    for (const auto& e : stream) {
      once->learn(e.x, e.y);
      once->learn(e.x, e.y);
      twice->learn(e.x, e.y, 2.0);
      none->learn(e.x, e.y, 0.0);
    }
    CHECK(SavedLearner(*once) == SavedLearner(*twice));
    CHECK(SavedLearner(*none) == SavedLearner(*make()));
  }

  SECTION("a label it cannot take is guarded, the state unchanged") {
    auto l = make();
    LearnAll(*l, stream);
    const std::string before = SavedLearner(*l);
    const uint64_t guarded = l->guarded_updates();
    l->learn(stream[0].x, std::numeric_limits<double>::quiet_NaN());
    CHECK(l->guarded_updates() == guarded + 1);
    CHECK(l->trained() == stream.size());
    CHECK(SamePredictions(PredictAll(*l, held_out), PredictAll(*make(), held_out)) == false);
    // Only the guard counter may differ: the predictions are those of before.
    ByteReader in(before);
    auto restored = make();
    REQUIRE(restored->load(in).ok());
    CHECK(SamePredictions(PredictAll(*l, held_out), PredictAll(*restored, held_out)));
  }

  SECTION("save and load round trip: same predictions, same continuation, same bytes") {
    auto original = make();
    LearnAll(*original, std::vector<LearnerExample>(stream.begin(), stream.begin() + 200));
    const std::string bytes = SavedLearner(*original);
    auto restored = make();
    ByteReader in(bytes);
    REQUIRE(restored->load(in).ok());
    CHECK(in.at_end());
    CHECK(SavedLearner(*restored) == bytes);
    CHECK(SamePredictions(PredictAll(*original, held_out), PredictAll(*restored, held_out)));
    const std::vector<LearnerExample> rest(stream.begin() + 200, stream.end());
    LearnAll(*original, rest);
    LearnAll(*restored, rest);
    CHECK(SavedLearner(*restored) == SavedLearner(*original));
    CHECK(restored->trained() == original->trained());
  }

  SECTION("a corrupt or truncated snapshot is refused with a reason, the learner unchanged") {
    auto saved = make();
    LearnAll(*saved, stream);
    const std::string bytes = SavedLearner(*saved);
    auto target = make();
    LearnAll(*target, std::vector<LearnerExample>(stream.begin(), stream.begin() + 10));
    const std::string before = SavedLearner(*target);
    for (size_t n = 0; n < bytes.size(); n += 1 + n / 16) {
      INFO("first " << n << " bytes");
      ByteReader in(std::string_view(bytes).substr(0, n));
      const Status st = target->load(in);
      CHECK_FALSE(st.ok());
      CHECK_FALSE(st.message().empty());
    }
    std::mt19937_64 rng(3);
    for (int trial = 0; trial < 100; ++trial) {
      std::string flipped = bytes;
      flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
      ByteReader in(flipped);
      const Status st = target->load(in);
      CHECK_FALSE(st.ok());
      CHECK_FALSE(st.message().empty());
      std::string junk(rng() % 300, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      ByteReader junk_in(junk);
      CHECK_FALSE(target->load(junk_in).ok());
    }
    CHECK(SavedLearner(*target) == before);
  }

  SECTION("a fresh copy has the settings and no learned parameters; the original is untouched") {
    auto original = make();
    LearnAll(*original, stream);
    const std::string before = SavedLearner(*original);
    auto copy = original->fresh_copy();
    CHECK(copy->type() == original->type());
    CHECK(copy->task() == original->task());
    CHECK_FALSE(SamePredictions(PredictAll(*copy, held_out), PredictAll(*original, held_out)));
    LearnAll(*copy, held_out);
    CHECK(SavedLearner(*original) == before);
    // Fresh parameters are those of a reset: both learn the same events into the same state.
    auto reset = make();
    ByteReader in(before);
    REQUIRE(reset->load(in).ok());
    reset->reset();
    LearnAll(*reset, held_out);
    CHECK(SamePredictions(PredictAll(*copy, stream), PredictAll(*reset, stream)));
  }

  SECTION("reset forgets what was learned and keeps the counters") {
    auto l = make();
    LearnAll(*l, stream);
    const auto learned = PredictAll(*l, held_out);
    const uint64_t trained = l->trained();
    l->reset();
    CHECK(l->trained() == trained);
    CHECK_FALSE(SamePredictions(PredictAll(*l, held_out), learned));
    for (const auto& p : PredictAll(*l, held_out)) CheckPrediction(*l, p);
  }

  SECTION("mixing with copies of itself or with weight 0 changes nothing; a family that does not mix says so") {
    auto l = make();
    LearnAll(*l, stream);
    const std::string before = SavedLearner(*l);
    auto copy = make();
    ByteReader in(before);
    REQUIRE(copy->load(in).ok());
    auto other = make();
    LearnAll(*other, held_out);
    const learn::MixInput copies[] = {{copy.get(), 3.0}, {copy.get(), 5.0}};
    const Status mixed = l->mix(7.0, copies);
    if (mixed.code() == ErrorCode::kUnimplemented) {
      CHECK_FALSE(mixed.message().empty());
    } else {
      REQUIRE(mixed.ok());
      const learn::MixInput unweighted[] = {{other.get(), 0.0}, {other.get(), -1.0}};
      REQUIRE(l->mix(7.0, unweighted).ok());
      const learn::MixInput none_at_all[] = {{other.get(), 4.0}};
      REQUIRE(l->mix(0.0, std::span<const learn::MixInput>(none_at_all, 0)).ok());
    }
    CHECK(SavedLearner(*l) == before);
    CHECK(l->trained() == stream.size());
  }

  SECTION("memory is reported and describe writes the settings and named features") {
    auto l = make();
    CHECK(l->memory_bytes() > 0);
    LearnAll(*l, stream);
    CHECK(l->memory_bytes() > 0);
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    l->describe(w, [](size_t i) { return "feature_" + std::to_string(i); }, 5);
    w.end_object();
    CHECK(out.rfind(R"({"learner":{)", 0) == 0);
    CHECK(out.find("feature_0") != std::string::npos);
    CHECK(out.back() == '}');
  }
}

}  // namespace streamlearn::testing

#pragma once
// What the pipeline knows of a model: one interface for every learner family (linear
// models today; Hoeffding trees, ARF, kNN, naive Bayes, MLPs to come). The processor, its
// challengers, the background learner and `streamlearn model` use only this, so a new family
// is its own files and tests plus one entry in the factory's table (learner_factory.hpp).
//
// Contract (tests/learner_contract.hpp checks it for every family):
//   - predict() is const, touches no hidden state and does not allocate once the reused
//     Prediction has grown; before any learning it still gives a finite score.
//   - learn() is one test-then-train step; non-finite inputs or labels never corrupt the
//     state (they are skipped and counted in guarded_updates()).
//   - save() writes the learner's snapshot, which starts with its family's 4-byte kind tag
//     (the factory's RestoreLearner dispatches on it); load() replaces the state with a
//     saved one of the same kind and settings, and refuses anything else with a reason
//     (Corruption for bad bytes, FailedPrecondition for another kind), leaving the learner
//     unchanged. A restored learner predicts and continues exactly as the saved one.
//   - fresh_copy() is what drift.action background trains from a warning on: the same
//     settings, no learned parameters, what it knows of its inputs kept.
//   - reset() is a drift reset: learned parameters forgotten, input statistics, known
//     classes and counters kept.
//   - mix() merges peers' models of the same kind into this one (model sync across
//     instances). Mixing with copies of itself, or with peers of weight 0, changes nothing;
//     trained() stays this learner's own count. A family that does not mix answers
//     Unimplemented and stays unchanged; a peer of another kind or settings is
//     FailedPrecondition, nothing changed.
// Threads: one owner; predict() may be called concurrently only with other const calls.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/feature_vector.hpp"

namespace streamlearn::learn {

// What a learner predicts, which decides how its labels read (see Learner::learn).
enum class LearnerTask : uint8_t { kBinary, kMulticlass, kRegression };
std::string_view ToString(LearnerTask task);

// The most classes a multiclass learner knows (the pipeline refuses the next label).
inline constexpr uint32_t kMaxLearnerClasses = 1024;

struct Prediction {
  // binary: P(y = 1) for probabilistic learners, else a margin (hinge: w·x + b);
  // multiclass: P(class_index); regression: the predicted value. Always finite.
  double score = 0;
  // binary: 0 or 1; multiclass: the most probable class (lowest index on ties), -1 while
  // no class is known; regression: -1.
  int32_t class_index = -1;
  // multiclass: P(class k) for k = 0, 1, ...; empty otherwise. Reusing one Prediction
  // keeps the capacity, so predicting into it does not allocate.
  std::vector<double> probabilities;
};

class Learner;

// What a learner's predict_keeping() found on its way that learn_predicted() of the same
// vector would compute again (a tree: the leaf reached and its naive Bayes votes). The
// learner makes it; the caller holds it between the two calls, one per learner.
class PredictionMemo {
 public:
  virtual ~PredictionMemo() = default;
};

// A peer's model for Learner::mix, with its weight: the events it learned since the models
// were last mixed (0 or less, or not finite: it contributes nothing).
struct MixInput {
  const Learner* learner = nullptr;
  double weight = 0;
};

// The name of dense feature `index` (the pipeline's feature dictionary), for describe().
using DenseFeatureName = std::function<std::string(size_t index)>;

class Learner {
 public:
  virtual ~Learner() = default;

  // The model type it was made as (the factory's type name: "logistic", "softmax", ...).
  virtual std::string_view type() const = 0;
  virtual LearnerTask task() const = 0;
  // binary: whether score is P(y = 1) (else a margin, with no probability to score).
  virtual bool scores_probability() const = 0;
  // Whether it reads FeatureVector's nominal pairs (the pipeline then has the feature
  // builder give them: features.nominals); the others read the hashed block only.
  virtual bool reads_nominals() const { return false; }

  virtual void predict(const FeatureVector& x, Prediction& out) const = 0;
  // y: 0/1 (binary), the class index 0, 1, ... (multiclass), the value (regression).
  // weight: the event's importance, 1 for an ordinary event, 0 (or less) learns nothing.
  // Families without native weights learn a whole weight k as k repeats (ARF's Poisson
  // weights are whole) and round a fractional one.
  virtual void learn(const FeatureVector& x, double y, double weight = 1.0) = 0;

  // Test-then-train without the work twice: predict() that also keeps in `memo` what
  // learn_predicted() of the same x reuses (`memo` may hold nothing or another learner's:
  // the learner puts its own there, allocating only then). learn_predicted(x, ...) gives
  // exactly learn()'s result; x must be the vector of the last predict_keeping() into
  // `memo`. A memo this learner did not make, or made before the learner last changed
  // (learned, loaded, reset), is ignored. The defaults keep nothing.
  virtual void predict_keeping(const FeatureVector& x, Prediction& out, std::unique_ptr<PredictionMemo>& memo) const {
    (void)memo;
    predict(x, out);
  }
  virtual void learn_predicted(const FeatureVector& x, double y, double weight, const PredictionMemo* memo) {
    (void)memo;
    learn(x, y, weight);
  }

  virtual void save(ByteWriter& out) const = 0;
  virtual Status load(ByteReader& in) = 0;

  virtual std::unique_ptr<Learner> fresh_copy() const = 0;
  virtual void reset() = 0;

  // Merges `peers` into this model, this one weighing `own_weight` (the events it learned
  // since the last mix). Linear models average their parameters (McDonald et al. 2010's
  // parameter mixing); the other families keep their own model (see docs/architecture.md).
  virtual Status mix(double own_weight, std::span<const MixInput> peers);

  // `streamlearn model inspect`: writes the learner's fields into the object `out` has
  // open: "learner" (its settings, key -> text) and what the family learned, with dense
  // features named by `name` (linear: "weights", per output: bias, dense weights by
  // feature name, the `top_sparse` largest hashed weights).
  virtual void describe(JsonWriter& out, const DenseFeatureName& name, size_t top_sparse) const = 0;

  virtual size_t memory_bytes() const = 0;       // parameters, statistics and scratch held
  virtual uint64_t trained() const = 0;          // events learned, across resets
  virtual uint64_t guarded_updates() const = 0;  // events skipped to keep the state finite
};

}  // namespace streamlearn::learn

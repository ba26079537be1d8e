#pragma once
// Model selection in the stream: which candidate serves the predictions. Every candidate
// (the configured model, the challengers, the baselines) is scored test-then-train on the
// same labelled events; the serving one is replaced when another leads it on a rolling
// metric by selection.margin, no sooner than selection.min_events after the last switch
// (hysteresis: two nearly equal candidates do not flap). As River's greedy selection, all
// candidates learn every event and the best serves; unlike it, the figure is a rolling
// window, so the choice follows a change of concept.
//
// The selector owns the ranking and the baselines (they predict from the labels alone);
// the processor owns the learners, predicts with them and hands the selector their
// predictions. Private to the pipeline lib.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {

enum class CandidateKind : uint8_t {
  kLearner,   // the configured model or a challenger: the processor predicts with it
  kNoChange,  // predicts the last label seen
  kMajority,  // classification: the most frequent class so far
  kMean,      // regression: the running mean of the targets
};
std::string_view ToString(CandidateKind kind);

struct CandidateSpec {
  std::string name;
  CandidateKind kind = CandidateKind::kLearner;
};

// The candidates of a pipeline, in the order the selector numbers them: the configured
// model (0, serving at the start), the challengers by name, then the baselines of its task
// when selection.include_baselines. The one place that says what competes.
std::vector<CandidateSpec> SelectionCandidates(const PipelineConfig& config, Task task);
// The baselines of a task, as SelectionCandidates appends them.
std::vector<CandidateSpec> BaselineCandidates(Task task);

// What competes when the config names no model (ApplyDefaultModels): beside the task's
// linear model (logistic, softmax or linear), these challengers, by name and type, with the
// baselines. Chosen by measurement (docs/evaluation.md#choosing-the-defaults): cheap
// enough to run on every event, and each wins somewhere the linear model loses.
struct DefaultCandidate {
  std::string name;
  std::string type;
};
std::vector<DefaultCandidate> DefaultCandidates(Task task);

// selection.metric fits the model's task, no challenger is named like a baseline. The first
// problem, naming its key.
Status ValidateSelectionSettings(const PipelineConfig& config);
// selection.metric with auto resolved for `task`.
SelectionMetric ResolvedMetric(SelectionMetric metric, Task task);

// A switch of the serving candidate, as select() decided it.
struct CandidateSwitch {
  size_t from = 0, to = 0;
  double from_value = 0, to_value = 0;  // their rolling metric (accuracy, log loss or MAE)
  uint64_t labelled = 0;                // labelled events scored when it happened
};

class ModelSelector {
 public:
  ModelSelector(const SelectionSettings& settings, Task task, std::vector<CandidateSpec> candidates);

  size_t size() const { return candidates_.size(); }
  const std::string& name(size_t i) const { return candidates_[i].spec.name; }
  CandidateKind kind(size_t i) const { return candidates_[i].spec.kind; }
  SelectionMetric metric() const { return metric_; }
  size_t champion() const { return champion_; }
  uint64_t switches() const { return switches_; }

  // A baseline's prediction from the labels seen so far (binary scores are P(y = 1)).
  void predict_baseline(size_t i, learn::Prediction& out) const;
  // One served prediction of the champion (counted for evaluate and status).
  void count_served() { candidates_[champion_].served++; }

  // Scores candidate i's prediction of one labelled event (`true_class_probability` NaN
  // when it has none: its class is then taken as certain).
  void score(size_t i, const learn::Prediction& prediction, double true_class_probability, double y);
  // Scores every baseline on `y`, then they learn it. Call once per labelled event, after
  // the learners were scored.
  void score_and_learn_baselines(double y);
  // After every candidate was scored on a labelled event: the switch the rule makes, if any
  // (already applied: champion() is the new one).
  std::optional<CandidateSwitch> select();

  // The rolling metric of candidate i (accuracy, log loss or MAE); NaN before any score.
  double value(size_t i) const;
  // The figures /v1/status and evaluate show (processor.hpp's SelectionStats).
  SelectionStats stats() const;

  // The state a restored processor continues from bit-identically: each candidate's window
  // and counts, by name; the champion; the baselines' label history. load() keeps what
  // matches the configured candidates by name (a new one starts fresh, a dropped one is
  // skipped); a serving candidate no longer configured gives the service back to the model.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  struct Candidate {
    CandidateSpec spec;
    std::vector<double> losses;  // ring of the last `window` losses
    size_t next = 0;             // where the next loss goes
    double sum = 0;              // of the ring's losses
    uint64_t scored = 0;
    uint64_t served = 0;
  };
  // What the baselines know: the labels seen, as counts and the last one.
  struct LabelHistory {
    uint64_t n = 0;
    double last = 0;
    uint64_t stays = 0;        // labels equal to the one before (classification)
    double mean = 0;           // regression
    std::vector<uint64_t> class_counts;  // classification, by class index
  };
  double loss(const learn::Prediction& prediction, double true_class_probability, double y) const;
  // Loss of the rolling figure: lower is better.
  double rolling_loss(size_t i) const;
  void push_loss(Candidate& c, double loss);

  SelectionSettings settings_;
  Task task_;
  SelectionMetric metric_;
  std::vector<Candidate> candidates_;
  size_t champion_ = 0;
  uint64_t labelled_ = 0;        // select() calls: labelled events
  uint64_t since_switch_ = 0;    // labelled events since the last switch (or the start)
  uint64_t switches_ = 0;
  LabelHistory history_;
  learn::Prediction scratch_;
};

}  // namespace streamlearn::pipeline

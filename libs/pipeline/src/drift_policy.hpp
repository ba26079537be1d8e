#pragma once
// What the pipeline does about concept drift, apart from publishing it: the detector on the
// champion's errors, the warning detector (drift.action background with a detector without
// a warning zone), the background learner, the action (none / reset / background),
// improvements told apart from drifts, and the counts. update() returns what happened; the
// processor publishes it (records, logs, metrics). Private to the pipeline lib.

#include <cstdint>
#include <memory>
#include <string_view>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/drift/detector.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

class DriftPolicy {
 public:
  using Action = DriftAction;  // the config's, typed at load

  struct Counts {
    uint64_t improvements = 0;  // detections where the error fell: not acted on
    uint64_t warnings = 0;      // entries into the warning zone (published)
    uint64_t backgrounds_started = 0;
    uint64_t backgrounds_dropped = 0;
  };

  // What one update did.
  struct Outcome {
    enum class Kind : uint8_t {
      kNone,
      kImprovement,  // the detector fired on a falling error: nothing done
      kDrift,        // concept drift: the action was applied to the model
      kWarning,      // the warning zone was entered (published once)
    };
    Kind kind = Kind::kNone;
    // kDrift: the configured action; kWarning: "background" when a background learner
    // started, else "none".
    std::string_view action;
    bool model_replaced = false;      // kDrift with reset or background: a new model version
    bool background_swapped = false;  // kDrift: the background learner became the model
    bool background_started = false;  // kWarning under drift.action background
    bool background_dropped = false;  // the warning cleared: the background learner is gone
    double error_before = 0;          // the detector's estimate before this error …
    double error_after = 0;           // … and after it
    // For the record under drift.action background: the swapped-in learner's events since
    // its warning (kDrift), the new one's (kWarning: 0), or the dropped one's.
    uint64_t background_trained = 0;
  };

  // The detector of drift.detector with drift.params (drift.delta as ADWIN's default delta),
  // and under action background a looser ADWIN (drift.warning_delta) as the warning for
  // detectors without a warning zone. InvalidArgument naming the key.
  static Result<std::unique_ptr<DriftPolicy>> Create(const DriftSettings& settings);

  // The champion's error on one labelled event (0/1, or |residual| for regression), after
  // its prediction was scored. Applies the action to `model`: a reset, or the background
  // learner swapped in.
  Outcome update(double error, std::unique_ptr<learn::Learner>& model);
  // The event the model is about to learn: the background learner learns it too.
  void learn(const FeatureVector& x, double y) {
    if (!background_) return;
    background_->learn(x, y);
    background_trained_++;
  }

  // The champion was replaced from outside (model sync took a peer's version): the
  // detectors start over on its errors, and a background learner of the old one is dropped.
  void restart() {
    detector_->reset();
    if (warning_detector_) warning_detector_->reset();
    background_.reset();
    background_trained_ = 0;
    in_warning_ = false;
  }

  Action action() const { return action_; }
  std::string_view action_name() const;
  const drift::DriftDetector& detector() const { return *detector_; }
  const Counts& counts() const { return counts_; }
  bool has_background() const { return background_ != nullptr; }
  uint64_t background_trained() const { return background_trained_; }

  // Snapshot parts, where the processor's snapshot has them (its bytes are kept): the
  // detector; the warning flag and the counts; the warning detector and background learner.
  void save_detector(ByteWriter& w) const { detector_->save(w); }
  Status load_detector(ByteReader& r) { return detector_->load(r); }
  bool in_warning() const { return in_warning_; }
  void restore_state(bool in_warning, const Counts& counts) {
    in_warning_ = in_warning;
    counts_ = counts;
  }
  void save_learners(ByteWriter& w) const;
  // Parts written under another drift configuration are read and dropped: the configured
  // ones then start fresh. `model` gives the background learner its kind.
  Status load_learners(ByteReader& r, const learn::Learner& model);

 private:
  DriftPolicy() = default;
  void tend_background(double error, drift::DriftLevel level, bool was_warning, learn::Learner& model,
                       Outcome& out);

  Action action_ = Action::kReset;
  uint64_t background_max_events_ = 0;
  std::unique_ptr<drift::DriftDetector> detector_;
  std::unique_ptr<drift::DriftDetector> warning_detector_;
  std::unique_ptr<learn::Learner> background_;
  uint64_t background_trained_ = 0;
  bool in_warning_ = false;  // the detector's last level was a warning
  Counts counts_;
};

}  // namespace streamlearn::pipeline

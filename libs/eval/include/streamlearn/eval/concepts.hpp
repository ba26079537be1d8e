#pragma once
// Evaluation on streams with known concept changes (the generators' "meta":{"concept":K}
// markers): how well a model does on each concept, how fast it recovers after a change,
// and how well a drift detector finds the changes.
//
// Positions are 0-based indices of the labelled events in stream order (the N of the
// generated ids "e-N" when every event is labelled and kept). A detection at position i
// means the detector fired after the update for event i.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace streamlearn::eval {

struct ConceptTrackerOptions {
  enum class Measure {
    kAccuracy,  // values are 1 (correct) or 0 (wrong); higher is better
    kLoss,      // values are per-event losses; lower is better
  };
  Measure measure = Measure::kAccuracy;
  // N: each segment reports its mean over its first N events (0 is read as 1).
  size_t first_events = 1000;
  // W: the rolling window of the recovery rule below (0 is read as 1).
  size_t rolling_window = 500;
  // X: how close (in the measure's units; 0.02 = 2 accuracy points) the rolling figure
  // must come back to the previous segment's final rolling figure.
  double recovery_tolerance = 0.02;
};

// One stretch of the stream under one concept: from a change to the next.
struct ConceptSegment {
  int concept_index = 0;
  uint64_t start = 0;   // position of its first event
  uint64_t events = 0;  // so far
  double mean = 0;      // accuracy (or mean loss) over its events
  uint64_t first_events = 0;     // min(N, events)
  double first_events_mean = 0;  // over those first events: the cost of the change
  // The mean over its last min(W, events) events: where the model stood when it ended
  // (or stands now, for the last segment).
  double final_rolling = 0;
  // The previous segment's final_rolling; NaN for the first segment.
  double previous_final_rolling = std::numeric_limits<double>::quiet_NaN();
  // Recovery: the smallest k >= W such that the mean over this segment's events
  // k-W+1 .. k (counting its first event as 1, so W events all after the change) is
  // within X of previous_final_rolling (accuracy >= previous - X; loss <= previous + X).
  // k counts events since the change, including the event that completed the window.
  // -1 while it has not happened (always for the first segment and for segments shorter
  // than W).
  int64_t recovery_events = -1;
};

// Figures per concept index, over all the segments that had it (concepts may recur).
struct ConceptSummary {
  int concept_index = 0;
  uint64_t segments = 0;
  uint64_t events = 0;
  double mean = 0;
};

// Segments the stream whenever the concept index differs from the previous event's.
// Constant memory apart from one record per segment.
class ConceptTracker {
 public:
  explicit ConceptTracker(ConceptTrackerOptions options = {});

  // value: 1/0 for correct/wrong with Measure::kAccuracy, the event's loss with kLoss.
  void update(int concept_index, double value);
  void update_correct(int concept_index, bool correct) { update(concept_index, correct ? 1.0 : 0.0); }

  uint64_t position() const { return position_; }  // events seen = the next event's position
  const std::vector<ConceptSegment>& segments() const { return segments_; }
  std::vector<uint64_t> change_positions() const;  // start of every segment but the first
  std::vector<ConceptSummary> per_concept() const;  // ordered by concept index
  const ConceptTrackerOptions& options() const { return options_; }

 private:
  ConceptTrackerOptions options_;
  uint64_t position_ = 0;
  std::vector<ConceptSegment> segments_;
  double segment_sum_ = 0;
  double first_sum_ = 0;
  // The current segment's last W values (restarted at each change).
  std::vector<double> window_;
  size_t window_next_ = 0;
  size_t window_filled_ = 0;
  double window_sum_ = 0;
};

// Detection scoring. For each true change c_i (next change c_{i+1}, or none for the last),
// the detections in [c_i, min(c_{i+1}, c_i + tolerance)) are attributable to it: the
// first is its detection (delay = detection - c_i), any later ones are repeats. A change
// with none is missed. Every other detection is a false alarm: before the first change,
// or after a change's tolerance window ran out before the next change. The default
// tolerance (no limit) attributes everything up to the next change.
struct ChangeDetection {
  uint64_t change_at = 0;
  int64_t detected_at = -1;  // -1 = missed
  int64_t delay = -1;        // detected_at - change_at, -1 = missed
  uint64_t repeats = 0;      // further detections attributable to this change
};

struct DetectionScore {
  std::vector<ChangeDetection> changes;
  uint64_t detected = 0;
  uint64_t missed = 0;
  std::vector<uint64_t> false_alarms;  // positions, ascending
  uint64_t repeats = 0;
  double mean_delay = std::numeric_limits<double>::quiet_NaN();  // over detected changes
};

// Inputs need not be sorted; duplicate change positions count once.
DetectionScore ScoreDetections(std::vector<uint64_t> true_changes, std::vector<uint64_t> detections,
                               uint64_t tolerance = std::numeric_limits<uint64_t>::max());

// JSON, for evaluate's report:
//   [{"concept":K,"start":s,"events":n,"accuracy":…,"first_events":m,"first_events_accuracy":…,
//     "final_rolling_accuracy":…,"previous_final_rolling_accuracy":…|null,"recovery_events":k|null},…]
// with "loss" in place of "accuracy" in the names under Measure::kLoss.
void AppendSegmentsJson(std::string& out, const std::vector<ConceptSegment>& segments,
                        ConceptTrackerOptions::Measure measure = ConceptTrackerOptions::Measure::kAccuracy);
//   {"changes":[{"at":c,"detected_at":d|null,"delay":d|null,"repeats":r},…],"detected":n,
//    "missed":m,"false_alarms":[p,…],"repeats":r,"mean_delay":x|null}
void AppendDetectionJson(std::string& out, const DetectionScore& score);

}  // namespace streamlearn::eval

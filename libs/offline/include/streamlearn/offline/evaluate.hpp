#pragma once
// Offline prequential evaluation (`streamlearn evaluate`): the same Processor that `run`
// drives from Kafka, fed from a file of JSON lines instead. Every labelled event is scored
// with the prediction that was served for it, then learned (test-then-train), so the
// figures are those the service would have reported on the same stream.
//
// Positions. An event's position is its 0-based line number in the events input (blank
// lines are skipped but keep their number), which is also the offset of the RawMessage it
// becomes (topic kafka.topics.events, partition 0), so an event without an "id" gets
// "events-0-<line>" as in `run`. For files written by `streamlearn gen` the position of
// "e-N" is N. True concept changes are the positions where the events' "meta":{"concept":K}
// marker differs from the previous marked line's (whether or not the event decodes or gets
// a label); a detection is the position of the event named by a drift event's event_id
// (the labelled event whose update fired it). Per-concept figures cover the scored events.
//
// Delayed labels. With a labels input, label records ({"id","label","ts"}) are merged with
// the events by "ts" (a label goes before every event with a larger ts; on a tie the
// events go first) and fed as messages of kafka.topics.labels, with labels.enabled set:
// the join is the service's own, with its TTLs in event time. A line without a readable
// "ts" keeps its input's order (it sorts with the previous line's ts); the decoder still
// judges the record itself.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <optional>
#include <istream>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/eval/concepts.hpp"
#include "streamlearn/eval/metrics.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {

// Where the lines come from: a file, standard input or a test's string stream.
struct EvaluateInputs {
  // Required. One event per line: JSON (schemas/event.schema.json), or key<TAB>JSON as written by
  // `streamlearn gen --format kcat` (the key is the default entity, as a Kafka key is).
  std::istream* events = nullptr;
  std::string events_name = "events";  // names the input in messages (a path, or "-")
  // Optional: delayed label records, one per line, in any order of arrival.
  std::istream* labels = nullptr;
  std::string labels_name = "labels";
};

struct EvaluateOptions {
  size_t batch_size = 1000;  // messages per Processor::process call (0 read as 1)
  // The learning curve keeps between curve_points and 2 * curve_points points (every
  // k-th labelled event, k doubling as the stream grows), so a report stays small
  // however long the input is, without knowing its length in advance.
  size_t curve_points = 2000;
  // Per-concept figures: first_events (N of "first-N accuracy"), the recovery window and
  // tolerance (see eval::ConceptTracker).
  eval::ConceptTrackerOptions concepts;
  // Detections more than this many positions after a change count as false alarms.
  uint64_t detection_tolerance = std::numeric_limits<uint64_t>::max();
  // Dead-letter reasons kept as examples for the report (the count is always complete).
  size_t invalid_examples = 5;
};

// Reported after every batch and once at the end (final = true); the caller throttles.
struct EvaluationProgress {
  uint64_t events = 0;    // event lines fed so far
  uint64_t labelled = 0;  // outcomes scored so far
  double seconds = 0;
  double accuracy = eval::kNoScore;
  double rolling_accuracy = eval::kNoScore;
  // A regression model (linear, huber): these instead of the accuracies.
  bool regression = false;
  double mae = eval::kNoScore, rmse = eval::kNoScore, r2 = eval::kNoScore;  // cumulative
  double rolling_mae = eval::kNoScore;
  bool final = false;
};
using EvaluationProgressFn = std::function<void(const EvaluationProgress&)>;

// One sample of the learning curve, taken after a labelled event was scored.
struct CurvePoint {
  uint64_t position = 0;  // the largest event position scored so far (monotonic)
  uint64_t labelled = 0;  // outcomes scored so far, this one included
  double accuracy = eval::kNoScore;          // cumulative
  double rolling_accuracy = eval::kNoScore;  // over metrics.rolling_window
  double majority_accuracy = eval::kNoScore;   // majority-class baseline, cumulative
  double no_change_accuracy = eval::kNoScore;  // no-change baseline, cumulative
  // Regression (the four above stay kNoScore): MAE of the served predictions, cumulative
  // and over metrics.rolling_window, and of the mean and no-change baselines, cumulative.
  double mae = eval::kNoScore;
  double rolling_mae = eval::kNoScore;
  double mean_mae = eval::kNoScore;
  double no_change_mae = eval::kNoScore;
};

// A drift or warning event the Processor published, placed in the stream.
struct DriftMark {
  std::string level;   // "drift" or "warning"
  std::string action;  // what was done: "none", "reset", …
  std::string detector;
  std::string event_id;
  int64_t position = -1;  // of the event named by event_id; -1 when it could not be placed
  uint64_t events = 0;    // the Processor's prediction count when it fired
  int64_t ts_ms = -1;
  uint64_t model_version = 0;  // the version the detection was about
  std::string reason;          // "diverged": a regression champion ran away (no detection); else empty
};

// A data drift alarm (drift.data_enabled): an input's distribution moved, whatever the
// model's errors did.
struct DataDriftMark {
  std::string feature;
  std::string kind;      // "numeric" or "categorical"
  std::string detector;  // adwin, kswin, psi
  double statistic = eval::kNoScore;
  std::string event_id;
  int64_t position = -1;
};

// A switch of the serving candidate (selection.enabled), placed in the stream.
struct SwitchMark {
  std::string from, to;
  double from_value = eval::kNoScore, to_value = eval::kNoScore;  // their rolling metric
  std::string event_id;
  int64_t position = -1;  // of the labelled event that decided it; -1 when it could not be placed
  uint64_t labelled = 0;  // labelled events scored when it happened
  uint64_t model_version = 0;  // the new version
};

// A slice_gap record (metrics.slice_gap_alert) as evaluate saw it.
struct SliceGapMark {
  std::string field;
  std::string metric;  // demographic_parity | equal_opportunity
  double gap = 0;
  std::string max_value, min_value;
  std::string event_id;
  int64_t position = -1;
};

struct InvalidExample {
  std::string input;  // events_name or labels_name
  int64_t line = 0;   // 1-based, as editors count
  std::string reason;
};

// What a run found. Figures are NaN where undefined (JSON null).
struct EvaluationResult {
  std::string events_name;
  std::string labels_name;  // empty without a labels input
  std::string model_name, model_type, detector, drift_action;
  uint64_t model_version = 1;  // at the end (each reset bumps it)

  uint64_t events = 0;          // event lines fed (blank lines not counted)
  uint64_t invalid_events = 0;  // of those, dead-lettered
  uint64_t predictions = 0;
  uint64_t labelled = 0;  // events scored and learned (inline or joined labels)
  uint64_t clipped_values = 0;  // numeric feature values clipped (clip_std, clip_min/clip_max)
  std::vector<InvalidExample> invalid_examples;

  // The task the labels set; only binary classification today. Regression and multiclass
  // (softmax) fill `regression` or a wider `classification` when the Processor reports
  // them: the JSON, table and report already print whichever is present.
  std::optional<eval::ClassificationFigures> classification;
  std::optional<eval::RegressionFigures> regression;

  // Concept markers: present when any event line carried "meta":{"concept":K}.
  bool has_concepts = false;
  // Segments in position order; `start` is the position of the segment's first labelled
  // event (not its index among the labelled events).
  std::vector<eval::ConceptSegment> segments;
  std::vector<uint64_t> true_changes;  // positions
  eval::DetectionScore detection;      // meaningful when has_concepts

  // Challengers (config `challengers`), scored test-then-train on the same events as the
  // champion, with the processor's own figures.
  std::vector<ChallengerStats> challengers;
  // Model selection (selection.enabled): each candidate's figures and how many predictions
  // it served, and the switches in order. The champion's figures are the served stream's.
  SelectionStats selection;
  std::vector<SwitchMark> switches;

  std::vector<DriftMark> drifts;  // concept drifts and warnings, in the order they fired
  uint64_t drift_count = 0;       // level "drift"
  uint64_t warning_count = 0;
  uint64_t divergence_count = 0;  // resets of a diverged regression champion (in `drifts`, reason "diverged")
  std::vector<DataDriftMark> data_drifts;
  // Sliced metrics (metrics.slices) at the end, and the gap alerts on the way.
  std::vector<FieldSlices> slices;
  std::vector<SliceGapMark> slice_gaps;

  // Delayed labels (with a labels input only).
  bool has_labels = false;
  uint64_t label_lines = 0;
  uint64_t invalid_labels = 0;  // label records dead-lettered as undecodable
  LabelJoinCounts label_counts;
  uint64_t pending_at_end = 0;  // predictions still waiting for a label when the input ended

  std::vector<CurvePoint> curve;
  size_t rolling_window = 0;
  double seconds = 0;
  double events_per_s = 0;
};

// Runs `config`'s pipeline over the inputs (no Kafka, no state store: state.* and http.*
// are ignored). With a labels input, labels.enabled is switched on. Fails when an input
// cannot be read or the Processor stops (never for a bad line: that is a dead letter).
Result<EvaluationResult> Evaluate(const PipelineConfig& config, const EvaluateInputs& inputs,
                                  const EvaluateOptions& options = {},
                                  const EvaluationProgressFn& progress = nullptr);

// One JSON object, no newline:
//   {"events":N,"invalid":I,"predictions":P,"labelled":L,
//    "model":{"name","type","version","detector","action"},
//    "metrics":{…eval::AppendClassificationJson…} (or eval::AppendRegressionJson's),
//    "concepts":[…eval::AppendSegmentsJson…], "true_changes":[…],
//    "detection":{…eval::AppendDetectionJson…}|null,
//    "drifts":[{"position","level","action","detector","event_id","events","ts","version"},…],
//    "drift_count":n,"warning_count":w,
//    "data_drifts":[{"position","feature","kind","detector","statistic","event_id"},…],
//    ["labels":{"lines","invalid","joined","early","unknown","late","duplicate","expired",
//               "evicted","early_evicted","pending_at_end"},]
//    "seconds":s,"events_per_s":r}
std::string EvaluationJson(const EvaluationResult& result);

// A figure as the table and the progress line print it: `decimals` places for ordinary
// magnitudes (0, and 0.001 <= |v| < 1e6), else max(decimals, 4) significant digits in exponent
// form ("2.412e+57", "1e-09"), so a diverged model's figures stay short; "-" when
// undefined (NaN, infinite).
std::string FormatFigure(double v, int decimals = 4);

// The human-readable summary `evaluate` prints on stdout: counts, the metrics cumulative
// and rolling beside the baselines, drift events, per-concept figures, detection scoring
// and the label join. Lines end in '\n'.
std::string EvaluationTable(const EvaluationResult& result);

// One self-contained HTML page (inline SVG and CSS; no scripts, fonts or links): the
// learning curves with the baselines, vertical markers at the true changes and at the
// detections, and the tables.
std::string EvaluationReportHtml(const EvaluationResult& result);

// The model type a default pipeline should use for these event lines (JSON or key<TAB>JSON),
// from the labels among the first `max_lines`: class names -> "softmax", other numbers than
// 0/1 -> "linear", else "logistic".
std::string GuessModelType(std::istream& lines, size_t max_lines = 1000);

}  // namespace streamlearn::pipeline

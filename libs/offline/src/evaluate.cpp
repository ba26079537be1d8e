#include "streamlearn/offline/evaluate.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <istream>
#include <memory>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/features/features.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/scoring.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kNoTs = -1;
constexpr int kNoConcept = std::numeric_limits<int>::min();

// What evaluate reads of a line besides the Processor: the event's id (to place its
// outcome), ts (to merge with labels) and concept marker. A line that does not parse
// leaves them empty; the Processor's decoder then dead-letters it with the reason.
struct LineFacts {
  std::string id;
  int64_t ts = kNoTs;
  int concept_index = kNoConcept;
};

// `gen --format kcat` writes key<TAB>JSON; a JSON line starts with '{' (or is invalid).
// Where the JSON of `line` begins: after the tab of a keyed line, else 0.
size_t PayloadBegin(std::string_view line) {
  if (line.empty() || line.front() == '{') return 0;
  const size_t tab = line.find('\t');
  return tab == std::string_view::npos ? 0 : tab + 1;
}

class FactReader {
 public:
  // A failed allocation (out of memory) only means no facts: the decoder still judges lines.
  FactReader() : allocated_(parser_.allocate(1 << 20, 16) == simdjson::SUCCESS) {}

  void read(std::string_view json, LineFacts* out) {
    out->id.clear();
    out->ts = kNoTs;
    out->concept_index = kNoConcept;
    if (!allocated_ || json.empty() || json.size() > (1 << 20)) return;
    if (padded_.size() < json.size() + simdjson::SIMDJSON_PADDING) padded_.resize(json.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), json.data(), json.size());
    simdjson::dom::element root;
    if (parser_.parse(padded_.data(), json.size(), false).get(root)) return;
    simdjson::dom::object top;
    if (root.get(top)) return;
    std::string_view id;
    if (!top["id"].get(id)) out->id.assign(id);
    int64_t ts = 0;
    if (!top["ts"].get(ts) && ts >= 0) out->ts = ts;
    int64_t concept_index = 0;
    if (!top.at_pointer("/meta/concept").get(concept_index) && concept_index >= std::numeric_limits<int>::min() + 1 &&
        concept_index <= std::numeric_limits<int>::max()) {
      out->concept_index = static_cast<int>(concept_index);
    }
  }

 private:
  simdjson::dom::parser parser_;
  bool allocated_;
  std::vector<char> padded_;
};

// One line of an input, read ahead so the merge can compare timestamps.
struct Line {
  std::string text;
  int64_t number = -1;  // 0-based line number in its input
  // Where key and payload sit in `text` (offsets, not views: a swapped short string moves).
  size_t key_size = 0;
  size_t payload_begin = 0;
  LineFacts facts;
  int64_t merge_ts = std::numeric_limits<int64_t>::min();
};

// Reads the non-blank lines of one input, keeping the line numbers.
class LineSource {
 public:
  LineSource(std::istream* in, std::string name, bool keyed) : in_(in), name_(std::move(name)), keyed_(keyed) {}

  // Fills *line with the next non-blank line, its facts read by `facts` (none when null);
  // false at the end (or on a read error, which status() then reports).
  bool next(Line* line, FactReader* facts) {
    if (!in_) return false;
    while (std::getline(*in_, line->text)) {
      const int64_t number = next_number_++;
      if (!line->text.empty() && line->text.back() == '\r') line->text.pop_back();  // CRLF files
      if (line->text.find_first_not_of(" \t") == std::string::npos) continue;
      // Room for the JSON parser to read past the line's end, so the event is parsed where
      // it is instead of copied (the buffer is reused: this allocates only when a line is
      // longer than all before it).
      if (line->text.capacity() - line->text.size() < EventDecoder::kReadPastEnd) {
        line->text.reserve(line->text.size() + EventDecoder::kReadPastEnd);
      }
      line->number = number;
      line->key_size = 0;
      line->payload_begin = 0;
      if (keyed_) {
        line->payload_begin = PayloadBegin(line->text);
        line->key_size = line->payload_begin == 0 ? 0 : line->payload_begin - 1;
      }
      if (facts != nullptr) {
        facts->read(std::string_view(line->text).substr(line->payload_begin), &line->facts);
      } else {
        line->facts.id.clear();
        line->facts.ts = kNoTs;
        line->facts.concept_index = kNoConcept;
      }
      // A line without a ts sorts with the previous line: the input's order is kept.
      if (line->facts.ts != kNoTs) last_ts_ = line->facts.ts;
      line->merge_ts = last_ts_;
      return true;
    }
    return false;
  }

  Status status() const {
    if (in_ && in_->bad()) return Status::IoError("cannot read " + name_);
    return Status::Ok();
  }

 private:
  std::istream* in_;
  std::string name_;
  bool keyed_;
  int64_t next_number_ = 0;
  int64_t last_ts_ = std::numeric_limits<int64_t>::min();
};

// Where a scored event sits in the stream.
struct EventMark {
  uint64_t position = 0;
  int concept_index = kNoConcept;
};

struct Outcome {
  uint64_t position;
  int concept_index;
  bool correct;
};

// What model.type predicts (a type the factory does not know fails when the Processor is made).
class Evaluation final : public OutputSink {
 public:
  Evaluation(const PipelineConfig& config, const EvaluateInputs& inputs, const EvaluateOptions& options)
      : config_(config),
        inputs_(inputs),
        options_(options),
        classifier_(eval::ClassifierMetricsOptions{static_cast<size_t>(std::max(1, config.metrics.rolling_window)),
                                                   1000, 1024}),
        regressor_(eval::RegressorMetricsOptions{static_cast<size_t>(std::max(1, config.metrics.rolling_window))}),
        task_(TaskOf(config.model)) {
    if (inputs_.labels) config_.labels.enabled = true;
    delayed_ = config_.labels.enabled;
    options_.batch_size = std::max<size_t>(options_.batch_size, 1);
    options_.curve_points = std::max<size_t>(options_.curve_points, 2);
  }

  Result<EvaluationResult> run(const EvaluationProgressFn& progress);

  // OutputSink: predictions are not needed offline (the observer sees every scored one);
  // drift records are read as they are.
  Status write(const PredictionRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord& record) override;
  Status write(const ConceptDriftRecord& record) override;
  Status write(const DataDriftRecord& record) override;
  Status write(const ModelSwitchRecord& record) override;
  Status write(const SliceGapRecord& record) override;

 private:
  void observe(const LearnOutcome& outcome);
  // The learning curve's point after `labelled` outcomes: accuracies, or MAEs for regression.
  CurvePoint curve_point(uint64_t labelled) const;
  // An event line taken into the batch, its facts known: where its outcome will be placed,
  // and its concept marker.
  void note_event(Line& line);
  // Without delayed labels nothing needs a line's facts before the Processor decodes it:
  // they are taken from its decoder instead of parsing each line twice.
  void on_decoded(const DecodedEvent& decoded);
  // Where the event with this id sits; `consume` when its outcome is being scored (it will
  // not be asked for again).
  std::optional<EventMark> place(std::string_view event_id, bool consume);
  Status flush(Processor& processor);
  void finish(const Processor& processor);
  EvaluationProgress progress_now(double seconds, bool final) const;

  PipelineConfig config_;
  EvaluateInputs inputs_;
  EvaluateOptions options_;
  bool delayed_ = false;
  EvaluationResult result_;
  FactReader facts_;

  // The batch being filled: lines, then the RawMessages viewing them.
  std::vector<Line> batch_lines_;
  std::vector<bool> batch_is_label_;
  size_t batch_used_ = 0;
  std::vector<RawMessage> raw_;

  // Placing outcomes. Inline labels are scored during their own batch, in order, so a
  // cursor over the batch's events finds each; delayed ones may come any time later, so
  // events wait in a map by id until their label joins (one entry per unlabelled event).
  struct BatchEvent {
    std::string id;
    EventMark mark;
  };
  std::vector<BatchEvent> batch_events_;
  size_t batch_events_used_ = 0;
  size_t cursor_ = 0;
  features::StringMap<EventMark> awaiting_;

  eval::PrequentialClassifier classifier_;
  eval::PrequentialRegressor regressor_;
  Task task_;
  std::vector<Outcome> outcomes_;  // with a concept marker; sorted by position at the end
  uint64_t max_position_ = 0;
  int last_concept_ = kNoConcept;  // of the last event line with a marker
  uint64_t curve_stride_ = 1;
  // Regression: the last metrics.rolling_window absolute errors and their sum, for the
  // rolling MAE curve in O(1) a point (figures() would walk the whole window each time).
  std::deque<double> rolling_errors_;
  double rolling_error_sum_ = 0;
};

Status Evaluation::write(const DeadLetterRecord& record) {
  const RawMessage& message = record.message;
  const std::string_view reason = record.reason;
  const bool is_label = delayed_ && message.source.topic == config_.kafka.labels_topic;
  // Labels that decoded but could not join are the join's counts (unknown, late), not
  // invalid lines.
  if (record.cause != DeadLetterRecord::Cause::kInvalid) return Status::Ok();
  if (is_label) {
    result_.invalid_labels++;
  } else {
    result_.invalid_events++;
  }
  if (result_.invalid_examples.size() < options_.invalid_examples) {
    result_.invalid_examples.push_back(
        {is_label ? inputs_.labels_name : inputs_.events_name, message.source.offset + 1, std::string(reason)});
  }
  return Status::Ok();
}

// Drift records are published while the Processor handles the event named by event_id (a
// concept drift while learning from it, before its outcome is observed), so it is still
// findable.
Status Evaluation::write(const ConceptDriftRecord& record) {
  DriftMark mark;
  mark.level.assign(record.level);
  mark.action.assign(record.action);
  mark.detector.assign(record.detector);
  mark.event_id.assign(record.event_id);
  mark.events = record.events;
  mark.model_version = record.version;
  mark.ts_ms = record.ts_ms;
  mark.reason.assign(record.reason);
  if (auto at = place(record.event_id, false)) mark.position = static_cast<int64_t>(at->position);
  if (!mark.reason.empty()) {
    result_.divergence_count++;  // not the detector's: neither a drift nor a detection
  } else if (mark.level == "drift") {
    result_.drift_count++;
  } else {
    result_.warning_count++;
  }
  result_.drifts.push_back(std::move(mark));
  return Status::Ok();
}

Status Evaluation::write(const ModelSwitchRecord& record) {
  SwitchMark mark;
  mark.from.assign(record.from);
  mark.to.assign(record.to);
  mark.from_value = record.from_value;
  mark.to_value = record.to_value;
  mark.event_id.assign(record.event_id);
  mark.labelled = record.labelled;
  mark.model_version = record.version;
  if (auto at = place(record.event_id, false)) mark.position = static_cast<int64_t>(at->position);
  result_.switches.push_back(std::move(mark));
  return Status::Ok();
}

Status Evaluation::write(const SliceGapRecord& record) {
  SliceGapMark mark;
  const SliceGapAlert& alert = *record.alert;
  mark.field = alert.field;
  mark.metric.assign(alert.metric);
  mark.gap = alert.gap;
  mark.max_value = alert.max_value;
  mark.min_value = alert.min_value;
  mark.event_id.assign(record.event_id);
  if (auto at = place(record.event_id, false)) mark.position = static_cast<int64_t>(at->position);
  result_.slice_gaps.push_back(std::move(mark));
  return Status::Ok();
}

Status Evaluation::write(const DataDriftRecord& record) {
  const drift::DataDriftEvent& alarm = *record.alarm;
  DataDriftMark mark;
  mark.feature = alarm.feature;
  mark.kind.assign(drift::ToString(alarm.kind));
  mark.detector = alarm.detector;
  if (std::isfinite(alarm.statistic)) mark.statistic = alarm.statistic;
  mark.event_id.assign(record.event_id);
  if (auto at = place(record.event_id, false)) mark.position = static_cast<int64_t>(at->position);
  result_.data_drifts.push_back(std::move(mark));
  return Status::Ok();
}

std::optional<EventMark> Evaluation::place(std::string_view event_id, bool consume) {
  if (delayed_) {
    auto it = awaiting_.find(event_id);
    if (it == awaiting_.end()) return std::nullopt;
    EventMark mark = it->second;
    if (consume) awaiting_.erase(it);
    return mark;
  }
  // Inline labels are scored in the batch's order: search on from the last one scored.
  for (size_t i = cursor_; i < batch_events_used_; ++i) {
    if (batch_events_[i].id == event_id) {
      if (consume) cursor_ = i + 1;
      return batch_events_[i].mark;
    }
  }
  return std::nullopt;
}

void Evaluation::note_event(Line& line) {
  EventMark mark{static_cast<uint64_t>(line.number), line.facts.concept_index};
  if (mark.concept_index != kNoConcept) {
    if (last_concept_ != kNoConcept && mark.concept_index != last_concept_) result_.true_changes.push_back(mark.position);
    last_concept_ = mark.concept_index;
    result_.has_concepts = true;
  }
  // Kept under the id the decoder gives it (topic-partition-offset when it has none).
  std::string& id = line.facts.id;
  if (id.empty()) id.append(config_.kafka.events_topic).append("-0-").append(std::to_string(line.number));
  if (delayed_) {
    awaiting_.insert_or_assign(id, mark);
  } else {
    BatchEvent& e = batch_events_[batch_events_used_++];
    e.id.assign(id);  // reuses the slot's buffer: no allocation once grown
    e.mark = mark;
  }
}

void Evaluation::on_decoded(const DecodedEvent& decoded) {
  Line& line = batch_lines_[decoded.index];
  if (decoded.event != nullptr) {
    line.facts.id.assign(decoded.event->id);
    line.facts.concept_index = decoded.concept_marker.value_or(kNoConcept);
  } else {
    // An invalid event: what a parse of its own finds (the JSON may still be fine).
    facts_.read(std::string_view(line.text).substr(line.payload_begin), &line.facts);
  }
  note_event(line);
}

void Evaluation::observe(const LearnOutcome& outcome) {
  const std::optional<EventMark> mark = place(outcome.event_id, true);
  if (mark) max_position_ = std::max(max_position_, mark->position);

  const double error = ScorePrediction(task_, classifier_, regressor_, outcome.score, outcome.predicted,
                                       outcome.true_class_probability, outcome.target);
  // Concept figures count a regression outcome as right when it is within a tenth of the
  // target's scale (|error| <= 0.1 * max(1, |target|)): regression has no "correct".
  const bool correct = task_ == Task::kRegression ? error <= 0.1 * std::max(1.0, std::abs(outcome.target)) : error == 0;
  result_.labelled++;
  if (task_ == Task::kRegression && std::isfinite(error)) {
    rolling_errors_.push_back(error);
    rolling_error_sum_ += error;
    if (rolling_errors_.size() > regressor_.options().rolling_window) {
      rolling_error_sum_ -= rolling_errors_.front();
      rolling_errors_.pop_front();
    }
  }
  if (mark && mark->concept_index != kNoConcept) outcomes_.push_back({mark->position, mark->concept_index, correct});

  // The learning curve: every curve_stride_-th outcome; when it holds twice the target,
  // every other point goes and the stride doubles (the kept ones are its multiples).
  if (result_.labelled % curve_stride_ == 0) {
    result_.curve.push_back(curve_point(result_.labelled));
    if (result_.curve.size() >= 2 * options_.curve_points) {
      size_t kept = 0;
      for (size_t i = 1; i < result_.curve.size(); i += 2) result_.curve[kept++] = result_.curve[i];
      result_.curve.resize(kept);
      curve_stride_ *= 2;
    }
  }
}

CurvePoint Evaluation::curve_point(uint64_t labelled) const {
  CurvePoint p{max_position_, labelled};
  if (task_ == Task::kRegression) {
    p.mae = regressor_.mae();
    if (!rolling_errors_.empty()) p.rolling_mae = rolling_error_sum_ / static_cast<double>(rolling_errors_.size());
    p.mean_mae = regressor_.mean_baseline_mae();
    p.no_change_mae = regressor_.no_change_mae();
  } else {
    p.accuracy = classifier_.accuracy();
    p.rolling_accuracy = classifier_.rolling_accuracy();
    p.majority_accuracy = classifier_.majority_baseline_accuracy();
    p.no_change_accuracy = classifier_.no_change_baseline_accuracy();
  }
  return p;
}

Status Evaluation::flush(Processor& processor) {
  if (batch_used_ == 0) return Status::Ok();
  raw_.clear();
  for (size_t i = 0; i < batch_used_; ++i) {
    const Line& line = batch_lines_[i];
    const std::string_view topic = batch_is_label_[i] ? config_.kafka.labels_topic : config_.kafka.events_topic;
    const std::string_view text = line.text;
    raw_.push_back({SourcePosition{topic, 0, line.number, line.facts.ts}, text.substr(0, line.key_size),
                    text.substr(line.payload_begin), line.text.capacity() - line.text.size()});
  }
  cursor_ = 0;
  SL_RETURN_IF_ERROR(processor.process(raw_, *this));
  batch_used_ = 0;
  batch_events_used_ = 0;
  return Status::Ok();
}

Result<EvaluationResult> Evaluation::run(const EvaluationProgressFn& progress) {
  if (!inputs_.events) return Status::Invalid("evaluate: no events input");
  auto processor = Processor::Create(config_, nullptr, nullptr);
  if (!processor.ok()) return processor.status();
  (*processor)->set_learn_observer([this](const LearnOutcome& o) { observe(o); });
  if (!delayed_) (*processor)->set_decode_observer([this](const DecodedEvent& d) { on_decoded(d); });

  const Clock::time_point start = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  LineSource events(inputs_.events, inputs_.events_name, true);
  LineSource labels(inputs_.labels, inputs_.labels_name, false);
  Line next_event, next_label;
  FactReader* ahead = delayed_ ? &facts_ : nullptr;  // facts needed when a line is taken
  bool have_event = events.next(&next_event, ahead);
  bool have_label = labels.next(&next_label, &facts_);
  batch_lines_.resize(options_.batch_size);
  batch_is_label_.resize(options_.batch_size);
  batch_events_.resize(options_.batch_size);

  while (have_event || have_label) {
    // A label goes before the events with a larger ts; on a tie the event goes first, so a
    // label at zero delay finds its prediction waiting.
    const bool take_label = have_label && (!have_event || next_label.merge_ts < next_event.merge_ts);
    Line& slot = batch_lines_[batch_used_];
    batch_is_label_[batch_used_] = take_label;
    batch_used_++;
    if (take_label) {
      std::swap(slot, next_label);
      result_.label_lines++;
      have_label = labels.next(&next_label, &facts_);
    } else {
      std::swap(slot, next_event);
      result_.events++;
      if (delayed_) note_event(slot);  // else when the Processor decodes it (on_decoded)
      have_event = events.next(&next_event, ahead);
    }
    if (batch_used_ == options_.batch_size) {
      SL_RETURN_IF_ERROR(flush(**processor));
      if (progress) progress(progress_now(seconds(), false));
    }
  }
  SL_RETURN_IF_ERROR(events.status());
  SL_RETURN_IF_ERROR(labels.status());
  SL_RETURN_IF_ERROR(flush(**processor));
  result_.seconds = seconds();
  finish(**processor);
  if (progress) progress(progress_now(result_.seconds, true));
  return std::move(result_);
}

EvaluationProgress Evaluation::progress_now(double seconds, bool final) const {
  EvaluationProgress p;
  p.events = result_.events;
  p.labelled = result_.labelled;
  p.seconds = seconds;
  p.final = final;
  if (task_ == Task::kRegression) {
    p.regression = true;
    const eval::RegressionFigures f = regressor_.figures();
    p.mae = f.cumulative.mae;
    p.rmse = f.cumulative.rmse;
    p.r2 = f.cumulative.r2;
    p.rolling_mae = f.rolling.mae;
  } else {
    p.accuracy = classifier_.accuracy();
    p.rolling_accuracy = classifier_.rolling_accuracy();
  }
  return p;
}

void Evaluation::finish(const Processor& processor) {
  EvaluationResult& r = result_;
  r.events_name = inputs_.events_name;
  r.labels_name = inputs_.labels ? inputs_.labels_name : "";
  r.model_name = config_.model.name;
  r.model_type = config_.model.type;
  r.detector = config_.drift.detector;
  r.drift_action = ToString(EffectiveDriftAction(config_));
  const ProcessorStats stats = processor.stats();
  r.model_version = stats.model_version;
  r.predictions = stats.predictions;
  r.clipped_values = stats.clipped_values;
  r.challengers = stats.challengers;
  r.selection = stats.selection;
  r.slices = stats.slices;
  r.rolling_window = classifier_.options().rolling_window;
  r.events_per_s = r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0;
  if (task_ == Task::kRegression) {
    r.regression = regressor_.figures();
  } else {
    r.classification = classifier_.figures();
  }
  if (r.curve.empty() || r.curve.back().labelled != r.labelled) {
    if (r.labelled > 0) {
      r.curve.push_back(curve_point(r.labelled));
    }
  }
  r.has_labels = inputs_.labels != nullptr;
  if (delayed_) {
    r.label_counts = processor.label_counts();
    r.pending_at_end = processor.pending_labels();
  }

  // Per concept, in stream order: delayed labels score events out of order.
  if (!outcomes_.empty()) {
    std::stable_sort(outcomes_.begin(), outcomes_.end(),
                     [](const Outcome& a, const Outcome& b) { return a.position < b.position; });
    eval::ConceptTracker tracker(options_.concepts);
    for (const Outcome& o : outcomes_) tracker.update_correct(o.concept_index, o.correct);
    r.segments = tracker.segments();
    for (eval::ConceptSegment& s : r.segments) s.start = outcomes_[s.start].position;
  }
  if (r.has_concepts) {
    std::vector<uint64_t> detections;
    for (const DriftMark& d : r.drifts) {
      if (d.level == "drift" && d.reason.empty() && d.position >= 0) detections.push_back(static_cast<uint64_t>(d.position));
    }
    r.detection = eval::ScoreDetections(r.true_changes, std::move(detections), options_.detection_tolerance);
  }
}

// A position that could not be placed (-1) is null.
void PositionField(JsonWriter& w, int64_t position) {
  w.key("position");
  if (position >= 0) {
    w.integer(position);
  } else {
    w.null();
  }
}

void ModelJson(JsonWriter& w, const EvaluationResult& r) {
  w.begin_object()
      .field("name", r.model_name)
      .field("type", r.model_type)
      .field("version", r.model_version)
      .field("detector", r.detector)
      .field("action", r.drift_action)
      .end_object();
}

// The eval library writes its figures into a string; they go in as they are.
template <typename AppendFn>
void EmbedJson(JsonWriter& w, AppendFn&& append) {
  std::string json;
  append(json);
  w.raw(json);
}

void MetricsJson(JsonWriter& w, const EvaluationResult& r) {
  if (r.classification) {
    EmbedJson(w, [&](std::string& out) { eval::AppendClassificationJson(out, *r.classification); });
  } else if (r.regression) {
    EmbedJson(w, [&](std::string& out) { eval::AppendRegressionJson(out, *r.regression); });
  } else {
    w.null();
  }
}

void DriftJson(JsonWriter& w, const DriftMark& d) {
  w.begin_object();
  PositionField(w, d.position);
  w.field("level", d.level)
      .field("action", d.action)
      .field("detector", d.detector)
      .field("event_id", d.event_id)
      .field("events", d.events)
      .field("ts", d.ts_ms)
      .field("version", d.model_version);
  if (!d.reason.empty()) w.field("reason", d.reason);
  w.end_object();
}

void SliceGapJson(JsonWriter& w, const SliceGapMark& g) {
  w.begin_object();
  PositionField(w, g.position);
  w.field("field", g.field)
      .field("metric", g.metric)
      .field("gap", g.gap)
      .field("max_value", g.max_value)
      .field("min_value", g.min_value)
      .field("event_id", g.event_id)
      .end_object();
}

void DataDriftJson(JsonWriter& w, const DataDriftMark& d) {
  w.begin_object();
  PositionField(w, d.position);
  w.field("feature", d.feature)
      .field("kind", d.kind)
      .field("detector", d.detector)
      .field("statistic", d.statistic)
      .field("event_id", d.event_id)
      .end_object();
}

void SwitchJson(JsonWriter& w, const SwitchMark& s) {
  w.begin_object();
  PositionField(w, s.position);
  w.field("from", s.from)
      .field("to", s.to)
      .field("from_value", s.from_value)
      .field("to_value", s.to_value)
      .field("event_id", s.event_id)
      .field("labelled", s.labelled)
      .field("version", s.model_version)
      .end_object();
}

void LabelsJson(JsonWriter& w, const EvaluationResult& r) {
  const LabelJoinCounts& c = r.label_counts;
  w.begin_object()
      .field("lines", r.label_lines)
      .field("invalid", r.invalid_labels)
      .field("joined", c.joined)
      .field("early", c.early)
      .field("unknown", c.unknown)
      .field("late", c.late)
      .field("duplicate", c.duplicate)
      .field("expired", c.expired)
      .field("evicted", c.evicted)
      .field("early_evicted", c.early_evicted)
      .field("pending_at_end", r.pending_at_end)
      .end_object();
}

}  // namespace

Result<EvaluationResult> Evaluate(const PipelineConfig& config, const EvaluateInputs& inputs,
                                  const EvaluateOptions& options, const EvaluationProgressFn& progress) {
  Evaluation evaluation(config, inputs, options);
  return evaluation.run(progress);
}

std::string EvaluationJson(const EvaluationResult& r) {
  std::string out;
  out.reserve(4096 + 200 * r.drifts.size());
  JsonWriter w(&out);
  w.begin_object()
      .field("events", r.events)
      .field("invalid", r.invalid_events)
      .field("predictions", r.predictions)
      .field("labelled", r.labelled)
      .field("clipped_values", r.clipped_values);
  ModelJson(w.key("model"), r);
  MetricsJson(w.key("metrics"), r);
  EmbedJson(w.key("concepts"), [&](std::string& json) { eval::AppendSegmentsJson(json, r.segments); });
  w.key("true_changes").begin_array();
  for (const uint64_t change : r.true_changes) w.unsigned_integer(change);
  w.end_array().key("detection");
  if (r.has_concepts) {
    EmbedJson(w, [&](std::string& json) { eval::AppendDetectionJson(json, r.detection); });
  } else {
    w.null();
  }
  w.key("drifts").begin_array();
  for (const DriftMark& d : r.drifts) DriftJson(w, d);
  w.end_array().field("drift_count", r.drift_count).field("warning_count", r.warning_count);
  if (r.regression) w.field("divergences", r.divergence_count);
  w.key("data_drifts").begin_array();
  for (const DataDriftMark& d : r.data_drifts) DataDriftJson(w, d);
  w.end_array();
  w.key("challengers").begin_array();
  for (const ChallengerStats& c : r.challengers) WriteChallengerJson(w, c);
  w.end_array();
  if (r.selection.enabled) {
    WriteSelectionJson(w.key("selection"), r.selection);
    w.key("switches").begin_array();
    for (const SwitchMark& s : r.switches) SwitchJson(w, s);
    w.end_array();
  }
  if (!r.slices.empty()) {  // metrics.slices only: other runs keep their bytes
    w.key("slices").begin_array();
    for (const FieldSlices& f : r.slices) WriteFieldSlicesJson(w, f);
    w.end_array();
    w.key("slice_gaps").begin_array();
    for (const SliceGapMark& g : r.slice_gaps) SliceGapJson(w, g);
    w.end_array();
  }
  if (r.has_labels) LabelsJson(w.key("labels"), r);
  w.field("seconds", r.seconds).field("events_per_s", r.events_per_s).end_object();
  return out;
}

std::string GuessModelType(std::istream& lines, size_t max_lines) {
  EventDecoder decoder;
  Event event;
  std::string line;
  bool real = false, names = false;
  for (size_t n = 0; n < max_lines && std::getline(lines, line); ++n) {
    const std::string_view json = std::string_view(line).substr(PayloadBegin(line));
    if (!decoder.decode(json, "k", SourcePosition{}, &event).ok() || !event.label) continue;
    names = names || event.label->kind == Label::Kind::kClass;
    real = real || event.label->kind == Label::Kind::kReal;
  }
  return names ? "softmax" : real ? "linear" : "logistic";
}

}  // namespace streamlearn::pipeline

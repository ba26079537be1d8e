#pragma once
// What the processor emits, as typed records, and where it goes (an OutputSink). A sink
// encodes what it sends: the Kafka sink with the encoders of schemas/ (prediction.schema.json,
// drift.schema.json; dead letters are the input bytes with headers, schemas/dlq.md), offline
// evaluation reads the fields. Records view the processor's memory: valid during the call.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::drift {
struct DataDriftEvent;
}  // namespace streamlearn::drift

namespace streamlearn::pipeline {

struct SliceGapAlert;  // pipeline/slices.hpp

struct RawMessage {
  SourcePosition source;
  std::string_view key;
  std::string_view payload;
  // Bytes past the payload's end that may be read (a buffer's spare capacity): with
  // EventDecoder::kReadPastEnd of them an event is parsed in place instead of copied.
  size_t readable_after = 0;
};

// One served prediction (the predictions topic).
struct PredictionRecord {
  // Which class field the record has: none (regression), a 0/1 index (binary), a class name
  // (multiclass), or null (multiclass before any class was seen).
  enum class ClassField : uint8_t { kNone, kIndex, kName, kNull };
  std::string_view id;
  std::string_view entity;  // also the message key; empty: the event had none (field omitted, no key)
  std::string_view model;
  uint64_t version = 0;
  // With selection.enabled, the candidate that served it (the model, a challenger or a
  // baseline); empty (the field omitted) otherwise.
  std::string_view candidate;
  double score = 0;
  ClassField class_field = ClassField::kNone;
  int32_t class_index = 0;      // kIndex
  std::string_view class_name;  // kName
  int64_t ts_ms = 0;
  int64_t latency_us = 0;
  // The input partition of the event (not encoded): the Kafka sink may send the prediction to
  // the predictions partition of the same number (scale.replay_dedup). -1: none.
  int32_t partition = -1;
};

// A concept drift or its warning (the drift topic, "type":"concept_drift").
struct ConceptDriftRecord {
  std::string_view model;
  uint64_t version = 0;  // when the detector fired, before any reset or swap
  std::string_view detector;
  std::string_view level;  // "warning" | "drift"
  uint64_t events = 0;     // predictions made when it fired
  int64_t ts_ms = 0;
  std::string_view action;  // "none" | "reset" | "background"
  std::string_view event_id;
  std::span<const std::pair<std::string, double>> stats;  // the detector's; non-finite ones are left out
  double error_before = 0;
  double error_after = 0;
  std::optional<uint64_t> background_trained;  // drift.action background
  // Why, when it is not the detector: "diverged" (a regression champion ran away and was
  // reset). Empty: the detector fired; not written.
  std::string_view reason;
};

// A data drift alarm on one input feature (the drift topic, "type":"data_drift").
struct DataDriftRecord {
  std::string_view model;
  const drift::DataDriftEvent* alarm = nullptr;  // never null
  uint64_t events = 0;
  int64_t ts_ms = 0;
  std::string_view event_id;
};

// The serving candidate changed (selection.enabled; the drift topic, "type":"model_switch"):
// `to` leads `from` on the selection metric over the window by more than selection.margin.
struct ModelSwitchRecord {
  std::string_view model;
  uint64_t version = 0;  // the new version, which the following predictions carry
  std::string_view from, to;
  std::string_view metric;  // "accuracy" | "log_loss" | "mae"
  double from_value = 0, to_value = 0;  // their rolling metric
  uint64_t window = 0;      // labelled events in the rolling figure (selection.window)
  uint64_t events = 0;      // predictions made when it happened
  uint64_t labelled = 0;    // labelled events scored when it happened
  int64_t ts_ms = 0;
  std::string_view event_id;  // the labelled event that decided it
};

// A fairness gap across the values of a sliced field beyond metrics.slice_gap_alert (the
// drift topic, "type":"slice_gap"; pipeline/slices.hpp).
struct SliceGapRecord {
  std::string_view model;
  const SliceGapAlert* alert = nullptr;  // never null
  uint64_t events = 0;  // predictions made when it was found
  int64_t ts_ms = 0;
  std::string_view event_id;
};

// The champion changed on an operator's request, or took a peer's newer version (model
// sync) (the drift topic, "type":"model_change").
struct ModelChangeRecord {
  std::string_view model;
  std::string_view action;  // "rollback" | "promote" | "adopt"
  uint64_t version = 0;           // the new one
  uint64_t previous_version = 0;  // the one it replaced
  std::optional<uint64_t> restored_version;  // rollback
  std::string_view challenger;               // promote
  std::string_view peer;   // adopt: the instance whose published model was taken
  std::string_view cause;  // adopt: the change that made that version ("drift", "rollback", ...)
  uint64_t trained = 0;
  int64_t ts_ms = 0;  // wall clock
};

// An input the processor could not use (the dlq topic): the message, why, and which kind of
// failure it is (a reader counting invalid input must not count a label that could not join).
struct DeadLetterRecord {
  enum class Cause : uint8_t {
    kInvalid,       // the message does not decode or does not fit the model
    kUnknownLabel,  // a label whose event never came (labels.early_ttl, labels.max_early)
    kLateLabel,     // a label after its pending prediction expired or was evicted
  };
  RawMessage message;
  std::string_view reason;
  Cause cause = Cause::kInvalid;
};

// Where the processor's output goes: Kafka in the service; memory or files elsewhere. A
// non-ok status stops the processing (the instance must not lose output).
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual Status write(const PredictionRecord& record) = 0;
  virtual Status write(const ConceptDriftRecord& record) = 0;
  virtual Status write(const DataDriftRecord& record) = 0;
  virtual Status write(const ModelSwitchRecord& record) = 0;
  virtual Status write(const DeadLetterRecord& record) = 0;
  // Slice gap alerts exist only with metrics.slice_gap_alert: a sink that does not carry
  // them drops them.
  virtual Status write(const SliceGapRecord&) { return Status::Ok(); }
  // Rare and operator-made: a sink with no place for them (offline evaluation) ignores them.
  virtual Status write(const ModelChangeRecord&) { return Status::Ok(); }
};

// A sink that wants the records as the JSON text Kafka would carry: encodes them with the
// schemas' encoders and hands the text on (tests, files). Drift records of every kind (and model
// switches) go to
// drift(); dead letters as they are.
class JsonOutputSink : public OutputSink {
 public:
  JsonOutputSink();
  ~JsonOutputSink() override;

  Status write(const PredictionRecord& record) final;
  Status write(const ConceptDriftRecord& record) final;
  Status write(const DataDriftRecord& record) final;
  Status write(const ModelSwitchRecord& record) final;
  Status write(const DeadLetterRecord& record) final;
  Status write(const SliceGapRecord& record) final;
  Status write(const ModelChangeRecord& record) final;

  virtual Status prediction(std::string_view entity, std::string_view json) = 0;
  virtual Status dead_letter(const RawMessage& message, std::string_view reason) = 0;
  virtual Status drift(std::string_view model, std::string_view json) = 0;

 private:
  struct Encoders;
  std::unique_ptr<Encoders> encoders_;
  std::string json_;  // reused: encoding does not allocate once it has grown
};

}  // namespace streamlearn::pipeline

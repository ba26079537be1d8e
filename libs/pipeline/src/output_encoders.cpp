#include "output_encoders.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/pipeline/slices.hpp"

namespace streamlearn::pipeline {

namespace {

// Writers into space reserved beforehand: the prediction is written at a pointer, with no
// size check or string call per piece (the appends cost twice the bytes they wrote).
template <size_t N>
inline char* PutLiteral(char* at, const char (&text)[N]) {
  std::memcpy(at, text, N - 1);
  return at + N - 1;
}

inline char* PutBytes(char* at, std::string_view bytes) {
  std::memcpy(at, bytes.data(), bytes.size());
  return at + bytes.size();
}

// AppendJsonString's text: quotes, backslashes and control bytes escaped, the rest as is.
// Needs room for 2 + 6 * s.size() bytes.
char* PutJsonString(char* at, std::string_view s) {
  *at++ = '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      *at++ = ch;
      continue;
    }
    *at++ = '\\';
    switch (c) {
      case '"': *at++ = '"'; break;
      case '\\': *at++ = '\\'; break;
      case '\n': *at++ = 'n'; break;
      case '\r': *at++ = 'r'; break;
      case '\t': *at++ = 't'; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        at = PutLiteral(at, "u00");
        *at++ = kHex[c >> 4];
        *at++ = kHex[c & 15];
      }
    }
  }
  *at++ = '"';
  return at;
}

inline size_t JsonStringRoom(std::string_view s) { return 2 + 6 * s.size(); }

template <typename Integer>
inline char* PutInteger(char* at, Integer value) {
  return std::to_chars(at, at + 24, value).ptr;
}

}  // namespace

void PredictionEncoder::encode(const PredictionRecord& r, std::string& out) {
  if (r.model != model_ || model_field_.empty()) {
    model_.assign(r.model);
    model_field_ = R"(,"model":)";
    AppendJsonString(model_field_, r.model);
    model_field_.append(R"(,"version":)");
  }
  // Every piece's largest text, reserved at once, then written at a pointer and trimmed.
  // The score in the one number form, so a replayed event yields the same bytes.
  constexpr size_t kFixed = 160;  // the keys and braces (72 bytes), three integers (20 each)
  const size_t room = kFixed + JsonStringRoom(r.id) + JsonStringRoom(r.entity) + model_field_.size() +
                      JsonStringRoom(r.candidate) + JsonStringRoom(r.class_name) + kJsonDoubleMaxChars;
  const size_t from = out.size();
  out.resize(from + room);
  char* const begin = out.data();
  char* at = begin + from;
  at = PutLiteral(at, R"({"id":)");
  at = PutJsonString(at, r.id);
  if (!r.entity.empty()) {  // an event without an entity: the field is omitted
    at = PutLiteral(at, R"(,"entity":)");
    at = PutJsonString(at, r.entity);
  }
  at = PutBytes(at, model_field_);
  at = PutInteger(at, r.version);
  if (!r.candidate.empty()) {
    at = PutLiteral(at, R"(,"candidate":)");
    at = PutJsonString(at, r.candidate);
  }
  at = PutLiteral(at, R"(,"score":)");
  at = WriteJsonDouble(at, r.score);
  switch (r.class_field) {
    case PredictionRecord::ClassField::kNone: break;
    case PredictionRecord::ClassField::kIndex:
      at = r.class_index == 1 ? PutLiteral(at, R"(,"class":1)") : PutLiteral(at, R"(,"class":0)");
      break;
    case PredictionRecord::ClassField::kName:
      at = PutLiteral(at, R"(,"class":)");
      at = PutJsonString(at, r.class_name);
      break;
    case PredictionRecord::ClassField::kNull: at = PutLiteral(at, R"(,"class":null)"); break;
  }
  at = PutLiteral(at, R"(,"ts":)");
  at = PutInteger(at, r.ts_ms);
  at = PutLiteral(at, R"(,"latency_us":)");
  at = PutInteger(at, r.latency_us);
  *at++ = '}';
  out.resize(static_cast<size_t>(at - begin));
}

void EncodeConceptDrift(const ConceptDriftRecord& r, std::string& out) {
  JsonWriter w(&out);
  w.begin_object()
      .field("type", "concept_drift")
      .field("model", r.model)
      .field("version", r.version)
      .field("detector", r.detector)
      .field("level", r.level)
      .field("events", r.events)
      .field("ts", r.ts_ms)
      .field("action", r.action)
      .field("event_id", r.event_id);
  if (!r.reason.empty()) w.field("reason", r.reason);
  w.key("stats").begin_object();
  for (const auto& [name, value] : r.stats) {
    if (std::isfinite(value)) w.field(name, value);  // JSON has no NaN/Inf
  }
  w.field("error_before", r.error_before).field("error_after", r.error_after);
  if (r.background_trained) w.field("background_trained", *r.background_trained);
  w.end_object().end_object();
}

void EncodeDataDrift(const DataDriftRecord& r, std::string& out) {
  const drift::DataDriftEvent& d = *r.alarm;
  JsonWriter w(&out);
  w.begin_object()
      .field("type", "data_drift")
      .field("model", r.model)
      .field("feature", std::string_view(d.feature))
      .field("kind", drift::ToString(d.kind))
      .field("detector", std::string_view(d.detector))
      .field("statistic", d.statistic)
      .field("threshold", d.threshold)
      .field("observations", d.observations)
      .field("alarms", d.alarms)
      .field("events", r.events)
      .field("ts", r.ts_ms)
      .field("event_id", r.event_id);
  w.key("reference").begin_object().field("count", d.reference_count).field("mean", d.reference_mean).end_object();
  w.key("current").begin_object().field("count", d.current_count).field("mean", d.current_mean).end_object();
  w.key("top_categories").begin_array();
  for (const auto& c : d.top_categories) {
    w.begin_object()
        .field("category", std::string_view(c.category))
        .field("reference_share", c.reference_share)
        .field("current_share", c.current_share)
        .field("contribution", c.contribution)
        .end_object();
  }
  w.end_array();
  w.key("stats").begin_object();
  for (const auto& [name, value] : d.stats) {
    if (std::isfinite(value)) w.field(name, value);
  }
  w.end_object().end_object();
}

void EncodeModelSwitch(const ModelSwitchRecord& r, std::string& out) {
  JsonWriter w(&out);
  w.begin_object()
      .field("type", "model_switch")
      .field("model", r.model)
      .field("version", r.version)
      .field("from", r.from)
      .field("to", r.to)
      .field("metric", r.metric)
      .field("from_value", r.from_value)
      .field("to_value", r.to_value)
      .field("window", r.window)
      .field("events", r.events)
      .field("labelled", r.labelled)
      .field("ts", r.ts_ms);
  if (!r.event_id.empty()) w.field("event_id", r.event_id);
  w.end_object();
}

void EncodeSliceGap(const SliceGapRecord& r, std::string& out) {
  const SliceGapAlert& a = *r.alert;
  JsonWriter w(&out);
  w.begin_object()
      .field("type", "slice_gap")
      .field("model", r.model)
      .field("field", std::string_view(a.field))
      .field("metric", a.metric)
      .field("gap", a.gap)
      .field("threshold", a.threshold)
      .field("max_value", std::string_view(a.max_value))
      .field("max_rate", a.max_rate)
      .field("min_value", std::string_view(a.min_value))
      .field("min_rate", a.min_rate)
      .field("field_events", a.events)
      .field("events", r.events)
      .field("ts", r.ts_ms)
      .field("event_id", r.event_id)
      .end_object();
}

struct JsonOutputSink::Encoders {
  PredictionEncoder prediction;
};

JsonOutputSink::JsonOutputSink() : encoders_(std::make_unique<Encoders>()) {}
JsonOutputSink::~JsonOutputSink() = default;

Status JsonOutputSink::write(const PredictionRecord& record) {
  json_.clear();
  encoders_->prediction.encode(record, json_);
  return prediction(record.entity, json_);
}

void EncodeModelChange(const ModelChangeRecord& r, std::string& out) {
  out.append(R"({"type":"model_change","model":)");
  AppendJsonString(out, r.model);
  out.append(R"(,"action":)");
  AppendJsonString(out, r.action);
  out.append(R"(,"version":)");
  AppendJsonUnsigned(out, r.version);
  out.append(R"(,"previous_version":)");
  AppendJsonUnsigned(out, r.previous_version);
  if (r.restored_version) {
    out.append(R"(,"restored_version":)");
    AppendJsonUnsigned(out, *r.restored_version);
  }
  if (!r.challenger.empty()) {
    out.append(R"(,"challenger":)");
    AppendJsonString(out, r.challenger);
  }
  if (!r.peer.empty()) {
    out.append(R"(,"peer":)");
    AppendJsonString(out, r.peer);
  }
  if (!r.cause.empty()) {
    out.append(R"(,"cause":)");
    AppendJsonString(out, r.cause);
  }
  out.append(R"(,"trained":)");
  AppendJsonUnsigned(out, r.trained);
  out.append(R"(,"ts":)");
  AppendJsonInteger(out, r.ts_ms);
  out.push_back('}');
}

Status JsonOutputSink::write(const ConceptDriftRecord& record) {
  json_.clear();
  EncodeConceptDrift(record, json_);
  return drift(record.model, json_);
}

Status JsonOutputSink::write(const DataDriftRecord& record) {
  json_.clear();
  EncodeDataDrift(record, json_);
  return drift(record.model, json_);
}

Status JsonOutputSink::write(const ModelSwitchRecord& record) {
  json_.clear();
  EncodeModelSwitch(record, json_);
  return drift(record.model, json_);
}

Status JsonOutputSink::write(const SliceGapRecord& record) {
  json_.clear();
  EncodeSliceGap(record, json_);
  return drift(record.model, json_);
}

Status JsonOutputSink::write(const ModelChangeRecord& record) {
  json_.clear();
  EncodeModelChange(record, json_);
  return drift(record.model, json_);
}

Status JsonOutputSink::write(const DeadLetterRecord& record) { return dead_letter(record.message, record.reason); }

}  // namespace streamlearn::pipeline

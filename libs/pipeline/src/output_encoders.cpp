#include "output_encoders.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
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
char* PutJsonStringEscaped(char* at, std::string_view s) {
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

// 1 for the bytes a JSON string escapes (control bytes, quote, backslash).
constexpr auto kEscaped = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<size_t>(c)] = 1;
  table['"'] = 1;
  table['\\'] = 1;
  return table;
}();

// Whether any of the 8 bytes in `w` is escaped: one below 0x20, a quote or a backslash. The
// borrows can only misjudge bytes above one that is, so the answer for the word is exact.
inline bool AnyEscaped(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  return ((((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh) != 0;
}

// The last n (< 8 for the long ones) bytes of s, from `in` to `out`, checked as copied; then the
// quotes, or the escaping writer's text of the whole string if one needed an escape.
inline char* FinishJsonString(char* at, std::string_view s, const char* in, char* out, size_t n) {
  uint8_t escaped = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    out[i] = static_cast<char>(c);
    escaped |= kEscaped[c];
  }
  if (escaped) return PutJsonStringEscaped(at, s);
  *at = '"';
  out[n] = '"';
  return out + n + 1;
}

// PutJsonStringEscaped's text for strings of 8 bytes or more: copied 8 bytes at a time
// while checked; the escaping writer redoes the rare one that needs an escape.
[[gnu::noinline]] char* PutLongJsonString(char* at, std::string_view s) {
  const char* in = s.data();
  size_t n = s.size();
  char* out = at + 1;
  for (; n >= 8; in += 8, out += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, in, 8);
    if (AnyEscaped(w)) return PutJsonStringEscaped(at, s);
    std::memcpy(out, &w, 8);
  }
  return FinishJsonString(at, s, in, out, n);
}

// PutJsonStringEscaped's text. Ids and keys seldom need an escape: copied as they are while
// checked, inline for the short ones (most keys and ids are).
inline char* PutJsonString(char* at, std::string_view s) {
  const size_t n = s.size();
  if (n >= 8) return PutLongJsonString(at, s);
  return FinishJsonString(at, s, s.data(), at + 1, n);
}

inline size_t JsonStringRoom(std::string_view s) { return 2 + 6 * s.size(); }

template <typename Integer>
inline char* PutInteger(char* at, Integer value) {
  return std::to_chars(at, at + 24, value).ptr;
}

constexpr char kTwoDigits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// to_chars's text of `value`, without its length search for the usual non-negative count.
inline char* PutCount(char* at, int64_t value) {
  return value < 0 ? PutInteger(at, value) : WriteJsonUnsigned(at, static_cast<uint64_t>(value));
}

}  // namespace

void PredictionEncoder::make_header(const PredictionRecord& r) {
  header_model_.assign(r.model);
  header_candidate_.assign(r.candidate);
  header_version_ = r.version;
  header_ = R"(,"model":)";
  AppendJsonString(header_, r.model);
  header_.append(R"(,"version":)");
  AppendJsonUnsigned(header_, r.version);
  if (!r.candidate.empty()) {
    header_.append(R"(,"candidate":)");
    AppendJsonString(header_, r.candidate);
  }
  header_.append(R"(,"score":)");
  header_short_ = header_.size() <= sizeof header_text_;
  if (header_short_) std::memcpy(header_text_, header_.data(), header_.size());
}

inline char* PredictionEncoder::put_header(char* at, const PredictionRecord& r) {
  if (header_.empty() || r.version != header_version_ || r.model != header_model_ ||
      r.candidate != header_candidate_) {
    make_header(r);
  }
  if (!header_short_) return PutBytes(at, header_);
  std::memcpy(at, header_text_, sizeof header_text_);  // a fixed size: a few moves, no call
  return at + header_.size();
}

char* PredictionEncoder::put_ts(char* at, int64_t ts_ms) {
  // Event times of a stream share their leading digits: those are written once per 10 s.
  const int64_t high = ts_ms / 10000;
  if (high <= 0) return PutInteger(at, ts_ms);  // no leading digits (or a sign)
  if (high != ts_high_) {
    ts_high_ = high;
    ts_high_size_ = static_cast<size_t>(PutInteger(ts_high_text_, high) - ts_high_text_);
  }
  std::memcpy(at, ts_high_text_, sizeof ts_high_text_);  // a fixed size: a few moves
  at += ts_high_size_;
  const auto low = static_cast<uint32_t>(ts_ms - high * 10000);
  std::memcpy(at, kTwoDigits + 2 * (low / 100), 2);
  std::memcpy(at + 2, kTwoDigits + 2 * (low % 100), 2);
  return at + 4;
}

std::string_view PredictionEncoder::encode(const PredictionRecord& r) {
  // Every piece's largest text, then written at a pointer. The score in the one number
  // form, so a replayed event yields the same bytes.
  // The keys and braces (72 bytes), two integers (20 each), ts's copy (28), the header's (64).
  constexpr size_t kFixed = 264;
  const size_t room = kFixed + JsonStringRoom(r.id) + JsonStringRoom(r.entity) + header_.size() +
                      JsonStringRoom(r.model) + JsonStringRoom(r.candidate) + JsonStringRoom(r.class_name) +
                      kJsonDoubleMaxChars;
  if (buffer_.size() < room) buffer_.resize(std::max(room, 2 * buffer_.size()));
  char* const begin = buffer_.data();
  char* at = begin;
  at = PutLiteral(at, R"({"id":)");
  at = PutJsonString(at, r.id);
  if (!r.entity.empty()) {  // an event without an entity: the field is omitted
    at = PutLiteral(at, R"(,"entity":)");
    at = PutJsonString(at, r.entity);
  }
  at = put_header(at, r);
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
  at = put_ts(at, r.ts_ms);
  at = PutLiteral(at, R"(,"latency_us":)");
  at = PutCount(at, r.latency_us);
  *at++ = '}';
  return {begin, static_cast<size_t>(at - begin)};
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
  return prediction(record.entity, encoders_->prediction.encode(record));
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

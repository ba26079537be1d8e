#pragma once
// One encoder per wire format of schemas/: a record in, its JSON text appended. Private to
// the pipeline lib (the Kafka sink and JsonOutputSink use them); each has a unit test that
// validates its output against its schema.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "streamlearn/pipeline/output.hpp"

namespace streamlearn::pipeline {

// prediction.schema.json. The per-event path: written at a pointer into a buffer the
// encoder keeps, nothing allocated or cleared once it has grown; the text between the entity
// and the score (model, version, candidate) and the timestamp's leading digits are kept
// between records.
class PredictionEncoder {
 public:
  // The record's JSON, valid until the next call.
  std::string_view encode(const PredictionRecord& record);
  // The same JSON appended to `out`.
  void encode(const PredictionRecord& record, std::string& out) { out.append(encode(record)); }

 private:
  void make_header(const PredictionRecord& r);
  char* put_header(char* at, const PredictionRecord& r);
  char* put_ts(char* at, int64_t ts_ms);

  std::string buffer_;  // its size is its room: written in place, never shrunk
  // `,"model":"<name>","version":<v>[,"candidate":"<c>"],"score":` and what it is for.
  std::string header_;
  std::string header_model_;
  std::string header_candidate_;
  uint64_t header_version_ = 0;
  char header_text_[64] = {};  // header_ again, copied at a fixed size when it fits
  bool header_short_ = false;
  // The text of ts_ms / 10000 (the last four digits are written per record); -1: none yet.
  int64_t ts_high_ = -1;
  char ts_high_text_[24] = {};
  size_t ts_high_size_ = 0;
};

// drift.schema.json, "type":"concept_drift".
void EncodeConceptDrift(const ConceptDriftRecord& record, std::string& out);
// drift.schema.json, "type":"data_drift".
void EncodeDataDrift(const DataDriftRecord& record, std::string& out);
// drift.schema.json, "type":"model_switch".
void EncodeModelSwitch(const ModelSwitchRecord& record, std::string& out);

// drift.schema.json, "type":"slice_gap".
void EncodeSliceGap(const SliceGapRecord& record, std::string& out);

// drift.schema.json, "type":"model_change".
void EncodeModelChange(const ModelChangeRecord& record, std::string& out);

}  // namespace streamlearn::pipeline

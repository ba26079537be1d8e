#pragma once
// One encoder per wire format of schemas/: a record in, its JSON text appended. Private to
// the pipeline lib (the Kafka sink and JsonOutputSink use them); each has a unit test that
// validates its output against its schema.

#include <string>
#include <string_view>

#include "streamlearn/pipeline/output.hpp"

namespace streamlearn::pipeline {

// prediction.schema.json. The per-event path: hand-written appends, nothing allocated once
// `out` has grown; the model's quoted name is kept between records.
class PredictionEncoder {
 public:
  void encode(const PredictionRecord& record, std::string& out);

 private:
  std::string model_;        // the model the cached field is for
  std::string model_field_;  // `,"model":"<name>","version":`
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

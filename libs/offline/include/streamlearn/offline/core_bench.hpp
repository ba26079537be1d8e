#pragma once
// `streamlearn bench core`: the per-event core on one thread, from an in-memory buffer (no
// Kafka). Four figures measured in the same run, each also as a ratio to the first (a
// noisy shared machine moves them together): decode alone (simdjson); the learning core's
// four stages composed from the libs (decode, entity aggregates and features, predict,
// learn); the whole Processor the service runs (+ prediction JSON, metrics, concept-drift
// detector); and the Processor with the data-drift monitor (the default). Optionally the
// same with delayed labels, joined by the label join (per event, its label's message
// included). A stream with a numeric target (regression) is measured with the linear
// model instead of the logistic one.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

struct CoreBenchOptions {
  std::string stream = "entities";  // any of eval's streams (streamlearn gen --stream)
  uint64_t events = 1000000;
  uint64_t entities = 10000;  // 0: the stream's own default (gen's)
  uint64_t seed = 7;
  size_t batch = 1000;  // messages per Processor::process call, as the runner polls
  int repeats = 3;      // best of
  // > 0: one more figure, the Processor with delayed labels (labels.enabled): each event
  // without its label, the label on the labels topic this many events later.
  uint64_t label_delay_events = 0;
  // libs/features keys on top of the default pipeline's (FeatureSettings::params), e.g.
  // {"fields.*.aggregates", "none"}: for every figure but decode.
  std::map<std::string, std::string> features;
};

struct CoreBenchFigure {
  std::string name;
  double events_per_sec = 0;
  double ns_per_event = 0;
};

struct CoreBenchResult {
  double bytes_per_event = 0;  // mean JSON size of the input
  // After the processor with data drift: the entities it holds and their memory
  // (Processor::entity_memory_bytes).
  uint64_t entities = 0;
  double bytes_per_entity = 0;
  std::vector<CoreBenchFigure> figures;
};

Result<CoreBenchResult> RunCoreBench(const CoreBenchOptions& options,
                                     const std::function<void(const std::string&)>& print);

}  // namespace streamlearn::pipeline

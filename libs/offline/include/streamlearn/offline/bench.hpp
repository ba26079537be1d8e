#pragma once
// `streamlearn bench`: end-to-end events/s of the pipeline on the embedded broker, beside
// a bare pass-through (consume and produce the same messages, no processing) measured in
// the same run, so the ratio means something on a noisy shared machine.

#include <cstdint>
#include <functional>
#include <string>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

struct BenchOptions {
  uint64_t events = 200000;  // kept under the mock broker's 5 MiB per partition
  int partitions = 8;
  uint64_t seed = 7;
};

struct BenchResult {
  double passthrough_arrival_events_per_sec = 0;  // consume + produce, as fetched
  double passthrough_events_per_sec = 0;          // ... with the timestamp merge (the pipeline's order)
  double pipeline_events_per_sec = 0;
  double ratio = 0;  // pipeline / pass-through with the timestamp merge
};

Result<BenchResult> RunBench(const BenchOptions& options, const std::function<void(const std::string&)>& print);

}  // namespace streamlearn::pipeline

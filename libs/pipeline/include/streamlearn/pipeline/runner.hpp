#pragma once
// Runs a Processor against Kafka: consume in batches, process, produce, and checkpoint on
// the commit cycle (docs/architecture.md) (flush → one RocksDB WriteBatch → Kafka commit).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {

class PipelineProbe;

struct RunnerStatus {
  ProcessorStats processor;
  int64_t lag = 0;
  uint64_t checkpoints = 0;
  bool assigned = false;     // holds at least one partition
  bool broker_ok = true;     // the last flush was acknowledged in time
  double uptime_s = 0;
};

class KafkaRunner {
 public:
  // Opens the state directory and restores the model; fails with a message naming what.
  static Result<std::unique_ptr<KafkaRunner>> Create(const PipelineConfig& config, PipelineProbe* probe);
  ~KafkaRunner();

  // Runs until `stop` becomes true, then drains: checkpoints and leaves the group.
  Status run(const std::atomic<bool>& stop);

  // A copy taken at the end of the latest batch; safe from any thread.
  RunnerStatus status() const;
  std::string status_json() const;
  PipelineProbe* probe() const;

 private:
  struct Impl;
  explicit KafkaRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string StatusToJson(const RunnerStatus& status, const PipelineConfig& config);

}  // namespace streamlearn::pipeline

#pragma once
// Runs a Processor against Kafka: consume in batches, process, produce, and checkpoint on
// the commit cycle (docs/architecture.md) (flush → one RocksDB WriteBatch → Kafka commit).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/predict.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {

class PipelineProbe;

struct RunnerStatus {
  ProcessorStats processor;
  int64_t lag = 0;
  bool lag_known = false;    // partitions assigned and their high watermarks fetched; else lag means nothing
  uint64_t checkpoints = 0;
  bool assigned = false;     // holds at least one partition
  bool broker_ok = true;     // the last flush was acknowledged in time
  std::string disk_error;    // why checkpoint writes fail (consuming paused); empty when they succeed
  std::string auth_error;    // the cluster's last authentication/authorisation refusal while refused
  std::string waiting_for;   // what a rebalance waits for ("restoring partition events-3: ..."), or empty
  double uptime_s = 0;
};

// GET /readyz: ready, or why not.
struct Readiness {
  bool ready = true;
  std::string reason;  // empty when ready
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
  // Ready to serve: partitions assigned, broker reachable and accepting us, state writable.
  Readiness readiness() const;
  // GET /v1/series: the last 10 minutes, one point a second (events/s, lag, each model's
  // accuracy and rolling accuracy, drift counts, labels learned/s, model version), as
  // {"models": [champion, challengers...], "points": [...]}; safe from any thread.
  std::string series_json() const;
  // The dashboard's status table: (name, value) rows of status(); safe from any thread.
  std::vector<std::pair<std::string, std::string>> status_rows() const;
  PipelineProbe* probe() const;
  const PipelineConfig& config() const;
  // POST /v1/predict: a Predictor over the snapshots run() publishes (every
  // http.predict_refresh_ms) and this runner's state store. For one other thread (HTTP's);
  // it must be destroyed before the runner.
  Result<std::unique_ptr<Predictor>> make_predictor() const;

  // The model registry, for the HTTP thread: GET /v1/models and /v1/models/{name} as of the
  // latest predict snapshot (Processor::models_json, model_json).
  std::string models_json() const;
  Result<std::string> model_json(const std::string& name) const;
  // A rollback or promote from another thread: queued, applied by run() between batches
  // (the processing thread alone changes models). Waits up to `timeout` for its answer;
  // Unavailable when run() is not running or did not get to it in time (it may still apply).
  Result<std::string> submit(ModelCommand command, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit KafkaRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The command of POST /v1/models/{name}/{action}: action "rollback" (body empty, {} or
// {"version": V}) or "promote" (body empty or {}). Invalid names what is wrong.
Result<ModelCommand> ParseModelCommand(const std::string& name, const std::string& action, const std::string& body);

std::string StatusToJson(const RunnerStatus& status, const PipelineConfig& config);

}  // namespace streamlearn::pipeline

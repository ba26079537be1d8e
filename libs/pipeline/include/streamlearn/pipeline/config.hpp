#pragma once
// The pipeline's configuration: one YAML file, every key overridable from the environment
// (STREAMLEARN_<SECTION>_<KEY>, e.g. STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS). Unknown keys
// and bad values are errors that name the key and, for the file, the line.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

struct KafkaSettings {
  std::string bootstrap_servers = "localhost:9092";
  std::string group_id = "streamlearn";
  std::string events_topic = "events";
  std::string predictions_topic = "predictions";
  std::string drift_topic = "drift";
  std::string dlq_topic = "dlq";
  int batch_size = 1000;
  int poll_timeout_ms = 100;
  std::map<std::string, std::string> properties;  // passed to librdkafka as they are
};

struct StateSettings {
  std::string dir = "./state";
  int commit_interval_ms = 1000;
};

struct FeatureSettings {
  bool entity_aggregates = true;
  double ewma_half_life_s = 60;
  int hash_bits = 18;
};

struct ModelSettings {
  std::string name = "logreg";
  std::string type = "logistic";
  double learning_rate = 0.005;  // best prequential accuracy on SEA among 0.002-0.3, and large changes stay visible to ADWIN
  double l2 = 0.0;
};

struct DriftSettings {
  std::string detector = "adwin";  // adwin | ddm | eddm | hddm_a | hddm_w | page_hinkley | kswin
  double delta = 0.002;            // ADWIN's delta (a shortcut for params.delta)
  std::map<std::string, std::string> params;  // the detector's parameters, by River's names
  std::string action = "reset";  // none | reset
};

struct MetricsSettings {
  int rolling_window = 1000;
};

struct HttpSettings {
  std::string bind = "0.0.0.0";
  int port = 8080;  // 0 picks a free port
  bool enabled = true;
};

struct PipelineConfig {
  KafkaSettings kafka;
  StateSettings state;
  FeatureSettings features;
  ModelSettings model;
  DriftSettings drift;
  MetricsSettings metrics;
  HttpSettings http;
};

using Environment = std::function<const char*(const char*)>;  // getenv, or a test's map

// Parses YAML text; `source` names it in errors (a file path).
Result<PipelineConfig> ParseConfig(const std::string& yaml_text, const std::string& source,
                                   const Environment& env);
Result<PipelineConfig> LoadConfigFile(const std::string& path, const Environment& env);
// Defaults with environment overrides applied (no file).
Result<PipelineConfig> DefaultConfig(const Environment& env);

}  // namespace streamlearn::pipeline

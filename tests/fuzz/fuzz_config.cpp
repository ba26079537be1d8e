// libFuzzer target: streamlearn::pipeline::ParseConfig on arbitrary text, with an empty
// environment. Invariants: it returns (no exception escapes, no crash); an error names the
// source and a line (`fuzz.yaml:<n>: ...`, n >= 1) or, for a document that is not a map at
// all, the source (an empty text, a duplicate key and an over-long value are errors with a
// line); a successful parse holds only values inside each key's documented range.

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace {

using streamlearn::pipeline::PipelineConfig;

const char kSource[] = "fuzz.yaml";

// "fuzz.yaml:<n>: ..." with n >= 1, or the one whole-document error.
bool NamesLineOrDocument(const std::string& m) {
  const std::string prefix = std::string(kSource) + ":";
  if (m.rfind(prefix, 0) != 0) return false;
  size_t i = prefix.size();
  if (m.compare(i, std::string::npos, " the config must be a YAML map of sections") == 0) return true;
  size_t digits = i;
  while (digits < m.size() && std::isdigit(static_cast<unsigned char>(m[digits]))) ++digits;
  if (digits == i || digits >= m.size() || m[digits] != ':') return false;
  if (m[i] == '0') return false;  // line 0: a yaml-cpp exception without a position
  return true;
}

void CheckConfig(const PipelineConfig& c) {
  FUZZ_CHECK(!c.kafka.bootstrap_servers.empty() && !c.kafka.group_id.empty(), "empty kafka name");
  FUZZ_CHECK(!c.kafka.events_topic.empty() && !c.kafka.predictions_topic.empty() &&
                 !c.kafka.drift_topic.empty() && !c.kafka.dlq_topic.empty(),
             "empty topic name");
  FUZZ_CHECK(c.kafka.batch_size >= 1 && c.kafka.batch_size <= 100000, "batch_size %d", c.kafka.batch_size);
  FUZZ_CHECK(c.kafka.poll_timeout_ms >= 1 && c.kafka.poll_timeout_ms <= 60000, "poll_timeout_ms %d",
             c.kafka.poll_timeout_ms);
  FUZZ_CHECK(!c.state.dir.empty(), "empty state.dir");
  FUZZ_CHECK(c.state.commit_interval_ms >= 10 && c.state.commit_interval_ms <= 600000,
             "commit_interval_ms %d", c.state.commit_interval_ms);
  FUZZ_CHECK(std::isfinite(c.features.ewma_half_life_s) && c.features.ewma_half_life_s > 0,
             "ewma_half_life_s %g", c.features.ewma_half_life_s);
  FUZZ_CHECK(c.features.hash_bits >= 4 && c.features.hash_bits <= 24, "hash_bits %d", c.features.hash_bits);
  FUZZ_CHECK(!c.model.name.empty(), "empty model.name");
  FUZZ_CHECK(c.model.type == "logistic" || c.model.type == "softmax" || c.model.type == "linear" ||
                 c.model.type == "huber" || c.model.type == "hinge",
             "model.type %s", c.model.type.c_str());
  // A loaded config's free-form parts (features, model settings, challengers) are valid.
  FUZZ_CHECK(streamlearn::pipeline::ValidateLearnerSettings(c).ok(), "learner settings: %s",
             streamlearn::pipeline::ValidateLearnerSettings(c).message().c_str());
  FUZZ_CHECK(std::isfinite(c.model.learning_rate) && c.model.learning_rate > 0, "learning_rate %g",
             c.model.learning_rate);
  FUZZ_CHECK(std::isfinite(c.model.l2) && c.model.l2 >= 0, "l2 %g", c.model.l2);
  bool known_detector = false;
  for (const char* d : {"adwin", "ddm", "eddm", "hddm_a", "hddm_w", "page_hinkley", "kswin"}) {
    known_detector = known_detector || c.drift.detector == d;
  }
  FUZZ_CHECK(known_detector, "drift.detector %s", c.drift.detector.c_str());
  FUZZ_CHECK(c.drift.delta > 0 && c.drift.delta < 1, "drift.delta %g", c.drift.delta);
  FUZZ_CHECK(c.drift.action == "none" || c.drift.action == "reset" || c.drift.action == "background", "drift.action %d",
             static_cast<int>(c.drift.action));
  FUZZ_CHECK(c.kafka.order == "timestamp" || c.kafka.order == "arrival", "kafka.order %d",
             static_cast<int>(c.kafka.order));
  // Names within the grammar's limits.
  FUZZ_CHECK(c.kafka.group_id.size() <= streamlearn::kNameMaxLength && c.model.name.size() <= streamlearn::kNameMaxLength &&
                 c.http.bind.size() <= streamlearn::kNameMaxLength,
             "a name over %zu characters", streamlearn::kNameMaxLength);
  FUZZ_CHECK(c.kafka.bootstrap_servers.size() <= streamlearn::kListMaxLength &&
                 c.state.dir.size() <= streamlearn::kListMaxLength,
             "a list or path over %zu characters", streamlearn::kListMaxLength);
  FUZZ_CHECK(c.metrics.rolling_window >= 1 && c.metrics.rolling_window <= 10000000, "rolling_window %d",
             c.metrics.rolling_window);
  FUZZ_CHECK(!c.http.bind.empty(), "empty http.bind");
  FUZZ_CHECK(c.http.port >= 0 && c.http.port <= 65535, "http.port %d", c.http.port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const streamlearn::pipeline::Environment kEmptyEnv = [](const char*) -> const char* {
    return nullptr;
  };
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = streamlearn::pipeline::ParseConfig(text, kSource, kEmptyEnv);
  if (result.ok()) {
    CheckConfig(*result);
  } else {
    const std::string& m = result.status().message();
    FUZZ_CHECK(!m.empty(), "error without a message");
    FUZZ_CHECK(NamesLineOrDocument(m), "error names no line: %.300s", m.c_str());
  }
  return 0;
}

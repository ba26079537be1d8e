// `streamlearn model export|import|inspect` through the Processor: a snapshot restored for
// inspection, described as JSON through the learner interface, refused for another type.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "streamlearn/pipeline/processor.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct NullSink : OutputSink {
  Status write(const PredictionRecord&) override { return Status::Ok(); }
  Status write(const ConceptDriftRecord&) override { return Status::Ok(); }
  Status write(const DataDriftRecord&) override { return Status::Ok(); }
  Status write(const ModelSwitchRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord&) override { return Status::Ok(); }
};

// A trained processor of `config`: 300 events with features x and city, labelled (by x,
// or by `label_of(i)` when given).
std::string TrainedSnapshot(const PipelineConfig& config, std::string (*label_of)(int) = nullptr) {
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  std::vector<std::string> payloads;
  for (int i = 0; i < 300; ++i) {
    const double x = (i % 17) / 4.0;
    std::string label = config.model.type == "softmax" ? (x > 2 ? "\"high\"" : "\"low\"")
                              : config.model.type == "linear" ? std::to_string(2 * x)
                                                               : (x > 2 ? "1" : "0");
    if (label_of != nullptr) label = label_of(i);
    payloads.push_back(R"({"id":"e)" + std::to_string(i) + R"(","features":{"x":)" + std::to_string(x) +
                       R"(,"city":"c)" + std::to_string(i % 3) + R"("},"label":)" + label + "}");
  }
  // RawMessage views its key: the keys must outlive it (ASan saw a temporary's).
  const std::vector<std::string> keys = {"u0", "u1", "u2", "u3", "u4"};
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < payloads.size(); ++i) {
    raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, keys[i % 5], payloads[i]});
  }
  NullSink sink;
  REQUIRE((*p)->process(raw, sink).ok());
  return (*p)->model_snapshot();
}

bool IsJson(const std::string& text) {
  const fs::path file = fs::temp_directory_path() / ("sl-describe-" + std::to_string(std::random_device{}()) + ".json");
  std::ofstream(file) << text;
  const int status = std::system(("/usr/bin/python3 -m json.tool " + file.string() + " >/dev/null 2>&1").c_str());
  fs::remove(file);
  return status == 0;
}

}  // namespace

TEST_CASE("model inspect: the restored learner described by feature name", "[model_snapshot]") {
  PipelineConfig config;
  config.challengers["fast"] = {{"learning_rate", "0.5"}};
  const std::string sealed = TrainedSnapshot(config);
  auto restored = Processor::FromSnapshot(config, sealed);
  REQUIRE(restored.ok());
  CHECK((*restored)->model_snapshot() == sealed);  // export, import: the same bytes
  const std::string json = (*restored)->describe_json(3);
  INFO(json);
  CHECK(IsJson(json));
  CHECK(json.rfind(R"({"name":"logreg","type":"logistic","version":1,"messages":300,"predictions":300,)", 0) == 0);
  CHECK(json.find(R"("trained":300,)") != std::string::npos);
  CHECK(json.find(R"("learner":{)") != std::string::npos);
  CHECK(json.find(R"("optimizer":"sgd")") != std::string::npos);
  CHECK(json.find(R"("feature":"x")") != std::string::npos);  // dense weights by feature name
  CHECK(json.find(R"("sparse_top":[{"bucket":)") != std::string::npos);
  CHECK(json.find(R"("challengers":[{"name":"fast","trained":300,)") != std::string::npos);
  CHECK(json.find(R"("detector":{"name":"adwin","stats":{)") != std::string::npos);
  CHECK(json.find(R"("memory_bytes":)") != std::string::npos);
}

TEST_CASE("model inspect: softmax lists its classes and one weight block per class", "[model_snapshot]") {
  PipelineConfig config;
  config.model.type = "softmax";
  auto restored = Processor::FromSnapshot(config, TrainedSnapshot(config));
  REQUIRE(restored.ok());
  const std::string json = (*restored)->describe_json();
  CHECK(IsJson(json));
  CHECK(json.find(R"("classes":["low","high"])") != std::string::npos);
  size_t blocks = 0;
  for (size_t at = json.find(R"({"bias":)"); at != std::string::npos; at = json.find(R"({"bias":)", at + 1)) blocks++;
  CHECK(blocks == 2);
}

TEST_CASE("model import: a snapshot of another type is refused, naming both", "[model_snapshot]") {
  PipelineConfig logistic;
  const std::string sealed = TrainedSnapshot(logistic);
  PipelineConfig linear;
  linear.model.type = "linear";
  auto refused = Processor::FromSnapshot(linear, sealed);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "model snapshot: stored model is of type 'logistic', the config says 'linear'");
  std::string corrupt = sealed;
  corrupt[corrupt.size() / 2] ^= 0x55;
  auto bad = Processor::FromSnapshot(logistic, corrupt);
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(bad.status().message().empty());
}

TEST_CASE("model inspect: a Hoeffding tree splits on a string field as a nominal attribute, its ids survive a restore",
          "[model_snapshot][nominal]") {
  PipelineConfig config;
  config.model.type = "hoeffding_tree";
  config.model.name = "tree";
  config.model.params["grace_period"] = "50";
  config.features.entity_aggregates = false;
  // City c0 is class 1, c1 and c2 class 0 (city is "c" + i % 3).
  const std::string sealed = TrainedSnapshot(config, [](int i) { return std::string(i % 3 == 0 ? "1" : "0"); });
  auto restored = Processor::FromSnapshot(config, sealed);
  REQUIRE(restored.ok());
  CHECK((*restored)->model_snapshot() == sealed);
  const std::string json = (*restored)->describe_json(3);
  INFO(json);
  CHECK(IsJson(json));
  CHECK(json.find(R"("nominal_attributes":"multiway")") != std::string::npos);
  CHECK(json.find(R"("bucket":)") == std::string::npos);  // city is not a hashed attribute
  // One split on city (field 0): a branch per city, c0, c1, c2 by first appearance.
  CHECK(json.find(R"("nominal":"multiway","nominal_field":0,"branches":[{"value":0,)") != std::string::npos);
}

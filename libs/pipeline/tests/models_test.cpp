// Model types, optimizers and challengers through the Processor: softmax on class
// names, linear regression, hinge, and challengers with their own metrics that survive a
// checkpoint.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <cmath>
#include <random>

#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct Sink : JsonOutputSink {
  std::vector<std::string> predictions;
  std::vector<std::string> reasons;
  Status prediction(std::string_view, std::string_view json) override {
    predictions.emplace_back(json);
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view reason) override {
    reasons.emplace_back(reason);
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
};

Status Run(Processor& p, const std::vector<std::string>& payloads, Sink& sink) {
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < payloads.size(); ++i) raw.push_back({{"events", 0, static_cast<int64_t>(i), -1}, "k", payloads[i]});
  for (size_t i = 0; i < raw.size(); i += 500) {
    Status st = p.process(std::span<const RawMessage>(raw).subspan(i, std::min<size_t>(500, raw.size() - i)), sink);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

std::string EventJson(size_t i, double x1, double x2, const std::string& label) {
  return fmt::format(R"({{"id":"e-{}","entity":"u{}","ts":{},"features":{{"x1":{},"x2":{}}},"label":{}}})", i, i % 20,
                     1700000000000 + static_cast<int64_t>(i) * 10, x1, x2, label);
}

PipelineConfig Quiet() {
  PipelineConfig c;
  c.drift.data_enabled = false;
  c.drift.action = DriftAction::kNone;
  return c;
}

}  // namespace

TEST_CASE("softmax learns class names and publishes the predicted name", "[models]") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 3);
  std::vector<std::string> events;
  const char* names[] = {"low", "mid", "high"};
  for (size_t i = 0; i < 20000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    events.push_back(EventJson(i, x1, x2, fmt::format("\"{}\"", names[static_cast<int>(x1)])));
  }
  PipelineConfig c = Quiet();
  c.model.type = "softmax";
  c.model.learning_rate = 0.05;
  auto p = Processor::Create(c, nullptr, nullptr);
  REQUIRE(p.ok());
  Sink sink;
  REQUIRE(Run(**p, events, sink).ok());
  CHECK(sink.reasons.empty());
  CHECK((*p)->stats().accuracy > 0.9);
  CHECK((*p)->stats().accuracy > (*p)->stats().majority_baseline + 0.5);
  CHECK(sink.predictions.back().find(R"("class":")") != std::string::npos);
  // A number is no class name for a softmax model.
  Sink bad;
  REQUIRE(Run(**p, {EventJson(0, 1, 1, "2.5")}, bad).ok());
  REQUIRE(bad.reasons.size() == 1);
  CHECK(bad.reasons[0] == "label must be a class name (a string) or 0/1: model 'logreg' is a softmax model");
}

TEST_CASE("linear regression learns a real-valued target, hinge learns 0/1", "[models]") {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::string> regression, classification;
  for (size_t i = 0; i < 20000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    regression.push_back(EventJson(i, x1, x2, fmt::format("{}", 2 * x1 - 3 * x2 + 1 + 0.05 * u(rng))));
    classification.push_back(EventJson(i, x1, x2, x1 + x2 > 0 ? "1" : "0"));
  }
  PipelineConfig c = Quiet();
  c.model.type = "linear";
  c.model.learning_rate = 0.01;
  auto p = Processor::Create(c, nullptr, nullptr);
  REQUIRE(p.ok());
  Sink sink;
  REQUIRE(Run(**p, regression, sink).ok());
  CHECK(sink.reasons.empty());
  CHECK((*p)->stats().r2 > 0.98);
  CHECK((*p)->stats().mae < 0.1);
  CHECK(sink.predictions.back().find(R"("class")") == std::string::npos);  // a value, no class

  PipelineConfig h = Quiet();
  h.model.type = "hinge";
  h.model.learning_rate = 0.01;
  auto q = Processor::Create(h, nullptr, nullptr);
  REQUIRE(q.ok());
  Sink hs;
  REQUIRE(Run(**q, classification, hs).ok());
  CHECK((*q)->stats().accuracy > 0.97);
}

TEST_CASE("challengers learn beside the champion with their own metrics, and keep them across a restart",
          "[models]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 10);
  std::vector<std::string> events;
  for (size_t i = 0; i < 20000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    events.push_back(EventJson(i, x1, x2, x1 + x2 <= 9 ? "1" : "0"));
  }
  PipelineConfig c = Quiet();
  c.challengers["adam"] = {{"optimizer", "adam"}, {"learning_rate", "0.01"}};
  c.challengers["ftrl"] = {{"optimizer", "ftrl"}, {"l1", "0.1"}};
  c.challengers["slow"] = {{"learning_rate", "0.00001"}};
  const fs::path dir = fs::temp_directory_path() / ("sl-models-" + std::to_string(std::random_device{}()));
  c.state.dir = dir.string();
  ProcessorStats first;
  {
    auto store = state::StateStore::Open(c.state.dir);
    REQUIRE(store.ok());
    auto p = Processor::Create(c, store->get(), nullptr);
    REQUIRE(p.ok());
    Sink sink;
    REQUIRE(Run(**p, std::vector<std::string>(events.begin(), events.begin() + 10000), sink).ok());
    auto batch = (*store)->begin_checkpoint();
    (*p)->checkpoint(batch);
    REQUIRE((*store)->commit(batch).ok());
    first = (*p)->stats();
  }
  REQUIRE(first.challengers.size() == 3);
  for (const auto& ch : first.challengers) CHECK(ch.trained == 10000);
  auto by_name = [](const ProcessorStats& s, const std::string& n) {
    return *std::find_if(s.challengers.begin(), s.challengers.end(), [&](const ChallengerStats& stats) { return stats.name == n; });
  };
  // Different settings, different figures: the nearly frozen one has small weights, so its
  // probabilities stay near 0.5 (its signs, hence its accuracy, can still be right).
  CHECK(by_name(first, "adam").accuracy > 0.95);
  CHECK(by_name(first, "slow").log_loss > by_name(first, "adam").log_loss + 0.2);
  {
    auto store = state::StateStore::Open(c.state.dir);
    REQUIRE(store.ok());
    auto p = Processor::Create(c, store->get(), nullptr);
    REQUIRE(p.ok());
    CHECK(by_name((*p)->stats(), "adam").accuracy == by_name(first, "adam").accuracy);
    CHECK(by_name((*p)->stats(), "ftrl").trained == 10000);
    Sink sink;
    REQUIRE(Run(**p, std::vector<std::string>(events.begin() + 10000, events.end()), sink).ok());
    CHECK(by_name((*p)->stats(), "ftrl").trained == 20000);
  }
  fs::remove_all(dir);
}

TEST_CASE("model settings are checked and errors name the key", "[models]") {
  PipelineConfig c = Quiet();
  c.model.params["optimizer"] = "adam";
  c.model.params["beta1"] = "1.5";
  auto p = Processor::Create(c, nullptr, nullptr);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "model.beta1: must be in [0, 1), got 1.5");
  PipelineConfig d = Quiet();
  d.challengers["x"] = {{"schedule", "warp"}};
  auto q = Processor::Create(d, nullptr, nullptr);
  REQUIRE_FALSE(q.ok());
  CHECK_THAT(q.status().message(), Catch::StartsWith("challengers.x.schedule:"));
  PipelineConfig e = Quiet();
  e.challengers["reg"] = {{"type", "linear"}};
  auto r = Processor::Create(e, nullptr, nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "challengers.reg.type: must predict what the champion predicts (type 'logistic')");
  PipelineConfig f = Quiet();
  f.features.params["fields.amount.clip_std"] = "-1";
  auto q2 = Processor::Create(f, nullptr, nullptr);
  REQUIRE_FALSE(q2.ok());
  CHECK(q2.status().message() == "features.fields.amount.clip_std: must be > 0 (0 = off), got -1");
}

static const char* NoEnvironment(const char*) { return nullptr; }

TEST_CASE("knn_regressor from a config file learns a real-valued target through the Processor", "[models]") {
  auto config = ParseConfig(
      "features: {entity_aggregates: false}\n"
      "drift: {action: none, data: {enabled: false}}\n"
      "model: {type: knn_regressor, n_neighbors: 5, window_size: 2000}\n",
      "knn.yaml", NoEnvironment);
  INFO(config.status().message());
  REQUIRE(config.ok());
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::string> events;
  for (size_t i = 0; i < 6000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    events.push_back(EventJson(i, x1, x2, fmt::format("{}", std::sin(3 * x1) + x2 * x2)));
  }
  auto p = Processor::Create(*config, nullptr, nullptr);
  REQUIRE(p.ok());
  Sink sink;
  REQUIRE(Run(**p, events, sink).ok());
  CHECK(sink.reasons.empty());
  CHECK((*p)->stats().r2 > 0.9);  // a curve a linear model cannot follow
  // A knn key with a bad value names the key and the line.
  auto bad = ParseConfig("model:\n  type: knn_regressor\n  aggregation_method: mode\n", "knn.yaml", NoEnvironment);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("knn.yaml:3") && Catch::Contains("model.aggregation_method"));
}

TEST_CASE("mlp from a config file: hidden_dims as a YAML list, a circle learned through the Processor",
          "[models]") {
  auto config = ParseConfig(
      "features: {entity_aggregates: false}\n"
      "drift: {action: none, data: {enabled: false}}\n"
      "model:\n"
      "  type: mlp\n"
      "  hidden_dims: [16, 8]\n"
      "  optimizer: adam\n"
      "  learning_rate: 0.01\n"
      "challengers:\n"
      "  wide: {hidden_dims: [32], activation: tanh}\n",
      "mlp.yaml", NoEnvironment);
  INFO(config.status().message());
  REQUIRE(config.ok());
  CHECK(config->model.params.at("hidden_dims") == "[16, 8]");
  CHECK(config->challengers.at("wide").at("hidden_dims") == "[32]");
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::string> events;
  for (size_t i = 0; i < 8000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    events.push_back(EventJson(i, x1, x2, x1 * x1 + x2 * x2 < 0.5 ? "1" : "0"));
  }
  auto p = Processor::Create(*config, nullptr, nullptr);
  REQUIRE(p.ok());
  Sink sink;
  REQUIRE(Run(**p, events, sink).ok());
  CHECK(sink.reasons.empty());
  CHECK((*p)->stats().accuracy > 0.85);  // a circle: a linear model stays near 0.6
  // Three widths are refused, naming the key and the line.
  auto bad = ParseConfig("model:\n  type: mlp\n  hidden_dims: [4, 4, 4]\n", "mlp.yaml", NoEnvironment);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("mlp.yaml:3") && Catch::Contains("model.hidden_dims"));
}

// Sliced metrics in the processor: what /v1/status, /metrics and the drift topic carry.

#include <catch2/catch.hpp>

#include <cmath>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/runner.hpp"
#include "streamlearn/pipeline/slices.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct DriftTextSink : JsonOutputSink {
  std::vector<std::string> drifts;
  Status prediction(std::string_view, std::string_view) override { return Status::Ok(); }
  Status dead_letter(const RawMessage&, std::string_view) override { return Status::Ok(); }
  Status drift(std::string_view, std::string_view json) override {
    drifts.emplace_back(json);
    return Status::Ok();
  }
};

// Group A: every label 1 and x = 1; group B: every label 0 and x = -1. The model learns to
// predict the label, so A's positive rate goes to 1 and B's to 0.
std::vector<std::string> Payloads(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const bool a = i % 2 == 0;
    out.push_back(R"({"id":"e-)" + std::to_string(i) + R"(","ts":)" + std::to_string(1700000000000 + i) +
                  R"(,"features":{"x":)" + (a ? "1" : "-1") + R"(,"group":")" + (a ? "A" : "B") +
                  R"(","tier":)" + std::to_string(i % 3) + R"(},"label":)" + (a ? "1" : "0") + "}");
  }
  return out;
}

std::vector<RawMessage> Raw(const std::vector<std::string>& payloads) {
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < payloads.size(); ++i) raw.push_back({{"events", 0, static_cast<int64_t>(i), -1}, "", payloads[i]});
  return raw;
}

}  // namespace

TEST_CASE("slices: the processor reports them in stats and /v1/status, alerts on the drift topic, exports them to /metrics",
          "[slices]") {
  PipelineConfig config;
  config.metrics.slices = {"group", "tier", "absent"};
  config.metrics.slice_gap_alert = 0.5;
  auto registry = std::make_shared<prometheus::Registry>();
  PipelineProbe probe(registry);
  auto p = Processor::Create(config, nullptr, &probe);
  REQUIRE(p.ok());
  const std::vector<std::string> payloads = Payloads(4000);
  DriftTextSink sink;
  REQUIRE((*p)->process(Raw(payloads), sink).ok());

  const ProcessorStats stats = (*p)->stats();
  REQUIRE(stats.slices.size() == 3);
  const FieldSlices& group = stats.slices[0];
  CHECK(group.field == "group");
  CHECK(group.events == 4000);
  REQUIRE(group.values.size() == 2);
  CHECK(group.demographic_parity_difference > 0.95);
  CHECK(group.parity_max == "A");
  CHECK(std::isnan(group.equal_opportunity_difference));  // B has no positives: one value qualifies
  const FieldSlices& tier = stats.slices[1];  // a number, written as %g
  REQUIRE(tier.values.size() == 3);
  CHECK(tier.values[0].value == "0");
  CHECK(stats.slices[2].values.size() == 1);
  CHECK(stats.slices[2].values[0].value == "(missing)");

  RunnerStatus status;
  status.processor = stats;
  const std::string json = StatusToJson(status, config);
  CHECK(json.find(R"("slices":[{"field":"group","events":4000,"demographic_parity_difference":)") != std::string::npos);
  CHECK(json.find(R"("equal_opportunity_difference":null)") != std::string::npos);

  // One parity alert for group (A near 1, B near 0, once both have 1,000 events), none for tier.
  size_t alerts = 0;
  for (const std::string& d : sink.drifts) {
    if (d.find(R"("type":"slice_gap")") == std::string::npos) continue;
    ++alerts;
    CHECK(d.find(R"("field":"group","metric":"demographic_parity")") != std::string::npos);
    CHECK(d.find(R"("max_value":"A")") != std::string::npos);
  }
  CHECK(alerts == 1);

  std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  CHECK(text.find(R"(streamlearn_slice_positive_rate{field="group",value="A"} 0.9)") != std::string::npos);
  CHECK(text.find(R"(streamlearn_slice_events{field="tier",value="2"} 1333)") != std::string::npos);
  CHECK(text.find(R"(streamlearn_slice_gap{field="group",metric="demographic_parity"})") != std::string::npos);

  // A value that leaves the report loses its series: the label set stays bounded.
  std::vector<FieldSlices> fewer = stats.slices;
  fewer[0].values.erase(fewer[0].values.begin());
  probe.set_slices(fewer);
  text = prometheus::TextSerializer().Serialize(registry->Collect());
  CHECK(text.find(R"(streamlearn_slice_accuracy{field="group",value="A"})") == std::string::npos);
  CHECK(text.find(R"(streamlearn_slice_accuracy{field="group",value="B"})") != std::string::npos);
}

TEST_CASE("slices: off by default, refused for a regression model, a list or a comma-separated text in the config",
          "[slices][config]") {
  PipelineConfig plain;
  auto p = Processor::Create(plain, nullptr, nullptr);
  REQUIRE(p.ok());
  CHECK((*p)->stats().slices.empty());

  PipelineConfig regression;
  regression.model.type = "linear";
  regression.metrics.slices = {"group"};
  auto refused = Processor::Create(regression, nullptr, nullptr);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("metrics.slices"));

  auto listed = ParseConfig("metrics:\n  slices: [country, device]\n  slices_top_k: 5\n  slice_gap_alert: 0.1\n", "p.yaml",
                            nullptr);
  REQUIRE(listed.ok());
  CHECK(listed->metrics.slices == std::vector<std::string>{"country", "device"});
  CHECK(listed->metrics.slices_top_k == 5);
  CHECK(listed->metrics.slice_gap_alert == 0.1);
  auto env = ParseConfig("model:\n  name: m\n", "p.yaml", [](const char* name) -> const char* {
    return std::string(name) == "STREAMLEARN_METRICS_SLICES" ? "country, device" : nullptr;
  });
  REQUIRE(env.ok());
  CHECK(env->metrics.slices == std::vector<std::string>{"country", "device"});
  auto twice = ParseConfig("metrics:\n  slices: [a, a]\n", "p.yaml", nullptr);
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.status().message(), Catch::Contains("metrics.slices"));
  CHECK_FALSE(ParseConfig("metrics:\n  slice_gap_alert: 2\n", "p.yaml", nullptr).ok());
}

TEST_CASE("slices: a multiclass model gets accuracy and log loss, rates and gaps are undefined", "[slices]") {
  SliceMetrics m({"g"}, 20, 0.1, /*binary=*/false);
  Event e;
  e.categorical.push_back({"g", "x"});
  for (int i = 0; i < 300; ++i) {
    m.select(e);
    m.record(i % 3, 0.5, 1);
    m.clear();
  }
  const auto report = m.report();
  REQUIRE(report.size() == 1);
  REQUIRE(report[0].values.size() == 1);
  CHECK(report[0].values[0].accuracy == Approx(1.0 / 3));
  CHECK(report[0].values[0].log_loss == Approx(std::log(2.0)));
  CHECK(std::isnan(report[0].values[0].positive_rate));
  CHECK(std::isnan(report[0].demographic_parity_difference));
  CHECK(m.alerts().empty());
}

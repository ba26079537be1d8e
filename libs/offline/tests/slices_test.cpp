// Sliced metrics end to end: a generated stream with a known biased group through the
// whole pipeline (evaluate), its gaps read back from evaluate's JSON, table and report.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>

#include "streamlearn/offline/evaluate.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

// Group A (60 % of A's events have signal 1) and group B (30 %). The label follows the
// signal 9 times in 10, in both groups; the model learns to predict the signal (x = +-2).
// So the predicted positive rate is 0.6 in A and 0.3 in B (demographic parity difference
// 0.3), and the true-positive rate P(signal 1 | label 1) is
//   A: 0.6 * 0.9 / (0.6 * 0.9 + 0.4 * 0.1) = 0.9310,  B: 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.1) = 0.7941
// (equal opportunity difference 0.1369).
constexpr double kRateA = 0.6, kRateB = 0.3, kTprA = 0.54 / 0.58, kTprB = 0.27 / 0.34;

std::string BiasedStream(size_t events, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  for (size_t i = 0; i < events; ++i) {
    const bool a = u(rng) < 0.5;
    const bool signal = u(rng) < (a ? kRateA : kRateB);
    const bool label = u(rng) < 0.9 ? signal : !signal;
    out += R"({"id":"e-)" + std::to_string(i) + R"(","ts":)" + std::to_string(1700000000000 + i) +
           R"(,"features":{"x":)" + (signal ? "2" : "-2") + R"(,"group":")" + (a ? "A" : "B") + R"("},"label":)" +
           (label ? "1" : "0") + "}\n";
  }
  return out;
}

// The number after "key": at or after `from` in `json`.
double NumberAfter(const std::string& json, const std::string& key, size_t from = 0) {
  const size_t at = json.find("\"" + key + "\":", from);
  REQUIRE(at != std::string::npos);
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

EvaluationResult Run(const std::string& events, const PipelineConfig& config) {
  std::istringstream in(events);
  EvaluateInputs inputs;
  inputs.events = &in;
  auto r = Evaluate(config, inputs);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("sliced metrics: a biased group's known gaps show in evaluate's JSON within 0.01", "[evaluate][slices]") {
  PipelineConfig config;
  config.metrics.slices = {"group"};
  config.metrics.slice_gap_alert = 0.2;  // parity (0.3) crosses it, opportunity (0.137) does not
  const EvaluationResult r = Run(BiasedStream(200000, 3), config);
  const std::string json = EvaluationJson(r);
  INFO(json.substr(json.find("\"slices\"")));
  const size_t slices = json.find(R"("slices":[{"field":"group")");
  REQUIRE(slices != std::string::npos);
  CHECK(NumberAfter(json, "demographic_parity_difference", slices) == Approx(kRateA - kRateB).margin(0.01));
  CHECK(NumberAfter(json, "equal_opportunity_difference", slices) == Approx(kTprA - kTprB).margin(0.01));
  const size_t a = json.find(R"({"value":"A")", slices);
  const size_t b = json.find(R"({"value":"B")", slices);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  CHECK(NumberAfter(json, "positive_rate", a) == Approx(kRateA).margin(0.01));
  CHECK(NumberAfter(json, "positive_rate", b) == Approx(kRateB).margin(0.01));
  CHECK(NumberAfter(json, "true_positive_rate", a) == Approx(kTprA).margin(0.01));
  CHECK(NumberAfter(json, "true_positive_rate", b) == Approx(kTprB).margin(0.01));
  CHECK(NumberAfter(json, "accuracy", a) == Approx(0.9).margin(0.01));  // the label follows the signal 9 in 10
  CHECK(NumberAfter(json, "events", a) + NumberAfter(json, "events", b) == 200000);
  CHECK(json.find(R"x("value":"(other)")x") == std::string::npos);  // two values: nothing pooled

  // One alert, for parity, soon after both groups have their 1,000 events; none for opportunity.
  REQUIRE(r.slice_gaps.size() == 1);
  CHECK(r.slice_gaps[0].metric == "demographic_parity");
  CHECK(r.slice_gaps[0].max_value == "A");
  CHECK(r.slice_gaps[0].min_value == "B");
  CHECK(r.slice_gaps[0].position >= 2000);
  CHECK(r.slice_gaps[0].position < 2500);
  CHECK(json.find(R"("slice_gaps":[{"position":)") != std::string::npos);

  const std::string table = EvaluationTable(r);
  CHECK(table.find("slices of group (200000 labelled): demographic parity difference 0.") != std::string::npos);
  const std::string html = EvaluationReportHtml(r);
  CHECK(html.find("<h2>Slices of group</h2>") != std::string::npos);
  CHECK(html.find("<h2>Slice gap alerts</h2>") != std::string::npos);
}

TEST_CASE("sliced metrics: off, evaluate's JSON has no slices and the processor none either", "[evaluate][slices]") {
  const EvaluationResult r = Run(BiasedStream(2000, 4), PipelineConfig{});
  CHECK(r.slices.empty());
  CHECK(EvaluationJson(r).find("\"slices\"") == std::string::npos);
}

TEST_CASE("sliced metrics: only the top K values by count are listed, the rest as (other)", "[evaluate][slices]") {
  std::string events;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 6000; ++i) {
    // country c0 .. c9, c0 most frequent; the label is random.
    const int country = std::min(9, static_cast<int>(std::geometric_distribution<int>(0.3)(rng)));
    events += R"({"id":"e-)" + std::to_string(i) + R"(","features":{"x":1,"country":"c)" + std::to_string(country) +
              R"("},"label":)" + std::to_string(rng() % 2) + "}\n";
  }
  PipelineConfig config;
  config.metrics.slices = {"country"};
  config.metrics.slices_top_k = 3;
  const EvaluationResult r = Run(events, config);
  REQUIRE(r.slices.size() == 1);
  const FieldSlices& f = r.slices[0];
  REQUIRE(f.values.size() == 4);
  CHECK(f.values[0].value == "c0");
  CHECK(f.values[1].value == "c1");
  CHECK(f.values[2].value == "c2");
  CHECK(f.values[3].value == "(other)");
  uint64_t total = 0;
  for (const auto& v : f.values) total += v.events;
  CHECK(total == 6000);
  CHECK(f.values[0].events > f.values[1].events);
}

// Model selection proven on streams where the answer is known: the best model changes
// (a linear concept, then one a tree learns and a linear model cannot), two candidates are
// nearly equal (no flapping), and the label is autocorrelated while the features are noise
// (a baseline serves). Through `streamlearn evaluate`, which runs the Processor.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>

#include "streamlearn/offline/evaluate.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

EvaluationResult Run(const std::string& events, const PipelineConfig& config) {
  std::istringstream in(events);
  EvaluateInputs inputs;
  inputs.events = &in;
  inputs.events_name = "events.jsonl";
  auto result = Evaluate(config, inputs, {});
  REQUIRE(result.ok());
  return std::move(result).value();
}

std::string Line(size_t i, double x1, double x2, int label, int concept_index) {
  return R"({"id":"e-)" + std::to_string(i) + R"(","ts":)" + std::to_string(1700000000000 + 10 * i) +
         R"(,"features":{"x1":)" + std::to_string(x1) + R"(,"x2":)" + std::to_string(x2) + R"(},"label":)" +
         std::to_string(label) + R"(,"meta":{"concept":)" + std::to_string(concept_index) + "}}\n";
}

// x1, x2 uniform on [-1, 1]. Up to `change`: y = x1 + x2 > 0 (a line through the middle);
// after: y = |x1| < 0.5 (a band, which no line separates and two splits on x1 do).
std::string LineThenBand(size_t n, size_t change, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    const bool band = i >= change;
    out += Line(i, x1, x2, band ? (std::abs(x1) < 0.5) : (x1 + x2 > 0), band ? 1 : 0);
  }
  return out;
}

PipelineConfig Config() {
  PipelineConfig c;
  c.model.name = "linear";
  c.model.learning_rate = 0.05;
  c.drift.action = DriftAction::kNone;
  c.drift.data_enabled = false;
  c.features.entity_aggregates = false;
  return c;
}

}  // namespace

TEST_CASE("selection follows the best model when it changes, and the served stream beats the fixed linear model",
          "[evaluate][selection]") {
  constexpr size_t kChange = 8000, kEvents = 20000, kWithin = 1500;
  const std::string events = LineThenBand(kEvents, kChange, 11);
  PipelineConfig fixed = Config();
  fixed.challengers["tree"] = {{"type", "hoeffding_tree"}};
  PipelineConfig selected = fixed;
  selected.selection.enabled = true;
  selected.selection.window = 500;
  selected.selection.min_events = 300;
  selected.selection.margin = 0.02;

  const EvaluationResult f = Run(events, fixed);
  const EvaluationResult s = Run(events, selected);
  INFO(EvaluationTable(s));
  REQUIRE(s.selection.enabled);
  // Before the change the linear model serves (it learns the line first); after it, the
  // tree takes over within kWithin labelled events.
  bool switched_after_change = false;
  for (const SwitchMark& m : s.switches) {
    INFO("switch at " << m.position << " " << m.from << " -> " << m.to);
    if (m.position >= static_cast<int64_t>(kChange) && m.position < static_cast<int64_t>(kChange + kWithin) &&
        m.from == "linear" && m.to != "linear") {
      switched_after_change = true;
    }
  }
  CHECK(switched_after_change);
  CHECK(s.selection.serving == "tree");
  CHECK(s.model_version == 1 + s.switches.size());
  // Prequential accuracy of what was served against the linear model serving throughout.
  const double served = s.classification->cumulative.accuracy;
  const double linear = f.classification->cumulative.accuracy;
  INFO("served " << served << ", fixed linear " << linear);
  CHECK(served > linear + 0.1);
  REQUIRE(s.segments.size() == 2);
  CHECK(s.segments[1].mean > f.segments[1].mean + 0.2);
  // The table and the JSON say who served how much, and the switches.
  const std::string table = EvaluationTable(s);
  CHECK(table.find("model selection by rolling accuracy") != std::string::npos);
  // The candidates' column is their rolling figure, not the cumulative one above it: named so.
  CHECK(table.find(" scored rolling accuracy\n") != std::string::npos);
  CHECK(table.find("switch at ") != std::string::npos);
  const std::string json = EvaluationJson(s);
  CHECK(json.find(R"("selection":{"metric":"accuracy","serving":"tree","switches":)") != std::string::npos);
  CHECK(json.find(R"("switches":[{"position":)") != std::string::npos);
  uint64_t served_events = 0;
  for (const CandidateStats& c : s.selection.candidates) served_events += c.served;
  CHECK(served_events == kEvents);
}

TEST_CASE("selection with hysteresis does not flap between nearly equal candidates on a stationary stream",
          "[evaluate][selection]") {
  // One concept throughout, with 10% label noise; two logistic models a little apart.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1), coin(0, 1);
  std::string events;
  constexpr size_t kEvents = 30000;
  for (size_t i = 0; i < kEvents; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    int y = x1 - 0.5 * x2 > 0.1;
    if (coin(rng) < 0.1) y = 1 - y;
    events += Line(i, x1, x2, y, 0);
  }
  PipelineConfig config = Config();
  config.challengers["twin"] = {{"learning_rate", "0.06"}};
  config.selection.enabled = true;
  config.selection.window = 1000;
  config.selection.min_events = 500;
  config.selection.margin = 0.01;
  config.selection.include_baselines = false;
  const EvaluationResult r = Run(events, config);
  INFO(EvaluationTable(r));
  CHECK(r.switches.size() <= 2);

  // The control: without the margin and the wait, the same pair changes hands many times.
  config.selection.margin = 0;
  config.selection.min_events = 1;
  const EvaluationResult eager = Run(events, config);
  INFO("eager switches " << eager.switches.size());
  CHECK(eager.switches.size() > 5 * std::max<size_t>(r.switches.size(), 1));
}

TEST_CASE("a baseline serves when the label is autocorrelated and the features are noise", "[evaluate][selection]") {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-1, 1), coin(0, 1);
  std::string events;
  int label = 0;
  constexpr size_t kEvents = 10000;
  for (size_t i = 0; i < kEvents; ++i) {
    if (coin(rng) < 0.05) label = 1 - label;  // runs of 20 on average
    events += Line(i, u(rng), u(rng), label, 0);
  }
  PipelineConfig fixed = Config();
  fixed.challengers["tree"] = {{"type", "hoeffding_tree"}};
  PipelineConfig config = fixed;
  config.selection.enabled = true;
  const EvaluationResult r = Run(events, config);
  const EvaluationResult f = Run(events, fixed);
  INFO(EvaluationTable(r));
  CHECK(r.selection.serving == "no_change");
  REQUIRE_FALSE(r.switches.empty());
  CHECK(r.switches.front().to == "no_change");
  CHECK(r.switches.front().labelled == 500);  // as soon as min_events allow
  CHECK(r.classification->cumulative.accuracy > 0.9);
  CHECK(r.classification->cumulative.accuracy > f.classification->cumulative.accuracy + 0.3);
}

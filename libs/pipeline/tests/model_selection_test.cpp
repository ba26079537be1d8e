// The model selector on its own: baselines, the rolling figures, the hysteresis rule, its
// saved state, and the config's checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model_selection.hpp"
#include "streamlearn/pipeline/config.hpp"
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/runner.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;

namespace {

SelectionSettings Settings(int window, double margin, int min_events, SelectionMetric metric = SelectionMetric::kAuto) {
  SelectionSettings s;
  s.enabled = true;
  s.window = window;
  s.margin = margin;
  s.min_events = min_events;
  s.metric = metric;
  return s;
}

learn::Prediction Class(int c, double score = 0.5) {
  learn::Prediction p;
  p.class_index = c;
  p.score = score;
  return p;
}

// Two learner candidates on binary labels: `a` right with probability 1 - error_a (by a
// fixed pattern), `b` likewise. Returns the switches select() made.
int Run(ModelSelector& s, int events, int a_wrong_every, int b_wrong_every) {
  int switches = 0;
  for (int i = 0; i < events; ++i) {
    const double y = i % 2;
    const bool a_right = a_wrong_every == 0 || i % a_wrong_every != 0;
    const bool b_right = b_wrong_every == 0 || i % b_wrong_every != 0;
    s.score(0, Class(a_right ? static_cast<int>(y) : 1 - static_cast<int>(y)), std::nan(""), y);
    s.score(1, Class(b_right ? static_cast<int>(y) : 1 - static_cast<int>(y)), std::nan(""), y);
    s.score_and_learn_baselines(y);
    if (s.select()) switches++;
  }
  return switches;
}

struct MemorySink : JsonOutputSink {
  std::vector<std::string> predictions, drifts;
  Status prediction(std::string_view, std::string_view json) override {
    std::string p(json);
    p.erase(p.find(",\"latency_us\""));  // wall-clock time
    predictions.push_back(std::move(p));
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view reason) override {
    FAIL("dead letter: " << reason);
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view json) override {
    drifts.emplace_back(json);
    return Status::Ok();
  }
};

// Events whose label repeats the one before with probability 0.9, with features that are
// noise: the no_change baseline predicts it best.
std::vector<std::string> AutocorrelatedEvents(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> out;
  int label = 0;
  for (size_t i = 0; i < n; ++i) {
    if (u(rng) > 0.9) label = 1 - label;
    out.push_back(R"({"id":"e-)" + std::to_string(i) + R"(","ts":)" + std::to_string(1700000000000 + 10 * i) +
                  R"(,"features":{"x1":)" + std::to_string(u(rng)) + R"(,"x2":)" + std::to_string(u(rng)) +
                  R"(},"label":)" + std::to_string(label) + "}");
  }
  return out;
}

void Feed(Processor& p, const std::vector<std::string>& events, size_t from, size_t to, MemorySink& sink) {
  std::vector<RawMessage> raw;
  for (size_t i = from; i < to; ++i) {
    raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, "", events[i]});
    if (raw.size() == 100 || i + 1 == to) {
      REQUIRE(p.process(raw, sink).ok());
      raw.clear();
    }
  }
}

PipelineConfig SelectionConfig() {
  PipelineConfig c;
  c.drift.action = DriftAction::kNone;
  c.drift.data_enabled = false;
  c.challengers["fast"] = {{"learning_rate", "0.05"}};
  c.selection.enabled = true;
  c.selection.window = 200;
  c.selection.min_events = 100;
  c.selection.margin = 0.05;
  return c;
}

}  // namespace

TEST_CASE("selection baselines predict from the labels alone", "[selection]") {
  SECTION("binary: no_change repeats the last label, majority the frequent one, with Laplace probabilities") {
    ModelSelector s(Settings(10, 0, 1), Task::kBinary, {{"m", CandidateKind::kLearner}, {"no_change", CandidateKind::kNoChange}, {"majority", CandidateKind::kMajority}});
    learn::Prediction p;
    s.predict_baseline(1, p);
    CHECK(p.class_index == 0);
    CHECK(p.score == 0.5);
    for (double y : {1.0, 1.0, 1.0, 0.0}) s.score_and_learn_baselines(y);
    s.predict_baseline(1, p);
    CHECK(p.class_index == 0);                              // the last label
    CHECK_THAT(p.score, WithinAbs(1 - 3.0 / 5.0, 1e-12));  // 2 of 3 repeats: P(stay) = (2 + 1) / (4 + 1)
    s.predict_baseline(2, p);
    CHECK(p.class_index == 1);                             // three ones, one zero
    CHECK_THAT(p.score, WithinAbs(4.0 / 6.0, 1e-12));
  }
  SECTION("multiclass: probabilities over the classes seen") {
    ModelSelector s(Settings(10, 0, 1), Task::kMulticlass, {{"m", CandidateKind::kLearner}, {"no_change", CandidateKind::kNoChange}, {"majority", CandidateKind::kMajority}});
    learn::Prediction p;
    s.predict_baseline(2, p);
    CHECK(p.class_index == -1);
    for (double y : {2.0, 0.0, 2.0, 1.0}) s.score_and_learn_baselines(y);
    s.predict_baseline(1, p);
    CHECK(p.class_index == 1);
    REQUIRE(p.probabilities.size() == 3);
    CHECK_THAT(p.probabilities[0] + p.probabilities[1] + p.probabilities[2], WithinAbs(1, 1e-12));
    s.predict_baseline(2, p);
    CHECK(p.class_index == 2);
    CHECK_THAT(p.probabilities[2], WithinAbs(3.0 / 7.0, 1e-12));
  }
  SECTION("regression: the last target and the running mean") {
    ModelSelector s(Settings(10, 0, 1), Task::kRegression, {{"m", CandidateKind::kLearner}, {"no_change", CandidateKind::kNoChange}, {"mean", CandidateKind::kMean}});
    for (double y : {1.0, 2.0, 6.0}) s.score_and_learn_baselines(y);
    learn::Prediction p;
    s.predict_baseline(1, p);
    CHECK(p.score == 6.0);
    s.predict_baseline(2, p);
    CHECK_THAT(p.score, WithinAbs(3.0, 1e-12));
    CHECK(s.metric() == SelectionMetric::kMae);
    // Scored before learning: the mean's first prediction was 0, then 1, then 1.5.
    CHECK_THAT(s.value(2), WithinAbs((1.0 + 1.0 + 4.5) / 3, 1e-12));
  }
}

TEST_CASE("selection switches to a candidate that leads by the margin, not before min_events", "[selection]") {
  ModelSelector s(Settings(100, 0.05, 50), Task::kBinary, {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
  // b always right, a wrong every 5th: b leads by 0.2 from the first events, but must wait.
  for (int i = 0; i < 49; ++i) {
    const double y = i % 2;
    s.score(0, Class(i % 5 == 0 ? 1 - static_cast<int>(y) : static_cast<int>(y)), std::nan(""), y);
    s.score(1, Class(static_cast<int>(y)), std::nan(""), y);
    CHECK_FALSE(s.select());
  }
  s.score(0, Class(0), std::nan(""), 1);
  s.score(1, Class(1), std::nan(""), 1);
  const auto change = s.select();
  REQUIRE(change);
  CHECK(change->from == 0);
  CHECK(change->to == 1);
  CHECK(change->labelled == 50);
  CHECK(s.champion() == 1);
  CHECK(s.switches() == 1);
  CHECK_THAT(change->to_value, WithinAbs(1.0, 1e-12));
  CHECK(change->from_value < 0.8);
}

TEST_CASE("selection does not flap between nearly equal candidates", "[selection]") {
  SECTION("within the margin: never") {
    ModelSelector s(Settings(200, 0.02, 100), Task::kBinary, {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
    CHECK(Run(s, 5000, 10, 11) == 0);  // 0.90 against 0.909
  }
  SECTION("without a margin the same candidates would switch") {
    ModelSelector s(Settings(200, 0, 1), Task::kBinary, {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
    CHECK(Run(s, 5000, 10, 11) >= 1);
  }
}

TEST_CASE("selection with log loss and mae ranks by them", "[selection]") {
  ModelSelector ll(Settings(10, 0.1, 5, SelectionMetric::kLogLoss), Task::kBinary,
                   {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
  for (int i = 0; i < 5; ++i) {
    ll.score(0, Class(1, 0.6), 0.6, 1);  // right, unsure
    ll.score(1, Class(1, 0.99), 0.99, 1);
    ll.select();
  }
  CHECK(ll.champion() == 1);
  CHECK_THAT(ll.value(0), WithinAbs(-std::log(0.6), 1e-12));

  // mae's margin is relative: 0.95 against 1.0 is not 10% better, 0.8 is.
  ModelSelector mae(Settings(10, 0.1, 1), Task::kRegression, {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
  learn::Prediction p;
  p.score = 1.95;
  learn::Prediction q;
  q.score = 3.0;
  mae.score(0, q, std::nan(""), 2.0);
  mae.score(1, p, std::nan(""), 2.95);
  CHECK_FALSE(mae.select());
  p.score = 1.0;
  mae.score(0, q, std::nan(""), 2.0);  // a: 1.0
  mae.score(1, p, std::nan(""), 0.4);  // b: (0.95 + 0.6) / 2 = 0.775
  CHECK(mae.select());
  CHECK(mae.champion() == 1);
}

TEST_CASE("selection state round-trips and continues identically, new and dropped candidates", "[selection]") {
  const std::vector<CandidateSpec> specs = {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner},
                                            {"no_change", CandidateKind::kNoChange}, {"majority", CandidateKind::kMajority}};
  ModelSelector s(Settings(64, 0.01, 20), Task::kBinary, specs);
  Run(s, 300, 3, 0);
  REQUIRE(s.champion() == 1);
  std::string bytes;
  ByteWriter w(&bytes);
  s.save(w);

  ModelSelector restored(Settings(64, 0.01, 20), Task::kBinary, specs);
  ByteReader r(bytes);
  REQUIRE(restored.load(r).ok());
  CHECK(r.at_end());
  CHECK(restored.champion() == 1);
  Run(s, 500, 0, 2);
  Run(restored, 500, 0, 2);
  CHECK(restored.champion() == s.champion());
  CHECK(restored.switches() == s.switches());
  for (size_t i = 0; i < specs.size(); ++i) {
    CHECK(restored.value(i) == s.value(i));  // bit-identical
    CHECK(restored.stats().candidates[i].scored == s.stats().candidates[i].scored);
  }

  // The serving candidate dropped from the config: the model serves; a new one starts fresh.
  ModelSelector other(Settings(32, 0.01, 20), Task::kBinary, {{"a", CandidateKind::kLearner}, {"c", CandidateKind::kLearner}});
  ByteReader again(bytes);
  REQUIRE(other.load(again).ok());
  CHECK(other.champion() == 0);
  CHECK(other.stats().candidates[0].scored == 300);
  // A smaller selection.window keeps the latest losses: as if it had always been 32.
  ModelSelector small(Settings(32, 0.01, 20), Task::kBinary, {{"a", CandidateKind::kLearner}, {"b", CandidateKind::kLearner}});
  Run(small, 300, 3, 0);
  CHECK(other.value(0) == small.value(0));
  CHECK(other.stats().candidates[1].scored == 0);
  CHECK(std::isnan(other.value(1)));

  ByteReader cut(std::string_view(bytes).substr(0, bytes.size() / 2));
  CHECK_FALSE(restored.load(cut).ok());
}

TEST_CASE("selection config: keys, defaults and errors that name the key", "[selection][config]") {
  auto none = [](const char*) -> const char* { return nullptr; };
  auto config = ParseConfig("selection: {enabled: true, metric: log_loss, margin: 0.02, window: 300, min_events: 100, "
                            "include_baselines: false}\n",
                            "c.yaml", none);
  REQUIRE(config.ok());
  CHECK(config->selection.enabled);
  CHECK(config->selection.metric == SelectionMetric::kLogLoss);
  CHECK(config->selection.window == 300);
  CHECK(config->selection.min_events == 100);
  CHECK_FALSE(config->selection.include_baselines);

  auto bad_metric = ParseConfig("selection: {enabled: true, metric: mae}\n", "c.yaml", none);
  REQUIRE_FALSE(bad_metric.ok());
  CHECK_THAT(bad_metric.status().message(), Contains("selection.metric: mae ranks regression models"));

  auto unknown = ParseConfig("selection: {metric: f1}\n", "c.yaml", none);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.status().message(), Contains("selection.metric"));

  auto negative = ParseConfig("selection: {margin: -1}\n", "c.yaml", none);
  REQUIRE_FALSE(negative.ok());
  CHECK_THAT(negative.status().message(), Contains("selection.margin"));

  auto clash = ParseConfig("selection: {enabled: true}\nchallengers: {majority: {learning_rate: 0.1}}\n", "c.yaml", none);
  REQUIRE_FALSE(clash.ok());
  CHECK_THAT(clash.status().message(), Contains("challengers.majority: the name of a selection baseline"));

  // The candidates, in the selector's order.
  PipelineConfig c;
  c.model.name = "lin";
  c.challengers["tree"] = {{"type", "hoeffding_tree"}};
  const auto candidates = SelectionCandidates(c, Task::kBinary);
  REQUIRE(candidates.size() == 4);
  CHECK(candidates[0].name == "lin");
  CHECK(candidates[1].name == "tree");
  CHECK(candidates[2].kind == CandidateKind::kNoChange);
  CHECK(candidates[3].kind == CandidateKind::kMajority);
  CHECK(SelectionCandidates(c, Task::kRegression)[3].name == "mean");
}

TEST_CASE("a config that names no model gets the default candidates, one that names its models keeps them",
          "[selection][defaults]") {
  const Environment none = [](const char*) -> const char* { return nullptr; };
  // No model settings: selection on among the task's default candidates and the baselines.
  for (const auto& [type, task] : {std::pair{"logistic", Task::kBinary}, std::pair{"softmax", Task::kMulticlass},
                                   std::pair{"linear", Task::kRegression}}) {
    auto defaults = DefaultConfig(none);
    REQUIRE(defaults.ok());
    PipelineConfig c = *defaults;
    c.model.type = type;  // as evaluate guesses it from the labels: not a setting
    CHECK(UsesDefaultModels(c));
    ApplyDefaultModels(c);
    CHECK(c.selection.enabled);
    CHECK(c.drift.action == DriftAction::kBackground);
    const auto expected = DefaultCandidates(task);
    REQUIRE_FALSE(expected.empty());
    REQUIRE(c.challengers.size() == expected.size());
    for (const auto& candidate : expected) CHECK(ChallengerType(c, candidate.name) == candidate.type);
    CHECK(ValidateLearnerSettings(c).ok());
    CHECK(SelectionCandidates(c, task).size() == 1 + expected.size() + BaselineCandidates(task).size());
  }
  // A drift action the config gives stays.
  auto reset = ParseConfig("drift: {action: reset}\n", "c.yaml", none);
  REQUIRE(reset.ok());
  ApplyDefaultModels(*reset);
  CHECK(reset->selection.enabled);
  CHECK(reset->drift.action == DriftAction::kReset);
  // model.type (in the file or the environment), a challenger or any selection key: exactly what it says.
  const Environment type_from_env = [](const char* name) -> const char* {
    return std::string(name) == "STREAMLEARN_MODEL_TYPE" ? "logistic" : nullptr;
  };
  std::vector<PipelineConfig> named;
  for (const char* yaml : {"model: {type: logistic}\n", "challengers: {tree: {type: hoeffding_tree}}\n",
                           "selection: {window: 800}\n", "selection: {enabled: false}\n"}) {
    auto c = ParseConfig(yaml, "c.yaml", none);
    REQUIRE(c.ok());
    named.push_back(*c);
  }
  auto from_env = DefaultConfig(type_from_env);
  REQUIRE(from_env.ok());
  named.push_back(*from_env);
  for (PipelineConfig& c : named) {
    const size_t challengers = c.challengers.size();
    const bool selection = c.selection.enabled;
    CHECK_FALSE(UsesDefaultModels(c));
    ApplyDefaultModels(c);
    CHECK(c.challengers.size() == challengers);
    CHECK(c.selection.enabled == selection);
    CHECK(c.drift.action == DriftAction::kReset);
  }
}

TEST_CASE("processor with selection: predictions name their candidate, a switch is published and bumps the version",
          "[selection]") {
  const auto events = AutocorrelatedEvents(3000, 5);
  PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto p = Processor::Create(SelectionConfig(), nullptr, &probe);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, events, 0, events.size(), sink);
  CHECK(sink.predictions.front().find(R"("model":"logreg","version":1,"candidate":"logreg","score")") !=
        std::string::npos);
  REQUIRE_FALSE(sink.drifts.empty());
  INFO(sink.drifts.front());
  CHECK(sink.drifts.front().rfind(R"({"type":"model_switch","model":"logreg","version":2,"from":"logreg","to":"no_change","metric":"accuracy",)", 0) == 0);
  CHECK(sink.predictions.back().find(R"("candidate":"no_change")") != std::string::npos);
  const ProcessorStats st = (*p)->stats();
  CHECK(st.model_version == 1 + st.selection.switches);
  CHECK(probe.model_switches.Value() == static_cast<double>(st.selection.switches));
  CHECK(probe.model_version.Value() == static_cast<double>(st.model_version));
  CHECK(st.selection.serving == "no_change");
  CHECK(st.selection.switches <= 2);
  REQUIRE(st.selection.candidates.size() == 4);
  uint64_t served = 0;
  for (const auto& c : st.selection.candidates) {
    served += c.served;
    CHECK(c.scored == 3000);
  }
  CHECK(served == 3000);
  CHECK(st.selection.candidates[2].value > 0.8);  // no_change, over the last 200
  // The served stream is the selection's: better than the logistic model alone on noise.
  CHECK(st.rolling_accuracy > 0.8);

  // /v1/status: the serving candidate and each candidate's figures.
  RunnerStatus status;
  status.processor = st;
  const std::string json = StatusToJson(status, SelectionConfig());
  INFO(json);
  CHECK(json.find(R"("selection":{"metric":"accuracy","serving":"no_change","switches":)") != std::string::npos);
  CHECK(json.find(R"({"name":"no_change","kind":"no_change","scored":3000,"served":)") != std::string::npos);
  CHECK(json.find(R"({"name":"logreg","kind":"learner","scored":3000,"served":)") != std::string::npos);
  status.processor.selection = {};
  CHECK(StatusToJson(status, PipelineConfig{}).find("selection") == std::string::npos);
}

TEST_CASE("processor with selection: a restored snapshot continues bit-identically", "[selection]") {
  const auto events = AutocorrelatedEvents(2000, 9);
  const PipelineConfig config = SelectionConfig();
  auto straight = Processor::Create(config, nullptr, nullptr);
  REQUIRE(straight.ok());
  MemorySink all;
  Feed(**straight, events, 0, events.size(), all);
  REQUIRE((*straight)->stats().selection.switches >= 1);

  // Cut where the first switch has happened and the window is mid-way.
  auto first = Processor::Create(config, nullptr, nullptr);
  REQUIRE(first.ok());
  MemorySink before;
  Feed(**first, events, 0, 1150, before);
  const std::string snapshot = (*first)->model_snapshot();
  auto resumed = Processor::FromSnapshot(config, snapshot);
  REQUIRE(resumed.ok());
  MemorySink after;
  Feed(**resumed, events, 1150, events.size(), after);
  REQUIRE(after.predictions.size() == 850);
  for (size_t i = 0; i < after.predictions.size(); ++i) REQUIRE(after.predictions[i] == all.predictions[1150 + i]);
  CHECK((*resumed)->model_snapshot() == (*straight)->model_snapshot());
  CHECK((*resumed)->stats().selection.serving == (*straight)->stats().selection.serving);
  // `model inspect` reads the same from the snapshot.
  CHECK((*resumed)->describe_json().find(R"("selection":{"metric":"accuracy","serving":")") != std::string::npos);

  // Read with selection now off: the section is skipped, the model serves.
  PipelineConfig off = config;
  off.selection.enabled = false;
  auto plain = Processor::FromSnapshot(off, snapshot);
  REQUIRE(plain.ok());
  CHECK_FALSE((*plain)->stats().selection.enabled);
}

namespace {

std::vector<std::string> EventsWithLabels(const std::vector<std::string>& labels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    out.push_back(R"({"id":"e-)" + std::to_string(i) + R"(","ts":)" + std::to_string(1700000000000 + 10 * i) +
                  R"(,"features":{"x1":)" + std::to_string(u(rng)) + R"(},"label":)" + labels[i] + "}");
  }
  return out;
}

}  // namespace

TEST_CASE("selection for regression: mae ranks, no_change serves a random walk", "[selection]") {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> step(0, 0.1);
  std::vector<std::string> labels;
  double y = 5;
  for (int i = 0; i < 3000; ++i) labels.push_back(std::to_string(y += step(rng)));
  PipelineConfig config = SelectionConfig();
  config.model.type = "linear";
  config.challengers.clear();
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, EventsWithLabels(labels, 4), 0, labels.size(), sink);
  const ProcessorStats st = (*p)->stats();
  CHECK(st.selection.metric == "mae");
  CHECK(st.selection.serving == "no_change");
  REQUIRE(st.selection.candidates.size() == 3);
  CHECK(st.selection.candidates[2].name == "mean");
  CHECK(st.selection.candidates[1].value < 0.1);  // |N(0, 0.1)| averages 0.08
  CHECK(sink.predictions.back().find(R"("candidate":"no_change","score":)") != std::string::npos);
  CHECK(sink.predictions.back().find("class") == std::string::npos);
  CHECK(st.mae < 0.2);  // the served stream's
}

TEST_CASE("selection for multiclass: a baseline serves class names", "[selection]") {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> u(0, 1);
  const char* classes[] = {R"("red")", R"("green")", R"("blue")"};
  std::vector<std::string> labels;
  int c = 0;
  for (int i = 0; i < 3000; ++i) {
    if (u(rng) < 0.1) c = (c + 1 + static_cast<int>(u(rng) * 2)) % 3;
    labels.push_back(classes[c]);
  }
  PipelineConfig config = SelectionConfig();
  config.model.type = "softmax";
  config.challengers.clear();
  config.selection.metric = SelectionMetric::kLogLoss;
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, EventsWithLabels(labels, 7), 0, labels.size(), sink);
  const ProcessorStats st = (*p)->stats();
  CHECK(st.selection.serving == "no_change");
  const std::string& last = sink.predictions.back();
  INFO(last);
  CHECK(last.find(R"("candidate":"no_change")") != std::string::npos);
  CHECK(last.find(std::string(R"("class":)") + labels[labels.size() - 2]) != std::string::npos);
}

TEST_CASE("selection with delayed labels: candidates are scored when the label joins", "[selection]") {
  const auto events = AutocorrelatedEvents(2000, 12);
  PipelineConfig config = SelectionConfig();
  config.labels.enabled = true;
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  // Each event without its label, its label right after it on the labels topic.
  std::vector<std::string> payloads;
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& e = events[i];
    const size_t at = e.rfind(R"(,"label":)");
    payloads.push_back(e.substr(0, at) + "}");
    payloads.push_back(R"({"id":"e-)" + std::to_string(i) + R"(","label":)" + e.substr(at + 9, 1) + R"(,"ts":)" +
                       std::to_string(1700000000000 + 10 * i + 5) + "}");
  }
  for (size_t i = 0; i < payloads.size(); ++i) {
    raw.push_back({{i % 2 == 0 ? "events" : "labels", 0, static_cast<int64_t>(i / 2), 1700000000000}, "", payloads[i]});
  }
  MemorySink sink;
  for (size_t i = 0; i < raw.size(); i += 100) {
    REQUIRE((*p)->process(std::span<const RawMessage>(raw).subspan(i, std::min<size_t>(100, raw.size() - i)), sink).ok());
  }
  const ProcessorStats st = (*p)->stats();
  CHECK(st.labelled == 2000);
  CHECK(st.selection.serving == "no_change");
  CHECK(st.selection.candidates[0].scored == 2000);
  CHECK(sink.predictions.back().find(R"("candidate":"no_change")") != std::string::npos);
  CHECK(st.accuracy > 0.8);
}

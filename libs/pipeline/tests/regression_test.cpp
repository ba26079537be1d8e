// Regression that cannot run away: the target standardised online, SGD's normalized step,
// the divergence guard and its "diverged" reset; and stream-level lags (features.lags),
// restored bit-identically from a snapshot.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "divergence_guard.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "target_scaler.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct Sink : OutputSink {
  std::vector<double> scores;
  std::vector<std::string> drift_reasons;  // of the records with a reason
  std::vector<uint64_t> drift_versions;
  size_t detector_drifts = 0;
  Status write(const PredictionRecord& r) override {
    scores.push_back(r.score);
    return Status::Ok();
  }
  Status write(const ConceptDriftRecord& r) override {
    if (!r.reason.empty()) {
      drift_reasons.emplace_back(r.reason);
      drift_versions.push_back(r.version);
    } else if (r.level == "drift") {
      detector_drifts++;
    }
    return Status::Ok();
  }
  Status write(const DataDriftRecord&) override { return Status::Ok(); }
  Status write(const ModelSwitchRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord&) override { return Status::Ok(); }
};

// JSON lines without entities: features as given, a numeric label.
struct Row {
  std::vector<std::pair<std::string, double>> features;
  double label = 0;
};

std::vector<std::string> Payloads(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string p = R"({"id":"r-)" + std::to_string(i) + R"(","features":{)";
    for (size_t j = 0; j < rows[i].features.size(); ++j) {
      p += (j ? "," : "") + ("\"" + rows[i].features[j].first + "\":") + fmt::format("{}", rows[i].features[j].second);
    }
    out.push_back(p + R"(},"label":)" + fmt::format("{}", rows[i].label) + "}");
  }
  return out;
}

Status Feed(Processor& p, const std::vector<std::string>& payloads, size_t from, size_t to, OutputSink& sink) {
  std::vector<RawMessage> raw;
  for (size_t i = from; i < to; ++i) raw.push_back({{"events", 0, static_cast<int64_t>(i), 0}, "", payloads[i]});
  return p.process(raw, sink);
}

// A target around 1e6 from features of very different scales.
std::vector<Row> LargeTarget(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 1000);
  std::vector<Row> rows;
  for (size_t i = 0; i < n; ++i) {
    const double tiny = 1e-3 * u(rng), huge = 1e4 * u(rng), unit = u(rng);
    rows.push_back({{{"tiny", tiny}, {"huge", huge}, {"unit", unit}},
                    1e6 + 2e8 * tiny + 30 * huge - 5e4 * unit + noise(rng)});
  }
  return rows;
}

double Mae(const std::vector<double>& scores, const std::vector<Row>& rows, size_t from) {
  double sum = 0;
  for (size_t i = from; i < rows.size(); ++i) sum += std::abs(scores[i] - rows[i].label);
  return sum / static_cast<double>(rows.size() - from);
}

}  // namespace

TEST_CASE("the target scaler standardises with the statistics including the label, and predicts in its units",
          "[regression]") {
  TargetScaler s(true);
  CHECK(s.learned(1e6) == 0);  // the first label: its own mean
  CHECK(s.unscaled(0) == 1e6);
  CHECK(s.learned(1e6 + 2) == Approx(1));  // mean 1e6 + 1, std 1
  CHECK(s.unscaled(-1) == Approx(1e6));
  CHECK(std::isnan(s.learned(std::nan(""))));  // passed to the learner, which refuses it
  CHECK(s.count() == 2);
  TargetScaler off(false);
  CHECK(off.learned(5) == 5);
  CHECK(off.unscaled(3) == 3);
  std::string bytes;
  ByteWriter w(&bytes);
  s.save(w);
  TargetScaler back(false);
  ByteReader r(bytes);
  REQUIRE(back.load(r).ok());
  CHECK(back.active());
  CHECK(back.unscaled(1) == s.unscaled(1));
}

TEST_CASE("the divergence guard fires on a model beyond factor times the mean predictor, after a full window",
          "[regression]") {
  DivergenceGuard guard(10, 20);
  for (int i = 0; i < 19; ++i) CHECK_FALSE(guard.update(1e9, i % 2));  // the window is not full yet
  CHECK(guard.update(1e9, 1));
  CHECK(guard.divergences() == 1);
  guard.restart();
  for (int i = 0; i < 40; ++i) CHECK_FALSE(guard.update(0.5, i % 2));  // as good as the mean
  DivergenceGuard constant(10, 20);  // a constant target: rounding is no divergence
  for (int i = 0; i < 40; ++i) CHECK_FALSE(constant.update(7 + 1e-12, 7));
  DivergenceGuard off(0, 20);
  for (int i = 0; i < 40; ++i) CHECK_FALSE(off.update(1e9, 0));
}

TEST_CASE("a large, unscaled target with features of different scales stays bounded under model.type linear",
          "[regression]") {
  const std::vector<Row> rows = LargeTarget(4000, 3);
  const auto payloads = Payloads(rows);
  for (const double rate : {0.005, 0.5, 1000.0}) {
    INFO("learning_rate " << rate);
    PipelineConfig config;
    config.model.type = "linear";
    config.model.learning_rate = rate;
    auto p = Processor::Create(config, nullptr, nullptr);
    REQUIRE(p.ok());
    Sink sink;
    REQUIRE(Feed(**p, payloads, 0, payloads.size(), sink).ok());
    double mean = 0;
    for (const Row& r : rows) mean += r.label / static_cast<double>(rows.size());
    double spread = 0;
    for (const Row& r : rows) spread += std::abs(r.label - mean) / static_cast<double>(rows.size());
    for (double s : sink.scores) REQUIRE(std::isfinite(s));
    const double mae = Mae(sink.scores, rows, 1000);
    INFO("MAE " << mae << ", mean absolute deviation " << spread);
    CHECK(mae < 0.5 * spread);
    CHECK((*p)->stats().divergences == 0);
    CHECK((*p)->stats().guarded_updates == 0);
  }
}

TEST_CASE("a model forced to run away is counted, reset with reason diverged, and published with its new version",
          "[regression]") {
  const std::vector<Row> rows = LargeTarget(2000, 4);
  const auto payloads = Payloads(rows);
  PipelineConfig config;
  config.model.type = "linear";
  config.model.learning_rate = 5;                 // absurd for plain SGD on 3 standardised inputs
  config.model.params["schedule"] = "constant";  // not the normalized step, which would contain it
  config.drift.action = DriftAction::kNone;
  config.drift.action_given = true;
  auto registry = std::make_shared<prometheus::Registry>();
  PipelineProbe probe(registry);
  auto p = Processor::Create(config, nullptr, &probe);
  REQUIRE(p.ok());
  Sink sink;
  REQUIRE(Feed(**p, payloads, 0, payloads.size(), sink).ok());
  const ProcessorStats stats = (*p)->stats();
  REQUIRE(stats.divergences >= 1);
  CHECK(stats.model_version == 1 + stats.divergences);
  REQUIRE(sink.drift_reasons.size() == stats.divergences);
  for (size_t i = 0; i < sink.drift_reasons.size(); ++i) {
    CHECK(sink.drift_reasons[i] == "diverged");
    CHECK(sink.drift_versions[i] == i + 1);  // the version that diverged
  }
  CHECK(probe.model_divergences.Value() == static_cast<double>(stats.divergences));
  CHECK(stats.drifts.size() == sink.detector_drifts);  // the detector's drifts are counted apart
  // Turned off, the same model runs away unchecked.
  config.drift.divergence_factor = 0;
  auto unchecked = Processor::Create(config, nullptr, nullptr);
  REQUIRE(unchecked.ok());
  Sink sink2;
  REQUIRE(Feed(**unchecked, payloads, 0, payloads.size(), sink2).ok());
  CHECK((*unchecked)->stats().divergences == 0);
  CHECK((*unchecked)->stats().model_version == 1);
}

TEST_CASE("features.lags: a restored processor continues bit-identically, lags and target scaler included",
          "[regression][lags]") {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0, 1);
  std::vector<Row> rows;
  double y = 0;
  for (int i = 0; i < 1200; ++i) {
    y = 0.8 * y + noise(rng);
    rows.push_back({{{"price", 100 + noise(rng)}}, 50 + y});
  }
  const auto payloads = Payloads(rows);
  PipelineConfig config;
  config.model.type = "linear";
  config.features.params["lags.labels"] = "2";
  config.features.params["lags.fields.price"] = "1";
  auto whole = Processor::Create(config, nullptr, nullptr);
  REQUIRE(whole.ok());
  Sink all;
  REQUIRE(Feed(**whole, payloads, 0, payloads.size(), all).ok());

  auto first = Processor::Create(config, nullptr, nullptr);
  REQUIRE(first.ok());
  Sink part;
  REQUIRE(Feed(**first, payloads, 0, 700, part).ok());
  auto restored = Processor::FromSnapshot(config, (*first)->model_snapshot());
  REQUIRE(restored.ok());
  REQUIRE(Feed(**restored, payloads, 700, payloads.size(), part).ok());
  REQUIRE(part.scores.size() == all.scores.size());
  for (size_t i = 0; i < all.scores.size(); ++i) REQUIRE(part.scores[i] == all.scores[i]);
  CHECK((*restored)->model_snapshot() == (*whole)->model_snapshot());
}

TEST_CASE("features.lags, drift.divergence_* and model.standardize_target are read and checked", "[regression][config]") {
  auto c = ParseConfig(
      "features:\n  lags: {labels: 2, fields: {price: 1}}\nmodel:\n  type: linear\n  standardize_target: false\n"
      "drift:\n  divergence_factor: 20\n  divergence_window: 500\n",
      "t.yaml", [](const char*) -> const char* { return nullptr; });
  REQUIRE(c.ok());
  CHECK(c->features.params.at("lags.labels") == "2");
  CHECK(c->features.params.at("lags.fields.price") == "1");
  CHECK_FALSE(c->model.standardize_target);
  CHECK(c->drift.divergence_factor == 20);
  CHECK(c->drift.divergence_window == 500);
  CHECK(ValidateLearnerSettings(*c).ok());
  CHECK(EffectiveDriftAction(*c) == DriftAction::kBackground);  // regression without drift.action
  auto bad = ParseConfig("features:\n  lags: {labels: 100}\n", "t.yaml", [](const char*) -> const char* { return nullptr; });
  if (bad.ok()) {
    const Status st = ValidateLearnerSettings(*bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("features.lags.labels") != std::string::npos);
  } else {
    CHECK(bad.status().message().find("features.lags.labels") != std::string::npos);
  }
  auto given = ParseConfig("model: {type: linear}\ndrift: {action: reset}\n", "t.yaml",
                           [](const char*) -> const char* { return nullptr; });
  REQUIRE(given.ok());
  CHECK(EffectiveDriftAction(*given) == DriftAction::kReset);
}

// What the pipeline does about drift: drift.action none | reset | background
// compared on SEA with three abrupt changes, and data drift on the inputs.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "streamlearn/eval/concepts.hpp"
#include "streamlearn/eval/sea_generator.hpp"
#include "streamlearn/offline/evaluate.hpp"
#include "streamlearn/pipeline/processor.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct DriftSink : JsonOutputSink {
  std::vector<std::string> drifts;
  size_t predictions = 0;
  Status prediction(std::string_view, std::string_view) override {
    predictions++;
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view reason) override {
    FAIL("unexpected dead letter: " << reason);
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view json) override {
    drifts.emplace_back(json);
    return Status::Ok();
  }
};

struct Stream {
  std::vector<std::string> payloads;
  std::vector<int> concept_of;
  std::vector<RawMessage> raw;
  std::span<const RawMessage> view() {
    raw.clear();
    for (size_t i = 0; i < payloads.size(); ++i) {
      raw.push_back({{"events", 0, static_cast<int64_t>(i), -1}, "k", payloads[i]});
    }
    return raw;
  }
};

// SEA (noise 10%) with changes every `per_concept` events through thetas that move the
// boundary far (so that an old model is clearly wrong after each change).
Stream SeaStream(uint64_t per_concept, int concepts, uint64_t seed, std::vector<double> thetas = {8, 13, 5, 11}) {
  eval::SeaConfig c;
  c.seed = seed;
  c.thetas = std::move(thetas);
  for (int i = 1; i < concepts; ++i) c.change_at.push_back(per_concept * static_cast<uint64_t>(i));
  eval::SeaGenerator sea(c);
  Stream s;
  for (uint64_t i = 0; i < per_concept * static_cast<uint64_t>(concepts); ++i) {
    const auto x = sea.next();
    s.payloads.push_back(fmt::format(
        R"({{"id":"e-{}","entity":"u{}","ts":{},"features":{{"x1":{},"x2":{},"x3":{}}},"label":{},"meta":{{"concept":{}}}}})",
        i, i % 100, 1700000000000 + 10 * static_cast<int64_t>(i), x.x1, x.x2, x.x3, x.label, x.concept_index));
    s.concept_of.push_back(x.concept_index);
  }
  return s;
}

struct ActionResult {
  std::vector<eval::ConceptSegment> segments;
  double accuracy = 0;
  uint64_t version = 0;
  size_t drift_events = 0;
};

// Through `streamlearn evaluate`'s code (pipeline::Evaluate): the per-concept figures are
// the ones it prints, from the events' meta.concept markers.
ActionResult RunAction(const std::string& action, Stream& stream) {
  PipelineConfig config;
  config.drift.action = ParseDriftAction(action).value();
  config.drift.data_enabled = false;
  std::string text;
  for (const auto& p : stream.payloads) text.append(p).push_back('\n');
  std::istringstream lines(text);
  EvaluateInputs inputs;
  inputs.events = &lines;
  EvaluateOptions options;
  options.concepts.first_events = 1000;
  auto r = Evaluate(config, inputs, options);
  REQUIRE(r.ok());
  ActionResult out;
  out.segments = r->segments;
  out.accuracy = r->classification->cumulative.accuracy;
  out.version = r->model_version;
  out.drift_events = r->drifts.size();
  return out;
}

}  // namespace

TEST_CASE("after three abrupt changes, background recovers faster than reset, and both beat none",
          "[drift][actions]") {
  // SEA (10% label noise) with thresholds 7 -> 10 -> 6 -> 9, 20,000 events each, three seeds:
  // nine changes. The figure: accuracy over the first 1,000 events after each change (the
  // per-concept "first events" figure of evaluate), averaged over the nine. Measured:
  // none 0.789, reset 0.797, background 0.806. The background learner's edge is its head
  // start: ADWIN's warning (a looser ADWIN checking every event) comes ~25-100 events before
  // the drift (ADWIN checks for a cut every 32 events), and on a single change that is
  // within noise, so the per-change check only rules out a clear loss.
  double none_sum = 0, reset_sum = 0, background_sum = 0;
  int changes = 0;
  for (uint64_t seed : {5, 6, 7}) {
    auto stream = SeaStream(20000, 4, seed, {7, 10, 6, 9});
    const auto none = RunAction("none", stream);
    const auto reset = RunAction("reset", stream);
    const auto background = RunAction("background", stream);
    REQUIRE(none.segments.size() == 4);
    REQUIRE(reset.segments.size() == 4);
    REQUIRE(background.segments.size() == 4);
    CHECK(none.version == 1);  // alert only
    CHECK(reset.version >= 4);
    CHECK(background.version >= 4);
    for (size_t i = 1; i < 4; ++i) {
      INFO("seed " << seed << ", change " << i << ": first 1000 events after it: none "
                   << none.segments[i].first_events_mean << ", reset " << reset.segments[i].first_events_mean
                   << ", background " << background.segments[i].first_events_mean);
      CHECK(background.segments[i].first_events_mean > reset.segments[i].first_events_mean - 0.02);
      none_sum += none.segments[i].first_events_mean;
      reset_sum += reset.segments[i].first_events_mean;
      background_sum += background.segments[i].first_events_mean;
      changes++;
    }
  }
  INFO("mean over " << changes << " changes: none " << none_sum / changes << ", reset " << reset_sum / changes
                    << ", background " << background_sum / changes);
  CHECK(background_sum > reset_sum);
  CHECK(reset_sum > none_sum);
  // Far apart, not by a hair: each gap is at least half a point on average.
  CHECK(background_sum - reset_sum > 0.005 * changes);
  CHECK(reset_sum - none_sum > 0.005 * changes);
}

TEST_CASE("background: the warning starts a learner that is swapped in at the drift, with a new version",
          "[drift][actions]") {
  auto stream = SeaStream(20000, 2, 5, {8, 13});
  PipelineConfig config;
  config.drift.action = DriftAction::kBackground;
  config.drift.data_enabled = false;
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  DriftSink sink;
  auto all = stream.view();
  for (size_t i = 0; i < all.size(); i += 500) REQUIRE((*p)->process(all.subspan(i, std::min<size_t>(500, all.size() - i)), sink).ok());
  std::vector<std::string> after_change;
  for (const auto& d : sink.drifts) {
    const size_t at = d.find(R"("event_id":"e-)") + 14;
    if (std::stol(d.substr(at)) >= 20000) after_change.push_back(d);
  }
  REQUIRE(after_change.size() >= 2);
  CHECK(after_change[0].find(R"("level":"warning")") != std::string::npos);
  CHECK(after_change[0].find(R"("action":"background")") != std::string::npos);
  CHECK(after_change[1].find(R"("level":"drift")") != std::string::npos);
  CHECK(after_change[1].find(R"("version":)" + std::to_string((*p)->stats().model_version - 1)) != std::string::npos);
  // The drift event says how long the swapped-in learner had trained.
  CHECK(after_change[1].find(R"("background_trained":)") != std::string::npos);
  CHECK(after_change[1].find(R"("background_trained":0)") == std::string::npos);
  CHECK((*p)->stats().backgrounds_started >= 1);
}

TEST_CASE("a shifted numeric input and a shifted category are reported as data drift naming the feature, "
          "stationary inputs stay quiet", "[drift][data]") {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> payloads;
  const char* colours[] = {"red", "green", "blue"};
  for (int i = 0; i < 30000; ++i) {
    const bool after = i >= 15000;
    const double amount = (after ? 3.0 : 1.0) + u(rng);  // shifts by 2 (about 7 std) at 15,000
    const double steady = u(rng);
    const double r = u(rng);
    // colour shares 0.7/0.2/0.1 before, 0.2/0.2/0.6 after
    const int colour = after ? (r < 0.2 ? 0 : r < 0.4 ? 1 : 2) : (r < 0.7 ? 0 : r < 0.9 ? 1 : 2);
    const double r2 = u(rng);
    const char* shape = r2 < 0.5 ? "square" : "circle";
    payloads.push_back(fmt::format(R"({{"id":"e-{}","entity":"u","ts":{},"features":{{"amount":{},"steady":{},"colour":"{}","shape":"{}"}},"label":{}}})",
                                   i, 1700000000000 + i, amount, steady, colours[colour], shape, r2 < 0.5 ? 1 : 0));
  }
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < payloads.size(); ++i) raw.push_back({{"events", 0, static_cast<int64_t>(i), -1}, "k", payloads[i]});
  PipelineConfig config;
  config.drift.data_psi_window = 2000;
  // Every event watched: the monitor's own delays (the default one in 8 is
  // data_drift_sample_test's).
  config.drift.data_sample = 1;
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  DriftSink sink;
  REQUIRE((*p)->process(raw, sink).ok());
  std::vector<std::string> data;
  for (const auto& d : sink.drifts) {
    if (d.find(R"("type":"data_drift")") != std::string::npos) data.push_back(d);
  }
  auto count = [&](const std::string& feature) {
    return std::count_if(data.begin(), data.end(), [&](const std::string& d) {
      return d.find(R"("feature":")" + feature + "\"") != std::string::npos;
    });
  };
  auto first_position = [&](const std::string& feature) {
    for (const auto& d : data) {
      if (d.find(R"("feature":")" + feature + "\"") == std::string::npos) continue;
      const size_t at = d.find(R"("event_id":"e-)") + 14;
      return std::stol(d.substr(at));
    }
    return -1L;
  };
  INFO(data.size() << " data drift events; first: " << (data.empty() ? "" : data[0]));
  CHECK(count("amount") >= 1);
  CHECK(first_position("amount") >= 15000);
  CHECK(first_position("amount") < 15200);
  CHECK(count("colour") == 1);
  CHECK(first_position("colour") >= 15000);
  CHECK(first_position("colour") < 17000);  // within one current window of 2,000
  CHECK(count("steady") == 0);
  CHECK(count("shape") == 0);
  CHECK((*p)->stats().data_drifts == data.size());
  // The event carries what a consumer needs to act on it.
  const auto& colour = *std::find_if(data.begin(), data.end(), [](const std::string& d) {
    return d.find(R"("feature":"colour")") != std::string::npos;
  });
  CHECK(colour.find(R"("kind":"categorical","detector":"psi")") != std::string::npos);
  CHECK(colour.find(R"("top_categories":[{"category":"blue")") != std::string::npos);
}

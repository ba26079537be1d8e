// Offline evaluation (`streamlearn evaluate`) on generated streams held in memory: the
// Processor's own figures, per-concept segments and detection scoring against the
// generator's concept markers, and delayed labels merged from a second input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <sstream>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/eval/streams.hpp"
#include "streamlearn/offline/evaluate.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct Generated {
  std::string events;  // JSON lines, labels inline
  std::string unlabelled;  // the same events without their label
  std::vector<std::pair<int64_t, std::string>> labels;  // (event ts, label JSON text) by position
  std::vector<uint64_t> changes;
  std::vector<int> concepts;  // per event
};

Generated Generate(const std::string& stream, uint64_t events, uint64_t seed, size_t concepts,
                   std::optional<double> noise = std::nullopt) {
  eval::StreamOptions o;
  o.events = events;
  o.seed = seed;
  o.concepts = concepts;
  o.noise = noise;
  auto gen = eval::MakeStream(stream, o);
  REQUIRE(gen.ok());
  Generated g;
  g.changes = (*gen)->change_at();
  eval::GeneratedEvent e;
  std::string line;
  for (uint64_t i = 0; (*gen)->next(&e); ++i) {
    line.clear();
    eval::AppendEventJson(line, e, i);
    g.events += line + "\n";
    // Cut ,"label":L out (it sits just before ,"meta"), as `gen --labels-out` does.
    const size_t at = line.rfind(",\"label\":");
    const size_t meta = line.rfind(",\"meta\":");
    g.labels.emplace_back(1700000000000 + 10 * static_cast<int64_t>(i), line.substr(at + 9, meta - at - 9));
    g.unlabelled += line.erase(at, meta - at) + "\n";
    g.concepts.push_back(e.concept_index);
  }
  return g;
}

// Label records with ts = event ts + delay(i), sorted by ts (ties in event order).
template <typename Delay>
std::string LabelLines(const Generated& g, Delay delay) {
  std::vector<std::tuple<int64_t, size_t>> order;
  for (size_t i = 0; i < g.labels.size(); ++i) order.emplace_back(g.labels[i].first + delay(i), i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::string out;
  for (const auto& [ts, i] : order) {
    out += "{\"id\":\"e-" + std::to_string(i) + "\",\"label\":" + g.labels[i].second + ",\"ts\":" + std::to_string(ts) +
           "}\n";
  }
  return out;
}

EvaluationResult Run(const std::string& events, const std::string* labels = nullptr, PipelineConfig config = {},
                     EvaluateOptions options = {}) {
  std::istringstream events_in(events), labels_in(labels ? *labels : "");
  EvaluateInputs inputs;
  inputs.events = &events_in;
  inputs.events_name = "events.jsonl";
  if (labels) {
    inputs.labels = &labels_in;
    inputs.labels_name = "labels.jsonl";
  }
  auto result = Evaluate(config, inputs, options);
  REQUIRE(result.ok());
  return std::move(result).value();
}

std::string MetricsJson(const EvaluationResult& r) {
  std::string out;
  eval::AppendClassificationJson(out, *r.classification);
  eval::AppendSegmentsJson(out, r.segments);
  eval::AppendDetectionJson(out, r.detection);
  for (const DriftMark& d : r.drifts) out += d.level + "@" + std::to_string(d.position) + "/" + d.event_id + " ";
  return out;
}

}  // namespace

TEST_CASE("evaluate on SEA with 4 concepts: beats the baselines, finds the concepts and scores detection",
          "[evaluate]") {
  const Generated g = Generate("sea", 100000, 42, 4);
  REQUIRE(g.changes == std::vector<uint64_t>{25000, 50000, 75000});
  const EvaluationResult r = Run(g.events);

  CHECK(r.events == 100000);
  CHECK(r.invalid_events == 0);
  CHECK(r.predictions == 100000);
  CHECK(r.labelled == 100000);
  REQUIRE(r.classification);
  const auto& f = *r.classification;
  INFO("accuracy " << f.cumulative.accuracy << ", majority " << f.majority_class.accuracy << ", no-change "
                   << f.no_change.accuracy);
  // Measured 0.867 against 0.614 (majority) and 0.527 (no change).
  CHECK(f.cumulative.accuracy > f.majority_class.accuracy + 0.15);
  CHECK(f.cumulative.accuracy > f.no_change.accuracy + 0.15);
  CHECK(f.cumulative.roc_auc > 0.85);

  // One segment per generated concept, at the generator's positions.
  REQUIRE(r.has_concepts);
  REQUIRE(r.segments.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(r.segments[i].concept_index == static_cast<int>(i));
    CHECK(r.segments[i].start == (i == 0 ? 0 : g.changes[i - 1]));
    CHECK(r.segments[i].events == 25000);
    CHECK(r.segments[i].mean > 0.75);
  }
  CHECK(r.true_changes == g.changes);

  // Detection: one entry per change. With 10% label noise the small first change (θ 8 → 9
  // flips 8.5% of the labels) is absorbed by the learner before ADWIN can confirm it
  // (measured on seeds 1, 2, 3, 42: never detected); the large last one (θ 7 → 9.5) always
  // is. No false alarms measured.
  std::string delays;
  for (const auto& c : r.detection.changes) delays += std::to_string(c.delay) + " ";
  INFO("delays " << delays << "false alarms " << r.detection.false_alarms.size());
  REQUIRE(r.detection.changes.size() == 3);
  CHECK(r.detection.changes[0].change_at == 25000);
  CHECK(r.detection.changes[2].detected_at >= 75000);
  CHECK(r.detection.changes[2].delay < 2000);
  CHECK(r.detection.detected + r.detection.missed == 3);
  CHECK(r.detection.false_alarms.size() <= 2);
  // Each drift event is placed at the event that fired it: e-N is at N.
  for (const DriftMark& d : r.drifts) CHECK(d.event_id == "e-" + std::to_string(d.position));

  // The learning curve is bounded and ends on the last event.
  CHECK(r.curve.size() >= 2000);
  CHECK(r.curve.size() <= 4001);
  CHECK(r.curve.back().labelled == 100000);
  CHECK(r.curve.back().position == 99999);
  CHECK(std::is_sorted(r.curve.begin(), r.curve.end(),
                       [](const CurvePoint& a, const CurvePoint& b) { return a.position < b.position; }));
  CHECK(r.curve.back().accuracy == f.cumulative.accuracy);
}

TEST_CASE("evaluate on noise-free SEA: every change is detected, soon, without false alarms", "[evaluate]") {
  // Measured over seeds 1, 2, 3, 42 at 100,000 events: delays 39-247, no false alarm.
  for (uint64_t seed : {1, 42}) {
    const Generated g = Generate("sea", 100000, seed, 4, 0.0);
    const EvaluationResult r = Run(g.events);
    std::string delays;
    for (const auto& c : r.detection.changes) delays += std::to_string(c.delay) + " ";
    INFO("seed " << seed << ": delays " << delays << "false alarms " << r.detection.false_alarms.size());
    CHECK(r.classification->cumulative.accuracy > 0.95);
    REQUIRE(r.detection.changes.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(r.detection.changes[i].change_at == g.changes[i]);
      CHECK(r.detection.changes[i].delay >= 0);
      CHECK(r.detection.changes[i].delay < 1000);
    }
    CHECK(r.detection.missed == 0);
    CHECK(r.detection.false_alarms.size() <= 1);
    CHECK(r.drift_count == 3 + r.detection.false_alarms.size() + r.detection.repeats);
  }
}

TEST_CASE("delayed labels at zero delay give exactly the inline figures", "[evaluate][labels]") {
  const Generated g = Generate("sea", 30000, 7, 4);
  const EvaluationResult inline_run = Run(g.events);
  const std::string labels = LabelLines(g, [](size_t) { return int64_t{0}; });
  const EvaluationResult delayed = Run(g.unlabelled, &labels);

  CHECK(delayed.labelled == inline_run.labelled);
  CHECK(delayed.label_counts.joined == 30000);
  CHECK(delayed.label_lines == 30000);
  CHECK(delayed.label_counts.early == 0);
  CHECK(delayed.pending_at_end == 0);
  CHECK(MetricsJson(delayed) == MetricsJson(inline_run));
  CHECK(delayed.model_version == inline_run.model_version);
}

TEST_CASE("delayed labels with exponential delays all join, and concepts stay in stream order",
          "[evaluate][labels]") {
  const Generated g = Generate("sea", 40000, 11, 4);
  std::mt19937_64 engine(5);
  std::vector<int64_t> delays;
  for (size_t i = 0; i < g.labels.size(); ++i) {
    const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
    delays.push_back(std::llround(-60000.0 * std::log1p(-u)));  // mean 60 s = 6000 events
  }
  const std::string labels = LabelLines(g, [&](size_t i) { return delays[i]; });
  const EvaluationResult r = Run(g.unlabelled, &labels);

  CHECK(r.label_lines == 40000);
  CHECK(r.label_counts.joined == r.labelled);
  CHECK(r.labelled == 40000);
  CHECK(r.label_counts.unknown == 0);
  CHECK(r.label_counts.duplicate == 0);
  CHECK(r.pending_at_end == 0);
  // Outcomes arrive out of order, but the segments are those of the events.
  REQUIRE(r.segments.size() == 4);
  for (size_t i = 1; i < 4; ++i) CHECK(r.segments[i].start == g.changes[i - 1]);
  // Labels a minute late: the model still learns SEA well above the majority baseline.
  CHECK(r.classification->cumulative.accuracy > r.classification->majority_class.accuracy + 0.1);
}

TEST_CASE("only undecodable label lines are invalid: unknown and late labels are the join's counts",
          "[evaluate][labels]") {
  const Generated g = Generate("sea", 400, 3, 1);
  // e-5's label comes 1.5 s after its event: its prediction expired after labels.ttl (1 s),
  // so it is late. e-nope's event never comes: unknown once labels.early_ttl (1 s) passed.
  const std::string labels = "{\"id\":\n" + std::string("{\"id\":\"e-nope\",\"label\":1,\"ts\":1700000000001}\n") +
                             LabelLines(g, [](size_t i) { return i == 5 ? int64_t{1500} : int64_t{0}; });
  PipelineConfig config;
  config.labels.ttl_ms = 1000;
  config.labels.early_ttl_ms = 1000;
  const EvaluationResult r = Run(g.unlabelled, &labels, config);

  CHECK(r.label_lines == 402);
  CHECK(r.label_counts.unknown == 1);
  CHECK(r.label_counts.late == 1);
  CHECK(r.label_counts.joined == 399);
  CHECK(r.invalid_labels == 1);
  CHECK(r.invalid_events == 0);
  REQUIRE(r.invalid_examples.size() == 1);
  CHECK(r.invalid_examples[0].input == "labels.jsonl");
  CHECK(r.invalid_examples[0].line == 1);
}

TEST_CASE("an invalid event that is valid JSON still marks its concept and keeps its id", "[evaluate]") {
  const std::string events =
      "{\"id\":\"a\",\"ts\":1000,\"features\":{\"x\":1},\"label\":1,\"meta\":{\"concept\":0}}\n"
      "{\"id\":\"b\",\"ts\":1010,\"features\":{\"x\":[2]},\"label\":0,\"meta\":{\"concept\":1}}\n"
      "{\"id\":\"c\",\"ts\":1020,\"features\":{\"x\":3},\"label\":1,\"meta\":{\"concept\":1}}\n"
      "{\"id\":\"d\",\"ts\":1030,\"features\":{\"x\":4},\"label\":0,\"meta\":{\"concept\":2}}\n";
  const EvaluationResult r = Run(events);
  CHECK(r.invalid_events == 1);
  CHECK(r.labelled == 3);
  CHECK(r.true_changes == std::vector<uint64_t>{1, 3});
  REQUIRE(r.segments.size() == 3);
  CHECK(r.curve.back().position == 3);
}

TEST_CASE("bad lines are counted dead letters, blank lines are skipped, ids default to the offset",
          "[evaluate]") {
  const std::string events =
      "{\"entity\":\"u1\",\"ts\":1000,\"features\":{\"x\":1},\"label\":1,\"meta\":{\"concept\":0}}\n"
      "\n"
      "{\"entity\":\"u1\",\"features\":{\"x\":\n"
      "u2\t{\"ts\":1010,\"features\":{\"x\":2},\"label\":0,\"meta\":{\"concept\":0}}\n"
      "{\"entity\":\"u3\",\"ts\":1020,\"features\":{\"x\":3},\"label\":\"maybe\"}\n"
      "{\"id\":\"k\",\"entity\":\"u3\",\"ts\":1030,\"features\":{\"x\":3},\"label\":1,\"meta\":{\"concept\":1}}\n";
  const EvaluationResult r = Run(events);
  CHECK(r.events == 5);
  CHECK(r.invalid_events == 2);
  CHECK(r.predictions == 3);
  CHECK(r.labelled == 3);
  REQUIRE(r.invalid_examples.size() == 2);
  CHECK(r.invalid_examples[0].line == 3);
  CHECK(r.invalid_examples[0].reason.find("invalid JSON") != std::string::npos);
  CHECK(r.invalid_examples[1].line == 5);
  // Positions are line numbers: the concept change is at line index 5.
  CHECK(r.true_changes == std::vector<uint64_t>{5});
  REQUIRE(r.segments.size() == 2);
  CHECK(r.segments[0].events == 2);
  CHECK(r.curve.back().position == 5);

  const std::string json = EvaluationJson(r);
  CHECK(json.find("\"events\":5,\"invalid\":2,\"predictions\":3,\"labelled\":3") == 1);
  CHECK(json.find("\"labels\"") == std::string::npos);
}

TEST_CASE("the HTML report is one self-contained page with curves and markers", "[evaluate][report]") {
  const Generated g = Generate("sea", 40000, 42, 4);
  EvaluateOptions options;
  options.curve_points = 200;
  const EvaluationResult r = Run(g.events, nullptr, {}, options);
  CHECK(r.curve.size() >= 200);
  CHECK(r.curve.size() <= 401);
  const std::string html = EvaluationReportHtml(r);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("class=\"cumulative-curve\"") != std::string::npos);
  CHECK(html.find("class=\"majority-curve\"") != std::string::npos);
  CHECK(html.find("class=\"no-change-curve\"") != std::string::npos);
  size_t changes = 0;
  for (size_t at = html.find("class=\"change-marker\""); at != std::string::npos;
       at = html.find("class=\"change-marker\"", at + 1)) {
    ++changes;
  }
  CHECK(changes == 3);
  if (r.drift_count > 0) CHECK(html.find("class=\"detection-marker\"") != std::string::npos);
  // Nothing fetched from elsewhere.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.size() < 200 * 1024);

  const std::string table = EvaluationTable(r);
  CHECK(table.find("accuracy") != std::string::npos);
  CHECK(table.find("detected") != std::string::npos);
}

TEST_CASE("an unreadable input is an error, not a silent empty run", "[evaluate]") {
  std::istringstream in("{}\n");
  in.setstate(std::ios::badbit);
  EvaluateInputs inputs;
  inputs.events = &in;
  inputs.events_name = "broken.jsonl";
  auto result = Evaluate(PipelineConfig{}, inputs);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message().find("broken.jsonl") != std::string::npos);
}

TEST_CASE("figures print readably at any magnitude, and the table's columns never run together",
          "[evaluate][report]") {
  CHECK(FormatFigure(0.8904) == "0.8904");
  CHECK(FormatFigure(0) == "0.0000");
  CHECK(FormatFigure(-38.361) == "-38.3610");
  CHECK(FormatFigure(2.4123e57) == "2.412e+57");
  CHECK(FormatFigure(-8.554e6) == "-8.554e+06");
  CHECK(FormatFigure(1e-9) == "1e-09");
  CHECK(FormatFigure(std::nan("")) == "-");
  CHECK(FormatFigure(INFINITY) == "-");

  EvaluationResult r;
  r.model_name = "linear";
  r.model_type = "linear";
  eval::RegressionFigures f;
  f.rolling_window = 1000;
  f.cumulative = {1001, 2.4123e57, -1.7e300, -8.8e115};
  f.rolling = {1000, 1e-9, 123456.789, -1.23456789e-300};
  r.regression = f;
  const std::string table = EvaluationTable(r);
  std::istringstream lines(table);
  std::string line;
  size_t rows = 0;
  while (std::getline(lines, line)) {
    for (const char* name : {"mae ", "rmse ", "r2 "}) {
      if (line.rfind(std::string("  ") + name, 0) != 0) continue;
      ++rows;
      // name, cumulative, rolling: three fields separated by spaces.
      std::istringstream fields(line);
      std::string a, b, c, extra;
      fields >> a >> b >> c;
      CHECK(a + " " == name);
      CHECK_FALSE(b.empty());
      CHECK_FALSE(c.empty());
      CHECK_FALSE(fields >> extra);
    }
  }
  CHECK(rows == 3);
  CHECK(table.find("2.412e+57") != std::string::npos);
  CHECK(table.find("-1.7e+300") != std::string::npos);
  CHECK(table.find("-1.235e-300") != std::string::npos);
}

TEST_CASE("events without an entity evaluate like any other, regression progress carries MAE, RMSE and R²",
          "[evaluate]") {
  // A linear target without entities or keys: y = 3 x1 - 2 x2 + 1.
  std::string events;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int i = 0; i < 3000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    events += "{\"id\":\"r-" + std::to_string(i) + "\",\"features\":{\"x1\":" + std::to_string(x1) +
              ",\"x2\":" + std::to_string(x2) + "},\"label\":" + std::to_string(3 * x1 - 2 * x2 + 1) + "}\n";
  }
  PipelineConfig config;
  config.model.type = "linear";
  config.model.learning_rate = 0.05;
  std::istringstream in(events);
  EvaluateInputs inputs;
  inputs.events = &in;
  std::optional<EvaluationProgress> last;
  auto result = Evaluate(config, inputs, {}, [&](const EvaluationProgress& p) { last = p; });
  REQUIRE(result.ok());
  CHECK(result->invalid_events == 0);
  CHECK(result->labelled == 3000);
  REQUIRE(result->regression);
  CHECK(result->regression->cumulative.mae < result->regression->mean.mae);
  REQUIRE(last);
  CHECK(last->final);
  CHECK(last->regression);
  CHECK(last->mae == result->regression->cumulative.mae);
  CHECK(last->rmse == result->regression->cumulative.rmse);
  CHECK(last->r2 == result->regression->cumulative.r2);
  CHECK(last->rolling_mae == result->regression->rolling.mae);
  CHECK(std::isnan(last->accuracy));
}

TEST_CASE("challengers of other families are scored beside the champion, in the table and the JSON", "[evaluate]") {
  // Agrawal's first function is a rule on age: a tree learns it, a linear model only
  // approximates them. Both see the same events, test-then-train.
  const Generated g = Generate("agrawal", 20000, 3, 1, 0.0);
  PipelineConfig config;
  config.drift.action = DriftAction::kNone;
  config.challengers["tree"] = {{"type", "hoeffding_tree"}};
  config.challengers["nb"] = {{"type", "naive_bayes"}};
  const EvaluationResult r = Run(g.events, nullptr, config);
  REQUIRE(r.challengers.size() == 2);
  for (const auto& c : r.challengers) {
    INFO(c.name << " accuracy " << c.accuracy);
    CHECK(c.trained == r.labelled);
    CHECK(c.accuracy > r.classification->majority_class.accuracy);
  }
  const auto tree = std::find_if(r.challengers.begin(), r.challengers.end(), [](const auto& c) { return c.name == "tree"; });
  INFO("champion accuracy " << r.classification->cumulative.accuracy);  // 0.668 (seed 3)
  CHECK(tree->accuracy > 0.98);  // 0.985
  CHECK(tree->accuracy > r.classification->cumulative.accuracy + 0.05);
  const std::string table = EvaluationTable(r);
  CHECK(table.find("challenger tree (20000 trained): accuracy") != std::string::npos);
  const std::string json = EvaluationJson(r);
  CHECK(json.find(R"("challengers":[{"name":"nb","trained":20000,"accuracy":)") != std::string::npos);
}

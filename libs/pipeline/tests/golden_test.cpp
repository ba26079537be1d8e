// Golden output of the Processor: on fixed streams (inline labels, delayed and early
// labels, unknown labels, invalid events, challengers, a concept drift, each drift action,
// softmax and regression), the predictions, drift events, dead letters and the final model
// snapshot must stay byte-identical across refactorings. The files under tests/golden/
// record them: every 25th prediction in full plus a hash of all of them, every drift event
// and dead letter in full, the snapshot's size and hash.
//
// To record new files after an intended change of output:
//   STREAMLEARN_UPDATE_GOLDEN=1 build/libs/pipeline/pipeline_tests "[golden]"
// and say in the commit why the bytes changed.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/offline/synthetic.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

constexpr size_t kPredictionSample = 25;

// What would go to Kafka, as text. latency_us is wall-clock time and is cut out.
struct RecordingSink : JsonOutputSink {
  std::vector<std::string> predictions, drifts, dead;
  Status prediction(std::string_view entity, std::string_view json) override {
    std::string p(json);
    const size_t at = p.find(",\"latency_us\":");
    REQUIRE(at != std::string::npos);
    const size_t end = p.find_first_of(",}", at + 1);
    p.erase(at, end - at);
    predictions.push_back(std::string(entity) + " " + p);
    return Status::Ok();
  }
  Status dead_letter(const RawMessage& m, std::string_view reason) override {
    dead.push_back(fmt::format("{}/{}@{} {} | {}", m.source.topic, m.source.partition, m.source.offset, reason,
                               m.payload));
    return Status::Ok();
  }
  Status drift(std::string_view model, std::string_view json) override {
    drifts.push_back(std::string(model) + " " + std::string(json));
    return Status::Ok();
  }
};

struct Message {
  std::string topic, key, payload;
};

// Feeds messages in batches of 300, offsets counted per topic on partition 0.
void Feed(Processor& p, const std::vector<Message>& messages, OutputSink& sink) {
  std::vector<RawMessage> raw;
  std::map<std::string, int64_t> offsets;
  for (const auto& m : messages) raw.push_back({{m.topic, 0, offsets[m.topic]++, -1}, m.key, m.payload});
  for (size_t i = 0; i < raw.size(); i += 300) {
    REQUIRE(p.process(std::span<const RawMessage>(raw).subspan(i, std::min<size_t>(300, raw.size() - i)), sink).ok());
  }
}

std::string Render(const RecordingSink& sink, const Processor& p) {
  std::ostringstream out;
  uint64_t hash = Fnv1a64("");
  for (size_t i = 0; i < sink.predictions.size(); ++i) {
    hash = Fnv1a64(sink.predictions[i], hash);
    if (i % kPredictionSample == 0) out << "P " << sink.predictions[i] << "\n";
  }
  out << "predictions " << sink.predictions.size() << " hash " << fmt::format("{:016x}", hash) << "\n";
  for (const auto& d : sink.drifts) out << "D " << d << "\n";
  for (const auto& d : sink.dead) out << "X " << d << "\n";
  const std::string snapshot = p.model_snapshot();
  out << "snapshot " << snapshot.size() << " bytes hash " << fmt::format("{:016x}", Fnv1a64(snapshot)) << "\n";
  return out.str();
}

void CompareWithGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(STREAMLEARN_SOURCE_DIR) + "/libs/pipeline/tests/golden/" + name + ".txt";
  if (const char* update = std::getenv("STREAMLEARN_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    WARN("recorded " << path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return;
  // Name the first line that differs, so a failure says what changed.
  std::istringstream a(expected.str()), b(actual);
  std::string la, lb;
  for (size_t line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) break;
    if (la != lb || more_a != more_b) {
      FAIL_CHECK(path << ":" << line << "\n  golden: " << (more_a ? la : "<end>") << "\n  now:    "
                      << (more_b ? lb : "<end>"));
      break;
    }
  }
  FAIL(name << ": output differs from " << path);
}

// SEA events with a large change at half-way; labels inline for a third of the events, on
// the labels topic after 15 events for another third, ahead of their event for the rest;
// plus labels for ids that never come, and invalid events (from the generator).
std::vector<Message> MixedLabelStream(uint64_t n) {
  SyntheticOptions o;
  o.events = n;
  o.seed = 11;
  o.invalid_share = 0.01;
  o.entities = 40;
  o.change_at = {n / 2};
  o.thetas = {8, 3};
  SyntheticSeaStream stream(o);
  std::vector<Message> out;
  std::vector<std::pair<size_t, Message>> later;  // (emit before message index, label)
  std::string key, payload;
  bool valid = false;
  size_t index = 0;
  while (stream.next(&key, &payload, &valid)) {
    const size_t i = index++;
    for (auto it = later.begin(); it != later.end();) {
      if (it->first <= i) {
        out.push_back(std::move(it->second));
        it = later.erase(it);
      } else {
        ++it;
      }
    }
    const size_t at = payload.rfind(",\"label\":");
    if (!valid || at == std::string::npos) {
      out.push_back({"events", key, payload});
      continue;
    }
    const std::string label = payload.substr(at + 9, 1);
    const std::string id = "e-" + std::to_string(i);
    const int64_t ts = stream.timestamp_ms(i);
    const std::string label_json = R"({"id":")" + id + R"(","label":)" + label + R"(,"ts":)" + std::to_string(ts + 5) + "}";
    switch (i % 3) {
      case 0:
        out.push_back({"events", key, payload});
        break;
      case 1:
        out.push_back({"events", key, payload.substr(0, at) + "}"});
        later.push_back({i + 15, {"labels", key, label_json}});
        break;
      default:
        out.push_back({"labels", key, label_json});
        out.push_back({"events", key, payload.substr(0, at) + "}"});
        break;
    }
    if (i % 997 == 0) {
      out.push_back({"labels", key, R"({"id":"never-)" + std::to_string(i) + R"(","label":1,"ts":)" + std::to_string(ts) + "}"});
    }
    if (i % 1499 == 0) out.push_back({"labels", key, R"({"id":"broken")"});
  }
  for (auto& [_, m] : later) out.push_back(std::move(m));
  return out;
}

PipelineConfig MixedConfig(const std::string& action) {
  PipelineConfig c;
  c.labels.enabled = true;
  c.labels.ttl_ms = 3000;
  c.labels.early_ttl_ms = 1000;
  c.labels.max_pending = 500;
  c.drift.action = ParseDriftAction(action).value();
  c.challengers["hinge"] = {{"type", "hinge"}};
  c.challengers["adam"] = {{"optimizer", "adam"}, {"learning_rate", "0.01"}};
  return c;
}

std::string EventJson(size_t i, const std::string& features, const std::string& label) {
  return fmt::format(R"({{"id":"e-{}","entity":"u{}","ts":{},"features":{{{}}},"label":{}}})", i, i % 7,
                     1700000000000 + static_cast<int64_t>(i) * 10, features, label);
}

}  // namespace

TEST_CASE("golden: inline, delayed and early labels, challengers, a drift reset", "[golden]") {
  const auto stream = MixedLabelStream(12000);
  auto p = Processor::Create(MixedConfig("reset"), nullptr, nullptr);
  REQUIRE(p.ok());
  RecordingSink sink;
  Feed(**p, stream, sink);
  CHECK_FALSE(sink.drifts.empty());
  CompareWithGolden("mixed_reset", Render(sink, **p));
}

TEST_CASE("golden: the same stream with drift.action background", "[golden]") {
  const auto stream = MixedLabelStream(12000);
  auto p = Processor::Create(MixedConfig("background"), nullptr, nullptr);
  REQUIRE(p.ok());
  RecordingSink sink;
  Feed(**p, stream, sink);
  CompareWithGolden("mixed_background", Render(sink, **p));
}

TEST_CASE("golden: softmax on class names, linear regression with data drift", "[golden]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 3);
  std::vector<Message> classes, numbers;
  for (size_t i = 0; i < 3000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    const char* name = x1 + x2 < 2 ? "\"low\"" : (x1 > x2 ? "\"right\"" : "\"left\"");
    const std::string f = fmt::format(R"("x1":{},"x2":{},"city":"c{}")", x1, x2, i % 5);
    classes.push_back({"events", "k", EventJson(i, f, i == 1700 ? "0.5" : name)});
    // The inputs shift too: a data drift on x1 and on city.
    const double shifted = x1 + (i > 1500 ? 3 : 0);
    const std::string g = fmt::format(R"("x1":{},"x2":{},"city":"c{}")", shifted, x2, i % 5 + (i > 1500 ? 5 : 0));
    numbers.push_back({"events", "k", EventJson(i, g, fmt::format("{}", 3 * x1 - x2 + (i > 1500 ? 4 : 0)))});
  }
  PipelineConfig softmax;
  softmax.model.type = "softmax";
  auto ps = Processor::Create(softmax, nullptr, nullptr);
  REQUIRE(ps.ok());
  RecordingSink s1;
  Feed(**ps, classes, s1);
  CompareWithGolden("softmax", Render(s1, **ps));

  PipelineConfig linear;
  linear.model.type = "linear";
  linear.challengers["huber"] = {{"type", "huber"}};
  linear.drift.data_psi_window = 500;
  linear.drift.data_sample = 1;  // every event: 3,000 are too few for the monitor at one in 8
  auto pl = Processor::Create(linear, nullptr, nullptr);
  REQUIRE(pl.ok());
  RecordingSink s2;
  Feed(**pl, numbers, s2);
  CompareWithGolden("regression", Render(s2, **pl));
}

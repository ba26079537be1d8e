// The processing loop without Kafka: raw messages in, an in-memory sink out, a real
// RocksDB on disk for the entity states and checkpoints.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-proc-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

struct MemorySink : JsonOutputSink {
  std::vector<std::string> predictions;
  std::vector<std::pair<std::string, std::string>> dead;  // payload, reason
  std::vector<std::string> drifts;
  Status prediction(std::string_view, std::string_view json) override {
    predictions.emplace_back(json);
    return Status::Ok();
  }
  Status dead_letter(const RawMessage& m, std::string_view reason) override {
    dead.emplace_back(std::string(m.payload), std::string(reason));
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view json) override {
    drifts.emplace_back(json);
    return Status::Ok();
  }
};

// Owns the bytes the RawMessages point into.
struct Messages {
  std::vector<std::string> keys, payloads;
  std::vector<RawMessage> raw;
  void add(std::string key, std::string payload) {
    keys.push_back(std::move(key));
    payloads.push_back(std::move(payload));
  }
  std::span<const RawMessage> view() {
    raw.clear();
    for (size_t i = 0; i < payloads.size(); ++i) {
      raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, keys[i], payloads[i]});
    }
    return raw;
  }
};

Messages SeaMessages(uint64_t events, std::vector<uint64_t> changes, double invalid_share = 0, uint64_t seed = 1,
                     std::vector<double> thetas = {8, 9, 7, 9.5}) {
  SyntheticOptions o;
  o.thetas = std::move(thetas);
  o.events = events;
  o.seed = seed;
  o.invalid_share = invalid_share;
  o.change_at = std::move(changes);
  o.entities = 50;
  SyntheticSeaStream stream(o);
  Messages m;
  std::string key, payload;
  bool valid;
  while (stream.next(&key, &payload, &valid)) m.add(key, payload);
  return m;
}

// Processes in batches of `batch` like the runner does.
void Feed(Processor& p, std::span<const RawMessage> all, MemorySink& sink, size_t batch = 500) {
  for (size_t i = 0; i < all.size(); i += batch) {
    REQUIRE(p.process(all.subspan(i, std::min(batch, all.size() - i)), sink).ok());
  }
}

}  // namespace

TEST_CASE("valid events are predicted, invalid ones dead-lettered with their reason", "[processor]") {
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  Messages m;
  m.add("u1", R"({"id":"a","features":{"x":1},"label":1})");
  m.add("u1", R"({"id":"b","features":{"x":1},"label":"cat"})");
  m.add("u2", R"({"id":"c","features":{"x":NaN}})");
  m.add("", R"({"id":"d","entity":"","features":{"x":2}})");
  m.add("u3", R"({"id":"e\"q","features":{"x":2}})");
  MemorySink sink;
  REQUIRE((*p)->process(m.view(), sink).ok());
  REQUIRE(sink.predictions.size() == 2);
  CHECK_THAT(sink.predictions[0], Catch::StartsWith(R"({"id":"a","entity":"u1","model":"logreg","version":1,"score":0.5,"class":1,)"));
  CHECK_THAT(sink.predictions[1], Catch::StartsWith(R"({"id":"e\"q","entity":"u3")"));
  REQUIRE(sink.dead.size() == 3);
  CHECK_THAT(sink.dead[0].second, Catch::Contains("label must be 0, 1 or a boolean"));
  CHECK_THAT(sink.dead[1].second, Catch::StartsWith("invalid JSON"));
  CHECK(sink.dead[2].second == "field 'entity' must be a non-empty string");
  auto stats = (*p)->stats();
  CHECK(stats.messages == 5);
  CHECK(stats.invalid == 3);
  CHECK(stats.labelled == 1);
  CHECK((*p)->next_offsets().at({"events", 0}) == 5);
}

TEST_CASE("events without an entity are predicted and learned, and no entity state exists for them", "[processor]") {
  // SEA without the entity field and without message keys.
  Messages keyed = SeaMessages(6000, {});
  Messages m;
  for (const std::string& payload : keyed.payloads) {
    std::string p = payload;
    const size_t at = p.find(R"("entity":")");
    REQUIRE(at != std::string::npos);
    p.erase(at, p.find(',', at) + 1 - at);
    m.add("", p);
  }
  TempDir dir;
  PipelineConfig config;
  config.state.dir = dir.path.string();
  config.features.params["target_agg"] = "true";  // the entity's target aggregate: off too
  auto store = state::StateStore::Open(config.state.dir);
  REQUIRE(store.ok());
  auto p = Processor::Create(config, store->get(), nullptr);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, m.view(), sink);
  CHECK(sink.dead.empty());
  REQUIRE(sink.predictions.size() == 6000);
  // The prediction omits the entity field.
  CHECK_THAT(sink.predictions[0], Catch::StartsWith(R"({"id":"e-0","model":"logreg","version":1,"score":0.5,"class":)"));
  for (const auto& prediction : sink.predictions) REQUIRE(prediction.find("entity") == std::string::npos);
  auto stats = (*p)->stats();
  CHECK(stats.labelled == 6000);
  CHECK(stats.model_trained == 6000);
  CHECK(stats.entities_cached == 0);
  CHECK(stats.accuracy > stats.majority_baseline + 0.1);
  // The checkpoint writes no entity state (the model and offsets still).
  auto batch = (*store)->begin_checkpoint();
  (*p)->checkpoint(batch);
  REQUIRE((*store)->commit(batch).ok());
  size_t stored_entities = 0;
  REQUIRE((*store)->for_each_entity([&](std::string_view, std::string_view) {
    ++stored_entities;
    return true;
  }).ok());
  CHECK(stored_entities == 0);
  auto model = (*store)->get_model(config.model.name);
  REQUIRE(model.ok());
  CHECK(model->has_value());

  // An event with an entity beside them keeps its state as before.
  Messages mixed;
  mixed.add("", R"({"id":"n-1","features":{"x1":1,"x2":2,"x3":3},"label":1})");
  mixed.add("", R"({"id":"n-2","entity":"u9","features":{"x1":1,"x2":2,"x3":3},"label":0})");
  mixed.add("k5", R"({"id":"n-3","features":{"x1":1,"x2":2,"x3":3}})");
  MemorySink more;
  REQUIRE((*p)->process(mixed.view(), more).ok());
  REQUIRE(more.predictions.size() == 3);
  CHECK_THAT(more.predictions[0], Catch::StartsWith(R"({"id":"n-1","model":)"));
  CHECK_THAT(more.predictions[1], Catch::StartsWith(R"({"id":"n-2","entity":"u9",)"));
  CHECK_THAT(more.predictions[2], Catch::StartsWith(R"({"id":"n-3","entity":"k5",)"));
  CHECK((*p)->stats().entities_cached == 2);
}

TEST_CASE("a delayed label joins an event without an entity", "[processor]") {
  PipelineConfig config;
  config.labels.enabled = true;
  config.features.params["target_agg"] = "true";
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  const std::string event = R"({"id":"d-1","ts":1700000000000,"features":{"x1":1,"x2":2,"x3":3}})";
  const std::string label = R"({"id":"d-1","label":1,"ts":1700000000500})";
  std::vector<RawMessage> raw = {{{"events", 0, 0, -1}, "", event},
                                 {{config.kafka.labels_topic, 0, 0, -1}, "", label}};
  MemorySink sink;
  REQUIRE((*p)->process(raw, sink).ok());
  CHECK(sink.dead.empty());
  CHECK(sink.predictions.size() == 1);
  CHECK((*p)->stats().labelled == 1);
  CHECK((*p)->stats().entities_cached == 0);
}

TEST_CASE("next offsets follow every partition of a batch that interleaves them", "[processor]") {
  // The processor looks the offsets entry up again only when the partition changes.
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  struct At {
    const char* topic;
    int32_t partition;
    int64_t offset;
  };
  const std::vector<At> at = {{"events", 0, 10}, {"events", 1, 20}, {"events", 0, 11}, {"events", 2, 30},
                              {"events", 1, 21}, {"more", 0, 40},   {"events", 0, 12}, {"more", 0, 41}};
  const std::string payload = R"({"features":{"x":1},"label":1})";
  std::vector<RawMessage> raw;
  for (const At& a : at) raw.push_back({{a.topic, a.partition, a.offset, 1700000000000}, "u", payload});
  MemorySink sink;
  REQUIRE((*p)->process(raw, sink).ok());
  CHECK(sink.predictions.size() == at.size());
  const std::map<std::pair<std::string, int32_t>, int64_t> expected = {
      {{"events", 0}, 13}, {{"events", 1}, 22}, {{"events", 2}, 31}, {{"more", 0}, 42}};
  CHECK((*p)->next_offsets() == expected);
}

TEST_CASE("after forget_partitions the next offsets start over, also for partitions seen before", "[processor]") {
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  const std::string payload = R"({"features":{"x":1},"label":1})";
  std::vector<RawMessage> raw = {{{"events", 0, 10, 1700000000000}, "u", payload},
                                 {{"events", 1, 20, 1700000000000}, "u", payload}};
  MemorySink sink;
  REQUIRE((*p)->process(raw, sink).ok());
  (*p)->forget_partitions();
  raw = {{{"events", 1, 5, 1700000000000}, "u", payload}};
  REQUIRE((*p)->process(raw, sink).ok());
  const std::map<std::pair<std::string, int32_t>, int64_t> expected = {{{"events", 1}, 6}};
  CHECK((*p)->next_offsets() == expected);
}

TEST_CASE("the model learns SEA well above the majority-class baseline", "[processor]") {
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  Messages m = SeaMessages(30000, {});
  MemorySink sink;
  Feed(**p, m.view(), sink);
  auto stats = (*p)->stats();
  INFO("accuracy " << stats.accuracy << " majority " << stats.majority_baseline);
  CHECK(stats.accuracy > 0.84);  // 10% label noise caps it near 0.9
  CHECK(stats.accuracy > stats.majority_baseline + 0.15);
  CHECK(sink.drifts.empty());    // one stationary concept: no alarm
}

TEST_CASE("a concept change is detected soon after it happens, and not before", "[processor]") {
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  // theta 9.5 -> 7 -> 9.5: each change flips ~21% of labels. Smaller changes (8 -> 9 flips
  // 8.5%) are absorbed by the learner within a few hundred events, before ADWIN's window
  // can confirm them: no alarm is then the right outcome.
  Messages m = SeaMessages(30000, {10000, 20000}, 0, 1, {9.5, 7, 9.5});
  MemorySink sink;
  Feed(**p, m.view(), sink);
  auto drifts = (*p)->stats().drifts;
  REQUIRE(drifts.size() >= 2);
  CHECK(drifts[0].events > 10000);
  CHECK(drifts[0].events <= 12000);
  CHECK(drifts[0].error_after > drifts[0].error_before);
  bool second = false;
  for (const auto& d : drifts) second |= (d.events > 20000 && d.events <= 22000);
  CHECK(second);
  CHECK((*p)->stats().model_version == 1 + drifts.size());  // action reset bumps the version
  CHECK_THAT(sink.drifts[0], Catch::Contains(R"("detector":"adwin","level":"drift")"));
}

TEST_CASE("checkpoint and restart give the same predictions as an uninterrupted run", "[processor]") {
  Messages m = SeaMessages(12000, {6000}, 0.01, 5);
  auto all = m.view();
  MemorySink straight;
  {
    auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
    Feed(**p, all, straight);
  }
  TempDir dir;
  PipelineConfig config;
  config.state.dir = dir.path.string();
  MemorySink resumed;
  const size_t cut = 7000;
  {
    auto store = state::StateStore::Open(config.state.dir);
    REQUIRE(store.ok());
    auto p = Processor::Create(config, store->get(), nullptr);
    REQUIRE(p.ok());
    Feed(**p, all.subspan(0, cut), resumed);
    auto batch = (*store)->begin_checkpoint();
    (*p)->checkpoint(batch);
    REQUIRE((*store)->commit(batch).ok());
    const size_t checkpointed = resumed.predictions.size();
    Feed(**p, all.subspan(cut, 300), resumed);  // processed but never checkpointed: replayed
    resumed.predictions.resize(checkpointed);
  }
  {
    auto store = state::StateStore::Open(config.state.dir);
    REQUIRE(store.ok());
    auto p = Processor::Create(config, store->get(), nullptr);
    REQUIRE(p.ok());
    REQUIRE((*p)->next_offsets().at({"events", 0}) == static_cast<int64_t>(cut));
    Feed(**p, all.subspan(cut), resumed);
  }
  REQUIRE(resumed.predictions.size() == straight.predictions.size());
  auto strip_latency = [](std::string s) { return s.substr(0, s.find(",\"latency_us\"")); };
  for (size_t i = 0; i < straight.predictions.size(); ++i) {
    REQUIRE(strip_latency(resumed.predictions[i]) == strip_latency(straight.predictions[i]));
  }
}

TEST_CASE("a model stored with another type is refused, naming the model and directory", "[processor]") {
  TempDir dir;
  PipelineConfig config;
  config.state.dir = dir.path.string();
  auto store = state::StateStore::Open(config.state.dir);
  REQUIRE(store.ok());
  auto batch = (*store)->begin_checkpoint();
  batch.put_model("logreg", "garbage bytes that are not a snapshot");
  REQUIRE((*store)->commit(batch).ok());
  auto p = Processor::Create(config, store->get(), nullptr);
  REQUIRE_FALSE(p.ok());
  CHECK_THAT(p.status().message(), Catch::Contains("model 'logreg' in " + config.state.dir));
}

TEST_CASE("any River detector can watch the errors, with its parameters by River's names", "[processor]") {
  PipelineConfig config;
  config.drift.detector = "ddm";
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  Messages m = SeaMessages(30000, {10000, 20000}, 0, 1, {9.5, 7, 9.5});
  MemorySink sink;
  Feed(**p, m.view(), sink);
  auto drifts = (*p)->stats().drifts;
  REQUIRE_FALSE(drifts.empty());
  CHECK(drifts[0].events > 10000);
  CHECK(drifts[0].events <= 12000);
  CHECK_THAT(sink.drifts[0], Catch::Contains(R"("detector":"ddm")"));
  // DDM has a warning level: entering it is published once, as level "warning".
  bool warned = false;
  for (const auto& d : sink.drifts) warned |= d.find(R"("level":"warning")") != std::string::npos;
  CHECK(warned);
  CHECK((*p)->stats().warnings > 0);

  config.drift.params = {{"warm_start", "-3"}};
  auto bad = Processor::Create(config, nullptr, nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::StartsWith("drift.params: ") && Catch::Contains("warm_start"));
}

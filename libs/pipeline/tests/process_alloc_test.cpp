// Processor::process as a whole allocates nothing per event once warmed up (entities,
// feature names, categories and ids' shapes seen): with inline labels and with delayed
// ones (events without labels, their labels later on the labels topic), with the default
// config (data drift on) and with a challenger. Counted with a replaced global operator
// new; its own executable, so the other tests keep the library's.
//
// Not under AddressSanitizer: it pairs its own operator new with its own delete.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <span>
#include <unistd.h>
#include <string>
#include <vector>

#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

// Encodes every record as the Kafka sink does (the encoders are on the counted path).
class CountingSink : public JsonOutputSink {
 public:
  Status prediction(std::string_view, std::string_view) override {
    predictions++;
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view) override {
    dead++;
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view) override {
    drifts++;
    return Status::Ok();
  }
  uint64_t predictions = 0, dead = 0, drifts = 0;
};

// A stationary stream: 500 entities, three numbers and a city, a label from a noisy
// threshold. Delayed: each event without its label, the label 25 events later on the
// labels topic.
struct Messages {
  std::vector<std::string> topics, keys, payloads;
  std::vector<RawMessage> raw;
};

Messages MakeStream(size_t events, bool delayed) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 10);
  const char* cities[] = {"paris", "lyon", "nice", "lille", "nantes"};
  Messages m;
  std::vector<std::pair<size_t, std::string>> labels;  // due at event index, payload
  auto add = [&](std::string topic, std::string key, std::string payload) {
    m.topics.push_back(std::move(topic));
    m.keys.push_back(std::move(key));
    m.payloads.push_back(std::move(payload));
  };
  size_t next_label = 0;
  for (size_t i = 0; i < events; ++i) {
    // Longer than a string's inline buffer: a copied id or entity would allocate.
    const std::string entity = "customer-with-a-long-key-" + std::to_string(rng() % 500);
    const double x1 = u(rng), x2 = u(rng), x3 = u(rng);
    const int label = (x1 + x2 > 10) != (rng() % 10 == 0) ? 1 : 0;
    const int64_t ts = 1700000000000 + 10 * static_cast<int64_t>(i);
    const std::string id = "event-with-a-long-id-" + std::to_string(i);
    std::string payload = R"({"id":")" + id + R"(","entity":")" + entity + R"(","ts":)" + std::to_string(ts) +
                          R"(,"features":{"x1":)" + std::to_string(x1) + R"(,"x2":)" + std::to_string(x2) +
                          R"(,"x3":)" + std::to_string(x3) + R"(,"city":")" + cities[rng() % 5] + "\"}";
    if (delayed) {
      add("events", entity, payload + "}");
      labels.emplace_back(i + 25, R"({"id":")" + id + R"(","label":)" + std::to_string(label) + R"(,"ts":)" +
                                      std::to_string(ts + 250) + "}");
    } else {
      add("events", entity, payload + R"(,"label":)" + std::to_string(label) + "}");
    }
    while (next_label < labels.size() && labels[next_label].first <= i) {
      add("labels", entity, labels[next_label++].second);
    }
  }
  int64_t events_offset = 0, labels_offset = 0;
  for (size_t i = 0; i < m.payloads.size(); ++i) {
    const bool is_label = m.topics[i] == "labels";
    m.raw.push_back({{m.topics[i], 0, is_label ? labels_offset++ : events_offset++, -1}, m.keys[i], m.payloads[i]});
  }
  return m;
}

struct Counted {
  uint64_t allocations = 0;
  uint64_t events = 0;
};

// With a store, a checkpoint every ten batches, as the runner's interval would; only
// process() is counted (a checkpoint builds a RocksDB batch and the model's snapshot).
Counted Run(const PipelineConfig& config, bool delayed, state::StateStore* store) {
  const size_t kWarmup = 30000, kMeasured = 20000;
  const Messages m = MakeStream(kWarmup + kMeasured, delayed);
  auto processor = Processor::Create(config, store, nullptr);
  REQUIRE(processor.ok());
  CountingSink sink;
  const std::span<const RawMessage> all(m.raw);
  // Where the measured events begin: after the warm-up's events (and their labels).
  size_t split = 0;
  for (size_t seen = 0; split < all.size() && seen < kWarmup; ++split) seen += all[split].source.topic == "events";
  const size_t kBatch = 500;
  uint64_t counted = 0;
  size_t batches = 0;
  auto feed = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; i += kBatch) {
      const uint64_t before = testing::Allocations();
      REQUIRE((*processor)->process(all.subspan(i, std::min(kBatch, to - i)), sink).ok());
      counted += testing::Allocations() - before;
      if (store && ++batches % 10 == 0) {
        auto batch = store->begin_checkpoint();
        (*processor)->checkpoint(batch);
        REQUIRE(store->commit(batch).ok());
      }
    }
  };
  feed(0, split);
  const uint64_t drifts_before = sink.drifts;
  counted = 0;
  feed(split, all.size());
  Counted c{counted, kMeasured};
  REQUIRE(sink.dead == 0);
  REQUIRE(sink.predictions == kWarmup + kMeasured);
  // A drift or data-drift event allocates its record and message: the stream is stationary.
  CHECK(sink.drifts == drifts_before);
  const auto stats = (*processor)->stats();
  if (delayed) {
    CHECK(stats.labels.joined == kWarmup + kMeasured - 25);
    CHECK(stats.pending_labels == 25);
  }
  CHECK(stats.labelled >= kWarmup + kMeasured - 25);
  return c;
}

}  // namespace

TEST_CASE("Processor::process allocates nothing per event after a warm-up", "[alloc]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer: nothing to check here");
    return;
  }
  PipelineConfig config;  // the default: data drift on, ADWIN on the errors
  REQUIRE(config.drift.data_enabled);
  const bool challenger = GENERATE(false, true);
  if (challenger) config.challengers["adam"] = {{"optimizer", "adam"}, {"learning_rate", "0.01"}};
  // Model selection: the candidates' windows are reserved, the baselines predict into a
  // reused Prediction.
  const bool selection = GENERATE(false, true);
  config.selection.enabled = selection;
  const bool delayed = GENERATE(false, true);
  config.labels.enabled = delayed;
  // Joined ids are remembered (tombstones) for labels.ttl after their join: the steady
  // state, where as many are forgotten as remembered, comes after a TTL of stream time
  // (10 ms per event here). Before it the join's state grows, and allocates as it grows.
  config.labels.ttl_ms = 60000;
  const bool with_store = GENERATE(false, true);
  const auto dir = std::filesystem::temp_directory_path() / ("sl-alloc-" + std::to_string(::getpid()));
  std::unique_ptr<state::StateStore> store;
  if (with_store) {
    auto opened = state::StateStore::Open(dir.string(), {.sync = false});
    REQUIRE(opened.ok());
    store = std::move(opened).value();
  }
  const Counted c = Run(config, delayed, store.get());
  store.reset();
  std::filesystem::remove_all(dir);
  WARN((delayed ? "delayed" : "inline") << " labels" << (challenger ? ", a challenger" : "") << (selection ? ", selection" : "")
                                        << (with_store ? ", a store" : "") << ": " << c.allocations
                                        << " allocations in " << c.events << " events");
  // ADWIN (the concept-drift detector, and data drift's on each number) adds a bucket
  // row when its window doubles: a handful in 20,000 events, never one per event.
  CHECK(c.allocations <= 16);
}

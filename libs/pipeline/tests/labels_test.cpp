// Delayed labels through the Processor: events on one topic, labels on another,
// joined with the feature vector that was served; real RocksDB for the restart case.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-labels-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

struct MemorySink : JsonOutputSink {
  std::vector<std::string> predictions;
  std::vector<std::pair<std::string, std::string>> dead;  // payload, reason
  Status prediction(std::string_view, std::string_view json) override {
    // Without latency_us, which is wall-clock time.
    std::string p(json);
    p.erase(p.find(",\"latency_us\""));
    predictions.push_back(std::move(p));
    return Status::Ok();
  }
  Status dead_letter(const RawMessage& m, std::string_view reason) override {
    dead.emplace_back(std::string(m.payload), std::string(reason));
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
};

struct Message {
  std::string topic, key, payload;
};

struct Stream {
  std::vector<Message> messages;
  std::vector<RawMessage> raw;
  std::span<const RawMessage> view() {
    raw.clear();
    std::map<std::string, int64_t> offsets;
    for (const auto& m : messages) {
      raw.push_back({{m.topic, 0, offsets[m.topic]++, -1}, m.key, m.payload});
    }
    return raw;
  }
};

struct SeaEvent {
  std::string key, with_label, without_label, id;
  int label;
  int64_t ts;
};

std::vector<SeaEvent> SeaEvents(uint64_t n) {
  SyntheticOptions o;
  o.events = n;
  o.seed = 3;
  o.invalid_share = 0;
  o.entities = 50;
  o.change_at = {n / 2};
  SyntheticSeaStream stream(o);
  std::vector<SeaEvent> out;
  std::string key, payload;
  bool valid;
  while (stream.next(&key, &payload, &valid)) {
    SeaEvent e;
    e.key = key;
    e.with_label = payload;
    const size_t at = payload.rfind(",\"label\":");
    e.label = payload[at + 9] - '0';
    e.without_label = payload.substr(0, at) + "}";
    e.id = "e-" + std::to_string(out.size());
    e.ts = 1700000000000 + 10 * static_cast<int64_t>(out.size());
    out.push_back(std::move(e));
  }
  return out;
}

std::string LabelJson(const std::string& id, int label, int64_t ts) {
  return R"({"id":")" + id + R"(","label":)" + std::to_string(label) + R"(,"ts":)" + std::to_string(ts) + "}";
}

PipelineConfig LabelConfig(const std::string& dir = "unused") {
  PipelineConfig c;
  c.state.dir = dir;
  c.labels.enabled = true;
  c.labels.ttl_ms = 5000;        // 500 events of 10 ms
  c.labels.early_ttl_ms = 1000;  // 100 events
  c.labels.max_pending = 100000;
  return c;
}

void Feed(Processor& p, std::span<const RawMessage> all, MemorySink& sink, size_t batch = 500) {
  for (size_t i = 0; i < all.size(); i += batch) {
    REQUIRE(p.process(all.subspan(i, std::min(batch, all.size() - i)), sink).ok());
  }
}

}  // namespace

TEST_CASE("a label right after its event trains exactly as an inline label would", "[labels]") {
  const auto events = SeaEvents(20000);
  Stream inline_stream, split_stream;
  for (const auto& e : events) {
    inline_stream.messages.push_back({"events", e.key, e.with_label});
    split_stream.messages.push_back({"events", e.key, e.without_label});
    split_stream.messages.push_back({"labels", e.key, LabelJson(e.id, e.label, e.ts)});
  }
  PipelineConfig inline_config;
  inline_config.labels.enabled = false;
  auto a = Processor::Create(inline_config, nullptr, nullptr);
  auto b = Processor::Create(LabelConfig(), nullptr, nullptr);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  MemorySink sa, sb;
  Feed(**a, inline_stream.view(), sa);
  Feed(**b, split_stream.view(), sb);
  REQUIRE(sa.predictions.size() == 20000);
  REQUIRE(sb.predictions.size() == 20000);
  CHECK(sa.predictions == sb.predictions);  // every score, bit for bit
  CHECK((*b)->stats().model_trained == 20000);
  CHECK((*a)->stats().accuracy == (*b)->stats().accuracy);
  CHECK(sb.dead.empty());
}

TEST_CASE("delayed labels: joined once with the served vector, early, duplicate, unknown, late and expired are "
          "counted exactly", "[labels]") {
  const auto events = SeaEvents(20000);
  // Each label is due `delay` events after its event (0..300, below the 500-event TTL),
  // except: every 50th label comes 20 events before its event (early), every 70th is sent
  // twice, every 90th never comes (expires), every 110th comes 800 events late (after the
  // TTL: late); plus 37 labels for ids that never occur (unknown). Overlaps go by the first
  // rule that matches, in that order.
  std::mt19937_64 rng(9);
  const int64_t n = static_cast<int64_t>(events.size());
  std::vector<std::pair<int64_t, Message>> labels;  // due position (in events), message
  uint64_t early = 0, duplicate = 0, late = 0, joinable = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto& e = events[static_cast<size_t>(i)];
    const Message label{"labels", e.key, LabelJson(e.id, e.label, e.ts)};
    if (i % 50 == 0 && i >= 20) {
      labels.push_back({i - 20, label});
      early++;
      joinable++;
    } else if (i % 90 == 0) {
      continue;  // never labelled: its prediction expires
    } else if (i % 110 == 0) {
      if (i + 800 >= n) continue;
      labels.push_back({i + 800, label});
      late++;
    } else {
      const int64_t due = i + static_cast<int64_t>(rng() % 301);
      if (due >= n) continue;
      labels.push_back({due, label});
      joinable++;
      if (i % 70 == 0 && due + 5 < n) {
        labels.push_back({due + 5, label});
        duplicate++;
      }
    }
  }
  for (int u = 0; u < 37; ++u) labels.push_back({1000 + 400 * u, {"labels", "k", LabelJson("nope-" + std::to_string(u), 1, 0)}});
  std::stable_sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Labels carry the time they were due; unknown ones get their due event's time.
  Stream stream;
  size_t next_label = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    while (next_label < labels.size() && labels[next_label].first < static_cast<int64_t>(i)) {
      auto m = labels[next_label++].second;
      if (m.payload.find("nope-") != std::string::npos) {
        m.payload = m.payload.substr(0, m.payload.rfind(":") + 1) + std::to_string(events[i].ts) + "}";
      }
      stream.messages.push_back(m);
    }
    stream.messages.push_back({"events", events[i].key, events[i].without_label});
  }
  while (next_label < labels.size()) stream.messages.push_back(labels[next_label++].second);  // due at the last event
  // Move the stream time past every TTL: three label-free events 6 s apart (the last one
  // stays pending).
  constexpr int kTail = 3;
  for (int k = 0; k < kTail; ++k) {
    const int64_t ts = events.back().ts + 6000 * (k + 1);
    stream.messages.push_back({"events", "tail", R"({"id":"t-)" + std::to_string(k) + R"(","entity":"tail","ts":)" +
                                                     std::to_string(ts) + R"(,"features":{"x1":1,"x2":1,"x3":1}})"});
  }

  auto p = Processor::Create(LabelConfig(), nullptr, nullptr);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, stream.view(), sink);
  const auto stats = (*p)->stats();
  const auto counts = (*p)->label_counts();
  INFO("joined " << counts.joined << " early " << counts.early << " dup " << counts.duplicate << " unknown "
                 << counts.unknown << " late " << counts.late << " expired " << counts.expired);
  CHECK(counts.joined == joinable);
  CHECK(stats.model_trained == joinable);
  CHECK(stats.labelled == joinable);
  CHECK(counts.early == early + 37);  // the unknown ones wait as early labels first
  CHECK(counts.unknown == 37);
  CHECK(counts.duplicate == duplicate);
  CHECK(counts.late == late);
  // Never labelled, late ones and the tail but its last event: all expired.
  CHECK((*p)->pending_labels() == 1);
  CHECK(counts.expired == events.size() + kTail - joinable - 1);
  CHECK(counts.evicted == 0);
  // Dead letters: exactly the unknown and the late labels, each with its reason.
  size_t unknown_dead = 0, late_dead = 0;
  for (const auto& [payload, reason] : sink.dead) {
    if (reason.find("label for unknown event id 'nope-") == 0) {
      unknown_dead++;
      // The dead letter carries the label message itself (it used to be empty).
      CHECK(payload.rfind(R"({"id":"nope-)", 0) == 0);
    }
    if (reason.find("arrived after its pending prediction expired") != std::string::npos) late_dead++;
  }
  CHECK(unknown_dead == 37);
  CHECK(late_dead == late);
  CHECK(sink.dead.size() == 37 + late);
  // Learning from delayed labels still learns: well above the majority baseline.
  CHECK(stats.accuracy > stats.majority_baseline + 0.15);
}

TEST_CASE("a restart while labels are pending loses none and joins none twice", "[labels]") {
  const auto events = SeaEvents(10000);
  Stream stream;
  // Every label 200 events late: at any cut, ~200 predictions are pending, and a few
  // labels are early (every 40th comes 10 events ahead).
  std::vector<std::vector<Message>> due(events.size() + 201);
  for (size_t i = 0; i < events.size(); ++i) {
    const size_t at = i % 40 == 0 && i >= 10 ? i - 10 : i + 200;
    due[at].push_back({"labels", events[i].key, LabelJson(events[i].id, events[i].label, events[i].ts)});
  }
  for (size_t i = 0; i < due.size(); ++i) {
    for (auto& m : due[i]) stream.messages.push_back(m);
    if (i < events.size()) stream.messages.push_back({"events", events[i].key, events[i].without_label});
  }
  auto all = stream.view();

  auto uninterrupted = Processor::Create(LabelConfig(), nullptr, nullptr);
  REQUIRE(uninterrupted.ok());
  MemorySink reference;
  Feed(**uninterrupted, all, reference);

  TempDir dir;
  MemorySink restarted;
  const size_t cut = 7001;  // mid-batch of the uninterrupted run's batching, with labels pending
  {
    auto store = state::StateStore::Open(dir.path.string());
    REQUIRE(store.ok());
    auto p = Processor::Create(LabelConfig(dir.path.string()), store->get(), nullptr);
    REQUIRE(p.ok());
    Feed(**p, all.subspan(0, cut), restarted);
    REQUIRE((*p)->pending_labels() > 150);
    auto batch = (*store)->begin_checkpoint();
    (*p)->checkpoint(batch);
    REQUIRE((*store)->commit(batch).ok());
    // Processed after the checkpoint and lost in the "crash": replayed below.
    Feed(**p, all.subspan(cut, 300), restarted);
  }
  {
    auto store = state::StateStore::Open(dir.path.string());
    REQUIRE(store.ok());
    auto p = Processor::Create(LabelConfig(dir.path.string()), store->get(), nullptr);
    REQUIRE(p.ok());
    CHECK((*p)->pending_labels() > 150);
    MemorySink after;
    Feed(**p, all.subspan(cut), after);
    CHECK((*p)->stats().model_trained == (*uninterrupted)->stats().model_trained);
    CHECK((*p)->stats().model_trained == events.size());
    CHECK((*p)->label_counts().joined == events.size());
    CHECK((*p)->label_counts().duplicate == 0);
    CHECK((*p)->model_snapshot() == (*uninterrupted)->model_snapshot());
    // The predictions after the restart are the uninterrupted run's.
    const size_t before = reference.predictions.size() - after.predictions.size();
    CHECK(std::equal(after.predictions.begin(), after.predictions.end(), reference.predictions.begin() + before));
  }
}

TEST_CASE("the pending store is bounded: the oldest prediction is evicted and counted, and its late label is "
          "dead-lettered", "[labels]") {
  LabelSettings settings;
  settings.max_pending = 3;
  settings.ttl_ms = 1000000;
  LabelJoin join(settings);
  std::vector<EarlyLabel> unknown;
  for (int i = 0; i < 5; ++i) {
    PendingPrediction p;
    p.ts_ms = 100 + i;
    p.seq = static_cast<uint64_t>(i);
    p.x.set_dense(0, i);
    CHECK_FALSE(join.add_prediction("e-" + std::to_string(i), std::move(p)));
    join.advance(100 + i, &unknown);
  }
  CHECK(join.pending_size() == 3);
  CHECK(join.counts().evicted == 2);
  PendingPrediction joined;
  EarlyLabel l;
  l.id = "e-0";
  CHECK(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kLate);
  l.id = "e-3";
  REQUIRE(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kJoined);
  CHECK(joined.x.dense.at(0) == 3);  // the vector that was served
  CHECK(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kDuplicate);
  l.id = "e-9";
  CHECK(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kEarly);
  CHECK(join.counts().late == 1);
  CHECK(join.counts().duplicate == 1);
  CHECK(unknown.empty());
}

TEST_CASE("a recycled pending entry carries nothing over from the prediction it held before", "[labels]") {
  LabelSettings settings;
  settings.ttl_ms = 1000000;
  LabelJoin join(settings);
  PendingPrediction joined;
  EarlyLabel l;
  for (int i = 0; i < 6; ++i) {
    // Alternately long and short: entity, vector and probabilities shrink and grow.
    const bool big = i % 2 == 0;
    PendingPrediction p;
    p.entity = big ? "an-entity-with-a-key-longer-than-inline-" + std::to_string(i) : "e";
    p.ts_ms = 100 + i;
    p.seq = static_cast<uint64_t>(i);
    p.score = 0.25 * i;
    p.predicted = i % 3;
    p.model_version = static_cast<uint64_t>(i + 1);
    for (uint32_t f = 0; f < (big ? 5u : 2u); ++f) p.x.set_dense(f, i + 0.5 * f);
    if (big) {
      p.x.sparse_index = {7, 11};
      p.x.sparse_value = {1.0f, 1.0f};
      p.probabilities = {0.2, 0.3, 0.5};
    }
    const std::string id = "event-with-a-long-id-" + std::to_string(i);
    CHECK_FALSE(join.add_prediction(id, p));
    l.id = id;
    REQUIRE(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kJoined);
    CHECK(joined.entity == p.entity);
    CHECK(joined.ts_ms == p.ts_ms);
    CHECK(joined.seq == p.seq);
    CHECK(joined.score == p.score);
    CHECK(joined.predicted == p.predicted);
    CHECK(joined.model_version == p.model_version);
    CHECK(joined.x.dense == p.x.dense);
    CHECK(joined.x.present == p.x.present);
    CHECK(joined.x.sparse_index == p.x.sparse_index);
    CHECK(joined.x.sparse_value == p.x.sparse_value);
    CHECK(joined.probabilities == p.probabilities);
    CHECK(join.add_label(l, &joined) == LabelJoin::LabelOutcome::kDuplicate);
  }
  CHECK(join.pending_size() == 0);
  CHECK(join.counts().joined == 6);
}

TEST_CASE("a label older than labels.ttl whose expired prediction was forgotten is unknown at once, not early",
          "[labels]") {
  // As a burst of events read ahead of their labels: events every 10 ms, a 10 s TTL and an
  // hour of early_ttl; the labels (5 s after their events, for the first 1,000 events) come
  // when the stream time is 22.58 s. Each event expired when the stream time passed its own
  // by 10 s and its tombstone stays another 10 s: the first events' tombstones are gone.
  LabelSettings settings;
  settings.ttl_ms = 10000;
  settings.early_ttl_ms = 3600000;
  LabelJoin join(settings);
  std::vector<EarlyLabel> unknown;
  constexpr int kEvents = 2259;
  for (int i = 0; i < kEvents; ++i) {
    PendingPrediction p;
    p.ts_ms = 10 * i;
    p.seq = static_cast<uint64_t>(i);
    CHECK_FALSE(join.add_prediction("e-" + std::to_string(i), p));
    join.advance(p.ts_ms, &unknown);
  }
  REQUIRE(join.stream_time_ms() == 22580);
  // Event i was buried at stream time 10 i + 10,010; its tombstone went once that is more
  // than 10 s behind 22,580: events 0..256.
  constexpr uint64_t kForgotten = 257;
  PendingPrediction joined;
  std::vector<std::string> dead;
  for (int i = 0; i < 1000; ++i) {
    EarlyLabel l;
    l.id = "e-" + std::to_string(i);
    l.value = 1;
    l.ts_ms = 10 * i + 5000;
    l.seq = static_cast<uint64_t>(kEvents + i);
    const auto outcome = join.add_label(l, &joined);
    CHECK(outcome != LabelJoin::LabelOutcome::kJoined);
    CHECK(outcome != LabelJoin::LabelOutcome::kEarly);
    if (outcome == LabelJoin::LabelOutcome::kUnknown) dead.push_back(l.id);
    join.advance(l.ts_ms, &unknown);
  }
  const LabelJoinCounts& counts = join.counts();
  CHECK(counts.joined == 0);
  CHECK(counts.early == 0);
  CHECK(join.early_size() == 0);
  CHECK(counts.unknown == kForgotten);
  CHECK(counts.late == 1000 - kForgotten);
  CHECK(dead.size() == kForgotten);
  CHECK(dead.back() == "e-256");
  CHECK(unknown.empty());  // dead-lettered by the caller on kUnknown, not held for early_ttl

  // Within the TTL a label with no record still waits for its event, and joins it.
  EarlyLabel ahead;
  ahead.id = "e-later";
  ahead.ts_ms = 22580 - 10000;
  ahead.seq = 5000;
  CHECK(join.add_label(ahead, &joined) == LabelJoin::LabelOutcome::kEarly);
  PendingPrediction p;
  p.ts_ms = 22580;
  p.seq = 5001;
  CHECK(join.add_prediction("e-later", p));
  CHECK(join.counts().joined == 1);
}

TEST_CASE("the processor dead-letters a label older than labels.ttl with no record of its id as unknown at once",
          "[labels]") {
  // 3,000 events of 10 ms (30 s), then the label of the first one, stamped 5 s after it: its
  // prediction expired and its tombstone went; an hour of early_ttl must not hold it.
  const auto events = SeaEvents(3000);
  Stream stream;
  for (const auto& e : events) stream.messages.push_back({"events", e.key, e.without_label});
  stream.messages.push_back({"labels", events[0].key, LabelJson(events[0].id, events[0].label, events[0].ts + 5000)});
  PipelineConfig config = LabelConfig();
  config.labels.early_ttl_ms = 3600000;
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  MemorySink sink;
  Feed(**p, stream.view(), sink);
  CHECK((*p)->label_counts().unknown == 1);
  CHECK((*p)->label_counts().early == 0);
  REQUIRE(sink.dead.size() == 1);
  CHECK(sink.dead[0].second.find("label for unknown event id '" + events[0].id + "': older than labels.ttl") == 0);
}

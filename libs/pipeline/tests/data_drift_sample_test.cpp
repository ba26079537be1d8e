// drift.data.sample: the data-drift monitor watches one event in `sample`, chosen by a hash
// of the event id. What must hold with the default: the same events are watched whatever
// the batches (a replay sees the same alarms), the generated streams' stationary inputs stay
// quiet, and a real shift is still found within a stated number of events.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data_drift_settings.hpp"
#include "streamlearn/eval/streams.hpp"
#include "streamlearn/pipeline/processor.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct DataDriftSink : JsonOutputSink {
  std::vector<std::string> data_drifts;
  Status prediction(std::string_view, std::string_view) override { return Status::Ok(); }
  Status dead_letter(const RawMessage&, std::string_view reason) override {
    FAIL("unexpected dead letter: " << reason);
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view json) override {
    if (json.find(R"("type":"data_drift")") != std::string_view::npos) data_drifts.emplace_back(json);
    return Status::Ok();
  }
};

// A generated stream (as `streamlearn gen`) as JSON lines, with `shift` applied to each
// event from position `shift_at` on. One concept: the inputs of these streams do not move
// at a concept change anyway (only the labels do).
struct Lines {
  std::string buffer;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<RawMessage> raw() const {
    std::vector<RawMessage> out;
    for (size_t i = 0; i < spans.size(); ++i) {
      out.push_back({{"events", 0, static_cast<int64_t>(i), -1}, "k",
                     std::string_view(buffer).substr(spans[i].first, spans[i].second)});
    }
    return out;
  }
};

template <typename Shift>
Lines Generate(std::string_view name, uint64_t events, uint64_t shift_at, Shift shift) {
  eval::StreamOptions so;
  so.events = events;
  so.seed = 7;
  so.entities = 1000;
  so.concepts = 1;
  auto stream = eval::MakeStream(name, so);
  REQUIRE(stream.ok());
  Lines lines;
  eval::GeneratedEvent e;
  eval::EventJsonOptions json;
  json.concept_marker = false;
  for (uint64_t i = 0; (*stream)->next(&e); ++i) {
    if (i >= shift_at) shift(e);
    const size_t at = lines.buffer.size();
    eval::AppendEventJson(lines.buffer, e, i, json);
    lines.spans.emplace_back(at, lines.buffer.size() - at);
  }
  return lines;
}

std::vector<std::string> DataDrifts(const Lines& lines, const PipelineConfig& config, size_t batch) {
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  DataDriftSink sink;
  const std::vector<RawMessage> raw = lines.raw();
  for (size_t i = 0; i < raw.size(); i += batch) {
    REQUIRE((*p)->process(std::span<const RawMessage>(raw).subspan(i, std::min(batch, raw.size() - i)), sink).ok());
  }
  return sink.data_drifts;
}

std::string FeatureOf(const std::string& record) {
  const size_t at = record.find(R"("feature":")") + 11;
  return record.substr(at, record.find('"', at) - at);
}

long PositionOf(const std::string& record) {
  const size_t at = record.find(R"("event_id":"e-)") + 14;
  return std::stol(record.substr(at));
}

}  // namespace

TEST_CASE("data drift sample: one event in `every` by a hash of its id, the same ids every time", "[drift][data]") {
  const DataDriftSampler all(1);
  const DataDriftSampler eighth(8);
  int watched = 0;
  for (int i = 0; i < 80000; ++i) {
    const std::string id = fmt::format("e-{}", i);
    CHECK(all.watches(id));
    watched += eighth.watches(id) ? 1 : 0;
    CHECK(eighth.watches(id) == DataDriftSampler(8).watches(id));
  }
  CHECK(watched > 9500);  // 10,000 expected
  CHECK(watched < 10500);
  // The ids that follow each other do not fall into a pattern: of 8 consecutive ids, not
  // always exactly one is watched.
  int runs_without = 0;
  for (int from = 0; from < 8000; from += 8) {
    int in_run = 0;
    for (int i = from; i < from + 8; ++i) in_run += eighth.watches(fmt::format("e-{}", i)) ? 1 : 0;
    runs_without += in_run == 0 ? 1 : 0;
  }
  CHECK(runs_without > 200);  // (7/8)^8 = 34 % of 1,000 runs
  CHECK(runs_without < 500);
}

TEST_CASE("data drift sample: the id hash is pinned (a change would watch other events after an upgrade)",
          "[drift][data]") {
  CHECK(EventIdHash("") == 0x9ca066f1a4ab2eeaULL);
  CHECK(EventIdHash("e-0") == 0xad60eadd4cc24909ULL);        // 3 bytes: first, middle, last
  CHECK(EventIdHash("e-1599") == 0xb81a7cc5a202e4bdULL);     // 6: two overlapping words
  CHECK(EventIdHash("e-123456") == 0xa246be00f051daaaULL);   // 8
  CHECK(EventIdHash("e-1234567") == 0xf8a338fe9dfbb2feULL);  // 9: a word, then the rest
  CHECK(EventIdHash("0123456789abcdefXYZ") == 0x6571f4d86fe5255fULL);
  // Every byte counts, at every length up to 3 words.
  const std::string base = "abcdefghijklmnopqrstuvwx";
  for (size_t n = 1; n <= base.size(); ++n) {
    const std::string id = base.substr(0, n);
    for (size_t k = 0; k < n; ++k) {
      std::string changed = id;
      changed[k] = '#';
      INFO(id << " byte " << k);
      CHECK(EventIdHash(changed) != EventIdHash(id));
    }
    CHECK(EventIdHash(id) != EventIdHash(id + '\0'));
  }
}

TEST_CASE("data drift sample: the default pipeline finds a shift on the wide stream within a stated number of events, "
          "its stationary inputs stay quiet", "[drift][data]") {
  // 100,000 events (about 1 s in a release build, worth it: the only test of the default
  // sampling on a categorical input and on many numbers at once): a categorical feature's first PSI comes
  // once its reference and its current window are full, 2 x 5,000 watched values or 80,000
  // events at one in 8; a numeric one needs 1,000 watched values (8,000 events).
  constexpr uint64_t kEvents = 100000;
  constexpr uint64_t kShiftAt = 50000;
  const Lines lines = Generate("wide", kEvents, kShiftAt, [](eval::GeneratedEvent& e) {
    e.numeric[3].value += 1.0;  // x3 ~ N(0, 1): one standard deviation
    // device, 8 values: half of them become "ios" (PSI 0.29 once 40 % of the window moved).
    for (const char* merged : {"web", "tv", "watch", "car"}) {
      if (e.categorical[0].value == merged) e.categorical[0].value = "ios";
    }
  });
  const PipelineConfig config;
  REQUIRE(config.drift.data_sample == 8);
  const std::vector<std::string> drifts = DataDrifts(lines, config, 1000);
  INFO(drifts.size() << " data drift records; first: " << (drifts.empty() ? "" : drifts[0]));
  std::optional<long> x3, device;
  for (const std::string& d : drifts) {
    const std::string feature = FeatureOf(d);
    CHECK(PositionOf(d) >= static_cast<long>(kShiftAt));  // nothing on the stationary first half
    CHECK((feature == "x3" || feature == "device"));      // nor on the 15 other inputs after it
    if (feature == "x3" && !x3) x3 = PositionOf(d) - static_cast<long>(kShiftAt);
    if (feature == "device" && !device) device = PositionOf(d) - static_cast<long>(kShiftAt);
  }
  REQUIRE(x3);
  REQUIRE(device);
  // Calibrated on every value, a 1-std shift is found within 300 values; at one event in 8
  // and with 15 % of x3 missing, that is about 2,800 events.
  CHECK(*x3 <= 4000);
  // PSI: at the first evaluation (80,000 events) the window is 3/4 changed.
  CHECK(*device <= 32000);
}

TEST_CASE("data drift sample: the entities stream's inputs stay quiet, a shifted amount is found, and the batches do "
          "not change which events are watched", "[drift][data]") {
  constexpr uint64_t kEvents = 60000;
  constexpr uint64_t kShiftAt = 30000;
  const Lines lines = Generate("entities", kEvents, kShiftAt, [](eval::GeneratedEvent& e) {
    if (!e.numeric[0].missing) e.numeric[0].value *= 3;  // amount, log-normal: log +1.1
  });
  const PipelineConfig config;
  const std::vector<std::string> drifts = DataDrifts(lines, config, 1000);
  INFO(drifts.size() << " data drift records; first: " << (drifts.empty() ? "" : drifts[0]));
  std::optional<long> amount;
  for (const std::string& d : drifts) {
    CHECK(PositionOf(d) >= static_cast<long>(kShiftAt));
    CHECK(FeatureOf(d) == "amount");
    if (!amount) amount = PositionOf(d) - static_cast<long>(kShiftAt);
  }
  REQUIRE(amount);
  CHECK(*amount <= 4000);

  // Other batch boundaries: the same events watched, the same records.
  CHECK(DataDrifts(lines, config, 333) == drifts);
}

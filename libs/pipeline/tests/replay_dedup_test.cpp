// Replays that publish no second answer: the bookkeeping of what a replay must not produce
// again and of the predictions offsets a checkpoint records, the prefix match with the
// encoder's bytes, the key, the marker's extra offset, and the input partition each
// prediction carries. The replays themselves run between processes in tests/scale.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "output_encoders.hpp"
#include "partition_state.hpp"
#include "replay_dedup.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

using Verdict = ReplayLedger::Verdict;

std::string Encoded(std::string_view id, std::string_view entity) {
  PredictionRecord r;
  r.id = id;
  r.entity = entity;
  r.model = "logreg";
  r.version = 3;
  r.score = 0.25;
  r.class_field = PredictionRecord::ClassField::kIndex;
  r.ts_ms = 17;
  r.latency_us = 40;
  PredictionEncoder encoder;
  std::string out;
  encoder.encode(r, out);
  return out;
}

// What predictions partition p held from offset `from` on: one prediction per id, entity u<id>.
std::vector<ReplayLedger::Published> Published(int64_t from, const std::vector<std::string>& ids) {
  std::vector<ReplayLedger::Published> out;
  for (const auto& id : ids) {
    const std::string payload = Encoded(id, "u" + id);
    out.push_back({from++, "u" + id, std::string(PredictionIdPrefix(payload))});
  }
  return out;
}

struct PartitionSink : OutputSink {
  std::vector<std::pair<std::string, int32_t>> predictions;  // id, partition
  Status write(const PredictionRecord& r) override {
    predictions.emplace_back(std::string(r.id), r.partition);
    return Status::Ok();
  }
  Status write(const ConceptDriftRecord&) override { return Status::Ok(); }
  Status write(const DataDriftRecord&) override { return Status::Ok(); }
  Status write(const ModelSwitchRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord&) override { return Status::Ok(); }
};

}  // namespace

TEST_CASE("a published prediction's id prefix is the one the encoder writes for the same id", "[replay_dedup]") {
  for (const std::string id : {"e-17", "quote\"d", "back\\slash\\", "uni\xc3\xa9", "ctl\x01"}) {
    const std::string payload = Encoded(id, "u1");
    std::string prefix;
    AppendPredictionIdPrefix(prefix, id);
    CHECK(PredictionIdPrefix(payload) == prefix);
    CHECK(payload.starts_with(prefix));
  }
  // Another id that the first one is a prefix of does not match.
  std::string e1;
  AppendPredictionIdPrefix(e1, "e-1");
  CHECK(PredictionIdPrefix(Encoded("e-17", "u1")) != e1);
  // Not a prediction: no prefix, so it matches nothing.
  CHECK(PredictionIdPrefix("").empty());
  CHECK(PredictionIdPrefix(R"({"score":1})").empty());
  CHECK(PredictionIdPrefix(R"({"id":17})").empty());
  CHECK(PredictionIdPrefix(R"({"id":"unterminated)").empty());
}

TEST_CASE("a replay skips what was published after the checkpoint, in order, and the list drains",
          "[replay_dedup]") {
  ReplayLedger ledger;
  // The checkpoint recorded offset 100; 103 is the end: three predictions published after it.
  ledger.begin(2, 100, Published(100, {"7", "8", "9"}), 103);
  CHECK(ledger.any_waiting());
  CHECK(ledger.next_offset(2) == 100);
  CHECK(ledger.check(5, "u7", "7") == Verdict::kProduce);  // another partition has no list
  CHECK(ledger.check(2, "u7", "7") == Verdict::kSkip);
  CHECK(ledger.next_offset(2) == 101);  // a checkpoint here: a replay from it starts at 8
  CHECK(ledger.check(2, "u8", "8") == Verdict::kSkip);
  CHECK(ledger.check(2, "u9", "9") == Verdict::kSkipLast);
  CHECK_FALSE(ledger.any_waiting());
  CHECK(ledger.next_offset(2) == 103);
  // From here the holder's own predictions, counted from the end it read to.
  CHECK(ledger.check(2, "u10", "10") == Verdict::kProduce);
  ledger.produced(2);
  ledger.produced(2);
  CHECK(ledger.next_offset(2) == 105);
  const auto summary = ledger.summary(2);
  CHECK(summary.listed == 3);
  CHECK(summary.skipped == 3);
  CHECK_FALSE(ledger.end(2).has_value());  // nothing was waiting
  CHECK_FALSE(ledger.next_offset(2).has_value());
}

TEST_CASE("a replay that differs from the list ends it and produces from there on", "[replay_dedup]") {
  ReplayLedger ledger;
  ledger.begin(0, 40, Published(40, {"a", "b", "c"}), 43);
  CHECK(ledger.check(0, "ua", "a") == Verdict::kSkip);
  // Same id, another entity: not the same prediction.
  CHECK(ledger.check(0, "ux", "b") == Verdict::kMismatch);
  CHECK(ledger.mismatch_expected() == R"({"id":"b")");
  CHECK_FALSE(ledger.any_waiting());
  ledger.produced(0);
  // Nothing is skipped after a mismatch, even what was next in the list.
  CHECK(ledger.check(0, "uc", "c") == Verdict::kProduce);
  ledger.produced(0);
  CHECK(ledger.next_offset(0) == 45);
  CHECK(ledger.summary(0).skipped == 1);
  CHECK(ledger.summary(0).listed == 3);
}

TEST_CASE("unknown offsets skip nothing and are recorded as unknown, and a revoked list reports what waited",
          "[replay_dedup]") {
  ReplayLedger ledger;
  ledger.begin_unknown(1);
  CHECK(ledger.next_offset(1) == -1);
  CHECK(ledger.check(1, "u1", "1") == Verdict::kProduce);
  ledger.produced(1);
  CHECK(ledger.next_offset(1) == -1);
  // No recorded offset (from < 0): the end only, nothing to skip.
  ledger.begin(3, -1, {}, 12);
  CHECK_FALSE(ledger.any_waiting());
  ledger.produced(3);
  CHECK(ledger.next_offset(3) == 13);
  // A list still waiting when the partition is revoked.
  ledger.begin(4, 0, Published(0, {"x", "y"}), 2);
  CHECK(ledger.check(4, "ux", "x") == Verdict::kSkip);
  auto waiting = ledger.end(4);
  REQUIRE(waiting.has_value());
  CHECK(waiting->listed == 2);
  CHECK(waiting->skipped == 1);
  CHECK_FALSE(ledger.any_waiting());
  CHECK(ledger.held() == std::vector<int32_t>{1, 3});
  // Assigned again: a new list replaces whatever was there.
  ledger.begin(3, 13, Published(13, {"z"}), 14);
  CHECK(ledger.any_waiting());
  CHECK(ledger.check(3, "uz", "z") == Verdict::kSkipLast);
}

TEST_CASE("scale.replay_dedup: on by default, off when set, a wrong value names the key",
          "[replay_dedup][config]") {
  auto on = ParseConfig("kafka: {group_id: g}\n", "t.yaml", Environment{});
  REQUIRE(on.ok());
  CHECK(on->scale.replay_dedup);
  auto off = ParseConfig("scale: {replay_dedup: false}\n", "t.yaml", Environment{});
  REQUIRE(off.ok());
  CHECK_FALSE(off->scale.replay_dedup);
  auto bad = ParseConfig("scale: {replay_dedup: often}\n", "t.yaml", Environment{});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.replay_dedup") != std::string::npos);
}

TEST_CASE("an offset marker carries the predictions offset, and one without it still reads", "[replay_dedup]") {
  OffsetMarker marker{"host:/s", 3, {{"events", 120}, {"predictions", 118}}};
  auto back = DecodeOffsetMarker(EncodeOffsetMarker(marker));
  REQUIRE(back.ok());
  CHECK(back->next_offsets == marker.next_offsets);
  auto older = DecodeOffsetMarker("streamlearn-offsets 1\ninstance host:/s\nsequence 2\noffset events 120\n");
  REQUIRE(older.ok());
  CHECK(older->next_offsets.count("predictions") == 0);
}

TEST_CASE("each prediction carries its event's input partition", "[replay_dedup][processor]") {
  auto p = Processor::Create(PipelineConfig{}, nullptr, nullptr);
  REQUIRE(p.ok());
  const std::vector<std::string> payloads = {R"({"id":"a","features":{"x":1},"label":1})",
                                             R"({"id":"b","features":{"x":2}})", R"({"id":"c","features":{"x":3}})"};
  std::vector<RawMessage> batch = {{{"events", 3, 0, 0}, "u1", payloads[0]},
                                   {{"events", 7, 0, 0}, "u2", payloads[1]},
                                   {{"events", 3, 1, 0}, "u1", payloads[2]}};
  PartitionSink sink;
  REQUIRE((*p)->process(batch, sink).ok());
  using P = std::pair<std::string, int32_t>;
  CHECK(sink.predictions == std::vector<P>{{"a", 3}, {"b", 7}, {"c", 3}});
}

TEST_CASE("the replay read-back reads committed predictions only, whatever kafka.properties says",
          "[replay_dedup]") {
  // exactly_once: a prediction of a transaction that never committed was not published, so
  // the read-back must not list it (the replay then produces it). The embedded broker shows
  // aborted messages to read_committed readers too (tests/faults/transactions_test.cpp), so
  // the setting is what can be checked here.
  CHECK(ReplayReaderProperties({{"bootstrap.servers", "b:9092"}}).at("isolation.level") == "read_committed");
  const auto overridden = ReplayReaderProperties({{"bootstrap.servers", "b:9092"}, {"isolation.level", "read_uncommitted"}});
  CHECK(overridden.at("isolation.level") == "read_committed");
  CHECK(overridden.at("bootstrap.servers") == "b:9092");
}

TEST_CASE("produced counts go to their own partition, also when a partition is ended and held again",
          "[replay_dedup]") {
  ReplayLedger ledger;
  ledger.begin(0, -1, {}, 10);
  ledger.begin(1, -1, {}, 20);
  ledger.produced(0);
  ledger.produced(0);
  ledger.produced(1);
  ledger.produced(0);
  CHECK(ledger.next_offset(0) == 13);
  CHECK(ledger.next_offset(1) == 21);
  // The partition produced to last goes and comes back: it starts over from its new end.
  (void)ledger.end(0);
  ledger.produced(0);  // not held: counted nowhere
  CHECK_FALSE(ledger.next_offset(0).has_value());
  ledger.begin(0, -1, {}, 30);
  ledger.produced(0);
  ledger.produced(1);
  CHECK(ledger.next_offset(0) == 31);
  CHECK(ledger.next_offset(1) == 22);
  // Held again while it was the last one produced to: the old count is gone.
  ledger.begin(1, -1, {}, 40);
  ledger.produced(1);
  CHECK(ledger.next_offset(1) == 41);
}

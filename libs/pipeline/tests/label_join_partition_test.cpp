// The label join's records as the unit of a partition: what for_each_change gives the
// changelog, what replace_partition takes back on another instance (the same join decisions
// there), what drop_partitions_except leaves, and records written before they had a
// partition. Real RocksDB for the batches.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>

#include "partition_state.hpp"
#include "streamlearn/core/bytes.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

using Records = std::map<std::string, std::string, std::less<>>;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-label-unit-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

LabelSettings Settings() {
  LabelSettings s;
  s.ttl_ms = 10000;
  s.early_ttl_ms = 1000;
  s.max_pending = 1000;
  return s;
}

PendingPrediction Prediction(int32_t partition, int64_t ts, uint64_t seq, double score) {
  PendingPrediction p;
  p.entity = "u" + std::to_string(seq);
  p.ts_ms = ts;
  p.seq = seq;
  p.score = score;
  p.predicted = score >= 0.5 ? 1 : 0;
  p.model_version = 3;
  p.x.dense = {score, 0, -1.5};
  p.x.present = {1, 0, 1};
  p.x.sparse_index = {17};
  p.x.sparse_value = {0.25f};
  p.probabilities = {1 - score, score};
  p.partition = partition;
  return p;
}

EarlyLabel Label(const std::string& id, int32_t partition, int64_t ts, uint64_t seq) {
  EarlyLabel l;
  l.id = id;
  l.value = 1;
  l.ts_ms = ts;
  l.seq = seq;
  l.topic = "labels";
  l.partition = partition;
  l.offset = static_cast<int64_t>(seq);
  l.key = "k";
  l.payload = R"({"id":")" + id + R"(","label":1})";
  return l;
}

// What the changelog gets of each partition (the last record of each id wins, as in a restore).
std::map<int32_t, Records> Changes(const LabelJoin& join) {
  std::map<int32_t, Records> out;
  join.for_each_change([&](int32_t partition, std::string_view id, std::string_view record) {
    out[partition][std::string(id)] = std::string(record);
  });
  return out;
}

}  // namespace

TEST_CASE("a partition's pending predictions, early labels and joined ids move to another join and decide the same "
          "there", "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  LabelJoin a(Settings());
  std::vector<EarlyLabel> unknown;
  REQUIRE_FALSE(a.add_prediction("e-1", Prediction(1, 100, 1, 0.8)));
  REQUIRE_FALSE(a.add_prediction("e-2", Prediction(1, 110, 2, 0.3)));
  REQUIRE_FALSE(a.add_prediction("e-3", Prediction(0, 120, 3, 0.6)));  // another partition
  REQUIRE_FALSE(a.add_prediction("e-4", Prediction(1, 130, 4, 0.1)));
  PendingPrediction joined;
  REQUIRE(a.add_label(Label("e-4", 1, 140, 5), &joined) == LabelJoin::LabelOutcome::kJoined);
  REQUIRE(a.add_label(Label("e-9", 1, 150, 6), &joined) == LabelJoin::LabelOutcome::kEarly);
  a.advance(150, &unknown);

  auto changes = Changes(a);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].size() == 1);
  REQUIRE(changes[1].size() == 4);  // e-1, e-2 pending; e-4 joined; e-9 early
  // for_each_change consumes nothing: the checkpoint writes the same ids.
  CHECK(Changes(a) == changes);

  // Another instance takes partition 1.
  LabelJoin b(Settings());
  auto batch = (*store)->begin_checkpoint();
  REQUIRE(b.replace_partition(1, changes[1], batch).ok());
  REQUIRE((*store)->commit(batch).ok());
  CHECK(b.pending_size() == 2);
  CHECK(b.early_size() == 1);
  CHECK(b.records_of_partition(1) == 4);
  CHECK(b.records_of_partition(0) == 0);

  // A label for a prediction made on the first instance joins with what was served there.
  REQUIRE(b.add_label(Label("e-1", 1, 200, 10), &joined) == LabelJoin::LabelOutcome::kJoined);
  const PendingPrediction served = Prediction(1, 100, 1, 0.8);
  CHECK(joined.score == served.score);
  CHECK(joined.predicted == served.predicted);
  CHECK(joined.model_version == served.model_version);
  CHECK(joined.entity == served.entity);
  CHECK(joined.x.dense == served.x.dense);
  CHECK(joined.x.present == served.x.present);
  CHECK(joined.x.sparse_index == served.x.sparse_index);
  CHECK(joined.x.sparse_value == served.x.sparse_value);
  CHECK(joined.probabilities == served.probabilities);
  CHECK(joined.partition == 1);
  // The id joined there is a duplicate here; the early label joins its event when it comes.
  CHECK(b.add_label(Label("e-4", 1, 210, 11), &joined) == LabelJoin::LabelOutcome::kDuplicate);
  auto early = b.add_prediction("e-9", Prediction(1, 160, 12, 0.9));
  REQUIRE(early);
  CHECK(early->payload == Label("e-9", 1, 150, 6).payload);
  // Partition 0's prediction stayed behind: here its label is early, not joined.
  CHECK(b.add_label(Label("e-3", 0, 220, 13), &joined) == LabelJoin::LabelOutcome::kEarly);

  // The store has what the join has: a restart there restores the same partition.
  LabelJoin restarted(Settings());
  REQUIRE(restarted.restore(**store).ok());
  CHECK(restarted.pending_size() == 2);
  CHECK(restarted.records_of_partition(1) == 4);
}

TEST_CASE("a label join id that is gone goes to the changelog as an empty record, which a restore skips",
          "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  LabelJoin a(Settings());
  std::vector<EarlyLabel> unknown;
  PendingPrediction joined;
  REQUIRE(a.add_label(Label("x-1", 2, 100, 1), &joined) == LabelJoin::LabelOutcome::kEarly);
  auto batch = (*store)->begin_checkpoint();
  a.checkpoint(batch);  // the early label, checkpointed
  REQUIRE((*store)->commit(batch).ok());
  CHECK(Changes(a).empty());
  a.advance(5000, &unknown);  // beyond labels.early_ttl: dead-lettered, and gone
  REQUIRE(unknown.size() == 1);
  auto changes = Changes(a);
  REQUIRE(changes[2].size() == 1);
  CHECK(changes[2].at("x-1").empty());

  LabelJoin b(Settings());
  auto into = (*store)->begin_checkpoint();
  REQUIRE(b.replace_partition(2, changes[2], into).ok());
  CHECK(b.early_size() == 0);
  CHECK(b.records_of_partition(2) == 0);
}

TEST_CASE("a revoked partition's label join records are dropped here and in the store, and records without a partition "
          "stay", "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  {
    // A pending prediction as records were written before they had a partition.
    std::string old;
    ByteWriter w(&old);
    w.u8('P');
    w.i64(50);
    w.u64(1);
    w.f64(0.5);
    w.u8(1);
    w.u64(1);
    w.str("u-old");
    w.u32(0);  // dense
    w.u32(0);  // sparse
    w.u32(0);  // probabilities
    auto batch = (*store)->begin_checkpoint();
    batch.put_pending("e-old", old);
    REQUIRE((*store)->commit(batch).ok());
  }
  LabelJoin join(Settings());
  REQUIRE(join.restore(**store).ok());
  REQUIRE(join.pending_size() == 1);
  CHECK(join.records_of_partition(-1) == 1);
  REQUIRE_FALSE(join.add_prediction("e-1", Prediction(0, 100, 2, 0.5)));
  REQUIRE_FALSE(join.add_prediction("e-2", Prediction(3, 100, 3, 0.5)));
  PendingPrediction joined;
  REQUIRE(join.add_label(Label("e-2", 3, 110, 4), &joined) == LabelJoin::LabelOutcome::kJoined);
  REQUIRE(join.add_label(Label("e-7", 3, 110, 5), &joined) == LabelJoin::LabelOutcome::kEarly);
  {
    auto batch = (*store)->begin_checkpoint();
    join.checkpoint(batch);
    REQUIRE((*store)->commit(batch).ok());
  }
  auto batch = (*store)->begin_checkpoint();
  CHECK(join.drop_partitions_except({0}, batch) == 2);  // e-2's tombstone and e-7
  REQUIRE((*store)->commit(batch).ok());
  CHECK(join.records_of_partition(3) == 0);
  CHECK(join.pending_size() == 2);  // e-old and e-1
  // A label for an id of the dropped partition is no duplicate here any more: not ours.
  CHECK(join.add_label(Label("e-2", 3, 120, 6), &joined) == LabelJoin::LabelOutcome::kEarly);

  LabelJoin restarted(Settings());
  REQUIRE(restarted.restore(**store).ok());
  CHECK(restarted.pending_size() == 2);
  CHECK(restarted.records_of_partition(3) == 0);
  CHECK(restarted.records_of_partition(-1) == 1);
}

TEST_CASE("records of another instance whose sequence numbers collide with this one's keep their own age",
          "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  LabelJoin a(Settings());
  REQUIRE_FALSE(a.add_prediction("a-1", Prediction(1, 100, 7, 0.5)));
  LabelJoin b(Settings());
  REQUIRE_FALSE(b.add_prediction("b-1", Prediction(0, 100, 7, 0.5)));  // the same (time, sequence)
  auto batch = (*store)->begin_checkpoint();
  REQUIRE(b.replace_partition(1, Changes(a)[1], batch).ok());
  CHECK(b.pending_size() == 2);
  // The next local one at that age again: all three wait, then all three expire.
  REQUIRE_FALSE(b.add_prediction("b-2", Prediction(0, 100, 8, 0.5)));
  std::vector<EarlyLabel> unknown;
  b.advance(100 + Settings().ttl_ms, &unknown);
  CHECK(b.pending_size() == 3);
  b.advance(101 + Settings().ttl_ms, &unknown);
  CHECK(b.pending_size() == 0);
  CHECK(b.counts().expired == 3);
  PendingPrediction joined;
  CHECK(b.add_label(Label("a-1", 1, 20000, 9), &joined) == LabelJoin::LabelOutcome::kLate);
}

TEST_CASE("an unreadable label join record on the changelog is refused, naming its id", "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  LabelJoin join(Settings());
  auto batch = (*store)->begin_checkpoint();
  Status st = join.replace_partition(1, Records{{"e-1", "Zgarbage"}}, batch);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("'e-1'") != std::string::npos);
  // A record of another partition than the one restored is not taken either.
  LabelJoin a(Settings());
  REQUIRE_FALSE(a.add_prediction("e-2", Prediction(0, 100, 1, 0.5)));
  CHECK_FALSE(join.replace_partition(1, Changes(a)[0], batch).ok());
}

TEST_CASE("a label join record's changelog key is told apart from entities and the offset marker",
          "[labels][partition_state]") {
  const std::string key = LabelJoinKey("e-1");
  CHECK(IsLabelJoinKey(key));
  CHECK(IdOfLabelJoinKey(key) == "e-1");
  CHECK(key.size() == 7 + 3);
  CHECK(key.front() == '\0');  // no entity starts with a NUL byte
  CHECK_FALSE(IsLabelJoinKey(OffsetMarkerKey()));
  CHECK_FALSE(IsLabelJoinKey("label:e-1"));
  CHECK_FALSE(IsLabelJoinKey("u1"));
}

TEST_CASE("scale.changelog_labels: on by default, off when set, a wrong value names the key", "[labels][config]") {
  auto on = ParseConfig("kafka: {group_id: g}\n", "t.yaml", Environment{});
  REQUIRE(on.ok());
  CHECK(on->scale.changelog_labels);
  auto off = ParseConfig("scale: {changelog_labels: false}\n", "t.yaml", Environment{});
  REQUIRE(off.ok());
  CHECK_FALSE(off->scale.changelog_labels);
  auto bad = ParseConfig("scale: {changelog_labels: maybe}\n", "t.yaml", Environment{});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.changelog_labels") != std::string::npos);
}

TEST_CASE("on an instance that saw no event yet, a label joining a prediction that came with its partition is "
          "remembered from the label's time", "[labels][partition_state]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  LabelJoin a(Settings());
  REQUIRE_FALSE(a.add_prediction("e-1", Prediction(1, 100, 1, 0.5)));
  LabelJoin fresh(Settings());
  auto batch = (*store)->begin_checkpoint();
  REQUIRE(fresh.replace_partition(1, Changes(a)[1], batch).ok());
  PendingPrediction joined;
  std::vector<EarlyLabel> unknown;
  REQUIRE(fresh.add_label(Label("e-1", 1, 5000, 2), &joined) == LabelJoin::LabelOutcome::kJoined);
  fresh.advance(5000, &unknown);
  fresh.advance(12000, &unknown);  // within labels.ttl of the label, not of time 0
  CHECK(fresh.add_label(Label("e-1", 1, 12000, 3), &joined) == LabelJoin::LabelOutcome::kDuplicate);
}

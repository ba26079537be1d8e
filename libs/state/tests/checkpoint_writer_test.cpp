#include <catch2/catch.hpp>

#include "streamlearn/state/checkpoint_writer.hpp"
#include "streamlearn/state/store.hpp"
#include "temp_dir.hpp"

using namespace streamlearn;
using namespace streamlearn::state;
using streamlearn::state::testing::TempDir;

TEST_CASE("the checkpoint writer writes batches in turn while the caller reads the store", "[state]") {
  TempDir dir;
  auto opened = StateStore::Open(dir.str("a"));
  REQUIRE(opened.ok());
  StateStore& store = **opened;
  CheckpointWriter writer;
  CHECK_FALSE(writer.busy());
  CHECK(writer.take().ok());  // nothing started

  for (int round = 0; round < 3; ++round) {
    CheckpointBatch batch = store.begin_checkpoint();
    for (int i = 0; i < 100; ++i) batch.put_entity("e" + std::to_string(i), "round-" + std::to_string(round));
    batch.put_offset({"events", 0}, 1000 + round);
    writer.start(store, batch);
    CHECK(writer.busy());
    // Reads beside the write see the previous round whole or this one whole.
    std::vector<std::string_view> keys = {"e0", "e99"};
    std::vector<std::optional<std::string>> values;
    REQUIRE(store.get_entities(keys, &values).ok());
    if (round > 0) CHECK(values[0].has_value());
    writer.wait();
    CHECK(writer.done());
    CHECK(writer.busy());  // until its result is taken
    REQUIRE(writer.take().ok());
    CHECK_FALSE(writer.busy());
    CHECK(batch.count() == 0);  // written: StateStore::commit clears it
    REQUIRE(store.get_entities(keys, &values).ok());
    CHECK(values[0] == "round-" + std::to_string(round));
    CHECK(values[1] == "round-" + std::to_string(round));
    auto offsets = store.offsets();
    REQUIRE(offsets.ok());
    CHECK(offsets->at({"events", 0}) == 1000 + round);
  }
}

TEST_CASE("the checkpoint writer hands back a refused write with its batch kept", "[state]") {
  TempDir dir;
  auto a = StateStore::Open(dir.str("a"));
  auto b = StateStore::Open(dir.str("b"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CheckpointBatch batch = (*a)->begin_checkpoint();
  batch.put_entity("u", "s");
  CheckpointWriter writer;
  writer.start(**b, batch);  // a batch of another store: refused
  Status refused = writer.take();
  CHECK_FALSE(refused.ok());
  CHECK(writer.take().ok());  // taken once
  CHECK(batch.count() == 1);
  writer.start(**a, batch);  // the same batch again, to its own store
  CHECK(writer.take().ok());
  CHECK(batch.count() == 0);
}

TEST_CASE("a checkpoint writer destroyed during a write finishes it first", "[state]") {
  TempDir dir;
  auto opened = StateStore::Open(dir.str("a"));
  REQUIRE(opened.ok());
  CheckpointBatch batch = (*opened)->begin_checkpoint();
  batch.put_model("m", "bytes");
  {
    CheckpointWriter writer;
    writer.start(**opened, batch);
  }
  auto model = (*opened)->get_model("m");
  REQUIRE(model.ok());
  CHECK(*model == std::optional<std::string>("bytes"));
}

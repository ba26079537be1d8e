#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <rocksdb/db.h>

#include "streamlearn/state/store.hpp"
#include "temp_dir.hpp"

using namespace streamlearn;
using namespace streamlearn::state;
namespace fs = std::filesystem;
using streamlearn::state::testing::TempDir;

TEST_CASE("a checkpoint round trips entities, models and offsets across a reopen", "[state]") {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.str());
    REQUIRE(store.ok());
    auto batch = (*store)->begin_checkpoint();
    batch.put_entity("u1", "state-1");
    batch.put_entity("u2", "state-2");
    batch.put_model("logreg", "snapshot-bytes");
    batch.put_offset({"events", 0}, 100);
    batch.put_offset({"events", 3}, 7);
    REQUIRE(batch.count() == 5);
    REQUIRE((*store)->commit(batch).ok());
  }
  auto store = StateStore::Open(dir.str());
  REQUIRE(store.ok());
  std::vector<std::optional<std::string>> values;
  REQUIRE((*store)->get_entities({"u1", "nobody", "u2"}, &values).ok());
  CHECK(values[0] == "state-1");
  CHECK_FALSE(values[1].has_value());
  CHECK(values[2] == "state-2");
  auto model = (*store)->get_model("logreg");
  REQUIRE(model.ok());
  CHECK(model->value() == "snapshot-bytes");
  CHECK_FALSE((*store)->get_model("other")->has_value());
  auto offsets = (*store)->offsets();
  REQUIRE(offsets.ok());
  CHECK(offsets->size() == 2);
  CHECK(offsets->at({"events", 0}) == 100);
  CHECK(offsets->at({"events", 3}) == 7);
}

TEST_CASE("an uncommitted batch leaves no trace", "[state]") {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.str());
    REQUIRE(store.ok());
    auto batch = (*store)->begin_checkpoint();
    batch.put_entity("u1", "never-committed");
  }
  auto store = StateStore::Open(dir.str());
  std::vector<std::optional<std::string>> values;
  REQUIRE((*store)->get_entities({"u1"}, &values).ok());
  CHECK_FALSE(values[0].has_value());
}

TEST_CASE("a directory of another format version is refused, not reset", "[state]") {
  TempDir dir;
  { REQUIRE(StateStore::Open(dir.str()).ok()); }
  {  // Rewrite the format marker the way a future version of streamlearn would.
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "entities", "models", "offsets", "pending", "meta"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.str(), cfs, &handles, &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[5], "format_version", "99").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  auto reopened = StateStore::Open(dir.str());
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == ErrorCode::kFailedPrecondition);
  CHECK_THAT(reopened.status().message(), Catch::Contains("format version 99"));
  CHECK_THAT(reopened.status().message(), Catch::Contains(dir.str()));
}

TEST_CASE("a corrupted state directory is refused with what and where", "[state]") {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.str());
    REQUIRE(store.ok());
  }
  // Scramble the MANIFEST that CURRENT points to.
  std::ifstream current(dir.path / "CURRENT");
  std::string manifest;
  std::getline(current, manifest);
  REQUIRE_FALSE(manifest.empty());
  {
    std::fstream f(dir.path / manifest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << std::string(64, 'x');
  }
  auto store = StateStore::Open(dir.str());
  REQUIRE_FALSE(store.ok());
  CHECK_THAT(store.status().message(), Catch::Contains(dir.str()));
}

TEST_CASE("a directory that is not a streamlearn state is refused with its path", "[state]") {
  TempDir dir;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "CURRENT") << "MANIFEST-000001\n";
  auto store = StateStore::Open(dir.str());
  REQUIRE_FALSE(store.ok());
  CHECK_THAT(store.status().message(), Catch::Contains(dir.str()));
}

TEST_CASE("model versions are kept per model, in version order, across a reopen", "[state]") {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.str());
    REQUIRE(store.ok());
    auto batch = (*store)->begin_checkpoint();
    batch.put_model_version("fraud", 300, "v300");
    batch.put_model_version("fraud", 2, "v2");
    batch.put_model_version("fraud", 256, "v256");
    batch.put_model_version("fraud2", 1, "other model");
    batch.put_model_version("fraud", 7, "v7");
    REQUIRE((*store)->commit(batch).ok());
    auto second = (*store)->begin_checkpoint();
    second.delete_model_version("fraud", 7);
    second.put_model_version("fraud", 2, "v2 again");
    REQUIRE((*store)->commit(second).ok());
  }
  auto store = StateStore::Open(dir.str());
  REQUIRE(store.ok());
  auto versions = (*store)->model_versions("fraud");
  REQUIRE(versions.ok());
  using V = std::vector<std::pair<uint64_t, std::string>>;
  CHECK(*versions == V{{2, "v2 again"}, {256, "v256"}, {300, "v300"}});
  CHECK(*(*store)->model_versions("fraud2") == V{{1, "other model"}});
  CHECK((*store)->model_versions("fraud3")->empty());
  CHECK((*store)->model_versions("frau")->empty());
  // The registry is not a model of its own.
  CHECK((*store)->model_names()->empty());
}

// The model registry: versions kept in RocksDB (models.keep), rollback and promote applied
// by the processor as new versions, each published on the drift topic.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/runner.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-registry-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

struct MemorySink : JsonOutputSink {
  std::vector<std::string> predictions, drifts;
  Status prediction(std::string_view, std::string_view json) override {
    predictions.emplace_back(json);
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view) override { return Status::Ok(); }
  Status drift(std::string_view, std::string_view json) override {
    drifts.emplace_back(json);
    return Status::Ok();
  }
};

struct Stream {
  std::vector<std::string> keys, payloads;
  size_t next = 0;
  explicit Stream(uint64_t events) {
    SyntheticOptions o;
    o.events = events;
    o.invalid_share = 0;
    o.entities = 30;
    SyntheticSeaStream sea(o);
    std::string key, payload;
    bool valid;
    while (sea.next(&key, &payload, &valid)) {
      keys.push_back(key);
      payloads.push_back(payload);
    }
  }
  void feed(Processor& p, MemorySink& sink, size_t n) {
    std::vector<RawMessage> raw;
    for (size_t i = next; i < next + n; ++i) {
      raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, keys[i], payloads[i]});
    }
    next += n;
    REQUIRE(p.process(raw, sink).ok());
  }
};

void Checkpoint(Processor& p, state::StateStore& store) {
  auto batch = store.begin_checkpoint();
  p.checkpoint(batch);
  REQUIRE(store.commit(batch).ok());
}

std::vector<uint64_t> Kept(state::StateStore& store, const std::string& name) {
  std::vector<uint64_t> out;
  auto versions = store.model_versions(name);
  REQUIRE(versions.ok());
  for (const auto& kept : *versions) out.push_back(kept.first);
  return out;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("rollback and promote make new versions, kept up to models.keep and published", "[registry]") {
  TempDir dir;
  auto config = DefaultConfig([](const char*) -> const char* { return nullptr; });
  REQUIRE(config.ok());
  config->state.dir = dir.path.string();
  config->drift.action = DriftAction::kNone;  // versions change only on request here
  config->models.keep = 3;
  config->challengers["fast"] = {{"learning_rate", "0.05"}};
  config->challengers["tree"] = {{"type", "hoeffding_tree"}};
  const std::string champion = config->model.name;
  auto store = state::StateStore::Open(config->state.dir);
  REQUIRE(store.ok());
  Stream stream(6000);
  MemorySink sink;
  {
    auto processor = Processor::Create(*config, store->get(), nullptr);
    REQUIRE(processor.ok());
    Processor& p = **processor;
    stream.feed(p, sink, 1000);

    // Nothing is kept before the first checkpoint; nothing before version 1 either.
    auto nothing = p.apply({ModelCommand::Kind::kRollback, champion, std::nullopt}, sink);
    REQUIRE_FALSE(nothing.ok());
    CHECK(nothing.status().code() == ErrorCode::kNotFound);
    Checkpoint(p, **store);
    CHECK(Kept(**store, champion) == std::vector<uint64_t>{1});
    const uint64_t trained_v1 = p.stats().model_trained;

    // Promote: the challenger's model becomes version 2 of the champion.
    const size_t drifts_before = sink.drifts.size();
    auto promoted = p.apply({ModelCommand::Kind::kPromote, "fast", std::nullopt}, sink);
    REQUIRE(promoted.ok());
    CHECK(Contains(*promoted, R"("version":2)"));
    CHECK(p.stats().model_version == 2);
    REQUIRE(sink.drifts.size() == drifts_before + 1);
    CHECK(Contains(sink.drifts.back(), R"({"type":"model_change","model":")" + champion +
                                           R"(","action":"promote","version":2,"previous_version":1,"challenger":"fast")"));
    // From now on the champion predicts what the challenger predicted: its describe says
    // its learning rate is still the champion's (the settings stay; the weights move).
    CHECK(Contains(p.models_json(), R"("kept_versions":[1])"));

    // Another type cannot be promoted; an unknown name is not found.
    auto tree = p.apply({ModelCommand::Kind::kPromote, "tree", std::nullopt}, sink);
    REQUIRE_FALSE(tree.ok());
    CHECK(tree.status().code() == ErrorCode::kFailedPrecondition);
    CHECK(Contains(tree.status().message(), "hoeffding_tree"));
    CHECK(p.apply({ModelCommand::Kind::kPromote, "nope", std::nullopt}, sink).status().code() == ErrorCode::kNotFound);
    CHECK(p.apply({ModelCommand::Kind::kRollback, "fast", std::nullopt}, sink).status().code() == ErrorCode::kNotFound);

    stream.feed(p, sink, 1000);
    Checkpoint(p, **store);
    CHECK(Kept(**store, champion) == std::vector<uint64_t>{1, 2});

    // Rollback without a version: to the latest kept one before the current, version 1.
    auto rolled = p.apply({ModelCommand::Kind::kRollback, champion, std::nullopt}, sink);
    REQUIRE(rolled.ok());
    CHECK(Contains(*rolled, R"("version":3,"previous_version":2,"restored_version":1)"));
    CHECK(p.stats().model_version == 3);
    CHECK(p.stats().model_trained == trained_v1);  // exactly the state version 1 was kept in
    CHECK(Contains(sink.drifts.back(), R"("action":"rollback","version":3,"previous_version":2,"restored_version":1)"));

    // To a version that is not kept: the reason lists the kept ones.
    auto missing = p.apply({ModelCommand::Kind::kRollback, champion, 9}, sink);
    REQUIRE_FALSE(missing.ok());
    CHECK(Contains(missing.status().message(), "kept: 1, 2"));
    CHECK(Contains(missing.status().message(), "kept: 1, 2;"));  // version 2 stored and pending: named once
    CHECK(p.apply({ModelCommand::Kind::kRollback, champion, 3}, sink).status().code() == ErrorCode::kInvalidArgument);

    // Back to 2, then the oldest beyond models.keep = 3 goes at the checkpoint.
    auto to2 = p.apply({ModelCommand::Kind::kRollback, champion, 2}, sink);
    REQUIRE(to2.ok());
    CHECK(p.stats().model_version == 4);
    stream.feed(p, sink, 500);
    Checkpoint(p, **store);
    CHECK(Kept(**store, champion) == std::vector<uint64_t>{2, 3, 4});
  }
  // After a restart the kept versions are known and the current one is 4.
  auto again = Processor::Create(*config, store->get(), nullptr);
  REQUIRE(again.ok());
  CHECK((*again)->stats().model_version == 4);
  CHECK(Contains((*again)->models_json(), R"("kept_versions":[2,3,4])"));
  auto back = (*again)->apply({ModelCommand::Kind::kRollback, champion, std::nullopt}, sink);
  REQUIRE(back.ok());
  CHECK(Contains(*back, R"("version":5,"previous_version":4,"restored_version":3)"));
}

TEST_CASE("GET /v1/models and /v1/models/{name} say what each model is", "[registry]") {
  auto config = DefaultConfig([](const char*) -> const char* { return nullptr; });
  REQUIRE(config.ok());
  config->challengers["tree"] = {{"type", "hoeffding_tree"}};
  auto processor = Processor::Create(*config, nullptr, nullptr);
  REQUIRE(processor.ok());
  Stream stream(500);
  MemorySink sink;
  stream.feed(**processor, sink, 500);
  const std::string models = (*processor)->models_json();
  CHECK(Contains(models, R"({"champion":")" + config->model.name + R"(","models":[{"name":")" + config->model.name +
                             R"(","role":"champion","type":"logistic","version":1,"trained":500,)"));
  CHECK(Contains(models, R"({"name":"tree","role":"challenger","type":"hoeffding_tree","version":1,"trained":500,)"));
  CHECK(Contains(models, R"("metrics":{"accuracy":)"));
  CHECK(Contains(models, R"("memory_bytes":)"));
  auto champion = (*processor)->model_json(config->model.name);
  REQUIRE(champion.ok());
  CHECK(*champion == (*processor)->describe_json());
  auto tree = (*processor)->model_json("tree");
  REQUIRE(tree.ok());
  CHECK(Contains(*tree, R"({"role":"challenger","figures":{"name":"tree","trained":500,)"));
  CHECK(Contains(*tree, R"("learner":)"));
  CHECK((*processor)->model_json("nope").status().code() == ErrorCode::kNotFound);
}

TEST_CASE("ParseModelCommand reads the registry's request bodies", "[registry]") {
  auto plain = ParseModelCommand("m", "rollback", "");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->version.has_value());
  CHECK(ParseModelCommand("m", "rollback", " { } ").ok());
  auto v = ParseModelCommand("m", "rollback", R"({ "version" : 12 })");
  REQUIRE(v.ok());
  CHECK(v->kind == ModelCommand::Kind::kRollback);
  CHECK(v->version == 12u);
  auto promote = ParseModelCommand("fast", "promote", "{}");
  REQUIRE(promote.ok());
  CHECK(promote->kind == ModelCommand::Kind::kPromote);
  CHECK(promote->model == "fast");
  CHECK_FALSE(ParseModelCommand("m", "rollback", R"({"version":0})").ok());
  CHECK_FALSE(ParseModelCommand("m", "rollback", R"({"version":-1})").ok());
  CHECK_FALSE(ParseModelCommand("m", "rollback", R"({"version":"2"})").ok());
  CHECK_FALSE(ParseModelCommand("m", "rollback", R"({"ver":2})").ok());
  CHECK_FALSE(ParseModelCommand("m", "rollback", "[]").ok());
  CHECK_FALSE(ParseModelCommand("fast", "promote", R"({"version":2})").ok());
  CHECK_FALSE(ParseModelCommand("m", "retrain", "").ok());
}

// POST /v1/predict over a real socket, answered from the snapshot a real Processor
// publishes: the answer must be what the stream predicts for the same event at that moment.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/predict.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
using streamlearn::http::testing::HttpClient;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-predict-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

struct MemorySink : JsonOutputSink {
  std::vector<std::string> predictions;
  Status prediction(std::string_view, std::string_view json) override {
    predictions.emplace_back(json);
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view) override { return Status::Ok(); }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
};

// The text of a field's value in one flat JSON object ("score":0.25, → "0.25").
std::string FieldText(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const auto at = json.find(key);
  if (at == std::string::npos) return "<missing " + name + ">";
  const auto begin = at + key.size();
  const auto end = json.find_first_of(",}", begin);
  return json.substr(begin, end - begin);
}

struct Stream {
  std::vector<std::string> keys, payloads;
  explicit Stream(uint64_t events) {
    SyntheticOptions o;
    o.events = events;
    o.invalid_share = 0;
    o.entities = 40;
    o.change_at = {1500};
    SyntheticSeaStream sea(o);
    std::string key, payload;
    bool valid;
    while (sea.next(&key, &payload, &valid)) {
      keys.push_back(key);
      payloads.push_back(payload);
    }
  }
  // Processes messages [begin, end) as one batch.
  void feed(Processor& p, MemorySink& sink, size_t begin, size_t end) const {
    std::vector<RawMessage> raw;
    for (size_t i = begin; i < end; ++i) {
      raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, keys[i], payloads[i]});
    }
    REQUIRE(p.process(raw, sink).ok());
  }
};

PipelineConfig TestConfig(const fs::path& dir) {
  auto config = DefaultConfig([](const char*) -> const char* { return nullptr; });
  REQUIRE(config.ok());
  config->state.dir = dir.string();
  config->http.predict_refresh_ms = 10;
  return *config;
}

}  // namespace

TEST_CASE("POST /v1/predict answers what the stream predicts for the next event", "[predict]") {
  TempDir dir;
  const PipelineConfig config = TestConfig(dir.path);
  auto store = state::StateStore::Open(config.state.dir);
  REQUIRE(store.ok());
  auto processor = Processor::Create(config, store->get(), nullptr);
  REQUIRE(processor.ok());
  Processor& p = **processor;
  MemorySink sink;
  const Stream stream(2100);
  // Some entities' states are checkpointed (read from the store), later ones only in memory
  // (copied into the snapshot).
  stream.feed(p, sink, 0, 1000);
  state::CheckpointBatch batch = (*store)->begin_checkpoint();
  p.checkpoint(batch);
  REQUIRE((*store)->commit(batch).ok());
  stream.feed(p, sink, 1000, 2000);

  SnapshotBoard board;
  auto predictor = Predictor::Create(config, &board, store->get());
  REQUIRE(predictor.ok());
  http::AdminHooks hooks;
  hooks.predict = [&](const http::Request& r) { return http::JsonResponse((*predictor)->predict(r.body)); };
  auto server = http::HttpServer::Start("127.0.0.1", 0, http::AdminRoutes(std::move(hooks)));
  REQUIRE(server.ok());
  HttpClient client((*server)->port());

  SECTION("event by event, across a concept change") {
    for (size_t i = 2000; i < 2100; ++i) {
      board.publish(p.predict_snapshot(1700000000000));
      const auto reply = client.send("POST", "/v1/predict", stream.payloads[i]);
      REQUIRE(reply.status == 200);
      REQUIRE(reply.header("content-type") == "application/json");
      const size_t before = sink.predictions.size();
      stream.feed(p, sink, i, i + 1);
      REQUIRE(sink.predictions.size() == before + 1);
      const std::string& streamed = sink.predictions.back();
      INFO("event " << i << ": predicted " << reply.body << ", streamed " << streamed);
      CHECK(FieldText(reply.body, "score") == FieldText(streamed, "score"));
      CHECK(FieldText(reply.body, "class") == FieldText(streamed, "class"));
      CHECK(FieldText(reply.body, "id") == FieldText(streamed, "id"));
      CHECK(FieldText(reply.body, "entity") == FieldText(streamed, "entity"));
      CHECK(FieldText(reply.body, "version") == FieldText(streamed, "version"));
    }
  }

  SECTION("an array gives an array, each as if sent alone; nothing is learned") {
    board.publish(p.predict_snapshot(1700000000000));
    std::string array = "[";
    std::vector<std::string> alone;
    for (size_t i = 2000; i < 2010; ++i) {
      if (i > 2000) array += ",\n ";
      array += stream.payloads[i];
      const auto reply = client.send("POST", "/v1/predict", stream.payloads[i]);
      REQUIRE(reply.status == 200);
      alone.push_back(reply.body);
    }
    array += "]";
    // Asked twice: the first answer changed nothing the second one reads.
    for (int round = 0; round < 2; ++round) {
      const auto reply = client.send("POST", "/v1/predict", array);
      REQUIRE(reply.status == 200);
      REQUIRE(reply.body.front() == '[');
      bool is_array = false;
      auto elements = SplitJsonArray(reply.body, &is_array);
      REQUIRE(elements.ok());
      REQUIRE(elements->size() == alone.size());
      for (size_t k = 0; k < alone.size(); ++k) {
        CHECK(FieldText(std::string((*elements)[k]), "score") == FieldText(alone[k], "score"));
      }
    }
    // The stream was not touched: its next prediction is what the snapshot said.
    const auto first = client.send("POST", "/v1/predict", stream.payloads[2000]);
    stream.feed(p, sink, 2000, 2001);
    CHECK(FieldText(first.body, "score") == FieldText(sink.predictions.back(), "score"));
  }

  SECTION("bad input is a 400 with the reason") {
    board.publish(p.predict_snapshot(1700000000000));
    auto reply = client.send("POST", "/v1/predict", R"({"entity":"u1","features":{"x1":1.5,"x2":)");
    CHECK(reply.status == 400);
    CHECK(reply.header("content-type") == "application/json");
    CHECK(reply.body.find("\"error\":") != std::string::npos);

    reply = client.send("POST", "/v1/predict",
                        R"([{"entity":"u1","features":{"x1":1,"x2":2,"x3":3}}, {"entity":"u1","features":[1,2]}])");
    CHECK(reply.status == 400);
    CHECK(reply.body.find("event 1: ") != std::string::npos);

    reply = client.send("POST", "/v1/predict", "[]");
    CHECK(reply.status == 400);
    CHECK(reply.body.find("empty array") != std::string::npos);

    reply = client.send("POST", "/v1/predict", "[{\"features\":{\"x1\":1}}");
    CHECK(reply.status == 400);

    reply = client.send("GET", "/v1/predict");
    CHECK(reply.status == 405);
  }
}

TEST_CASE("POST /v1/predict is 503 until the stream has published a snapshot", "[predict]") {
  TempDir dir;
  const PipelineConfig config = TestConfig(dir.path);
  SnapshotBoard board;
  auto predictor = Predictor::Create(config, &board, nullptr);
  REQUIRE(predictor.ok());
  auto answer = (*predictor)->predict(R"({"features":{"x1":1,"x2":2,"x3":3}})");
  REQUIRE_FALSE(answer.ok());
  CHECK(answer.status().code() == ErrorCode::kUnavailable);
  CHECK(http::JsonResponse(answer).status == 503);
}

TEST_CASE("SplitJsonArray finds the top-level elements", "[predict]") {
  bool is_array = false;
  auto one = SplitJsonArray(R"( {"a":[1,2]} )", &is_array);
  REQUIRE(one.ok());
  CHECK_FALSE(is_array);
  auto many = SplitJsonArray(R"([ {"a":"],[\"x"} , {"b":{"c":[1]}} ])", &is_array);
  REQUIRE(many.ok());
  CHECK(is_array);
  REQUIRE(many->size() == 2);
  CHECK((*many)[0] == R"({"a":"],[\"x"})");
  CHECK((*many)[1] == R"({"b":{"c":[1]}})");
  CHECK_FALSE(SplitJsonArray("[1,,2]", &is_array).ok());
  CHECK_FALSE(SplitJsonArray("[1,2] x", &is_array).ok());
  CHECK_FALSE(SplitJsonArray("[1,2", &is_array).ok());
}

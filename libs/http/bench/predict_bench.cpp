// POST /v1/predict under load while the stream learns: one thread processes a synthetic
// stream through a real Processor (RocksDB checkpoints included) and publishes a predict
// snapshot every 100 ms; a client sends single-event requests over one keep-alive
// connection. Prints requests/s and the p50/p99 latency; asserts nothing about time.
//
//   predict_bench [requests (default 20000)] [array size (default 1)]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/predict.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
using Clock = std::chrono::steady_clock;

namespace {

struct NullSink : OutputSink {
  Status write(const PredictionRecord&) override { return Status::Ok(); }
  Status write(const ConceptDriftRecord&) override { return Status::Ok(); }
  Status write(const DataDriftRecord&) override { return Status::Ok(); }
  Status write(const ModelSwitchRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord&) override { return Status::Ok(); }
};

int Fail(const Status& st) {
  std::fprintf(stderr, "predict_bench: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t requests = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  const size_t array_size = argc > 2 ? std::max<size_t>(1, std::strtoul(argv[2], nullptr, 10)) : 1;
  const auto dir = std::filesystem::temp_directory_path() / ("sl-predict-bench-" + std::to_string(std::random_device{}()));
  auto config = DefaultConfig([](const char*) -> const char* { return nullptr; });
  if (!config.ok()) return Fail(config.status());
  config->state.dir = dir.string();
  auto store = state::StateStore::Open(config->state.dir);
  if (!store.ok()) return Fail(store.status());
  auto processor = Processor::Create(*config, store->get(), nullptr);
  if (!processor.ok()) return Fail(processor.status());

  SyntheticOptions o;
  o.events = 400000;
  o.invalid_share = 0;
  o.entities = 10000;
  SyntheticSeaStream sea(o);
  std::vector<std::string> keys, payloads;
  std::string key, payload;
  bool valid;
  while (sea.next(&key, &payload, &valid)) {
    keys.push_back(key);
    payloads.push_back(payload);
  }

  SnapshotBoard board;
  board.publish((*processor)->predict_snapshot(0));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> streamed{0}, snapshots{0};
  // The stream: batches of 500, a checkpoint every second, a snapshot every 100 ms.
  std::thread learner([&] {
    NullSink sink;
    std::vector<RawMessage> raw;
    auto last_checkpoint = Clock::now(), last_snapshot = Clock::now();
    for (size_t i = 0; !stop.load(); i = (i + 500) % payloads.size()) {
      raw.clear();
      for (size_t j = i; j < std::min(i + 500, payloads.size()); ++j) {
        raw.push_back({{"events", 0, static_cast<int64_t>(j), 1700000000000}, keys[j], payloads[j]});
      }
      if (!(*processor)->process(raw, sink).ok()) return;
      streamed += raw.size();
      const auto now = Clock::now();
      if (now - last_snapshot >= std::chrono::milliseconds(100)) {
        board.publish((*processor)->predict_snapshot(0));
        snapshots++;
        last_snapshot = now;
      }
      if (now - last_checkpoint >= std::chrono::seconds(1)) {
        state::CheckpointBatch batch = (*store)->begin_checkpoint();
        (*processor)->checkpoint(batch);
        if (!(*store)->commit(batch).ok()) return;
        last_checkpoint = now;
      }
    }
  });

  auto predictor = Predictor::Create(*config, &board, store->get());
  if (!predictor.ok()) return Fail(predictor.status());
  http::AdminHooks hooks;
  hooks.predict = [&](const http::Request& r) { return http::JsonResponse((*predictor)->predict(r.body)); };
  auto server = http::HttpServer::Start("127.0.0.1", 0, http::AdminRoutes(std::move(hooks)));
  if (!server.ok()) return Fail(server.status());

  std::vector<double> latencies_us;
  latencies_us.reserve(requests);
  size_t failures = 0;
  {
    http::testing::HttpClient client((*server)->port());
    const auto begin = Clock::now();
    for (size_t r = 0; r < requests; ++r) {
      std::string body;
      if (array_size > 1) body.push_back('[');
      for (size_t k = 0; k < array_size; ++k) {
        if (k > 0) body.push_back(',');
        body += payloads[(r * array_size + k) % payloads.size()];
      }
      if (array_size > 1) body.push_back(']');
      const auto t0 = Clock::now();
      const auto reply = client.send("POST", "/v1/predict", std::move(body));
      latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (reply.status != 200) failures++;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    stop = true;
    learner.join();
    std::sort(latencies_us.begin(), latencies_us.end());
    auto at = [&](double q) { return latencies_us[static_cast<size_t>(q * static_cast<double>(latencies_us.size() - 1))]; };
    std::printf("predict_bench: %zu requests of %zu event(s) in %.2f s while the stream learned %llu events "
                "(%llu snapshots)\n",
                requests, array_size, seconds, static_cast<unsigned long long>(streamed.load()),
                static_cast<unsigned long long>(snapshots.load()));
    std::printf("  %.0f requests/s, %.0f events/s predicted; latency p50 %.0f us, p99 %.0f us, max %.0f us; "
                "%zu non-200\n",
                static_cast<double>(requests) / seconds, static_cast<double>(requests * array_size) / seconds, at(0.5),
                at(0.99), latencies_us.back(), failures);
  }
  server->reset();
  predictor->reset();
  processor->reset();
  store->reset();
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}

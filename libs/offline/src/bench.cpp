#include "streamlearn/offline/bench.hpp"

#include <fmt/format.h>
#include <prometheus/registry.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Consume `events` messages from `in` and produce each payload unchanged to `out`; the
// clock starts at the first message so the group join (~3 s on the mock) is not counted.
Result<double> PassThrough(const std::string& bootstrap, uint64_t events, kafka::MergeOptions::Order order) {
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
  if (!producer.ok()) return producer.status();
  SL_RETURN_IF_ERROR((*producer)->warm_up({"bench-out"}, 10000));  // as the service does its outputs
  kafka::Properties consumer_props = kafka::ConsumerQueueDefaults();  // the service's queue settings
  consumer_props.insert({{"bootstrap.servers", bootstrap},
                         {"group.id", order == kafka::MergeOptions::Order::kArrival ? "bench-passthrough-arrival"
                                                                                   : "bench-passthrough-merged"},
                         {"auto.offset.reset", "earliest"},
                         {"enable.auto.commit", "false"},
                         {"session.timeout.ms", "6000"},
                         {"fetch.wait.max.ms", "50"}});
  auto consumer = kafka::Consumer::Create(consumer_props, {});
  if (!consumer.ok()) return consumer.status();
  kafka::MergeOptions merge;
  merge.order = order;
  (*consumer)->set_merge(merge);
  SL_RETURN_IF_ERROR((*consumer)->subscribe({"bench-in"}));
  kafka::MessageBatch batch;
  uint64_t seen = 0;
  Clock::time_point first{};
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (seen < events && Clock::now() < deadline) {
    SL_RETURN_IF_ERROR((*consumer)->poll(1000, 100, &batch));
    if (!batch.empty() && first == Clock::time_point{}) first = Clock::now();
    for (const auto& m : batch.views()) SL_RETURN_IF_ERROR((*producer)->produce("bench-out", m.key, m.payload));
    seen += batch.size();
    (*producer)->poll();
  }
  SL_RETURN_IF_ERROR((*producer)->flush(60000));
  if (seen < events) return Status::Internal(fmt::format("pass-through read only {} of {} messages", seen, events));
  return static_cast<double>(seen) / std::chrono::duration<double>(Clock::now() - first).count();
}

}  // namespace

Result<BenchResult> RunBench(const BenchOptions& options, const std::function<void(const std::string&)>& print) {
  auto broker = kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return broker.status();
  const std::string bootstrap = (*broker)->bootstrap_servers();
  for (const char* topic : {"bench-in", "bench-out", "predictions", "drift", "dlq"}) {
    SL_RETURN_IF_ERROR((*broker)->create_topic(topic, options.partitions));
  }
  {  // The input is produced once, up front; both consumers read the same messages.
    SyntheticOptions synth;
    synth.events = options.events;
    synth.seed = options.seed;
    synth.invalid_share = 0;
    SyntheticSeaStream stream(synth);
    auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    if (!producer.ok()) return producer.status();
    std::string key, payload;
    bool valid = false;
    while (stream.next(&key, &payload, &valid)) SL_RETURN_IF_ERROR((*producer)->produce("bench-in", key, payload));
    SL_RETURN_IF_ERROR((*producer)->flush(60000));
    print(fmt::format("produced {} SEA events into {} partitions on the embedded broker", options.events,
                      options.partitions));
  }

  BenchResult result;
  // Pass-through in arrival order, then with the timestamp merge the pipeline uses (what
  // deterministic replays cost the consumer by itself).
  auto arrival = PassThrough(bootstrap, options.events, kafka::MergeOptions::Order::kArrival);
  if (!arrival.ok()) return arrival.status();
  print(fmt::format("bare pass-through, arrival order:  {:>10.0f} events/s", *arrival));
  auto pass = PassThrough(bootstrap, options.events, kafka::MergeOptions::Order::kTimestamp);
  if (!pass.ok()) return pass.status();
  result.passthrough_arrival_events_per_sec = *arrival;
  result.passthrough_events_per_sec = *pass;
  print(fmt::format("bare pass-through, timestamp merge: {:>10.0f} events/s ({:.2f}x arrival)", *pass, *pass / *arrival));

  PipelineConfig config;
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.group_id = "bench-pipeline";
  config.kafka.events_topic = "bench-in";
  config.http.enabled = false;
  config.state.dir = (std::filesystem::temp_directory_path() / fmt::format("streamlearn-bench-{}", std::random_device{}())).string();
  PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = KafkaRunner::Create(config, &probe);
  if (!runner.ok()) return runner.status();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread thread([&] { run_status = (*runner)->run(stop); });
  Clock::time_point first{};
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (Clock::now() < deadline && run_status.ok()) {
    auto s = (*runner)->status();
    if (first == Clock::time_point{} && s.processor.messages > 0) first = Clock::now();
    if (s.processor.messages >= options.events) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto end = Clock::now();
  stop = true;
  thread.join();
  std::error_code ec;
  std::filesystem::remove_all(config.state.dir, ec);
  SL_RETURN_IF_ERROR(run_status);
  auto s = (*runner)->status();
  if (s.processor.messages < options.events) {
    return Status::Internal(fmt::format("pipeline processed only {} of {} messages", s.processor.messages, options.events));
  }
  result.pipeline_events_per_sec = static_cast<double>(s.processor.messages) / std::chrono::duration<double>(end - first).count();
  result.ratio = result.pipeline_events_per_sec / result.passthrough_events_per_sec;
  print(fmt::format("streamlearn pipeline (decode, entity state, features, predict, produce, learn, checkpoint): "
                    "{:>10.0f} events/s", result.pipeline_events_per_sec));
  print(fmt::format("ratio pipeline / pass-through with the same merge: {:.2f}; / arrival pass-through: {:.2f}  "
                    "(accuracy {:.4f}, {} checkpoints)",
                    result.ratio, result.pipeline_events_per_sec / *arrival, s.processor.accuracy, s.checkpoints));
  return result;
}

}  // namespace streamlearn::pipeline

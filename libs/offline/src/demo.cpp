#include "streamlearn/offline/demo.hpp"

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "streamlearn/eval/sea_generator.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/probe.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// Produces the synthetic stream, waiting whenever the learner falls `max_lag` behind:
// the mock broker silently drops data past 5 MiB per partition, so no event may pile up.
Status ProduceThrottled(SyntheticSeaStream& stream, kafka::Producer& producer, const std::string& topic,
                        const KafkaRunner& runner, uint64_t max_lag, const std::atomic<bool>& stop) {
  std::string key, payload;
  bool valid = false;
  while (!stop.load() && stream.next(&key, &payload, &valid)) {
    SL_RETURN_IF_ERROR(producer.produce(topic, key, payload, {}, -1, stream.timestamp_ms(stream.produced() - 1)));
    if (stream.produced() % 1000 != 0) continue;
    producer.poll();
    while (!stop.load() && stream.produced() > runner.status().processor.messages + max_lag) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return producer.flush(30000);
}

}  // namespace

eval::DetectionScore ScoreDemoDetections(const DemoSummary& summary, uint64_t tolerance) {
  std::vector<uint64_t> fired;
  fired.reserve(summary.drifts.size());
  // `events` counts the firing event itself; its 0-based index is what a change's is.
  for (const DriftRecord& d : summary.drifts) fired.push_back(d.events > 0 ? d.events - 1 : 0);
  return eval::ScoreDetections(summary.change_events, std::move(fired), tolerance);
}

std::string SummaryToJson(const DemoSummary& s) {
  std::string out = fmt::format(
      R"({{"events_in":{},"predictions_out":{},"dlq":{},"invalid_produced":{},"accuracy":{},"majority_baseline":{},)"
      R"("events_per_sec":{:.1f},"seconds":{:.3f},"model_version":{},"changes":[{}],"change_events":[{}],"drifts":[)",
      s.events_in, s.predictions_out, s.dlq, s.invalid_produced, s.accuracy, s.majority_baseline, s.events_per_sec,
      s.seconds, s.model_version, fmt::join(s.changes, ","), fmt::join(s.change_events, ","));
  for (size_t i = 0; i < s.drifts.size(); ++i) {
    const DriftRecord& d = s.drifts[i];
    out += fmt::format(R"({}{{"events":{},"ts":{},"event_id":"{}","position":{}}})", i ? "," : "", d.events, d.ts_ms,
                       d.event_id, SyntheticPosition(d.event_id));
  }
  out += R"(],"detection":)";
  eval::AppendDetectionJson(out, s.detection);
  out += "}";
  return out;
}

Result<DemoSummary> RunDemo(const DemoOptions& options, const std::atomic<bool>& interrupted,
                            const std::function<void(KafkaRunner&)>& on_start,
                            const std::function<void(const std::string&)>& print,
                            const std::function<void()>& on_stop) {
  // The broker is new each time: offsets and counts kept from an earlier demo would not
  // match it (and the summary judges drifts by the count).
  std::error_code ec;
  if (!options.state_dir.empty() && std::filesystem::exists(options.state_dir, ec) &&
      !std::filesystem::is_empty(options.state_dir, ec)) {
    return Status::Invalid("--state-dir: " + options.state_dir +
                           " is not empty; the demo starts a fresh broker, so it needs fresh state");
  }
  auto broker = kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return broker.status();
  PipelineConfig config = options.config;
  config.kafka.bootstrap_servers = (*broker)->bootstrap_servers();
  for (const std::string& topic : {config.kafka.events_topic, config.kafka.predictions_topic, config.kafka.drift_topic,
                                   config.kafka.dlq_topic}) {
    SL_RETURN_IF_ERROR((*broker)->create_topic(topic, options.partitions));
  }
  print(fmt::format("embedded broker at {} with topics {}, {}, {}, {} ({} partitions each)",
                    config.kafka.bootstrap_servers, config.kafka.events_topic, config.kafka.predictions_topic,
                    config.kafka.drift_topic, config.kafka.dlq_topic, options.partitions));

  const bool temporary_state = options.state_dir.empty();
  config.state.dir = temporary_state
                         ? (std::filesystem::temp_directory_path() /
                            fmt::format("streamlearn-demo-{}-{}", options.seed, std::random_device{}()))
                               .string()
                         : options.state_dir;
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{temporary_state ? config.state.dir : std::string()};

  PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = KafkaRunner::Create(config, &probe);
  if (!runner.ok()) return runner.status();
  // Declared after the runner, so destroyed (and on_stop run) before it on every path.
  struct OnStop {
    const std::function<void()>& run;
    ~OnStop() {
      if (run) run();
    }
  } stop_guard{on_stop};
  if (on_start) on_start(**runner);

  SyntheticOptions synth;
  synth.events = options.events;
  synth.seed = options.seed;
  synth.entities = options.entities;
  synth.invalid_share = options.invalid_share;
  const uint64_t expected_valid = static_cast<uint64_t>(static_cast<double>(options.events) * (1 - options.invalid_share));
  synth.change_at = eval::EvenChanges(expected_valid, options.concepts);
  SyntheticSeaStream stream(synth);
  // One kind of invalid event has a class-name label, which the processor's log warns about
  // (with advice for a real stream): said here, so that a first run's warning is expected.
  const std::string on_purpose =
      options.invalid_share > 0 ? " (dead letters on purpose; the log's warning of a class-name label is one)" : "";
  print(fmt::format("stream: SEA, {} events, seed {}, {} entities, {:.1f}% invalid{}, concept changes at valid event {}",
                    Thousands(options.events), options.seed, options.entities, 100 * options.invalid_share, on_purpose,
                    fmt::join(synth.change_at, ", ")));

  auto producer = kafka::Producer::Create({{"bootstrap.servers", config.kafka.bootstrap_servers},
                                           {"linger.ms", "5"},
                                           {"enable.idempotence", "true"}});
  if (!producer.ok()) return producer.status();

  std::atomic<bool> stop_runner{false};
  std::atomic<bool> stop_producer{false};
  Status runner_status, producer_status;
  std::thread runner_thread([&] { runner_status = (*runner)->run(stop_runner); });
  std::thread producer_thread([&] {
    producer_status = ProduceThrottled(stream, **producer, config.kafka.events_topic, **runner, options.max_lag,
                                       stop_producer);
  });

  const Clock::time_point begin = Clock::now();
  Clock::time_point first_event{};
  uint64_t last_messages = 0;
  Clock::time_point last_tick = begin;
  RunnerStatus status;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = (*runner)->status();
    const auto now = Clock::now();
    if (first_event == Clock::time_point{} && status.processor.messages > 0) first_event = now;
    const bool done = status.processor.messages >= options.events;
    if (now - last_tick >= std::chrono::seconds(1) || done || interrupted.load()) {
      const double dt = std::chrono::duration<double>(now - last_tick).count();
      print(fmt::format("[{:6.1f}s] events {:>9}/{} | {:>8.0f} ev/s | lag {:>6} | accuracy {:.3f} (rolling {:.3f}) | "
                        "drifts {} | dlq {} | model v{}",
                        std::chrono::duration<double>(now - begin).count(), Thousands(status.processor.messages),
                        Thousands(options.events), static_cast<double>(status.processor.messages - last_messages) / dt,
                        status.lag, status.processor.accuracy, status.processor.rolling_accuracy,
                        status.processor.drifts.size(), status.processor.invalid, status.processor.model_version));
      last_messages = status.processor.messages;
      last_tick = now;
    }
    if (done || interrupted.load() || !runner_status.ok()) break;
  }
  const Clock::time_point end = Clock::now();
  stop_producer = true;
  producer_thread.join();
  stop_runner = true;
  runner_thread.join();
  SL_RETURN_IF_ERROR(runner_status);
  if (!interrupted.load()) SL_RETURN_IF_ERROR(producer_status);
  status = (*runner)->status();

  DemoSummary summary;
  summary.events_in = status.processor.messages;
  summary.predictions_out = status.processor.predictions;
  summary.dlq = status.processor.invalid;
  summary.invalid_produced = stream.invalid();
  summary.accuracy = status.processor.accuracy;
  summary.majority_baseline = status.processor.majority_baseline;
  summary.seconds = std::chrono::duration<double>(end - (first_event == Clock::time_point{} ? begin : first_event)).count();
  summary.events_per_sec = summary.seconds > 0 ? static_cast<double>(summary.events_in) / summary.seconds : 0;
  summary.changes = stream.change_messages();
  // Only the changes the stream reached (an interrupted demo stops early).
  summary.change_events.assign(synth.change_at.begin(),
                               synth.change_at.begin() + static_cast<std::ptrdiff_t>(summary.changes.size()));
  summary.drifts = status.processor.drifts;
  summary.detection = ScoreDemoDetections(summary, options.detection_tolerance);
  summary.model_version = status.processor.model_version;
  summary.bootstrap_servers = config.kafka.bootstrap_servers;
  return summary;
}

}  // namespace streamlearn::pipeline

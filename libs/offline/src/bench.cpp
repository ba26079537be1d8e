#include "streamlearn/offline/bench.hpp"

#include <fmt/format.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "kafka_ceiling.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The clients as the service configures them (runner.cpp), so that the ceiling and the
// pass-throughs measure what the pipeline could reach with the same settings.
kafka::Properties ServiceProducerProperties(const std::string& bootstrap) {
  return {{"bootstrap.servers", bootstrap},
          {"enable.idempotence", "true"},
          {"linger.ms", "5"},
          {"message.timeout.ms", "0"}};
}

kafka::Properties ServiceConsumerProperties(const std::string& bootstrap, const std::string& group,
                                            kafka::MergeOptions::Order order) {
  kafka::Properties props = kafka::ConsumerQueueDefaults(order);
  props.insert({{"bootstrap.servers", bootstrap},
                {"group.id", group},
                {"auto.offset.reset", "earliest"},
                {"enable.auto.commit", "false"},
                {"session.timeout.ms", "6000"},
                {"fetch.wait.max.ms", "50"}});
  return props;
}

// Consume `events` messages from `in` with our Consumer and produce each payload unchanged
// with our Producer; the clock starts at the first message so the group join (~3 s on the
// mock) is not counted, and stops when the last one is acknowledged.
Result<double> PassThrough(const std::string& bootstrap, uint64_t events, kafka::MergeOptions::Order order) {
  auto producer = kafka::Producer::Create(ServiceProducerProperties(bootstrap));
  if (!producer.ok()) return producer.status();
  SL_RETURN_IF_ERROR((*producer)->warm_up({"bench-out"}, 10000));  // as the service does its outputs
  const bool arrival = order == kafka::MergeOptions::Order::kArrival;
  auto consumer = kafka::Consumer::Create(
      ServiceConsumerProperties(bootstrap, arrival ? "bench-passthrough-arrival" : "bench-passthrough-merged", order),
      {});
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

// Which models a bench pipeline runs.
enum class BenchModels {
  kDefault,         // what `streamlearn run` gives a config that names no model (ApplyDefaultModels)
  kSingleLogistic,  // model.type: logistic alone, the cheapest classifier (drift action reset)
};

PipelineConfig BenchPipelineConfig(const std::string& bootstrap, const std::string& name,
                                   BenchModels models = BenchModels::kDefault) {
  PipelineConfig config;
  if (models == BenchModels::kSingleLogistic) {
    config.model.type = "logistic";
    config.model.type_given = true;
  }
  ApplyDefaultModels(config);
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.group_id = "bench-" + name;
  config.kafka.events_topic = "bench-in";
  config.kafka.predictions_topic = "predictions";
  config.http.enabled = false;
  config.state.dir =
      (std::filesystem::temp_directory_path() / fmt::format("streamlearn-bench-{}-{}", name, std::random_device{}()))
          .string();
  return config;
}

// The time processing waited for checkpoints so far, and their count (the probe's histogram).
std::pair<double, double> CheckpointHeld(const PipelineProbe& probe) {
  double sum = 0, count = 0;
  for (const auto& family : probe.registry()->Collect()) {
    if (family.name != "streamlearn_checkpoint_seconds") continue;
    for (const auto& metric : family.metric) {
      sum += metric.histogram.sample_sum;
      count += static_cast<double>(metric.histogram.sample_count);
    }
  }
  return {sum, count};
}

// The service on `config` until it processed `events`: events/s from its first message;
// *held_s: how long checkpoints held processing meanwhile.
// The changelog topic partitioned like the input, as a deployment creates it: the changelog
// is on by default, and on a topic the broker made with its own partition count the service
// would run without it (and say so), which is not the default pipeline.
Status CreateChangelogTopic(kafka::EmbeddedBroker& broker, const PipelineConfig& config, int partitions) {
  return broker.create_topic(ChangelogTopic(config), partitions);
}

Result<double> RunPipeline(kafka::EmbeddedBroker& broker, int partitions, const PipelineConfig& config,
                           uint64_t events, RunnerStatus* last, double* held_s) {
  SL_RETURN_IF_ERROR(CreateChangelogTopic(broker, config, partitions));
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
    if (s.processor.messages >= events) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto end = Clock::now();
  *held_s = CheckpointHeld(probe).first;
  stop = true;
  thread.join();
  *last = (*runner)->status();
  runner->reset();  // closes the state store first: RocksDB must not find its folder gone
  std::error_code ec;
  std::filesystem::remove_all(config.state.dir, ec);
  SL_RETURN_IF_ERROR(run_status);
  if (last->processor.messages < events) {
    return Status::Internal(fmt::format("pipeline processed only {} of {} messages", last->processor.messages, events));
  }
  return static_cast<double>(last->processor.messages) / std::chrono::duration<double>(end - first).count();
}

// The N of a prediction's "id":"e-N", or -1.
int64_t EventIndex(std::string_view prediction) {
  constexpr std::string_view kId = R"("id":"e-)";
  const size_t at = prediction.find(kId);
  if (at == std::string_view::npos) return -1;
  int64_t n = 0;
  size_t i = at + kId.size();
  if (i >= prediction.size() || prediction[i] < '0' || prediction[i] > '9') return -1;
  for (; i < prediction.size() && prediction[i] >= '0' && prediction[i] <= '9'; ++i) n = n * 10 + (prediction[i] - '0');
  return n;
}

// One latency run's settings.
struct LatencyRun {
  std::string name;  // topics bench-<name> and bench-<name>-predictions, the group, the trace file
  KafkaOrder order = KafkaOrder::kTimestamp;
  int commit_interval_ms = 0;  // 0: the service's default
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Events produced live at `rate` into "bench-<name>" while the service runs on it; each
// event's latency is from the producer's produce() call to the moment a consumer of the
// predictions topic holds its prediction: the whole way through the broker and back.
Status MeasureLatency(kafka::EmbeddedBroker& broker, const std::string& bootstrap, const BenchOptions& options,
                      double rate, const LatencyRun& run, LatencyFigures* result) {
  // The embedded broker answers an empty fetch only after fetch.wait.max.ms, even when data
  // arrives meanwhile (a real broker answers at once): waits of 1 ms keep that artefact out.
  PipelineConfig config = BenchPipelineConfig(bootstrap, run.name);
  config.kafka.order = run.order;
  config.kafka.events_topic = "bench-" + run.name;
  config.kafka.predictions_topic = config.kafka.events_topic + "-predictions";
  config.kafka.properties["fetch.wait.max.ms"] = "1";
  if (run.commit_interval_ms > 0) config.state.commit_interval_ms = run.commit_interval_ms;
  for (const auto& [key, value] : options.latency_properties) config.kafka.properties[key] = value;
  SL_RETURN_IF_ERROR(CreateChangelogTopic(broker, config, options.partitions));
  const double warmup_s = 0.5;
  const uint64_t total = static_cast<uint64_t>(rate * (warmup_s + options.latency_seconds));
  const uint64_t skipped = static_cast<uint64_t>(rate * warmup_s);

  PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = KafkaRunner::Create(config, &probe);
  if (!runner.ok()) return runner.status();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread pipeline([&] { run_status = (*runner)->run(stop); });

  // The reader of predictions: receive time per event index, and the prediction's Kafka
  // timestamp (the service's produce() call, wall clock in ms).
  std::vector<int64_t> received(total, -1), output_ms(total, -1);
  std::atomic<bool> reader_ready{false}, reader_stop{false};
  std::atomic<uint64_t> reader_seen{0};
  Status reader_status;
  std::thread reader([&] {
    kafka::Properties props = ServiceConsumerProperties(bootstrap, "bench-live-reader", kafka::MergeOptions::Order::kArrival);
    props["fetch.wait.max.ms"] = "1";
    props["group.id"] = config.kafka.group_id + "-reader";
    auto consumer = kafka::Consumer::Create(props, {});
    if (!consumer.ok()) {
      reader_status = consumer.status();
      return;
    }
    kafka::MergeOptions merge;
    merge.order = kafka::MergeOptions::Order::kArrival;
    (*consumer)->set_merge(merge);
    reader_status = (*consumer)->subscribe({config.kafka.predictions_topic});
    kafka::MessageBatch batch;
    while (reader_status.ok() && !reader_stop.load()) {
      reader_status = (*consumer)->poll(1000, 10, &batch);
      const int64_t now = Clock::now().time_since_epoch().count();
      for (const auto& m : batch.views()) {
        const int64_t n = EventIndex(m.payload);
        if (n >= 0 && static_cast<uint64_t>(n) < total && received[static_cast<size_t>(n)] < 0) {
          received[static_cast<size_t>(n)] = now;
          output_ms[static_cast<size_t>(n)] = m.timestamp_ms;
          reader_seen++;
        }
      }
      if (!reader_ready.load() && !(*consumer)->assignment().empty()) reader_ready = true;
    }
  });
  // When each checkpoint was counted (the runner publishes its status after each batch).
  std::vector<int64_t> checkpoint_times;
  std::atomic<bool> watch_stop{false};
  std::thread watcher([&] {
    uint64_t seen = (*runner)->status().checkpoints;
    while (!watch_stop.load()) {
      const uint64_t now_count = (*runner)->status().checkpoints;
      if (now_count != seen) {
        checkpoint_times.push_back(Clock::now().time_since_epoch().count());
        seen = now_count;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  auto wait_until = [](const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    while (!done() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return done();
  };
  Status status;
  if (!wait_until([&] { return (*runner)->status().assigned && reader_ready.load(); }, std::chrono::seconds(30))) {
    status = Status::Internal("latency run: the pipeline or the reader was not assigned its partitions in 30 s");
  }
  auto checkpoint_sum = [&] { return CheckpointHeld(probe); };
  const auto checkpoints_before = checkpoint_sum();

  std::vector<int64_t> sent(total, -1), sent_ms(total, -1);
  int64_t start_ns = 0;
  if (status.ok()) {
    // The client's producer: linger.ms 1, so that its own batching adds at most a millisecond.
    auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
    if (!producer.ok()) {
      status = producer.status();
    } else {
      status = (*producer)->warm_up({config.kafka.events_topic}, 10000);
      SyntheticOptions synth;
      synth.events = total;
      synth.seed = options.seed + 1;
      synth.invalid_share = 0;
      SyntheticSeaStream stream(synth);
      std::string key, payload;
      bool valid = false;
      const auto start = Clock::now();
      start_ns = start.time_since_epoch().count();
      uint64_t i = 0;
      while (status.ok() && i < total) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const uint64_t due = std::min<uint64_t>(total, static_cast<uint64_t>(elapsed * rate) + 1);
        for (; i < due && status.ok() && stream.next(&key, &payload, &valid); ++i) {
          sent[i] = Clock::now().time_since_epoch().count();
          sent_ms[i] = WallMs();
          status = (*producer)->produce(config.kafka.events_topic, key, payload);
        }
        (*producer)->poll();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      if (status.ok()) status = (*producer)->flush(10000);
      result->rate = static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  if (status.ok()) wait_until([&] { return reader_seen.load() >= total; }, std::chrono::seconds(30));
  const auto checkpoints_after = checkpoint_sum();
  watch_stop = true;
  watcher.join();
  reader_stop = true;
  reader.join();
  stop = true;
  pipeline.join();
  runner->reset();  // closes the state store first: RocksDB must not find its folder gone
  std::error_code ec;
  std::filesystem::remove_all(config.state.dir, ec);
  SL_RETURN_IF_ERROR(status);
  SL_RETURN_IF_ERROR(reader_status);
  SL_RETURN_IF_ERROR(run_status);

  std::vector<double> ms, to_output;
  for (uint64_t i = skipped; i < total; ++i) {
    if (sent[i] >= 0 && received[i] >= 0) {
      ms.push_back(static_cast<double>(received[i] - sent[i]) / 1e6);
      to_output.push_back(static_cast<double>(output_ms[i] - sent_ms[i]));
    }
  }
  const uint64_t expected = total - skipped;
  if (ms.size() < expected) {
    return Status::Internal(fmt::format("latency run: {} of {} predictions read", ms.size(), expected));
  }
  if (!options.latency_trace.empty()) {
    // Seconds since the first event: send time, latency (ms), up to the prediction's produce (ms).
    const std::string path = options.latency_trace + "." + run.name + ".tsv";
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr) return Status::IoError("cannot write " + path);
    std::fprintf(out, "# send_s\tlatency_ms\tto_output_ms (lines 'checkpoint\\t<s>': a checkpoint counted)\n");
    for (uint64_t i = 0; i < total; ++i) {
      if (sent[i] < 0 || received[i] < 0) continue;
      std::fprintf(out, "%.6f\t%.3f\t%lld\n", static_cast<double>(sent[i] - start_ns) / 1e9,
                   static_cast<double>(received[i] - sent[i]) / 1e6, static_cast<long long>(output_ms[i] - sent_ms[i]));
    }
    for (int64_t t : checkpoint_times) std::fprintf(out, "checkpoint\t%.6f\n", static_cast<double>(t - start_ns) / 1e9);
    std::fclose(out);
  }
  auto quantile = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  result->p50_ms = quantile(ms, 0.5);
  result->p99_ms = quantile(ms, 0.99);
  result->max_ms = ms.back();
  result->to_output_p50_ms = quantile(to_output, 0.5);
  result->to_output_p99_ms = quantile(to_output, 0.99);
  result->events = ms.size();
  const double pauses = checkpoints_after.second - checkpoints_before.second;
  result->checkpoints = static_cast<uint64_t>(pauses);
  result->checkpoint_pause_mean_ms =
      pauses > 0 ? 1000.0 * (checkpoints_after.first - checkpoints_before.first) / pauses : 0.0;
  return Status::Ok();
}

}  // namespace

Result<BenchResult> RunBench(const BenchOptions& options, const std::function<void(const std::string&)>& print) {
  auto broker = kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return broker.status();
  const std::string bootstrap = (*broker)->bootstrap_servers();
  for (const char* topic : {"bench-in", "bench-out", "bench-ceiling-out", "predictions", "drift", "dlq"}) {
    SL_RETURN_IF_ERROR((*broker)->create_topic(topic, options.partitions));
  }
  {  // The input is produced once, up front, with the stream's event times; every consumer reads the same messages.
    SyntheticOptions synth;
    synth.events = options.events;
    synth.seed = options.seed;
    synth.invalid_share = 0;
    SyntheticSeaStream stream(synth);
    auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    if (!producer.ok()) return producer.status();
    std::string key, payload;
    bool valid = false;
    for (uint64_t i = 0; stream.next(&key, &payload, &valid); ++i) {
      SL_RETURN_IF_ERROR((*producer)->produce("bench-in", key, payload, {}, -1, stream.timestamp_ms(i)));
    }
    SL_RETURN_IF_ERROR((*producer)->flush(60000));
    SL_RETURN_IF_ERROR(CheckNothingEvicted(bootstrap, "bench-in", options.partitions, options.events));
    print(fmt::format("produced {} SEA events into {} partitions on the embedded broker (all kept)", options.events,
                      options.partitions));
  }

  BenchResult result;
  // The ceiling is measured first and again after the pipeline runs (the first reader of a
  // topic was often the slowest on a loaded machine): the better of the two is the ceiling.
  auto ceiling_first = KafkaCeiling(
      ServiceConsumerProperties(bootstrap, "bench-ceiling", kafka::MergeOptions::Order::kArrival),
      ServiceProducerProperties(bootstrap), "bench-in", "bench-ceiling-out", options.events);
  if (!ceiling_first.ok()) return ceiling_first.status();
  print(fmt::format("librdkafka ceiling (batch consume + produce, the service's client settings), first run: "
                    "{:>10.0f} events/s",
                    *ceiling_first));
  // Our Consumer and Producer with nothing in between: in arrival order, then with the
  // timestamp merge the pipeline uses (what deterministic replays cost the consumer by itself).
  auto arrival = PassThrough(bootstrap, options.events, kafka::MergeOptions::Order::kArrival);
  if (!arrival.ok()) return arrival.status();
  auto pass = PassThrough(bootstrap, options.events, kafka::MergeOptions::Order::kTimestamp);
  if (!pass.ok()) return pass.status();
  result.passthrough_arrival_events_per_sec = *arrival;
  result.passthrough_events_per_sec = *pass;

  RunnerStatus merged_status, arrival_status;
  double merged_held_s = 0, arrival_held_s = 0;
  auto merged = RunPipeline(**broker, options.partitions, BenchPipelineConfig(bootstrap, "pipeline"), options.events, &merged_status, &merged_held_s);
  if (!merged.ok()) return merged.status();
  PipelineConfig arrival_config = BenchPipelineConfig(bootstrap, "pipeline-arrival");
  arrival_config.kafka.order = KafkaOrder::kArrival;
  auto arrival_pipeline = RunPipeline(**broker, options.partitions, arrival_config, options.events, &arrival_status, &arrival_held_s);
  if (!arrival_pipeline.ok()) return arrival_pipeline.status();
  // The cheapest classifier the service runs, for scale: the default pipeline trains the
  // adaptive tree and the baselines beside it.
  RunnerStatus logistic_status;
  double logistic_held_s = 0;
  auto logistic = RunPipeline(**broker, options.partitions,
                              BenchPipelineConfig(bootstrap, "pipeline-logistic", BenchModels::kSingleLogistic),
                              options.events, &logistic_status, &logistic_held_s);
  if (!logistic.ok()) return logistic.status();
  auto ceiling_again = KafkaCeiling(
      ServiceConsumerProperties(bootstrap, "bench-ceiling-again", kafka::MergeOptions::Order::kArrival),
      ServiceProducerProperties(bootstrap), "bench-in", "bench-ceiling-out", options.events);
  if (!ceiling_again.ok()) return ceiling_again.status();
  const double ceiling = std::max(*ceiling_first, *ceiling_again);
  result.ceiling_events_per_sec = ceiling;
  print(fmt::format("librdkafka ceiling, second run: {:>10.0f} events/s; the ceiling: {:.0f} events/s", *ceiling_again,
                    ceiling));
  print(fmt::format("pass-through (our Consumer + Producer), arrival order:   {:>10.0f} events/s ({:.2f} of the ceiling)",
                    *arrival, *arrival / ceiling));
  print(fmt::format("pass-through (our Consumer + Producer), timestamp merge: {:>10.0f} events/s ({:.2f} of the ceiling)",
                    *pass, *pass / ceiling));
  result.pipeline_events_per_sec = *merged;
  result.pipeline_arrival_events_per_sec = *arrival_pipeline;
  result.ratio = *merged / ceiling;
  const double merged_s = static_cast<double>(options.events) / *merged;
  const double arrival_s = static_cast<double>(options.events) / *arrival_pipeline;
  print("the service's default pipeline, as `streamlearn run` gives a config that names no model: selection over "
        "logistic and the adaptive tree, drift action background");
  print(fmt::format("streamlearn pipeline, default settings (timestamp merge): {:>10.0f} events/s ({:.2f} of the "
                    "ceiling; accuracy {:.4f}, {} checkpoints holding processing {:.0f} ms, {:.1f}% of the run)",
                    *merged, result.ratio, merged_status.processor.accuracy, merged_status.checkpoints,
                    1000 * merged_held_s, 100 * merged_held_s / merged_s));
  print(fmt::format("streamlearn pipeline, kafka.order: arrival:               {:>10.0f} events/s ({:.2f} of the "
                    "ceiling; {} checkpoints holding processing {:.0f} ms, {:.1f}% of the run); the timestamp merge "
                    "costs {:+.1f}%",
                    *arrival_pipeline, *arrival_pipeline / ceiling, arrival_status.checkpoints, 1000 * arrival_held_s,
                    100 * arrival_held_s / arrival_s, 100.0 * (1.0 - *merged / *arrival_pipeline)));
  result.pipeline_logistic_events_per_sec = *logistic;
  print(fmt::format("streamlearn pipeline, model.type: logistic alone:         {:>10.0f} events/s ({:.2f} of the "
                    "ceiling; accuracy {:.4f}; the default pipeline takes {:.2f}x its time per event)",
                    *logistic, *logistic / ceiling, logistic_status.processor.accuracy, *logistic / *merged));

  if (options.latency_seconds > 0) {
    const double rate = options.latency_rate > 0 ? options.latency_rate : *merged / 2;
    print(fmt::format("latency runs: {:.1f} s each on topics of their own ({} partitions): the embedded broker (librdkafka's "
                      "mock) walks a partition's whole list of batches on every fetch, so its latency climbs as a log "
                      "grows (after about 2.5 s here), which a real broker does not do",
                      options.latency_seconds, options.partitions));
    // The default settings in windows, then the same with no checkpoint during the run (what
    // the checkpoints add to the tail), then arrival order.
    std::vector<LatencyRun> runs;
    for (int w = 0; w < std::max(1, options.latency_windows); ++w) {
      runs.push_back({w == 0 ? std::string("live") : fmt::format("live-{}", w + 1), KafkaOrder::kTimestamp, 0});
    }
    runs.push_back({"live-no-checkpoint", KafkaOrder::kTimestamp, 600000});
    runs.push_back({"live-arrival", KafkaOrder::kArrival, 0});
    for (const LatencyRun& run : runs) {
      for (const std::string& topic : {"bench-" + run.name, "bench-" + run.name + "-predictions"}) {
        SL_RETURN_IF_ERROR((*broker)->create_topic(topic, options.partitions));
      }
      LatencyFigures measured;
      SL_RETURN_IF_ERROR(MeasureLatency(**broker, bootstrap, options, rate, run, &measured));
      const bool window = run.order == KafkaOrder::kTimestamp && run.commit_interval_ms == 0;
      if (window) {
        result.latency_windows.push_back(measured);
      } else if (run.commit_interval_ms > 0) {
        result.latency_no_checkpoints = measured;
      }
      const std::string what = run.order == KafkaOrder::kArrival ? "kafka.order: arrival"
                               : run.commit_interval_ms > 0      ? "timestamp merge, no checkpoint during the run"
                                                                 : fmt::format("default settings (timestamp merge), window {}",
                                                                               result.latency_windows.size());
      print(fmt::format("latency, {}, at {:.0f} events/s ({}), from the event's produce() to its prediction read "
                        "from the predictions topic, {} events: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms; "
                        "up to the prediction's produce() p50 {:.0f} ms, p99 {:.0f} ms; {} checkpoints, processing "
                        "held {:.2f} ms each on average",
                        what, measured.rate, options.latency_rate > 0 ? "--latency-rate" : "half the pipeline's rate",
                        measured.events, measured.p50_ms, measured.p99_ms, measured.max_ms, measured.to_output_p50_ms,
                        measured.to_output_p99_ms, measured.checkpoints, measured.checkpoint_pause_mean_ms));
    }
    // The window with the median p99 stands for the default settings.
    std::vector<LatencyFigures> by_p99 = result.latency_windows;
    std::sort(by_p99.begin(), by_p99.end(),
              [](const LatencyFigures& a, const LatencyFigures& b) { return a.p99_ms < b.p99_ms; });
    const LatencyFigures& median = by_p99[by_p99.size() / 2];
    result.latency_rate = median.rate;
    result.latency_p50_ms = median.p50_ms;
    result.latency_p99_ms = median.p99_ms;
    result.latency_max_ms = median.max_ms;
    result.latency_events = median.events;
    std::string p99s;
    for (const LatencyFigures& w : result.latency_windows) p99s += fmt::format("{}{:.2f}", p99s.empty() ? "" : ", ", w.p99_ms);
    print(fmt::format("latency, default settings, the median of {} windows: p50 {:.2f} ms, p99 {:.2f} ms at {:.0f} "
                      "events/s (p99 per window: {} ms)",
                      result.latency_windows.size(), median.p50_ms, median.p99_ms, median.rate, p99s));
  }
  return result;
}

}  // namespace streamlearn::pipeline

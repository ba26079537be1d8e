// `streamlearn bench`: end-to-end events/s through the embedded broker against librdkafka's
// own pass-through ceiling, and the latency from event to prediction; `streamlearn bench
// core`: decode + features + predict + learn on one thread from memory (no Kafka), events/s
// and ns/event; `streamlearn bench predict`: POST /v1/predict while the stream learns
// (bench_predict.cpp). All print their figures to stdout; see
// streamlearn/offline/bench.hpp and core_bench.hpp.

#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_predict.hpp"
#include "commands.hpp"
#include "service_support.hpp"
#include "streamlearn/offline/bench.hpp"
#include "streamlearn/offline/core_bench.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;

struct BenchCommandOptions {
  pl::BenchOptions bench;
  pl::CoreBenchOptions core;
  // Each measured in turn; the narrow stream and the wide one show how the cost grows with
  // the number of fields.
  std::vector<std::string> core_streams = {"entities", "wide"};
  CLI::Option* core_entities = nullptr;  // given: for every stream; else each stream's own
  CLI::App* core_subcommand = nullptr;
  std::function<int()> predict;  // `bench predict` (bench_predict.cpp): -1 when not given
  std::vector<std::string> core_feature_keys;  // --feature KEY=VALUE
  std::vector<std::string> latency_properties;  // --latency-property KEY=VALUE
};

int BenchCommand(const BenchCommandOptions& options) {
  if (const int predicted = options.predict(); predicted >= 0) return predicted;
  if (*options.core_subcommand) {
    for (const std::string& stream : options.core_streams) {
      pl::CoreBenchOptions core = options.core;
      core.stream = stream;
      for (const std::string& kv : options.core_feature_keys) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          std::cerr << "bench core: --feature takes KEY=VALUE, got '" << kv << "'" << std::endl;
          return 2;
        }
        core.features[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      if (options.core_entities->count() == 0) {
        // 0: the stream's own default (regression: no entity field, as many numeric feeds).
        core.entities = stream == "wide" ? 100000 : stream == "regression" ? 0 : 10000;
      }
      auto result = pl::RunCoreBench(core, [](const std::string& line) { std::cout << line << std::endl; });
      if (!result.ok()) return LogAndFail(result.status());
      if (result->entities == 0) {
        std::cout << "  entity state (the processor's cache): none, the events carry no entity" << std::endl;
      } else {
        std::cout << "  entity state (the processor's cache): " << result->entities << " entities, "
                  << static_cast<uint64_t>(result->bytes_per_entity + 0.5) << " bytes per entity" << std::endl;
      }
    }
    return 0;
  }
  pl::BenchOptions bench = options.bench;
  for (const std::string& kv : options.latency_properties) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "bench: --latency-property takes KEY=VALUE, got '" << kv << "'" << std::endl;
      return 2;
    }
    bench.latency_properties[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  auto result = pl::RunBench(bench, [](const std::string& line) { std::cout << line << std::endl; });
  if (!result.ok()) return LogAndFail(result.status());
  return 0;
}

}  // namespace

Command RegisterBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchCommandOptions>();
  auto* bench = app.add_subcommand("bench", "End-to-end events/s on the embedded broker vs librdkafka's ceiling, and latency");
  pl::BenchOptions& bench_options = options->bench;
  bench->add_option("--events", bench_options.events, "Messages")->capture_default_str();
  bench->add_option("--partitions", bench_options.partitions, "Partitions")->capture_default_str();
  bench->add_option("--latency-seconds", bench_options.latency_seconds,
                    "Length of the latency run at half the pipeline's rate (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  bench->add_option("--latency-windows", bench_options.latency_windows,
                    "Latency runs of the default settings, each --latency-seconds on topics of its own (the embedded "
                    "broker's latency climbs as a log grows); the median window's p99 is the figure")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  bench->add_option("--latency-rate", bench_options.latency_rate,
                    "Events/s produced during the latency run (default: half the pipeline's measured rate)")
      ->check(CLI::Range(0.0, 10000000.0));
  bench->add_option("--latency-trace", bench_options.latency_trace,
                    "Write each latency run's per-event latencies and checkpoint times to PATH.<run>.tsv");
  bench->add_option("--latency-property", options->latency_properties,
                    "A librdkafka property for the service in the latency runs, KEY=VALUE (e.g. linger.ms=1); "
                    "repeatable")
      ->type_name("KEY=VALUE");
  auto* bench_core = bench->add_subcommand(
      "core", "Decode + features + predict + learn on one thread from memory (no Kafka): events/s and ns/event");
  pl::CoreBenchOptions& core_options = options->core;
  bench_core->add_option("--stream", options->core_streams, "Streams (as gen --stream), each measured in turn")
      ->capture_default_str()
      ->delimiter(',');
  bench_core->add_option("--events", core_options.events, "Events")->capture_default_str()->check(CLI::Range(1000, 100000000));
  options->core_entities =
      bench_core->add_option("--entities", core_options.entities, "Distinct entities (default: 10000 for entities, 100000 for wide, none for regression)")
          ->check(CLI::Range(1, 100000000));
  bench_core->add_option("--repeats", core_options.repeats, "Runs, best taken")->capture_default_str()->check(CLI::Range(1, 100));
  core_options.label_delay_events = 100;
  bench_core->add_option("--label-delay", core_options.label_delay_events,
                         "Delayed labels' figure: each label this many events after its event (0: none)")
      ->capture_default_str();
  bench_core
      ->add_option("--feature", options->core_feature_keys,
                   "A features key on top of the default pipeline's, KEY=VALUE (e.g. 'fields.*.aggregates=none'); "
                   "repeatable")
      ->type_name("KEY=VALUE");
  options->core_subcommand = bench_core;
  options->predict = AddBenchPredictCommand(*bench);
  return {bench, [options] { return BenchCommand(*options); }};
}

}  // namespace streamlearn::cli

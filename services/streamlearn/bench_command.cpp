// `streamlearn bench`: end-to-end events/s through the embedded broker against a bare
// pass-through; `streamlearn bench core`: decode + features + predict + learn on one thread
// from memory (no Kafka), events/s and ns/event. Both print their figures to stdout; see
// streamlearn/offline/bench.hpp and core_bench.hpp.

#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>

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
  CLI::App* core_subcommand = nullptr;
};

int BenchCommand(const BenchCommandOptions& options) {
  if (*options.core_subcommand) {
    auto result = pl::RunCoreBench(options.core, [](const std::string& line) { std::cout << line << std::endl; });
    if (!result.ok()) return LogAndFail(result.status());
    return 0;
  }
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  auto result = pl::RunBench(options.bench, [](const std::string& line) { std::cout << line << std::endl; });
  if (!result.ok()) return LogAndFail(result.status());
  return 0;
}

}  // namespace

Command RegisterBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchCommandOptions>();
  auto* bench = app.add_subcommand("bench", "End-to-end events/s on the embedded broker vs bare pass-through");
  pl::BenchOptions& bench_options = options->bench;
  bench->add_option("--events", bench_options.events, "Messages")->capture_default_str();
  bench->add_option("--partitions", bench_options.partitions, "Partitions")->capture_default_str();
  auto* bench_core = bench->add_subcommand(
      "core", "Decode + features + predict + learn on one thread from memory (no Kafka): events/s and ns/event");
  pl::CoreBenchOptions& core_options = options->core;
  bench_core->add_option("--stream", core_options.stream, "Stream (as gen --stream)")->capture_default_str();
  bench_core->add_option("--events", core_options.events, "Events")->capture_default_str()->check(CLI::Range(1000, 100000000));
  bench_core->add_option("--entities", core_options.entities, "Distinct entities")->capture_default_str()->check(CLI::Range(1, 100000000));
  bench_core->add_option("--repeats", core_options.repeats, "Runs, best taken")->capture_default_str()->check(CLI::Range(1, 100));
  core_options.label_delay_events = 100;
  bench_core->add_option("--label-delay", core_options.label_delay_events,
                         "Delayed labels' figure: each label this many events after its event (0: none)")
      ->capture_default_str();
  options->core_subcommand = bench_core;
  return {bench, [options] { return BenchCommand(*options); }};
}

}  // namespace streamlearn::cli

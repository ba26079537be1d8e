// The streamlearn CLI: thin wiring of the libs into commands. Exceptions stop here.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <thread>

#include "cli_support.hpp"
#include "drift_command.hpp"
#include "evaluate_command.hpp"
#include "gen_command.hpp"
#include "model_command.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/bench.hpp"
#include "streamlearn/pipeline/core_bench.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/demo.hpp"
#include "streamlearn/pipeline/inspect.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"
#include "streamlearn/pipeline/synthetic.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace sl = streamlearn;
namespace pl = streamlearn::pipeline;

namespace {

// SIGINT/SIGTERM are blocked in every thread and received here by sigwait, so no signal
// handler (and no global flag) is needed: the waiting thread sets the caller's flag.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::atomic<bool>& stop) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this, set, &stop] {
      int sig = 0;
      sigwait(&set, &sig);
      if (exiting_.load()) return;  // our own wake-up from the destructor
      spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      stop = true;
    });
  }
  ~SignalWatcher() {
    exiting_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait
    thread_.join();
  }

 private:
  std::atomic<bool> exiting_{false};
  std::thread thread_;
};

using streamlearn::cli::ProcessEnvironment;

int Fail(const sl::Status& st) {
  spdlog::error("{}", st.message());  // the service's log too, for `run`
  return streamlearn::cli::Fail(st);
}

// Starts the admin HTTP server when enabled; returns null (and logs) when it cannot bind,
// since the pipeline itself does not depend on it.
std::unique_ptr<sl::http::HttpServer> StartHttp(const pl::HttpSettings& settings, pl::PipelineProbe& probe,
                                                std::function<std::string()> status_json,
                                                std::function<bool()> ready) {
  if (!settings.enabled) return nullptr;
  sl::http::AdminHooks hooks;
  hooks.registry = probe.registry();
  hooks.ready = std::move(ready);
  hooks.status_json = std::move(status_json);
  auto server = sl::http::HttpServer::Start(settings.bind, static_cast<uint16_t>(settings.port),
                                            sl::http::AdminRoutes(std::move(hooks)));
  if (!server.ok()) {
    spdlog::warn("HTTP server not started: {}", server.status().message());
    return nullptr;
  }
  spdlog::info("HTTP on http://{}:{}/ (/healthz, /readyz, /metrics, /v1/status)", settings.bind, (*server)->port());
  return std::move(server).value();
}

int RunCommand(const std::string& config_path, int http_port_override) {
  auto config = config_path.empty() ? pl::DefaultConfig(ProcessEnvironment())
                                    : pl::LoadConfigFile(config_path, ProcessEnvironment());
  if (!config.ok()) return Fail(config.status());
  if (http_port_override >= 0) config->http.port = http_port_override;
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  pl::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = pl::KafkaRunner::Create(*config, &probe);
  if (!runner.ok()) return Fail(runner.status());
  pl::KafkaRunner* r = runner->get();
  auto http = StartHttp(config->http, probe, [r] { return r->status_json(); },
                        [r] { auto s = r->status(); return s.broker_ok && s.assigned; });
  spdlog::info("streamlearn run: consuming {} from {} as group {}; state in {}", config->kafka.events_topic,
               config->kafka.bootstrap_servers, config->kafka.group_id, config->state.dir);
  sl::Status st = (*runner)->run(stop);
  if (!st.ok()) return Fail(st);
  auto s = (*runner)->status();
  spdlog::info("stopped cleanly: {} events, {} predictions, {} to dlq, accuracy {:.4f}", s.processor.messages,
               s.processor.predictions, s.processor.invalid, s.processor.accuracy);
  return 0;
}

int DemoCommand(pl::DemoOptions options, const std::string& summary_path, int http_port) {
  auto config = pl::DefaultConfig(ProcessEnvironment());
  if (!config.ok()) return Fail(config.status());
  options.config = *config;
  options.config.http.port = http_port;
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  std::unique_ptr<sl::http::HttpServer> http;
  auto summary = pl::RunDemo(
      options, stop,
      [&](pl::KafkaRunner& runner) {
        pl::KafkaRunner* r = &runner;
        http = StartHttp(options.config.http, *runner.probe(), [r] { return r->status_json(); },
                         [r] { return r->status().assigned; });
      },
      [](const std::string& line) { std::cout << line << std::endl; });
  http.reset();
  if (!summary.ok()) return Fail(summary.status());
  const auto& s = *summary;
  std::cout << "\nsummary\n"
            << fmt::format("  events in        {}\n  predictions out  {}\n  dead letters     {} (produced invalid: {})\n"
                           "  accuracy         {:.4f} (majority-class baseline {:.4f})\n  throughput       {:.0f} events/s\n"
                           "  model version    {}\n",
                           s.events_in, s.predictions_out, s.dlq, s.invalid_produced, s.accuracy, s.majority_baseline,
                           s.events_per_sec, s.model_version);
  // Each true change, and what the detector made of it, then the alarms that detected no
  // change; all in valid events, the scale ScoreDemoDetections judges on.
  const auto fired_on = [&s](uint64_t index) {
    for (const auto& d : s.drifts) {
      if (d.events == index + 1) return d.event_id;
    }
    return std::string("?");
  };
  for (size_t i = 0; i < s.detection.changes.size() && i < s.changes.size(); ++i) {
    const sl::eval::ChangeDetection& c = s.detection.changes[i];
    std::string found = fmt::format("no alarm within {} events: absorbed by the learner", options.detection_tolerance);
    if (c.detected_at >= 0) {
      found = fmt::format("drift detected {} events later (fired on {}), action {}", c.delay,
                          fired_on(static_cast<uint64_t>(c.detected_at)), options.config.drift.action);
      if (c.repeats > 0) found += fmt::format(", and {} more alarm(s) after it", c.repeats);
    }
    std::cout << fmt::format("  concept change {} at e-{} (valid event {}): {}\n", i + 1, s.changes[i], c.change_at,
                             found);
  }
  for (uint64_t index : s.detection.false_alarms) {
    std::cout << fmt::format("  false alarm at valid event {} (fired on {}), action {}\n", index, fired_on(index),
                             options.config.drift.action);
  }
  if (!summary_path.empty()) {
    std::ofstream out(summary_path);
    out << pl::SummaryToJson(s) << "\n";
    if (!out) return Fail(sl::Status::IoError("cannot write " + summary_path));
    std::cout << "  summary written to " << summary_path << "\n";
  }
  if (s.events_in != s.predictions_out + s.dlq) {
    return Fail(sl::Status::Internal(fmt::format("{} events in but {} predictions + {} dead letters", s.events_in,
                                                 s.predictions_out, s.dlq)));
  }
  return 0;
}

// Fault injection from outside: SIGUSR1 takes every broker of the mock cluster down
// (connections close, new ones are refused), SIGUSR2 brings them back; data stays.
int BrokerCommand(int partitions, const std::string& bootstrap_file, const std::vector<std::string>& topics) {
  // Blocked before any thread starts (librdkafka's included), received below by sigtimedwait.
  sigset_t faults;
  sigemptyset(&faults);
  sigaddset(&faults, SIGUSR1);
  sigaddset(&faults, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &faults, nullptr);
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  auto broker = sl::kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return Fail(broker.status());
  for (const auto& t : topics) {
    sl::Status st = (*broker)->create_topic(t, partitions);
    if (!st.ok()) return Fail(st);
  }
  const std::string& bootstrap = (*broker)->bootstrap_servers();
  if (!bootstrap_file.empty()) {
    // Written whole then renamed, so a reader polling for the file never sees half of it.
    std::string tmp = bootstrap_file + ".tmp";
    std::ofstream(tmp) << bootstrap << "\n";
    std::rename(tmp.c_str(), bootstrap_file.c_str());
  }
  std::cout << bootstrap << std::endl;
  spdlog::info("embedded broker (librdkafka mock cluster, in memory, for development only) at {}; topics {} with {} "
               "partitions; pid {}: SIGUSR1 takes the brokers down, SIGUSR2 brings them up; Ctrl-C stops it",
               bootstrap, fmt::join(topics, ", "), partitions, static_cast<long>(getpid()));
  while (!stop.load()) {
    const timespec tick{0, 100 * 1000 * 1000};
    const int sig = sigtimedwait(&faults, nullptr, &tick);
    if (sig != SIGUSR1 && sig != SIGUSR2) continue;
    const bool up = sig == SIGUSR2;
    if (up == (*broker)->brokers_up()) {
      spdlog::info("{}: brokers already {}", up ? "SIGUSR2" : "SIGUSR1", up ? "up" : "down");
      continue;
    }
    sl::Status st = (*broker)->set_brokers_up(up);
    if (!st.ok()) {
      spdlog::error("fault injection failed: {}", st.message());
      continue;
    }
    spdlog::info("{}: brokers {}", up ? "SIGUSR2" : "SIGUSR1",
                 up ? "up again (clients reconnect)" : "DOWN (connections closed and refused until SIGUSR2)");
  }
  if (!bootstrap_file.empty()) std::remove(bootstrap_file.c_str());
  return 0;
}

int StateInspectCommand(const std::string& dir) {
  auto json = pl::InspectStateJson(dir);
  if (!json.ok()) return Fail(json.status());
  std::cout << *json << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Learner families of libs above learn join its factory before any config is read.
  if (const sl::Status st = sl::trees::RegisterTreeLearners(); !st.ok()) {
    std::cerr << "streamlearn: " << st.message() << std::endl;
    return 1;
  }
  CLI::App app{"streamlearn: online machine learning on Kafka event streams"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  auto* run = app.add_subcommand("run", "Run the learner against Kafka until SIGINT/SIGTERM");
  std::string config_path;
  int run_http_port = -1;
  run->add_option("-c,--config", config_path, "Pipeline YAML (see config/pipeline.yaml)")->check(CLI::ExistingFile);
  run->add_option("--http-port", run_http_port, "Override http.port (0 = any free port)");

  auto* demo = app.add_subcommand("demo", "Embedded broker + synthetic drifting stream + learner, with progress");
  pl::DemoOptions demo_options;
  std::string summary_path;
  int demo_http_port = 8080;
  demo->add_option("--events", demo_options.events, "Messages to produce")->capture_default_str();
  demo->add_option("--seed", demo_options.seed, "Random seed of the stream")->capture_default_str();
  demo->add_option("--partitions", demo_options.partitions, "Partitions per topic")->capture_default_str()->check(CLI::Range(1, 64));
  demo->add_option("--entities", demo_options.entities, "Distinct entities")->capture_default_str()->check(CLI::Range(1, 100000000));
  demo->add_option("--invalid-share", demo_options.invalid_share, "Share of deliberately invalid events")->capture_default_str()->check(CLI::Range(0.0, 0.5));
  demo->add_option("--summary-json", summary_path, "Write the summary as JSON to this file");
  demo->add_option("--http-port", demo_http_port, "Dashboard/metrics port (0 = any free port)")->capture_default_str();
  demo->add_option("--state-dir", demo_options.state_dir, "Keep state here instead of a temporary directory");

  auto* broker = app.add_subcommand("broker", "Run an embedded Kafka broker (librdkafka mock cluster) until Ctrl-C");
  broker->footer(
      "Fault injection: SIGUSR1 takes every broker down (connections closed, new ones refused; data kept), "
      "SIGUSR2 brings them back up, e.g. kill -USR1 <pid>; each is logged. Retention is 5 MiB or 100,000 "
      "message sets per partition, and there is no broker-side message size limit (clients enforce "
      "message.max.bytes).");
  int broker_partitions = 4;
  std::string bootstrap_file;
  std::vector<std::string> broker_topics = {"events", "predictions", "drift", "dlq", "labels"};
  broker->add_option("--partitions", broker_partitions, "Partitions per topic")->capture_default_str()->check(CLI::Range(1, 256));
  broker->add_option("--bootstrap-file", bootstrap_file, "Also write the bootstrap address to this file");
  broker->add_option("--topics", broker_topics, "Topics to create")->delimiter(',')->capture_default_str();

  auto* bench = app.add_subcommand("bench", "End-to-end events/s on the embedded broker vs bare pass-through");
  pl::BenchOptions bench_options;
  bench->add_option("--events", bench_options.events, "Messages")->capture_default_str();
  bench->add_option("--partitions", bench_options.partitions, "Partitions")->capture_default_str();
  auto* bench_core = bench->add_subcommand(
      "core", "Decode + features + predict + learn on one thread from memory (no Kafka): events/s and ns/event");
  pl::CoreBenchOptions core_options;
  bench_core->add_option("--stream", core_options.stream, "Stream (as gen --stream)")->capture_default_str();
  bench_core->add_option("--events", core_options.events, "Events")->capture_default_str()->check(CLI::Range(1000, 100000000));
  bench_core->add_option("--entities", core_options.entities, "Distinct entities")->capture_default_str()->check(CLI::Range(1, 100000000));
  bench_core->add_option("--repeats", core_options.repeats, "Runs, best taken")->capture_default_str()->check(CLI::Range(1, 100));

  auto* state_cmd = app.add_subcommand("state", "Look into a state directory");
  state_cmd->require_subcommand(1);
  auto* inspect = state_cmd->add_subcommand("inspect", "Print offsets, entity count and digest, models and versions as JSON");
  std::string inspect_dir;
  inspect->add_option("dir", inspect_dir, "State directory (state.dir)")->required();

  streamlearn::cli::GenCommandOptions gen_options;
  auto* gen = streamlearn::cli::AddGenCommand(app, gen_options);
  streamlearn::cli::EvaluateCommandOptions evaluate_options;
  auto* evaluate = streamlearn::cli::AddEvaluateCommand(app, evaluate_options);

  streamlearn::cli::ModelCommandOptions model_options;
  auto* model_cmd = streamlearn::cli::AddModelCommand(app, model_options);

  streamlearn::cli::DriftCommandOptions drift_options;
  auto* drift_cmd = streamlearn::cli::AddDriftCommand(app, drift_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Logs go to stderr: stdout carries the commands' output (gen's events, inspect's JSON, progress).
  spdlog::set_default_logger(spdlog::stderr_color_mt("streamlearn"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  // evaluate's output is its table and progress line: the Processor's per-drift info lines
  // would scatter through them, so it logs warnings only unless --log-level asks for more.
  if (*evaluate && app.get_option("--log-level")->count() == 0) spdlog::set_level(spdlog::level::warn);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  if (*run) return RunCommand(config_path, run_http_port);
  if (*demo) return DemoCommand(demo_options, summary_path, demo_http_port);
  if (*broker) return BrokerCommand(broker_partitions, bootstrap_file, broker_topics);
  if (*inspect) return StateInspectCommand(inspect_dir);
  if (*drift_cmd) return streamlearn::cli::RunDriftCommand(drift_options);
  if (*model_cmd) return streamlearn::cli::RunModelCommand(*model_cmd, model_options);
  if (*gen) return streamlearn::cli::RunGenCommand(gen_options);
  if (*evaluate) return streamlearn::cli::RunEvaluateCommand(evaluate_options);
  if (*bench_core) {
    auto result = pl::RunCoreBench(core_options, [](const std::string& line) { std::cout << line << std::endl; });
    if (!result.ok()) return Fail(result.status());
    return 0;
  }
  if (*bench) {
    std::atomic<bool> stop{false};
    SignalWatcher signals(stop);
    auto result = pl::RunBench(bench_options, [](const std::string& line) { std::cout << line << std::endl; });
    if (!result.ok()) return Fail(result.status());
    return 0;
  }
  return 2;
}

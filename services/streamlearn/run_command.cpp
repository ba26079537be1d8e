// `streamlearn run`: the learner against Kafka until SIGINT/SIGTERM.
//
//   streamlearn run [-c pipeline.yaml] [--http-port N]
//
// Without -c the defaults apply (with the STREAMLEARN_* environment overrides). Exit status
// 0 after a clean stop, 2 for a bad config, 1 for everything else.

#include <CLI/CLI.hpp>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <string>

#include "cli_support.hpp"
#include "commands.hpp"
#include "service_support.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;

struct RunCommandOptions {
  std::string config_path;
  int http_port = -1;  // -1: the config's http.port
};

int RunCommand(const std::string& config_path, int http_port_override) {
  auto config = config_path.empty() ? pl::DefaultConfig(ProcessEnvironment())
                                    : pl::LoadConfigFile(config_path, ProcessEnvironment());
  // A config error is the user's to fix before anything runs: said once, on stderr, not
  // also as a log line (both went to the terminal).
  if (!config.ok()) return Fail(config.status());
  if (http_port_override >= 0) config->http.port = http_port_override;
  // A config that names no model gets the default candidates with selection on.
  pl::ApplyDefaultModels(*config);
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  pl::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = pl::KafkaRunner::Create(*config, &probe);
  if (!runner.ok()) return LogAndFail(runner.status());
  pl::KafkaRunner* r = runner->get();
  auto http = StartHttp(config->http, probe, [r] { return r->status_json(); },
                        [r] { auto s = r->status(); return s.broker_ok && s.assigned && s.waiting_for.empty(); }, r);
  spdlog::info("streamlearn run: consuming {} from {} as group {}; state in {}", config->kafka.events_topic,
               config->kafka.bootstrap_servers, config->kafka.group_id, config->state.dir);
  Status st = (*runner)->run(stop);
  if (!st.ok()) return LogAndFail(st);
  auto s = (*runner)->status();
  // The task's own figure: a regression has no accuracy, and before any label there is none.
  const std::string figure = s.processor.labelled == 0 ? std::string("no labelled events")
                             : pl::TaskOf(config->model) == pl::Task::kRegression
                                 ? fmt::format("MAE {:.4f}", s.processor.mae)
                                 : fmt::format("accuracy {:.4f}", s.processor.accuracy);
  spdlog::info("stopped cleanly: {} events, {} predictions, {} to dlq, {}", s.processor.messages,
               s.processor.predictions, s.processor.invalid, figure);
  return 0;
}

}  // namespace

Command RegisterRunCommand(CLI::App& app) {
  auto options = std::make_shared<RunCommandOptions>();
  auto* run = app.add_subcommand("run", "Run the learner against Kafka until SIGINT/SIGTERM");
  run->add_option("-c,--config", options->config_path, "Pipeline YAML (see config/pipeline.yaml)")->check(CLI::ExistingFile);
  run->add_option("--http-port", options->http_port, "Override http.port (0 = any free port)");
  return {run, [options] { return RunCommand(options->config_path, options->http_port); }};
}

}  // namespace streamlearn::cli

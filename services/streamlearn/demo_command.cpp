// `streamlearn demo`: an embedded broker, a synthetic drifting stream and the learner in one
// process, with progress lines, the admin HTTP server, and a summary at the end (optionally
// as JSON). See streamlearn/offline/demo.hpp.
//
// Exit status 0; 1 when events went missing (events in != predictions + dead letters) or a
// file could not be written; 2 for bad arguments.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "cli_support.hpp"
#include "commands.hpp"
#include "service_support.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/offline/demo.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::cli {
namespace {

namespace sl = streamlearn;
namespace pl = streamlearn::pipeline;

struct DemoCommandOptions {
  pl::DemoOptions demo;
  std::string summary_path;
  int http_port = 8080;
};

int DemoCommand(pl::DemoOptions options, const std::string& summary_path, int http_port) {
  auto config = pl::DefaultConfig(ProcessEnvironment());
  if (!config.ok()) return Fail(config.status());  // said once, as run does
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
                         [r] { return r->status().assigned; }, r);
      },
      [](const std::string& line) { std::cout << line << std::endl; }, [&] { http.reset(); });
  http.reset();
  if (!summary.ok()) return LogAndFail(summary.status());
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
                          fired_on(static_cast<uint64_t>(c.detected_at)), pl::ToString(options.config.drift.action));
      if (c.repeats > 0) found += fmt::format(", and {} more alarm(s) after it", c.repeats);
    }
    std::cout << fmt::format("  concept change {} at e-{} (valid event {}): {}\n", i + 1, s.changes[i], c.change_at,
                             found);
  }
  for (uint64_t index : s.detection.false_alarms) {
    std::cout << fmt::format("  false alarm at valid event {} (fired on {}), action {}\n", index, fired_on(index),
                             pl::ToString(options.config.drift.action));
  }
  if (!summary_path.empty()) {
    std::ofstream out(summary_path);
    out << pl::SummaryToJson(s) << "\n";
    if (!out) return LogAndFail(sl::Status::IoError("cannot write " + summary_path));
    std::cout << "  summary written to " << summary_path << "\n";
  }
  if (s.events_in != s.predictions_out + s.dlq) {
    return LogAndFail(sl::Status::Internal(fmt::format("{} events in but {} predictions + {} dead letters", s.events_in,
                                                       s.predictions_out, s.dlq)));
  }
  return 0;
}

}  // namespace

Command RegisterDemoCommand(CLI::App& app) {
  auto options = std::make_shared<DemoCommandOptions>();
  pl::DemoOptions& demo_options = options->demo;
  auto* demo = app.add_subcommand("demo", "Embedded broker + synthetic drifting stream + learner, with progress");
  demo->add_option("--events", demo_options.events, "Messages to produce")->capture_default_str();
  demo->add_option("--seed", demo_options.seed, "Random seed of the stream")->capture_default_str();
  demo->add_option("--partitions", demo_options.partitions, "Partitions per topic")->capture_default_str()->check(CLI::Range(1, 64));
  demo->add_option("--entities", demo_options.entities, "Distinct entities")->capture_default_str()->check(CLI::Range(1, 100000000));
  demo->add_option("--invalid-share", demo_options.invalid_share, "Share of deliberately invalid events")->capture_default_str()->check(CLI::Range(0.0, 0.5));
  demo->add_option("--summary-json", options->summary_path, "Write the summary as JSON to this file");
  demo->add_option("--http-port", options->http_port, "Dashboard/metrics port (0 = any free port)")->capture_default_str();
  demo->add_option("--state-dir", demo_options.state_dir, "Keep state here instead of a temporary directory");
  return {demo, [options] { return DemoCommand(options->demo, options->summary_path, options->http_port); }};
}

}  // namespace streamlearn::cli

#include "evaluate_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cli_support.hpp"
#include "commands.hpp"
#include "streamlearn/offline/evaluate.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;

std::string Figure(double v) { return pl::FormatFigure(v); }

// The lines the model type is guessed from.
constexpr size_t kGuessLines = 1000;

// Up to `max_lines` lines of `in`, as read (a last line without its newline stays without).
std::string ReadHeadLines(std::istream& in, size_t max_lines) {
  std::string head, line;
  for (size_t n = 0; n < max_lines && std::getline(in, line); ++n) {
    head += line;
    if (!in.eof()) head.push_back('\n');
  }
  if (in.eof()) in.clear();  // the rest is then empty: the replaying stream reads its end again
  return head;
}

// What was read to guess the model type, then the rest of the stream it came from.
class ReplayedHead : public std::streambuf {
 public:
  ReplayedHead(std::string head, std::streambuf* rest) : head_(std::move(head)), rest_(rest) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const std::streamsize n = rest_->sgetn(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (n <= 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string head_;
  std::streambuf* rest_;
  std::array<char, 1 << 16> buffer_{};
};

// The figures of the progress line: accuracy for a classifier, MAE/RMSE/R² for regression.
std::string Scores(const pl::EvaluationProgress& p) {
  if (p.regression) {
    return fmt::format("MAE {} RMSE {} R² {} (rolling MAE {})", Figure(p.mae), Figure(p.rmse), Figure(p.r2),
                       Figure(p.rolling_mae));
  }
  return fmt::format("accuracy {} (rolling {})", Figure(p.accuracy), Figure(p.rolling_accuracy));
}

// The stderr progress line: rewritten in place on a terminal at most 4 times a second,
// otherwise (or with --quiet) only the final line.
class ProgressLine {
 public:
  explicit ProgressLine(bool live) : live_(live) {}

  void operator()(const pl::EvaluationProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!p.final && (!live_ || now - last_ < std::chrono::milliseconds(250))) return;
    last_ = now;
    const double rate = p.seconds > 0 ? static_cast<double>(p.events) / p.seconds : 0;
    const std::string line =
        p.final ? fmt::format("evaluated {} events ({} labelled) in {:.2f} s, {:.0f} events/s: {}", p.events,
                              p.labelled, p.seconds, rate, Scores(p))
                : fmt::format("[{:6.1f}s] events {:>10} | {:>8.0f} ev/s | labelled {:>10} | {}", p.seconds, p.events,
                              rate, p.labelled, Scores(p));
    if (live_) {
      std::fprintf(stderr, "\r%s\x1b[K%s", line.c_str(), p.final ? "\n" : "");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

 private:
  bool live_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

CLI::App* AddEvaluateCommand(CLI::App& app, EvaluateCommandOptions& options) {
  CLI::App* sub = app.add_subcommand(
      "evaluate", "Run the pipeline offline over a file of events (test-then-train) and report the figures");
  sub->add_option("-c,--config", options.config_path,
                  "Pipeline YAML (model, features, drift, metrics, labels; kafka, state and http do not apply)");
  sub->add_option("--labels", options.labels_path,
                  "Delayed labels, {\"id\",\"label\",\"ts\"} per line, merged with the events by ts");
  sub->add_flag("--json", options.json, "Also print the figures as one JSON object, the last line of stdout");
  sub->add_option("--report", options.report_path,
                  "Write a self-contained HTML report (learning curves, baselines, change and drift markers, tables)");
  sub->add_option("--rolling", options.rolling, "Rolling window of the metrics (default: metrics.rolling_window)")
      ->check(CLI::Range(1, 10000000));
  sub->add_flag("--quiet", options.quiet, "No live progress line (the final line is still printed)");
  sub->add_option("input", options.input, "Events, one JSON object per line (or gen's kcat format); - for stdin")
      ->required();
  sub->footer(
      "Positions are 0-based line numbers of the events input (e-N of `streamlearn gen` is at N). True changes are "
      "where the events' \"meta\":{\"concept\":K} changes; detections are the positions of the events whose update "
      "fired a drift. Without -c: the default pipeline (config/pipeline.yaml's defaults, STREAMLEARN_* overrides), "
      "labels disabled unless --labels. Without model.type (in -c or STREAMLEARN_MODEL_TYPE), the model type comes "
      "from the labels. A config without model.type, challengers "
      "or selection gets the default candidates with selection on (docs/evaluation.md#choosing-the-defaults).");
  return sub;
}

int RunEvaluateCommand(const EvaluateCommandOptions& options) {
  auto config = options.config_path.empty() ? pl::DefaultConfig(ProcessEnvironment())
                                            : pl::LoadConfigFile(options.config_path, ProcessEnvironment());
  if (!config.ok()) return Fail(config.status());
  if (options.rolling > 0) config->metrics.rolling_window = options.rolling;
  std::ios::sync_with_stdio(false);  // before any read of std::cin: buffered stdin
  pl::EvaluateInputs inputs;
  std::ifstream events_file, labels_file;
  if (options.input == "-") {
    inputs.events = &std::cin;
    inputs.events_name = "standard input";
  } else {
    events_file.open(options.input, std::ios::binary);
    if (!events_file) {
      return Fail(Status::IoError("cannot open events file '" + options.input + "': " + std::strerror(errno)));
    }
    inputs.events = &events_file;
    inputs.events_name = options.input;
  }
  // A pipeline that names no model type (no -c, or a config without model.type) serves any
  // event file: the labels of its first lines decide the model. Those lines are read from
  // the one input stream and given to the evaluation again, so a pipe (standard input,
  // /dev/stdin, a process substitution) is read once, like a file.
  std::optional<ReplayedHead> replayed;
  std::optional<std::istream> replayed_events;
  if (!config->model.type_given) {
    std::string head = ReadHeadLines(*inputs.events, kGuessLines);
    std::istringstream head_lines(head);
    config->model.type = pl::GuessModelType(head_lines, kGuessLines);
    if (config->model.type != "logistic") {
      std::cerr << "evaluate: the labels are " << (config->model.type == "softmax" ? "class names" : "numbers")
                << ": default model type " << config->model.type << "\n";
    }
    replayed.emplace(std::move(head), inputs.events->rdbuf());
    replayed_events.emplace(&*replayed);
    inputs.events = &*replayed_events;
  }
  // A config that names no model (no model.type, challengers or selection): the default
  // candidates of the task, with selection on.
  pl::ApplyDefaultModels(*config);
  // A model whose name was left at the default ("logreg", which says logistic regression)
  // is named by its type, so the table does not call a linear regression "logreg". There
  // is no state store offline: the name labels the output only.
  const pl::ModelSettings default_model;
  if (config->model.name == default_model.name && config->model.type != default_model.type) {
    config->model.name = config->model.type;
  }

  if (!options.labels_path.empty()) {
    if (options.labels_path == "-" && options.input == "-") {
      return Fail(Status::Invalid("--labels -: standard input already carries the events"));
    }
    if (options.labels_path == "-") {
      inputs.labels = &std::cin;
    } else {
      labels_file.open(options.labels_path, std::ios::binary);
      if (!labels_file) {
        return Fail(
            Status::IoError("cannot open labels file '" + options.labels_path + "': " + std::strerror(errno)));
      }
      inputs.labels = &labels_file;
    }
    inputs.labels_name = options.labels_path;
  }
  // Checked before the run, so a long evaluation does not end in a path error.
  if (!options.report_path.empty() && !std::ofstream(options.report_path, std::ios::app)) {
    return Fail(Status::IoError("cannot write report '" + options.report_path + "': " + std::strerror(errno)));
  }

  ProgressLine progress(!options.quiet && isatty(STDERR_FILENO) == 1);
  auto result = pl::Evaluate(*config, inputs, {}, [&](const pl::EvaluationProgress& p) { progress(p); });
  if (!result.ok()) return Fail(result.status());
  // Nothing evaluated is a failure, not a table of "-": no event lines, or none valid.
  if (result->events == 0) {
    std::cerr << "evaluate: " << inputs.events_name << " has no event lines\n";
    return 1;
  }
  if (result->invalid_events == result->events) {
    std::cerr << "evaluate: all " << result->events << " lines of " << inputs.events_name << " were invalid";
    for (const pl::InvalidExample& e : result->invalid_examples) {
      if (e.input != inputs.events_name) continue;
      std::cerr << "; first reason (line " << e.line << "): " << e.reason;
      break;
    }
    // The likeliest cause of a file of only invalid lines: a data set given as it is.
    const std::string& name = options.input;
    if (name.size() > 4 && (name.ends_with(".csv") || name.ends_with(".CSV"))) {
      std::cerr << " (a CSV: turn it into events first, scripts/csv-to-events.py " << name
                << " --label COLUMN > events.jsonl)";
    }
    std::cerr << "\n";
    return 1;
  }

  if (!options.report_path.empty()) {
    std::ofstream report(options.report_path, std::ios::binary | std::ios::trunc);
    report << pl::EvaluationReportHtml(*result);
    report.flush();
    if (!report) return Fail(Status::IoError("cannot write report '" + options.report_path + "'"));
    spdlog::info("report written to {}", options.report_path);
  }
  std::cout << pl::EvaluationTable(*result);
  if (options.json) std::cout << pl::EvaluationJson(*result) << "\n";
  std::cout.flush();
  return std::cout ? 0 : 1;
}

Command RegisterEvaluateCommand(CLI::App& app) {
  auto options = std::make_shared<EvaluateCommandOptions>();
  CLI::App* sub = AddEvaluateCommand(app, *options);
  Command command{sub, [options] { return RunEvaluateCommand(*options); }};
  // evaluate's output is its table and progress line: the Processor's per-drift info lines
  // would scatter through them, so it logs warnings only unless --log-level asks for more.
  command.default_log_level = "warn";
  return command;
}

}  // namespace streamlearn::cli

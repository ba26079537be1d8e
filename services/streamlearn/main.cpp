// The streamlearn CLI: each command lives in its own file (commands.hpp); main() registers
// them, parses, sets up logging and runs the one given. Exceptions stop here.

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "commands.hpp"

namespace cli = streamlearn::cli;

int main(int argc, char** argv) {
  CLI::App app{"streamlearn: online machine learning on Kafka event streams"};
  app.require_subcommand(1);
  std::string log_level = "info";
  auto* log_level_option = app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  const std::vector<cli::Command> commands = {
      cli::RegisterRunCommand(app),   cli::RegisterDemoCommand(app),     cli::RegisterBrokerCommand(app),
      cli::RegisterBenchCommand(app), cli::RegisterStateCommand(app),    cli::RegisterGenCommand(app),
      cli::RegisterEvaluateCommand(app), cli::RegisterModelCommand(app), cli::RegisterDriftCommand(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const cli::Command& command : commands) {
    if (!*command.subcommand) continue;
    // Logs go to stderr: stdout carries the commands' output (gen's events, inspect's JSON, progress).
    spdlog::set_default_logger(spdlog::stderr_color_mt("streamlearn"));
    spdlog::set_level(spdlog::level::from_str(log_level_option->count() == 0 ? command.default_log_level : log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    return command.run();
  }
  return 2;
}

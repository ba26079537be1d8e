#pragma once
// The CLI's commands, one file each (<name>_command.cpp). main() registers them all in the
// order `--help` lists them, parses, sets up logging and runs the one that was given.

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace streamlearn::cli {

// A registered top-level subcommand and how to run it once parsed.
struct Command {
  CLI::App* subcommand = nullptr;
  std::function<int()> run;  // returns the exit status
  // The log level when --log-level is not given.
  std::string default_log_level = "info";
};

Command RegisterRunCommand(CLI::App& app);
Command RegisterDemoCommand(CLI::App& app);
Command RegisterBrokerCommand(CLI::App& app);
Command RegisterBenchCommand(CLI::App& app);     // bench, bench core
Command RegisterStateCommand(CLI::App& app);     // state inspect
Command RegisterGenCommand(CLI::App& app);       // gen_command.hpp
Command RegisterEvaluateCommand(CLI::App& app);  // evaluate_command.hpp
Command RegisterModelCommand(CLI::App& app);     // model export|import|inspect: model_command.hpp
Command RegisterDriftCommand(CLI::App& app);     // drift_command.hpp

}  // namespace streamlearn::cli

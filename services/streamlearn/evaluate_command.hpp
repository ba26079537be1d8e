#pragma once
// `streamlearn evaluate`: the pipeline's own Processor run offline over a file of events
// (no Kafka, no state), test-then-train, with the figures at the end.
//
//   streamlearn evaluate [-c pipeline.yaml] [--labels labels.jsonl] [--json] [--report FILE]
//                        [--rolling N] [--quiet] data.jsonl|-
//
// stdout: a table (counts, metrics cumulative and rolling beside the majority-class and
// no-change baselines, drift events, per-concept figures and detection scoring when the
// events carry "meta":{"concept":K}, the label join); with --json, one JSON object as the
// last line. stderr: a progress line, live when stderr is a terminal (not with --quiet),
// and a final line. See streamlearn/offline/evaluate.hpp for positions and the merge of
// delayed labels.
//
// Exit status: 0 done (bad lines are counted, not fatal), 2 bad arguments or config,
// 1 an input or the report could not be read or written.

#include <string>

namespace CLI {
class App;
}

namespace streamlearn::cli {

struct EvaluateCommandOptions {
  std::string config_path;  // empty: DefaultConfig (environment overrides apply)
  std::string labels_path;
  bool json = false;
  std::string report_path;
  int rolling = 0;  // 0: the config's metrics.rolling_window
  bool quiet = false;
  std::string input;  // "-" = standard input
};

// Registers the `evaluate` subcommand on `app`, filling `options` when it is parsed.
CLI::App* AddEvaluateCommand(CLI::App& app, EvaluateCommandOptions& options);

int RunEvaluateCommand(const EvaluateCommandOptions& options);

}  // namespace streamlearn::cli

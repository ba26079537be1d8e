#pragma once
// `streamlearn drift`: run one concept-drift detector over a series of numbers, for
// people who want to try a detector (and its parameters) on their own data.
//
//   streamlearn drift --detector NAME [--param name=value ...] [FILE|-]
//
// Input: one number per line (FILE, or standard input for "-" or no FILE); blank lines
// are skipped and do not count. Output: one JSON line per update that reported a warning
// or a drift, {"index": i, "level": "warning"|"drift"}, where i is the 0-based position of
// the value after whose update the detector fired. Parameters carry River's names (see
// streamlearn/drift/factory.hpp). A line that is not a finite number stops the run with an
// error naming the line; the events before it have been printed.
//
// Exit status: 0 done, 2 bad arguments or bad input, 1 the file could not be read.

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace streamlearn::cli {

struct DriftCommandOptions {
  std::string detector;
  std::vector<std::string> params;  // "name=value", repeatable
  std::string input = "-";
};

// Registers the `drift` subcommand on `app`, filling `options` when it is parsed.
// Returns the subcommand, so main() can dispatch: if (*sub) return RunDriftCommand(options);
CLI::App* AddDriftCommand(CLI::App& app, DriftCommandOptions& options);

// Runs the command; reads options.input (or `in` when it is "-"), writes events to `out`
// and errors to `err`.
int RunDriftCommand(const DriftCommandOptions& options);
int RunDriftCommand(const DriftCommandOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err);

}  // namespace streamlearn::cli

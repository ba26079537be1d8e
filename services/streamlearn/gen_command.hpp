#pragma once
// `streamlearn gen`: a seeded synthetic event stream with known concept changes, as JSON
// lines on stdout (see the stream table in docs/evaluation.md and streamlearn/eval/streams.hpp).
//
//   streamlearn gen --stream NAME [--events N] [--seed S] [--concepts K | --change-at a,b,c]
//                   [--noise p] [--entities E] [--invalid-share p] [--format json|kcat]
//                   [--labels-out FILE [--label-delay DIST]]
//
// JSON lines carry the concept marker "meta":{"concept":K} that `evaluate` scores drift
// detection against; kcat lines (entity TAB json, for `kcat -P -K '\t'`) leave it out,
// since nothing on Kafka reads it (and SEA's kcat output stays byte-identical to what the
// crash tests were sized for); an event without entity (regression's default) has an empty
// key there. `sea` is the demo's stream (streamlearn/offline/synthetic.hpp:
// four-decimal features, --invalid-share); the others come from eval::MakeStream.
//
// With --labels-out the events are written without their label, and the labels go to FILE
// as {"id","label","ts"} lines sorted by ts (ties in event order), ts = the event's ts plus
// a delay drawn from DIST: 0, const:30s, exp:60s (exponential, that mean) or
// uniform:10s:5m; seeded by --seed, so the same command writes the same files.
//
// stdout carries the events only; a summary goes to the log (stderr).
// Exit status: 0 done, 2 bad arguments, 1 the labels file could not be written.

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace streamlearn::cli {

struct GenCommandOptions {
  std::string stream = "sea";
  uint64_t events = 200000;
  uint64_t seed = 42;
  size_t concepts = 4;
  std::vector<uint64_t> change_at;  // event positions where a new concept starts
  double noise = std::numeric_limits<double>::quiet_NaN();  // NaN: the stream's default
  std::optional<uint64_t> entities;  // nullopt: 1000 keys (regression: no entity field)
  double invalid_share = 0;  // sea only
  std::string format = "json";
  std::string labels_out;
  std::string label_delay = "0";
};

// Registers the `gen` subcommand on `app`, filling `options` when it is parsed.
CLI::App* AddGenCommand(CLI::App& app, GenCommandOptions& options);

int RunGenCommand(const GenCommandOptions& options);

}  // namespace streamlearn::cli

#pragma once
// `streamlearn model export|import|inspect`: the champion's snapshot (the one format the
// RocksDB checkpoint uses: versioned, checksummed) as a file.
//
//   streamlearn model export [-c pipeline.yaml] [--state DIR] OUT      the stored model to OUT
//   streamlearn model import [-c pipeline.yaml] [--state DIR] FILE     FILE becomes the stored model
//   streamlearn model inspect [-c pipeline.yaml] FILE | --state DIR    JSON: weights by feature, …
//
// The model is config model.name in state.dir (or --state). Import checks the file fits the
// config (type, learner) before writing, and writes it in one atomic batch; it needs the
// state directory not to be open in a running instance (RocksDB's lock says so). Exit
// status 0, 2 for bad arguments or a file that does not fit, 1 for I/O errors.

#include <string>

namespace CLI {
class App;
}

namespace streamlearn::cli {

struct ModelCommandOptions {
  std::string config_path;
  std::string state_dir;  // overrides state.dir
  std::string file;       // export: the output; import, inspect: the input
  size_t top_sparse = 20;
};

// Registers `model` with its three subcommands; returns `model`.
CLI::App* AddModelCommand(CLI::App& app, ModelCommandOptions& options);
int RunModelCommand(const CLI::App& model, const ModelCommandOptions& options);

}  // namespace streamlearn::cli

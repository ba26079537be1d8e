#include "model_command.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_support.hpp"
#include "commands.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Result<std::string> StoredSnapshot(const pl::PipelineConfig& config) {
  state::StoreOptions read_only;
  read_only.read_only = true;
  auto store = state::StateStore::Open(config.state.dir, read_only);
  if (!store.ok()) return store.status();
  auto snapshot = (*store)->get_model(config.model.name);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->has_value()) {
    // The name comes from the config (model.name): say which names the directory holds.
    std::string held;
    if (auto names = (*store)->model_names(); names.ok()) {
      for (const auto& name : *names) held += (held.empty() ? "" : ", ") + ("'" + name + "'");
    }
    return Status::NotFound("no model '" + config.model.name + "' in " + config.state.dir +
                            (held.empty() ? std::string(" (it holds none)")
                                          : " (it holds " + held + ": give the config that names it with -c, or set model.name)"));
  }
  return std::move(**snapshot);
}

}  // namespace

CLI::App* AddModelCommand(CLI::App& app, ModelCommandOptions& options) {
  CLI::App* model = app.add_subcommand("model", "Export, import or inspect the model snapshot (config model.name)");
  model->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("-c,--config", options.config_path, "Pipeline config (YAML); defaults otherwise");
    sub->add_option("--state", options.state_dir, "State directory (overrides state.dir)");
  };
  CLI::App* exp = model->add_subcommand("export", "Write the stored model's snapshot to a file");
  common(exp);
  exp->add_option("out", options.file, "Output file")->required();
  CLI::App* imp = model->add_subcommand("import", "Store a snapshot file as the model (the instance must be stopped)");
  common(imp);
  imp->add_option("file", options.file, "Snapshot file (from model export)")->required();
  CLI::App* ins = model->add_subcommand("inspect", "Print the model as JSON: weights by feature name, version, metrics");
  common(ins);
  ins->add_option("file", options.file, "Snapshot file; without it, the stored model");
  ins->add_option("--top-sparse", options.top_sparse, "Hashed weights listed, largest first")->capture_default_str();
  return model;
}

int RunModelCommand(const CLI::App& model, const ModelCommandOptions& options) {
  auto config = options.config_path.empty() ? pl::DefaultConfig(ProcessEnvironment())
                                            : pl::LoadConfigFile(options.config_path, ProcessEnvironment());
  if (!config.ok()) return Fail(config.status());
  if (!options.state_dir.empty()) config->state.dir = options.state_dir;

  if (model.got_subcommand("export")) {
    auto snapshot = StoredSnapshot(*config);
    if (!snapshot.ok()) return Fail(snapshot.status());
    auto info = pl::InspectSnapshot(*snapshot);
    if (!info.ok()) return Fail(info.status());
    std::ofstream out(options.file, std::ios::binary | std::ios::trunc);
    out.write(snapshot->data(), static_cast<std::streamsize>(snapshot->size()));
    if (!out.flush()) return Fail(Status::Internal("cannot write " + options.file));
    std::cerr << "exported model '" << info->name << "' version " << info->version << " (" << info->bytes
              << " bytes) to " << options.file << "\n";
    return 0;
  }
  if (model.got_subcommand("import")) {
    auto bytes = ReadFile(options.file);
    if (!bytes.ok()) return Fail(bytes.status());
    // Loads it as the configured pipeline would: a file of another type or learner kind is
    // refused here, not at the next start.
    auto checked = pl::Processor::FromSnapshot(*config, *bytes);
    if (!checked.ok()) {
      return Fail(Status::Invalid(options.file + " does not fit the configured model '" + config->model.name +
                                  "': " + checked.status().message()));
    }
    auto info = pl::InspectSnapshot(*bytes);
    if (!info.ok()) return Fail(info.status());
    if (info->name != config->model.name) {
      std::cerr << "note: the snapshot was exported as '" << info->name << "'; it is stored as '"
                << config->model.name << "'\n";
    }
    auto store = state::StateStore::Open(config->state.dir);
    if (!store.ok()) return Fail(store.status());
    auto batch = (*store)->begin_checkpoint();
    batch.put_model(config->model.name, (*checked)->model_snapshot());
    Status st = (*store)->commit(batch);
    if (!st.ok()) return Fail(st);
    std::cerr << "imported " << options.file << " as model '" << config->model.name << "' version " << info->version
              << " into " << config->state.dir << "\n";
    return 0;
  }
  // inspect
  Result<std::string> bytes = options.file.empty() ? StoredSnapshot(*config) : ReadFile(options.file);
  if (!bytes.ok()) return Fail(bytes.status());
  auto processor = pl::Processor::FromSnapshot(*config, *bytes);
  if (!processor.ok()) return Fail(processor.status());
  std::cout << (*processor)->describe_json(options.top_sparse) << "\n";
  return 0;
}

Command RegisterModelCommand(CLI::App& app) {
  auto options = std::make_shared<ModelCommandOptions>();
  CLI::App* sub = AddModelCommand(app, *options);
  return {sub, [sub, options] { return RunModelCommand(*sub, *options); }};
}

}  // namespace streamlearn::cli

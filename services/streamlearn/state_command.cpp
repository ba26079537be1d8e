// `streamlearn state inspect DIR`: a state directory's offsets, entity count and digest,
// models and versions, as one JSON object on stdout (see streamlearn/offline/inspect.hpp).

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "service_support.hpp"
#include "streamlearn/offline/inspect.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;

int StateInspectCommand(const std::string& dir, bool entities) {
  auto json = entities ? pl::InspectEntityDigests(dir) : pl::InspectStateJson(dir);
  if (!json.ok()) return LogAndFail(json.status());
  std::cout << *json;
  if (!entities) std::cout << std::endl;
  return 0;
}

}  // namespace

Command RegisterStateCommand(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto entities = std::make_shared<bool>(false);
  auto* state_cmd = app.add_subcommand("state", "Look into a state directory");
  state_cmd->require_subcommand(1);
  auto* inspect = state_cmd->add_subcommand("inspect", "Print offsets, entity count and digest, models and versions as JSON");
  inspect->add_option("dir", *dir, "State directory (state.dir)")->required();
  inspect->add_flag("--entities", *entities, "Print each entity's key and state digest, one a line, instead");
  return {state_cmd, [dir, entities, inspect] { return *inspect ? StateInspectCommand(*dir, *entities) : 2; }};
}

}  // namespace streamlearn::cli

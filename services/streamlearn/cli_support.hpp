#pragma once
// What every command of the CLI shares: errors to stderr with an exit status, and the
// process environment for the config's STREAMLEARN_* overrides.

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::cli {

// Exit status 2 for bad arguments or config (InvalidArgument), 1 for everything else.
inline int Fail(const Status& st) {
  std::cerr << "error: " << st.message() << "\n";
  return st.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

// The overrides, after a warning for each STREAMLEARN_* variable that sets nothing (a typo
// in a variable's name is otherwise silently ignored).
inline pipeline::Environment ProcessEnvironment() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("STREAMLEARN_")) names.emplace_back(text.substr(0, text.find('=')));
  }
  for (const auto& warning : pipeline::UnknownSettingVariables(names)) spdlog::warn("{}", warning);
  return [](const char* name) { return std::getenv(name); };
}

}  // namespace streamlearn::cli

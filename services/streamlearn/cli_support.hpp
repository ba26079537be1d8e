#pragma once
// What every command of the CLI shares: errors to stderr with an exit status, and the
// process environment for the config's STREAMLEARN_* overrides.

#include <cstdlib>
#include <iostream>

#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::cli {

// Exit status 2 for bad arguments or config (InvalidArgument), 1 for everything else.
inline int Fail(const Status& st) {
  std::cerr << "error: " << st.message() << "\n";
  return st.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

inline pipeline::Environment ProcessEnvironment() {
  return [](const char* name) { return std::getenv(name); };
}

}  // namespace streamlearn::cli

#pragma once
// A scratch folder for one test, removed with everything in it when the test ends.

#include <filesystem>
#include <random>
#include <string>

namespace streamlearn::state::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("sl-state-" + std::to_string(std::random_device{}()));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string str() const { return path.string(); }
  std::string str(const char* sub) const { return (path / sub).string(); }  // a folder inside
};

}  // namespace streamlearn::state::testing

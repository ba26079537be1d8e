#pragma once
// River's CSVs (libs/trees/tests/data/river) as evaluate's input, as scripts/csv-to-events.py
// writes them: one JSON event per row, `target` the label, every other column a numeric
// feature, no entity.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace streamlearn::testing {

inline std::string RiverCsvEvents(const std::string& file, const std::string& target) {
  std::ifstream in(std::string(STREAMLEARN_RIVER_DATA) + "/" + file);
  REQUIRE(in);
  // Some of the files end their lines in CRLF.
  const auto next_line = [&in](std::string& line) {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  std::string line;
  next_line(line);
  std::vector<std::string> names;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  std::string out;
  for (size_t row = 0; next_line(line); ++row) {
    std::stringstream cells(line);
    std::string features, label;
    size_t column = 0;
    for (std::string cell; std::getline(cells, cell, ','); ++column) {
      if (names.at(column) == target) {
        label = cell;
      } else {
        features += (features.empty() ? "\"" : ",\"") + names[column] + "\":" + cell;
      }
    }
    out += "{\"id\":\"r-" + std::to_string(row) + "\",\"features\":{" + features + "},\"label\":" + label + "}\n";
  }
  return out;
}

}  // namespace streamlearn::testing

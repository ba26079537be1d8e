#include "drift_command.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "commands.hpp"
#include "streamlearn/drift/factory.hpp"

namespace streamlearn::cli {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string Trim(const std::string& s) {
  const char* space = " \t\r\n\f\v";
  const size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return {};
  const size_t last = s.find_last_not_of(space);
  return s.substr(first, last - first + 1);
}

// strtod over the whole text; finite values only.
bool ParseNumber(const std::string& text, double* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

CLI::App* AddDriftCommand(CLI::App& app, DriftCommandOptions& options) {
  CLI::App* sub = app.add_subcommand(
      "drift", "Run a drift detector over numbers (one per line); print a JSON line per warning or drift");
  sub->add_option("--detector", options.detector,
                  "Detector: " + JoinNames(drift::DetectorNames()))
      ->required()
      ->check(CLI::IsMember(drift::DetectorNames()));
  sub->add_option("--param", options.params,
                  "name=value with River's parameter names, repeatable (e.g. --param delta=0.01)")
      ->allow_extra_args(false);
  sub->add_option("input", options.input, "File of numbers, one per line; - or none for stdin")
      ->capture_default_str();
  std::string footer = "Parameters by detector (River's names; any not given takes River's default):";
  for (const std::string& name : drift::DetectorNames()) {
    footer += "\n  " + name + ": " + JoinNames(drift::DetectorParamNames(name));
  }
  footer += "\nOutput: {\"index\": i, \"level\": \"warning\"|\"drift\"}, i = 0-based position of the value;"
            "\n  a warning line then a drift line when the detector holds both (as River's EDDM can).";
  sub->footer(footer);
  return sub;
}

int RunDriftCommand(const DriftCommandOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err) {
  std::map<std::string, std::string> params;
  for (const std::string& item : options.params) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "error: --param '" << item << "' is not name=value\n";
      return 2;
    }
    const std::string name = item.substr(0, eq);
    if (params.count(name) != 0) {
      err << "error: --param " << name << " given twice\n";
      return 2;
    }
    params[name] = item.substr(eq + 1);
  }
  Result<std::unique_ptr<drift::DriftDetector>> made = drift::MakeDetector(options.detector, params);
  if (!made.ok()) {
    err << "error: " << made.status().message() << "\n";
    return 2;
  }
  drift::DriftDetector& detector = **made;

  std::string line;
  size_t line_number = 0;
  size_t index = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string text = Trim(line);
    if (text.empty()) continue;
    double value = 0;
    if (!ParseNumber(text, &value)) {
      out.flush();
      err << "error: line " << line_number << ": '" << text << "' is not a finite number\n";
      return 2;
    }
    const drift::DriftLevel level = detector.update(value);
    // Both lines when River holds both flags on one update (EDDM: a warning raised earlier
    // and a drift now), the warning first.
    if (level == drift::DriftLevel::kWarning || detector.warning_detected()) {
      out << "{\"index\": " << index << ", \"level\": \"warning\"}\n";
    }
    if (level == drift::DriftLevel::kDrift) {
      out << "{\"index\": " << index << ", \"level\": \"drift\"}\n";
    }
    ++index;
  }
  if (in.bad()) {
    err << "error: reading the input failed after line " << line_number << "\n";
    return 1;
  }
  out.flush();
  return 0;
}

int RunDriftCommand(const DriftCommandOptions& options) {
  if (options.input == "-" || options.input.empty()) {
    return RunDriftCommand(options, std::cin, std::cout, std::cerr);
  }
  std::ifstream file(options.input);
  if (!file) {
    std::cerr << "error: cannot open " << options.input << "\n";
    return 1;
  }
  return RunDriftCommand(options, file, std::cout, std::cerr);
}

Command RegisterDriftCommand(CLI::App& app) {
  auto options = std::make_shared<DriftCommandOptions>();
  CLI::App* sub = AddDriftCommand(app, *options);
  return {sub, [options] { return RunDriftCommand(*options); }};
}

}  // namespace streamlearn::cli

// drift_bench: false alarms and update throughput of every detector on 1,000,000-value
// stationary streams (no change anywhere, so every drift is a false alarm).
//   errors:   Bernoulli(0.2) bits, the error stream of a model with 80 % accuracy
//             (all detectors: the binary ones are meant for it, ADWIN/PH/KSWIN take any value)
//   gaussian: N(0, 1) values, the input of a numeric-feature monitor (ADWIN, PH, KSWIN)
// Detectors run with River's defaults (KSWIN seeded: seed=42). Figures, not assertions.
//
// Usage: drift_bench [N]   (default 1000000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/drift/factory.hpp"
#include "streamlearn/drift/python_random.hpp"

namespace {

using streamlearn::drift::DriftDetector;
using streamlearn::drift::DriftLevel;

struct Run {
  size_t drifts = 0;
  size_t warning_updates = 0;  // updates that reported kWarning
  size_t warning_onsets = 0;   // kWarning after an update that was not kWarning
  double seconds = 0;
};

Run Measure(DriftDetector& detector, const std::vector<double>& stream) {
  Run run;
  DriftLevel previous = DriftLevel::kNone;
  const auto start = std::chrono::steady_clock::now();
  for (double x : stream) {
    const DriftLevel level = detector.update(x);
    if (level == DriftLevel::kDrift) ++run.drifts;
    if (level == DriftLevel::kWarning) {
      ++run.warning_updates;
      if (previous != DriftLevel::kWarning) ++run.warning_onsets;
    }
    previous = level;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  streamlearn::drift::PythonRandom rng(20240601);
  std::vector<double> errors;
  std::vector<double> gaussian;
  errors.reserve(n);
  gaussian.reserve(n);
  for (size_t i = 0; i < n; ++i) errors.push_back(rng.random() < 0.2 ? 1.0 : 0.0);
  for (size_t i = 0; i < n; ++i) gaussian.push_back(rng.gauss(0, 1));

  struct Case {
    const char* stream_name;
    const std::vector<double>* stream;
    std::vector<std::string> detectors;
  };
  const std::vector<Case> cases = {
      {"bernoulli(0.2)", &errors,
       {"adwin", "ddm", "eddm", "hddm_a", "hddm_w", "page_hinkley", "kswin"}},
      {"gaussian(0,1)", &gaussian, {"adwin", "page_hinkley", "kswin"}},
  };

  std::printf("stationary streams of %zu values; every drift is a false alarm\n", n);
  std::printf("%-15s %-13s %10s %14s %14s %14s\n", "stream", "detector", "drifts",
              "warn_onsets", "warn_updates", "updates/s");
  for (const Case& c : cases) {
    for (const std::string& name : c.detectors) {
      std::map<std::string, std::string> params;
      if (name == "kswin") params["seed"] = "42";
      auto made = streamlearn::drift::MakeDetector(name, params);
      if (!made.ok()) {
        std::fprintf(stderr, "%s\n", made.status().message().c_str());
        return 1;
      }
      const Run run = Measure(**made, *c.stream);
      std::printf("%-15s %-13s %10zu %14zu %14zu %14.3g\n", c.stream_name, name.c_str(),
                  run.drifts, run.warning_onsets, run.warning_updates,
                  static_cast<double>(n) / run.seconds);
    }
  }
  return 0;
}

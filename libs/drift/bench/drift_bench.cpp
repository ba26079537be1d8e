// drift_bench: false alarms and update throughput of every detector on 1,000,000-value
// stationary streams (no change anywhere, so every drift is a false alarm).
//   errors:   Bernoulli(0.2) bits, the error stream of a model with 80 % accuracy
//             (all detectors: the binary ones are meant for it, ADWIN/PH/KSWIN take any value)
//   gaussian: N(0, 1) values, the input of a numeric-feature monitor (ADWIN, PH, KSWIN)
// Detectors run with River's defaults (KSWIN seeded: seed=42), and "adwin/clock=1" as the
// pipeline's warning ADWIN runs: testing every cut at every update. Figures, not assertions.
// Then the data-drift monitor on N/10 stationary events of 10 numeric (N(0,1)) and 3
// categorical (5, 20 and 50 categories) features each: events/s and feature updates/s,
// keyed by name and by the caller's ids.
//
// Usage: drift_bench [N]   (default 1000000)

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/drift/data_drift.hpp"
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

// The monitor on `events` events of 10 numeric + 3 categorical features; returns seconds.
double MeasureMonitor(streamlearn::drift::DataDriftMonitor& monitor, size_t events,
                      const std::vector<double>& numeric, const std::vector<uint8_t>& categorical,
                      bool by_id, size_t* alarms) {
  static const char* const kNumeric[] = {"n0", "n1", "n2", "n3", "n4",
                                         "n5", "n6", "n7", "n8", "n9"};
  static const char* const kCategorical[] = {"c0", "c1", "c2"};
  std::vector<std::string> values;  // category names, built before the clock starts
  for (int v = 0; v < 50; ++v) values.push_back("v" + std::to_string(v));
  const auto start = std::chrono::steady_clock::now();
  for (size_t e = 0; e < events; ++e) {
    for (uint32_t f = 0; f < 10; ++f) {
      const double x = numeric[e * 10 + f];
      auto event = by_id ? monitor.observe_numeric(f, kNumeric[f], x)
                         : monitor.observe_numeric(kNumeric[f], x);
      if (event) ++*alarms;
    }
    for (uint32_t f = 0; f < 3; ++f) {
      const std::string& v = values[categorical[e * 3 + f]];
      auto event = by_id ? monitor.observe_categorical(f, kCategorical[f], v)
                         : monitor.observe_categorical(kCategorical[f], v);
      if (event) ++*alarms;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
       {"adwin", "adwin/clock=1", "ddm", "eddm", "hddm_a", "hddm_w", "page_hinkley", "kswin"}},
      {"gaussian(0,1)", &gaussian, {"adwin", "adwin/clock=1", "page_hinkley", "kswin"}},
  };

  std::printf("stationary streams of %zu values; every drift is a false alarm\n", n);
  std::printf("%-15s %-13s %10s %14s %14s %14s\n", "stream", "detector", "drifts",
              "warn_onsets", "warn_updates", "updates/s");
  for (const Case& c : cases) {
    for (const std::string& label : c.detectors) {
      // "adwin/clock=1": a detector with one parameter changed (here the pipeline's
      // warning ADWIN, which scans every cut at every update).
      const size_t slash = label.find('/');
      const std::string name = label.substr(0, slash);
      std::map<std::string, std::string> params;
      if (slash != std::string::npos) {
        const size_t eq = label.find('=', slash);
        params[label.substr(slash + 1, eq - slash - 1)] = label.substr(eq + 1);
      }
      if (name == "kswin") params["seed"] = "42";
      auto made = streamlearn::drift::MakeDetector(name, params);
      if (!made.ok()) {
        std::fprintf(stderr, "%s\n", made.status().message().c_str());
        return 1;
      }
      const Run run = Measure(**made, *c.stream);
      std::printf("%-15s %-13s %10zu %14zu %14zu %14.3g\n", c.stream_name, label.c_str(),
                  run.drifts, run.warning_onsets, run.warning_updates,
                  static_cast<double>(n) / run.seconds);
    }
  }

  // The data-drift monitor: stationary features, so every alarm is a false one.
  const size_t events = n / 10;
  std::vector<double> numeric;
  std::vector<uint8_t> categorical;
  numeric.reserve(events * 10);
  categorical.reserve(events * 3);
  for (size_t i = 0; i < events * 10; ++i) numeric.push_back(rng.gauss(0, 1));
  const size_t cardinality[] = {5, 20, 50};
  for (size_t i = 0; i < events * 3; ++i) {
    // Skewed shares: category k has weight 1/(k+1).
    const size_t k = cardinality[i % 3];
    double total = 0;
    for (size_t c = 0; c < k; ++c) total += 1.0 / static_cast<double>(c + 1);
    double u = rng.random() * total;
    size_t c = 0;
    for (; c + 1 < k; ++c) {
      const double weight = 1.0 / static_cast<double>(c + 1);
      if (u < weight) break;
      u -= weight;
    }
    categorical.push_back(static_cast<uint8_t>(c));
  }
  std::printf("\ndata-drift monitor: %zu stationary events x (10 numeric + 3 categorical)\n",
              events);
  std::printf("%-20s %-5s %8s %12s %12s\n", "numeric", "keys", "alarms", "events/s",
              "updates/s");
  struct Numeric {
    const char* label;
    const char* detector;
    std::map<std::string, std::string> params;
  };
  const std::vector<Numeric> numerics = {{"adwin", "adwin", {}},
                                         {"kswin", "kswin", {}},
                                         {"kswin alpha=0.0001", "kswin", {{"alpha", "0.0001"}}}};
  for (const Numeric& numeric_detector : numerics) {
    for (bool by_id : {false, true}) {
      streamlearn::drift::DataDriftConfig config;
      config.numeric_detector = numeric_detector.detector;
      config.numeric_params = numeric_detector.params;
      auto monitor = streamlearn::drift::DataDriftMonitor::Create(config);
      if (!monitor.ok()) {
        std::fprintf(stderr, "%s\n", monitor.status().message().c_str());
        return 1;
      }
      size_t alarms = 0;
      const double seconds = MeasureMonitor(*monitor, events, numeric, categorical, by_id, &alarms);
      std::printf("%-20s %-5s %8zu %12.3g %12.3g\n", numeric_detector.label,
                  by_id ? "id" : "name", alarms,
                  static_cast<double>(events) / seconds,
                  static_cast<double>(events * 13) / seconds);
    }
  }
  return 0;
}

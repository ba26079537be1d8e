// data_drift_calibration: alarms per 100,000 values of the data-drift monitor on stationary
// generated features of several kinds, and how soon it finds a real shift. The figures
// behind AdwinDeltaForRate and the defaults of drift.data (docs/operations.md).
//
// Usage: data_drift_calibration [--events N] [--seeds S] [--rate R] [--delta D]
//                               [--block B] [--detector adwin|kswin] [--warmup W]
//                               [--cooldown C] [--reference R] [--param name=value]
//                               [--csv FILE]
//   --rate R    false_alarm_rate (the delta/alpha derived from it); else --delta D
//               (ADWIN's delta, or KSWIN's alpha) or the detector's default.
//   --csv FILE  instead: a real stream, every column a numeric feature, alarms per column.
// Each kind runs S seeds of N values on a monitor of its own; an alarm there is false.
// Counted are published alarms and, apart, detections the warm-up or a cool-down suppressed.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "../tests/support/stationary_streams.hpp"

namespace {

using streamlearn::drift::DataDriftConfig;
using streamlearn::drift::DataDriftMonitor;
using streamlearn::drift::FeatureKind;
using streamlearn::drift::PythonRandom;

struct Options {
  uint64_t events = 200000;
  int seeds = 5;
  double rate = -1;
  double delta = -1;
  uint32_t block = 1;
  uint32_t reference = 1000;
  uint32_t warmup = 0;
  uint32_t cooldown = 0;
  std::string detector = "adwin";
  std::map<std::string, std::string> params;  // --param name=value, River's names
  std::string csv;  // a real stream: every column a numeric feature, in row order
};

// Alarms per column of a CSV of numbers (a header line, then rows in stream order).
int RunCsv(const std::string& path, const DataDriftConfig& config) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 2;
  }
  std::vector<std::string> names;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  DataDriftMonitor m = std::move(DataDriftMonitor::Create(config)).value();
  uint64_t rows = 0;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string cell;
    for (size_t c = 0; c < names.size() && std::getline(row, cell, ','); ++c) {
      m.observe_numeric(names[c], std::strtod(cell.c_str(), nullptr));
    }
    ++rows;
  }
  std::printf("%s: %llu rows, %llu alarms (%.0f per 100,000 values)\n", path.c_str(),
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(m.alarms()),
              1e5 * static_cast<double>(m.alarms()) / static_cast<double>(rows * names.size()));
  for (const auto& c : m.counters()) {
    if (c.alarms + c.suppressed > 0) {
      std::printf("  %-28s %llu alarms, %llu suppressed\n", c.feature.c_str(),
                  static_cast<unsigned long long>(c.alarms), static_cast<unsigned long long>(c.suppressed));
    }
  }
  return 0;
}

DataDriftConfig ConfigOf(const Options& o) {
  DataDriftConfig c;
  c.numeric_detector = o.detector;
  c.numeric_block = o.block;
  c.numeric_reference_size = o.reference;
  c.warmup = o.warmup;
  c.numeric_params = o.params;
  c.cooldown = o.cooldown;
  if (o.rate >= 0) {
    c.false_alarm_rate = o.rate;
  } else if (o.delta > 0) {
    c.numeric_params[o.detector == "adwin" ? "delta" : "alpha"] = std::to_string(o.delta);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* v = argv[i + 1];
    if (key == "--events") o.events = std::strtoull(v, nullptr, 10);
    else if (key == "--seeds") o.seeds = std::atoi(v);
    else if (key == "--rate") o.rate = std::atof(v);
    else if (key == "--delta") o.delta = std::atof(v);
    else if (key == "--block") o.block = static_cast<uint32_t>(std::atoi(v));
    else if (key == "--reference") o.reference = static_cast<uint32_t>(std::atoi(v));
    else if (key == "--warmup") o.warmup = static_cast<uint32_t>(std::atoi(v));
    else if (key == "--cooldown") o.cooldown = static_cast<uint32_t>(std::atoi(v));
    else if (key == "--detector") o.detector = v;
    else if (key == "--csv") o.csv = v;
    else if (key == "--param") {
      const std::string kv = v;
      o.params[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    }
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  const DataDriftConfig config = ConfigOf(o);
  auto probe = DataDriftMonitor::Create(config);
  if (!probe.ok()) {
    std::fprintf(stderr, "%s\n", probe.status().message().c_str());
    return 2;
  }
  if (!o.csv.empty()) return RunCsv(o.csv, config);
  std::printf("detector %s, block %u, reference %u, rate %g, delta %g, %d seeds x %llu values\n",
              o.detector.c_str(), o.block, o.reference, o.rate, o.delta, o.seeds,
              static_cast<unsigned long long>(o.events));
  std::printf("%-12s %10s %10s %14s  %s\n", "stream", "alarms", "suppressed", "alarms/100k", "values");
  for (const auto& kind : streamlearn::drift::streams::kStationaryKinds) {
    const std::string name(kind.name);
    uint64_t alarms = 0, suppressed = 0;
    for (int seed = 0; seed < o.seeds; ++seed) {
      // Another seed and another phase of the cycles per run.
      streamlearn::drift::streams::StationaryStream stream(kind.name, static_cast<uint64_t>(1000 + seed),
                                                           static_cast<uint64_t>(seed) * 7919);
      DataDriftMonitor m = std::move(DataDriftMonitor::Create(config)).value();
      for (uint64_t i = 0; i < o.events; ++i) m.observe_numeric(name, stream.next());
      const auto c = m.counters(FeatureKind::kNumeric, name);
      alarms += c->alarms;
      suppressed += c->suppressed;
    }
    const double total = static_cast<double>(o.events) * o.seeds;
    std::printf("%-12s %10llu %10llu %14.3f  %s\n", name.c_str(), static_cast<unsigned long long>(alarms),
                static_cast<unsigned long long>(suppressed), 1e5 * static_cast<double>(alarms) / total,
                std::string(kind.what).c_str());
  }
  // Categoricals (PSI): independent draws, and a day name in order (48 events a day).
  static const char* const kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  static const char* const kLetters[] = {"a", "b", "c", "d", "e"};
  for (int day = 0; day < 2; ++day) {
    const char* name = day != 0 ? "cat_day" : "cat_uniform";
    uint64_t alarms = 0, suppressed = 0;
    for (int seed = 0; seed < o.seeds; ++seed) {
      PythonRandom rng(static_cast<uint64_t>(3000 + seed));
      DataDriftMonitor m = std::move(DataDriftMonitor::Create(config)).value();
      for (uint64_t i = 0; i < o.events; ++i) {
        const uint64_t t = i + static_cast<uint64_t>(seed) * 7919;
        m.observe_categorical(name, day != 0 ? kDays[(t / 48) % 7] : kLetters[static_cast<int>(rng.random() * 5)]);
      }
      const auto c = m.counters(FeatureKind::kCategorical, name);
      alarms += c->alarms;
      suppressed += c->suppressed;
    }
    const double total = static_cast<double>(o.events) * o.seeds;
    std::printf("%-12s %10llu %10llu %14.3f  %s\n", name, static_cast<unsigned long long>(alarms),
                static_cast<unsigned long long>(suppressed), 1e5 * static_cast<double>(alarms) / total,
                day != 0 ? "categorical: day name in order, 48 events a day" : "categorical: 5 categories, independent");
  }
  // A real shift: N(0, 1) for 20,000 values, then N(s, 1); values until the first alarm.
  for (double shift : {0.25, 0.5, 1.0, 2.0}) {
    std::vector<double> delays;
    for (int seed = 0; seed < o.seeds; ++seed) {
      PythonRandom rng(static_cast<uint64_t>(2000 + seed));
      DataDriftMonitor m = std::move(DataDriftMonitor::Create(config)).value();
      for (int i = 0; i < 20000; ++i) m.observe_numeric("x", rng.gauss(0, 1));
      const uint64_t before = m.alarms();
      double delay = -1;
      for (int i = 0; i < 100000 && delay < 0; ++i) {
        m.observe_numeric("x", rng.gauss(shift, 1));
        if (m.alarms() > before) delay = i + 1;
      }
      delays.push_back(delay);
    }
    std::printf("shift %.2f std: values to the first alarm:", shift);
    for (double d : delays) std::printf(" %.0f", d);
    std::printf("\n");
  }
  return 0;
}

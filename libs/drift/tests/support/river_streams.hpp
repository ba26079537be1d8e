#pragma once
// The streams River's drift tests and docstring examples feed their detectors, rebuilt
// with the exact generator ports of reference_rng.hpp, and the loops they run.
//   tests/drift/test_drift_detectors.py: data_stream_1, data_stream_2, data_stream_3
//   docstrings: binary detectors (DDM, EDDM, HDDM_A, HDDM_W): Random(42) choices, then
//   weighted choices; ADWIN, KSWIN, PageHinkley: Random(12345) choices [0,1] then [4..7].

#include <cstdint>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "reference_rng.hpp"

namespace streamlearn::testing {

// np.random.seed(12345); concatenate((randint(2, size=1000), randint(8, size=1000)))
inline std::vector<double> RiverDataStream1() {
  NumpyRandomState rng(12345);
  std::vector<double> data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.randint(0, 2)));
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.randint(0, 8)));
  return data;
}

// np.random.seed(12345); [binomial(1, 0.2) for 1000] + [binomial(1, 0.8) for 1000]
inline std::vector<double> RiverDataStream2() {
  NumpyRandomState rng(12345);
  std::vector<double> data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.binomial(1, 0.2)));
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.binomial(1, 0.8)));
  return data;
}

// np.random.seed(12345); normal(0, .1, 500) > 0, normal(.25, .1, 500) > 0, twice over.
inline std::vector<double> RiverDataStream3() {
  NumpyRandomState rng(12345);
  std::vector<double> data;
  for (double loc : {0.0, 0.25, 0.0, 0.25}) {
    for (int i = 0; i < 500; ++i) data.push_back(rng.normal(loc, 0.1) > 0 ? 1.0 : 0.0);
  }
  return data;
}

// The binary detectors' docstring stream: rng = random.Random(42);
// rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
inline std::vector<double> RiverBinaryDocStream() {
  PythonRandom rng(42);
  std::vector<double> data = rng.choices({0, 1}, 1000);
  const std::vector<double> more = rng.choices({0, 1}, {0.3, 0.7}, 1000);
  data.insert(data.end(), more.begin(), more.end());
  return data;
}

// ADWIN's, KSWIN's and PageHinkley's docstring stream: rng = random.Random(12345);
// rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
inline std::vector<double> RiverTwoLevelDocStream() {
  PythonRandom rng(12345);
  std::vector<double> data = rng.choices({0, 1}, 1000);
  const std::vector<double> more = rng.choices({4, 5, 6, 7}, 1000);
  data.insert(data.end(), more.begin(), more.end());
  return data;
}

// River's perform_test(): the indices after whose update drift_detected was true.
inline std::vector<size_t> DriftIndices(drift::DriftDetector& detector,
                                        const std::vector<double>& stream, size_t first = 0) {
  std::vector<size_t> found;
  for (size_t i = first; i < stream.size(); ++i) {
    if (detector.update(stream[i]) == drift::DriftLevel::kDrift) found.push_back(i);
  }
  return found;
}

// What the binary detectors' docstrings print: the first warning after the start and after
// each drift ("Warning detected at index i"), and every drift ("Change detected ...").
struct DocEvents {
  std::vector<size_t> warnings;
  std::vector<size_t> drifts;
  bool operator==(const DocEvents&) const = default;
};

// Reads the detectors' own warning flag, as the docstrings do (EDDM's can stay set on
// the update that reports a drift).
template <typename Detector>
DocEvents DocstringEvents(Detector& detector, const std::vector<double>& stream) {
  DocEvents events;
  bool print_warning = true;
  for (size_t i = 0; i < stream.size(); ++i) {
    const drift::DriftLevel level = detector.update(stream[i]);
    if (detector.warning_detected() && print_warning) {
      events.warnings.push_back(i);
      print_warning = false;
    }
    if (level == drift::DriftLevel::kDrift) {
      events.drifts.push_back(i);
      print_warning = true;
    }
  }
  return events;
}

}  // namespace streamlearn::testing

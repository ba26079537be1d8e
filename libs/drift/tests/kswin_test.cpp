#include <catch2/catch.hpp>

#include <memory>
#include <numeric>
#include <vector>

#include "streamlearn/drift/kswin.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

// Expected indices from River (newest release):
//   river/drift/kswin.py                  docstring example (alpha=0.0001, seed=42)
//   tests/drift/test_drift_detectors.py   test_kswin, test_kswin_coverage
// Expected p-values and samples were printed by CPython 3.11 (random) and scipy 1.10.1
// (stats.ks_2samp), with River's KSWIN.update transcribed into a loop (support/
// print_kswin_reference.py); doubles compare exactly.

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
KswinParams With(double alpha, int window_size, int stat_size, int64_t seed) {
  KswinParams p;
  p.alpha = alpha;
  p.window_size = window_size;
  p.stat_size = stat_size;
  p.seed = seed;
  return p;
}
Kswin MakeOrFail(const KswinParams& p) {
  Result<Kswin> made = Kswin::Create(p);
  REQUIRE(made.ok());
  return std::move(made).value();
}
MakeFn KswinMaker(KswinParams p) {
  return [p] { return std::unique_ptr<DriftDetector>(std::make_unique<Kswin>(MakeOrFail(p))); };
}
// Runs the detector, returning the detections and the sum of every p-value computed.
std::pair<std::vector<size_t>, double> RunWithPValues(Kswin& kswin,
                                                      const std::vector<double>& data,
                                                      int window_size) {
  std::vector<size_t> found;
  double p_sum = 0;
  int64_t filled = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    ++filled;
    if (kswin.update(data[i]) == DriftLevel::kDrift) found.push_back(i);
    if (filled >= window_size) p_sum += kswin.p_value();
    if (kswin.drift_detected()) filled = 0;
  }
  return {found, p_sum};
}
}  // namespace

TEST_CASE("kswin: python random.sample(range(n), k) is reproduced", "[kswin][rng]") {
  PythonRandom r(42);
  CHECK(r.sample_range(70, 30) ==
        std::vector<uint32_t>{14, 3,  35, 31, 28, 17, 13, 43, 47, 57, 34, 5,  37, 27, 2,
                              1,  58, 63, 69, 32, 38, 54, 67, 12, 45, 41, 59, 26, 51, 65});
  const std::vector<uint32_t> all = r.sample_range(100, 100);
  CHECK(std::vector<uint32_t>(all.begin(), all.begin() + 10) ==
        std::vector<uint32_t>{75, 35, 0, 20, 89, 54, 43, 98, 19, 27});
  // A population far larger than the sample takes CPython's set-based branch.
  PythonRandom big(7);
  CHECK(big.sample_range(100000, 8) ==
        std::vector<uint32_t>{42445, 19772, 51750, 85319, 6328, 9494, 70239, 12337});
}

TEST_CASE("kswin: the KS test matches scipy.stats.ks_2samp(method='auto')", "[kswin]") {
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 30; ++i) {
    a.push_back(((i * 37) % 101) / 10.0);
    b.push_back(((i * 53) % 97) / 10.0 + 1.5);
  }
  KsResult r = KsTwoSampleEqualSizes(a, b);
  CHECK(r.statistic == 0.16666666666666666);
  CHECK(r.p_value == 0.8079631540901643);
  r = KsTwoSampleEqualSizes(a, a);
  CHECK(r.statistic == 0.0);
  CHECK(r.p_value == 1.0);
  std::vector<double> c(15, 0.0);
  c.resize(30, 1.0);
  std::vector<double> d(5, 0.0);
  d.resize(30, 1.0);
  r = KsTwoSampleEqualSizes(c, d);  // ties
  CHECK(r.statistic == 0.3333333333333333);
  CHECK(r.p_value == 0.07088798787114439);
  std::vector<double> e(100);
  std::vector<double> f(100);
  std::iota(e.begin(), e.end(), 0.0);
  std::iota(f.begin(), f.end(), 40.0);
  r = KsTwoSampleEqualSizes(e, f);
  CHECK(r.statistic == 0.4);
  CHECK(r.p_value == 1.5550790371345692e-07);
}

TEST_CASE("kswin: River docstring example detects at index 1016", "[kswin][river]") {
  const std::vector<double> data = RiverTwoLevelDocStream();
  Kswin kswin = MakeOrFail(With(0.0001, 100, 30, 42));
  const auto [found, p_sum] = RunWithPValues(kswin, data, 100);
  CHECK(found == std::vector<size_t>{1016});
  CHECK(data[1016] == 6);  // "Change detected at index 1016, input value: 6"
  // Every one of the 1802 p-values equals scipy's: their sum is bit-identical.
  CHECK(p_sum == 1507.2261883002752);
}

TEST_CASE("kswin: River test_kswin (data_stream_1, window 200, stat 100, seed 42 -> 1042)",
          "[kswin][river]") {
  Kswin kswin = MakeOrFail(With(0.0001, 200, 100, 42));
  const auto [found, p_sum] = RunWithPValues(kswin, RiverDataStream1(), 200);
  CHECK(found == std::vector<size_t>{1042});
  CHECK(p_sum == 1274.0773093019557);
}

TEST_CASE("kswin: stationary Gaussian stream, River's defaults with seed 1", "[kswin]") {
  // KSWIN's false alarms on N(0, 1): the same ones River raises.
  PythonRandom rng(3);
  std::vector<double> data;
  for (int i = 0; i < 5000; ++i) data.push_back(rng.gauss(0, 1));
  KswinParams p;
  p.seed = 1;
  Kswin kswin = MakeOrFail(p);
  const auto [found, p_sum] = RunWithPValues(kswin, data, 100);
  CHECK(found == std::vector<size_t>{883, 1277, 1427, 2043, 3737, 4773});
  CHECK(p_sum == 2538.7202886998284);
}

TEST_CASE("kswin: River test_kswin_coverage (parameter errors)", "[kswin][river]") {
  KswinParams p;
  p.alpha = -0.1;
  CHECK(Kswin::Create(p).status().code() == ErrorCode::kInvalidArgument);
  p.alpha = 1.1;
  CHECK(Kswin::Create(p).status().code() == ErrorCode::kInvalidArgument);
  p = {};
  p.window_size = -10;
  CHECK(Kswin::Create(p).status().code() == ErrorCode::kInvalidArgument);
  p = {};
  p.window_size = 10;
  p.stat_size = 30;
  CHECK(Kswin::Create(p).status().code() == ErrorCode::kInvalidArgument);
  // River accepts these and then fails on the first full window.
  p = {};
  p.window_size = 100;
  p.stat_size = 60;
  CHECK(MakeKswin(p).status().code() == ErrorCode::kInvalidArgument);
  p.stat_size = 0;
  CHECK(MakeKswin(p).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("kswin: after a drift the window empties and the generator is re-seeded", "[kswin]") {
  const std::vector<double> data = RiverTwoLevelDocStream();
  Kswin kswin = MakeOrFail(With(0.0001, 100, 30, 42));
  for (size_t i = 0; i <= 1016; ++i) kswin.update(data[i]);
  REQUIRE(kswin.drift_detected());
  kswin.update(1.0);
  CHECK(kswin.window() == std::vector<double>{1.0});
  CHECK(Stat(kswin, "n") == 1);
  // Same detections as a fresh detector fed the rest of the stream.
  Kswin fresh = MakeOrFail(With(0.0001, 100, 30, 42));
  fresh.update(1.0);
  CHECK(Saved(kswin) != Saved(fresh));  // lifetime count differs ...
  std::vector<double> rest(data.begin() + 1017, data.end());
  CHECK(DriftIndices(kswin, rest) == DriftIndices(fresh, rest));  // ... behaviour does not
}

TEST_CASE("kswin: a starting window (River's `window`) and estimation", "[kswin]") {
  KswinParams p = With(0.005, 10, 3, 1);
  for (int i = 0; i < 12; ++i) p.window.push_back(i);
  Kswin kswin = MakeOrFail(p);
  CHECK(kswin.window().size() == 10);  // deque(window, maxlen=window_size)
  CHECK(kswin.window().front() == 2);
  CHECK(kswin.estimation() == 6.5);
  kswin.update(100);
  CHECK(kswin.window().back() == 100);
  kswin.reset();
  CHECK(kswin.window().front() == 2);  // reset() is the freshly constructed state
}

TEST_CASE("kswin: unseeded detectors still snapshot their seed", "[kswin]") {
  Kswin a;
  Kswin b;
  CHECK(Stat(a, "seed") != Stat(b, "seed"));  // 2^-64 chance of a false failure
}

TEST_CASE("kswin: snapshot, corrupt bytes, reset, non-finite input", "[kswin]") {
  const std::vector<double> data = RiverTwoLevelDocStream();
  const KswinParams p = With(0.0001, 100, 30, 42);
  KswinParams other = With(0.5, 40, 10, 7);
  other.window = {1, 2, 3};
  CheckSnapshotContinues(KswinMaker(p), KswinMaker(other), data, {5, 99, 400, 1016, 1500});
  CheckLoadRejectsCorruptBytes(KswinMaker(p), std::vector<double>(data.begin(), data.begin() + 150));
  CheckResetIsFresh(KswinMaker(p), data);
  CheckIgnoresNonFinite(KswinMaker(p), data);
}

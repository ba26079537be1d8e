#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "streamlearn/drift/eddm.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

// Expected indices from River (newest release):
//   river/drift/binary/eddm.py            docstring example (alpha=0.8, beta=0.75)
//   tests/drift/test_drift_detectors.py   test_eddm (alpha=0.9, beta=0.8)

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
EddmParams With(double alpha, double beta, int warm_start = 30) {
  EddmParams p;
  p.alpha = alpha;
  p.beta = beta;
  p.warm_start = warm_start;
  return p;
}
Eddm MakeOrFail(const EddmParams& p) {
  Result<Eddm> made = Eddm::Create(p);
  REQUIRE(made.ok());
  return std::move(made).value();
}
MakeFn EddmMaker(EddmParams p = {}) {
  return [p] { return std::unique_ptr<DriftDetector>(std::make_unique<Eddm>(MakeOrFail(p))); };
}
}  // namespace

TEST_CASE("eddm: River docstring example (warning 1059, change 1278)", "[eddm][river]") {
  Eddm eddm = MakeOrFail(With(0.8, 0.75));
  const DocEvents events = DocstringEvents(eddm, RiverBinaryDocStream());
  CHECK(events.warnings == std::vector<size_t>{1059});
  CHECK(events.drifts == std::vector<size_t>{1278});
}

TEST_CASE("eddm: River test_eddm (alpha=0.9, beta=0.8 on data_stream_2 -> 1059)",
          "[eddm][river]") {
  Eddm eddm = MakeOrFail(With(0.9, 0.8));
  CHECK(DriftIndices(eddm, RiverDataStream2()) == std::vector<size_t>{1059});
}

TEST_CASE("eddm: the distance deviation is the SAMPLE standard deviation", "[eddm]") {
  Eddm eddm;
  // Errors at values 1 and 4: distances 1 (from the start) and 3.
  for (double v : {1.0, 0.0, 0.0, 1.0}) eddm.update(v);
  CHECK(Stat(eddm, "mean_distance") == 2.0);
  CHECK(Stat(eddm, "std_distance") == std::sqrt(2.0));  // population would give 1
  eddm.reset();
  eddm.update(1.0);
  CHECK(Stat(eddm, "std_distance") == 0.0);  // one distance: River's Var gives 0
  CHECK(eddm.estimation() == 1.0);
}

TEST_CASE("eddm: warnings change only on errors and persist across correct values", "[eddm]") {
  Eddm eddm = MakeOrFail(With(0.9, 0.8));
  const std::vector<double> data = RiverDataStream2();
  bool checked = false;
  for (size_t i = 0; i + 1 < data.size() && !checked; ++i) {
    const DriftLevel level = eddm.update(data[i]);
    if (level == DriftLevel::kWarning && data[i + 1] == 0.0) {
      CHECK(eddm.update(data[i + 1]) == DriftLevel::kWarning);
      checked = true;
    }
  }
  CHECK(checked);
}

TEST_CASE("eddm: a drift needs more than warm_start values AND errors", "[eddm]") {
  // Errors at indices 0, 19, 29: distances 1, 19, 10. The first is seen before n >
  // warm_start, so the maximum of p' + 2s' is set on the second: mean 10, sample std
  // sqrt(162) -> 35.46. On the third, mean 10 and std 9 -> 28, a ratio of 0.79 < beta.
  std::vector<double> data(30, 0.0);
  data[0] = data[19] = data[29] = 1.0;
  Eddm two = MakeOrFail(With(0.95, 0.9, 2));
  CHECK(DriftIndices(two, data) == std::vector<size_t>{29});  // 3 errors > 2
  Eddm three = MakeOrFail(With(0.95, 0.9, 3));
  CHECK(DriftIndices(three, data).empty());  // 3 errors are not > 3
  CHECK(Stat(three, "p2s_max") == 10 + 2 * std::pow(162.0, 0.5));
}

TEST_CASE("eddm: parameters are validated (alpha >= beta as in River)", "[eddm]") {
  CHECK(EddmParams{}.validate().ok());
  for (const EddmParams& p : {With(0.8, 0.9), With(1.5, 0.9), With(0.9, -0.1), With(0.9, 0.8, -1)}) {
    CHECK(Eddm::Create(p).status().code() == ErrorCode::kInvalidArgument);
  }
  CHECK(Eddm::Create(With(0.8, 0.9)).status().message().find("alpha") != std::string::npos);
}

TEST_CASE("eddm: snapshot, corrupt bytes, reset, non-finite input", "[eddm]") {
  const std::vector<double> data = RiverDataStream2();
  CheckSnapshotContinues(EddmMaker(With(0.9, 0.8)), EddmMaker(With(0.5, 0.1, 2)), data,
                         {10, 700, 1059, 1300});
  CheckLoadRejectsCorruptBytes(EddmMaker(), std::vector<double>(data.begin(), data.begin() + 800));
  CheckResetIsFresh(EddmMaker(), data);
  CheckIgnoresNonFinite(EddmMaker(), data);
}

TEST_CASE("eddm: a warning raised earlier is still held on the update that drifts, as in River",
          "[eddm][river]") {
  // warm_start 2, alpha 0.95, beta 0.9. Errors at indices 0, 10, 19, 24: distances 1, 10,
  // 9, 5. River's arithmetic (sample std):
  //   index 10: mean 5.5, std sqrt(40.5)        -> p2s 18.2279 = the maximum
  //   index 19: mean 6.6667, std sqrt(24.3333)  -> p2s 16.5324, ratio 0.9070 in [0.9, 0.95): warning
  //   index 24: mean 6.25, std sqrt(16.9167)    -> p2s 14.4760, ratio 0.7942 < 0.9: drift,
  // and River's warning_detected is still True there (only an error with a ratio >= alpha
  // or the reset on the next update clears it).
  std::vector<double> data(26, 0.0);
  data[0] = data[10] = data[19] = data[24] = 1.0;
  Eddm eddm = MakeOrFail(With(0.95, 0.9, 2));
  DriftDetector& detector = eddm;
  for (size_t i = 0; i < data.size(); ++i) {
    INFO("index " << i);
    const DriftLevel level = detector.update(data[i]);
    if (i < 19) {
      CHECK(level == DriftLevel::kNone);
      CHECK_FALSE(detector.warning_detected());
    } else if (i < 24) {
      CHECK(level == DriftLevel::kWarning);
      CHECK(detector.warning_detected());
    } else if (i == 24) {
      CHECK(level == DriftLevel::kDrift);
      CHECK(detector.warning_detected());  // both, as River reports
      CHECK(Stat(eddm, "p2s_max") == 5.5 + 2 * std::pow(40.5, 0.5));
      CHECK(Stat(eddm, "std_distance") == std::pow(50.75 / 3, 0.5));
    } else {
      CHECK(level == DriftLevel::kNone);  // River resets on the update after a drift
      CHECK_FALSE(detector.warning_detected());
    }
  }
}

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "streamlearn/drift/ddm.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

// Expected indices from River (newest release):
//   river/drift/binary/ddm.py             docstring example
//   tests/drift/test_drift_detectors.py   test_ddm

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
Ddm MakeOrFail(const DdmParams& p) {
  Result<Ddm> made = Ddm::Create(p);
  REQUIRE(made.ok());
  return std::move(made).value();
}
MakeFn DdmMaker(DdmParams p = {}) {
  return [p] { return std::unique_ptr<DriftDetector>(std::make_unique<Ddm>(MakeOrFail(p))); };
}
}  // namespace

TEST_CASE("ddm: River docstring example (warning 1084, change 1334, warning 1492)",
          "[ddm][river]") {
  const std::vector<double> data = RiverBinaryDocStream();
  Ddm ddm;
  const DocEvents events = DocstringEvents(ddm, data);
  CHECK(events.warnings == std::vector<size_t>{1084, 1492});
  CHECK(events.drifts == std::vector<size_t>{1334});
}

TEST_CASE("ddm: River test_ddm (data_stream_2 -> 1049, ones -> nothing)", "[ddm][river]") {
  Ddm ddm;
  CHECK(DriftIndices(ddm, RiverDataStream2()) == std::vector<size_t>{1049});
  Ddm on_ones;
  CHECK(DriftIndices(on_ones, std::vector<double>(1000, 1.0)).empty());
}

TEST_CASE("ddm: the first test runs on value warm_start + 1", "[ddm]") {
  // zeros set p_min = s_min = 0 at the first test, after which any error fires a drift
  // (p + s > 0). The first test is at n = warm_start + 1.
  for (int warm_start : {0, 5, 30}) {
    INFO("warm_start " << warm_start);
    DdmParams p;
    p.warm_start = warm_start;
    std::vector<double> early(static_cast<size_t>(warm_start) + 1, 0.0);
    early.push_back(1.0);  // at index warm_start + 1: after a test on zeros
    Ddm a = MakeOrFail(p);
    CHECK(DriftIndices(a, early) == std::vector<size_t>{static_cast<size_t>(warm_start) + 1});

    std::vector<double> late(static_cast<size_t>(warm_start), 0.0);
    late.push_back(1.0);  // n = warm_start + 1: the first test sees this error already
    late.push_back(1.0);
    Ddm b = MakeOrFail(p);
    CHECK(DriftIndices(b, late).empty());
  }
}

TEST_CASE("ddm: warning and drift levels, and a fresh start after a drift", "[ddm]") {
  Ddm ddm;
  const std::vector<double> data = RiverDataStream2();
  bool saw_warning = false;
  for (size_t i = 0; i < data.size(); ++i) {
    const DriftLevel level = ddm.update(data[i]);
    if (level == DriftLevel::kWarning) {
      saw_warning = true;
      CHECK(ddm.warning_detected());
      CHECK(i < 1049);
    }
    if (level == DriftLevel::kDrift) {
      CHECK(i == 1049);
      CHECK(ddm.drift_detected());
      CHECK_FALSE(ddm.warning_detected());  // River clears the warning on a drift
      CHECK(ddm.n() == 1050);
      ddm.update(0.0);
      CHECK(ddm.n() == 1);  // the update after the drift started afresh
      CHECK(ddm.estimation() == 0.0);
      CHECK(Stat(ddm, "p_min") == 0.0);
      CHECK(ddm.lifetime_detections() == 1);
      break;
    }
  }
  CHECK(saw_warning);
}

TEST_CASE("ddm: estimation is the error rate since the last drift", "[ddm]") {
  Ddm ddm;
  CHECK(ddm.estimation() == 0.0);
  for (double v : {1.0, 0.0, 0.0, 1.0}) ddm.update(v);
  CHECK(ddm.estimation() == 0.5);
  CHECK(Stat(ddm, "n") == 4);
}

TEST_CASE("ddm: parameters are validated", "[ddm]") {
  CHECK(DdmParams{}.validate().ok());
  DdmParams a;
  a.warm_start = -1;
  DdmParams b;
  b.drift_threshold = std::nan("");
  DdmParams c;
  c.warning_threshold = -2;
  for (const DdmParams& p : {a, b, c}) {
    CHECK(Ddm::Create(p).status().code() == ErrorCode::kInvalidArgument);
    CHECK(MakeDdm(p).status().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("ddm: snapshot, corrupt bytes, reset, non-finite input", "[ddm]") {
  const std::vector<double> data = RiverDataStream2();
  DdmParams other;
  other.warm_start = 3;
  other.drift_threshold = 9;
  // 1049: right after the drift (reset pending); 10: before the first test.
  CheckSnapshotContinues(DdmMaker(), DdmMaker(other), data, {10, 500, 1049, 1500});
  CheckLoadRejectsCorruptBytes(DdmMaker(), std::vector<double>(data.begin(), data.begin() + 800));
  CheckResetIsFresh(DdmMaker(), data);
  CheckIgnoresNonFinite(DdmMaker(), data);
}

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "streamlearn/drift/hddm_a.hpp"
#include "streamlearn/drift/hddm_w.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

// Expected indices from River (newest release):
//   river/drift/binary/hddm_a.py, hddm_w.py   docstring examples
//   tests/drift/test_drift_detectors.py       test_hddm_a, test_hddm_w

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
template <typename D, typename P>
D MakeOrFail(const P& p) {
  Result<D> made = D::Create(p);
  REQUIRE(made.ok());
  return std::move(made).value();
}
HddmAParams TwoSidedA() {
  HddmAParams p;
  p.two_sided_test = true;
  return p;
}
HddmWParams TwoSidedW() {
  HddmWParams p;
  p.two_sided_test = true;
  return p;
}
MakeFn AMaker(HddmAParams p = {}) {
  return [p] { return std::unique_ptr<DriftDetector>(std::make_unique<HddmA>(MakeOrFail<HddmA>(p))); };
}
MakeFn WMaker(HddmWParams p = {}) {
  return [p] { return std::unique_ptr<DriftDetector>(std::make_unique<HddmW>(MakeOrFail<HddmW>(p))); };
}
// Ones then zeros: only a decrease.
std::vector<double> Decrease() {
  std::vector<double> data(300, 1.0);
  data.resize(600, 0.0);
  return data;
}
}  // namespace

TEST_CASE("hddm_a: River docstring example (warning 451, change 1206)", "[hddm_a][river]") {
  HddmA hddm;
  const DocEvents events = DocstringEvents(hddm, RiverBinaryDocStream());
  CHECK(events.warnings == std::vector<size_t>{451});
  CHECK(events.drifts == std::vector<size_t>{1206});
}

TEST_CASE("hddm_a: River test_hddm_a (1047, two-sided on data_stream_3: 531, 1015, 1545)",
          "[hddm_a][river]") {
  HddmA one_sided;
  CHECK(DriftIndices(one_sided, RiverDataStream2()) == std::vector<size_t>{1047});
  HddmA two_sided = MakeOrFail<HddmA>(TwoSidedA());
  CHECK(DriftIndices(two_sided, RiverDataStream3()) == std::vector<size_t>{531, 1015, 1545});
}

TEST_CASE("hddm_w: River docstring example (warning 451, change 1077)", "[hddm_w][river]") {
  HddmW hddm;
  const DocEvents events = DocstringEvents(hddm, RiverBinaryDocStream());
  CHECK(events.warnings == std::vector<size_t>{451});
  CHECK(events.drifts == std::vector<size_t>{1077});
}

TEST_CASE("hddm_w: River test_hddm_w (1018, two-sided on data_stream_3: 507, 1032, 1508)",
          "[hddm_w][river]") {
  HddmW one_sided;
  CHECK(DriftIndices(one_sided, RiverDataStream2()) == std::vector<size_t>{1018});
  HddmW two_sided = MakeOrFail<HddmW>(TwoSidedW());
  CHECK(DriftIndices(two_sided, RiverDataStream3()) == std::vector<size_t>{507, 1032, 1508});
}

TEST_CASE("hddm: the one-sided test ignores a decrease, the two-sided one reports it",
          "[hddm_a][hddm_w]") {
  HddmA a;
  CHECK(DriftIndices(a, Decrease()).empty());
  HddmA a2 = MakeOrFail<HddmA>(TwoSidedA());
  CHECK(!DriftIndices(a2, Decrease()).empty());
  HddmW w;
  CHECK(DriftIndices(w, Decrease()).empty());
  HddmW w2 = MakeOrFail<HddmW>(TwoSidedW());
  CHECK(!DriftIndices(w2, Decrease()).empty());
}

TEST_CASE("hddm: estimation and the fresh start after a drift", "[hddm_a][hddm_w]") {
  HddmA a;
  for (double v : {1.0, 0.0, 0.0, 1.0}) a.update(v);
  CHECK(a.estimation() == 0.5);
  const std::vector<double> data = RiverDataStream2();
  HddmA fresh;
  const std::vector<double> head(data.begin(), data.begin() + 1048);
  CHECK(DriftIndices(fresh, head) == std::vector<size_t>{1047});
  CHECK(Stat(fresh, "n") == 1048);
  fresh.update(1.0);
  CHECK(Stat(fresh, "n") == 1);
  CHECK(fresh.estimation() == 1.0);

  HddmW w;
  w.update(0.0);
  w.update(0.0);
  CHECK(w.estimation() == 0.0);
  w.update(1.0);
  CHECK(w.estimation() == 1.0);  // River's EWMean restarts from a value when its mean is 0
}

TEST_CASE("river stats: EWMean (watermill) reproduces River's docstring", "[hddm_w][river]") {
  RiverEwMean m;
  m.alpha = 0.5;
  std::vector<double> got;
  for (double x : {1, 3, 5, 4, 6, 8, 7, 9, 11}) {
    m.update(x);
    got.push_back(m.get());
  }
  CHECK(got == std::vector<double>{1.0, 2.0, 3.5, 3.75, 4.875, 6.4375, 6.71875, 7.859375,
                                   9.4296875});
}

TEST_CASE("hddm: parameters are validated", "[hddm_a][hddm_w]") {
  CHECK(HddmAParams{}.validate().ok());
  CHECK(HddmWParams{}.validate().ok());
  HddmAParams a;
  a.drift_confidence = 0;
  CHECK(HddmA::Create(a).status().code() == ErrorCode::kInvalidArgument);
  a = {};
  a.warning_confidence = 1;
  CHECK(MakeHddmA(a).status().code() == ErrorCode::kInvalidArgument);
  HddmWParams w;
  w.lambda_val = 1.5;
  CHECK(HddmW::Create(w).status().code() == ErrorCode::kInvalidArgument);
  w = {};
  w.drift_confidence = -1;
  CHECK(MakeHddmW(w).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("hddm: snapshot, corrupt bytes, reset, non-finite input", "[hddm_a][hddm_w]") {
  const std::vector<double> data = RiverDataStream3();
  HddmAParams other_a;
  other_a.drift_confidence = 0.1;
  CheckSnapshotContinues(AMaker(TwoSidedA()), AMaker(other_a), data, {0, 300, 531, 1015, 1800});
  CheckLoadRejectsCorruptBytes(AMaker(), std::vector<double>(data.begin(), data.begin() + 700));
  CheckResetIsFresh(AMaker(TwoSidedA()), data);
  CheckIgnoresNonFinite(AMaker(), data);

  HddmWParams other_w;
  other_w.lambda_val = 0.5;
  CheckSnapshotContinues(WMaker(TwoSidedW()), WMaker(other_w), data, {0, 300, 507, 1032, 1800});
  CheckLoadRejectsCorruptBytes(WMaker(), std::vector<double>(data.begin(), data.begin() + 700));
  CheckResetIsFresh(WMaker(TwoSidedW()), data);
  CheckIgnoresNonFinite(WMaker(), data);
}

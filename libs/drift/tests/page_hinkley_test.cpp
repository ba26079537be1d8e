#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "streamlearn/drift/page_hinkley.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

// Expected indices from River (newest release):
//   river/drift/page_hinkley.py           docstring example
//   tests/drift/test_drift_detectors.py   test_page_hinkley (modes up, down, both)

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
PageHinkley MakeOrFail(const PageHinkleyParams& p) {
  Result<PageHinkley> made = PageHinkley::Create(p);
  REQUIRE(made.ok());
  return std::move(made).value();
}
PageHinkleyParams Mode(PageHinkleyMode mode) {
  PageHinkleyParams p;
  p.mode = mode;
  return p;
}
MakeFn PhMaker(PageHinkleyParams p = {}) {
  return [p] {
    return std::unique_ptr<DriftDetector>(std::make_unique<PageHinkley>(MakeOrFail(p)));
  };
}
}  // namespace

TEST_CASE("page_hinkley: River docstring example detects at index 1006", "[page_hinkley][river]") {
  const std::vector<double> data = RiverTwoLevelDocStream();
  PageHinkley ph;
  CHECK(DriftIndices(ph, data) == std::vector<size_t>{1006});
  CHECK(data[1006] == 5);  // "Change detected at index 1006, input value: 5"
}

TEST_CASE("page_hinkley: River test_page_hinkley, modes up / down / both on data_stream_3",
          "[page_hinkley][river]") {
  const std::vector<double> data = RiverDataStream3();
  PageHinkley up = MakeOrFail(Mode(PageHinkleyMode::kUp));
  CHECK(DriftIndices(up, data) == std::vector<size_t>{588, 1681});
  PageHinkley down = MakeOrFail(Mode(PageHinkleyMode::kDown));
  CHECK(DriftIndices(down, data) == std::vector<size_t>{1172});
  PageHinkley both = MakeOrFail(Mode(PageHinkleyMode::kBoth));
  CHECK(DriftIndices(both, data) == std::vector<size_t>{588, 1097, 1585});
}

TEST_CASE("page_hinkley: the first test runs on value min_instances", "[page_hinkley]") {
  // A jump so large the test exceeds the threshold on the first value after it.
  PageHinkleyParams p;
  p.min_instances = 10;
  p.threshold = 5;
  std::vector<double> data(5, 0.0);
  data.resize(20, 100.0);
  PageHinkley ph = MakeOrFail(p);
  // Values 6.. are above the mean from index 5 on, but n = 10 arrives at index 9.
  CHECK(DriftIndices(ph, data).front() == 9);
  PageHinkley early = MakeOrFail(p);
  data.assign(3, 0.0);
  data.resize(5, 100.0);
  CHECK(DriftIndices(early, data).empty());  // fewer than min_instances values in all
}

TEST_CASE("page_hinkley: estimation, no warnings, fresh start after a drift", "[page_hinkley]") {
  PageHinkley ph;
  for (double v : {1.0, 2.0, 3.0}) CHECK(ph.update(v) == DriftLevel::kNone);
  CHECK(ph.estimation() == 2.0);
  const std::vector<double> data = RiverTwoLevelDocStream();
  PageHinkley fresh;
  for (size_t i = 0; i <= 1006; ++i) {
    CHECK(fresh.update(data[i]) != DriftLevel::kWarning);
  }
  CHECK(fresh.drift_detected());
  fresh.update(3.0);
  CHECK(Stat(fresh, "n") == 1);
  CHECK(fresh.estimation() == 3.0);
}

TEST_CASE("page_hinkley: parameters and modes are validated", "[page_hinkley]") {
  CHECK(PageHinkleyParams{}.validate().ok());
  CHECK(ParsePageHinkleyMode("both").ok());
  Result<PageHinkleyMode> bad = ParsePageHinkleyMode("sideways");
  CHECK(bad.status().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.status().message().find("up, down, both") != std::string::npos);
  PageHinkleyParams p;
  p.min_instances = -1;
  CHECK(PageHinkley::Create(p).status().code() == ErrorCode::kInvalidArgument);
  p = {};
  p.alpha = 2;
  CHECK(MakePageHinkley(p).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("page_hinkley: snapshot, corrupt bytes, reset, non-finite input", "[page_hinkley]") {
  const std::vector<double> data = RiverDataStream3();
  PageHinkleyParams other;
  other.threshold = 1;
  other.mode = PageHinkleyMode::kUp;
  CheckSnapshotContinues(PhMaker(), PhMaker(other), data, {0, 20, 588, 1097, 1800});
  CheckLoadRejectsCorruptBytes(PhMaker(), std::vector<double>(data.begin(), data.begin() + 700));
  CheckResetIsFresh(PhMaker(), data);
  CheckIgnoresNonFinite(PhMaker(), data);
}

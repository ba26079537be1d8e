#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/drift/factory.hpp"
#include "support/detector_checks.hpp"
#include "support/river_streams.hpp"

using namespace streamlearn;
using namespace streamlearn::drift;
using namespace streamlearn::testing;

namespace {
std::unique_ptr<DriftDetector> MakeOrFail(const std::string& name,
                                          const std::map<std::string, std::string>& params = {}) {
  Result<std::unique_ptr<DriftDetector>> made = MakeDetector(name, params);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}
std::string ErrorOf(const std::string& name, const std::map<std::string, std::string>& params) {
  Result<std::unique_ptr<DriftDetector>> made = MakeDetector(name, params);
  REQUIRE_FALSE(made.ok());
  CHECK(made.status().code() == ErrorCode::kInvalidArgument);
  return made.status().message();
}
bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("factory: every name builds its detector with River's defaults", "[factory]") {
  for (const std::string& name : DetectorNames()) {
    std::unique_ptr<DriftDetector> d = MakeOrFail(name);
    CHECK(d->name() == name);
    CHECK(!DetectorParamNames(name).empty());
  }
  CHECK(DetectorNames().size() == 7);
}

TEST_CASE("factory: River-named parameters reach the detectors (River's expected indices)",
          "[factory][river]") {
  auto adwin = MakeOrFail("adwin", {{"delta", "0.002"}, {"clock", "32"}});
  CHECK(DriftIndices(*adwin, RiverTwoLevelDocStream()) == std::vector<size_t>{1023});
  auto eddm = MakeOrFail("eddm", {{"alpha", "0.9"}, {"beta", "0.8"}});
  CHECK(DriftIndices(*eddm, RiverDataStream2()) == std::vector<size_t>{1059});
  auto hddm_a = MakeOrFail("hddm_a", {{"two_sided_test", "true"}});
  CHECK(DriftIndices(*hddm_a, RiverDataStream3()) == std::vector<size_t>{531, 1015, 1545});
  auto hddm_w = MakeOrFail("hddm_w", {{"two_sided_test", "True"}, {"lambda_val", "0.05"}});
  CHECK(DriftIndices(*hddm_w, RiverDataStream3()) == std::vector<size_t>{507, 1032, 1508});
  auto ph = MakeOrFail("page_hinkley", {{"mode", "down"}});
  CHECK(DriftIndices(*ph, RiverDataStream3()) == std::vector<size_t>{1172});
  auto kswin = MakeOrFail("kswin", {{"alpha", "0.0001"}, {"window_size", "200"},
                                    {"stat_size", "100"}, {"seed", "42"}});
  CHECK(DriftIndices(*kswin, RiverDataStream1()) == std::vector<size_t>{1042});
  auto ddm = MakeOrFail("ddm", {{"warm_start", "30"}, {"warning_threshold", "2"},
                                {"drift_threshold", "3.0"}});
  CHECK(DriftIndices(*ddm, RiverDataStream2()) == std::vector<size_t>{1049});
  auto with_window = MakeOrFail("kswin", {{"window", "1,2.5,-3e2"}, {"seed", "-5"}});
  CHECK(Stat(*with_window, "window") == 3);
  CHECK(Stat(*with_window, "seed") == 5);  // CPython seeds with abs(seed)
}

TEST_CASE("factory: errors name the culprit and list the valid choices", "[factory]") {
  std::string m = ErrorOf("cusum", {});
  CHECK(Contains(m, "'cusum'"));
  CHECK(Contains(m, "adwin, ddm, eddm, hddm_a, hddm_w, page_hinkley, kswin"));

  m = ErrorOf("ddm", {{"warmstart", "3"}});
  CHECK(Contains(m, "'warmstart'"));
  CHECK(Contains(m, "warm_start, warning_threshold, drift_threshold"));

  m = ErrorOf("ddm", {{"warm_start", "3.5"}});
  CHECK(Contains(m, "warm_start"));
  CHECK(Contains(m, "'3.5'"));
  m = ErrorOf("adwin", {{"delta", "abc"}});
  CHECK(Contains(m, "delta"));
  m = ErrorOf("adwin", {{"delta", "nan"}});
  CHECK(Contains(m, "delta"));
  m = ErrorOf("adwin", {{"delta", "2"}});  // parses, but out of range
  CHECK(Contains(m, "delta"));
  m = ErrorOf("hddm_a", {{"two_sided_test", "yes"}});
  CHECK(Contains(m, "two_sided_test"));
  m = ErrorOf("page_hinkley", {{"mode", "sideways"}});
  CHECK(Contains(m, "up, down, both"));
  m = ErrorOf("eddm", {{"alpha", "0.5"}});  // below the default beta 0.9
  CHECK(Contains(m, "alpha"));
  m = ErrorOf("kswin", {{"window", "1,,2"}});
  CHECK(Contains(m, "window"));
  m = ErrorOf("kswin", {{"stat_size", "99999999999"}});
  CHECK(Contains(m, "stat_size"));
}

TEST_CASE("factory: every detector's stats stay finite (they go into JSON drift events)",
          "[factory]") {
  std::vector<double> data = RiverDataStream2();
  const std::vector<double> more = RiverDataStream1();
  data.insert(data.end(), more.begin(), more.end());
  for (const std::string& name : DetectorNames()) {
    INFO(name);
    std::map<std::string, std::string> params;
    if (name == "kswin") params["seed"] = "1";
    std::unique_ptr<DriftDetector> d = MakeOrFail(name, params);
    bool finite = true;
    auto check = [&] {
      for (const auto& [key, value] : d->stats()) finite = finite && std::isfinite(value);
      finite = finite && std::isfinite(d->estimation());
    };
    check();
    for (double v : data) {
      d->update(v);
      check();
    }
    CHECK(finite);
  }
}

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "support/reference_rng.hpp"

// Streams and expected detection indices come from River's own tests (River >= 0.25):
//   river/drift/adwin.py                  docstring example
//   tests/drift/test_drift_detectors.py   test_adwin
//   river/drift/test_adwin_regression.py  TestDriftDetection ... TestEdgeCases
// The streams are regenerated with bit-exact ports of CPython's and numpy's generators
// (support/reference_rng.hpp, pinned by reference_rng_test.cpp).

using namespace streamlearn;
using namespace streamlearn::drift;
using streamlearn::testing::NumpyRandomState;
using streamlearn::testing::PythonRandom;

namespace {

std::vector<size_t> DetectionIndices(DriftDetector& detector, const std::vector<double>& stream,
                                     size_t first_index = 0) {
  std::vector<size_t> found;
  for (size_t i = first_index; i < stream.size(); ++i) {
    if (detector.update(stream[i]) == DriftLevel::kDrift) found.push_back(i);
  }
  return found;
}

void Append(std::vector<double>& to, const std::vector<double>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000) with rng = Random(seed),
// repeated `segments / 2` times.
std::vector<double> TwoLevelChoices(uint64_t seed, int segments) {
  PythonRandom rng(seed);
  std::vector<double> data;
  for (int s = 0; s < segments; ++s) {
    Append(data, s % 2 == 0 ? rng.choices({0, 1}, 1000) : rng.choices({4, 5, 6, 7}, 1000));
  }
  return data;
}

// np.random.seed(12345); concatenate((randint(2, size=1000), randint(8, size=1000)))
std::vector<double> NumpyStream1() {
  NumpyRandomState rng(12345);
  std::vector<double> data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.randint(0, 2)));
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<double>(rng.randint(0, 8)));
  return data;
}

Adwin MakeOrFail(const AdwinParams& params) {
  Result<Adwin> made = Adwin::Create(params);
  REQUIRE(made.ok());
  return std::move(made).value();
}

AdwinParams With(void (*edit)(AdwinParams&)) {
  AdwinParams p;
  edit(p);
  return p;
}

double Stat(const DriftDetector& d, const std::string& key) {
  for (const auto& [name, value] : d.stats()) {
    if (name == key) return value;
  }
  FAIL("no stat named " << key);
  return 0;
}

std::string Saved(const DriftDetector& d) {
  std::string bytes;
  ByteWriter w(&bytes);
  d.save(w);
  return bytes;
}

std::vector<double> Bernoulli(PythonRandom& rng, double p, size_t n) {
  std::vector<double> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(rng.random() < p ? 1.0 : 0.0);
  return out;
}

}  // namespace

// ---- River's examples and expected indices ----

TEST_CASE("adwin: River docstring example detects at index 1023 only", "[adwin][river]") {
  const std::vector<double> data = TwoLevelChoices(12345, 2);
  Adwin adwin;
  std::vector<size_t> found = DetectionIndices(adwin, data);
  CHECK(found == std::vector<size_t>{1023});
  CHECK(data[1023] == 4);  // "Change detected at index 1023, input value: 4"
}

TEST_CASE("adwin: River test_adwin / test_basic_drift_at_expected_index (numpy stream)",
          "[adwin][river]") {
  Adwin adwin;
  CHECK(DetectionIndices(adwin, NumpyStream1()) == std::vector<size_t>{1023});
}

TEST_CASE("adwin: River test_multiple_drifts detects at 1023, 2015, 3007", "[adwin][river]") {
  Adwin adwin;
  CHECK(DetectionIndices(adwin, TwoLevelChoices(42, 4)) == std::vector<size_t>{1023, 2015, 3007});
}

TEST_CASE("adwin: River test_no_drift_constant_stream", "[adwin][river]") {
  Adwin adwin;
  for (int i = 0; i < 5000; ++i) REQUIRE(adwin.update(1.0) == DriftLevel::kNone);
}

TEST_CASE("adwin: River test_no_drift_stable_distribution", "[adwin][river]") {
  PythonRandom rng(123);
  Adwin adwin;
  uint64_t drifts = 0;
  for (int i = 0; i < 5000; ++i) drifts += adwin.update(rng.gauss(0, 1)) == DriftLevel::kDrift;
  CHECK(adwin.n_detections() <= 2);  // River's assertion
  // Stronger: over the whole stream, not only since the last drift.
  CHECK(drifts == adwin.lifetime_detections());
  CHECK(drifts <= 2);
}

TEST_CASE("adwin: River test_immediate_large_shift", "[adwin][river]") {
  Adwin adwin = MakeOrFail(With([](AdwinParams& p) { p.delta = 0.01; }));
  for (int i = 0; i < 200; ++i) adwin.update(0.0);
  bool detected = false;
  for (int i = 0; i < 200 && !detected; ++i) detected = adwin.update(100.0) == DriftLevel::kDrift;
  CHECK(detected);
}

TEST_CASE("adwin: River statistics tests (width, total, estimation, variance)", "[adwin][river]") {
  SECTION("test_width_grows") {
    Adwin adwin;
    for (int i = 1; i <= 100; ++i) {
      adwin.update(1.0);
      REQUIRE(adwin.width() == i);
    }
  }
  SECTION("test_total_and_estimation") {
    Adwin adwin;
    for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) adwin.update(v);
    CHECK(adwin.total() == Approx(15.0));
    CHECK(adwin.estimation() == Approx(3.0));
    CHECK(adwin.width() == 5);
    CHECK(adwin.variance() == Approx(10.0));  // sum of squared deviations from 3
  }
  SECTION("test_variance_correctness") {
    PythonRandom rng(999);
    std::vector<double> values;
    for (int i = 0; i < 500; ++i) values.push_back(rng.gauss(5, 2));
    Adwin adwin;
    for (double v : values) adwin.update(v);
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
    double expected = 0;
    for (double v : values) expected += (v - mean) * (v - mean);
    CHECK(adwin.variance() == Approx(expected).epsilon(1e-6));
  }
  SECTION("test_estimation_after_drift") {
    Adwin adwin;
    for (int i = 0; i < 1000; ++i) adwin.update(0.0);
    for (int i = 0; i < 1000; ++i) adwin.update(10.0);
    CHECK(adwin.estimation() > 5.0);
  }
  SECTION("test_width_zero_estimation") {
    CHECK(Adwin().estimation() == 0.0);
  }
  SECTION("test_sequence_exact_statistics (clock so large no test runs)") {
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) { p.clock = 1000000; }));
    std::vector<double> values;
    for (int i = 0; i < 200; ++i) values.push_back(i % 7);
    for (double v : values) adwin.update(v);
    const double sum = std::accumulate(values.begin(), values.end(), 0.0);
    double expected = 0;
    for (double v : values) expected += (v - sum / 200) * (v - sum / 200);
    CHECK(adwin.width() == 200.0);
    CHECK(adwin.total() == Approx(sum));
    CHECK(adwin.variance() == Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("adwin: River parameter tests", "[adwin][river]") {
  SECTION("test_clock_1") {
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) { p.clock = 1; }));
    CHECK(!DetectionIndices(adwin, NumpyStream1()).empty());
  }
  SECTION("test_different_deltas") {
    NumpyRandomState rng(42);
    std::vector<double> data;
    for (int i = 0; i < 500; ++i) data.push_back(rng.standard_normal());
    for (int i = 0; i < 500; ++i) data.push_back(rng.standard_normal() + 0.5);
    auto count = [&](double delta) {
      AdwinParams p;
      p.delta = delta;
      Adwin adwin = MakeOrFail(p);
      return DetectionIndices(adwin, data).size();
    };
    CHECK(count(0.2) >= count(0.001));
  }
  SECTION("test_max_buckets_variation") {
    for (int max_buckets : {2, 5, 10, 20}) {
      AdwinParams p;
      p.max_buckets = max_buckets;
      Adwin adwin = MakeOrFail(p);
      PythonRandom rng(42);
      for (int i = 0; i < 2000; ++i) adwin.update(rng.random());
      CHECK(adwin.width() > 0);
    }
  }
  SECTION("test_min_window_length") {
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) {
      p.min_window_length = 1;
      p.clock = 1;
    }));
    PythonRandom rng(42);
    int detections = 0;
    for (int i = 0; i < 500; ++i) detections += adwin.update(rng.gauss(0, 1)) == DriftLevel::kDrift;
    for (int i = 0; i < 500; ++i) detections += adwin.update(rng.gauss(5, 1)) == DriftLevel::kDrift;
    CHECK(detections >= 1);
  }
  SECTION("test_grace_period") {
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) {
      p.grace_period = 100;
      p.clock = 1;
    }));
    for (int i = 0; i < 50; ++i) adwin.update(0.0);
    for (int i = 0; i < 50; ++i) adwin.update(1000.0);
    CHECK(adwin.n_detections() == 0);
    CHECK(adwin.lifetime_detections() == 0);
  }
  SECTION("test_n_detections_increments") {
    // River runs this on the bare helper, which never resets; here the lifetime count.
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) {
      p.delta = 0.01;
      p.clock = 1;
    }));
    for (int i = 0; i < 500; ++i) adwin.update(0.0);
    for (int i = 0; i < 500; ++i) adwin.update(100.0);
    CHECK(adwin.lifetime_detections() >= 1);
  }
}

TEST_CASE("adwin: River edge-case tests", "[adwin][river]") {
  SECTION("test_single_element") {
    Adwin adwin;
    adwin.update(42.0);
    CHECK(adwin.width() == 1);
    CHECK(adwin.total() == 42.0);
    CHECK(adwin.estimation() == 42.0);
  }
  SECTION("test_two_elements") {
    Adwin adwin;
    adwin.update(1.0);
    adwin.update(2.0);
    CHECK(adwin.width() == 2);
    CHECK(adwin.total() == 3.0);
    CHECK(adwin.estimation() == 1.5);
  }
  SECTION("test_large_values") {
    Adwin adwin;
    for (int i = 0; i < 100; ++i) adwin.update(1e15);
    CHECK(adwin.width() == 100);
    CHECK(adwin.estimation() == Approx(1e15));
  }
  SECTION("test_negative_values") {
    Adwin adwin;
    for (int i = 0; i < 100; ++i) adwin.update(-5.0);
    CHECK(adwin.estimation() == Approx(-5.0));
  }
  SECTION("test_alternating_values") {
    Adwin adwin;
    uint64_t drifts = 0;
    for (int i = 0; i < 2000; ++i) drifts += adwin.update(i % 2) == DriftLevel::kDrift;
    CHECK(adwin.n_detections() <= 1);
    CHECK(drifts <= 1);
  }
  SECTION("test_very_long_stream") {
    PythonRandom rng(42);
    Adwin adwin;
    for (int i = 0; i < 100000; ++i) adwin.update(rng.random());
    CHECK(adwin.width() > 0);
    CHECK(adwin.estimation() > 0.0);
    CHECK(adwin.estimation() < 1.0);
  }
  SECTION("test_reset_on_drift_detected: the update after a drift starts a new window") {
    Adwin adwin = MakeOrFail(With([](AdwinParams& p) { p.clock = 1; }));
    for (int i = 0; i < 500; ++i) adwin.update(0.0);
    bool found = false;
    for (int i = 0; i < 500 && !found; ++i) found = adwin.update(100.0) == DriftLevel::kDrift;
    REQUIRE(found);
    CHECK(adwin.drift_detected());
    CHECK(adwin.n_detections() == 1);
    adwin.update(50.0);
    CHECK(adwin.width() == 1);
    CHECK(adwin.total() == 50.0);
    CHECK_FALSE(adwin.drift_detected());
    CHECK(adwin.n_detections() == 0);  // River rebuilt its helper, counter included
    CHECK(adwin.lifetime_detections() == 1);
  }
}

// ---- Semantics River leaves implicit ----

TEST_CASE("adwin: tests for a cut only every clock updates, once width > grace_period",
          "[adwin]") {
  std::vector<double> step(100, 0.0);
  step.resize(300, 1.0);
  auto first_detection = [&](const AdwinParams& p) {
    Adwin adwin = MakeOrFail(p);
    const std::vector<size_t> found = DetectionIndices(adwin, step);
    REQUIRE(!found.empty());
    return found.front();
  };
  // Testing on every update finds the step at index 115 ...
  const size_t every_update = first_detection(With([](AdwinParams& p) { p.clock = 1; }));
  CHECK(every_update == 115);
  // ... with clock = 32 the first test at or after it runs on update 128 (index 127).
  CHECK(first_detection(AdwinParams{}) == 127);
  // No test while width <= grace_period: the first one runs at width 151 (index 150).
  CHECK(first_detection(With([](AdwinParams& p) {
          p.clock = 1;
          p.grace_period = 150;
        })) == 150);
}

TEST_CASE("adwin: on a drift the oldest buckets are dropped until no cut remains", "[adwin]") {
  Adwin adwin;
  std::vector<double> step(1000, 0.0);
  step.resize(1100, 1.0);
  size_t index = 0;
  while (adwin.update(step[index]) != DriftLevel::kDrift) ++index;
  // Detected at the 32nd update's test, when the window held 1000 zeros and 24 ones.
  REQUIRE(index == 1023);
  CHECK(adwin.drift_detected());
  // Old zeros were dropped, bucket by bucket from the oldest; the ones never are (a window
  // left with ones alone could not be cut further).
  CHECK(adwin.width() < 1024);
  CHECK(adwin.total() == 24);
  CHECK(adwin.estimation() > 24.0 / 1024);
  CHECK(Stat(adwin, "width") == adwin.width());
  CHECK(Stat(adwin, "n_detections") == 1);
  // The next update starts from an empty window (River's reset on drift_detected).
  adwin.update(1.0);
  CHECK(adwin.width() == 1);
}

TEST_CASE("adwin: a stationary Bernoulli(0.2) stream of 100k values raises few drifts",
          "[adwin]") {
  // ADWIN bounds the false-alarm probability of each test by delta (the union bound over
  // cuts is what the ln(width) in delta' pays for). 100000 / clock = 3125 tests at
  // delta = 0.002 allow at most 6.25 false alarms in expectation. The bound is loose (the
  // measured count was 0 on each of 30 seeds), so this asserts the guarantee, not a tuned
  // number.
  for (uint64_t seed : {1, 2, 3}) {
    PythonRandom rng(seed);
    Adwin adwin;
    const std::vector<double> data = Bernoulli(rng, 0.2, 100000);
    const size_t drifts = DetectionIndices(adwin, data).size();
    INFO("seed " << seed << ": " << drifts << " drifts");
    CHECK(drifts <= 6);
  }
}

TEST_CASE("adwin: an abrupt mean change 0.1 -> 0.5 is detected quickly", "[adwin]") {
  // From the cut test: with ~5000 old values at mean 0.1, delta' = ln(2 ln(5000) / 0.002)
  // ~ 9.05 and var_w ~ 0.09, so eps ~ sqrt(1.63 / n1) + 6.03 / n1 drops below the 0.4 jump
  // once W1 holds ~40 new values. A test then waits up to one clock period (32 updates)
  // and bucket boundaries add a few more. Tests run at 5023, 5055, 5087, ...; over 200
  // seeds the delay measured 23..87 (mostly 55), never a false alarm before the change.
  // The bound is three clock periods.
  constexpr size_t kChangeAt = 5000;
  constexpr size_t kMaxDelay = 96;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    PythonRandom rng(seed);
    std::vector<double> data = Bernoulli(rng, 0.1, kChangeAt);
    Append(data, Bernoulli(rng, 0.5, 2000));
    Adwin adwin;
    const std::vector<size_t> found = DetectionIndices(adwin, data);
    INFO("seed " << seed);
    REQUIRE(!found.empty());
    CHECK(found.front() >= kChangeAt);  // no false alarm before the change
    const size_t first_after = found.front();
    CHECK(first_after - kChangeAt <= kMaxDelay);
  }
}

// ---- Interface, parameters, persistence ----

TEST_CASE("adwin: parameters are validated", "[adwin]") {
  CHECK(AdwinParams{}.validate().ok());
  const std::vector<AdwinParams> bad = {
      With([](AdwinParams& p) { p.delta = 0; }),
      With([](AdwinParams& p) { p.delta = 1; }),
      With([](AdwinParams& p) { p.delta = std::numeric_limits<double>::quiet_NaN(); }),
      With([](AdwinParams& p) { p.clock = 0; }),
      With([](AdwinParams& p) { p.max_buckets = 1; }),
      With([](AdwinParams& p) { p.max_buckets = 100000; }),
      With([](AdwinParams& p) { p.min_window_length = 0; }),
      With([](AdwinParams& p) { p.grace_period = -1; }),
  };
  for (const AdwinParams& p : bad) {
    CHECK(p.validate().code() == ErrorCode::kInvalidArgument);
    CHECK(Adwin::Create(p).status().code() == ErrorCode::kInvalidArgument);
    CHECK(MakeAdwin(p).status().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("adwin: works through the DriftDetector interface", "[adwin]") {
  Result<std::unique_ptr<DriftDetector>> made = MakeAdwin(AdwinParams{});
  REQUIRE(made.ok());
  DriftDetector& detector = **made;
  CHECK(detector.name() == "adwin");
  CHECK(DetectionIndices(detector, TwoLevelChoices(12345, 2)) == std::vector<size_t>{1023});
  std::vector<std::string> keys;
  for (const auto& [name, value] : detector.stats()) keys.push_back(name);
  CHECK(keys == std::vector<std::string>{"width", "estimation", "total", "variance",
                                         "variance_in_window", "n_detections",
                                         "lifetime_detections"});
  CHECK(Stat(detector, "lifetime_detections") == 1);
  CHECK(ToString(DriftLevel::kNone) == "none");
  CHECK(ToString(DriftLevel::kWarning) == "warning");
  CHECK(ToString(DriftLevel::kDrift) == "drift");
}

TEST_CASE("adwin: reset() returns to the freshly constructed state", "[adwin]") {
  const std::vector<double> data = TwoLevelChoices(42, 4);
  Adwin adwin;
  DetectionIndices(adwin, data);
  adwin.reset();
  CHECK(adwin.width() == 0);
  CHECK(adwin.lifetime_detections() == 0);
  CHECK(Saved(adwin) == Saved(Adwin()));
  CHECK(DetectionIndices(adwin, data) == std::vector<size_t>{1023, 2015, 3007});
}

TEST_CASE("adwin: non-finite values are ignored", "[adwin]") {
  Adwin adwin;
  for (int i = 0; i < 20; ++i) adwin.update(i);
  const std::string before = Saved(adwin);
  CHECK(adwin.update(std::numeric_limits<double>::quiet_NaN()) == DriftLevel::kNone);
  CHECK(adwin.update(std::numeric_limits<double>::infinity()) == DriftLevel::kNone);
  CHECK(Saved(adwin) == before);
}

TEST_CASE("adwin: save/load mid-stream continues bit-identically", "[adwin]") {
  const std::vector<double> data = TwoLevelChoices(42, 4);
  // 1500: mid-window; 1023 and 2015: right after a drift, with the window reset pending;
  // 3: before the first merge.
  for (size_t cut : {size_t{3}, size_t{1500}, size_t{1023}, size_t{2015}}) {
    INFO("saved after index " << cut);
    Adwin original;
    for (size_t i = 0; i <= cut; ++i) original.update(data[i]);
    const std::string bytes = Saved(original);

    // A detector made with other parameters takes the saved ones.
    Result<std::unique_ptr<DriftDetector>> restored =
        MakeAdwin(With([](AdwinParams& p) { p.clock = 1; }));
    REQUIRE(restored.ok());
    ByteReader in(bytes);
    REQUIRE((*restored)->load(in).ok());
    CHECK(in.at_end());
    CHECK(Saved(**restored) == bytes);

    CHECK(DetectionIndices(**restored, data, cut + 1) ==
          DetectionIndices(original, data, cut + 1));
    CHECK(Saved(**restored) == Saved(original));
    CHECK((*restored)->stats() == original.stats());
  }
}

TEST_CASE("adwin: load rejects truncated, garbage and inconsistent bytes", "[adwin]") {
  Adwin original;
  const std::vector<double> data = TwoLevelChoices(12345, 2);
  for (size_t i = 0; i < 1500; ++i) original.update(data[i]);
  const std::string bytes = Saved(original);

  auto load = [](Adwin& into, const std::string& b) {
    ByteReader in(b);
    return into.load(in);
  };

  Adwin target;
  target.update(7.0);
  const std::string target_before = Saved(target);

  SECTION("every truncation") {
    for (size_t n = 0; n < bytes.size(); ++n) {
      INFO("first " << n << " bytes");
      CHECK(load(target, bytes.substr(0, n)).code() == ErrorCode::kCorruption);
    }
    CHECK(Saved(target) == target_before);  // failures leave the detector as it was
  }
  SECTION("garbage") {
    PythonRandom rng(5);
    for (int trial = 0; trial < 200; ++trial) {
      std::string junk(rng.choice_index(400), '\0');
      for (char& c : junk) c = static_cast<char>(rng.choice_index(256));
      CHECK_FALSE(load(target, junk).ok());
    }
    CHECK(Saved(target) == target_before);
  }
  SECTION("edited fields") {
    // Offsets follow save(): str "adwin" (4 + 5), version u32, delta f64, 4 x i64 params,
    // drift flag u8, tick, n_detections, lifetime (8 each), total, variance, width f64.
    constexpr size_t kVersion = 9;
    constexpr size_t kDelta = 13;
    constexpr size_t kMaxBuckets = kDelta + 8 + 8;
    constexpr size_t kDriftFlag = kDelta + 8 + 4 * 8;
    constexpr size_t kWidth = kDriftFlag + 1 + 3 * 8 + 2 * 8;
    auto edited = [&](size_t at, const void* value, size_t n) {
      std::string b = bytes;
      b.replace(at, n, static_cast<const char*>(value), n);
      return b;
    };
    const uint32_t version = 2;
    const double bad_delta = 1.5;
    const int64_t one_bucket = 1;
    const uint8_t flag = 2;
    const double width_off_by_one = original.width() + 1;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_FALSE(load(target, "x" + bytes.substr(1)).ok());
    CHECK_FALSE(load(target, edited(kVersion, &version, 4)).ok());
    CHECK_FALSE(load(target, edited(kDelta, &bad_delta, 8)).ok());
    CHECK_FALSE(load(target, edited(kMaxBuckets, &one_bucket, 8)).ok());
    CHECK_FALSE(load(target, edited(kDriftFlag, &flag, 1)).ok());
    CHECK_FALSE(load(target, edited(kWidth, &width_off_by_one, 8)).ok());
    CHECK_FALSE(load(target, edited(kWidth, &nan, 8)).ok());
    CHECK(Saved(target) == target_before);
    // The unedited bytes still load: the offsets above hit what they meant to.
    CHECK(load(target, bytes).ok());
  }
}

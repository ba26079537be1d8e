#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;
using namespace streamlearn::drift;

namespace {

DataDriftMonitor MakeOrFail(const DataDriftConfig& config) {
  Result<DataDriftMonitor> made = DataDriftMonitor::Create(config);
  REQUIRE(made.ok());
  return std::move(made).value();
}

std::string Saved(const DataDriftMonitor& m) {
  std::string bytes;
  ByteWriter w(&bytes);
  m.save(w);
  return bytes;
}

// A category drawn from `shares` (which add up to 1), named "a", "b", ...
std::string_view Draw(PythonRandom& rng, const std::vector<double>& shares) {
  static const char* const kNames[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                       "k", "l", "m", "n", "o", "p"};
  const double u = rng.random();
  double acc = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    acc += shares[i];
    if (u < acc) return kNames[i];
  }
  return kNames[shares.size() - 1];
}

// One event of the mixed stream used by the snapshot and keying tests: two numeric
// features (one shifting by 2 std at `shift_at`) and two categoricals (one shifting).
struct Tick {
  double stable;
  double shifting;
  std::string_view cat_stable;
  std::string_view cat_shifting;
};

std::vector<Tick> MixedStream(size_t n, size_t shift_at, uint64_t seed) {
  PythonRandom rng(seed);
  std::vector<Tick> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Tick t;
    t.stable = rng.gauss(10, 3);
    t.shifting = rng.gauss(0, 1) + (i >= shift_at ? 2.0 : 0.0);
    t.cat_stable = Draw(rng, {0.5, 0.3, 0.2});
    t.cat_shifting = Draw(rng, i >= shift_at ? std::vector<double>{0.2, 0.2, 0.6}
                                             : std::vector<double>{0.7, 0.2, 0.1});
    out.push_back(t);
  }
  return out;
}

// Feeds ticks [from, to) by name; returns the events with the tick index they came on.
std::vector<std::pair<size_t, DataDriftEvent>> Feed(DataDriftMonitor& m,
                                                    const std::vector<Tick>& ticks,
                                                    size_t from, size_t to) {
  std::vector<std::pair<size_t, DataDriftEvent>> events;
  auto keep = [&](size_t i, std::optional<DataDriftEvent> e) {
    if (e) events.emplace_back(i, std::move(*e));
  };
  for (size_t i = from; i < to; ++i) {
    keep(i, m.observe_numeric("stable", ticks[i].stable));
    keep(i, m.observe_numeric("shifting", ticks[i].shifting));
    keep(i, m.observe_categorical("cat_stable", ticks[i].cat_stable));
    keep(i, m.observe_categorical("cat_shifting", ticks[i].cat_shifting));
  }
  return events;
}

DataDriftConfig SmallWindows() {
  DataDriftConfig c;
  c.psi_reference_size = 1000;
  c.psi_current_size = 1000;
  c.psi_eval_every = 50;
  return c;
}

}  // namespace

TEST_CASE("data drift: PSI matches hand-computed examples", "[data_drift][psi]") {
  // ref 0.5/0.3/0.2 vs cur 0.2/0.3/0.5: 2 * 0.3 * ln(2.5) = 0.5497744391244931
  const std::vector<uint32_t> ref = {50, 30, 20};
  const std::vector<uint32_t> cur = {20, 30, 50};
  const double by_hand = (0.2 - 0.5) * std::log(0.2 / 0.5) + (0.3 - 0.3) * std::log(0.3 / 0.3) +
                         (0.5 - 0.2) * std::log(0.5 / 0.2);
  CHECK(PopulationStabilityIndex(ref, cur, 1e-4) == by_hand);
  CHECK(by_hand == Approx(0.5497744391244931).epsilon(1e-15));

  // An empty bin counts as a share of epsilon: ref 0.5/0.5/0 vs cur 0.5/0.25/0.25
  // = 0 + 0.25 ln 2 + (0.25 - 1e-4) ln(0.25 / 1e-4) = 2.1285158932529735
  const std::vector<uint32_t> ref2 = {50, 50, 0};
  const std::vector<uint32_t> cur2 = {50, 25, 25};
  const double by_hand2 = (0.5 - 0.5) * std::log(0.5 / 0.5) +
                          (0.25 - 0.5) * std::log(0.25 / 0.5) +
                          (0.25 - 1e-4) * std::log(0.25 / 1e-4);
  CHECK(PopulationStabilityIndex(ref2, cur2, 1e-4) == by_hand2);
  CHECK(by_hand2 == Approx(2.1285158932529735).epsilon(1e-15));
  // Bins empty on both sides add exactly nothing; identical windows give exactly 0.
  CHECK(PopulationStabilityIndex(std::vector<uint32_t>{50, 30, 20, 0},
                                 std::vector<uint32_t>{20, 30, 50, 0}, 1e-4) == by_hand);
  CHECK(PopulationStabilityIndex(ref, ref, 1e-4) == 0.0);

  SECTION("the monitor reports the same value, with the bins that moved") {
    DataDriftConfig c;
    c.psi_reference_size = 100;
    c.psi_current_size = 100;
    c.psi_eval_every = 100;
    DataDriftMonitor m = MakeOrFail(c);
    std::vector<DataDriftEvent> events;
    auto feed = [&](std::string_view v, int times) {
      for (int i = 0; i < times; ++i) {
        if (auto e = m.observe_categorical("country", v)) events.push_back(*e);
      }
    };
    feed("DE", 50), feed("FR", 30), feed("IT", 20);  // reference
    feed("IT", 50), feed("FR", 30);
    CHECK(events.empty());
    feed("DE", 20);  // the 100th current value: first PSI
    REQUIRE(events.size() == 1);
    const DataDriftEvent& e = events[0];
    CHECK(e.feature == "country");
    CHECK(e.kind == FeatureKind::kCategorical);
    CHECK(e.detector == "psi");
    CHECK(e.statistic == by_hand);
    CHECK(e.threshold == 0.25);
    CHECK(e.observations == 200);
    CHECK(e.alarms == 1);
    CHECK(e.reference_count == 100);
    CHECK(e.current_count == 100);
    REQUIRE(e.top_categories.size() == 3);
    // DE and IT moved (equal terms up to rounding), FR did not and comes last.
    CHECK(e.top_categories[2] == CategoryShare{"FR", 0.3, 0.3, 0.0});
    for (const CategoryShare& s : e.top_categories) {
      if (s.category == "DE") {
        CHECK(s.reference_share == 0.5);
        CHECK(s.current_share == 0.2);
      }
      if (s.category == "IT") {
        CHECK(s.reference_share == 0.2);
        CHECK(s.current_share == 0.5);
      }
    }
    const auto counters = m.counters(FeatureKind::kCategorical, "country");
    REQUIRE(counters);
    CHECK(counters->last_psi == by_hand);
    CHECK(counters->alarms == 1);
    CHECK(counters->psi_evaluations == 1);
    CHECK(m.alarms() == 1);
  }
}

TEST_CASE("data drift: a 2-std mean shift is reported by adwin and names the feature",
          "[data_drift][numeric]") {
  constexpr size_t kShiftAt = 5000;
  constexpr size_t kEvents = 20000;
  const std::vector<Tick> ticks = MixedStream(kEvents, kShiftAt, 7);
  DataDriftMonitor m = MakeOrFail(DataDriftConfig{});
  std::vector<std::pair<size_t, DataDriftEvent>> numeric;
  for (const auto& [i, e] : Feed(m, ticks, 0, kEvents)) {
    if (e.kind == FeatureKind::kNumeric) numeric.emplace_back(i, e);
  }
  // One alarm, on the shifting feature, soon after the change; the stationary one
  // (mean 10, std 3: a different scale) stays quiet over all 20,000 events.
  REQUIRE(numeric.size() == 1);
  const auto& [index, e] = numeric[0];
  const size_t delay = index - kShiftAt;
  WARN("adwin: 2-std shift at event " << kShiftAt << " reported " << delay << " events later");
  CHECK(index >= kShiftAt);
  CHECK(delay < 128);  // 4 x ADWIN's clock
  CHECK(e.feature == "shifting");
  CHECK(e.detector == "adwin");
  CHECK(e.observations == index + 1);
  CHECK(e.alarms == 1);
  CHECK(e.threshold == 0.002);
  // ADWIN saw quantiles of the first 1,000 values; the event reports that reference
  // sample's raw mean, and the raw mean of the part ADWIN kept (which still holds
  // pre-change values besides the new ones, so it lies between the two levels).
  CHECK(e.reference_mean == Approx(0).margin(0.2));
  CHECK(e.reference_count == 1000);
  CHECK(e.current_mean > 0.5);
  CHECK(e.current_mean < 2.5);
  CHECK(e.current_count <= 1024);
  auto stat = [&](const char* name) {
    for (const auto& [n, v] : e.stats) {
      if (n == name) return v;
    }
    return -1.0;
  };
  CHECK(stat("quantile_before") == Approx(0.5).margin(0.05));  // stationary: uniform quantiles
  CHECK(stat("quantile_after") > 0.6);
  CHECK(e.statistic == Approx(std::abs(stat("quantile_after") - stat("quantile_before"))));
  CHECK_FALSE(e.stats.empty());
  CHECK(m.counters(FeatureKind::kNumeric, "stable")->alarms == 0);
  CHECK(m.counters(FeatureKind::kNumeric, "stable")->observations == kEvents);
  CHECK(m.counters(FeatureKind::kNumeric, "shifting")->alarms == 1);
}

TEST_CASE("data drift: adwin events summarise the values since the previous drift",
          "[data_drift][numeric]") {
  // Level 0, then 3 from 4000, then back to 0 from 8000: two drifts.
  PythonRandom rng(21);
  DataDriftMonitor m = MakeOrFail(DataDriftConfig{});
  std::vector<DataDriftEvent> events;
  for (int i = 0; i < 12000; ++i) {
    const double level = i >= 4000 && i < 8000 ? 3.0 : 0.0;
    if (auto e = m.observe_numeric("latency", rng.gauss(level, 1))) events.push_back(*e);
  }
  REQUIRE(events.size() == 2);
  // After a drift the reference is rebuilt from the 1,000 values that follow: the second
  // event's reference is the level-3 regime.
  CHECK(events[0].reference_count == 1000);
  CHECK(events[1].reference_count == 1000);
  CHECK(events[1].reference_mean == Approx(3).margin(0.2));
  CHECK(events[1].current_mean < events[1].reference_mean - 0.5);
  CHECK(events[1].alarms == 2);
  CHECK(m.alarms() == 2);
}

TEST_CASE("data drift: a stationary heavy-tailed feature with rare huge outliers stays quiet", "[data_drift][numeric]") {
  // Amounts: log-normal around 50 with 1% corrupt values in [1e6, 1e9). On raw values
  // ADWIN's bound (made for [0, 1]) fires again and again; on reference quantiles it must
  // not, and a real shift of the typical amount is still found.
  PythonRandom rng(5);
  auto amount = [&](double scale) {
    return rng.random() < 0.01 ? 1e6 + rng.random() * 1e9 : scale * std::exp(rng.gauss(0, 1));
  };
  DataDriftMonitor quantiles = MakeOrFail(DataDriftConfig{});
  DataDriftConfig raw_config;
  raw_config.numeric_reference_size = 0;
  DataDriftMonitor raw = MakeOrFail(raw_config);
  int quantile_alarms = 0, raw_alarms = 0, shifted_at = -1;
  for (int i = 0; i < 100000; ++i) {
    const double v = amount(50);
    quantile_alarms += quantiles.observe_numeric("amount", v).has_value();
    raw_alarms += raw.observe_numeric("amount", v).has_value();
  }
  for (int i = 0; i < 5000 && shifted_at < 0; ++i) {
    if (quantiles.observe_numeric("amount", amount(150))) shifted_at = i;
  }
  WARN("heavy-tailed stationary amounts, 100,000 values: " << raw_alarms << " alarms on raw values, "
       << quantile_alarms << " on quantiles; x3 shift found after " << shifted_at << " values");
  CHECK(raw_alarms > 10);  // the failure mode this guards against
  CHECK(quantile_alarms == 0);
  CHECK(shifted_at >= 0);
  CHECK(shifted_at < 200);
}

TEST_CASE("data drift: kswin on the values works the same way", "[data_drift][numeric]") {
  constexpr size_t kShiftAt = 5000;
  constexpr size_t kEvents = 20000;
  const std::vector<Tick> ticks = MixedStream(kEvents, kShiftAt, 7);
  DataDriftConfig c;
  c.numeric_detector = "kswin";
  c.numeric_params = {{"alpha", "0.0001"}};  // River's docstring value; seed set to 42
  DataDriftMonitor m = MakeOrFail(c);
  std::vector<size_t> shifting;
  size_t stable_alarms = 0;
  std::optional<DataDriftEvent> first;
  const auto all = Feed(m, ticks, 0, kEvents);
  for (const auto& [i, e] : all) {
    if (e.kind != FeatureKind::kNumeric) continue;
    if (e.feature == "stable") ++stable_alarms;
    if (e.feature == "shifting") {
      shifting.push_back(i);
      if (!first) first = e;
    }
  }
  size_t before_shift = 0;
  for (size_t i : shifting) before_shift += i < kShiftAt ? 1 : 0;
  REQUIRE(first);
  REQUIRE(shifting.back() >= kShiftAt);
  size_t first_after = 0;
  for (size_t i : shifting) {
    if (i >= kShiftAt) {
      first_after = i;
      break;
    }
  }
  WARN("kswin (alpha 1e-4): shift reported " << first_after - kShiftAt
                                             << " events later; false alarms: " << before_shift
                                             << " before the shift, " << stable_alarms
                                             << " on the stationary feature in " << kEvents);
  CHECK(first_after - kShiftAt < 200);
  CHECK(stable_alarms <= 2);
  CHECK(before_shift <= 1);
  CHECK(first->detector == "kswin");
  CHECK(first->threshold == 0.0001);
  CHECK(first->reference_count == 70);
  CHECK(first->current_count == 30);
  // Deterministic: the default seed makes a second monitor detect the same.
  DataDriftMonitor again = MakeOrFail(c);
  CHECK(Feed(again, ticks, 0, kEvents) == all);
}

TEST_CASE("data drift: a categorical shift crosses the PSI threshold within one window",
          "[data_drift][psi]") {
  constexpr size_t kShiftAt = 20000;
  constexpr size_t kEvents = 50000;
  const DataDriftConfig c;  // windows of 5000, every 100 values, threshold 0.25
  const std::vector<Tick> ticks = MixedStream(kEvents, kShiftAt, 11);
  DataDriftMonitor m = MakeOrFail(c);
  std::vector<std::pair<size_t, DataDriftEvent>> alarms;
  for (auto& [i, e] : Feed(m, ticks, 0, kEvents)) {
    if (e.kind == FeatureKind::kCategorical) alarms.emplace_back(i, std::move(e));
  }
  // Once per change: the alarm, then a fresh reference from the changed distribution.
  REQUIRE(alarms.size() == 1);
  const auto& [index, e] = alarms[0];
  WARN("psi: shift at value " << kShiftAt << " reported " << index - kShiftAt
                              << " values later, PSI " << e.statistic);
  CHECK(index >= kShiftAt);
  CHECK(index - kShiftAt < c.psi_current_size);
  CHECK(e.feature == "cat_shifting");
  CHECK(e.statistic > 0.25);
  REQUIRE(e.top_categories.size() == 3);
  CHECK(e.top_categories[0].category == "c");  // 0.1 -> 0.6 moved most
  CHECK(e.top_categories[0].current_share > e.top_categories[0].reference_share);
  const auto shifting = m.counters(FeatureKind::kCategorical, "cat_shifting");
  const auto stable = m.counters(FeatureKind::kCategorical, "cat_stable");
  REQUIRE(shifting);
  REQUIRE(stable);
  CHECK(shifting->alarms == 1);
  CHECK(stable->alarms == 0);
  // The new reference is the new distribution: later PSIs are small again.
  CHECK(shifting->last_psi < 0.05);
}

TEST_CASE("data drift: a stationary categorical stays below the threshold",
          "[data_drift][psi]") {
  // 10 categories, some rare, over 50,000 values (fixed seed).
  const std::vector<double> shares = {0.3, 0.2, 0.15, 0.1, 0.08, 0.07, 0.05, 0.03, 0.015, 0.005};
  PythonRandom rng(2024);
  DataDriftMonitor m = MakeOrFail(DataDriftConfig{});
  size_t alarms = 0;
  for (int i = 0; i < 50000; ++i) {
    if (m.observe_categorical("channel", Draw(rng, shares))) ++alarms;
  }
  const auto c = m.counters(FeatureKind::kCategorical, "channel");
  REQUIRE(c);
  WARN("stationary categorical: max PSI " << c->max_psi << " over " << c->psi_evaluations
                                          << " evaluations");
  CHECK(alarms == 0);
  CHECK(c->psi_evaluations == (50000 - 5000 - 5000) / 100 + 1);
  CHECK(c->max_psi > 0);
  CHECK(c->max_psi < 0.02);  // the sampling noise is about (bins - 1) * (1/5000 + 1/5000)
  CHECK(c->categories == 10);
}

TEST_CASE("data drift: memory is bounded by max_categories and max_features",
          "[data_drift][bounds]") {
  DataDriftConfig c;
  c.max_categories = 2;
  c.max_features = 3;
  c.psi_reference_size = 10;
  c.psi_current_size = 10;
  c.psi_eval_every = 10;
  DataDriftMonitor m = MakeOrFail(c);

  // a, b tracked; c, d share "other".
  for (int i = 0; i < 10; ++i) m.observe_categorical("plan", i < 5 ? "a" : "b");
  std::optional<DataDriftEvent> e;
  for (int i = 0; i < 10; ++i) {
    auto got = m.observe_categorical("plan", i % 2 == 0 ? "c" : "d");
    if (got) e = got;
  }
  REQUIRE(e);  // all of the current window in "other", none in the reference
  REQUIRE(e->top_categories.size() == 3);
  CHECK(e->top_categories[0].category == kOtherCategory);
  CHECK(e->top_categories[0].current_share == 1.0);
  CHECK(e->top_categories[0].reference_share == 0.0);
  auto plan = m.counters(FeatureKind::kCategorical, "plan");
  REQUIRE(plan);
  CHECK(plan->categories == 2);
  CHECK(plan->pooled == 10);

  // Three features at most, whatever their kind; the rest are counted, never tracked.
  m.observe_numeric("amount", 1.0);
  m.observe_numeric(7, "age", 30.0);
  CHECK(m.tracked_features() == 3);
  m.observe_numeric("score", 1.0);
  m.observe_numeric(8, "score2", 2.0);
  m.observe_numeric(8, "score2", 3.0);
  m.observe_categorical("country", "DE");
  m.observe_categorical(3, "city", "Berlin");
  CHECK(m.tracked_features() == 3);
  CHECK(m.ignored_values() == 5);
  CHECK_FALSE(m.counters(FeatureKind::kNumeric, "score"));
  CHECK_FALSE(m.counters(FeatureKind::kCategorical, "country"));
  // Tracked features still work.
  m.observe_numeric(7, "age", 31.0);
  CHECK(m.counters(FeatureKind::kNumeric, "age")->observations == 2);
  CHECK(m.counters().size() == 3);
}

TEST_CASE("data drift: NaN and infinities are skipped and counted", "[data_drift][numeric]") {
  const std::vector<Tick> ticks = MixedStream(8000, 5000, 3);
  DataDriftMonitor clean = MakeOrFail(DataDriftConfig{});
  DataDriftMonitor dirty = MakeOrFail(DataDriftConfig{});
  std::vector<std::pair<size_t, DataDriftEvent>> clean_events;
  std::vector<std::pair<size_t, DataDriftEvent>> dirty_events;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < ticks.size(); ++i) {
    if (auto e = clean.observe_numeric("shifting", ticks[i].shifting)) {
      clean_events.emplace_back(i, *e);
    }
    if (i % 100 == 0) {
      CHECK_FALSE(dirty.observe_numeric("shifting", nan));
      CHECK_FALSE(dirty.observe_numeric("shifting", i % 200 == 0 ? inf : -inf));
    }
    if (auto e = dirty.observe_numeric("shifting", ticks[i].shifting)) {
      dirty_events.emplace_back(i, *e);
    }
  }
  CHECK_FALSE(clean_events.empty());
  CHECK(dirty_events == clean_events);  // same detections, same observation counts
  const auto c = dirty.counters(FeatureKind::kNumeric, "shifting");
  REQUIRE(c);
  CHECK(c->non_finite == 160);
  CHECK(c->observations == 8000);
  CHECK(dirty.non_finite_values() == 160);
  CHECK(clean.non_finite_values() == 0);
}

TEST_CASE("data drift: keying by the caller's ids equals keying by name",
          "[data_drift][keys]") {
  const std::vector<Tick> ticks = MixedStream(12000, 5000, 5);
  DataDriftMonitor by_name = MakeOrFail(SmallWindows());
  DataDriftMonitor by_id = MakeOrFail(SmallWindows());
  const auto expected = Feed(by_name, ticks, 0, ticks.size());
  std::vector<std::pair<size_t, DataDriftEvent>> got;
  auto keep = [&](size_t i, std::optional<DataDriftEvent> e) {
    if (e) got.emplace_back(i, std::move(*e));
  };
  for (size_t i = 0; i < ticks.size(); ++i) {
    keep(i, by_id.observe_numeric(0, "stable", ticks[i].stable));
    keep(i, by_id.observe_numeric(1, "shifting", ticks[i].shifting));
    keep(i, by_id.observe_categorical(0, "cat_stable", ticks[i].cat_stable));
    // An id past the cache falls back to the name.
    keep(i, by_id.observe_categorical(1u << 20, "cat_shifting", ticks[i].cat_shifting));
  }
  CHECK(expected.size() >= 2);
  CHECK(got == expected);
  CHECK(Saved(by_id) == Saved(by_name));
}

TEST_CASE("data drift: keying by name in a changing order equals keying by ids",
          "[data_drift][keys]") {
  // numeric_slot() tries the slot after the previous one first: events that name their
  // features in another order, skip one or add a new one must still reach the right slot.
  const std::vector<Tick> ticks = MixedStream(8000, 4000, 9);
  DataDriftMonitor by_name = MakeOrFail(SmallWindows());
  DataDriftMonitor by_id = MakeOrFail(SmallWindows());
  PythonRandom order(17);
  for (size_t i = 0; i < ticks.size(); ++i) {
    std::vector<int> which = {0, 1, 2, 3, 4};
    for (size_t k = which.size() - 1; k > 0; --k) {
      std::swap(which[k], which[order.randbelow(static_cast<uint32_t>(k + 1))]);
    }
    if (i % 7 == 0) which.pop_back();  // a feature missing from this event
    for (int w : which) {
      switch (w) {
        case 0: (void)by_name.observe_numeric("stable", ticks[i].stable); break;
        case 1: (void)by_name.observe_numeric("shifting", ticks[i].shifting); break;
        case 2: (void)by_name.observe_categorical("cat_stable", ticks[i].cat_stable); break;
        case 3: (void)by_name.observe_categorical("cat_shifting", ticks[i].cat_shifting); break;
        case 4: (void)by_name.observe_numeric(i < 3000 ? "stab" : "stable_late", ticks[i].stable); break;
      }
      switch (w) {
        case 0: (void)by_id.observe_numeric(0, "stable", ticks[i].stable); break;
        case 1: (void)by_id.observe_numeric(1, "shifting", ticks[i].shifting); break;
        case 2: (void)by_id.observe_categorical(0, "cat_stable", ticks[i].cat_stable); break;
        case 3: (void)by_id.observe_categorical(1, "cat_shifting", ticks[i].cat_shifting); break;
        case 4: (void)by_id.observe_numeric(i < 3000 ? 2 : 3, i < 3000 ? "stab" : "stable_late", ticks[i].stable); break;
      }
    }
  }
  REQUIRE(by_name.counters().size() == 6);
  CHECK(by_name.counters() == by_id.counters());
  CHECK(by_name.alarms() >= 2);
}

TEST_CASE("data drift: the mid-rank quantile equals the one from std::lower_bound and upper_bound",
          "[data_drift][numeric]") {
  PythonRandom rng(3);
  for (size_t n : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    std::vector<double> sample;
    for (size_t i = 0; i < n; ++i) sample.push_back(static_cast<double>(rng.randbelow(24)));  // many ties
    std::sort(sample.begin(), sample.end());
    for (double x : {-1.0, 0.0, 0.5, 5.0, 11.0, 23.0, 24.0, 7.25}) {
      const auto lo = std::lower_bound(sample.begin(), sample.end(), x) - sample.begin();
      const auto hi = std::upper_bound(sample.begin(), sample.end(), x) - sample.begin();
      const double expected = static_cast<double>(lo + hi) / (2.0 * static_cast<double>(n));
      CHECK(MidRankQuantile(sample, x) == expected);
    }
  }
  CHECK(MidRankQuantile({}, 1.0) == 0.5);
  const std::vector<double> some = {1.0, 2.0, 3.0};
  CHECK(MidRankQuantile(some, std::nan("")) == 0.5);
}

TEST_CASE("data drift: the mid-rank quantile through the block index equals the plain search bit for bit",
          "[data_drift][numeric]") {
  // Sizes around the block (a full, a short and a one-value last block), ties across block
  // boundaries, values below, above, between and on every sample value, and both zeros.
  PythonRandom rng(5);
  for (size_t n : {1u, 2u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 1000u, 1001u}) {
    for (int ties : {4, 1000000}) {
      std::vector<double> sample;
      for (size_t i = 0; i < n; ++i) sample.push_back(static_cast<double>(rng.randbelow(ties)) - ties / 2);
      if (n > 2) sample[n / 2] = -0.0;
      std::sort(sample.begin(), sample.end());
      std::vector<double> block_lasts;
      QuantileBlockLasts(sample, &block_lasts);
      REQUIRE(block_lasts.size() == (n + kQuantileBlock - 1) / kQuantileBlock);
      CHECK(block_lasts.back() == sample.back());
      const double tie = ties;
      std::vector<double> probes = {-1e300, 1e300, 0.0, -0.0, std::nan(""), -tie, tie};
      for (double v : sample) {
        probes.push_back(v);
        probes.push_back(std::nextafter(v, -1e300));
        probes.push_back(std::nextafter(v, 1e300));
      }
      for (double x : probes) {
        const double plain = MidRankQuantile(sample, x);
        const double indexed = MidRankQuantile(sample, block_lasts, x);
        CHECK(std::memcmp(&plain, &indexed, sizeof plain) == 0);
      }
    }
  }
  // An index that does not match the sample's size is not used.
  const std::vector<double> some = {1.0, 2.0, 3.0};
  const std::vector<double> wrong = {0.0, 0.0};
  CHECK(MidRankQuantile(some, wrong, 2.0) == 0.5);
  CHECK(MidRankQuantile({}, {}, 1.0) == 0.5);
}

TEST_CASE("data drift: save and load continue identically", "[data_drift][snapshot]") {
  const std::vector<Tick> ticks = MixedStream(16000, 6000, 9);
  for (const char* detector : {"adwin", "kswin"}) {
    DataDriftConfig config = SmallWindows();
    config.numeric_detector = detector;
    for (size_t cut : {0, 1, 500, 1500, 6100, 6400, 9000}) {
      INFO(detector << ", saved after " << cut << " events");
      DataDriftMonitor original = MakeOrFail(config);
      Feed(original, ticks, 0, cut);
      original.observe_numeric("stable", std::numeric_limits<double>::quiet_NaN());
      const std::string bytes = Saved(original);

      // Loaded into a monitor with another config: the snapshot's config is adopted.
      DataDriftConfig other;
      other.psi_threshold = 0.1;
      other.numeric_detector = std::string(detector) == "adwin" ? "kswin" : "adwin";
      DataDriftMonitor restored = MakeOrFail(other);
      restored.observe_categorical("x", "y");
      ByteReader in(bytes);
      REQUIRE(restored.load(in).ok());
      CHECK(in.at_end());
      CHECK(Saved(restored) == bytes);
      CHECK(restored.config().numeric_detector == detector);
      CHECK(restored.config().psi_threshold == 0.25);
      CHECK(restored.config() == config);
      CHECK(restored.counters() == original.counters());

      const auto a = Feed(original, ticks, cut, ticks.size());
      const auto b = Feed(restored, ticks, cut, ticks.size());
      CHECK(b == a);
      if (cut == 0) CHECK(a.size() >= 2);  // the comparison covers alarms of both kinds
      CHECK(Saved(restored) == Saved(original));
      CHECK(restored.counters() == original.counters());
    }
  }
}

TEST_CASE("data drift: corrupt snapshots are refused and change nothing",
          "[data_drift][snapshot]") {
  DataDriftConfig config;
  config.psi_reference_size = 20;
  config.psi_current_size = 20;
  config.psi_eval_every = 5;
  const std::vector<Tick> ticks = MixedStream(300, 100, 13);
  DataDriftMonitor original = MakeOrFail(config);
  Feed(original, ticks, 0, ticks.size());
  const std::string bytes = Saved(original);

  DataDriftMonitor target = MakeOrFail(config);
  target.observe_numeric("amount", 1.0);
  target.observe_categorical("country", "DE");
  const std::string before = Saved(target);
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("first " << n << " of " << bytes.size() << " bytes");
    ByteReader in(std::string_view(bytes).substr(0, n));
    CHECK(target.load(in).code() == ErrorCode::kCorruption);
  }
  PythonRandom rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk(rng.choice_index(400), '\0');
    for (char& ch : junk) ch = static_cast<char>(rng.choice_index(256));
    ByteReader in(junk);
    CHECK_FALSE(target.load(in).ok());
  }
  // Every single flipped byte is refused or decodes to a consistent monitor.
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    std::string flipped = bytes;
    flipped[pos] = static_cast<char>(flipped[pos] ^ 0x5a);
    DataDriftMonitor probe = MakeOrFail(config);
    ByteReader in(flipped);
    if (probe.load(in).ok()) {
      CHECK(in.at_end());
      CHECK(Saved(probe) == flipped);  // what loads, saves back bit for bit
      Feed(probe, ticks, 0, 50);  // and keeps working
    }
  }
  CHECK(Saved(target) == before);
  ByteReader in(bytes);
  REQUIRE(target.load(in).ok());
  CHECK(Saved(target) == bytes);
}

TEST_CASE("data drift: the config is validated", "[data_drift][config]") {
  auto error = [](const DataDriftConfig& c) {
    Result<DataDriftMonitor> made = DataDriftMonitor::Create(c);
    REQUIRE_FALSE(made.ok());
    CHECK(made.status().code() == ErrorCode::kInvalidArgument);
    return made.status().message();
  };
  CHECK(DataDriftMonitor::Create(DataDriftConfig{}).ok());
  DataDriftConfig c;
  c.numeric_detector = "ddm";
  CHECK_THAT(error(c), Catch::Contains("numeric_detector 'ddm'"));
  c = {};
  c.numeric_params = {{"delta", "-1"}};
  CHECK_THAT(error(c), Catch::Contains("numeric_params"));
  c.numeric_params = {{"alpha", "0.01"}};  // a kswin name given to adwin
  CHECK_THAT(error(c), Catch::Contains("unknown parameter 'alpha'"));
  c = {};
  c.psi_current_size = 0;
  CHECK_THAT(error(c), Catch::Contains("psi_current_size"));
  c = {};
  c.psi_epsilon = 0;
  CHECK_THAT(error(c), Catch::Contains("psi_epsilon"));
  c = {};
  c.psi_threshold = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(error(c), Catch::Contains("psi_threshold"));
  c = {};
  c.max_categories = 70000;
  CHECK_THAT(error(c), Catch::Contains("max_categories"));
  c = {};
  c.max_features = 0;
  CHECK_THAT(error(c), Catch::Contains("max_features"));
}

TEST_CASE("data drift: the hot path does not allocate after warm-up", "[data_drift][alloc]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer: nothing to check here");
    return;
  }
  const std::vector<Tick> ticks = MixedStream(40000, 40000, 17);  // stationary
  DataDriftMonitor m = MakeOrFail(SmallWindows());
  Feed(m, ticks, 0, 20000);  // every feature, category and window exists by now
  const std::vector<std::string> names = {"stable", "shifting", "cat_stable", "cat_shifting"};
  // The first use of an id sizes the id cache: warm-up too.
  m.observe_categorical(7, names[3], ticks[0].cat_shifting);
  m.observe_numeric(3, names[1], ticks[0].shifting);

  // Categorical values by name and by id: no allocation at all.
  uint64_t before = testing::Allocations();
  size_t events = 0;
  for (size_t i = 20000; i < 30000; ++i) {
    events += m.observe_categorical(names[2], ticks[i].cat_stable) ? 1 : 0;
    events += m.observe_categorical(7, names[3], ticks[i].cat_shifting) ? 1 : 0;
  }
  const uint64_t categorical_allocations = testing::Allocations() - before;

  // Numeric values through ADWIN: only when its histogram grows a row (log2 of the
  // window), never per value.
  before = testing::Allocations();
  for (size_t i = 20000; i < 40000; ++i) {
    events += m.observe_numeric(names[0], ticks[i].stable) ? 1 : 0;
    events += m.observe_numeric(3, names[1], ticks[i].shifting) ? 1 : 0;
  }
  const uint64_t numeric_allocations = testing::Allocations() - before;

  REQUIRE(events == 0);  // an alarm allocates its event; this stream has none
  CHECK(categorical_allocations == 0);
  WARN("allocations after warm-up: " << categorical_allocations << " in 20,000 categorical, "
                                      << numeric_allocations << " in 40,000 adwin updates");
  CHECK(numeric_allocations <= 8);
}

TEST_CASE("features absent from some events, the first ones included, are each counted as their own", "[data_drift]") {
  // The first event lacks x0 and x2, so the monitor's slots are not in the events' order;
  // later events lack a feature or two anywhere, as null features do.
  DataDriftMonitor m = MakeOrFail(DataDriftConfig{});
  const std::vector<std::string> names = {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"};
  std::vector<uint64_t> expected(names.size(), 0);
  PythonRandom rng(7);
  for (int event = 0; event < 3000; ++event) {
    for (size_t i = 0; i < names.size(); ++i) {
      const bool absent = event == 0 ? (i == 0 || i == 2) : rng.random() < 0.2;
      if (absent) continue;
      m.observe_numeric(names[i], rng.gauss(0, 1));
      ++expected[i];
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto counters = m.counters(FeatureKind::kNumeric, names[i]);
    REQUIRE(counters.has_value());
    CHECK(counters->observations == expected[i]);
  }
}

// Per-entity aggregates: the new statistics, tumbling and sliding windows on hand-made
// timelines, point-in-time reads, and target aggregates.

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "test_util.hpp"

using namespace feature_test;

namespace {

FeatureConfig WindowConfig(std::vector<WindowSpec> windows, uint32_t buckets = 60) {
  FeatureConfig c;
  c.aggregates = kAggCount;
  c.windows = std::move(windows);
  c.window_buckets = buckets;
  c.window_fields = {"amount"};
  REQUIRE(c.validate().ok());
  return c;
}

WindowSpec Sliding(int64_t ms, std::string name) { return {ms, false, std::move(name)}; }
WindowSpec Tumbling(int64_t ms, std::string name) { return {ms, true, std::move(name)}; }

struct Seen {
  double count, sum;
};

// Runs the events in order through build+update; returns what each one's window showed.
std::vector<Seen> Run(FeatureBuilder& b, FeatureDictionary& dict, const std::vector<std::pair<int64_t, double>>& events,
                      std::string_view window) {
  EntityState s;
  FeatureVector x;
  std::vector<Seen> out;
  const std::string count_name = "entity@count_" + std::string(window);
  const std::string sum_name = "amount@sum_" + std::string(window);
  for (const auto& [ts, amount] : events) {
    Event e = Amount(ts, amount);
    b.build(e, s, &x);
    out.push_back({Dense(x, dict, count_name), Dense(x, dict, sum_name)});
    b.update(e, &s);
  }
  return out;
}

}  // namespace

TEST_CASE("sum, std, min and max of the entity's past values", "[features][aggregates]") {
  FeatureConfig c;
  c.aggregates = kAggCount | kAggSum | kAggMean | kAggStd | kAggMin | kAggMax;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  const double values[] = {10, 30, 20};
  for (int i = 0; i < 3; ++i) {
    Event e = Amount(i * 1000, values[i]);
    b.build(e, s, &x);
    if (i == 0) {
      CHECK_FALSE(HasDense(x, dict, "amount@entity_sum"));  // an event never sees itself
      CHECK_FALSE(HasDense(x, dict, "amount@entity_min"));
    }
    b.update(e, &s);
  }
  b.build(Amount(5000, 1000), s, &x);
  CHECK(Dense(x, dict, "amount@entity_sum") == 60.0);
  CHECK(Dense(x, dict, "amount@entity_mean") == 20.0);
  CHECK(Dense(x, dict, "amount@entity_std") == Approx(std::sqrt(200.0 / 3)));
  CHECK(Dense(x, dict, "amount@entity_min") == 10.0);
  CHECK(Dense(x, dict, "amount@entity_max") == 30.0);
  CHECK(Dense(x, dict, "entity@log_count") == Approx(std::log1p(3.0)));
  CHECK_FALSE(HasDense(x, dict, "amount@entity_ewma"));  // not configured
  CHECK_FALSE(HasDense(x, dict, "entity@secs_since_last"));
}

TEST_CASE("per-field aggregates: each field gets its own list, none keeps no entity record",
          "[features][aggregates]") {
  auto parsed = FeatureConfig::Parse({{"aggregates", "count,mean"},
                                      {"fields.*.aggregates", "none"},
                                      {"fields.amount.aggregates", "mean,ewma,max"},
                                      {"fields.fee.aggregates", "last"}});
  REQUIRE(parsed.ok());
  FeatureDictionary dict;
  FeatureBuilder b(*parsed, &dict);
  EntityState s;
  FeatureVector x;
  for (int i = 0; i < 3; ++i) {
    const double v = 10.0 * (i + 1);
    Event e = Make({.ts = i * 1000, .numeric = {{"amount", v}, {"fee", v + 1}, {"other", v + 2}}});
    b.build(e, s, &x);
    b.update(e, &s);
  }
  b.build(Make({.ts = 5000, .numeric = {{"amount", 1}, {"fee", 2}, {"other", 3}}}), s, &x);
  CHECK(Dense(x, dict, "amount@entity_mean") == 20.0);
  CHECK(Dense(x, dict, "amount@entity_max") == 30.0);
  CHECK(HasDense(x, dict, "amount@entity_ewma"));
  CHECK_FALSE(HasDense(x, dict, "amount@entity_last"));
  CHECK(Dense(x, dict, "fee@entity_last") == 31.0);
  CHECK_FALSE(HasDense(x, dict, "fee@entity_mean"));
  CHECK(Dense(x, dict, "other") == 3.0);  // the field itself is kept
  CHECK_FALSE(HasDense(x, dict, "other@entity_mean"));
  CHECK(Dense(x, dict, "entity@log_count") == Approx(std::log1p(3.0)));  // the entity's own, from features.aggregates
  // "other" has no record in the entity: its memory is not paid.
  CHECK(s.fields.size() == 2);
}

TEST_CASE("per-field aggregates: without any, the builder and its entity states are as before",
          "[features][aggregates]") {
  auto with_same = FeatureConfig::Parse({{"fields.*.aggregates", "mean,ewma,last"}});
  REQUIRE(with_same.ok());
  FeatureDictionary d1, d2;
  FeatureBuilder plain(FeatureConfig{}, &d1), listed(*with_same, &d2);
  EntityState s1, s2;
  FeatureVector x1, x2;
  for (int i = 0; i < 20; ++i) {
    Event e = Make({.ts = i * 700, .numeric = {{"amount", i * 1.5}, {"fee", 3.0 - i}}});
    plain.build(e, s1, &x1);
    listed.build(e, s2, &x2);
    CHECK(x1.dense == x2.dense);
    CHECK(x1.present == x2.present);
    plain.update(e, &s1);
    listed.update(e, &s2);
  }
  CHECK(s1 == s2);
  CHECK(d1.size() == d2.size());
}

TEST_CASE("sliding window: exact at bucket granularity, expiring after W", "[features][windows]") {
  FeatureDictionary dict;
  FeatureBuilder b(WindowConfig({Sliding(60'000, "1m")}), &dict);  // 60 buckets of 1 s
  auto seen = Run(b, dict,
                  {{0, 1}, {500, 2}, {59'999, 4}, {60'000, 8}, {60'999, 16}, {119'500, 32}, {119'500, 64}}, "1m");
  REQUIRE(seen.size() == 7);
  CHECK(seen[0].count == 0);  // nothing before
  CHECK(seen[0].sum == 0);
  CHECK(seen[1].count == 1);  // the event at 0
  CHECK(seen[1].sum == 1);
  CHECK(seen[2].count == 2);  // buckets 0..59: both of bucket 0
  CHECK(seen[2].sum == 3);
  CHECK(seen[3].count == 1);  // bucket 60: bucket 0 has expired, 59 remains
  CHECK(seen[3].sum == 4);
  CHECK(seen[4].count == 2);
  CHECK(seen[4].sum == 12);
  CHECK(seen[5].count == 2);  // bucket 119: 59 expired, 60 (two events) remains
  CHECK(seen[5].sum == 24);
  CHECK(seen[6].count == 3);  // the same millisecond: sees the one before it, not itself
  CHECK(seen[6].sum == 56);
}

TEST_CASE("sliding window: matches the documented rule on a random timeline", "[features][windows]") {
  const int64_t width = 3'600'000, buckets = 60, b_ms = width / buckets;
  FeatureDictionary dict;
  FeatureBuilder b(WindowConfig({Sliding(width, "1h")}), &dict);
  std::mt19937_64 rng(9);
  std::vector<std::pair<int64_t, double>> events;
  int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < 2000; ++i) {
    ts += static_cast<int64_t>(rng() % 300'000);
    events.push_back({ts, static_cast<double>(rng() % 100)});
  }
  auto seen = Run(b, dict, events, "1h");
  for (size_t i = 0; i < events.size(); ++i) {
    double count = 0, sum = 0;
    for (size_t j = 0; j < i; ++j) {
      const int64_t age = events[i].first / b_ms - events[j].first / b_ms;
      if (age >= 0 && age < buckets) {
        count += 1;
        sum += events[j].second;
      }
    }
    REQUIRE(seen[i].count == count);
    REQUIRE(seen[i].sum == sum);  // integers: exact in any order
  }
}

TEST_CASE("tumbling window: counts since the start of the current window", "[features][windows]") {
  FeatureDictionary dict;
  FeatureBuilder b(WindowConfig({Tumbling(60'000, "1m_tumbling")}), &dict);
  auto seen = Run(b, dict, {{0, 1}, {30'000, 2}, {59'999, 4}, {60'000, 8}, {61'000, 16}, {250'000, 32}}, "1m_tumbling");
  CHECK(seen[0].count == 0);
  CHECK(seen[1].count == 1);
  CHECK(seen[2].count == 2);
  CHECK(seen[2].sum == 3);
  CHECK(seen[3].count == 0);  // a new window begins at 60 000
  CHECK(seen[3].sum == 0);
  CHECK(seen[4].count == 1);
  CHECK(seen[4].sum == 8);
  CHECK(seen[5].count == 0);
}

TEST_CASE("windows: late events count only buckets up to their own, too old ones are dropped",
          "[features][windows]") {
  FeatureDictionary dict;
  FeatureBuilder b(WindowConfig({Sliding(60'000, "1m"), Tumbling(3'600'000, "1h")}), &dict);
  auto seen = Run(b, dict, {{10'000, 1}, {50'000, 2}, {5'000, 4}, {200'000, 8}, {100'000, 16}, {200'500, 32}}, "1m");
  CHECK(seen[2].count == 0);  // late: the events at 10 s and 50 s are after it
  CHECK(seen[3].count == 0);  // 200 s: everything older than 141 s expired
  CHECK(seen[4].count == 0);  // 100 s is older than the ring kept: not counted...
  CHECK(seen[5].count == 1);  // ...nor added: only the event at 200 s
  CHECK(seen[5].sum == 8);
}

TEST_CASE("windows: a state kept under another layout reads as empty and restarts", "[features][windows]") {
  FeatureDictionary d1, d2;
  FeatureBuilder one_minute(WindowConfig({Sliding(60'000, "1m")}), &d1);
  FeatureBuilder five_minutes(WindowConfig({Sliding(300'000, "1m")}), &d2);  // same name, other width
  EntityState s;
  FeatureVector x;
  one_minute.update(Amount(0, 1), &s);
  one_minute.update(Amount(1000, 1), &s);
  five_minutes.build(Amount(2000, 1), s, &x);
  CHECK(Dense(x, d2, "entity@count_1m") == 0.0);
  five_minutes.update(Amount(2000, 1), &s);
  five_minutes.build(Amount(3000, 1), s, &x);
  CHECK(Dense(x, d2, "entity@count_1m") == 1.0);
}

TEST_CASE("target aggregate: a smoothed past label rate, updated only by learn_target",
          "[features][target]") {
  FeatureConfig c;
  c.target_agg = true;
  c.target_prior = 0.2;
  c.target_prior_weight = 4;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState u1, u2;
  FeatureVector x;

  Event e1 = Amount(0, 5, "u1");
  b.build(e1, u1, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx(0.2));  // a new entity: the prior, not 0/0
  CHECK(Dense(x, dict, "entity@target_log_count") == 0.0);
  b.update(e1, &u1);
  b.build(Amount(1, 5, "u1"), u1, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx(0.2));  // update() alone learns no label
  b.learn_target(1, &u1);  // the label of e1, learned after its prediction
  b.learn_target(1, &u1);
  Event e2 = Amount(2, 5, "u1");
  b.build(e2, u1, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx((4 * 0.2 + 2) / 6));
  CHECK(Dense(x, dict, "entity@target_log_count") == Approx(std::log1p(2.0)));
  b.learn_target(0, &u1);
  b.learn_target(NAN, &u1);  // ignored
  b.build(e2, u1, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx((4 * 0.2 + 2) / 7));
  b.build(Amount(3, 5, "u2"), u2, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx(0.2));  // per entity
  CHECK(b.labels_learned() == 3);

  // Real-valued targets: the smoothed mean.
  b.learn_target(10.5, &u2);
  b.build(Amount(4, 5, "u2"), u2, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx((0.8 + 10.5) / 5));
}

TEST_CASE("target aggregate: the global prior is the running label mean", "[features][target]") {
  FeatureConfig c;
  c.target_agg = true;  // target_prior: global, weight 5
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState a, fresh;
  FeatureVector x;
  b.build(Amount(0, 1), fresh, &x);
  CHECK_FALSE(HasDense(x, dict, "entity@target_mean"));  // no label anywhere yet: unknown
  b.learn_target(1, &a);
  b.learn_target(0, &a);
  b.learn_target(0, &a);
  b.learn_target(0, &a);
  b.build(Amount(0, 1), fresh, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx(0.25));
  b.build(Amount(0, 1), a, &x);
  CHECK(Dense(x, dict, "entity@target_mean") == Approx((5 * 0.25 + 1) / 9));

  FeatureConfig off;  // without target_agg, learn_target is a no-op
  FeatureDictionary d2;
  FeatureBuilder plain(off, &d2);
  EntityState s;
  plain.learn_target(1, &s);
  CHECK(s.target_count == 0);
  plain.build(Amount(0, 1), s, &x);
  CHECK(d2.find("entity@target_mean") < 0);
}

TEST_CASE("a full dictionary never writes out of bounds, whatever fills it", "[features]") {
  // The original builder wrote through id -1 when the dictionary filled up between a
  // field's derived names (e.g. after @entity_mean): it crashed. Every capacity here
  // stops at a different point.
  for (uint32_t capacity = 1; capacity < 30; ++capacity) {
    FeatureDictionary dict(capacity);
    FeatureConfig c;
    c.aggregates = kDefaultAggregates | kAggSum | kAggStd | kAggMin | kAggMax;
    c.target_agg = true;
    c.windows = {Sliding(60'000, "1m")};
    c.window_fields = {"amount"};
    FeatureBuilder b(c, &dict);
    EntityState s;
    FeatureVector x;
    for (int i = 0; i < 5; ++i) {
      Event e = Make({.ts = i, .numeric = {{"amount", 1.0 * i}, {"rare", 2.0}, {"more", 3.0}}});
      b.build(e, s, &x);
      REQUIRE(x.dense.size() == dict.size());
      REQUIRE(x.present.size() == dict.size());
      b.update(e, &s);
    }
  }
}

TEST_CASE("aggregates: the order an event names its fields in changes nothing", "[features][aggregates]") {
  // The builder finds each field's record from where the previous field's was (events name
  // their fields in the order of their ids): any other order, a field left out, a field new
  // to an entity between two it has, must give the same features and the same state.
  for (const double clip_std : {0.0, 3.0}) {
    FeatureConfig c;
    c.aggregates = kDefaultAggregates | kAggSum | kAggStd | kAggMin | kAggMax;
    c.default_field.clip_std = clip_std;
    REQUIRE(c.validate().ok());
    FeatureDictionary ordered_dict, shuffled_dict;
    FeatureBuilder ordered(c, &ordered_dict), shuffled(c, &shuffled_dict);
    const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
    // The ids in name order: one event with every field first.
    Event first;
    first.entity = "u0";
    for (const auto& n : names) first.numeric.push_back({n, 1.0});
    std::map<std::string, EntityState> ordered_states, shuffled_states;
    FeatureVector ox, sx;
    auto run = [&](const Event& in_order, const Event& any_order) {
      ordered.build(in_order, ordered_states[in_order.entity], &ox);
      shuffled.build(any_order, shuffled_states[any_order.entity], &sx);
      REQUIRE(ordered_dict.size() == shuffled_dict.size());
      REQUIRE(ox.dense == sx.dense);
      REQUIRE(ox.present == sx.present);
      ordered.update(in_order, &ordered_states[in_order.entity]);
      shuffled.update(any_order, &shuffled_states[any_order.entity]);
      REQUIRE(ordered_states[in_order.entity] == shuffled_states[any_order.entity]);
    };
    run(first, first);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 400; ++i) {
      Event in_order;
      in_order.entity = "u" + std::to_string(rng() % 5);
      in_order.ts_ms = i * 1000;
      for (const auto& n : names) {
        if (rng() % 3 != 0) in_order.numeric.push_back({n, static_cast<double>(rng() % 1000) / 10.0});
      }
      Event any_order = in_order;
      std::shuffle(any_order.numeric.begin(), any_order.numeric.end(), rng);
      run(in_order, any_order);
    }
  }
}

TEST_CASE("build: a vector reused with stale values reads as a fresh one", "[features][aggregates]") {
  FeatureConfig c;
  c.default_field.clip_std = 3;
  REQUIRE(c.validate().ok());
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector reused;
  for (int i = 0; i < 50; ++i) {
    const Event e = i % 2 == 0 ? Make({.ts = i * 1000, .numeric = {{"amount", i * 1.5}, {"hour", 3}}})
                               : Make({.ts = i * 1000, .numeric = {{"amount", -i * 0.5}}});
    // Whatever the vector held (the previous event's features, or junk of the same size)…
    std::fill(reused.dense.begin(), reused.dense.end(), 42.0);
    std::fill(reused.present.begin(), reused.present.end(), 1);
    b.build(e, s, &reused);
    FeatureVector fresh;
    b.build(e, s, &fresh);
    // …it reads as a fresh one.
    REQUIRE(reused.dense == fresh.dense);
    REQUIRE(reused.present == fresh.present);
    REQUIRE(reused.sparse_index == fresh.sparse_index);
    b.update(e, &s);
  }
}

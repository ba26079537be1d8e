#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "streamlearn/features/features.hpp"

using namespace streamlearn;
using namespace streamlearn::features;

namespace {

Event MakeEvent(std::string entity, int64_t ts, double amount) {
  Event e;
  e.entity = std::move(entity);
  e.ts_ms = ts;
  e.numeric.push_back({"amount", amount});
  return e;
}

double Dense(const FeatureVector& x, const FeatureDictionary& d, std::string_view name) {
  int64_t id = d.find(name);
  REQUIRE(id >= 0);
  REQUIRE(static_cast<size_t>(id) < x.dense.size());
  return x.present[id] ? x.dense[id] : NAN;
}

}  // namespace

TEST_CASE("aggregates are point-in-time: an event never sees itself", "[features]") {
  FeatureDictionary dict;
  FeatureBuilder builder({}, &dict);
  EntityState state;
  FeatureVector x;

  Event first = MakeEvent("u1", 1000, 10.0);
  builder.build(first, state, &x);
  CHECK(Dense(x, dict, "amount") == 10.0);
  CHECK(Dense(x, dict, "entity@log_count") == 0.0);
  CHECK(std::isnan(Dense(x, dict, "amount@entity_mean")));  // no history yet: missing
  CHECK(std::isnan(Dense(x, dict, "entity@secs_since_last")));
  builder.update(first, &state);

  Event second = MakeEvent("u1", 4000, 30.0);
  builder.build(second, state, &x);
  CHECK(Dense(x, dict, "amount") == 30.0);
  CHECK(Dense(x, dict, "amount@entity_mean") == 10.0);  // only the first event
  CHECK(Dense(x, dict, "amount@entity_last") == 10.0);
  CHECK(Dense(x, dict, "entity@secs_since_last") == 3.0);
  CHECK(Dense(x, dict, "entity@log_count") == Approx(std::log1p(1.0)));
  builder.update(second, &state);
  CHECK(state.events == 2);
  CHECK(state.fields.at(0).mean == 20.0);
}

TEST_CASE("fields in another order, absent or new build the same features", "[features]") {
  // The builder compares the field seen at the same position last time before it hashes a
  // name: events that reorder, drop or add fields must still get each field's own ids.
  FeatureDictionary dict_a, dict_b;
  FeatureBuilder in_order({}, &dict_a), shuffled({}, &dict_b);
  EntityState state_a, state_b;
  FeatureVector xa, xb;
  const std::vector<std::string> names = {"amount", "hour", "age", "late_field"};
  uint64_t seed = 1;
  for (int i = 0; i < 400; ++i) {
    Event a;
    a.entity = "u";
    a.ts_ms = 1000 * i;
    const size_t count = i < 200 ? 3 : 4;  // late_field appears halfway
    for (size_t k = 0; k < count; ++k) a.numeric.push_back({names[k], static_cast<double>(i * (k + 1) % 17)});
    Event b = a;
    if (i > 0) {  // the first event fixes the ids in both builders; later ones are shuffled
      for (size_t k = b.numeric.size() - 1; k > 0; --k) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        std::swap(b.numeric[k], b.numeric[(seed >> 33) % (k + 1)]);
      }
      if (i % 5 == 0) {  // one field absent from this event, in both
        const std::string dropped = b.numeric.front().name;
        auto named = [&](const NumericFeature& f) { return f.name == dropped; };
        a.numeric.erase(std::find_if(a.numeric.begin(), a.numeric.end(), named));
        b.numeric.erase(b.numeric.begin());
      }
    }
    in_order.build(a, state_a, &xa);
    shuffled.build(b, state_b, &xb);
    in_order.update(a, &state_a);
    shuffled.update(b, &state_b);
    REQUIRE(dict_a.size() == dict_b.size());
    for (uint32_t id = 0; id < dict_a.size(); ++id) REQUIRE(dict_a.name(id) == dict_b.name(id));
    REQUIRE(xa.present == xb.present);
    REQUIRE(xa.dense == xb.dense);
  }
  CHECK(state_a == state_b);
}

TEST_CASE("EWMA decays by half over one half-life of event time", "[features]") {
  FeatureDictionary dict;
  FeatureConfig config;
  config.ewma_half_life_s = 10;
  FeatureBuilder builder(config, &dict);
  EntityState state;
  builder.update(MakeEvent("u", 0, 0.0), &state);
  builder.update(MakeEvent("u", 10'000, 100.0), &state);  // one half-life later
  CHECK(state.fields.at(0).ewma == Approx(50.0));
  builder.update(MakeEvent("u", 10'000, 0.0), &state);  // no time passed: no weight
  CHECK(state.fields.at(0).ewma == Approx(50.0));
}

TEST_CASE("EWMA: each field decays by its own elapsed time within one event", "[features]") {
  // The decay of one elapsed time is kept for the next field with the same (most often
  // all of an entity's fields): a field last seen at another time must get its own.
  FeatureDictionary dict;
  FeatureConfig config;
  config.ewma_half_life_s = 10;
  FeatureBuilder builder(config, &dict);
  EntityState state;
  auto alpha = [](double dt_s) { return 1.0 - std::exp2(-dt_s / 10); };
  auto make = [](int64_t ts, std::vector<std::pair<std::string, double>> numeric) {
    Event e;
    e.entity = "u";
    e.ts_ms = ts;
    for (auto& [name, value] : numeric) e.numeric.push_back({name, value});
    return e;
  };
  builder.update(make(0, {{"a", 0.0}, {"b", 0.0}}), &state);
  builder.update(make(4'000, {{"b", 100.0}}), &state);                          // b: 4 s
  builder.update(make(10'000, {{"a", 100.0}, {"b", 0.0}, {"c", 5.0}}), &state);  // a 10 s, b 6 s
  const double b_at_4s = alpha(4) * 100.0;
  CHECK(state.fields.at(0).ewma == alpha(10) * 100.0);                // a
  CHECK(state.fields.at(1).ewma == b_at_4s + alpha(6) * (0.0 - b_at_4s));  // b
  CHECK(state.fields.at(2).ewma == 5.0);                              // c: its first value
  builder.update(make(14'000, {{"c", 10.0}, {"a", 0.0}}), &state);  // both 4 s
  CHECK(state.fields.at(2).ewma == 5.0 + alpha(4) * (10.0 - 5.0));
  CHECK(state.fields.at(0).ewma == alpha(10) * 100.0 + alpha(4) * (0.0 - alpha(10) * 100.0));
}

TEST_CASE("categoricals are hashed into the sparse block, stably", "[features]") {
  FeatureDictionary dict;
  FeatureConfig config;
  config.hash_bits = 10;
  FeatureBuilder builder(config, &dict);
  Event e;
  e.categorical.push_back({"country", "DE"});
  e.categorical.push_back({"country", "FR"});
  FeatureVector x;
  builder.build(e, {}, &x);
  REQUIRE(x.sparse_index.size() == 2);
  CHECK(x.sparse_index[0] < 1024u);
  CHECK(x.sparse_index[0] != x.sparse_index[1]);
  FeatureVector again;
  builder.build(e, {}, &again);
  CHECK(again.sparse_index == x.sparse_index);
}

TEST_CASE("a full dictionary hashes new numeric fields instead of growing", "[features]") {
  FeatureDictionary dict(16);
  FeatureConfig config;
  config.max_dense_features = 16;
  config.entity_aggregates = false;
  FeatureBuilder builder(config, &dict);
  Event e;
  for (int i = 0; i < 40; ++i) e.numeric.push_back({"f" + std::to_string(i), 1.0 * i});
  FeatureVector x;
  builder.build(e, {}, &x);
  CHECK(dict.size() == 16);
  CHECK(x.sparse_index.size() == 24);
  CHECK(x.sparse_value.back() == 39.0f);
}

TEST_CASE("entity state and dictionary round trip, corrupt bytes are refused", "[features]") {
  FeatureDictionary dict;
  FeatureBuilder builder({}, &dict);
  EntityState state;
  builder.update(MakeEvent("u", 5, 1.5), &state);
  builder.update(MakeEvent("u", 9, 2.5), &state);
  std::string bytes;
  state.encode(&bytes);
  EntityState back;
  REQUIRE(EntityState::decode(bytes, &back).ok());
  CHECK(back == state);
  CHECK_FALSE(EntityState::decode(bytes.substr(0, bytes.size() - 3), &back).ok());
  CHECK_FALSE(EntityState::decode("", &back).ok());

  std::string dict_bytes;
  ByteWriter w(&dict_bytes);
  dict.save(w);
  FeatureDictionary loaded;
  ByteReader r(dict_bytes);
  REQUIRE(loaded.load(r).ok());
  CHECK(loaded.size() == dict.size());
  CHECK(loaded.find("amount@entity_ewma") == dict.find("amount@entity_ewma"));
  ByteReader truncated(std::string_view(dict_bytes).substr(0, dict_bytes.size() / 2));
  CHECK_FALSE(loaded.load(truncated).ok());
}

TEST_CASE("an event without an entity builds what a builder without entity features builds", "[features]") {
  const std::map<std::string, std::string> common = {
      {"aggregates", "count,since_last,mean,std,min,max,ewma,last"},
      {"windows", "1m"},
      {"window_fields", "amount"},
      {"fields.amount.scale", "standard"},
  };
  auto with_config = common, without_config = common;
  with_config["target_agg"] = "true";
  without_config["entity_aggregates"] = "false";
  auto with_entities = FeatureConfig::Parse(with_config);
  auto without_entities = FeatureConfig::Parse(without_config);
  REQUIRE(with_entities.ok());
  REQUIRE(without_entities.ok());
  FeatureDictionary dict_a, dict_b;
  FeatureBuilder a(*with_entities, &dict_a), b(*without_entities, &dict_b);
  EntityState state_a, state_b;
  FeatureVector xa, xb;
  // An entity's history first: builder a keeps aggregates and a target aggregate for it.
  for (int i = 0; i < 5; ++i) {
    Event e = MakeEvent("u1", 1000 * i, 10.0 * i);
    a.build(e, state_a, &xa);
    b.build(e, state_b, &xb);
    a.learn_target(1, &state_a);
    a.update(e, &state_a);
    b.update(e, &state_b);
  }
  const EntityState kept = state_a;
  for (int i = 0; i < 3; ++i) {
    Event e = MakeEvent("", 9000 + 1000 * i, 7.0 + i);
    a.build(e, &xa);
    b.build(e, state_b, &xb);
    for (size_t id = 0; id < dict_a.size(); ++id) {
      const std::string& name = dict_a.name(static_cast<uint32_t>(id));
      const bool present = id < xa.present.size() && xa.present[id];
      const int64_t in_b = dict_b.find(name);
      if (in_b < 0) {
        // An entity feature (aggregate, count, gap, window count or sum, target aggregate):
        // builder b has none of them, and an event without an entity reads none.
        CHECK_FALSE(present);
        continue;
      }
      const bool present_b = static_cast<size_t>(in_b) < xb.present.size() && xb.present[in_b];
      CHECK(present == present_b);
      if (present && present_b) CHECK(xa.dense[id] == xb.dense[in_b]);
    }
    CHECK(xa.sparse_index == xb.sparse_index);
    // Global statistics still learn (the scaled amount of the next event depends on them).
    a.update(e);
    b.update(e, &state_b);
  }
  CHECK(state_a == kept);  // the entity's state was not touched
}

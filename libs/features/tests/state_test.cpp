// Round trips: EntityState encodings (old and new) and the builder's global state.

#include <bit>
#include <map>
#include <random>
#include <string>

#include "test_util.hpp"

using namespace feature_test;

namespace {

// Everything on: per-field preprocessing, all aggregates, two windows, target, crosses,
// one-hot, PCA.
FeatureConfig RichConfig() {
  auto parsed = FeatureConfig::Parse({
      {"aggregates", "count,since_last,sum,mean,std,min,max,ewma,last"},
      {"windows", "1m,1h,tumbling:1d"},
      {"window_fields", "amount"},
      {"target_agg", "true"},
      {"crosses", "country*merchant_category,hour*country"},
      {"fields.amount.impute", "mean"},
      {"fields.amount.missing_indicator", "true"},
      {"fields.amount.log1p", "true"},
      {"fields.*.clip_std", "5"},
      {"fields.country.encoding", "onehot"},
      {"fields.country.max_categories", "8"},
      {"fields.hour.scale", "minmax"},
      {"pca.components", "2"},
      {"pca.fields", "x0,x1,x2,x3"},
      {"pca.refresh_every", "100"},
      {"pca.keep_inputs", "true"},
  });
  REQUIRE(parsed.ok());
  return *parsed;
}

// A fraud-like mixed event: a few entities, amounts with nulls and outliers, strings.
void MakeEvent(std::mt19937_64& rng, int64_t ts, Event* e) {
  static const char* kCountries[] = {"DE", "FR", "US", "BR", "JP", "IT", "ES", "NL", "SE", "PL", "CZ"};
  static const char* kCategories[] = {"food", "travel", "games", "fuel"};
  static const char* kEntities[] = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"};
  e->clear();
  e->id = "e";
  e->entity = kEntities[rng() % 8];
  e->ts_ms = ts;
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  if (rng() % 20 == 0) {
    e->missing.push_back("amount");
  } else {
    e->numeric.push_back({"amount", rng() % 100 == 0 ? 1e9 : 5 + 100 * u});
  }
  e->numeric.push_back({"hour", static_cast<double>(rng() % 24)});
  for (int i = 0; i < 4; ++i) e->numeric.push_back({"x" + std::to_string(i), u * (i + 1) + 0.1 * (rng() % 7)});
  e->categorical.push_back({"country", kCountries[rng() % 11]});
  e->categorical.push_back({"merchant_category", kCategories[rng() % 4]});
}

std::string Saved(const FeatureBuilder& b) {
  std::string bytes;
  ByteWriter w(&bytes);
  b.save(w);
  return bytes;
}

std::string SavedDict(const FeatureDictionary& d) {
  std::string bytes;
  ByteWriter w(&bytes);
  d.save(w);
  return bytes;
}

}  // namespace

TEST_CASE("entity state: rich states round trip bit-exactly, bad bytes are refused", "[features][state]") {
  FeatureDictionary dict;
  FeatureBuilder b(RichConfig(), &dict);
  std::map<std::string, EntityState> states;
  std::mt19937_64 rng(1);
  Event e;
  FeatureVector x;
  for (int i = 0; i < 3000; ++i) {
    MakeEvent(rng, 1'700'000'000'000 + i * 2'000, &e);
    EntityState& s = states[e.entity];
    b.build(e, s, &x);
    if (i % 3 == 0) b.learn_target(static_cast<double>(rng() % 2), &s);
    b.update(e, &s);
  }
  std::string bytes, again;
  for (const auto& [key, s] : states) {
    s.encode(&bytes);
    CHECK(static_cast<uint8_t>(bytes[0]) == 2);
    EntityState back;
    REQUIRE(EntityState::decode(bytes, &back).ok());
    CHECK(back == s);
    back.encode(&again);
    CHECK(again == bytes);
  }
  // Every truncation and many single-byte flips: an error or a valid state, never a
  // crash; on an error the output is left as it was.
  const EntityState& s = states.begin()->second;
  s.encode(&bytes);
  EntityState sentinel;
  sentinel.events = 12345;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EntityState out = sentinel;
    REQUIRE_FALSE(EntityState::decode(std::string_view(bytes).substr(0, cut), &out).ok());
    REQUIRE(out == sentinel);
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      EntityState out = sentinel;
      if (!EntityState::decode(bad, &out).ok()) REQUIRE(out == sentinel);
    }
  }
  CHECK(EntityState::decode(std::string("\x07", 1), &sentinel).code() == ErrorCode::kCorruption);
}

TEST_CASE("entity state: the original encoding still decodes and is still written", "[features][state]") {
  // Bytes as the original encoder wrote them: version 1, events 2, last_ts 9, one field.
  std::string v1;
  ByteWriter w(&v1);
  w.u8(1);
  w.u64(2);
  w.i64(9);
  w.u32(1);
  w.u32(0);     // field id
  w.u64(2);     // count
  w.f64(2.0);   // mean
  w.f64(2.25);  // ewma
  w.f64(2.5);   // last
  w.i64(9);     // last_ts
  EntityState s;
  REQUIRE(EntityState::decode(v1, &s).ok());
  CHECK(s.events == 2);
  CHECK(s.last_ts_ms == 9);
  REQUIRE(s.fields.size() == 1);
  CHECK(s.fields[0].mean == 2.0);
  CHECK(s.fields[0].ewma == 2.25);
  CHECK(s.fields[0].last == 2.5);
  CHECK(s.tracked == EntityState::kV1);
  std::string again;
  s.encode(&again);
  CHECK(again == v1);  // nothing beyond version 1's content: version 1 bytes

  // The default builder continues from it and keeps writing version 1...
  FeatureDictionary dict;
  FeatureBuilder plain({}, &dict);
  dict.id_of("amount");
  plain.update(Amount(10, 6.5), &s);
  s.encode(&again);
  CHECK(static_cast<uint8_t>(again[0]) == 1);
  CHECK(s.fields[0].count == 3);
  // ...and a richer one continues from it too, switching to version 2.
  FeatureConfig rich;
  rich.target_agg = true;
  rich.aggregates = kDefaultAggregates | kAggStd | kAggMin;
  FeatureDictionary d2;
  d2.id_of("amount");
  FeatureBuilder b(rich, &d2);
  b.learn_target(1, &s);
  b.update(Amount(11, 1.0), &s);
  s.encode(&again);
  CHECK(static_cast<uint8_t>(again[0]) == 2);
  EntityState back;
  REQUIRE(EntityState::decode(again, &back).ok());
  CHECK(back == s);
  CHECK(back.fields[0].count == 4);
  CHECK(back.target_count == 1);
  // Members the old state lacked start from its mean (3.5), not from 0.
  CHECK(back.fields[0].min == 1.0);
  CHECK(back.fields[0].max == 3.5);
}

TEST_CASE("builder state: save/load round trip continues bit-identically, corrupt bytes change nothing",
          "[features][state]") {
  const FeatureConfig config = RichConfig();
  FeatureDictionary dict;
  FeatureBuilder b(config, &dict);
  std::map<std::string, EntityState> states;
  std::mt19937_64 rng(2);
  Event e;
  FeatureVector x, y;
  for (int i = 0; i < 1500; ++i) {
    MakeEvent(rng, 1'700'000'000'000 + i * 700, &e);
    b.build(e, states[e.entity], &x);
    b.learn_target(static_cast<double>(i % 2), &states[e.entity]);
    b.update(e, &states[e.entity]);
  }
  REQUIRE(b.pca()->ready());
  const std::string saved = Saved(b), saved_dict = SavedDict(dict);

  // A restart: a new dictionary and builder loaded from the bytes, entity states decoded.
  FeatureDictionary dict2;
  FeatureBuilder b2(config, &dict2);
  ByteReader rd(saved_dict), rb(saved);
  REQUIRE(dict2.load(rd).ok());
  REQUIRE(b2.load(rb).ok());
  CHECK(rb.at_end());
  CHECK(Saved(b2) == saved);
  CHECK(b2.vocabulary_size("country") == 8);
  std::map<std::string, EntityState> states2;
  std::string bytes;
  for (const auto& [k, s] : states) {
    s.encode(&bytes);
    REQUIRE(EntityState::decode(bytes, &states2[k]).ok());
  }
  for (int i = 0; i < 1000; ++i) {
    MakeEvent(rng, 1'800'000'000'000 + i * 700, &e);
    b.build(e, states[e.entity], &x);
    b2.build(e, states2[e.entity], &y);
    REQUIRE(x.dense.size() == y.dense.size());
    for (size_t k = 0; k < x.dense.size(); ++k) {
      REQUIRE(x.present[k] == y.present[k]);
      if (x.present[k]) REQUIRE(std::bit_cast<uint64_t>(x.dense[k]) == std::bit_cast<uint64_t>(y.dense[k]));
    }
    REQUIRE(x.sparse_index == y.sparse_index);
    b.learn_target(1, &states[e.entity]);
    b2.learn_target(1, &states2[e.entity]);
    b.update(e, &states[e.entity]);
    b2.update(e, &states2[e.entity]);
  }
  CHECK(Saved(b) == Saved(b2));
  CHECK(SavedDict(dict) == SavedDict(dict2));

  // Corrupt or truncated: Corruption, and the builder is exactly as before.
  const std::string before = Saved(b2);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, saved.size() / 3, saved.size() / 2, saved.size() - 1}) {
    ByteReader t(std::string_view(saved).substr(0, cut));
    CHECK(b2.load(t).code() == ErrorCode::kCorruption);
    CHECK(Saved(b2) == before);
  }
  std::string bad = saved;
  bad[0] = 9;
  ByteReader t(bad);
  CHECK(b2.load(t).code() == ErrorCode::kCorruption);
  CHECK(Saved(b2) == before);

  // A builder configured with PCA over other inputs drops the saved PCA, keeps the rest.
  FeatureConfig other = config;
  other.pca.fields = {"x0", "x1", "x2"};
  FeatureDictionary dict3;
  FeatureBuilder b3(other, &dict3);
  ByteReader r3(saved);
  REQUIRE(b3.load(r3).ok());
  CHECK_FALSE(b3.pca()->ready());
  CHECK(b3.vocabulary_size("country") == 8);
}

TEST_CASE("entity state: bytes per entity, default vs rich", "[features][state]") {
  auto measure = [](const FeatureConfig& c, bool labels) {
    FeatureDictionary dict;
    FeatureBuilder b(c, &dict);
    std::map<std::string, EntityState> states;
    std::mt19937_64 rng(3);
    Event e;
    FeatureVector x;
    for (int i = 0; i < 4000; ++i) {  // 500 events per entity, one every 2 s in all
      MakeEvent(rng, 1'700'000'000'000 + i * 2'000, &e);
      b.build(e, states[e.entity], &x);
      if (labels) b.learn_target(static_cast<double>(rng() % 2), &states[e.entity]);
      b.update(e, &states[e.entity]);
    }
    size_t total = 0;
    std::string bytes;
    for (const auto& [k, s] : states) {
      s.encode(&bytes);
      total += bytes.size();
    }
    return static_cast<double>(total) / static_cast<double>(states.size());
  };
  const double plain = measure({}, false);
  const double rich = measure(RichConfig(), true);
  // 6 numeric fields; rich adds std/min/max/sum per field, 3 windows, a target.
  WARN("bytes per entity: default " << plain << ", rich " << rich);
  CHECK(plain == 4 + 1 + 8 + 8 + 6 * 44);  // version 1, unchanged
  CHECK(rich < 1200);
}

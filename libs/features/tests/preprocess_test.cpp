// Per-field preprocessing on hand-made events: imputation, missing indicators, clipping,
// scaling, log1p, one-hot with a cap, crosses and PCA.

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <random>

#include "test_util.hpp"

using namespace feature_test;

namespace {

FeatureConfig NoAggregates() {
  FeatureConfig c;
  c.entity_aggregates = false;
  return c;
}

// Feeds `values` of field amount through build+update, as the pipeline would.
void Feed(FeatureBuilder& b, EntityState& s, std::initializer_list<double> values, int64_t ts = 0) {
  FeatureVector x;
  for (double v : values) {
    Event e = Amount(ts++, v);
    b.build(e, s, &x);
    b.update(e, &s);
  }
}

const FeatureBuilder::FieldReport& Report(const std::vector<FeatureBuilder::FieldReport>& r, std::string_view name) {
  auto it = std::find_if(r.begin(), r.end(), [&](const auto& f) { return f.name == name; });
  REQUIRE(it != r.end());
  return *it;
}

}  // namespace

TEST_CASE("impute: mean, constant and zero, with a missing indicator", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  FieldConfig amount;
  amount.impute = Impute::kMean;
  amount.missing_indicator = true;
  c.fields["amount"] = amount;
  FieldConfig fee;
  fee.impute = Impute::kConstant;
  fee.impute_value = 7;
  c.fields["fee"] = fee;
  c.default_field.impute = Impute::kZero;  // every other field, when null
  REQUIRE(c.validate().ok());
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;

  // Nothing seen yet: mean imputation has no value, the indicator says missing.
  Event first = Make({.numeric = {{"fee", 1}}, .missing = {"amount"}});
  b.build(first, s, &x);
  CHECK(std::isnan(Dense(x, dict, "amount")));
  CHECK(Dense(x, dict, "amount@missing") == 1.0);
  b.update(first, &s);

  Feed(b, s, {10, 20, 30});
  b.build(Amount(10, 25), s, &x);
  CHECK(Dense(x, dict, "amount") == 25.0);  // given: untouched
  CHECK(Dense(x, dict, "amount@missing") == 0.0);
  CHECK(Dense(x, dict, "fee") == 7.0);  // named field absent: imputed

  Event null_amount = Make({.numeric = {{"fee", 2}}, .missing = {"amount", "tip"}});
  b.build(null_amount, s, &x);
  CHECK(Dense(x, dict, "amount") == 20.0);  // the running mean of 10, 20, 30
  CHECK(Dense(x, dict, "amount@missing") == 1.0);
  CHECK(Dense(x, dict, "fee") == 2.0);
  CHECK(Dense(x, dict, "tip") == 0.0);  // fields.*: a null is imputed with zero
  b.update(null_amount, &s);

  // An absent field without a section of its own is not missing, just absent.
  b.build(Make({.numeric = {{"amount", 1}, {"fee", 1}}}), s, &x);
  CHECK(std::isnan(Dense(x, dict, "tip")));

  auto reports = b.field_reports();
  CHECK(Report(reports, "amount").imputed == 1);  // the first null had nothing to impute
  CHECK(Report(reports, "amount").count == 3);    // imputed values never enter the statistics
  CHECK(Report(reports, "amount").mean == 20.0);
}

TEST_CASE("clip: at k standard deviations of the running statistics, counted", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  c.default_field.clip_std = 3;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  // Fewer than 10 values: no clipping yet, whatever the value.
  Feed(b, s, {9, 11, 9, 11});
  b.build(Amount(0, 1000), s, &x);
  CHECK(Dense(x, dict, "amount") == 1000.0);
  Feed(b, s, {9, 11, 9, 11, 9, 11});  // 10 values: mean 10, std 1
  b.build(Amount(0, 1000), s, &x);
  CHECK(Dense(x, dict, "amount") == Approx(13.0));
  b.build(Amount(0, -1000), s, &x);
  CHECK(Dense(x, dict, "amount") == Approx(7.0));
  b.build(Amount(0, 12), s, &x);
  CHECK(Dense(x, dict, "amount") == 12.0);
  CHECK(Report(b.field_reports(), "amount").clipped == 0);  // build() counts nothing
  Feed(b, s, {1000, 12, -1000});
  auto r = Report(b.field_reports(), "amount");
  CHECK(r.clipped == 2);
  CHECK(r.max == Approx(13.0));  // the clipped value is what the statistics see
}

TEST_CASE("clip: update() reuses build()'s clean value, exactly as cleaning it again", "[features][preprocess]") {
  // update() of the Event object build() saw takes build()'s clean values; of a copy, it
  // cleans each value again. Both must clip the same values to the same bits, also when an
  // event names a field twice (its second value was cleaned by build() with statistics the
  // first has moved since: it is cleaned again).
  FeatureConfig c = NoAggregates();
  c.default_field.clip_std = 2;
  FeatureDictionary dict_reused, dict_again;
  FeatureBuilder reused(c, &dict_reused), again(c, &dict_again);
  EntityState s_reused, s_again;
  FeatureVector x_reused, x_again;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(10, 3);
  for (int i = 0; i < 400; ++i) {
    Event e = Make({.numeric = {{"amount", normal(rng)}, {"fee", normal(rng)}}});
    if (i % 17 == 0) e.numeric[0].value = 1e6;   // cut above
    if (i % 23 == 0) e.numeric[1].value = -1e6;  // cut below
    if (i % 31 == 0) e.numeric.push_back({"amount", i % 2 == 0 ? 1e9 : normal(rng)});  // named twice
    reused.build(e, s_reused, &x_reused);
    reused.update(e, &s_reused);
    again.build(e, s_again, &x_again);
    const Event copy = e;
    again.update(copy, &s_again);
    REQUIRE(x_reused.dense == x_again.dense);
  }
  const auto r = reused.field_reports(), a = again.field_reports();
  REQUIRE(r.size() == a.size());
  for (size_t i = 0; i < r.size(); ++i) {
    CHECK(r[i].name == a[i].name);
    CHECK(r[i].count == a[i].count);
    CHECK(r[i].clipped == a[i].clipped);
    // Bit for bit: the statistics were fed the same values in the same order.
    CHECK(std::bit_cast<uint64_t>(r[i].mean) == std::bit_cast<uint64_t>(a[i].mean));
    CHECK(std::bit_cast<uint64_t>(r[i].std) == std::bit_cast<uint64_t>(a[i].std));
    CHECK(r[i].min == a[i].min);
    CHECK(r[i].max == a[i].max);
  }
  CHECK(Report(r, "amount").clipped > 0);
  CHECK(Report(r, "fee").clipped > 0);
}

TEST_CASE("clip: a field constant so far is not pinned to its mean", "[features][preprocess]") {
  // A 0/1 field that was 0 for its first values has standard deviation 0: clipping there
  // would turn every later 1 into 0, and the statistics (fed the clipped value) would
  // never move again.
  FeatureConfig c = NoAggregates();
  c.default_field.clip_std = 8;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  Feed(b, s, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  b.build(Amount(0, 1), s, &x);
  CHECK(Dense(x, dict, "amount") == 1.0);
  Feed(b, s, {1});
  CHECK(Report(b.field_reports(), "amount").max == 1.0);
  CHECK(Report(b.field_reports(), "amount").clipped == 0);
}

TEST_CASE("clip: fixed bounds in raw units, counted", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  FieldConfig f;
  f.clip_min = 0;
  f.clip_max = 100;
  c.fields["amount"] = f;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  b.build(Amount(0, -5), s, &x);
  CHECK(Dense(x, dict, "amount") == 0.0);
  b.build(Amount(0, 500), s, &x);
  CHECK(Dense(x, dict, "amount") == 100.0);
  b.build(Amount(0, 42), s, &x);
  CHECK(Dense(x, dict, "amount") == 42.0);
  Feed(b, s, {-5, 500, 42});
  CHECK(Report(b.field_reports(), "amount").clipped == 2);
}

TEST_CASE("scale: min-max into [0, 1] and online standardisation", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  FieldConfig mm;
  mm.scale = Scale::kMinMax;
  c.fields["amount"] = mm;
  FieldConfig st;
  st.scale = Scale::kStandard;
  c.fields["score"] = st;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  Feed(b, s, {0, 10});
  b.build(Amount(0, 5), s, &x);
  CHECK(Dense(x, dict, "amount") == 0.5);
  b.build(Amount(0, 20), s, &x);
  CHECK(Dense(x, dict, "amount") == 1.0);  // beyond the range so far: clamped
  b.build(Amount(0, -3), s, &x);
  CHECK(Dense(x, dict, "amount") == 0.0);

  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-50, 1000);
  for (int i = 0; i < 500; ++i) {
    Event e = Amount(i, u(rng));
    b.build(e, s, &x);
    double v = Dense(x, dict, "amount");
    REQUIRE(v >= 0.0);
    REQUIRE(v <= 1.0);
    b.update(e, &s);
  }

  for (double v : {9.0, 11.0}) {
    Event e = Make({.numeric = {{"score", v}}});
    b.build(e, s, &x);
    b.update(e, &s);
  }
  b.build(Make({.numeric = {{"score", 12}}}), s, &x);
  CHECK(Dense(x, dict, "score") == Approx(2.0));  // (12 - 10) / 1
}

TEST_CASE("log1p: non-negative values, negatives refused or sign-preserving", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  FieldConfig on;
  on.log1p = Log1p::kOn;
  c.fields["amount"] = on;
  FieldConfig sg;
  sg.log1p = Log1p::kSigned;
  c.fields["delta"] = sg;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  const double e1 = std::numbers::e - 1;
  b.build(Make({.numeric = {{"amount", e1}, {"delta", -e1}}}), s, &x);
  CHECK(Dense(x, dict, "amount") == Approx(1.0));
  CHECK(Dense(x, dict, "delta") == Approx(-1.0));
  Event negative = Make({.numeric = {{"amount", -3}, {"delta", 0}}});
  b.build(negative, s, &x);
  CHECK(std::isnan(Dense(x, dict, "amount")));  // refused: missing, and counted at update
  CHECK(Dense(x, dict, "delta") == 0.0);
  b.update(negative, &s);
  CHECK(Report(b.field_reports(), "amount").refused == 1);
  CHECK(Report(b.field_reports(), "amount").count == 0);

  // With imputation, a refused value is imputed like a null one.
  FeatureConfig c2 = NoAggregates();
  on.impute = Impute::kConstant;
  on.impute_value = e1;
  c2.fields["amount"] = on;
  FeatureDictionary dict2;
  FeatureBuilder b2(c2, &dict2);
  b2.build(Make({.numeric = {{"amount", -3}}}), s, &x);
  CHECK(Dense(x, dict2, "amount") == Approx(1.0));
}

TEST_CASE("one-hot: the first N values get a bucket each, the rest share 'other'", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  FieldConfig f;
  f.encoding = Encoding::kOneHot;
  f.max_categories = 2;
  c.fields["country"] = f;
  c.hash_bits = 10;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  FeatureVector x;
  auto bucket = [&](const char* value) {
    b.build(Make({.categorical = {{"country", value}}}), {}, &x);
    REQUIRE(x.sparse_index.size() == 1);
    CHECK(x.sparse_value[0] == 1.0f);
    return x.sparse_index[0];
  };
  const uint32_t de = bucket("DE"), fr = bucket("FR"), us = bucket("US"), br = bucket("BR");
  CHECK(de != fr);
  CHECK(us == br);  // both beyond the cap: "other"
  CHECK(us != de);
  CHECK(us != fr);
  CHECK((fr - de) % 1024 == 1);  // consecutive buckets: no collision within the field
  CHECK(bucket("DE") == de);
  CHECK(bucket("JP") == us);
  CHECK(b.vocabulary_size("country") == 2);
  CHECK(b.other_count("country") == 3);

  // Other fields keep hashing (today's behaviour).
  b.build(Make({.categorical = {{"merchant", "m1"}}}), {}, &x);
  REQUIRE(x.sparse_index.size() == 1);
  CHECK(x.sparse_index[0] == (HashFeature("merchant", "m1") & 1023));
}

TEST_CASE("crosses: a pair hashed deterministically, unlike either field alone", "[features][preprocess]") {
  FeatureConfig c = NoAggregates();
  c.crosses = {{"country", "merchant_category"}, {"hour", "country"}};
  FeatureDictionary d1, d2;
  FeatureBuilder b1(c, &d1), b2(c, &d2);
  Event e = Make({.numeric = {{"hour", 3}}, .categorical = {{"country", "DE"}, {"merchant_category", "food"}}});
  FeatureVector x, y;
  b1.build(e, {}, &x);
  b2.build(e, {}, &y);
  REQUIRE(x.sparse_index.size() == 4);  // two categoricals, two crosses
  CHECK(x.sparse_index == y.sparse_index);
  const uint32_t country = x.sparse_index[0], category = x.sparse_index[1];
  const uint32_t cross = x.sparse_index[2], hour_country = x.sparse_index[3];
  CHECK(cross != country);
  CHECK(cross != category);
  CHECK(hour_country != cross);
  CHECK(x.sparse_value[2] == 1.0f);

  // Another pair of values, another bucket; a missing field, no cross.
  b1.build(Make({.categorical = {{"country", "FR"}, {"merchant_category", "food"}}}), {}, &y);
  REQUIRE(y.sparse_index.size() == 3);
  CHECK(y.sparse_index[2] != cross);
  b1.build(Make({.categorical = {{"country", "DE"}}}), {}, &y);
  CHECK(y.sparse_index.size() == 1);
  // A number crosses by its shortest text: hour 3 and hour "3" agree.
  b1.build(Make({.categorical = {{"hour", "3"}, {"country", "DE"}}}), {}, &y);
  CHECK(y.sparse_index.back() == hour_country);
}

TEST_CASE("pca: recovers the top direction of a correlated 2-D Gaussian", "[features][preprocess][pca]") {
  FeatureConfig c = NoAggregates();
  c.pca.components = 1;
  c.pca.fields = {"x", "y"};
  c.pca.refresh_every = 500;
  REQUIRE(c.validate().ok());
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  FeatureVector x;
  // Variance 9 along (cos 30°, sin 30°), 0.25 across it, centred at (5, -2).
  const double ux = std::cos(std::numbers::pi / 6), uy = std::sin(std::numbers::pi / 6);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> n(0, 1);
  double last_projection = 0, expected = 0;
  for (int i = 0; i < 5000; ++i) {
    const double a = 3 * n(rng), d = 0.5 * n(rng);
    const double px = 5 + a * ux - d * uy, py = -2 + a * uy + d * ux;
    Event e = Make({.numeric = {{"x", px}, {"y", py}}});
    b.build(e, s, &x);
    if (i >= 500) {
      REQUIRE(HasDense(x, dict, "pca@0"));
      last_projection = Dense(x, dict, "pca@0");
      expected = a;
    } else {
      REQUIRE_FALSE(HasDense(x, dict, "pca@0"));  // before the first refresh
    }
    CHECK_FALSE(HasDense(x, dict, "x"));  // inputs replaced by the components
    b.update(e, &s);
  }
  const OnlinePca* pca = b.pca();
  REQUIRE(pca != nullptr);
  REQUIRE(pca->ready());
  const auto& v = pca->components();
  CHECK(std::abs(v[0] * ux + v[1] * uy) > 0.999);  // |cos| of the angle to the true direction
  CHECK(v[0] > 0);                                 // the sign convention: largest entry positive
  CHECK(pca->explained_variance()[0] == Approx(9.0).epsilon(0.1));
  CHECK(last_projection == Approx(expected).margin(0.3));  // the sample's coordinate on it
}

TEST_CASE("online pca: deterministic, save/load bit-exact, refuses bad bytes", "[features][pca]") {
  auto run = [](OnlinePca& p, int from, int to) {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> n(0, 1);
    double row[3];
    for (int i = 0; i < to; ++i) {
      const double a = n(rng), b = n(rng), c = n(rng);
      row[0] = a;
      row[1] = 2 * a + 0.1 * b;
      row[2] = c - a;
      if (i >= from) p.update(row);
    }
  };
  OnlinePca a(3, 2, 100), b(3, 2, 100);
  run(a, 0, 1000);
  run(b, 0, 1000);
  CHECK(a.components() == b.components());
  std::string bytes;
  ByteWriter w(&bytes);
  a.save(w);
  OnlinePca c(3, 2, 100);
  ByteReader r(bytes);
  REQUIRE(c.load(r).ok());
  CHECK(r.at_end());
  std::string again;
  ByteWriter w2(&again);
  c.save(w2);
  CHECK(again == bytes);

  OnlinePca other(4, 2, 100);
  ByteReader r2(bytes);
  CHECK(other.load(r2).code() == ErrorCode::kFailedPrecondition);
  for (size_t cut : {size_t{3}, size_t{20}, bytes.size() - 1}) {
    ByteReader t(std::string_view(bytes).substr(0, cut));
    CHECK(c.load(t).code() == ErrorCode::kCorruption);
  }
  std::string unchanged;
  ByteWriter w3(&unchanged);
  c.save(w3);
  CHECK(unchanged == bytes);
}

TEST_CASE("aggregates follow the clean value and the field's scaling", "[features][preprocess]") {
  FeatureConfig c;
  c.aggregates = kAggMean | kAggMax | kAggStd;
  FieldConfig f;
  f.clip_max = 100;
  c.fields["amount"] = f;
  FeatureDictionary dict;
  FeatureBuilder b(c, &dict);
  EntityState s;
  Feed(b, s, {10, 1e9});
  FeatureVector x;
  b.build(Amount(5, 1), s, &x);
  CHECK(Dense(x, dict, "amount@entity_max") == 100.0);  // not 1e9
  CHECK(Dense(x, dict, "amount@entity_mean") == 55.0);
  CHECK(Dense(x, dict, "amount@entity_std") == 45.0);
}

// Categorical fields as nominal attributes (features.nominals): stable field and value ids,
// an "other" id past nominal_max_values, the hashed one-hot block unchanged beside them, and
// the dictionary in the feature state (version-1 bytes when nominals are off).

#include "test_util.hpp"

using namespace feature_test;

namespace {

FeatureConfig Nominals(uint32_t max_values) {
  auto c = FeatureConfig::Parse({{"nominals", "true"}, {"nominal_max_values", std::to_string(max_values)}});
  REQUIRE(c.ok());
  return *c;
}

std::string Saved(const FeatureBuilder& b) {
  std::string bytes;
  ByteWriter w(&bytes);
  b.save(w);
  return bytes;
}

}  // namespace

TEST_CASE("nominals: field and value ids in order of first appearance, other past the bound", "[features][nominal]") {
  FeatureDictionary dict;
  FeatureBuilder builder(Nominals(2), &dict);
  FeatureVector x;
  builder.build(Make({.numeric = {{"amount", 3}}, .categorical = {{"car", "car3"}, {"zip", "z1"}}}), &x);
  REQUIRE(x.nominal_field == std::vector<uint32_t>{0, 1});
  CHECK(x.nominal_value == std::vector<uint32_t>{0, 0});
  REQUIRE(x.sparse_index.size() == 2);  // the hashed copies stay for linear models
  CHECK(x.nominal_sparse_begin == 0);
  CHECK(x.sparse_is_nominal(0));
  CHECK(x.sparse_is_nominal(1));
  x.clear();
  builder.build(Make({.categorical = {{"zip", "z2"}, {"car", "car3"}}}), &x);
  CHECK(x.nominal_field == std::vector<uint32_t>{1, 0});
  CHECK(x.nominal_value == std::vector<uint32_t>{1, 0});
  x.clear();
  builder.build(Make({.categorical = {{"zip", "z3"}}}), &x);
  CHECK(x.nominal_value == std::vector<uint32_t>{2});  // "other": nominal_max_values
  CHECK(builder.nominal_values("zip") == 2);
  CHECK(builder.nominal_other_count("zip") == 1);
  CHECK(builder.nominal_field_id("car") == 0);
  CHECK(builder.nominal_field_id("none") == -1);
}

TEST_CASE("nominals: off by default, and the hashed block is the same with them on", "[features][nominal]") {
  FeatureDictionary d1, d2;
  FeatureBuilder plain(FeatureConfig{}, &d1), nominal(Nominals(1000), &d2);
  const Event e = Make({.numeric = {{"amount", 3}}, .categorical = {{"car", "car3"}}});
  FeatureVector a, b;
  plain.build(e, &a);
  nominal.build(e, &b);
  CHECK(a.nominal_field.empty());
  CHECK(a.sparse_index == b.sparse_index);
  CHECK(a.sparse_value == b.sparse_value);
  CHECK(a.dense == b.dense);
  CHECK(Saved(plain)[0] == 1);  // the state's version-1 bytes without nominals
  CHECK(Saved(nominal)[0] == 2);
}

TEST_CASE("nominals: the dictionary survives save/load, a version-1 state loads with none", "[features][nominal]") {
  FeatureDictionary dict;
  FeatureBuilder builder(Nominals(1000), &dict);
  FeatureVector x;
  builder.build(Make({.categorical = {{"car", "a"}, {"zip", "b"}}}), &x);
  builder.build(Make({.categorical = {{"zip", "c"}}}), &x);
  const std::string bytes = Saved(builder);
  FeatureDictionary dict2;
  FeatureBuilder restored(Nominals(1000), &dict2);
  ByteReader r(bytes);
  REQUIRE(restored.load(r).ok());
  CHECK(r.at_end());
  CHECK(Saved(restored) == bytes);
  x.clear();
  restored.build(Make({.categorical = {{"zip", "c"}, {"car", "new"}}}), &x);
  CHECK(x.nominal_field == std::vector<uint32_t>{1, 0});
  CHECK(x.nominal_value == std::vector<uint32_t>{1, 1});

  FeatureDictionary d3, d4;
  FeatureBuilder old(FeatureConfig{}, &d3);
  const std::string v1 = Saved(old);
  FeatureBuilder reader(Nominals(1000), &d4);
  ByteReader r1(v1);
  REQUIRE(reader.load(r1).ok());
  CHECK(reader.nominal_field_id("car") == -1);

  std::string truncated = bytes.substr(0, bytes.size() - 3);
  FeatureBuilder bad(Nominals(1000), &dict2);
  ByteReader rt(truncated);
  CHECK(bad.load(rt).code() == ErrorCode::kCorruption);
}

// FeatureConfig::Parse and validate(): every key lands, errors name the key.

#include "streamlearn/core/config_values.hpp"  // ParseDurationMs: the config grammar
#include "test_util.hpp"

using namespace feature_test;

namespace {

std::string ParseError(std::map<std::string, std::string> keys) {
  auto c = FeatureConfig::Parse(keys);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == ErrorCode::kInvalidArgument);
  return c.status().message();
}

}  // namespace

TEST_CASE("config: no keys are the defaults, which validate", "[features][config]") {
  auto c = FeatureConfig::Parse({});
  REQUIRE(c.ok());
  CHECK(*c == FeatureConfig{});
  CHECK(c->aggregates == kDefaultAggregates);
  CHECK(c->windows.empty());
  CHECK_FALSE(c->target_agg);
  CHECK(c->default_field.numeric_identity());
}

TEST_CASE("config: every key is read", "[features][config]") {
  auto c = FeatureConfig::Parse({
      {"entity_aggregates", "true"},
      {"ewma_half_life_s", "30"},
      {"hash_bits", "20"},
      {"max_dense_features", "2048"},
      {"aggregates", "count, mean, std, min, max, sum"},
      {"windows", "[1m, sliding:1h, tumbling:1d, 500ms]"},
      {"window_buckets", "10"},
      {"window_fields", "amount"},
      {"target_agg", "yes"},
      {"target_prior", "0.1"},
      {"target_prior_weight", "20"},
      {"crosses", "country*merchant_category,hour*country"},
      {"pca.components", "4"},
      {"pca.fields", "x0,x1,x2,x3,x4"},
      {"pca.refresh_every", "500"},
      {"pca.keep_inputs", "true"},
      {"fields.*.clip_std", "5"},
      {"fields.*.impute", "zero"},
      {"fields.amount.impute", "mean"},
      {"fields.amount.missing_indicator", "true"},
      {"fields.amount.log1p", "signed"},
      {"fields.amount.clip_min", "-10"},
      {"fields.amount.clip_max", "1e6"},
      {"fields.fee.impute", "constant"},
      {"fields.fee.impute_value", "2.5"},
      {"fields.hour.scale", "minmax"},
      {"fields.age.scale", "standard"},
      {"fields.country.encoding", "onehot"},
      {"fields.country.max_categories", "50"},
      {"fields.a.b.log1p", "true"},  // a dotted field name: the setting is the last part
  });
  REQUIRE(c.ok());
  CHECK(c->ewma_half_life_s == 30);
  CHECK(c->hash_bits == 20);
  CHECK(c->max_dense_features == 2048);
  CHECK(c->aggregates == (kAggCount | kAggMean | kAggStd | kAggMin | kAggMax | kAggSum));
  REQUIRE(c->windows.size() == 4);
  CHECK(c->windows[0] == WindowSpec{60'000, false, "1m"});
  CHECK(c->windows[1] == WindowSpec{3'600'000, false, "1h"});
  CHECK(c->windows[2] == WindowSpec{86'400'000, true, "1d_tumbling"});
  CHECK(c->windows[3] == WindowSpec{500, false, "500ms"});
  CHECK(c->window_buckets == 10);
  CHECK(c->window_fields == std::vector<std::string>{"amount"});
  CHECK(c->target_agg);
  CHECK(c->target_prior == 0.1);
  CHECK(c->target_prior_weight == 20);
  REQUIRE(c->crosses.size() == 2);
  CHECK(c->crosses[1] == std::pair<std::string, std::string>{"hour", "country"});
  CHECK(c->pca.components == 4);
  CHECK(c->pca.fields.size() == 5);
  CHECK(c->pca.refresh_every == 500);
  CHECK(c->pca.keep_inputs);
  CHECK(c->default_field.clip_std == 5);
  CHECK(c->default_field.impute == Impute::kZero);
  const FieldConfig& amount = c->field("amount");
  CHECK(amount.impute == Impute::kMean);
  CHECK(amount.clip_std == 5);  // inherited from fields.*
  CHECK(amount.missing_indicator);
  CHECK(amount.log1p == Log1p::kSigned);
  CHECK(amount.clip_min == -10);
  CHECK(amount.clip_max == 1e6);
  CHECK(c->field("fee").impute == Impute::kConstant);
  CHECK(c->field("fee").impute_value == 2.5);
  CHECK(c->field("hour").scale == Scale::kMinMax);
  CHECK(c->field("age").scale == Scale::kStandard);
  CHECK(c->field("country").encoding == Encoding::kOneHot);
  CHECK(c->field("country").max_categories == 50);
  CHECK(c->field("a.b").log1p == Log1p::kOn);
  CHECK(&c->field("other") == &c->default_field);
}

TEST_CASE("config: errors name the key and the value", "[features][config]") {
  CHECK(ParseError({{"fields.amount.clip_std", "-1"}}) == "features.fields.amount.clip_std: must be > 0 (0 = off), got -1");
  CHECK(ParseError({{"fields.*.clip_std", "x"}}) == "features.fields.*.clip_std: must be a number, got 'x'");
  CHECK(ParseError({{"fields.amount.impute", "median"}}) ==
        "features.fields.amount.impute: must be none, mean, zero or constant, got 'median'");
  CHECK(ParseError({{"fields.amount.colour", "red"}}).starts_with("features.fields.amount.colour: unknown field setting"));
  CHECK(ParseError({{"fields.amount", "x"}}).starts_with("features.fields.amount: expected fields.<name>.<setting>"));
  CHECK(ParseError({{"windowz", "1m"}}).starts_with("features.windowz: unknown key"));
  CHECK(ParseError({{"windows", "1 fortnight"}}).starts_with("features.windows: a window is"));
  CHECK(ParseError({{"windows", "1m,1m"}}) == "features.windows: 1m is listed twice");
  CHECK(ParseError({{"windows", "1s"}, {"window_buckets", "7"}}).starts_with("features.windows: 1s (1000ms) must be"));
  CHECK(ParseError({{"window_buckets", "0"}}).starts_with("features.window_buckets: must be between 1 and 1000"));
  CHECK(ParseError({{"window_fields", "amount"}}) == "features.window_fields: needs features.windows");
  CHECK(ParseError({{"aggregates", "mean,median"}}).starts_with("features.aggregates: unknown aggregate"));
  CHECK(ParseError({{"target_agg", "maybe"}}) == "features.target_agg: must be true or false, got 'maybe'");
  CHECK(ParseError({{"target_prior", "high"}}) == "features.target_prior: must be a number, got 'high'");
  CHECK(ParseError({{"target_prior_weight", "-2"}}) == "features.target_prior_weight: must be >= 0, got -2");
  CHECK(ParseError({{"crosses", "country"}}) == "features.crosses: a cross is a pair of field names a*b, got 'country'");
  CHECK(ParseError({{"crosses", "a*a"}}) == "features.crosses: 'a*a' crosses a field with itself");
  CHECK(ParseError({{"pca.components", "3"}, {"pca.fields", "x,y"}}).starts_with("features.pca.fields: must list between"));
  CHECK(ParseError({{"pca.components", "1"}, {"pca.fields", "x,y"}, {"pca.refresh_every", "2"}})
            .starts_with("features.pca.refresh_every: must be at least 10"));
  CHECK(ParseError({{"fields.amount.clip_min", "5"}, {"fields.amount.clip_max", "1"}}) ==
        "features.fields.amount.clip_max: must be above clip_min (5), got 1");
  CHECK(ParseError({{"fields.amount.max_categories", "0"}})
            .starts_with("features.fields.amount.max_categories: must be between 1 and 2^hash_bits - 1"));
  CHECK(ParseError({{"fields.amount.log1p", "true"}, {"fields.amount.impute", "constant"},
                    {"fields.amount.impute_value", "-1"}})
            .starts_with("features.fields.amount.impute_value: log1p: true refuses negative values"));
  CHECK(ParseError({{"fields.amount.aggregates", "mean,median"}})
            .starts_with("features.fields.amount.aggregates: unknown aggregate"));
  CHECK(ParseError({{"fields.*.aggregates", "count,mean"}})
            .starts_with("features.fields.*.aggregates: count and since_last are the entity's"));
  // The original three keep their original messages.
  CHECK(ParseError({{"hash_bits", "30"}}) == "features.hash_bits: must be between 4 and 24");
  CHECK(ParseError({{"ewma_half_life_s", "0"}}) == "features.ewma_half_life_s: must be a positive number of seconds");
}

TEST_CASE("config: durations", "[features][config]") {
  CHECK(*ParseDurationMs("250ms") == 250);
  CHECK(*ParseDurationMs("30s") == 30'000);
  CHECK(*ParseDurationMs("30") == 30'000);
  CHECK(*ParseDurationMs("1.5m") == 90'000);
  CHECK(*ParseDurationMs("2h") == 7'200'000);
  CHECK(*ParseDurationMs("1d") == 86'400'000);
  CHECK_FALSE(ParseDurationMs("").ok());
  CHECK_FALSE(ParseDurationMs("-1m").ok());
  CHECK_FALSE(ParseDurationMs("0.5ms").ok());
  CHECK_FALSE(ParseDurationMs("1w").ok());
}

// The per-event path (build, learn_target, update) allocates nothing once the field names,
// vocabularies and entities have been seen: checked with a counting operator new and,
// since Eigen (PCA) allocates with malloc directly, a counting malloc.
//
// Not under AddressSanitizer: it replaces both itself.

#include <random>
#include <vector>

#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy
#include "test_util.hpp"

using namespace feature_test;

namespace {

// A fixed population: 50 entities, 30 countries, 6 categories, amounts with nulls and
// outliers, 4 PCA inputs.
struct Stream {
  std::mt19937_64 rng{17};
  std::vector<std::string> entities, countries;
  int64_t ts = 1'700'000'000'000;
  Stream() {
    for (int i = 0; i < 50; ++i) entities.push_back("user-with-a-long-key-" + std::to_string(i));
    for (int i = 0; i < 30; ++i) countries.push_back("country-" + std::to_string(i));
  }
  // Refills `e` in place: its strings keep their capacity.
  void next(Event* e) {
    static const char* kCategories[] = {"food", "travel", "games", "fuel", "fashion", "electronics"};
    ts += static_cast<int64_t>(rng() % 3000);
    e->entity.assign(entities[rng() % entities.size()]);
    e->ts_ms = ts;
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    const bool null_amount = rng() % 20 == 0;
    e->numeric.resize(6);
    e->numeric[0].name.assign(null_amount ? "x-amount" : "amount");  // keeps the vector's shape
    e->numeric[0].value = rng() % 100 == 0 ? 1e9 : 5 + 200 * u;
    e->numeric[1].name.assign("hour");
    e->numeric[1].value = static_cast<double>(rng() % 24);
    for (int i = 0; i < 4; ++i) {
      e->numeric[2 + i].name.assign("x");
      e->numeric[2 + i].name.push_back(static_cast<char>('0' + i));
      e->numeric[2 + i].value = u * (i + 1) + 0.01 * static_cast<double>(rng() % 100);
    }
    e->missing.resize(null_amount ? 1 : 0);
    if (null_amount) e->missing[0].assign("amount");
    e->categorical.resize(2);
    e->categorical[0].name.assign("country");
    e->categorical[0].value.assign(countries[rng() % countries.size()]);
    e->categorical[1].name.assign("merchant_category");
    e->categorical[1].value.assign(kCategories[rng() % 6]);
  }
};

void CheckNoAllocations(const FeatureConfig& config) {
  FeatureDictionary dict;
  FeatureBuilder builder(config, &dict);
  StringMap<EntityState> states;
  Stream stream;
  for (const auto& e : stream.entities) states[e];
  Event e;
  e.numeric.reserve(8);
  e.missing.reserve(2);
  e.categorical.reserve(4);
  FeatureVector x;
  auto step = [&](int i) {
    stream.next(&e);
    EntityState& s = states.find(e.entity)->second;
    builder.build(e, s, &x);
    if (i % 2 == 0) builder.learn_target(static_cast<double>(i % 3 == 0), &s);
    builder.update(e, &s);
  };
  for (int i = 0; i < 20'000; ++i) step(i);  // warm-up: every name, value and entity seen
  const uint64_t news = testing::Allocations(), mallocs = testing::Mallocs();
  for (int i = 0; i < 20'000; ++i) step(i);
  CHECK(testing::Allocations() - news == 0);
  CHECK(testing::Mallocs() - mallocs == 0);
}

}  // namespace

TEST_CASE("per-event path: no allocation after warm-up, default and rich configs", "[features][alloc]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer");
    return;
  }
  // The counters must see the library's allocations, or a 0 below would prove nothing.
  {
    const uint64_t news = testing::Allocations(), mallocs = testing::Mallocs();
    FeatureDictionary dict;
    dict.id_of("a name long enough to leave the small-string buffer");
    CHECK(testing::Allocations() > news);
    CHECK(testing::Mallocs() > mallocs);
    const uint64_t before = testing::Mallocs();
    OnlinePca pca(2, 1, 10);
    CHECK(testing::Mallocs() > before);
  }
  SECTION("default") { CheckNoAllocations({}); }
  SECTION("nominals, with an other value") {
    auto nominals = FeatureConfig::Parse({{"nominals", "true"}, {"nominal_max_values", "10"}});
    REQUIRE(nominals.ok());
    CheckNoAllocations(*nominals);
  }
  SECTION("rich") {
    auto rich = FeatureConfig::Parse({
        {"aggregates", "count,since_last,sum,mean,std,min,max,ewma,last"},
        {"windows", "1m,1h,tumbling:1d"},
        {"window_fields", "amount"},
        {"target_agg", "true"},
        {"crosses", "country*merchant_category,hour*country"},
        {"fields.amount.impute", "mean"},
        {"fields.amount.missing_indicator", "true"},
        {"fields.amount.log1p", "true"},
        {"fields.*.clip_std", "5"},
        {"fields.hour.scale", "standard"},
        {"fields.country.encoding", "onehot"},
        {"fields.country.max_categories", "10"},  // 30 values: "other" is used
        {"pca.components", "2"},
        {"pca.fields", "x0,x1,x2,x3"},
        {"pca.refresh_every", "100"},  // 200 refreshes within the measured events
    });
    REQUIRE(rich.ok());
    CheckNoAllocations(*rich);
  }
}

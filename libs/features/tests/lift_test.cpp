// The measurable lift: on eval's `entities` stream (the label depends on the entity's
// latent risk, which its past label rate reveals, and on how far the amount is above the
// entity's usual amount; 5% of amounts are null and 1% are corrupt values of 1e6..1e9), a
// plain online logistic regression, test-then-train, scores clearly better with target
// aggregates, imputation and clipping on than with the default features.

#include <algorithm>
#include <map>
#include <vector>

#include "oracle/logistic_regression.hpp"
#include "streamlearn/eval/streams.hpp"
#include "test_util.hpp"

using namespace feature_test;

namespace {

struct Score {
  double accuracy = 0, auc = 0, log_loss = 0, positives = 0;
};

// ROC AUC by ranks (ties averaged).
double Auc(std::vector<std::pair<double, int>> scored) {
  std::sort(scored.begin(), scored.end());
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    const double avg_rank = (static_cast<double>(i + j) + 1) / 2;  // 1-based
    for (size_t k = i; k < j; ++k) {
      if (scored[k].second) {
        rank_sum += avg_rank;
        pos += 1;
      }
    }
    i = j;
  }
  const double neg = static_cast<double>(scored.size()) - pos;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

Score Run(const FeatureConfig& config, uint64_t events, uint64_t seed) {
  REQUIRE(config.validate().ok());
  eval::StreamOptions options;
  options.events = events;
  options.seed = seed;
  options.concepts = 1;  // no concept change: the features alone make the difference
  auto stream = eval::MakeStream("entities", options);
  REQUIRE(stream.ok());
  FeatureDictionary dict(config.max_dense_features);
  FeatureBuilder builder(config, &dict);
  learn::LogisticConfig lc;
  lc.hash_bits = config.hash_bits;
  learn::LogisticRegression model(lc);
  StringMap<EntityState> states;
  eval::GeneratedEvent g;
  Event e;
  FeatureVector x;
  std::vector<std::pair<double, int>> scored;
  double correct = 0, loss = 0, positives = 0;
  uint64_t n = 0;
  while ((*stream)->next(&g)) {
    e.clear();
    e.entity = g.entity;
    e.ts_ms = 1'700'000'000'000 + static_cast<int64_t>(n) * 10;
    for (const auto& f : g.numeric) {
      if (f.missing) {
        e.missing.push_back(f.name);
      } else {
        e.numeric.push_back({f.name, f.value});
      }
    }
    e.categorical = g.categorical;
    const int y = g.label.value >= 0.5 ? 1 : 0;
    EntityState& s = states[e.entity];
    builder.build(e, s, &x);
    const double p = model.predict_proba(x);
    correct += (p >= 0.5 ? 1 : 0) == y;
    loss -= std::log(std::clamp(y ? p : 1 - p, 1e-15, 1.0));
    positives += y;
    scored.emplace_back(p, y);
    model.learn(x, y);
    builder.learn_target(y, &s);
    builder.update(e, &s);
    ++n;
  }
  const double count = static_cast<double>(n);
  return {correct / count, Auc(std::move(scored)), loss / count, positives / count};
}

FeatureConfig On(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> keys = {
      {"target_agg", "true"},
      {"fields.amount.impute", "mean"},
      {"fields.amount.missing_indicator", "true"},
      {"fields.amount.clip_std", "4"},
  };
  for (auto& [k, v] : extra) keys[k] = v;
  auto c = FeatureConfig::Parse(keys);
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("lift: target aggregates, imputation and clipping beat the default features", "[features][lift]") {
  const uint64_t events = 100'000;
  const Score off = Run({}, events, 42);
  const Score on = Run(On(), events, 42);
  const Score target_only = Run(On({{"fields.amount.impute", "none"}, {"fields.amount.missing_indicator", "false"},
                                    {"fields.amount.clip_std", "0"}}),
                                events, 42);
  FeatureConfig clean_only = On();
  clean_only.target_agg = false;
  const Score cleaning_only = Run(clean_only, events, 42);
  const Score with_log = Run(On({{"fields.amount.log1p", "true"}}), events, 42);
  WARN("entities stream, " << events << " events, " << off.positives * 100 << "% positives\n"
       << "  default features:            accuracy " << off.accuracy << "  AUC " << off.auc << "  log loss "
       << off.log_loss << "\n"
       << "  target+impute+clip:          accuracy " << on.accuracy << "  AUC " << on.auc << "  log loss "
       << on.log_loss << "\n"
       << "  target aggregate only:       accuracy " << target_only.accuracy << "  AUC " << target_only.auc
       << "  log loss " << target_only.log_loss << "\n"
       << "  impute+clip only:            accuracy " << cleaning_only.accuracy << "  AUC " << cleaning_only.auc
       << "  log loss " << cleaning_only.log_loss << "\n"
       << "  target+impute+clip+log1p:    accuracy " << with_log.accuracy << "  AUC " << with_log.auc
       << "  log loss " << with_log.log_loss);
  // Measured (seeds 42, 1, 7, 2024): AUC +9.9 to +12.2 points, log loss -0.025 to -0.040.
  // Accuracy at the 0.5 threshold hardly moves on 11-16% positives (both stay near the
  // majority class), so the margins are asserted on AUC and log loss.
  CHECK(on.auc - off.auc > 0.05);
  CHECK(off.log_loss - on.log_loss > 0.015);
  for (uint64_t seed : {1, 7, 2024}) {
    const Score a = Run({}, events, seed), b = Run(On(), events, seed);
    INFO("seed " << seed << ": default AUC " << a.auc << " log loss " << a.log_loss << "; on AUC " << b.auc
                 << " log loss " << b.log_loss);
    CHECK(b.auc - a.auc > 0.05);
    CHECK(a.log_loss - b.log_loss > 0.015);
  }
}

// The adaptive random forest's learning and prediction, in the order of River's
// forest/adaptive_random_forest.py (BaseForest.learn_one, BaseForestMember.learn_one and
// reset, ARFClassifier.predict_proba_one) and utils/random.py (poisson).

#include "adaptive_random_forest.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "family_support.hpp"

namespace streamlearn::trees {

int64_t ResolveMaxFeatures(const ArfForestConfig& config, size_t n_features) {
  const double n = static_cast<double>(n_features);
  int64_t m = 0;
  switch (config.max_features_rule) {
    case MaxFeaturesRule::kSqrt: m = static_cast<int64_t>(std::nearbyint(std::sqrt(n))); break;
    case MaxFeaturesRule::kLog2:
      // math.log2(0) raises in River; a first event without attributes gets 1 here.
      m = n_features == 0 ? 1 : static_cast<int64_t>(std::nearbyint(std::log2(n)));
      break;
    case MaxFeaturesRule::kCount: m = config.max_features_count; break;
    case MaxFeaturesRule::kFraction: m = static_cast<int64_t>(config.max_features_fraction * n); break;
    case MaxFeaturesRule::kAll: m = static_cast<int64_t>(n_features); break;
  }
  if (m < 0) m += static_cast<int64_t>(n_features);
  if (m <= 0) m = 1;
  if (m > static_cast<int64_t>(n_features)) m = static_cast<int64_t>(n_features);
  // River would hand its trees 0 for an event without attributes; a tree needs 1 or more.
  return std::max<int64_t>(m, 1);
}

AdaptiveRandomForestLearner::AdaptiveRandomForestLearner(ArfConfig config)
    : config_(config), rng_(std::make_unique<drift::PythonRandom>(config.forest.seed)) {}

std::string_view AdaptiveRandomForestLearner::type() const {
  return config_.task == learn::LearnerTask::kMulticlass ? "arf_multiclass" : "arf";
}

uint64_t AdaptiveRandomForestLearner::drifts() const {
  uint64_t n = 0;
  for (const auto& m : members_) n += m.stats.drifts;
  return n;
}

uint64_t AdaptiveRandomForestLearner::warnings() const {
  uint64_t n = 0;
  for (const auto& m : members_) n += m.stats.warnings;
  return n;
}

std::unique_ptr<HoeffdingTreeLearner> AdaptiveRandomForestLearner::new_tree() const {
  HoeffdingTreeConfig tree = config_.tree;
  tree.task = config_.task;
  tree.max_features = max_features_;
  auto t = std::make_unique<HoeffdingTreeLearner>(tree);
  t->set_rng(rng_.get());
  return t;
}

drift::Adwin NewAdwin(double delta) {
  if (!(delta > 0)) return drift::Adwin();  // detection off: never fed
  drift::AdwinParams params;
  params.delta = delta;
  auto made = drift::Adwin::Create(params);
  return made.ok() ? std::move(made).value() : drift::Adwin();
}

size_t AttributeCount(const FeatureVector& x) {
  size_t n = 0;
  const size_t dense = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < dense; ++i) n += x.present[i] ? 1 : 0;
  std::vector<uint32_t> buckets;
  for (size_t k = 0; k < x.sparse_index.size(); ++k) {
    if (x.sparse_value[k] != 0) buckets.push_back(x.sparse_index[k]);
  }
  std::sort(buckets.begin(), buckets.end());
  return n + static_cast<size_t>(std::unique(buckets.begin(), buckets.end()) - buckets.begin());
}

void AdaptiveRandomForestLearner::init_ensemble(const FeatureVector& x) {
  max_features_ = ResolveMaxFeatures(config_.forest, AttributeCount(x));
  members_.clear();
  members_.reserve(static_cast<size_t>(config_.forest.n_models));
  for (int64_t i = 0; i < config_.forest.n_models; ++i) {
    ArfMember m;
    m.tree = new_tree();
    m.drift_detector = NewAdwin(config_.forest.drift_delta);
    m.warning_detector = NewAdwin(config_.forest.warning_delta);
    m.stats.created_on = samples_seen_;
    members_.push_back(std::move(m));
  }
}

void AdaptiveRandomForestLearner::member_learn(ArfMember& m, const FeatureVector& x, uint32_t label, double k) {
  m.tree->learn_weighted(x, label, k);
  if (m.background) m.background->learn_weighted(x, label, k);
  if (!(config_.forest.drift_delta > 0)) return;
  const double error = m.tree->predict_class(x) == static_cast<int32_t>(label) ? 0.0 : 1.0;
  if (config_.forest.warning_delta > 0 && m.warning_detector.update(error) == drift::DriftLevel::kDrift) {
    m.stats.last_warning_on = samples_seen_;
    ++m.stats.warnings;
    m.background = new_tree();
    m.stats.background_created_on = samples_seen_;
    m.warning_detector = NewAdwin(config_.forest.warning_delta);
  }
  if (m.drift_detector.update(error) != drift::DriftLevel::kDrift) return;
  m.stats.last_drift_on = samples_seen_;
  ++m.stats.drifts;
  // River's reset: the background tree takes over with its own fresh detectors and metric,
  // else a new tree starts (the warning detector then keeps its window).
  m.stats.correct = m.stats.scored = 0;
  m.drift_detector = NewAdwin(config_.forest.drift_delta);
  if (config_.forest.warning_delta > 0 && m.background) {
    m.tree = std::move(m.background);
    m.warning_detector = NewAdwin(config_.forest.warning_delta);
    m.stats.created_on = m.stats.background_created_on;
  } else {
    m.tree = new_tree();
    m.stats.created_on = samples_seen_;
  }
}

void AdaptiveRandomForestLearner::learn_one(const FeatureVector& x, uint32_t label) {
  ++samples_seen_;
  ++trained_;
  known_classes_ = std::max(known_classes_, label + 1);
  if (members_.empty()) init_ensemble(x);
  for (auto& m : members_) {
    // The tree's prediction before learning scores its metric (River's Accuracy counts a
    // tree that knows no class yet, whose prediction is None, as wrong).
    ++m.stats.scored;
    if (m.tree->predict_class(x) == static_cast<int32_t>(label)) ++m.stats.correct;
    const int k = Poisson(config_.forest.lambda_value, *rng_);
    if (k > 0) member_learn(m, x, label, static_cast<double>(k));
  }
}

void AdaptiveRandomForestLearner::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;
  if (!std::isfinite(weight) || !ValidClassLabel(config_.task, y) || !FiniteInputs(x)) {
    ++guarded_;
    return;
  }
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, static_cast<uint32_t>(y));
}

void AdaptiveRandomForestLearner::predict(const FeatureVector& x, learn::Prediction& out) const {
  const bool multi = config_.task == learn::LearnerTask::kMulticlass;
  const size_t n = multi ? known_classes_ : 2;
  out.probabilities.resize(n);
  std::fill(out.probabilities.begin(), out.probabilities.end(), 0.0);
  // River's Counter: per class the sum over trees (in tree order), keys in first-seen order.
  std::array<double, learn::kMaxLearnerClasses> tree_proba;
  std::array<uint32_t, learn::kMaxLearnerClasses> order;
  size_t ordered = 0;
  bool any = false;
  for (const auto& m : members_) {
    const HoeffdingTreeLearner& tree = *m.tree;
    const size_t classes = std::min<size_t>(tree.known_classes(), n);
    if (classes == 0) continue;
    tree.class_probabilities(x, tree_proba.data(), classes);
    const double metric = m.stats.accuracy();
    const bool weighted = !config_.forest.disable_weighted_vote && metric > 0.0;
    for (uint32_t c = 0; c < classes; ++c) {
      if (!tree.knows_class(c)) continue;
      const double v = weighted ? tree_proba[c] * metric : tree_proba[c];
      if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(ordered), c) ==
          order.begin() + static_cast<std::ptrdiff_t>(ordered)) {
        order[ordered++] = c;
        out.probabilities[c] = v;
      } else {
        out.probabilities[c] = v + out.probabilities[c];
      }
      any = true;
    }
  }
  double total = 0;
  for (size_t i = 0; i < ordered; ++i) total += out.probabilities[order[i]];
  if (total > 0) {
    for (size_t i = 0; i < ordered; ++i) out.probabilities[order[i]] /= total;
  }
  int32_t best = -1;
  for (size_t i = 0; i < ordered; ++i) {
    if (best < 0 || out.probabilities[order[i]] > out.probabilities[best]) best = static_cast<int32_t>(order[i]);
  }
  if (!any) best = -1;
  SetClassPrediction(multi, best, out);
}

std::unique_ptr<learn::Learner> AdaptiveRandomForestLearner::fresh_copy() const {
  auto copy = std::make_unique<AdaptiveRandomForestLearner>(config_);
  copy->known_classes_ = known_classes_;
  return copy;
}

void AdaptiveRandomForestLearner::reset() {
  // As a new forest of the same seed: the draws start over, the counters stay.
  rng_->seed(config_.forest.seed);
  members_.clear();
  max_features_ = 0;
  samples_seen_ = 0;
}

size_t AdaptiveRandomForestLearner::memory_bytes() const {
  size_t bytes = sizeof(*this) + sizeof(drift::PythonRandom) + members_.capacity() * sizeof(ArfMember);
  for (const auto& m : members_) {
    bytes += m.tree->memory_bytes();
    if (m.background) bytes += m.background->memory_bytes();
    bytes += AdwinBytes(m.drift_detector) + AdwinBytes(m.warning_detector);
  }
  return bytes;
}

}  // namespace streamlearn::trees

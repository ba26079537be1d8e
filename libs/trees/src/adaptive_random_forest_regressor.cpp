// The adaptive random forest regressor: River's forest/adaptive_random_forest.py
// (ARFRegressor.predict_one, ForestMemberRegressor) in its order of operations, its
// settings, snapshot, description and factory entries.

#include "adaptive_random_forest_regressor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "family_support.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "arf_regressor";
constexpr double kMaxMagnitude = 1e100;

// numpy's pairwise summation of n values: 8 running sums from 8 values on, halves above 128.
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += a[i];
    return s;
  }
  if (n <= 128) {
    std::array<double, 8> r;
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += a[i];
    return s;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(a, half) + PairwiseSum(a + half, n - half);
}

// np.add.reduce over a float64 array (ndarray.sum, np.mean's numerator): the first value,
// plus the pairwise sum of the rest.
double NumpySum(const double* a, size_t n) { return n == 0 ? 0.0 : a[0] + PairwiseSum(a + 1, n - 1); }

bool UsableInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !(std::abs(x.dense[i]) <= kMaxMagnitude)) return false;
  }
  return true;
}

Status ApplyKey(std::string_view key, std::string_view text, ArfRegressorConfig* config) {
  if (key == "aggregation_method") {
    std::string choice;
    SL_RETURN_IF_ERROR(ParseChoice(text, {"median", "mean"}, &choice));
    config->aggregation = choice == "mean" ? ArfAggregation::kMean : ArfAggregation::kMedian;
    return Status::Ok();
  }
  if (key == "metric") {
    std::string choice;
    SL_RETURN_IF_ERROR(ParseChoice(text, {"mse", "mae", "rmse"}, &choice));
    config->metric = choice == "mae" ? ArfRegressionMetric::kMae
                     : choice == "rmse" ? ArfRegressionMetric::kRmse
                                        : ArfRegressionMetric::kMse;
    return Status::Ok();
  }
  Status st = ApplyArfForestKey(key, text, &config->forest);
  return st.code() == ErrorCode::kNotFound ? ApplyHoeffdingTreeRegressorKey(key, text, &config->tree) : st;
}

void WriteConfig(ByteWriter& w, const ArfRegressorConfig& c) {
  WriteArfForestConfig(w, c.forest);
  w.u8(static_cast<uint8_t>(c.aggregation));
  w.u8(static_cast<uint8_t>(c.metric));
  WriteHoeffdingTreeRegressorConfig(w, c.tree);
}

bool ReadConfig(ByteReader& r, ArfRegressorConfig* c) {
  if (!ReadArfForestConfig(r, &c->forest)) return false;
  const uint8_t aggregation = r.u8();
  const uint8_t metric = r.u8();
  if (!ReadHoeffdingTreeRegressorConfig(r, &c->tree) || !r.ok() || aggregation > 1 || metric > 2) return false;
  c->aggregation = static_cast<ArfAggregation>(aggregation);
  c->metric = static_cast<ArfRegressionMetric>(metric);
  return true;
}

}  // namespace

AdaptiveRandomForestRegressor::AdaptiveRandomForestRegressor(ArfRegressorConfig config)
    : config_(config), rng_(std::make_unique<drift::PythonRandom>(config.forest.seed)) {}

uint64_t AdaptiveRandomForestRegressor::drifts() const {
  uint64_t n = 0;
  for (const auto& m : members_) n += m.drifts;
  return n;
}

uint64_t AdaptiveRandomForestRegressor::warnings() const {
  uint64_t n = 0;
  for (const auto& m : members_) n += m.warnings;
  return n;
}

std::unique_ptr<HoeffdingTreeRegressor> AdaptiveRandomForestRegressor::new_tree() const {
  HoeffdingTreeRegressorConfig tree = config_.tree;
  tree.max_features = max_features_;
  auto t = std::make_unique<HoeffdingTreeRegressor>(tree);
  t->set_rng(rng_.get());
  return t;
}

double AdaptiveRandomForestRegressor::metric_value(const ArfRegressorMember& m) const {
  return config_.metric == ArfRegressionMetric::kRmse ? std::sqrt(m.metric.mean) : m.metric.mean;
}

void AdaptiveRandomForestRegressor::member_learn(ArfRegressorMember& m, const FeatureVector& x, double y, double k) {
  m.tree->learn_weighted(x, y, k);
  if (m.background) m.background->learn_weighted(x, y, k);
  if (!(config_.forest.drift_delta > 0)) return;
  const double error = y - m.tree->predict_value(x);
  m.errors.update(error, 1.0);
  double input = 0.5;
  if (m.errors.n != 1) {
    const double sd = std::sqrt(m.errors.sigma);
    input = sd > 0 ? (error + 3 * sd) / (6 * sd) : 0.5;
  }
  if (config_.forest.warning_delta > 0 && m.warning_detector.update(input) == drift::DriftLevel::kDrift) {
    m.last_warning_on = samples_seen_;
    ++m.warnings;
    m.background = new_tree();
    m.background_created_on = samples_seen_;
    m.warning_detector = NewAdwin(config_.forest.warning_delta);
  }
  if (m.drift_detector.update(input) != drift::DriftLevel::kDrift) return;
  m.last_drift_on = samples_seen_;
  ++m.drifts;
  m.metric = {};
  m.errors = {};
  m.drift_detector = NewAdwin(config_.forest.drift_delta);
  if (config_.forest.warning_delta > 0 && m.background) {
    m.tree = std::move(m.background);
    m.warning_detector = NewAdwin(config_.forest.warning_delta);
    m.created_on = m.background_created_on;
  } else {
    m.tree = new_tree();
    m.created_on = samples_seen_;
  }
}

void AdaptiveRandomForestRegressor::learn_one(const FeatureVector& x, double y) {
  ++samples_seen_;
  ++trained_;
  if (members_.empty()) {
    max_features_ = ResolveMaxFeatures(config_.forest, AttributeCount(x));
    members_.resize(static_cast<size_t>(config_.forest.n_models));
    for (auto& m : members_) {
      m.tree = new_tree();
      m.drift_detector = NewAdwin(config_.forest.drift_delta);
      m.warning_detector = NewAdwin(config_.forest.warning_delta);
      m.created_on = samples_seen_;
    }
  }
  for (auto& m : members_) {
    const double error = y - m.tree->predict_value(x);
    // River's MSE / MAE: a stats.Mean of the errors (the weight is always 1).
    m.metric.n += 1;
    const double e = config_.metric == ArfRegressionMetric::kMae ? std::abs(error) : error * error;
    m.metric.mean += (1 / m.metric.n) * (e - m.metric.mean);
    const int k = Poisson(config_.forest.lambda_value, *rng_);
    if (k > 0) member_learn(m, x, y, static_cast<double>(k));
  }
}

void AdaptiveRandomForestRegressor::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;
  if (!std::isfinite(weight) || !(std::abs(y) <= kMaxMagnitude) || !UsableInputs(x)) {
    ++guarded_;
    return;
  }
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, y);
}

double AdaptiveRandomForestRegressor::predict_value(const FeatureVector& x) const {
  const size_t n = members_.size();
  if (n == 0) return 0.0;
  std::array<double, 1024> stack_preds;
  std::vector<double> heap_preds;
  double* preds = stack_preds.data();
  if (n > stack_preds.size()) {
    heap_preds.resize(n);
    preds = heap_preds.data();
  }
  for (size_t i = 0; i < n; ++i) preds[i] = members_[i].tree->predict_value(x);
  if (config_.aggregation == ArfAggregation::kMedian) {
    // np.median: the middle value, or the mean of the two middle ones.
    std::sort(preds, preds + n);
    return n % 2 == 1 ? preds[n / 2] : (preds[n / 2 - 1] + preds[n / 2]) / 2.0;
  }
  if (!config_.forest.disable_weighted_vote) {
    std::array<double, 1024> stack_weights;
    std::vector<double> heap_weights;
    double* weights = stack_weights.data();
    if (n > stack_weights.size()) {
      heap_weights.resize(n);
      weights = heap_weights.data();
    }
    double sum_weights = 0.0;
    for (size_t i = 0; i < n; ++i) {
      weights[i] = metric_value(members_[i]);
      sum_weights += weights[i];
    }
    if (sum_weights != 0) {
      // The higher the error, the lower the weight (River's arithmetic).
      for (size_t i = 0; i < n; ++i) weights[i] = sum_weights - weights[i];
      const double total = NumpySum(weights, n);
      for (size_t i = 0; i < n; ++i) weights[i] /= total;
      for (size_t i = 0; i < n; ++i) preds[i] *= weights[i];
    }
  }
  return NumpySum(preds, n) / static_cast<double>(n);
}

void AdaptiveRandomForestRegressor::predict(const FeatureVector& x, learn::Prediction& out) const {
  out.probabilities.clear();
  out.class_index = -1;
  const double v = predict_value(x);
  out.score = std::isfinite(v) ? v : 0.0;
}

std::unique_ptr<learn::Learner> AdaptiveRandomForestRegressor::fresh_copy() const {
  return std::make_unique<AdaptiveRandomForestRegressor>(config_);
}

void AdaptiveRandomForestRegressor::reset() {
  rng_->seed(config_.forest.seed);
  members_.clear();
  max_features_ = 0;
  samples_seen_ = 0;
}

size_t AdaptiveRandomForestRegressor::memory_bytes() const {
  size_t bytes = sizeof(*this) + sizeof(drift::PythonRandom) + members_.capacity() * sizeof(ArfRegressorMember);
  for (const auto& m : members_) {
    bytes += m.tree->memory_bytes();
    if (m.background) bytes += m.background->memory_bytes();
    bytes += AdwinBytes(m.drift_detector) + AdwinBytes(m.warning_detector);
  }
  return bytes;
}

void AdaptiveRandomForestRegressor::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  rng_->save(w);
  w.i64(max_features_);
  w.u64(samples_seen_);
  w.u64(trained_);
  w.u64(guarded_);
  w.u32(static_cast<uint32_t>(members_.size()));
  for (const auto& m : members_) {
    for (uint64_t v : {m.created_on, m.background_created_on, m.last_drift_on, m.last_warning_on, m.drifts, m.warnings}) {
      w.u64(v);
    }
    m.metric.save(w);
    m.errors.save(w);
    m.drift_detector.save(w);
    m.warning_detector.save(w);
    SaveMemberTrees(w, *m.tree, m.background.get());
  }
  WriteSealed(out, kArfRegressorKindTag, kFormatVersion, payload);
}

Status AdaptiveRandomForestRegressor::load(ByteReader& in) {
  auto payload = ReadSealedSettings(in, kArfRegressorKindTag, kFormatVersion, kWhat, config_, ReadConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  ArfRegressorConfig saved;
  ReadConfig(r, &saved);  // checked above: the same as config_
  AdaptiveRandomForestRegressor loaded(config_);
  if (!loaded.rng_->load(r)) return bad("bad random state");
  loaded.max_features_ = r.i64();
  loaded.samples_seen_ = r.u64();
  loaded.trained_ = r.u64();
  loaded.guarded_ = r.u64();
  const uint32_t n_members = r.u32();
  if (!r.ok() || loaded.max_features_ < 0 || loaded.max_features_ > (int64_t{1} << 26) ||
      (n_members != 0 && n_members != config_.forest.n_models) || (n_members != 0) != (loaded.max_features_ > 0)) {
    return bad("bad forest state");
  }
  loaded.members_.resize(n_members);
  for (auto& m : loaded.members_) {
    for (uint64_t* v : {&m.created_on, &m.background_created_on, &m.last_drift_on, &m.last_warning_on, &m.drifts,
                        &m.warnings}) {
      *v = r.u64();
    }
    if (!r.ok() || !m.metric.load(r) || !m.errors.load(r)) return bad("bad member statistics");
    SL_RETURN_IF_ERROR(LoadDetectors(r, config_.forest, &m.drift_detector, &m.warning_detector));
    SL_RETURN_IF_ERROR(LoadMemberTrees(r, [&] { return loaded.new_tree(); }, &m.tree, &m.background));
  }
  if (!r.at_end()) return bad("trailing bytes");
  *this = std::move(loaded);
  return Status::Ok();
}

void AdaptiveRandomForestRegressor::describe(JsonWriter& out, const learn::DenseFeatureName& name,
                                             size_t /*top_sparse*/) const {
  const ArfForestConfig& f = config_.forest;
  const HoeffdingTreeRegressorConfig& t = config_.tree;
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("n_models", std::to_string(f.n_models))
      .field("aggregation_method", config_.aggregation == ArfAggregation::kMean ? "mean" : "median")
      .field("metric", config_.metric == ArfRegressionMetric::kMae    ? "mae"
                       : config_.metric == ArfRegressionMetric::kRmse ? "rmse"
                                                                      : "mse")
      .field("lambda_value", JsonNumberText(f.lambda_value))
      .field("disable_weighted_vote", f.disable_weighted_vote ? "true" : "false")
      .field("drift_delta", f.drift_delta > 0 ? JsonNumberText(f.drift_delta) : std::string("none"))
      .field("warning_delta", f.warning_delta > 0 ? JsonNumberText(f.warning_delta) : std::string("none"))
      .field("seed", std::to_string(f.seed))
      .field("grace_period", std::to_string(t.grace_period))
      .field("delta", JsonNumberText(t.delta))
      .field("tau", JsonNumberText(t.tau))
      .field("model_selector_decay", JsonNumberText(t.model_selector_decay))
      .field("min_samples_split", std::to_string(t.min_samples_split))
      .field("max_depth", t.max_depth < 0 ? std::string("none") : std::to_string(t.max_depth))
      .field("max_size", JsonNumberText(t.max_size))
      .end_object();
  out.key("forest").begin_object();
  out.field("max_features_resolved", static_cast<uint64_t>(max_features_))
      .field("events", samples_seen_)
      .field("drifts", drifts())
      .field("warnings", warnings())
      .field("memory_bytes", uint64_t{memory_bytes()});
  out.key("trees").begin_array();
  for (const auto& m : members_) {
    out.begin_object()
        .field("depth", uint64_t{m.tree->depth()})
        .field("leaves", uint64_t{m.tree->leaves()})
        .field("metric", metric_value(m))
        .field("drifts", m.drifts)
        .field("warnings", m.warnings)
        .field("created_on", m.created_on)
        .field("background_leaves", uint64_t{m.background ? m.background->leaves() : 0})
        .end_object();
  }
  out.end_array();
  out.key("attributes").begin_array();
  uint32_t dense = 0;
  for (const auto& m : members_) dense = std::max(dense, m.tree->dense_attributes());
  for (uint32_t i = 0; i < dense; ++i) out.string(name(i));
  out.end_array();
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeAdaptiveRandomForestRegressor(std::string_view type,
                                                                          const learn::LearnerKeys& keys,
                                                                          std::string_view key_prefix) {
  ArfRegressorConfig config;
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    Status st = ApplyKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (known: n_models, max_features, aggregation_method, metric, lambda_value, "
                             "disable_weighted_vote, drift_delta, warning_delta, seed, and the tree's grace_period, "
                             "delta, tau, leaf_prediction, model_selector_decay, min_samples_split, max_depth, "
                             "max_size, memory_estimate_period, stop_mem_management)");
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<AdaptiveRandomForestRegressor>(config));
}

Status CheckAdaptiveRandomForestRegressorSetting(std::string_view key, std::string_view value) {
  ArfRegressorConfig config;
  Status st = ApplyKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;
}

Result<std::unique_ptr<learn::Learner>> RestoreAdaptiveRandomForestRegressor(ByteReader& in) {
  return RestoreSealed<AdaptiveRandomForestRegressor>(in, kArfRegressorKindTag, kFormatVersion, kWhat, ReadConfig);
}

}  // namespace streamlearn::trees

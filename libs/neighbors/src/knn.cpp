#include "knn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "streamlearn/learn/family_support.hpp"

#include "streamlearn/core/config_values.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"

namespace streamlearn::neighbors {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "knn";
constexpr uint32_t kMaxWindow = 1000000;

bool IsClassifierKey(std::string_view key) { return key == "weighted" || key == "softmax"; }
bool IsRegressorKey(std::string_view key) { return key == "aggregation_method"; }

std::string_view AggregationName(Aggregation a) {
  switch (a) {
    case Aggregation::kMean: return "mean";
    case Aggregation::kMedian: return "median";
    case Aggregation::kWeightedMean: return "weighted_mean";
  }
  return "mean";
}

// One key into `config`; the problem without the key (the caller names it), NotFound for a
// key the family does not have.
Status ApplyKey(std::string_view key, std::string_view text, KnnConfig* config) {
  const std::string got = ", got '" + std::string(text) + "'";
  if (key == "n_neighbors" || key == "window_size") {
    const int64_t hi = key == "n_neighbors" ? static_cast<int64_t>(kMaxNeighbors) : kMaxWindow;
    auto v = ParseInteger(text);
    if (!v.ok()) return Status::Invalid("expected a whole number" + got);
    if (*v < 1 || *v > hi) return Status::Invalid("must be between 1 and " + std::to_string(hi) + got);
    (key == "n_neighbors" ? config->n_neighbors : config->window_size) = static_cast<uint32_t>(*v);
    return Status::Ok();
  }
  if (key == "p") {
    auto v = ParseNumber(text);
    if (!v.ok() || !std::isfinite(*v)) return Status::Invalid("expected a number" + got);
    if (*v < 1 || *v > 1000) return Status::Invalid("must be in [1, 1000] (a Minkowski exponent)" + got);
    config->p = *v;
    return Status::Ok();
  }
  if (IsClassifierKey(key)) {
    auto v = ParseBool(text);
    if (!v.ok()) return Status::Invalid("expected true or false" + got);
    (key == "weighted" ? config->weighted : config->softmax) = *v;
    return Status::Ok();
  }
  if (IsRegressorKey(key)) {
    auto v = ParseChoice(text, {"mean", "median", "weighted_mean"});
    if (!v.ok()) return v.status();
    config->aggregation = static_cast<Aggregation>(*v);
    return Status::Ok();
  }
  return Status::NotFound("not a knn key");
}

learn::LearnerTask TaskOfType(std::string_view type) {
  if (type == "knn_regressor") return learn::LearnerTask::kRegression;
  if (type == "knn_multiclass") return learn::LearnerTask::kMulticlass;
  return learn::LearnerTask::kBinary;
}

uint8_t TaskCode(learn::LearnerTask task) {
  return task == learn::LearnerTask::kBinary ? 0 : task == learn::LearnerTask::kMulticlass ? 1 : 2;
}

bool ValidLabel(learn::LearnerTask task, double y) {
  if (!std::isfinite(y)) return false;
  if (task == learn::LearnerTask::kRegression) return true;
  if (y < 0 || y != std::floor(y)) return false;
  return task == learn::LearnerTask::kBinary ? y <= 1 : y < learn::kMaxLearnerClasses;
}

bool FiniteInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !std::isfinite(x.dense[i])) return false;
  }
  for (float v : x.sparse_value) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

void WriteConfig(ByteWriter& w, const KnnConfig& c) {
  w.u8(TaskCode(c.task));
  w.u32(c.n_neighbors);
  w.u32(c.window_size);
  w.f64(c.p);
  w.u8(c.weighted ? 1 : 0);
  w.u8(c.softmax ? 1 : 0);
  w.u8(static_cast<uint8_t>(c.aggregation));
}

bool ReadConfig(ByteReader& r, KnnConfig* c) {
  const uint8_t task = r.u8();
  c->n_neighbors = r.u32();
  c->window_size = r.u32();
  c->p = r.f64();
  const uint8_t weighted = r.u8(), softmax = r.u8(), aggregation = r.u8();
  if (!r.ok() || task > 2 || c->n_neighbors < 1 || c->n_neighbors > kMaxNeighbors || c->window_size < 1 ||
      c->window_size > kMaxWindow || !(c->p >= 1 && c->p <= 1000) || weighted > 1 || softmax > 1 || aggregation > 2) {
    return false;
  }
  c->task = task == 0 ? learn::LearnerTask::kBinary
            : task == 1 ? learn::LearnerTask::kMulticlass
                        : learn::LearnerTask::kRegression;
  c->weighted = weighted == 1;
  c->softmax = softmax == 1;
  c->aggregation = static_cast<Aggregation>(aggregation);
  return true;
}

bool SameConfig(const KnnConfig& a, const KnnConfig& b) {
  return a.task == b.task && a.n_neighbors == b.n_neighbors && a.window_size == b.window_size && a.p == b.p &&
         a.weighted == b.weighted && a.softmax == b.softmax && a.aggregation == b.aggregation;
}

}  // namespace

std::string_view KnnLearner::type() const {
  switch (config_.task) {
    case learn::LearnerTask::kBinary: return "knn";
    case learn::LearnerTask::kMulticlass: return "knn_multiclass";
    case learn::LearnerTask::kRegression: return "knn_regressor";
  }
  return "knn";
}

void KnnLearner::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !ValidLabel(config_.task, y) || !FiniteInputs(x)) {
    ++guarded_;
    return;
  }
  // River's kNN has no sample weights: a whole weight k is k copies in the window (a
  // fractional one rounded; below one half, nothing).
  const double copies = std::round(weight);
  if (copies < 1) return;
  if (config_.task != learn::LearnerTask::kRegression) {
    const auto c = static_cast<size_t>(y);
    if (c >= seen_.size()) seen_.resize(c + 1, 0);
    seen_[c] = 1;
  }
  for (double k = copies; k >= 1; --k) {
    window_.push(x, y);
    ++trained_;
  }
}

void KnnLearner::predict(const FeatureVector& x, learn::Prediction& out) const {
  if (config_.task == learn::LearnerTask::kRegression) {
    out.score = regress(x);
    out.class_index = -1;
    out.probabilities.clear();
    return;
  }
  classify(x, out);
}

void KnnLearner::classify(const FeatureVector& x, learn::Prediction& out) const {
  const bool multi = config_.task == learn::LearnerTask::kMulticlass;
  auto& proba = out.probabilities;
  proba.assign(std::max<size_t>(seen_.size(), multi ? 0 : 2), 0.0);
  Neighbor nearest[kMaxNeighbors];
  const size_t n = window_.search(x, config_.p, config_.n_neighbors, nearest);
  if (n > 0 && nearest[0].distance == 0) {
    proba[static_cast<size_t>(window_.target(nearest[0].age))] = 1.0;  // an exact match decides alone
  } else if (n > 0) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      const double vote = config_.weighted ? 1.0 / nearest[i].distance : 1.0;
      proba[static_cast<size_t>(window_.target(nearest[i].age))] += vote;
      total += vote;
    }
    if (!(total > 0) || !std::isfinite(total)) {
      // Every neighbour infinitely far (or one subnormally near): plain votes keep it finite.
      std::fill(proba.begin(), proba.end(), 0.0);
      for (size_t i = 0; i < n; ++i) proba[static_cast<size_t>(window_.target(nearest[i].age))] += 1.0;
      total = static_cast<double>(n);
    }
    if (config_.softmax) {
      // River's utils.math.softmax over the classes it knows (those ever learned).
      double top = -std::numeric_limits<double>::infinity();
      for (size_t c = 0; c < seen_.size(); ++c) {
        if (seen_[c]) top = std::max(top, proba[c]);
      }
      double sum = 0;
      for (size_t c = 0; c < seen_.size(); ++c) {
        proba[c] = seen_[c] ? std::exp(proba[c] - top) : 0.0;
        sum += proba[c];
      }
      for (double& v : proba) v /= sum;
    } else {
      for (double& v : proba) v /= total;
    }
  }
  // The most probable known class, the lowest index on ties (River's max over its class set).
  int32_t best = -1;
  for (size_t c = 0; c < seen_.size(); ++c) {
    if (seen_[c] && (best < 0 || proba[c] > proba[static_cast<size_t>(best)])) best = static_cast<int32_t>(c);
  }
  if (multi) {
    out.class_index = best;
    out.score = best >= 0 ? proba[static_cast<size_t>(best)] : 0.0;
  } else {
    out.class_index = best < 0 ? 0 : best;
    out.score = proba[1];
    proba.clear();
  }
}

double KnnLearner::regress(const FeatureVector& x) const {
  Neighbor nearest[kMaxNeighbors];
  const size_t n = window_.search(x, config_.p, config_.n_neighbors, nearest);
  if (n == 0) return 0.0;
  if (nearest[0].distance == 0) return window_.target(nearest[0].age);
  double values[kMaxNeighbors];
  for (size_t i = 0; i < n; ++i) values[i] = window_.target(nearest[i].age);
  const auto mean = [&] {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += values[i];
    const double m = sum / static_cast<double>(n);
    if (std::isfinite(m)) return m;
    double scaled = 0;  // the sum overflowed: divide first
    for (size_t i = 0; i < n; ++i) scaled += values[i] / static_cast<double>(n);
    return scaled;
  };
  if (config_.aggregation == Aggregation::kMedian) {
    std::sort(values, values + n);
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }
  if (config_.aggregation == Aggregation::kMean) return mean();
  double inverse = 0, weighted = 0;
  for (size_t i = 0; i < n; ++i) inverse += 1.0 / nearest[i].distance;
  if (inverse == 0.0 || !std::isfinite(inverse)) return mean();  // River falls back to the mean at 0
  for (size_t i = 0; i < n; ++i) weighted += values[i] / nearest[i].distance;
  const double v = weighted / inverse;
  return std::isfinite(v) ? v : mean();
}

void KnnLearner::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  w.u64(trained_);
  w.u64(guarded_);
  w.u32(static_cast<uint32_t>(seen_.size()));
  for (uint8_t s : seen_) w.u8(s);
  window_.save(w);
  learn::WriteSealed(out, kKnnKindTag, kFormatVersion, payload);
}

Status KnnLearner::load(ByteReader& in) {
  auto payload = learn::ReadSealed(in, kKnnKindTag, kFormatVersion, kWhat);
  if (!payload.ok()) return payload.status();
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  ByteReader r(*payload);
  KnnConfig saved;
  if (!ReadConfig(r, &saved)) return bad("bad settings");
  if (!SameConfig(saved, config_)) {
    return Status::FailedPrecondition(std::string(kWhat) + " snapshot: written by a " +
                                      std::string(ToString(saved.task)) + " learner with other settings");
  }
  const uint64_t trained = r.u64();
  const uint64_t guarded = r.u64();
  const uint32_t n_seen = r.u32();
  if (!r.ok() || n_seen > learn::kMaxLearnerClasses || n_seen > r.remaining() ||
      (config_.task == learn::LearnerTask::kRegression && n_seen != 0) ||
      (config_.task == learn::LearnerTask::kBinary && n_seen > 2)) {
    return bad("bad class count");
  }
  std::vector<uint8_t> seen(n_seen);
  for (auto& s : seen) {
    s = r.u8();
    if (s > 1) return bad("bad class flag");
  }
  KnnWindow window(config_.window_size);
  if (!window.load(r) || !r.at_end()) return bad("bad window");
  for (uint32_t age = 0; age < window.size(); ++age) {
    const double y = window.target(age);
    if (!ValidLabel(config_.task, y) ||
        (config_.task != learn::LearnerTask::kRegression && (y >= n_seen || !seen[static_cast<size_t>(y)]))) {
      return bad("a row's label is not one the learner knows");
    }
  }
  window_ = std::move(window);
  seen_ = std::move(seen);
  trained_ = trained;
  guarded_ = guarded;
  return Status::Ok();
}

std::unique_ptr<learn::Learner> KnnLearner::fresh_copy() const {
  auto copy = std::make_unique<KnnLearner>(config_);
  copy->seen_ = seen_;  // the classes it knows, as a reset keeps them
  return copy;
}

void KnnLearner::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t /*top_sparse*/) const {
  out.key("learner").begin_object().field("type", type()).field("task", ToString(config_.task));
  out.field("n_neighbors", std::to_string(config_.n_neighbors))
      .field("window_size", std::to_string(config_.window_size))
      .field("p", fmt::format("{}", config_.p));
  if (config_.task == learn::LearnerTask::kRegression) {
    out.field("aggregation_method", AggregationName(config_.aggregation));
  } else {
    out.field("weighted", config_.weighted ? "true" : "false").field("softmax", config_.softmax ? "true" : "false");
  }
  out.end_object();
  out.field("window_rows", uint64_t{window_.size()});
  out.key("features").begin_array();
  for (size_t i = 0; i < window_.dim(); ++i) out.string(name(i));
  out.end_array();
  out.field("memory_bytes", uint64_t{memory_bytes()});
}

size_t KnnLearner::memory_bytes() const { return sizeof(*this) + seen_.capacity() + window_.memory_bytes(); }

Result<std::unique_ptr<learn::Learner>> MakeKnn(std::string_view type, const learn::LearnerKeys& keys,
                                                std::string_view key_prefix) {
  KnnConfig config;
  config.task = TaskOfType(type);
  const bool regressor = config.task == learn::LearnerTask::kRegression;
  for (const auto& [key, value] : keys) {
    if (learn::IsPipelineKey(key)) continue;
    const bool foreign = regressor ? IsClassifierKey(key) : IsRegressorKey(key);
    Status st = foreign ? Status::NotFound("") : ApplyKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (its keys: n_neighbors, window_size, p, " +
                             (regressor ? "aggregation_method)" : "weighted, softmax)"));
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<KnnLearner>(config));
}

Status CheckKnnSetting(std::string_view key, std::string_view value) {
  KnnConfig config;
  Status st = ApplyKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreKnn(ByteReader& in) {
  ByteReader peek = in;
  auto payload = learn::ReadSealed(peek, kKnnKindTag, kFormatVersion, kWhat);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  KnnConfig config;
  if (!ReadConfig(r, &config)) return Status::Corruption(std::string(kWhat) + " snapshot: bad settings");
  auto learner = std::make_unique<KnnLearner>(config);
  SL_RETURN_IF_ERROR(learner->load(in));
  return std::unique_ptr<learn::Learner>(std::move(learner));
}

Status RegisterNeighborLearners() {
  using learn::LearnerTask;
  return learn::RegisterLearnerFamily({{{"knn", LearnerTask::kBinary},
                                        {"knn_multiclass", LearnerTask::kMulticlass},
                                        {"knn_regressor", LearnerTask::kRegression}},
                                       kKnnKindTag,
                                       MakeKnn,
                                       CheckKnnSetting,
                                       RestoreKnn});
}

}  // namespace streamlearn::neighbors

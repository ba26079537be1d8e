#include "naive_bayes.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "family_support.hpp"
#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "naive_bayes";

bool FiniteInputs(const FeatureVector& x) {
  for (size_t i = 0; i < x.dense.size(); ++i) {
    if (x.present[i] && !std::isfinite(x.dense[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view NaiveBayesLearner::type() const {
  return task_ == learn::LearnerTask::kMulticlass ? "naive_bayes_multiclass" : "naive_bayes";
}

void NaiveBayesLearner::predict(const FeatureVector& x, learn::Prediction& out) const {
  const bool multi = task_ == learn::LearnerTask::kMulticlass;
  // Joint log likelihoods into out.probabilities (sized to the known classes), NaN for a
  // class River would not list (no Gaussians yet).
  auto& jll = out.probabilities;
  jll.assign(std::max<uint32_t>(known_classes_, multi ? 0 : 2), std::numeric_limits<double>::quiet_NaN());
  double total = 0;
  for (const auto& c : classes_) total += c.count;
  double max_ll = -std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < classes_.size(); ++c) {
    const ClassStats& stats = classes_[c];
    if (!stats.has_features) continue;
    double sum = 0;
    const size_t n = std::min(x.dense.size(), x.present.size());
    for (size_t i = 0; i < n; ++i) {
      if (!x.present[i]) continue;
      const double pdf = i < stats.features.size() ? stats.features[i].pdf(x.dense[i]) : 0.0;
      sum += std::log(1e-9 + pdf);
    }
    jll[c] = std::log(stats.count / total) + sum;
    max_ll = std::max(max_ll, jll[c]);
  }
  int32_t best = -1;
  if (std::isfinite(max_ll)) {
    double s = 0;
    for (double v : jll) {
      if (!std::isnan(v)) s += std::exp(v - max_ll);
    }
    const double lse = std::log(s) + max_ll;
    for (size_t c = 0; c < jll.size(); ++c) {
      jll[c] = std::isnan(jll[c]) ? 0.0 : std::exp(jll[c] - lse);
      if (classes_.size() > c && classes_[c].has_features && (best < 0 || jll[c] > jll[best])) {
        best = static_cast<int32_t>(c);
      }
    }
  } else {
    for (double& v : jll) v = 0.0;
  }
  if (multi) {
    out.class_index = best;
    out.score = best >= 0 ? jll[best] : 0.0;
  } else {
    out.score = jll[1];
    out.class_index = best < 0 ? 0 : best;
    out.probabilities.clear();
  }
}

void NaiveBayesLearner::learn_one(const FeatureVector& x, uint32_t label) {
  if (label >= classes_.size()) classes_.resize(label + 1);
  known_classes_ = std::max(known_classes_, label + 1);
  ClassStats& stats = classes_[label];
  stats.count += 1;
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (!x.present[i]) continue;
    if (i >= stats.features.size()) stats.features.resize(i + 1);
    stats.features[i].update(x.dense[i], 1.0);
    stats.has_features = true;
  }
  ++trained_;
}

void NaiveBayesLearner::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  if (!std::isfinite(weight) || !ValidClassLabel(task_, y) || !FiniteInputs(x)) {
    ++guarded_;
    return;
  }
  // GaussianNB has no sample weights: a whole weight k is k repeats.
  for (double k = std::round(weight); k >= 1; --k) learn_one(x, static_cast<uint32_t>(y));
}

void NaiveBayesLearner::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  w.u8(task_ == learn::LearnerTask::kMulticlass ? 1 : 0);
  w.u32(known_classes_);
  w.u64(trained_);
  w.u64(guarded_);
  w.u32(static_cast<uint32_t>(classes_.size()));
  for (const auto& c : classes_) {
    w.f64(c.count);
    w.u8(c.has_features ? 1 : 0);
    w.u32(static_cast<uint32_t>(c.features.size()));
    for (const auto& g : c.features) g.save(w);
  }
  WriteSealed(out, kNaiveBayesKindTag, kFormatVersion, payload);
}

void NaiveBayesLearner::decode(ByteReader& r, std::vector<ClassStats>* classes, uint32_t* known, uint64_t* trained,
                               uint64_t* guarded, Status* st) const {
  const auto bad = [&](const std::string& why) { *st = Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  const uint8_t multi = r.u8();
  if (!r.ok() || multi > 1) return bad("bad task");
  const auto saved_task = multi ? learn::LearnerTask::kMulticlass : learn::LearnerTask::kBinary;
  if (saved_task != task_) {
    *st = Status::FailedPrecondition(std::string(kWhat) + " snapshot: written by a " + std::string(ToString(saved_task)) +
                                     " learner, this one is " + std::string(ToString(task_)));
    return;
  }
  *known = r.u32();
  *trained = r.u64();
  *guarded = r.u64();
  const uint32_t n_classes = r.u32();
  if (!r.ok() || n_classes > learn::kMaxLearnerClasses || *known > learn::kMaxLearnerClasses || n_classes > *known) {
    return bad("bad class count");
  }
  classes->assign(n_classes, {});
  for (auto& c : *classes) {
    c.count = r.f64();
    const uint8_t has = r.u8();
    uint32_t n_features = 0;
    if (!ReadCount(r, 24, &n_features) || !std::isfinite(c.count) || c.count < 0 || has > 1) {
      return bad("bad class statistics");
    }
    c.has_features = has == 1;
    c.features.resize(n_features);
    for (auto& g : c.features) {
      if (!g.load(r)) return bad("bad Gaussian");
    }
  }
  if (!r.at_end()) return bad("trailing bytes");
}

Status NaiveBayesLearner::load(ByteReader& in) {
  auto payload = ReadSealed(in, kNaiveBayesKindTag, kFormatVersion, kWhat);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  std::vector<ClassStats> classes;
  uint32_t known = 0;
  uint64_t trained = 0, guarded = 0;
  Status st = Status::Ok();
  decode(r, &classes, &known, &trained, &guarded, &st);
  if (!st.ok()) return st;
  classes_ = std::move(classes);
  known_classes_ = known;
  trained_ = trained;
  guarded_ = guarded;
  return Status::Ok();
}

std::unique_ptr<learn::Learner> NaiveBayesLearner::fresh_copy() const {
  auto copy = std::make_unique<NaiveBayesLearner>(task_);
  copy->known_classes_ = known_classes_;
  return copy;
}

void NaiveBayesLearner::reset() { classes_.clear(); }

void NaiveBayesLearner::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t /*top_sparse*/) const {
  out.key("learner").begin_object().field("type", type()).field("task", ToString(task_)).end_object();
  out.key("classes").begin_array();
  for (size_t c = 0; c < classes_.size(); ++c) {
    const ClassStats& stats = classes_[c];
    out.begin_object().field("class", uint64_t{c}).field("count", stats.count);
    out.key("features").begin_array();
    for (size_t i = 0; i < stats.features.size(); ++i) {
      if (stats.features[i].n == 0) continue;
      out.begin_object()
          .field("feature", name(i))
          .field("mean", stats.features[i].mean)
          .field("std", stats.features[i].sigma())
          .end_object();
    }
    out.end_array().end_object();
  }
  out.end_array();
  out.field("memory_bytes", uint64_t{memory_bytes()});
}

size_t NaiveBayesLearner::memory_bytes() const {
  size_t bytes = sizeof(*this) + classes_.capacity() * sizeof(ClassStats);
  for (const auto& c : classes_) bytes += c.features.capacity() * sizeof(Gaussian);
  return bytes;
}

Result<std::unique_ptr<learn::Learner>> MakeNaiveBayes(std::string_view type, const learn::LearnerKeys& keys,
                                                       std::string_view key_prefix) {
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                           " (it has no settings of its own)");
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<NaiveBayesLearner>(TaskOfType(type)));
}

Status CheckNaiveBayesSetting(std::string_view, std::string_view) {
  return Status::Ok();  // no keys of its own: an unknown key is judged by MakeLearner
}

Result<std::unique_ptr<learn::Learner>> RestoreNaiveBayes(ByteReader& in) {
  ByteReader peek = in;
  auto payload = ReadSealed(peek, kNaiveBayesKindTag, kFormatVersion, kWhat);
  if (!payload.ok()) return payload.status();
  if (payload->empty() || static_cast<uint8_t>((*payload)[0]) > 1) {
    return Status::Corruption(std::string(kWhat) + " snapshot: bad task");
  }
  auto learner = std::make_unique<NaiveBayesLearner>((*payload)[0] ? learn::LearnerTask::kMulticlass
                                                                    : learn::LearnerTask::kBinary);
  SL_RETURN_IF_ERROR(learner->load(in));
  return std::unique_ptr<learn::Learner>(std::move(learner));
}

}  // namespace streamlearn::trees

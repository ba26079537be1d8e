// The adaptive random forest's settings, snapshot, description and factory entries.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "adaptive_random_forest.hpp"
#include "family_support.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "arf";
constexpr int64_t kMaxModels = 1000;

// none (detection off) or a delta in (0, 1).
Status ParseDelta(std::string_view text, double* out) {
  if (text == "none" || text == "None") {
    *out = 0;
    return Status::Ok();
  }
  Status st = ParseReal(text, 0, 1, true, true, out);
  return st.ok() ? st : Status::Invalid("expected none or " + st.message());
}

}  // namespace

Status ApplyArfForestKey(std::string_view key, std::string_view text, ArfForestConfig* config) {
  if (key == "n_models") return ParseWhole(text, 1, kMaxModels, &config->n_models);
  if (key == "lambda_value") return ParseReal(text, 0, 100, true, false, &config->lambda_value);
  if (key == "drift_delta") return ParseDelta(text, &config->drift_delta);
  if (key == "warning_delta") return ParseDelta(text, &config->warning_delta);
  if (key == "seed") {
    int64_t seed = 0;
    SL_RETURN_IF_ERROR(ParseWhole(text, 0, INT64_MAX, &seed));
    config->seed = static_cast<uint64_t>(seed);
    return Status::Ok();
  }
  if (key == "disable_weighted_vote") {
    auto flag = ::streamlearn::ParseBool(text);
    if (!flag.ok()) return flag.status();
    config->disable_weighted_vote = *flag;
    return Status::Ok();
  }
  if (key == "max_features") {
    if (text == "sqrt") {
      config->max_features_rule = MaxFeaturesRule::kSqrt;
    } else if (text == "log2") {
      config->max_features_rule = MaxFeaturesRule::kLog2;
    } else if (text == "none" || text == "None") {
      config->max_features_rule = MaxFeaturesRule::kAll;
    } else if (text.find_first_of(".eE") != std::string_view::npos) {
      SL_RETURN_IF_ERROR(ParseReal(text, 0, 1, true, false, &config->max_features_fraction));
      config->max_features_rule = MaxFeaturesRule::kFraction;
    } else {
      Status st = ParseWhole(text, -(int64_t{1} << 26), int64_t{1} << 26, &config->max_features_count);
      if (!st.ok()) return Status::Invalid("expected sqrt, log2, none, a whole number or a fraction in (0, 1]: " + st.message());
      config->max_features_rule = MaxFeaturesRule::kCount;
    }
    return Status::Ok();
  }
  return Status::NotFound("unknown key");
}

namespace {

Status ApplyForestKey(std::string_view key, std::string_view text, ArfConfig* config) {
  Status st = ApplyArfForestKey(key, text, &config->forest);
  return st.code() == ErrorCode::kNotFound ? ApplyHoeffdingTreeKey(key, text, &config->tree) : st;
}

std::string MaxFeaturesText(const ArfForestConfig& c) {
  switch (c.max_features_rule) {
    case MaxFeaturesRule::kSqrt: return "sqrt";
    case MaxFeaturesRule::kLog2: return "log2";
    case MaxFeaturesRule::kAll: return "none";
    case MaxFeaturesRule::kCount: return std::to_string(c.max_features_count);
    case MaxFeaturesRule::kFraction: return JsonNumberText(c.max_features_fraction);
  }
  return "sqrt";
}

}  // namespace

void WriteArfForestConfig(ByteWriter& w, const ArfForestConfig& c) {
  w.i64(c.n_models);
  w.u8(static_cast<uint8_t>(c.max_features_rule));
  w.i64(c.max_features_count);
  w.f64(c.max_features_fraction);
  w.f64(c.lambda_value);
  w.u8(c.disable_weighted_vote ? 1 : 0);
  w.f64(c.drift_delta);
  w.f64(c.warning_delta);
  w.u64(c.seed);
}

bool ReadArfForestConfig(ByteReader& r, ArfForestConfig* c) {
  c->n_models = r.i64();
  const uint8_t rule = r.u8();
  c->max_features_count = r.i64();
  c->max_features_fraction = r.f64();
  c->lambda_value = r.f64();
  const uint8_t unweighted = r.u8();
  c->drift_delta = r.f64();
  c->warning_delta = r.f64();
  c->seed = r.u64();
  if (!r.ok() || rule > 4 || unweighted > 1) return false;
  c->max_features_rule = static_cast<MaxFeaturesRule>(rule);
  c->disable_weighted_vote = unweighted == 1;
  const auto delta_ok = [](double d) { return d == 0 || (d > 0 && d < 1); };
  return c->n_models >= 1 && c->n_models <= kMaxModels && std::abs(c->max_features_count) <= (int64_t{1} << 26) &&
         c->max_features_fraction >= 0 && c->max_features_fraction <= 1 && c->lambda_value > 0 &&
         c->lambda_value <= 100 && delta_ok(c->drift_delta) && delta_ok(c->warning_delta);
}

Status LoadDetectors(ByteReader& r, const ArfForestConfig& config, drift::Adwin* drift_detector,
                     drift::Adwin* warning_detector) {
  SL_RETURN_IF_ERROR(drift_detector->load(r));
  SL_RETURN_IF_ERROR(warning_detector->load(r));
  if ((config.drift_delta > 0 && drift_detector->params().delta != config.drift_delta) ||
      (config.warning_delta > 0 && warning_detector->params().delta != config.warning_delta)) {
    return Status::Corruption("arf snapshot: a detector's delta is not the settings'");
  }
  return Status::Ok();
}

namespace {

void WriteConfig(ByteWriter& w, const ArfConfig& c) {
  w.u8(c.task == learn::LearnerTask::kMulticlass ? 1 : 0);
  WriteArfForestConfig(w, c.forest);
  WriteHoeffdingTreeConfig(w, c.tree);
}

bool ReadConfig(ByteReader& r, ArfConfig* c) {
  const uint8_t task = r.u8();
  if (!ReadArfForestConfig(r, &c->forest) || !ReadHoeffdingTreeConfig(r, &c->tree) || !r.ok() || task > 1) return false;
  c->task = task ? learn::LearnerTask::kMulticlass : learn::LearnerTask::kBinary;
  return true;
}

void WriteStats(ByteWriter& w, const ArfMemberStats& s) {
  for (uint64_t v : {s.correct, s.scored, s.created_on, s.background_created_on, s.last_drift_on, s.last_warning_on,
                     s.drifts, s.warnings}) {
    w.u64(v);
  }
}

bool ReadStats(ByteReader& r, ArfMemberStats* s) {
  for (uint64_t* v : {&s->correct, &s->scored, &s->created_on, &s->background_created_on, &s->last_drift_on,
                      &s->last_warning_on, &s->drifts, &s->warnings}) {
    *v = r.u64();
  }
  return r.ok() && s->correct <= s->scored;
}

}  // namespace

Result<ArfConfig> ParseArfConfig(std::string_view type, const learn::LearnerKeys& keys, std::string_view key_prefix) {
  ArfConfig config;
  config.task = TaskOfType(type);
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    Status st = ApplyForestKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (known: n_models, max_features, lambda_value, disable_weighted_vote, drift_delta, "
                             "warning_delta, seed, and the tree's grace_period, delta, tau, split_criterion, "
                             "leaf_prediction, nb_threshold, max_depth, n_splits, min_branch_fraction, max_share_to_split, "
                             "max_size, memory_estimate_period, stop_mem_management)");
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  config.tree.task = config.task;
  if (config.tree.split_criterion == SplitCriterion::kHellinger && config.task == learn::LearnerTask::kMulticlass) {
    return Status::Invalid(std::string(key_prefix) + "split_criterion: hellinger is for binary tasks only");
  }
  return config;
}

void AdaptiveRandomForestLearner::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  rng_->save(w);
  w.i64(max_features_);
  w.u64(samples_seen_);
  w.u32(known_classes_);
  w.u64(trained_);
  w.u64(guarded_);
  w.u32(static_cast<uint32_t>(members_.size()));
  for (const auto& m : members_) {
    WriteStats(w, m.stats);
    m.drift_detector.save(w);
    m.warning_detector.save(w);
    SaveMemberTrees(w, *m.tree, m.background.get());
  }
  WriteSealed(out, kAdaptiveRandomForestKindTag, kFormatVersion, payload);
}

// Decoded into a new forest; this one changes only when all of it is sound.
Status AdaptiveRandomForestLearner::load(ByteReader& in) {
  auto payload = ReadSealedSettings(in, kAdaptiveRandomForestKindTag, kFormatVersion, kWhat, config_, ReadConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  ArfConfig saved;
  ReadConfig(r, &saved);  // checked above: the same as config_
  AdaptiveRandomForestLearner loaded(config_);
  if (!loaded.rng_->load(r)) return bad("bad random state");
  loaded.max_features_ = r.i64();
  loaded.samples_seen_ = r.u64();
  loaded.known_classes_ = r.u32();
  loaded.trained_ = r.u64();
  loaded.guarded_ = r.u64();
  const uint32_t n_members = r.u32();
  if (!r.ok() || loaded.known_classes_ > learn::kMaxLearnerClasses || loaded.max_features_ < 0 ||
      loaded.max_features_ > (int64_t{1} << 26) || (n_members != 0 && n_members != config_.forest.n_models) ||
      (n_members != 0) != (loaded.max_features_ > 0)) {
    return bad("bad forest state");
  }
  loaded.members_.resize(n_members);
  for (auto& m : loaded.members_) {
    if (!ReadStats(r, &m.stats)) return bad("bad member statistics");
    SL_RETURN_IF_ERROR(LoadDetectors(r, config_.forest, &m.drift_detector, &m.warning_detector));
    SL_RETURN_IF_ERROR(LoadMemberTrees(r, [&] { return loaded.new_tree(); }, &m.tree, &m.background));
  }
  if (!r.at_end()) return bad("trailing bytes");
  *this = std::move(loaded);
  return Status::Ok();
}

void AdaptiveRandomForestLearner::describe(JsonWriter& out, const learn::DenseFeatureName& name,
                                           size_t /*top_sparse*/) const {
  const HoeffdingTreeConfig& t = config_.tree;
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("n_models", std::to_string(config_.forest.n_models))
      .field("max_features", MaxFeaturesText(config_.forest))
      .field("lambda_value", JsonNumberText(config_.forest.lambda_value))
      .field("disable_weighted_vote", config_.forest.disable_weighted_vote ? "true" : "false")
      .field("drift_delta", config_.forest.drift_delta > 0 ? JsonNumberText(config_.forest.drift_delta) : std::string("none"))
      .field("warning_delta", config_.forest.warning_delta > 0 ? JsonNumberText(config_.forest.warning_delta) : std::string("none"))
      .field("seed", std::to_string(config_.forest.seed))
      .field("grace_period", std::to_string(t.grace_period))
      .field("delta", JsonNumberText(t.delta))
      .field("tau", JsonNumberText(t.tau))
      .field("split_criterion", t.split_criterion == SplitCriterion::kGini        ? "gini"
                                : t.split_criterion == SplitCriterion::kHellinger ? "hellinger"
                                                                                  : "info_gain")
      .field("leaf_prediction", t.leaf_prediction == LeafPrediction::kNaiveBayes      ? "nb"
                                : t.leaf_prediction == LeafPrediction::kMajorityClass ? "mc"
                                                                                      : "nba")
      .field("nb_threshold", JsonNumberText(t.nb_threshold))
      .field("max_depth", t.max_depth < 0 ? std::string("none") : std::to_string(t.max_depth))
      .field("n_splits", std::to_string(t.n_splits))
      .field("min_branch_fraction", JsonNumberText(t.min_branch_fraction))
      .field("max_share_to_split", JsonNumberText(t.max_share_to_split))
      .field("max_size", JsonNumberText(t.max_size))
      .field("memory_estimate_period", std::to_string(t.memory_estimate_period))
      .field("stop_mem_management", t.stop_mem_management ? "true" : "false")
      .end_object();
  out.key("forest").begin_object();
  out.field("max_features_resolved", static_cast<uint64_t>(max_features_))
      .field("events", samples_seen_)
      .field("classes", uint64_t{known_classes_})
      .field("drifts", drifts())
      .field("warnings", warnings())
      .field("memory_bytes", uint64_t{memory_bytes()});
  out.key("trees").begin_array();
  for (const auto& m : members_) {
    const double metric = m.stats.accuracy();
    out.begin_object()
        .field("depth", uint64_t{m.tree->depth()})
        .field("leaves", uint64_t{m.tree->leaves()})
        .field("accuracy", metric)
        .field("weight", config_.forest.disable_weighted_vote || !(metric > 0) ? 1.0 : metric)
        .field("drifts", m.stats.drifts)
        .field("warnings", m.stats.warnings)
        .field("created_on", m.stats.created_on)
        .field("background_leaves", uint64_t{m.background ? m.background->leaves() : 0});
    out.end_object();
  }
  out.end_array();
  // The dense features the trees have seen, by name.
  out.key("attributes").begin_array();
  uint32_t dense = 0;
  for (const auto& m : members_) dense = std::max(dense, m.tree->dense_attributes());
  for (uint32_t i = 0; i < dense; ++i) out.string(name(i));
  out.end_array();
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeAdaptiveRandomForest(std::string_view type, const learn::LearnerKeys& keys,
                                                                 std::string_view key_prefix) {
  auto config = ParseArfConfig(type, keys, key_prefix);
  if (!config.ok()) return config.status();
  return std::unique_ptr<learn::Learner>(std::make_unique<AdaptiveRandomForestLearner>(*config));
}

Status CheckAdaptiveRandomForestSetting(std::string_view key, std::string_view value) {
  ArfConfig config;
  Status st = ApplyForestKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreAdaptiveRandomForest(ByteReader& in) {
  return RestoreSealed<AdaptiveRandomForestLearner>(in, kAdaptiveRandomForestKindTag, kFormatVersion, kWhat, ReadConfig);
}

}  // namespace streamlearn::trees

// The Hoeffding tree regressor's settings, snapshot, description and factory entries.

#include <cmath>
#include <string>

#include "family_support.hpp"
#include "hoeffding_tree_regressor.hpp"
#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "hoeffding_tree_regressor";
constexpr uint32_t kMaxAttribute = 1u << 26;

std::string_view LeafPredictionName(RegressionLeafPrediction p) {
  switch (p) {
    case RegressionLeafPrediction::kAdaptive: return "adaptive";
    case RegressionLeafPrediction::kMean: return "mean";
    case RegressionLeafPrediction::kModel: return "model";
  }
  return "adaptive";
}

bool Finite(std::initializer_list<double> values) {
  for (double v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

void WriteRegressionLeaf(ByteWriter& w, const RegressionLeaf& leaf) {
  leaf.stats.save(w);
  w.f64(leaf.last_split_attempt_at);
  w.u32(leaf.depth);
  w.u8(leaf.active ? 1 : 0);
  w.f64(leaf.fmse_mean);
  w.f64(leaf.fmse_model);
  w.f64(leaf.model.intercept);
  w.u32(static_cast<uint32_t>(leaf.model.weights.size()));
  for (double v : leaf.model.weights) w.f64(v);
  w.u32(static_cast<uint32_t>(leaf.splitters.size()));
  for (const auto& s : leaf.splitters) s.save(w);
}

std::string ReadRegressionLeaf(ByteReader& r, RegressionLeaf* out) {
  RegressionLeaf& leaf = *out;
  if (!leaf.stats.load(r)) return "bad target statistics";
  leaf.last_split_attempt_at = r.f64();
  leaf.depth = r.u32();
  const uint8_t active = r.u8();
  leaf.fmse_mean = r.f64();
  leaf.fmse_model = r.f64();
  leaf.model.intercept = r.f64();
  uint32_t n_weights = 0;
  if (!ReadCount(r, 8, &n_weights) || active > 1 || n_weights > kMaxAttribute ||
      !Finite({leaf.last_split_attempt_at, leaf.fmse_mean, leaf.fmse_model, leaf.model.intercept})) {
    return "bad leaf";
  }
  leaf.active = active == 1;
  leaf.model.weights.resize(n_weights);
  for (double& v : leaf.model.weights) {
    v = r.f64();
    if (!std::isfinite(v)) return "bad leaf model";
  }
  uint32_t n_splitters = 0;
  if (!ReadCount(r, 12, &n_splitters)) return "bad splitter count";
  leaf.splitters.resize(n_splitters);
  for (uint32_t k = 0; k < n_splitters; ++k) {
    auto& s = leaf.splitters[k];
    if (!s.load(r) || s.attribute() >= kMaxAttribute) return "bad splitter";
    if (s.attribute() >= leaf.splitter_slot.size()) leaf.splitter_slot.resize(s.attribute() + 1, -1);
    if (leaf.splitter_slot[s.attribute()] >= 0) return "an attribute observed twice";
    leaf.splitter_slot[s.attribute()] = static_cast<int32_t>(k);
  }
  return {};
}

std::string_view RegressionLeafPredictionName(RegressionLeafPrediction p) { return LeafPredictionName(p); }

// One key into `config`; the problem without the key's name.
Status ApplyHoeffdingTreeRegressorKey(std::string_view key, std::string_view text, HoeffdingTreeRegressorConfig* config) {
  if (key == "model_selector_decay") return ParseReal(text, 0, 1, false, false, &config->model_selector_decay);
  if (key == "min_samples_split") return ParseWhole(text, 1, int64_t{1} << 40, &config->min_samples_split);
  if (key == "leaf_prediction") {
    std::string choice;
    SL_RETURN_IF_ERROR(ParseChoice(text, {"adaptive", "mean", "model"}, &choice));
    config->leaf_prediction = choice == "mean"    ? RegressionLeafPrediction::kMean
                              : choice == "model" ? RegressionLeafPrediction::kModel
                                                  : RegressionLeafPrediction::kAdaptive;
    return Status::Ok();
  }
  return ApplyGrowthKey(key, text,
                        {&config->grace_period, &config->delta, &config->tau, &config->max_depth, &config->max_size,
                         &config->memory_estimate_period, &config->stop_mem_management});
}

void WriteHoeffdingTreeRegressorConfig(ByteWriter& w, const HoeffdingTreeRegressorConfig& c) {
  w.i64(c.grace_period);
  w.f64(c.delta);
  w.f64(c.tau);
  w.u8(static_cast<uint8_t>(c.leaf_prediction));
  w.f64(c.model_selector_decay);
  w.i64(c.min_samples_split);
  w.i64(c.max_depth);
  w.f64(c.max_size);
  w.i64(c.memory_estimate_period);
  w.u8(c.stop_mem_management ? 1 : 0);
}

bool ReadHoeffdingTreeRegressorConfig(ByteReader& r, HoeffdingTreeRegressorConfig* c) {
  c->grace_period = r.i64();
  c->delta = r.f64();
  c->tau = r.f64();
  const uint8_t leaf = r.u8();
  c->model_selector_decay = r.f64();
  c->min_samples_split = r.i64();
  c->max_depth = r.i64();
  c->max_size = r.f64();
  c->memory_estimate_period = r.i64();
  const uint8_t stop = r.u8();
  if (!r.ok() || leaf > 2 || stop > 1) return false;
  c->leaf_prediction = static_cast<RegressionLeafPrediction>(leaf);
  c->stop_mem_management = stop == 1;
  return c->grace_period >= 1 && c->delta > 0 && c->delta < 1 && c->tau >= 0 && c->model_selector_decay >= 0 &&
         c->model_selector_decay <= 1 && c->min_samples_split >= 1 && c->max_depth >= -1 && c->max_size > 0 &&
         c->max_size <= 1e9 && c->memory_estimate_period >= 1;
}

void HoeffdingTreeRegressor::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteHoeffdingTreeRegressorConfig(w, config_);
  save_state(w);
  WriteSealed(out, kHoeffdingTreeRegressorKindTag, kFormatVersion, payload);
}

void HoeffdingTreeRegressor::save_state(ByteWriter& w) const {
  w.u32(max_dense_);
  WriteMemoryEstimates(w, memory_);
  w.u64(trained_);
  w.u64(guarded_);
  WriteTreeNodes(w, nodes_);
  w.u32(static_cast<uint32_t>(leaves_.size()));
  for (const auto& leaf : leaves_) WriteRegressionLeaf(w, leaf);
  if (config_.max_features > 0) {  // the forest's trees only: the plain tree's bytes stay as they were
    w.f64(weight_seen_);
    for (const auto& leaf : leaves_) {
      w.u32(static_cast<uint32_t>(leaf.features.size()));
      for (uint32_t i : leaf.features) w.u32(i);
    }
  }
}

// Decoded and checked into locals; the learner changes only when all of it is sound.
Status HoeffdingTreeRegressor::load(ByteReader& in) {
  auto payload = ReadSealedSettings(in, kHoeffdingTreeRegressorKindTag, kFormatVersion, kWhat, config_,
                                    ReadHoeffdingTreeRegressorConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  HoeffdingTreeRegressorConfig saved;
  ReadHoeffdingTreeRegressorConfig(r, &saved);  // checked above: the same as config_
  HoeffdingTreeRegressor loaded(config_);
  SL_RETURN_IF_ERROR(loaded.load_state(r));
  if (!r.at_end()) return bad("trailing bytes");
  loaded.rng_ = rng_;
  *this = std::move(loaded);
  return Status::Ok();
}

// Into a fresh learner of the same settings (the caller commits it).
Status HoeffdingTreeRegressor::load_state(ByteReader& r) {
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  const uint32_t max_dense = r.u32();
  TreeMemoryEstimates memory;
  if (!ReadMemoryEstimates(r, &memory)) return bad("bad memory estimates");
  const uint64_t trained = r.u64();
  const uint64_t guarded = r.u64();
  std::vector<TreeNode> nodes;
  if (!r.ok() || max_dense > kMaxAttribute || !ReadTreeNodes(r, &nodes)) return bad("bad nodes");
  const uint32_t n_leaves = r.u32();
  if (!r.ok() || n_leaves > r.remaining() / 40 + 1) return bad("bad leaf count");
  std::vector<RegressionLeaf> leaves(n_leaves);
  for (auto& leaf : leaves) {
    if (const std::string problem = ReadRegressionLeaf(r, &leaf); !problem.empty()) return bad(problem);
  }
  double weight_seen = static_cast<double>(trained);
  if (config_.max_features > 0) {
    weight_seen = r.f64();
    if (!r.ok() || !std::isfinite(weight_seen) || weight_seen < 0) return bad("bad weight seen");
    for (auto& leaf : leaves) {
      uint32_t n = 0;
      if (!ReadCount(r, 4, &n)) return bad("bad attribute count");
      leaf.features.resize(n);
      for (uint32_t& i : leaf.features) {
        i = r.u32();
        if (i >= kMaxAttribute) return bad("bad attribute");
      }
      if (!r.ok()) return bad("bad attributes");
    }
  }
  std::vector<uint32_t> leaf_depths;
  for (const auto& leaf : leaves) leaf_depths.push_back(leaf.depth);
  if (const std::string problem = TreeShapeProblem(nodes, leaf_depths); !problem.empty()) return bad(problem);
  max_dense_ = max_dense;
  memory_ = memory;
  trained_ = trained;
  guarded_ = guarded;
  weight_seen_ = weight_seen;
  nodes_ = std::move(nodes);
  leaves_ = std::move(leaves);
  return Status::Ok();
}

void HoeffdingTreeRegressor::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t /*top_sparse*/) const {
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("grace_period", std::to_string(config_.grace_period))
      .field("delta", JsonNumberText(config_.delta))
      .field("tau", JsonNumberText(config_.tau))
      .field("leaf_prediction", LeafPredictionName(config_.leaf_prediction))
      .field("model_selector_decay", JsonNumberText(config_.model_selector_decay))
      .field("min_samples_split", std::to_string(config_.min_samples_split))
      .field("max_depth", config_.max_depth < 0 ? std::string("none") : std::to_string(config_.max_depth))
      .field("max_size", JsonNumberText(config_.max_size))
      .field("memory_estimate_period", std::to_string(config_.memory_estimate_period))
      .field("stop_mem_management", config_.stop_mem_management ? "true" : "false")
      .end_object();
  size_t active = 0, by_model = 0;
  for (const auto& leaf : leaves_) {
    active += leaf.active ? 1 : 0;
    const bool model = config_.leaf_prediction == RegressionLeafPrediction::kModel ||
                       (config_.leaf_prediction == RegressionLeafPrediction::kAdaptive &&
                        !(leaf.fmse_mean < leaf.fmse_model));
    by_model += model ? 1 : 0;
  }
  out.key("tree").begin_object();
  out.field("depth", uint64_t{depth()})
      .field("leaves", uint64_t{leaves_.size()})
      .field("active_leaves", uint64_t{active})
      .field("leaves_predicting_by_model", uint64_t{by_model})
      .field("splits", uint64_t{splits()})
      .field("growth_allowed", memory_.growth_allowed)
      .field("memory_bytes", uint64_t{memory_bytes()});
  out.key("attributes").begin_array();
  for (uint32_t i = 0; i < max_dense_; ++i) out.string(name(i));
  out.end_array();
  DescribeSplitNodes(out, nodes_, name);  // x <= threshold goes left
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingTreeRegressor(std::string_view type,
                                                                   const learn::LearnerKeys& keys,
                                                                   std::string_view key_prefix) {
  HoeffdingTreeRegressorConfig config;
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    Status st = ApplyHoeffdingTreeRegressorKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (known: grace_period, delta, tau, leaf_prediction, model_selector_decay, "
                             "min_samples_split, max_depth, max_size, memory_estimate_period, stop_mem_management)");
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<HoeffdingTreeRegressor>(config));
}

Status CheckHoeffdingTreeRegressorSetting(std::string_view key, std::string_view value) {
  HoeffdingTreeRegressorConfig config;
  Status st = ApplyHoeffdingTreeRegressorKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingTreeRegressor(ByteReader& in) {
  return RestoreSealed<HoeffdingTreeRegressor>(in, kHoeffdingTreeRegressorKindTag, kFormatVersion, kWhat,
                                               ReadHoeffdingTreeRegressorConfig);
}

}  // namespace streamlearn::trees

// The Hoeffding adaptive tree regressor's settings, snapshot, description and factory
// entries. The regressor's keys are its own (ApplyHoeffdingTreeRegressorKey); these add
// River's bootstrap_sampling, drift_window_threshold, switch_significance and seed.

#include <cmath>
#include <string>

#include "adaptive_tree_parts.hpp"
#include "family_support.hpp"
#include "hoeffding_adaptive_tree_regressor.hpp"
#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "hoeffding_adaptive_tree_regressor";
constexpr uint32_t kMaxAttribute = 1u << 26;

// numpy's RandomState takes seeds below 2^32.
constexpr int64_t kMaxSeed = 0xffffffff;

// One of the tree's keys into `config`; NotFound for any other key.
Status ApplyAdaptiveKey(std::string_view key, std::string_view text, HoeffdingAdaptiveTreeRegressorConfig* config) {
  Status st = ApplyAdaptiveTreeKey(key, text, kMaxSeed, config);
  return st.code() == ErrorCode::kNotFound ? ApplyHoeffdingTreeRegressorKey(key, text, &config->tree) : st;
}

void WriteConfig(ByteWriter& w, const HoeffdingAdaptiveTreeRegressorConfig& c) {
  WriteHoeffdingTreeRegressorConfig(w, c.tree);
  WriteAdaptiveTreeSettings(w, c);
}

bool ReadConfig(ByteReader& r, HoeffdingAdaptiveTreeRegressorConfig* c) {
  return ReadHoeffdingTreeRegressorConfig(r, &c->tree) && ReadAdaptiveTreeSettings(r, kMaxSeed, c);
}

}  // namespace

void HoeffdingAdaptiveTreeRegressor::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  w.u32(max_dense_);
  w.f64(weight_seen_);
  WriteMemoryEstimates(w, memory_);
  w.u64(n_alternate_);
  w.u64(n_switched_);
  w.u64(n_pruned_);
  w.u64(trained_);
  w.u64(guarded_);
  w.u32(static_cast<uint32_t>(root_));
  w.u32(static_cast<uint32_t>(nodes_.size()));
  for (const auto& n : nodes_) {
    WriteAdaptiveLinks(w, n);
    n.stats.save(w);
    n.detector.save(w);
    n.error_spread.save(w);
    if (n.leaf >= 0) n.rng.save(w);
  }
  w.u32(static_cast<uint32_t>(leaves_.size()));
  for (const auto& leaf : leaves_) WriteRegressionLeaf(w, leaf);
  WriteSealed(out, kHoeffdingAdaptiveTreeRegressorKindTag, kFormatVersion, payload);
}

// Decoded and checked into locals; the learner changes only when all of it is sound.
Status HoeffdingAdaptiveTreeRegressor::load(ByteReader& in) {
  auto payload =
      ReadSealedSettings(in, kHoeffdingAdaptiveTreeRegressorKindTag, kFormatVersion, kWhat, config_, ReadConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  HoeffdingAdaptiveTreeRegressorConfig saved;
  ReadConfig(r, &saved);  // checked above: the same as config_
  const uint32_t max_dense = r.u32();
  const double weight_seen = r.f64();
  TreeMemoryEstimates memory;
  if (!r.ok() || max_dense > kMaxAttribute || !std::isfinite(weight_seen) || weight_seen < 0 ||
      !ReadMemoryEstimates(r, &memory)) {
    return bad("bad memory estimates");
  }
  const uint64_t n_alternate = r.u64(), n_switched = r.u64(), n_pruned = r.u64();
  const uint64_t trained = r.u64(), guarded = r.u64();
  const int32_t root = static_cast<int32_t>(r.u32());
  uint32_t n_nodes = 0;
  if (!ReadCount(r, 40, &n_nodes)) return bad("bad node count");
  std::vector<AdaptiveRegressionNode> nodes(n_nodes);
  for (auto& n : nodes) {
    // The regressor splits dense attributes only.
    if (!ReadAdaptiveLinks(r, kMaxAttribute, &n) || n.on_bucket) return bad("bad node");
    if (!n.stats.load(r)) return bad("bad target statistics");
    if (!n.detector.load(r).ok()) return bad("bad drift detector");
    if (!n.error_spread.load(r)) return bad("bad error");
    if (n.leaf >= 0 && !n.rng.load(r)) return bad("bad random state");
  }
  const uint32_t n_leaves = r.u32();
  if (!r.ok() || n_leaves > n_nodes) return bad("bad leaf count");
  std::vector<RegressionLeaf> leaves(n_leaves);
  for (auto& leaf : leaves) {
    if (const std::string problem = ReadRegressionLeaf(r, &leaf); !problem.empty()) return bad(problem);
  }
  if (!r.at_end()) return bad("trailing bytes");
  if (const std::string shape = AdaptiveTreeShapeProblem(nodes, leaves, root); !shape.empty()) return bad(shape);
  max_dense_ = max_dense;
  weight_seen_ = weight_seen;
  memory_ = memory;
  n_alternate_ = n_alternate;
  n_switched_ = n_switched;
  n_pruned_ = n_pruned;
  trained_ = trained;
  guarded_ = guarded;
  root_ = root;
  nodes_ = std::move(nodes);
  leaves_ = std::move(leaves);
  detached_ = false;
  path_leaf_ = -1;
  return Status::Ok();
}

void HoeffdingAdaptiveTreeRegressor::describe(JsonWriter& out, const learn::DenseFeatureName& name,
                                              size_t /*top_sparse*/) const {
  const HoeffdingTreeRegressorConfig& t = config_.tree;
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("grace_period", std::to_string(t.grace_period))
      .field("delta", JsonNumberText(t.delta))
      .field("tau", JsonNumberText(t.tau))
      .field("leaf_prediction", RegressionLeafPredictionName(t.leaf_prediction))
      .field("model_selector_decay", JsonNumberText(t.model_selector_decay))
      .field("min_samples_split", std::to_string(t.min_samples_split))
      .field("max_depth", t.max_depth < 0 ? std::string("none") : std::to_string(t.max_depth))
      .field("max_size", JsonNumberText(t.max_size))
      .field("memory_estimate_period", std::to_string(t.memory_estimate_period))
      .field("stop_mem_management", t.stop_mem_management ? "true" : "false")
      .field("bootstrap_sampling", config_.bootstrap_sampling ? "true" : "false")
      .field("drift_window_threshold", std::to_string(config_.drift_window_threshold))
      .field("switch_significance", JsonNumberText(config_.switch_significance))
      .field("seed", std::to_string(config_.seed))
      .end_object();
  size_t active = 0;
  for (const auto& leaf : leaves_) active += leaf.active ? 1 : 0;
  out.key("tree").begin_object();
  out.field("depth", uint64_t{depth()})
      .field("leaves", uint64_t{leaves_.size()})
      .field("active_leaves", uint64_t{active})
      .field("splits", uint64_t{splits()});
  DescribeAlternates(out, nodes_, n_alternate_, n_switched_, n_pruned_);
  out.field("memory_bytes", uint64_t{memory_bytes()});
  out.key("attributes").begin_array();
  for (uint32_t i = 0; i < max_dense_; ++i) out.string(name(i));
  out.end_array();
  // The splits, root first (alternate subtrees included, marked by the node that holds them).
  DescribeSplitNodes(out, nodes_, name, [&](const AdaptiveRegressionNode& n) {
    if (n.alternate >= 0) out.field("alternate", static_cast<uint64_t>(n.alternate));
    out.field("normalized_error", n.detector.estimation());
  });
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingAdaptiveTreeRegressor(std::string_view type,
                                                                           const learn::LearnerKeys& keys,
                                                                           std::string_view key_prefix) {
  HoeffdingAdaptiveTreeRegressorConfig config;
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    Status st = ApplyAdaptiveKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (known: grace_period, delta, tau, leaf_prediction, model_selector_decay, "
                             "min_samples_split, max_depth, max_size, memory_estimate_period, stop_mem_management, "
                             "bootstrap_sampling, drift_window_threshold, switch_significance, seed)");
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<HoeffdingAdaptiveTreeRegressor>(config));
}

Status CheckHoeffdingAdaptiveTreeRegressorSetting(std::string_view key, std::string_view value) {
  HoeffdingAdaptiveTreeRegressorConfig config;
  Status st = ApplyAdaptiveKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingAdaptiveTreeRegressor(ByteReader& in) {
  return RestoreSealed<HoeffdingAdaptiveTreeRegressor>(in, kHoeffdingAdaptiveTreeRegressorKindTag, kFormatVersion,
                                                       kWhat, ReadConfig);
}

}  // namespace streamlearn::trees

// The Hoeffding adaptive tree's settings, snapshot, description and factory entries. The
// Hoeffding tree's keys are its own (ParseHoeffdingTreeConfig); these add River's
// bootstrap_sampling, drift_window_threshold, switch_significance and seed.

#include <cmath>
#include <string>

#include "adaptive_tree_parts.hpp"
#include "family_support.hpp"
#include "hoeffding_adaptive_tree.hpp"
#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "hoeffding_adaptive_tree";
constexpr uint32_t kMaxAttribute = 1u << 26;

constexpr int64_t kMaxSeed = int64_t{1} << 62;

// One of the adaptive tree's own keys into `config`; NotFound for any other key.
Status ApplyKey(std::string_view key, std::string_view text, HoeffdingAdaptiveTreeConfig* config) {
  return ApplyAdaptiveTreeKey(key, text, kMaxSeed, config);
}

void WriteConfig(ByteWriter& w, const HoeffdingAdaptiveTreeConfig& c) {
  WriteHoeffdingTreeConfig(w, c.tree);
  WriteAdaptiveTreeSettings(w, c);
}

bool ReadConfig(ByteReader& r, HoeffdingAdaptiveTreeConfig* c) {
  return ReadHoeffdingTreeConfig(r, &c->tree) && ReadAdaptiveTreeSettings(r, kMaxSeed, c);
}

}  // namespace

void HoeffdingAdaptiveTree::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  WriteSeenClasses(w, known_classes_, seen_class_);
  w.u32(max_dense_);
  WriteMemoryEstimates(w, memory_);
  w.u64(n_alternate_);
  w.u64(n_switched_);
  w.u64(n_pruned_);
  w.u64(trained_);
  w.u64(guarded_);
  rng_.save(w);
  w.u32(static_cast<uint32_t>(root_));
  w.u32(static_cast<uint32_t>(nodes_.size()));
  for (const auto& n : nodes_) {
    WriteAdaptiveLinks(w, n);
    WriteClassWeights(w, n.stats);
    n.detector.save(w);
    w.f64(n.error.n);
    w.f64(n.error.mean);
  }
  w.u32(static_cast<uint32_t>(leaves_.size()));
  for (const auto& leaf : leaves_) WriteTreeLeaf(w, leaf);
  WriteSealed(out, kHoeffdingAdaptiveTreeKindTag, kFormatVersion, payload);
}

// Decoded and checked into locals; the learner changes only when all of it is sound.
Status HoeffdingAdaptiveTree::load(ByteReader& in) {
  auto payload = ReadSealedSettings(in, kHoeffdingAdaptiveTreeKindTag, kFormatVersion, kWhat, config_, ReadConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  HoeffdingAdaptiveTreeConfig saved;
  ReadConfig(r, &saved);  // checked above: the same as config_
  uint32_t known = 0;
  std::vector<uint8_t> seen;
  if (!ReadSeenClasses(r, &known, &seen)) return bad("bad classes");
  const uint32_t max_dense = r.u32();
  TreeMemoryEstimates memory;
  if (!r.ok() || max_dense > kMaxAttribute || !ReadMemoryEstimates(r, &memory)) return bad("bad memory estimates");
  const uint64_t n_alternate = r.u64(), n_switched = r.u64(), n_pruned = r.u64();
  const uint64_t trained = r.u64(), guarded = r.u64();
  drift::PythonRandom rng(0);
  if (!r.ok() || !rng.load(r)) return bad("bad random state");
  const int32_t root = static_cast<int32_t>(r.u32());
  uint32_t n_nodes = 0;
  if (!ReadCount(r, 40, &n_nodes)) return bad("bad node count");
  std::vector<AdaptiveNode> nodes(n_nodes);
  for (auto& n : nodes) {
    if (!ReadAdaptiveLinks(r, kMaxAttribute, &n)) return bad("bad node");
    if (!ReadClassWeights(r, known, &n.stats)) return bad("bad class weights");
    if (!n.detector.load(r).ok()) return bad("bad drift detector");
    n.error.n = r.f64();
    n.error.mean = r.f64();
    if (!r.ok() || !std::isfinite(n.error.n) || n.error.n < 0 || !std::isfinite(n.error.mean)) return bad("bad error");
  }
  const uint32_t n_leaves = r.u32();
  if (!r.ok() || n_leaves > n_nodes) return bad("bad leaf count");
  std::vector<TreeLeaf> leaves(n_leaves);
  for (auto& leaf : leaves) {
    if (!ReadTreeLeaf(r, known, &leaf)) return bad("bad leaf");
  }
  if (!r.at_end()) return bad("trailing bytes");
  // The shape: every node hangs from the root once, every leaf is held once, depths follow the links.
  const std::string shape = AdaptiveTreeShapeProblem(nodes, leaves, root);
  if (!shape.empty()) return bad(shape);
  known_classes_ = known;
  seen_class_ = std::move(seen);
  max_dense_ = max_dense;
  memory_ = memory;
  n_alternate_ = n_alternate;
  n_switched_ = n_switched;
  n_pruned_ = n_pruned;
  trained_ = trained;
  guarded_ = guarded;
  rng_ = rng;
  root_ = root;
  nodes_ = std::move(nodes);
  leaves_ = std::move(leaves);
  detached_ = false;
  changed();
  return Status::Ok();
}

void HoeffdingAdaptiveTree::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t top_sparse) const {
  // The Hoeffding tree's settings as it describes them (its "learner" object; its rules
  // hold no tree), then the adaptive tree's own.
  std::string described;
  {
    JsonWriter inner(&described);
    inner.begin_object();
    rules_.describe(inner, name, top_sparse);
    inner.end_object();
  }
  const size_t from = described.find('{', 1);
  const size_t to = described.find(",\"tree\":");
  const std::string settings = described.substr(from, to - from);
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("bootstrap_sampling", config_.bootstrap_sampling ? "true" : "false")
      .field("drift_window_threshold", std::to_string(config_.drift_window_threshold))
      .field("switch_significance", JsonNumberText(config_.switch_significance))
      .field("seed", std::to_string(config_.seed))
      .key("tree_settings")
      .raw(settings)
      .end_object();
  size_t active = 0;
  for (const auto& leaf : leaves_) active += leaf.active ? 1 : 0;
  out.key("tree").begin_object();
  out.field("depth", uint64_t{depth()})
      .field("leaves", uint64_t{leaves_.size()})
      .field("active_leaves", uint64_t{active})
      .field("splits", uint64_t{splits()})
      .field("classes", uint64_t{known_classes_});
  DescribeAlternates(out, nodes_, n_alternate_, n_switched_, n_pruned_);
  out.field("memory_bytes", uint64_t{memory_bytes()});
  out.key("attributes").begin_array();
  for (uint32_t i = 0; i < max_dense_; ++i) out.string(name(i));
  out.end_array();
  // The splits, root first (alternate subtrees included, marked by the node that holds them).
  DescribeSplitNodes(out, nodes_, name, [&](const AdaptiveNode& n) {
    if (n.alternate >= 0) out.field("alternate", static_cast<uint64_t>(n.alternate));
    out.field("error", n.error.mean);
  });
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingAdaptiveTree(std::string_view type,
                                                                  const learn::LearnerKeys& keys,
                                                                  std::string_view key_prefix) {
  HoeffdingAdaptiveTreeConfig config;
  learn::LearnerKeys tree_keys;
  for (const auto& [key, value] : keys) {
    Status st = ApplyKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      tree_keys.emplace(key, value);
      continue;
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  auto tree = ParseHoeffdingTreeConfig(type, tree_keys, key_prefix);
  if (!tree.ok()) {
    return Status::Invalid(tree.status().message() +
                           (tree.status().message().find("unknown key") != std::string::npos
                                ? "; and bootstrap_sampling, drift_window_threshold, switch_significance, seed"
                                : ""));
  }
  config.tree = *tree;
  return std::unique_ptr<learn::Learner>(std::make_unique<HoeffdingAdaptiveTree>(config));
}

Status CheckHoeffdingAdaptiveTreeSetting(std::string_view key, std::string_view value) {
  HoeffdingAdaptiveTreeConfig config;
  Status st = ApplyKey(key, value, &config);
  if (st.code() == ErrorCode::kNotFound) return CheckHoeffdingTreeSetting(key, value);
  return st;
}

Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingAdaptiveTree(ByteReader& in) {
  return RestoreSealed<HoeffdingAdaptiveTree>(in, kHoeffdingAdaptiveTreeKindTag, kFormatVersion, kWhat, ReadConfig);
}

}  // namespace streamlearn::trees

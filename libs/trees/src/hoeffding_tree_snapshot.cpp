// The Hoeffding tree's settings, snapshot, description and factory entries.

#include <algorithm>
#include <cmath>
#include <string>

#include "family_support.hpp"
#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/config_values.hpp"
#include "hoeffding_tree.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {
namespace {

// 2: the nominal_attributes setting and the nominal splits and observers after version 1's
// state; version 1 (no nominals) still loads, as a tree with none.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kFormatVersionBeforeNominals = 1;
constexpr std::string_view kWhat = "hoeffding_tree";
constexpr uint32_t kMaxAttribute = 1u << 26;  // dense ids and hashed buckets stay far below

std::string_view CriterionName(SplitCriterion c) {
  switch (c) {
    case SplitCriterion::kInfoGain: return "info_gain";
    case SplitCriterion::kGini: return "gini";
    case SplitCriterion::kHellinger: return "hellinger";
  }
  return "info_gain";
}

std::string_view LeafPredictionName(LeafPrediction p) {
  switch (p) {
    case LeafPrediction::kNaiveBayesAdaptive: return "nba";
    case LeafPrediction::kNaiveBayes: return "nb";
    case LeafPrediction::kMajorityClass: return "mc";
  }
  return "nba";
}

}  // namespace

// One key into `config`; the problem without the key's name (NotFound: not a tree key).
Status ApplyHoeffdingTreeKey(std::string_view key, std::string_view text, HoeffdingTreeConfig* config) {
  std::string choice;
  if (key == "nb_threshold") return ParseReal(text, 0, 1e300, false, false, &config->nb_threshold);
  if (key == "n_splits") return ParseWhole(text, 1, 10000, &config->n_splits);
  if (key == "min_branch_fraction") return ParseReal(text, 0, 0.5, false, true, &config->min_branch_fraction);
  if (key == "max_share_to_split") return ParseReal(text, 0, 1, true, false, &config->max_share_to_split);
  if (key == "split_criterion") {
    SL_RETURN_IF_ERROR(ParseChoice(text, {"info_gain", "gini", "hellinger"}, &choice));
    config->split_criterion = choice == "gini"        ? SplitCriterion::kGini
                              : choice == "hellinger" ? SplitCriterion::kHellinger
                                                      : SplitCriterion::kInfoGain;
    return Status::Ok();
  }
  if (key == "nominal_attributes") {
    SL_RETURN_IF_ERROR(ParseChoice(text, {"multiway", "hashed"}, &choice));
    config->nominal_attributes = choice == "hashed" ? NominalAttributes::kHashed : NominalAttributes::kMultiway;
    return Status::Ok();
  }
  if (key == "leaf_prediction") {
    SL_RETURN_IF_ERROR(ParseChoice(text, {"nba", "nb", "mc"}, &choice));
    config->leaf_prediction = choice == "nb"   ? LeafPrediction::kNaiveBayes
                              : choice == "mc" ? LeafPrediction::kMajorityClass
                                               : LeafPrediction::kNaiveBayesAdaptive;
    return Status::Ok();
  }
  return ApplyGrowthKey(key, text,
                        {&config->grace_period, &config->delta, &config->tau, &config->max_depth, &config->max_size,
                         &config->memory_estimate_period, &config->stop_mem_management});
}

namespace {

// ClassWeights or a bucket's BucketClassWeights.
template <typename Weights>
void WriteWeights(ByteWriter& w, const Weights& d) {
  w.u32(static_cast<uint32_t>(d.size()));
  for (const auto& [cls, weight] : d) {
    w.u32(cls);
    w.f64(weight);
  }
}

template <typename Weights>
bool ReadWeights(ByteReader& r, uint32_t classes, Weights* d) {
  uint32_t n = 0;
  if (!ReadCount(r, 12, &n) || n > classes) return false;
  d->resize(n);
  // Weights are sums of positive sample weights: a negative one, or a total past the largest
  // double, can only come from a damaged snapshot, and would make the class votes NaN.
  double total = 0;
  for (auto& [cls, weight] : *d) {
    cls = r.u32();
    weight = r.f64();
    total += weight;
    if (!r.ok() || cls >= classes || !std::isfinite(weight) || weight < 0 || !std::isfinite(total)) return false;
  }
  for (size_t i = 0; i < n; ++i) {  // each class once
    for (size_t j = 0; j < i; ++j) {
      if ((*d)[i].first == (*d)[j].first) return false;
    }
  }
  return true;
}

}  // namespace

void WriteHoeffdingTreeConfig(ByteWriter& w, const HoeffdingTreeConfig& c) {
  w.u8(c.task == learn::LearnerTask::kMulticlass ? 1 : 0);
  w.i64(c.grace_period);
  w.f64(c.delta);
  w.f64(c.tau);
  w.u8(static_cast<uint8_t>(c.split_criterion));
  w.u8(static_cast<uint8_t>(c.leaf_prediction));
  w.f64(c.nb_threshold);
  w.i64(c.max_depth);
  w.i64(c.n_splits);
  w.f64(c.min_branch_fraction);
  w.f64(c.max_share_to_split);
  w.f64(c.max_size);
  w.i64(c.memory_estimate_period);
  w.u8(c.stop_mem_management ? 1 : 0);
}

bool ReadHoeffdingTreeConfig(ByteReader& r, HoeffdingTreeConfig* c) {
  const uint8_t task = r.u8();
  c->grace_period = r.i64();
  c->delta = r.f64();
  c->tau = r.f64();
  const uint8_t criterion = r.u8();
  const uint8_t leaf = r.u8();
  c->nb_threshold = r.f64();
  c->max_depth = r.i64();
  c->n_splits = r.i64();
  c->min_branch_fraction = r.f64();
  c->max_share_to_split = r.f64();
  c->max_size = r.f64();
  c->memory_estimate_period = r.i64();
  const uint8_t stop = r.u8();
  if (!r.ok() || task > 1 || criterion > 2 || leaf > 2 || stop > 1) return false;
  c->stop_mem_management = stop == 1;
  c->task = task ? learn::LearnerTask::kMulticlass : learn::LearnerTask::kBinary;
  c->split_criterion = static_cast<SplitCriterion>(criterion);
  c->leaf_prediction = static_cast<LeafPrediction>(leaf);
  return c->grace_period >= 1 && c->delta > 0 && c->delta < 1 && c->tau >= 0 && c->nb_threshold >= 0 &&
         c->max_depth >= -1 && c->n_splits >= 1 && c->n_splits <= 10000 && c->min_branch_fraction >= 0 &&
         c->min_branch_fraction < 0.5 && c->max_share_to_split > 0 && c->max_share_to_split <= 1 &&
         c->max_size > 0 && c->max_size <= 1e9 && c->memory_estimate_period >= 1;
}

Result<HoeffdingTreeConfig> ParseHoeffdingTreeConfig(std::string_view type, const learn::LearnerKeys& keys,
                                                     std::string_view key_prefix) {
  HoeffdingTreeConfig config;
  config.task = TaskOfType(type);
  for (const auto& [key, value] : keys) {
    if (IsPipelineKey(key)) continue;
    Status st = ApplyHoeffdingTreeKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) +
                             " (known: grace_period, delta, tau, split_criterion, leaf_prediction, nb_threshold, "
                             "max_depth, n_splits, min_branch_fraction, max_share_to_split, max_size, memory_estimate_period, "
                             "stop_mem_management)");
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  if (config.split_criterion == SplitCriterion::kHellinger && config.task == learn::LearnerTask::kMulticlass) {
    return Status::Invalid(std::string(key_prefix) + "split_criterion: hellinger is for binary tasks only");
  }
  return config;
}

void WriteTreeLeaf(ByteWriter& w, const TreeLeaf& leaf) {
  WriteWeights(w, leaf.stats);
  WriteWeights(w, leaf.observed);
  w.f64(leaf.last_split_attempt_at);
  w.f64(leaf.mc_correct);
  w.f64(leaf.nb_correct);
  w.u32(leaf.depth);
  w.u8(leaf.active ? 1 : 0);
  w.u32(static_cast<uint32_t>(leaf.numeric.size()));
  for (const auto& obs : leaf.numeric) {
    w.u32(obs.attribute);
    w.u32(static_cast<uint32_t>(obs.classes.size()));
    for (const auto& c : obs.classes) {
      w.u32(c.cls);
      c.estimator.save(w);
      w.f64(c.min);
      w.f64(c.max);
    }
  }
  w.u32(static_cast<uint32_t>(leaf.buckets.size()));
  for (const auto& obs : leaf.buckets) {
    w.u32(obs.bucket);
    WriteWeights(w, obs.present);
  }
}

bool ReadTreeLeaf(ByteReader& r, uint32_t classes, TreeLeaf* leaf) {
  if (!ReadWeights(r, classes, &leaf->stats) || !ReadWeights(r, classes, &leaf->observed)) return false;
  leaf->last_split_attempt_at = r.f64();
  leaf->mc_correct = r.f64();
  leaf->nb_correct = r.f64();
  leaf->depth = r.u32();
  const uint8_t active = r.u8();
  uint32_t n_numeric = 0;
  if (!ReadCount(r, 8, &n_numeric) || active > 1 || !std::isfinite(leaf->last_split_attempt_at) ||
      !std::isfinite(leaf->mc_correct) || !std::isfinite(leaf->nb_correct)) {
    return false;
  }
  leaf->active = active == 1;
  leaf->numeric.resize(n_numeric);
  for (uint32_t k = 0; k < n_numeric; ++k) {
    auto& obs = leaf->numeric[k];
    obs.attribute = r.u32();
    const uint32_t n_classes = r.u32();
    if (!r.ok() || obs.attribute >= kMaxAttribute || n_classes > classes) return false;
    if (obs.attribute >= leaf->numeric_slot.size()) leaf->numeric_slot.resize(obs.attribute + 1, -1);
    if (leaf->numeric_slot[obs.attribute] >= 0) return false;
    leaf->numeric_slot[obs.attribute] = static_cast<int32_t>(k);
    obs.classes.resize(n_classes);
    for (auto& c : obs.classes) {
      c.cls = r.u32();
      if (!c.estimator.load(r)) return false;
      c.refresh();
      c.min = r.f64();
      c.max = r.f64();
      if (!r.ok() || c.cls >= classes || !(c.min <= c.max)) return false;
    }
  }
  uint32_t n_buckets = 0;
  if (!ReadCount(r, 8, &n_buckets)) return false;
  leaf->buckets.resize(n_buckets);
  for (uint32_t k = 0; k < n_buckets; ++k) {
    leaf->buckets[k].bucket = r.u32();
    if (!ReadWeights(r, classes, &leaf->buckets[k].present)) return false;
    bool added = false;
    leaf->bucket_slot.find_or_add(leaf->buckets[k].bucket, k, &added);
    if (!added) return false;
  }
  return true;
}

namespace {

// The settings of a version-2 snapshot: version 1's, then nominal_attributes.
bool ReadPlainTreeConfig(ByteReader& r, HoeffdingTreeConfig* c) {
  if (!ReadHoeffdingTreeConfig(r, c)) return false;
  const uint8_t nominal = r.u8();
  if (!r.ok() || nominal > 1) return false;
  c->nominal_attributes = static_cast<NominalAttributes>(nominal);
  return true;
}

}  // namespace

void HoeffdingTreeLearner::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteHoeffdingTreeConfig(w, config_);
  w.u8(static_cast<uint8_t>(config_.nominal_attributes));
  save_state(w);
  save_nominal(w);
  WriteSealed(out, kHoeffdingTreeKindTag, kFormatVersion, payload);
}

void HoeffdingTreeLearner::save_nominal(ByteWriter& w) const {
  uint32_t splits = 0;
  for (const auto& n : nodes_) splits += n.leaf < 0 && n.nominal != kNominalNone ? 1 : 0;
  w.u32(splits);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].leaf >= 0 || nodes_[i].nominal == kNominalNone) continue;
    w.u32(i);
    w.u8(nodes_[i].nominal);
  }
  w.u32(static_cast<uint32_t>(multiway_.size()));
  for (const auto& branches : multiway_) {
    w.u32(static_cast<uint32_t>(branches.size()));
    for (const auto& [value, child] : branches) {
      w.u32(value);
      w.u32(child);
    }
  }
  for (const auto& leaf : leaves_) {
    w.u32(static_cast<uint32_t>(leaf.nominal.size()));
    for (const auto& obs : leaf.nominal) {
      w.u32(obs.field);
      w.u32(static_cast<uint32_t>(obs.classes.size()));
      for (const auto& c : obs.classes) {
        w.u32(c.cls);
        w.u32(static_cast<uint32_t>(c.values.size()));
        for (const auto& [value, weight] : c.values) {
          w.u32(value);
          w.f64(weight);
        }
      }
    }
  }
}

// Into a learner whose version-1 state was just read (nodes unchecked): the nominal splits,
// then the whole node table's shape.
Status HoeffdingTreeLearner::load_nominal(ByteReader& r) {
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  const uint32_t splits = r.u32();
  if (!r.ok() || splits > nodes_.size()) return bad("bad nominal split count");
  for (uint32_t k = 0; k < splits; ++k) {
    const uint32_t i = r.u32();
    const uint8_t kind = r.u8();
    if (!r.ok() || i >= nodes_.size() || nodes_[i].leaf >= 0 || nodes_[i].on_bucket || nodes_[i].nominal != kNominalNone ||
        (kind != kNominalBinary && kind != kNominalMultiway)) {
      return bad("bad nominal split");
    }
    nodes_[i].nominal = kind;
    has_nominal_binary_ = has_nominal_binary_ || kind == kNominalBinary;
  }
  const uint32_t tables = r.u32();
  if (!r.ok() || tables > splits) return bad("bad multiway count");
  multiway_.assign(tables, {});
  for (auto& branches : multiway_) {
    uint32_t n = 0;
    if (!ReadCount(r, 8, &n) || n == 0) return bad("bad branch count");
    branches.resize(n);
    for (auto& [value, child] : branches) {
      value = r.u32();
      child = r.u32();
    }
  }
  for (auto& leaf : leaves_) {
    uint32_t n = 0;
    if (!ReadCount(r, 8, &n)) return bad("bad nominal observers");
    leaf.nominal.resize(n);
    for (auto& obs : leaf.nominal) {
      obs.field = r.u32();
      const uint32_t nc = r.u32();
      if (!r.ok() || nc > known_classes_) return bad("bad nominal observer");
      obs.classes.resize(nc);
      for (auto& c : obs.classes) {
        c.cls = r.u32();
        uint32_t nv = 0;
        if (!ReadCount(r, 12, &nv) || c.cls >= known_classes_) return bad("bad nominal counts");
        c.values.resize(nv);
        for (auto& [value, weight] : c.values) {
          value = r.u32();
          weight = r.f64();
          if (!std::isfinite(weight)) return bad("bad nominal weight");
        }
      }
    }
  }
  if (!r.ok()) return bad("truncated nominal part");
  // The shape: every child once, after its parent, one level deeper; every table once.
  std::vector<TreeNode> binary_view = nodes_;
  std::vector<uint8_t> held(nodes_.size(), 0), table_used(multiway_.size(), 0);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const TreeNode& n = nodes_[i];
    if (n.leaf >= 0 || n.nominal != kNominalMultiway) continue;
    if (n.left >= multiway_.size() || table_used[n.left]++) return bad("bad multiway table");
    // Checked here, then hidden from the generic check as a split with two fresh leaves.
    for (const auto& [value, child] : multiway_[n.left]) {
      if (child <= i || child >= nodes_.size() || held[child]++ || nodes_[child].depth != n.depth + 1) {
        return bad("bad multiway children");
      }
    }
  }
  if (std::find(table_used.begin(), table_used.end(), 0) != table_used.end()) return bad("unused multiway table");
  // The generic check on the binary splits and leaves, with each multiway split's children
  // standing for themselves: they must be held by nobody else.
  std::vector<uint32_t> leaf_depths;
  for (const auto& leaf : leaves_) leaf_depths.push_back(leaf.depth);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const TreeNode& n = nodes_[i];
    if (n.leaf >= 0) {
      if (static_cast<uint32_t>(n.leaf) >= leaves_.size() || leaf_depths[n.leaf] != n.depth) return bad("bad leaf reference");
    } else if (n.nominal != kNominalMultiway) {
      if (n.left <= i || n.right <= i || n.left >= nodes_.size() || n.right >= nodes_.size() || n.left == n.right ||
          held[n.left]++ || held[n.right]++ || nodes_[n.left].depth != n.depth + 1 ||
          nodes_[n.right].depth != n.depth + 1) {
        return bad("bad children");
      }
    }
  }
  std::vector<uint8_t> leaf_held(leaves_.size(), 0);
  for (const auto& n : nodes_) {
    if (n.leaf >= 0 && leaf_held[n.leaf]++) return bad("bad leaf reference");
  }
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    if (!held[i]) return bad("an unreachable node");
  }
  if (!nodes_.empty() && held[0]) return bad("the root held");
  if (std::find(leaf_held.begin(), leaf_held.end(), 0) != leaf_held.end()) return bad("a leaf without a node");
  return Status::Ok();
}

void HoeffdingTreeLearner::save_state(ByteWriter& w) const {
  WriteSeenClasses(w, known_classes_, seen_class_);
  w.u32(max_dense_);
  WriteMemoryEstimates(w, {growth_allowed_, active_leaf_bytes_, inactive_leaf_bytes_, overhead_fraction_});
  w.u64(trained_);
  w.u64(guarded_);
  WriteTreeNodes(w, nodes_);
  w.u32(static_cast<uint32_t>(leaves_.size()));
  for (const auto& leaf : leaves_) WriteTreeLeaf(w, leaf);
  if (config_.max_features > 0) {  // the forest's trees only: the plain tree's bytes stay as they were
    w.f64(weight_seen_);
    for (const auto& leaf : leaves_) {
      w.u32(static_cast<uint32_t>(leaf.features.size()));
      for (uint32_t key : leaf.features) w.u32(key);
    }
  }
}

// Decoded and checked into locals; the learner changes only when all of it is sound.
Status HoeffdingTreeLearner::load(ByteReader& in) {
  // Version 1 (before nominals) holds no nominal_attributes: it loads under either.
  ByteReader v1 = in;
  const bool old = ReadSealed(v1, kHoeffdingTreeKindTag, kFormatVersionBeforeNominals, kWhat).ok();
  HoeffdingTreeConfig mine = config_;
  if (old) mine.nominal_attributes = HoeffdingTreeConfig{}.nominal_attributes;  // what version 1 reads as
  auto payload = old ? ReadSealedSettings(in, kHoeffdingTreeKindTag, kFormatVersionBeforeNominals, kWhat, mine,
                                          ReadHoeffdingTreeConfig)
                     : ReadSealedSettings(in, kHoeffdingTreeKindTag, kFormatVersion, kWhat, mine, ReadPlainTreeConfig);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  HoeffdingTreeConfig saved = config_;
  if (old) {
    ReadHoeffdingTreeConfig(r, &saved);  // checked above: the same as config_
  } else {
    ReadPlainTreeConfig(r, &saved);
  }
  HoeffdingTreeLearner loaded(config_);
  SL_RETURN_IF_ERROR(loaded.load_state(r, old));
  if (!old) SL_RETURN_IF_ERROR(loaded.load_nominal(r));
  if (!r.at_end()) return bad("trailing bytes");
  loaded.rng_ = rng_;
  *this = std::move(loaded);
  return Status::Ok();
}

// Into a fresh learner of the same settings (the caller commits it).
Status HoeffdingTreeLearner::load_state(ByteReader& r, bool check_shape) {
  const auto bad = [](const std::string& why) { return Status::Corruption(std::string(kWhat) + " snapshot: " + why); };
  uint32_t known = 0;
  std::vector<uint8_t> seen;
  if (!ReadSeenClasses(r, &known, &seen)) return bad("bad classes");
  const uint32_t max_dense = r.u32();
  TreeMemoryEstimates memory;
  if (!ReadMemoryEstimates(r, &memory)) return bad("bad memory estimates");
  const uint64_t trained = r.u64();
  const uint64_t guarded = r.u64();
  std::vector<TreeNode> nodes;
  if (!r.ok() || max_dense > kMaxAttribute || !ReadTreeNodes(r, &nodes)) return bad("bad nodes");
  const uint32_t n_leaves = r.u32();
  if (!r.ok() || n_leaves > r.remaining() / 16 + 1) return bad("bad leaf count");
  std::vector<TreeLeaf> leaves(n_leaves);
  for (auto& leaf : leaves) {
    if (!ReadTreeLeaf(r, known, &leaf)) return bad("bad leaf");
  }
  double weight_seen = static_cast<double>(trained);
  if (config_.max_features > 0) {
    weight_seen = r.f64();
    if (!r.ok() || !std::isfinite(weight_seen) || weight_seen < 0) return bad("bad weight seen");
    for (auto& leaf : leaves) {
      uint32_t n = 0;
      if (!ReadCount(r, 4, &n)) return bad("bad attribute count");
      leaf.features.resize(n);
      for (uint32_t& key : leaf.features) {
        key = r.u32();
        if ((key & ~kBucketKeyBit) >= kMaxAttribute) return bad("bad attribute key");
      }
      if (!r.ok()) return bad("bad attribute keys");
    }
  }
  std::vector<uint32_t> leaf_depths;
  for (const auto& leaf : leaves) leaf_depths.push_back(leaf.depth);
  if (check_shape) {
    if (const std::string problem = TreeShapeProblem(nodes, leaf_depths); !problem.empty()) return bad(problem);
  }
  known_classes_ = known;
  seen_class_ = std::move(seen);
  max_dense_ = max_dense;
  growth_allowed_ = memory.growth_allowed;
  active_leaf_bytes_ = memory.active_leaf_bytes;
  inactive_leaf_bytes_ = memory.inactive_leaf_bytes;
  overhead_fraction_ = memory.overhead_fraction;
  trained_ = trained;
  guarded_ = guarded;
  weight_seen_ = weight_seen;
  nodes_ = std::move(nodes);
  leaves_ = std::move(leaves);
  return Status::Ok();
}

void HoeffdingTreeLearner::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t /*top_sparse*/) const {
  out.key("learner")
      .begin_object()
      .field("type", type())
      .field("grace_period", std::to_string(config_.grace_period))
      .field("delta", JsonNumberText(config_.delta))
      .field("tau", JsonNumberText(config_.tau))
      .field("split_criterion", CriterionName(config_.split_criterion))
      .field("leaf_prediction", LeafPredictionName(config_.leaf_prediction))
      .field("nb_threshold", JsonNumberText(config_.nb_threshold))
      .field("max_depth", config_.max_depth < 0 ? std::string("none") : std::to_string(config_.max_depth))
      .field("n_splits", std::to_string(config_.n_splits))
      .field("min_branch_fraction", JsonNumberText(config_.min_branch_fraction))
      .field("max_share_to_split", JsonNumberText(config_.max_share_to_split))
      .field("max_size", JsonNumberText(config_.max_size))
      .field("memory_estimate_period", std::to_string(config_.memory_estimate_period))
      .field("stop_mem_management", config_.stop_mem_management ? "true" : "false")
      .field("nominal_attributes", config_.nominal_attributes == NominalAttributes::kHashed ? "hashed" : "multiway")
      .end_object();
  size_t active = 0;
  for (const auto& leaf : leaves_) active += leaf.active ? 1 : 0;
  out.key("tree").begin_object();
  out.field("depth", uint64_t{depth()})
      .field("leaves", uint64_t{leaves_.size()})
      .field("active_leaves", uint64_t{active})
      .field("splits", uint64_t{splits()})
      .field("classes", uint64_t{known_classes_})
      .field("growth_allowed", growth_allowed_)
      .field("memory_bytes", uint64_t{memory_bytes()});
  out.key("attributes").begin_array();
  for (uint32_t i = 0; i < max_dense_; ++i) out.string(name(i));
  out.end_array();
  DescribeSplitNodes(out, nodes_, name, [&](const TreeNode& n) {
    if (n.nominal != kNominalMultiway) return;
    out.key("branches").begin_array();
    for (const auto& [value, child] : multiway_[n.left]) {
      out.begin_object().field("value", uint64_t{value}).field("child", uint64_t{child}).end_object();
    }
    out.end_array();
  });
  out.end_object();
}

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingTree(std::string_view type, const learn::LearnerKeys& keys,
                                                          std::string_view key_prefix) {
  auto config = ParseHoeffdingTreeConfig(type, keys, key_prefix);
  if (!config.ok()) return config.status();
  return std::unique_ptr<learn::Learner>(std::make_unique<HoeffdingTreeLearner>(*config));
}

Status CheckHoeffdingTreeSetting(std::string_view key, std::string_view value) {
  HoeffdingTreeConfig config;
  Status st = ApplyHoeffdingTreeKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingTree(ByteReader& in) {
  ByteReader v1 = in;
  if (ReadSealed(v1, kHoeffdingTreeKindTag, kFormatVersionBeforeNominals, kWhat).ok()) {
    return RestoreSealed<HoeffdingTreeLearner>(in, kHoeffdingTreeKindTag, kFormatVersionBeforeNominals, kWhat,
                                               ReadHoeffdingTreeConfig);
  }
  return RestoreSealed<HoeffdingTreeLearner>(in, kHoeffdingTreeKindTag, kFormatVersion, kWhat, ReadPlainTreeConfig);
}

}  // namespace streamlearn::trees

namespace streamlearn::trees {

void WriteClassWeights(ByteWriter& w, const ClassWeights& d) { WriteWeights(w, d); }
bool ReadClassWeights(ByteReader& r, uint32_t classes, ClassWeights* d) { return ReadWeights(r, classes, d); }

}  // namespace streamlearn::trees

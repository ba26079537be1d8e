#pragma once
// What the Hoeffding trees (classifier, regressor, adaptive) share around their leaves:
// the node table's snapshot and shape check, the class bookkeeping and the last step of a
// class prediction, the memory estimates' snapshot, the keys every Hoeffding tree takes,
// and restoring a sealed snapshot.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "family_support.hpp"
#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/learn/learner.hpp"
#include "tree_memory.hpp"

namespace streamlearn {
class NumpyLegacyRandom;
}  // namespace streamlearn

namespace streamlearn::drift {
class Adwin;
class PythonRandom;
}  // namespace streamlearn::drift

namespace streamlearn::trees {

// A split on a nominal attribute (TreeNode::nominal): binary (attribute = the field,
// threshold = the value id, left = equal, right = the rest) or multiway (left = the index of
// its (value, child node) list in the classifier's table). Only the Hoeffding tree
// classifier makes them; the generic helpers below know binary splits only.
inline constexpr uint8_t kNominalNone = 0;
inline constexpr uint8_t kNominalBinary = 1;
inline constexpr uint8_t kNominalMultiway = 2;

struct TreeNode {
  int32_t leaf = -1;        // index into leaves when a leaf, -1 for a split
  bool on_bucket = false;   // split on a hashed bucket's presence (else a dense attribute)
  uint8_t nominal = kNominalNone;
  uint32_t attribute = 0;   // dense index or bucket
  double threshold = 0;     // dense: x <= threshold goes left
  uint32_t left = 0;
  uint32_t right = 0;
  uint32_t depth = 0;
};

// Whether dense feature i is present; whether hashed bucket `bucket` is (non-zero).
inline bool DensePresent(const FeatureVector& x, size_t i) {
  return i < x.dense.size() && i < x.present.size() && x.present[i];
}
bool BucketPresent(const FeatureVector& x, uint32_t bucket);
// Inputs a tree can learn from: present dense values finite, the sparse block's two arrays
// and the nominal pairs of one length each (ValidClassLabel, in family_support.hpp, checks a
// classifier's label).
bool FiniteInputs(const FeatureVector& x);

// The weight under `node`: its leaves' (leaf_weight(leaf index)).
template <typename LeafWeight>
double SubtreeWeight(const std::vector<TreeNode>& nodes, uint32_t node, const LeafWeight& leaf_weight) {
  const TreeNode& n = nodes[node];
  if (n.leaf >= 0) return leaf_weight(static_cast<uint32_t>(n.leaf));
  return SubtreeWeight(nodes, n.left, leaf_weight) + SubtreeWeight(nodes, n.right, leaf_weight);
}

// The leaf node x reaches from the root; *by_missing when a split's feature was missing on
// the way (River then takes the most traversed path, the left one on ties).
template <typename LeafWeight>
uint32_t RouteToLeaf(const std::vector<TreeNode>& nodes, const FeatureVector& x, const LeafWeight& leaf_weight,
                     bool* by_missing) {
  uint32_t at = 0;
  while (nodes[at].leaf < 0) {
    const TreeNode& n = nodes[at];
    if (n.on_bucket) {
      at = BucketPresent(x, n.attribute) ? n.right : n.left;
    } else if (DensePresent(x, n.attribute)) {
      at = x.dense[n.attribute] <= n.threshold ? n.left : n.right;
    } else {
      *by_missing = true;
      at = SubtreeWeight(nodes, n.left, leaf_weight) < SubtreeWeight(nodes, n.right, leaf_weight) ? n.right : n.left;
    }
  }
  return at;
}

// Turns leaf node `node` into a split with two new leaf nodes at the next depth: the split
// leaf's slot becomes its left child's, the right child's is appended.
template <typename Leaf>
void SplitLeafNode(std::vector<TreeNode>& nodes, std::vector<Leaf>& leaves, uint32_t node, bool on_bucket,
                   uint32_t attribute, double threshold, std::array<Leaf, 2>&& children) {
  const uint32_t leaf_index = static_cast<uint32_t>(nodes[node].leaf);
  const uint32_t child_depth = nodes[node].depth + 1;
  const uint32_t left = static_cast<uint32_t>(nodes.size());
  TreeNode& split = nodes[node];
  split.leaf = -1;
  split.on_bucket = on_bucket;
  split.attribute = attribute;
  split.threshold = threshold;
  split.left = left;
  split.right = left + 1;
  leaves[leaf_index] = std::move(children[0]);
  const uint32_t right_leaf = static_cast<uint32_t>(leaves.size());
  leaves.push_back(std::move(children[1]));
  TreeNode l, r;
  l.leaf = static_cast<int32_t>(leaf_index);
  r.leaf = static_cast<int32_t>(right_leaf);
  l.depth = r.depth = child_depth;
  nodes.push_back(l);
  nodes.push_back(r);
}

void WriteTreeNodes(ByteWriter& w, const std::vector<TreeNode>& nodes);
bool ReadTreeNodes(ByteReader& r, std::vector<TreeNode>* nodes);
// Empty when node 0 is the root, children come after their parent and are nobody else's,
// and every leaf (of leaf_depths.size()) is held by exactly one node of its depth; else why not.
std::string TreeShapeProblem(const std::vector<TreeNode>& nodes, const std::vector<uint32_t>& leaf_depths);
// "split_nodes": the split nodes, root first: feature and threshold (bucket splits:
// present or not), children, and what `extra(node)` adds.
template <typename Node, typename Extra>
void DescribeSplitNodes(JsonWriter& out, const std::vector<Node>& nodes, const learn::DenseFeatureName& name,
                        const Extra& extra) {
  out.key("split_nodes").begin_array();
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.leaf >= 0) continue;
    out.begin_object().field("node", uint64_t{i}).field("depth", uint64_t{n.depth});
    uint8_t nominal = kNominalNone;
    if constexpr (requires { n.nominal; }) nominal = n.nominal;
    if (nominal != kNominalNone) {
      // Nominal fields and values by id (the feature builder's nominal dictionary); a
      // multiway split's branches come from `extra`.
      out.field("nominal", nominal == kNominalBinary ? "binary" : "multiway").field("nominal_field", uint64_t{n.attribute});
      if (nominal == kNominalBinary) out.field("value", static_cast<uint64_t>(n.threshold));
    } else if (n.on_bucket) {
      out.field("bucket", uint64_t{n.attribute});
    } else {
      out.field("feature", name(n.attribute)).field("threshold", n.threshold);
    }
    if (nominal != kNominalMultiway) {
      out.field("left", static_cast<uint64_t>(n.left)).field("right", static_cast<uint64_t>(n.right));
    }
    extra(n);
    out.end_object();
  }
  out.end_array();
}
inline void DescribeSplitNodes(JsonWriter& out, const std::vector<TreeNode>& nodes, const learn::DenseFeatureName& name) {
  DescribeSplitNodes(out, nodes, name, [](const TreeNode&) {});
}
// River's utils.random.poisson(rate, rng): the adaptive tree's bootstrap (rate 1) and the
// forests' event weights draw from it.
int Poisson(double rate, drift::PythonRandom& rng);
// numpy's legacy RandomState.poisson(rate) for rate < 10 (the same multiplication of
// uniforms): the adaptive tree regressor's per-node bootstrap.
int NumpyPoisson(double rate, NumpyLegacyRandom& rng);
// What an ADWIN's histogram holds, estimated from its width: a row per doubling, each with
// two vectors of up to max_buckets + 1 values.
size_t AdwinBytes(const drift::Adwin& detector);

// A number as describe() writes settings (JSON's shortest form, as text).
std::string JsonNumberText(double v);

void WriteMemoryEstimates(ByteWriter& w, const TreeMemoryEstimates& m);
bool ReadMemoryEstimates(ByteReader& r, TreeMemoryEstimates* m);

// The classes a classifier has seen (River's tree.classes) and how many it knows.
void WriteSeenClasses(ByteWriter& w, uint32_t known, const std::vector<uint8_t>& seen);
bool ReadSeenClasses(ByteReader& r, uint32_t* known, std::vector<uint8_t>* seen);
// River's max over {c: 0 for c in sorted(classes)} updated by the leaf's proba[0, n): the
// most probable seen class, the lowest on ties; -1 before any.
int32_t BestKnownClass(const std::vector<uint8_t>& seen, const double* proba, size_t n);
// From out.probabilities (n of them) and the predicted class `best` (-1: none yet): the
// class and its score; binary keeps P(1) as the score and no probabilities.
void SetClassPrediction(bool multiclass, int32_t best, learn::Prediction& out);
// SetClassPrediction with BestKnownClass of out.probabilities.
void FinishClassPrediction(bool multiclass, const std::vector<uint8_t>& seen, learn::Prediction& out);

// The growth keys every Hoeffding tree takes (River's names): grace_period, delta, tau,
// max_depth, max_size, memory_estimate_period, stop_mem_management. NotFound for others.
struct GrowthKeys {
  int64_t* grace_period;
  double* delta;
  double* tau;
  int64_t* max_depth;
  double* max_size;
  int64_t* memory_estimate_period;
  bool* stop_mem_management;
};
Status ApplyGrowthKey(std::string_view key, std::string_view text, const GrowthKeys& keys);

// A learner's sealed snapshot whose settings (read by read_config) must be `mine`: its
// payload (settings included), or Corruption / FailedPrecondition naming `what`.
template <typename Config>
Result<std::string> ReadSealedSettings(ByteReader& in, uint32_t kind_tag, uint32_t version, std::string_view what,
                                       const Config& mine, bool (*read_config)(ByteReader&, Config*)) {
  auto payload = ReadSealed(in, kind_tag, version, what);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  Config saved;
  if (!read_config(r, &saved)) return Status::Corruption(std::string(what) + " snapshot: bad settings");
  if (!(saved == mine)) {
    return Status::FailedPrecondition(std::string(what) +
                                      " snapshot: written with other settings (or task) than this learner's");
  }
  return payload;
}

// RestoreLearner's entry for a family: the settings from the sealed snapshot, a learner
// made with them, and its load().
template <typename LearnerType, typename Config>
Result<std::unique_ptr<learn::Learner>> RestoreSealed(ByteReader& in, uint32_t kind_tag, uint32_t version,
                                                      std::string_view what, bool (*read_config)(ByteReader&, Config*)) {
  ByteReader peek = in;
  auto payload = ReadSealed(peek, kind_tag, version, what);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  Config config;
  if (!read_config(r, &config)) return Status::Corruption(std::string(what) + " snapshot: bad settings");
  auto learner = std::make_unique<LearnerType>(config);
  SL_RETURN_IF_ERROR(learner->load(in));
  return std::unique_ptr<learn::Learner>(std::move(learner));
}

}  // namespace streamlearn::trees

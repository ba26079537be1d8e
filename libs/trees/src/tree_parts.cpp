#include "tree_parts.hpp"

#include <algorithm>
#include <cmath>

#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/drift/python_random.hpp"

namespace streamlearn::trees {
namespace {

constexpr uint32_t kMaxAttribute = 1u << 26;  // dense ids and hashed buckets stay far below

}  // namespace

void WriteTreeNodes(ByteWriter& w, const std::vector<TreeNode>& nodes) {
  w.u32(static_cast<uint32_t>(nodes.size()));
  for (const auto& n : nodes) {
    w.u32(static_cast<uint32_t>(n.leaf));
    w.u8(n.on_bucket ? 1 : 0);
    w.u32(n.attribute);
    w.f64(n.threshold);
    w.u32(n.left);
    w.u32(n.right);
    w.u32(n.depth);
  }
}

bool ReadTreeNodes(ByteReader& r, std::vector<TreeNode>* nodes) {
  uint32_t count = 0;
  if (!ReadCount(r, 29, &count)) return false;
  nodes->assign(count, TreeNode{});
  for (auto& n : *nodes) {
    n.leaf = static_cast<int32_t>(r.u32());
    const uint8_t on_bucket = r.u8();
    n.attribute = r.u32();
    n.threshold = r.f64();
    n.left = r.u32();
    n.right = r.u32();
    n.depth = r.u32();
    if (!r.ok() || on_bucket > 1 || n.attribute >= kMaxAttribute || !std::isfinite(n.threshold)) return false;
    n.on_bucket = on_bucket == 1;
  }
  return true;
}

std::string TreeShapeProblem(const std::vector<TreeNode>& nodes, const std::vector<uint32_t>& leaf_depths) {
  const size_t n_nodes = nodes.size(), n_leaves = leaf_depths.size();
  std::vector<uint8_t> held(n_nodes, 0), leaf_held(n_leaves, 0);
  if (n_nodes == 0 && n_leaves != 0) return "leaves without nodes";
  for (uint32_t i = 0; i < n_nodes; ++i) {
    const TreeNode& n = nodes[i];
    if (n.leaf >= 0) {
      if (static_cast<uint32_t>(n.leaf) >= n_leaves || leaf_held[n.leaf]++) return "bad leaf reference";
      if (leaf_depths[n.leaf] != n.depth) return "a leaf's depth";
    } else if (n.left <= i || n.right <= i || n.left >= n_nodes || n.right >= n_nodes || n.left == n.right ||
               held[n.left]++ || held[n.right]++ || nodes[n.left].depth != n.depth + 1 ||
               nodes[n.right].depth != n.depth + 1) {
      return "bad children";
    }
  }
  if (n_nodes > 0 && (nodes[0].depth != 0 || held[0])) return "bad root";
  for (uint32_t i = 1; i < n_nodes; ++i) {
    if (!held[i]) return "a node outside the tree";
  }
  for (uint32_t i = 0; i < n_leaves; ++i) {
    if (!leaf_held[i]) return "a leaf outside the tree";
  }
  return {};
}

bool BucketPresent(const FeatureVector& x, uint32_t bucket) {
  for (size_t k = 0; k < x.sparse_index.size(); ++k) {
    if (x.sparse_index[k] == bucket && x.sparse_value[k] != 0) return true;
  }
  return false;
}

bool FiniteInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !std::isfinite(x.dense[i])) return false;
  }
  return x.sparse_index.size() == x.sparse_value.size() && x.nominal_field.size() == x.nominal_value.size();
}

int Poisson(double rate, drift::PythonRandom& rng) {
  const double limit = std::exp(-rate);
  int k = 0;
  double p = 1;
  while (p > limit) {
    ++k;
    p *= rng.random();
  }
  return k - 1;
}

int NumpyPoisson(double rate, NumpyLegacyRandom& rng) {
  const double limit = std::exp(-rate);
  int k = 0;
  double product = 1;
  while (true) {
    product *= rng.next_double();
    if (!(product > limit)) return k;
    ++k;
  }
}

size_t AdwinBytes(const drift::Adwin& detector) {
  const double rows = 1 + std::floor(std::log2(1 + detector.width()));
  return static_cast<size_t>(rows) * (2 * 6 * sizeof(double) + 6 * sizeof(void*));
}

std::string JsonNumberText(double v) {
  std::string s;
  AppendJsonDouble(s, v);
  return s;
}

void WriteMemoryEstimates(ByteWriter& w, const TreeMemoryEstimates& m) {
  w.u8(m.growth_allowed ? 1 : 0);
  w.f64(m.active_leaf_bytes);
  w.f64(m.inactive_leaf_bytes);
  w.f64(m.overhead_fraction);
}

bool ReadMemoryEstimates(ByteReader& r, TreeMemoryEstimates* m) {
  const uint8_t growth = r.u8();
  m->active_leaf_bytes = r.f64();
  m->inactive_leaf_bytes = r.f64();
  m->overhead_fraction = r.f64();
  m->growth_allowed = growth == 1;
  return r.ok() && growth <= 1 && std::isfinite(m->active_leaf_bytes) && m->active_leaf_bytes >= 0 &&
         std::isfinite(m->inactive_leaf_bytes) && m->inactive_leaf_bytes >= 0 && std::isfinite(m->overhead_fraction) &&
         m->overhead_fraction > 0;
}

void WriteSeenClasses(ByteWriter& w, uint32_t known, const std::vector<uint8_t>& seen) {
  w.u32(known);
  w.u32(static_cast<uint32_t>(seen.size()));
  for (uint8_t s : seen) w.u8(s);
}

bool ReadSeenClasses(ByteReader& r, uint32_t* known, std::vector<uint8_t>* seen) {
  *known = r.u32();
  const uint32_t n_seen = r.u32();
  if (!r.ok() || *known > learn::kMaxLearnerClasses || n_seen > *known) return false;
  seen->assign(n_seen, 0);
  for (auto& s : *seen) {
    s = r.u8();
    if (s > 1) return false;
  }
  return r.ok();
}

int32_t BestKnownClass(const std::vector<uint8_t>& seen, const double* proba, size_t n) {
  int32_t best = -1;
  for (size_t c = 0; c < n; ++c) {
    if (c < seen.size() && seen[c] && (best < 0 || proba[c] > proba[best])) best = static_cast<int32_t>(c);
  }
  return best;
}

void FinishClassPrediction(bool multiclass, const std::vector<uint8_t>& seen, learn::Prediction& out) {
  SetClassPrediction(multiclass, BestKnownClass(seen, out.probabilities.data(), out.probabilities.size()), out);
}

void SetClassPrediction(bool multiclass, int32_t best, learn::Prediction& out) {
  // Only a corrupt state (a damaged snapshot) gives a probability that is not a number: it is
  // served as "no idea" rather than passed on, as the regressors serve 0.
  for (double& p : out.probabilities) {
    if (!std::isfinite(p)) p = multiclass ? 0.0 : 0.5;
  }
  if (multiclass) {
    out.class_index = best;
    out.score = best >= 0 ? out.probabilities[best] : 0.0;
  } else {
    out.score = out.probabilities[1];
    out.class_index = best < 0 ? 0 : best;
    out.probabilities.clear();
  }
}

Status ApplyGrowthKey(std::string_view key, std::string_view text, const GrowthKeys& keys) {
  if (key == "grace_period") return ParseWhole(text, 1, int64_t{1} << 40, keys.grace_period);
  if (key == "delta") return ParseReal(text, 0, 1, true, true, keys.delta);
  if (key == "tau") return ParseReal(text, 0, 1e300, false, false, keys.tau);
  if (key == "max_size") return ParseReal(text, 0, 1e9, true, false, keys.max_size);
  if (key == "memory_estimate_period") return ParseWhole(text, 1, int64_t{1} << 50, keys.memory_estimate_period);
  if (key == "stop_mem_management") {
    auto flag = ::streamlearn::ParseBool(text);
    if (!flag.ok()) return flag.status();
    *keys.stop_mem_management = *flag;
    return Status::Ok();
  }
  if (key == "max_depth") {
    if (text == "none" || text == "None") {
      *keys.max_depth = -1;
      return Status::Ok();
    }
    Status st = ParseWhole(text, 0, 100000, keys.max_depth);
    return st.ok() ? st : Status::Invalid("expected none or " + st.message());
  }
  return Status::NotFound("unknown key");
}

}  // namespace streamlearn::trees

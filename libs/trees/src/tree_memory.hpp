#pragma once
// River's memory management for Hoeffding trees (HoeffdingTree._estimate_model_size and
// _enforce_size_limit), shared by the classifier and the regressor: every
// memory_estimate_period events the sizes of active and inactive leaves are estimated (our
// byte counts where River measures its Python objects); past max_size the least promising
// leaves are deactivated and the most promising inactive ones reactivated while the
// estimate allows. A leaf type provides active, depth, bytes(); the tree says how a leaf
// is promising, deactivated and reactivated.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamlearn::trees {

struct TreeMemoryLimits {
  double max_size = 100;  // MiB
  int64_t max_depth = -1;  // -1: none
  bool stop_mem_management = false;
};

struct TreeMemoryEstimates {
  bool growth_allowed = true;
  double active_leaf_bytes = 0;
  double inactive_leaf_bytes = 0;
  double overhead_fraction = 1.0;
};

// _enforce_size_limit over `order`: the tree's leaves (indices into `leaves`) in River's
// iter_leaves order.
template <typename Leaf, typename Promise, typename Deactivate, typename Activate>
void EnforceTreeSizeLimit(std::vector<Leaf>& leaves, std::vector<uint32_t> order, const TreeMemoryLimits& limits,
                          TreeMemoryEstimates& est, Promise promise, Deactivate deactivate, Activate activate) {
  const double max_bytes = limits.max_size * 1048576.0;
  size_t inactive = 0;
  for (const uint32_t i : order) inactive += leaves[i].active ? 0 : 1;
  // River's formula, as it is (one active leaf's estimate).
  const double tree_size =
      est.overhead_fraction * (est.active_leaf_bytes + static_cast<double>(inactive) * est.inactive_leaf_bytes);
  if ((inactive > 0 || tree_size > max_bytes) && limits.stop_mem_management) {
    est.growth_allowed = false;
    return;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return promise(leaves[a]) < promise(leaves[b]); });
  const size_t n = order.size();
  size_t max_active = 0;
  while (max_active < n) {
    ++max_active;
    const double size = (static_cast<double>(max_active) * est.active_leaf_bytes +
                         static_cast<double>(n - max_active) * est.inactive_leaf_bytes) *
                        est.overhead_fraction;
    if (size > max_bytes) {
      --max_active;
      break;
    }
  }
  const size_t cutoff = n - max_active;
  for (size_t i = 0; i < cutoff; ++i) {
    if (leaves[order[i]].active) deactivate(leaves[order[i]]);
  }
  for (size_t i = cutoff; i < n; ++i) {
    Leaf& leaf = leaves[order[i]];
    if (!leaf.active && (limits.max_depth < 0 || leaf.depth < static_cast<uint64_t>(limits.max_depth))) {
      activate(leaf);  // fresh observers: River's activate()
    }
  }
}

// _estimate_model_size: `other_bytes` is what the tree holds besides its leaves. True when
// the model is past max_size (the caller then enforces the limit).
template <typename Leaf>
bool EstimateTreeSize(const std::vector<Leaf>& leaves, double other_bytes, const TreeMemoryLimits& limits,
                      TreeMemoryEstimates& est) {
  double active_total = 0, inactive_total = 0, model_total = other_bytes;
  size_t active = 0, inactive = 0;
  for (const auto& leaf : leaves) {
    const double b = static_cast<double>(leaf.bytes());
    model_total += b;
    if (leaf.active) {
      active_total += b;
      ++active;
    } else {
      inactive_total += b;
      ++inactive;
    }
  }
  if (active_total > 0) est.active_leaf_bytes = active_total / static_cast<double>(active);
  if (inactive_total > 0) est.inactive_leaf_bytes = inactive_total / static_cast<double>(inactive);
  const double estimated = static_cast<double>(active) * est.active_leaf_bytes +
                           static_cast<double>(inactive) * est.inactive_leaf_bytes;
  if (estimated > 0) est.overhead_fraction = model_total / estimated;
  return model_total > limits.max_size * 1048576.0;
}

}  // namespace streamlearn::trees

namespace streamlearn::trees {

// Leaf indices in River's iter_leaves order (depth first, left before right), for trees
// whose nodes hold `leaf` (>= 0 at a leaf) and `left`/`right` children.
template <typename Node>
std::vector<uint32_t> LeavesInOrder(const std::vector<Node>& nodes) {
  std::vector<uint32_t> out, stack;
  if (nodes.empty()) return out;
  stack.push_back(0);
  while (!stack.empty()) {
    const Node& n = nodes[stack.back()];
    stack.pop_back();
    if (n.leaf >= 0) {
      out.push_back(static_cast<uint32_t>(n.leaf));
    } else {
      stack.push_back(n.right);
      stack.push_back(n.left);
    }
  }
  return out;
}

}  // namespace streamlearn::trees

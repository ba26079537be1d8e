#pragma once
// What the Hoeffding adaptive trees (classifier and regressor) share: the shape of their
// node tables and River's rules on it. A Node has leaf (index into the leaves, -1 for a
// branch), on_bucket, attribute, threshold, left, right, alternate (a branch's alternate
// subtree, -1 none) and depth; a Leaf has depth. Both trees keep their own statistics
// and leaf rules; these templates hold what is about links only:
//   - which leaves an event reaches (River's traverse: each alternate met on the way,
//     then the main path's leaf), and River's iter_leaves order;
//   - whether an alternate replaces its branch, is dropped, or waits (River's bound);
//   - dropping a subtree's alternates (kill_tree_children);
//   - compacting the table once nodes left the tree, and checking a snapshot's shape.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "family_support.hpp"
#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/core/json_writer.hpp"

namespace streamlearn::trees {

// River's stats.Mean of a node's errors (the classifier's 0/1, the regressor's normalised).
struct ErrorMean {
  double n = 0;
  double mean = 0;
  void update(double x) {
    n += 1;
    mean += (1 / n) * (x - mean);
  }
};

// The leaf node under `at` that x reaches; branch_of(node, x) is 0 (left) or 1 (right).
template <typename Node, typename BranchOf>
int32_t DescendToLeaf(const std::vector<Node>& nodes, int32_t at, const BranchOf& branch_of) {
  while (nodes[at].leaf < 0) at = branch_of(nodes[at]) ? nodes[at].right : nodes[at].left;
  return at;
}

// Calls reached(leaf node) for the alternates met on the way from the root (each followed
// to its leaf), then for the main path's leaf.
template <typename Node, typename BranchOf, typename Reached>
void ForEachReachedLeaf(const std::vector<Node>& nodes, int32_t root, const BranchOf& branch_of, const Reached& reached) {
  if (root < 0) return;
  int32_t at = root;
  while (nodes[at].leaf < 0) {
    const Node& node = nodes[at];
    if (node.alternate >= 0) reached(DescendToLeaf(nodes, node.alternate, branch_of));
    at = branch_of(node) ? node.right : node.left;
  }
  reached(at);
}

enum class AlternateVerdict { kWait, kSwitch, kPrune };

// River's test once both the branch and its alternate watched more than the window:
// the alternate wins when its error rate is lower by more than
// sqrt(2 e (1 - e) ln(2 / significance) (1/n_alt + 1/n)) (e the branch's rate; a bound
// whose root is not real counts as 0, as River's ValueError branch), loses when higher by as much.
inline AlternateVerdict JudgeAlternate(double rate, double n, double alt_rate, double alt_n, double window,
                                       double significance) {
  if (!(alt_n > window && n > window)) return AlternateVerdict::kWait;
  const double inverse_n = 1.0 / alt_n + 1.0 / n;
  const double square = 2.0 * rate * (1.0 - rate) * std::log(2.0 / significance) * inverse_n;
  const double bound = square >= 0 ? std::sqrt(square) : 0.0;
  if (bound < rate - alt_rate) return AlternateVerdict::kSwitch;
  if (bound < alt_rate - rate) return AlternateVerdict::kPrune;
  return AlternateVerdict::kWait;
}

template <typename Node>
void KillTreeChildren(std::vector<Node>& nodes, int32_t node, uint64_t* pruned);

// Carries out JudgeAlternate's verdict on `node`'s alternate. A switch hangs the alternate
// where `node` hangs (set_child(parent, branch, alternate)); `node` keeps it only at the
// root, as River does (there it still learns this event). A prune drops it with its subtree.
// *detached: nodes left the tree (the caller compacts after the event).
template <typename Node, typename SetChild>
void ApplyAlternateVerdict(std::vector<Node>& nodes, int32_t node, int32_t parent, int parent_branch,
                           AlternateVerdict verdict, uint64_t* switched, uint64_t* pruned, bool* detached,
                           const SetChild& set_child) {
  if (verdict == AlternateVerdict::kSwitch) {
    KillTreeChildren(nodes, node, pruned);
    set_child(parent, parent_branch, nodes[node].alternate);
    if (parent >= 0) nodes[node].alternate = -1;
    ++*switched;
  } else if (verdict == AlternateVerdict::kPrune) {
    const int32_t alt = nodes[node].alternate;
    if (nodes[alt].leaf < 0) KillTreeChildren(nodes, alt, pruned);
    nodes[node].alternate = -1;
    ++*pruned;
    *detached = true;
  }
}

// River's kill_tree_children: the alternates of every branch below `node` are dropped
// (each counted in *pruned); the nodes themselves leave with their subtree.
template <typename Node>
void KillTreeChildren(std::vector<Node>& nodes, int32_t node, uint64_t* pruned) {
  for (const int32_t child : {nodes[node].left, nodes[node].right}) {
    if (nodes[child].leaf >= 0) continue;
    const int32_t alt = nodes[child].alternate;
    if (alt >= 0) {
      if (nodes[alt].leaf < 0) KillTreeChildren(nodes, alt, pruned);
      ++*pruned;
      nodes[child].alternate = -1;
    }
    KillTreeChildren(nodes, child, pruned);
  }
}

// River's iter_leaves: children left to right, each child's alternate after the child
// (the root's own alternate is not among them). Leaf indices.
template <typename Node>
std::vector<uint32_t> AdaptiveLeavesInOrder(const std::vector<Node>& nodes, int32_t root) {
  std::vector<uint32_t> out;
  if (root < 0) return out;
  std::vector<int32_t> stack{root};
  while (!stack.empty()) {
    const Node& n = nodes[stack.back()];
    stack.pop_back();
    if (n.leaf >= 0) {
      out.push_back(static_cast<uint32_t>(n.leaf));
      continue;
    }
    for (const int32_t child : {n.right, n.left}) {
      if (nodes[child].leaf < 0 && nodes[child].alternate >= 0) stack.push_back(nodes[child].alternate);
      stack.push_back(child);
    }
  }
  return out;
}

// Keeps what hangs from the root (alternates included), in pre-order, links re-pointed;
// the root becomes node 0.
template <typename Node, typename Leaf>
void CompactAdaptiveTree(int32_t& root, std::vector<Node>& nodes_io, std::vector<Leaf>& leaves_io) {
  std::vector<Node> nodes;
  std::vector<Leaf> leaves;
  if (root >= 0) {
    std::vector<int32_t> renumbered(nodes_io.size(), -1);
    std::vector<int32_t> order, stack{root};
    while (!stack.empty()) {
      const int32_t at = stack.back();
      stack.pop_back();
      renumbered[at] = static_cast<int32_t>(order.size());
      order.push_back(at);
      const Node& n = nodes_io[at];
      if (n.leaf >= 0) continue;
      if (n.alternate >= 0) stack.push_back(n.alternate);
      stack.push_back(n.right);
      stack.push_back(n.left);
    }
    nodes.reserve(order.size());
    for (const int32_t at : order) {
      Node n = std::move(nodes_io[at]);
      if (n.leaf >= 0) {
        leaves.push_back(std::move(leaves_io[n.leaf]));
        n.leaf = static_cast<int32_t>(leaves.size() - 1);
      } else {
        n.left = renumbered[n.left];
        n.right = renumbered[n.right];
        if (n.alternate >= 0) n.alternate = renumbered[n.alternate];
      }
      nodes.push_back(std::move(n));
    }
    root = 0;
  }
  nodes_io = std::move(nodes);
  leaves_io = std::move(leaves);
}

// Empty when every node hangs from the root exactly once (as a child or an alternate),
// every leaf is held by exactly one node of its depth, and depths follow the links
// (children one deeper, an alternate at its branch's depth); else why not.
template <typename Node, typename Leaf>
std::string AdaptiveTreeShapeProblem(const std::vector<Node>& nodes, const std::vector<Leaf>& leaves, int32_t root) {
  const size_t n_nodes = nodes.size(), n_leaves = leaves.size();
  if ((n_nodes == 0) != (root == -1)) return "bad root";
  std::vector<uint8_t> visited(n_nodes, 0), leaf_held(n_leaves, 0);
  size_t reached = 0;
  if (n_nodes > 0) {
    const auto in_range = [&](int32_t i) { return i >= 0 && static_cast<size_t>(i) < n_nodes; };
    if (!in_range(root) || nodes[root].depth != 0) return "bad root";
    std::vector<int32_t> stack{root};
    while (!stack.empty()) {
      const int32_t at = stack.back();
      stack.pop_back();
      if (visited[at]++) return "a node held twice";
      ++reached;
      const Node& n = nodes[at];
      if (n.leaf >= 0) {
        if (static_cast<size_t>(n.leaf) >= n_leaves || leaf_held[n.leaf]++) return "bad leaf reference";
        if (leaves[n.leaf].depth != n.depth) return "a leaf's depth";
        continue;
      }
      if (!in_range(n.left) || !in_range(n.right) || nodes[n.left].depth != n.depth + 1 ||
          nodes[n.right].depth != n.depth + 1) {
        return "bad children";
      }
      stack.push_back(n.left);
      stack.push_back(n.right);
      if (n.alternate != -1) {
        if (!in_range(n.alternate) || nodes[n.alternate].depth != n.depth) return "bad alternate";
        stack.push_back(n.alternate);
      }
    }
  }
  if (reached != n_nodes) return "a node outside the tree";
  for (size_t i = 0; i < n_leaves; ++i) {
    if (!leaf_held[i]) return "a leaf outside the tree";
  }
  return {};
}

// The adaptive trees' own keys (River's bootstrap_sampling, drift_window_threshold,
// switch_significance, seed up to max_seed) into a Config that has them; NotFound for any
// other key. And the same settings in snapshots.
template <typename Config>
Status ApplyAdaptiveTreeKey(std::string_view key, std::string_view text, int64_t max_seed, Config* config) {
  if (key == "drift_window_threshold") return ParseWhole(text, 0, int64_t{1} << 40, &config->drift_window_threshold);
  if (key == "switch_significance") return ParseReal(text, 0, 1, true, true, &config->switch_significance);
  if (key == "seed") return ParseWhole(text, 0, max_seed, &config->seed);
  if (key == "bootstrap_sampling") {
    auto flag = ::streamlearn::ParseBool(text);
    if (!flag.ok()) return flag.status();
    config->bootstrap_sampling = *flag;
    return Status::Ok();
  }
  return Status::NotFound("unknown key");
}

template <typename Config>
void WriteAdaptiveTreeSettings(ByteWriter& w, const Config& c) {
  w.u8(c.bootstrap_sampling ? 1 : 0);
  w.i64(c.drift_window_threshold);
  w.f64(c.switch_significance);
  w.i64(c.seed);
}

template <typename Config>
bool ReadAdaptiveTreeSettings(ByteReader& r, int64_t max_seed, Config* c) {
  const uint8_t bootstrap = r.u8();
  c->drift_window_threshold = r.i64();
  c->switch_significance = r.f64();
  c->seed = r.i64();
  c->bootstrap_sampling = bootstrap == 1;
  return r.ok() && bootstrap <= 1 && c->drift_window_threshold >= 0 && c->switch_significance > 0 &&
         c->switch_significance < 1 && c->seed >= 0 && c->seed <= max_seed;
}

// A node's links in snapshots (both adaptive trees' node tables); the read is false on
// bytes that cannot be links (the shape is checked afterwards, AdaptiveTreeShapeProblem).
template <typename Node>
void WriteAdaptiveLinks(ByteWriter& w, const Node& n) {
  w.u32(static_cast<uint32_t>(n.leaf));
  w.u8(n.on_bucket ? 1 : 0);
  w.u32(n.attribute);
  w.f64(n.threshold);
  w.u32(static_cast<uint32_t>(n.left));
  w.u32(static_cast<uint32_t>(n.right));
  w.u32(static_cast<uint32_t>(n.alternate));
  w.u32(n.depth);
}

template <typename Node>
bool ReadAdaptiveLinks(ByteReader& r, uint32_t max_attribute, Node* n) {
  n->leaf = static_cast<int32_t>(r.u32());
  const uint8_t on_bucket = r.u8();
  n->attribute = r.u32();
  n->threshold = r.f64();
  n->left = static_cast<int32_t>(r.u32());
  n->right = static_cast<int32_t>(r.u32());
  n->alternate = static_cast<int32_t>(r.u32());
  n->depth = r.u32();
  n->on_bucket = on_bucket == 1;
  return r.ok() && on_bucket <= 1 && n->attribute < max_attribute && std::isfinite(n->threshold);
}

// The alternate subtrees' figures in a description: held now, started, switched in, pruned.
template <typename Node>
void DescribeAlternates(JsonWriter& out, const std::vector<Node>& nodes, uint64_t started, uint64_t switched,
                        uint64_t pruned) {
  uint64_t now = 0;
  for (const auto& n : nodes) now += n.alternate >= 0 ? 1 : 0;
  out.field("alternate_trees_now", now)
      .field("alternate_trees_started", started)
      .field("alternate_trees_switched", switched)
      .field("alternate_trees_pruned", pruned);
}

}  // namespace streamlearn::trees

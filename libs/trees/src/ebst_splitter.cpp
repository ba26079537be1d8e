#include "ebst_splitter.hpp"

#include <cmath>

#include "streamlearn/core/byte_count.hpp"

namespace streamlearn::trees {

double VarianceReduction(const RiverVar& pre, const RiverVar& left, const RiverVar& right, int64_t min_samples_split) {
  const double min_n = static_cast<double>(min_samples_split);
  if (!(left.n >= min_n && right.n >= min_n)) return 0.0;
  double vr = pre.sigma;
  vr -= left.n / pre.n * left.sigma;
  vr -= right.n / pre.n * right.sigma;
  return vr;
}

void EbstSplitter::update(double value, double target, double weight) {
  const auto fresh = [&] {
    Node n;
    n.value = value;
    n.stats.update(target, weight);
    nodes_.push_back(n);
    return static_cast<int32_t>(nodes_.size() - 1);
  };
  if (root_ < 0) {
    root_ = fresh();
    return;
  }
  int32_t at = root_;
  while (true) {
    Node& n = nodes_[at];
    if (value == n.value) {
      n.stats.update(target, weight);
      return;
    }
    if (value < n.value) {
      n.stats.update(target, weight);
      if (n.left < 0) {
        const int32_t made = fresh();
        nodes_[at].left = made;
        return;
      }
      at = n.left;
    } else {
      if (n.right < 0) {
        const int32_t made = fresh();
        nodes_[at].right = made;
        return;
      }
      at = n.right;
    }
  }
}

EbstSplit EbstSplitter::best_split(const RiverVar& pre, int64_t min_samples_split) const {
  EbstSplit best;
  if (root_ < 0) return best;
  // In-order: left subtree, this node's candidate, then the right subtree with this
  // node's statistics added to the running left-side statistics (and taken off after).
  struct Frame {
    int32_t node;
    uint8_t stage;
  };
  std::vector<Frame> stack{{root_, 0}};
  RiverVar aux;
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Node& n = nodes_[f.node];
    if (f.stage == 0) {
      f.stage = 1;
      if (n.left >= 0) stack.push_back({n.left, 0});
    } else if (f.stage == 1) {
      f.stage = 2;
      RiverVar left = n.stats + aux;
      RiverVar right = pre - left;
      const double merit = VarianceReduction(pre, left, right, min_samples_split);
      if (merit > best.merit) {
        best.merit = merit;
        best.valid = true;
        best.threshold = n.value;
        best.left = left;
        best.right = right;
      }
      if (n.right >= 0) {
        aux += n.stats;
        stack.push_back({n.right, 0});
      } else {
        stack.pop_back();
      }
    } else {
      aux -= n.stats;
      stack.pop_back();
    }
  }
  return best;
}

void EbstSplitter::remove_bad_splits(const RiverVar& pre, int64_t min_samples_split, double last_check_ratio,
                                     double last_check_vr, double last_check_e) {
  if (root_ < 0) return;
  // River's _remove_bad_split_nodes: a node is bad when its left subtree (or no left
  // child) and then its right subtree (or no right child) are bad and its own split point
  // is bad; a bad node is cut from its parent with its children.
  struct Frame {
    int32_t node;
    int32_t parent;
    bool is_left;
    uint8_t stage;
    bool bad;
  };
  std::vector<Frame> stack{{root_, -1, true, 0, false}};
  RiverVar aux;
  bool returned = false;  // the value the last finished frame returned
  const double bound = last_check_ratio - 2 * last_check_e;
  while (!stack.empty()) {
    Frame& f = stack.back();
    Node& n = nodes_[f.node];
    switch (f.stage) {
      case 0:
        f.stage = 1;
        if (n.left >= 0) {
          stack.push_back({n.left, f.node, true, 0, false});
          continue;
        }
        returned = true;
        [[fallthrough]];
      case 1:
        f.bad = returned;
        f.stage = 2;
        if (f.bad && n.right >= 0) {
          aux += n.stats;
          stack.push_back({n.right, f.node, false, 0, false});
          continue;
        }
        if (f.bad) returned = true;
        f.stage = 3;
        [[fallthrough]];
      case 2:
        if (f.stage == 2) {  // back from the right subtree
          aux -= n.stats;
          f.bad = returned;
        }
        [[fallthrough]];
      default: {
        bool cut = false;
        if (f.bad) {
          const RiverVar left = n.stats + aux;
          const RiverVar right = pre - left;
          const double merit = VarianceReduction(pre, left, right, min_samples_split);
          if (merit / last_check_vr < bound) {
            n.left = n.right = -1;
            if (f.parent < 0) {
              root_ = -1;
            } else if (f.is_left) {
              nodes_[f.parent].left = -1;
            } else {
              nodes_[f.parent].right = -1;
            }
            cut = true;
          }
        }
        returned = cut;
        stack.pop_back();
      }
    }
  }
  compact();
}

void EbstSplitter::compact() {
  std::vector<Node> kept;
  kept.reserve(nodes_.size());
  if (root_ >= 0) {
    // Pre-order copy; children are re-pointed as they are copied.
    std::vector<std::pair<int32_t, int32_t>> stack{{root_, -1}};  // old index, new parent slot (encoded)
    while (!stack.empty()) {
      const auto [old, link] = stack.back();
      stack.pop_back();
      const int32_t made = static_cast<int32_t>(kept.size());
      kept.push_back(nodes_[old]);
      if (link >= 0) {
        Node& parent = kept[link >> 1];
        ((link & 1) ? parent.right : parent.left) = made;
      }
      const Node& n = nodes_[old];
      if (n.right >= 0) stack.push_back({n.right, (made << 1) | 1});
      if (n.left >= 0) stack.push_back({n.left, made << 1});
    }
    root_ = 0;
  }
  nodes_ = std::move(kept);
}

size_t EbstSplitter::bytes() const { return sizeof(EbstSplitter) + nodes_.size() * sizeof(Node); }
size_t EbstSplitter::capacity_bytes() const { return sizeof(EbstSplitter) + nodes_.capacity() * sizeof(Node); }

void EbstSplitter::save(ByteWriter& w) const {
  w.u32(attribute_);
  w.u32(static_cast<uint32_t>(root_));
  w.u32(static_cast<uint32_t>(nodes_.size()));
  for (const auto& n : nodes_) {
    w.f64(n.value);
    n.stats.save(w);
    w.u32(static_cast<uint32_t>(n.left));
    w.u32(static_cast<uint32_t>(n.right));
  }
}

bool EbstSplitter::load(ByteReader& r) {
  attribute_ = r.u32();
  root_ = static_cast<int32_t>(r.u32());
  uint32_t count = 0;
  if (!ReadCount(r, 40, &count)) return false;
  nodes_.assign(count, Node{});
  for (auto& n : nodes_) {
    n.value = r.f64();
    if (!n.stats.load(r)) return false;
    n.left = static_cast<int32_t>(r.u32());
    n.right = static_cast<int32_t>(r.u32());
    if (!r.ok() || !std::isfinite(n.value)) return false;
  }
  // The shape: a tree rooted at root_, children after their parent, each held once.
  if (count == 0) return root_ == -1;
  if (root_ != 0) return false;
  std::vector<uint8_t> held(count, 0);
  for (uint32_t i = 0; i < count; ++i) {
    for (const int32_t c : {nodes_[i].left, nodes_[i].right}) {
      if (c == -1) continue;
      if (c <= static_cast<int32_t>(i) || c >= static_cast<int32_t>(count) || held[c]++) return false;
    }
  }
  for (uint32_t i = 1; i < count; ++i) {
    if (!held[i]) return false;
  }
  return true;
}

}  // namespace streamlearn::trees

#pragma once
// River's tree.splitter.EBSTSplitter (iSOUP-Tree's extended binary search tree) for one
// numeric attribute at one regression leaf, with River's VarianceReductionSplitCriterion.
// Each node holds a value seen and the target statistics of the events that passed it
// going left or stopped at it (River's variant keeps only the left side). The best split
// is found by an in-order walk that carries the statistics of everything to the left;
// after a failed split attempt, subtrees whose every split point is clearly worse than the
// best are cut (FIMT-DD's remove_bad_splits). Walks are iterative (a monotone feature
// makes a chain as long as the events seen), in River's recursion order, because River's
// Var merges and differences are not exact inverses and their order decides the figures.

#include <cstdint>
#include <vector>

#include "river_var.hpp"
#include "streamlearn/core/bytes.hpp"

namespace streamlearn::trees {

// VarianceReductionSplitCriterion.merit_of_split for a binary split.
double VarianceReduction(const RiverVar& pre, const RiverVar& left, const RiverVar& right, int64_t min_samples_split);

struct EbstSplit {
  double merit = -1.0 / 0.0;  // -inf: no candidate (River's BranchFactory())
  bool valid = false;
  double threshold = 0;  // x <= threshold goes left
  RiverVar left, right;
};

class EbstSplitter {
 public:
  explicit EbstSplitter(uint32_t attribute = 0) : attribute_(attribute) {}

  uint32_t attribute() const { return attribute_; }
  size_t size() const { return nodes_.size(); }

  void update(double value, double target, double weight);
  EbstSplit best_split(const RiverVar& pre, int64_t min_samples_split) const;
  // River's remove_bad_splits after a failed attempt (both best merits above 0).
  void remove_bad_splits(const RiverVar& pre, int64_t min_samples_split, double last_check_ratio,
                         double last_check_vr, double last_check_e);

  size_t bytes() const;  // by sizes, the same before a save and after a load
  size_t capacity_bytes() const;
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);

 private:
  struct Node {
    double value = 0;
    RiverVar stats;
    int32_t left = -1;
    int32_t right = -1;
  };
  // Drops the nodes no longer reachable from the root, keeping the tree's shape.
  void compact();

  uint32_t attribute_ = 0;
  int32_t root_ = -1;
  std::vector<Node> nodes_;
};

}  // namespace streamlearn::trees

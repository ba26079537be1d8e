#pragma once
// River's tree.HoeffdingAdaptiveTreeClassifier behind learn::Learner. Its leaves are the
// Hoeffding tree's (hoeffding_tree.hpp: the same observers, leaf predictions and split
// decisions, reached through a HoeffdingTreeLearner held for its rules); on top, every
// node watches its own error (0/1 per event it routes, River's way: the leaf's prediction
// weighted by its error) with an ADWIN (libs/drift, River-exact) and a running mean.
//
//   - A branch whose ADWIN detects a rise of its error starts an alternate leaf beside
//     it. Once both have seen more than drift_window_threshold events, the alternate
//     replaces the branch when its error is lower by more than the bound
//     sqrt(2 e (1 - e) ln(2 / switch_significance) (1/n_alt + 1/n)), and is dropped when
//     it is worse by as much.
//   - As in River, an alternate leaf that splits takes its branch's place at once (River's
//     _attempt_to_split puts the new branch where the alternate's owner hangs).
//   - bootstrap_sampling: each leaf learns an event with weight k ~ Poisson(1) (k = 0
//     keeps the weight, as River's), drawn from one Python random.Random(seed) for the tree.
//   - Prediction: the leaves an event reaches (the main path's and each alternate's on the
//     way), each distribution divided by its sum times the leaf's squared error (left as
//     it is when that is 0), summed and normalised.
// Missing features follow the most traversed path (by the weights the branches saw).

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "adaptive_tree_parts.hpp"
#include "hoeffding_tree.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/drift/python_random.hpp"
#include "tree_memory.hpp"

namespace streamlearn::trees {

struct HoeffdingAdaptiveTreeConfig {
  HoeffdingTreeConfig tree;
  bool bootstrap_sampling = true;
  int64_t drift_window_threshold = 300;
  double switch_significance = 0.05;
  int64_t seed = 0;

  bool operator==(const HoeffdingAdaptiveTreeConfig&) const = default;
};

struct AdaptiveNode {
  int32_t leaf = -1;  // index into the leaves when a leaf, -1 for a branch
  bool on_bucket = false;
  uint32_t attribute = 0;
  double threshold = 0;
  int32_t left = -1;
  int32_t right = -1;
  int32_t alternate = -1;  // a branch's alternate subtree (a node), -1 none
  uint32_t depth = 0;
  ClassWeights stats;  // a branch's class weights: its leaf's at the split, then every event it routes
  drift::Adwin detector;
  ErrorMean error;
};

class HoeffdingAdaptiveTree final : public learn::Learner {
 public:
  explicit HoeffdingAdaptiveTree(HoeffdingAdaptiveTreeConfig config);

  std::string_view type() const override;
  learn::LearnerTask task() const override { return config_.tree.task; }
  bool scores_probability() const override { return true; }

  void predict(const FeatureVector& x, learn::Prediction& out) const override;
  void learn(const FeatureVector& x, double y, double weight) override;
  // Keeps the main path's leaf, its vote and its naive Bayes votes: learning x walks to the
  // same leaf and asks it the same question first.
  void predict_keeping(const FeatureVector& x, learn::Prediction& out,
                       std::unique_ptr<learn::PredictionMemo>& memo) const override;
  void learn_predicted(const FeatureVector& x, double y, double weight, const learn::PredictionMemo* memo) override;

  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;
  std::unique_ptr<learn::Learner> fresh_copy() const override;
  void reset() override;
  void describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t top_sparse) const override;
  size_t memory_bytes() const override;
  uint64_t trained() const override { return trained_; }
  uint64_t guarded_updates() const override { return guarded_; }

  const HoeffdingAdaptiveTreeConfig& config() const { return config_; }
  size_t leaves() const { return leaves_.size(); }
  size_t splits() const { return nodes_.size() - leaves_.size(); }
  uint32_t depth() const;
  uint64_t alternate_trees() const { return n_alternate_; }
  uint64_t switched_alternate_trees() const { return n_switched_; }
  uint64_t pruned_alternate_trees() const { return n_pruned_; }

 private:
  // What one learn_one keeps of the main path's leaf vote: the naive Bayes votes behind it
  // (the leaf's learning needs them again), valid while no leaf has learned since.
  struct PathMemo;  // what predict_keeping keeps (the .cpp defines it)
  struct KeptVote;  // one leaf's vote in it
  struct LearnPass {
    NaiveBayesMemo path_votes;
    const NaiveBayesMemo* votes = &path_votes;  // path_votes, or a prediction's kept ones
    // The prediction of this very state, if any: the votes of every leaf it asked (the
    // alternates' and the main path's). A leaf's vote is its own state's (its class
    // weights, observers and error), so a kept one holds until that leaf learns, or until
    // the size limit may have (de)activated leaves (it calls changed(): state_id_ moved).
    const PathMemo* kept = nullptr;
    uint64_t state_id = 0;  // state_id_ when the pass began
    uint64_t learned_kept = 0;  // bit i: the i-th kept leaf learned in this pass
    uint64_t leaf_changes = 0;  // leaves learned (or split) so far in this pass
    uint64_t path_changes = 0;  // leaf_changes when path_prediction_ was computed
    // The walk to path_leaf_ went through expected_node; it still holds there while no
    // leaf learned and no alternate came, switched or went since (stamp: their sum then).
    uint64_t structure_changes = 0;
    int32_t expected_node = -1;
    uint64_t descent_stamp = 0;
  };
  void learn_one(const FeatureVector& x, uint32_t label, const PathMemo* predicted = nullptr);
  void predict_into(const FeatureVector& x, learn::Prediction& out, PathMemo* keep) const;
  void changed();  // a new state: memos of earlier predictions no longer apply
  void learn_at(int32_t node, const FeatureVector& x, uint32_t label, double w, int32_t parent, int parent_branch,
                LearnPass& pass);
  void learn_at_leaf(int32_t node, const FeatureVector& x, uint32_t label, double w, int32_t parent,
                     int parent_branch, LearnPass& pass);
  void learn_at_branch(int32_t node, const FeatureVector& x, uint32_t label, double w, int32_t parent,
                       int parent_branch, LearnPass& pass);
  // The leaf's distribution weighted by its error, into `dist` (by class); false when the
  // leaf has seen nothing (River's None). `memo`: see HoeffdingTreeLearner::leaf_prediction.
  bool ada_prediction(int32_t node, const FeatureVector& x, double* dist, NaiveBayesMemo* memo = nullptr) const;
  // The class River's max(aux, key=aux.get) picks from that distribution, -1 for None.
  int32_t leaf_vote(int32_t node, const FeatureVector& x, NaiveBayesMemo* memo = nullptr) const;
  // The prediction's vote of leaf `node` when it still holds in this pass (see LearnPass), else null.
  const KeptVote* kept_vote(const LearnPass& pass, int32_t node) const;
  // The child an event goes to: 0 left, 1 right (the most traversed one when the feature is missing).
  int branch_of(const AdaptiveNode& n, const FeatureVector& x) const;
  double node_weight(int32_t node) const;
  int32_t new_leaf(ClassWeights stats, uint32_t depth);
  void set_child(int32_t parent, int branch, int32_t child);
  void attempt_split(int32_t node, int32_t parent, int parent_branch);
  void enforce_size_limit();

  HoeffdingAdaptiveTreeConfig config_;
  HoeffdingTreeLearner rules_;  // the Hoeffding tree's leaf rules (its own state unused)
  drift::PythonRandom rng_;
  uint32_t known_classes_ = 0;
  std::vector<uint8_t> seen_class_;
  int32_t root_ = -1;
  std::vector<AdaptiveNode> nodes_;
  std::vector<TreeLeaf> leaves_;
  bool detached_ = false;  // nodes left the tree during this event
  int32_t path_leaf_ = -1;  // this event's main-path leaf and its vote (the branches' error)
  int32_t path_prediction_ = -1;
  uint32_t max_dense_ = 0;
  TreeMemoryEstimates memory_;
  uint64_t n_alternate_ = 0;
  uint64_t n_switched_ = 0;
  uint64_t n_pruned_ = 0;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
  // Unique across learners and their states (changed()). No new members here: the tree's
  // memory estimate counts sizeof(*this), and where the size limit cuts must not move.
  uint64_t state_id_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeHoeffdingAdaptiveTree(std::string_view type,
                                                                  const learn::LearnerKeys& keys,
                                                                  std::string_view key_prefix);
Status CheckHoeffdingAdaptiveTreeSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreHoeffdingAdaptiveTree(ByteReader& in);

}  // namespace streamlearn::trees

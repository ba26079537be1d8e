#pragma once
// The tree families (and Gaussian naive Bayes), as River has them, behind learn::Learner:
//
//   hoeffding_tree, hoeffding_tree_multiclass   River's tree.HoeffdingTreeClassifier
//   naive_bayes, naive_bayes_multiclass         River's naive_bayes.GaussianNB
//   hoeffding_tree_regressor                    River's tree.HoeffdingTreeRegressor
//   hoeffding_adaptive_tree,                    River's tree.HoeffdingAdaptiveTreeClassifier
//     hoeffding_adaptive_tree_multiclass
//   hoeffding_adaptive_tree_regressor           River's tree.HoeffdingAdaptiveTreeRegressor
//   arf, arf_multiclass                         River's forest.ARFClassifier
//   arf_regressor                               River's forest.ARFRegressor
//
// The factory lives in learn, below this lib, and must not name it; so these families
// add themselves to learn's table (learn::RegisterLearnerFamily) when a program calls
// RegisterTreeLearners() at start-up. Whatever links this lib and calls it gets the
// types through learn::MakeLearner / RestoreLearner like any built-in family.
//
// Inputs: dense feature i (present[i] != 0) is numeric attribute i; a missing one is an
// absent attribute, as River skips absent keys. The hashed sparse block: the tree reads
// each bucket as a binary attribute (present or not) it may split on; naive Bayes skips it.
//
// Keys (River's parameter names), each checked with the key named in the error:
//   hoeffding_tree: grace_period (200), delta (1e-7), tau (0.05), split_criterion
//     (info_gain | gini | hellinger), leaf_prediction (nba | nb | mc), nb_threshold (0),
//     max_depth (none, or a whole number), n_splits (10: the Gaussian observer's split
//     points), min_branch_fraction (0.01), max_share_to_split (0.99), max_size (100 MiB),
//     memory_estimate_period (1000000 events), stop_mem_management (false).
//   hoeffding_tree_regressor: grace_period (200), delta (1e-7), tau (0.05), leaf_prediction
//     (adaptive | mean | model), model_selector_decay (0.95), min_samples_split (5),
//     max_depth (none), max_size (500 MiB), memory_estimate_period (1000000),
//     stop_mem_management (false). It reads the dense features only.
//   hoeffding_adaptive_tree: the hoeffding_tree keys, and bootstrap_sampling (true),
//     drift_window_threshold (300), switch_significance (0.05), seed (0: River's
//     random.Random(seed) for the bootstrap's Poisson draws).
//   hoeffding_adaptive_tree_regressor: the hoeffding_tree_regressor keys, and
//     bootstrap_sampling (true), drift_window_threshold (300), switch_significance (0.05),
//     seed (0, below 2^32: each node's numpy RandomState, as River's), as
//     hoeffding_adaptive_tree's. Each node watches its error y - prediction, normalised
//     by the node's running deviation of it, with an ADWIN.
//   naive_bayes: none of its own.
//   arf: n_models (10), max_features (sqrt | log2 | none | a whole number | a fraction in
//     (0, 1]; of the first event's attributes), lambda_value (6: Poisson weights),
//     disable_weighted_vote (false: trees vote weighted by their accuracy), drift_delta
//     (0.001, or none: no drift detection), warning_delta (0.01, or none: no background
//     trees), seed (42; River's draws from random.Random(seed)), and the tree's keys with
//     River's ARF defaults: grace_period 50, delta 0.01, tau 0.05, memory_estimate_period
//     2000000, the rest as hoeffding_tree's.
//   arf_regressor: arf's forest keys (disable_weighted_vote true by default, as River's),
//     aggregation_method (median | mean), metric (mse | mae | rmse: each tree's, its vote
//     weight with mean and weighted votes), and hoeffding_tree_regressor's keys with
//     River's ARF defaults: grace_period 50, delta 0.01, memory_estimate_period 2000000.
//   All accept (and ignore) the keys the pipeline passes to every family: learning_rate,
//   l2, hash_bits.

#include <cstdint>

#include "streamlearn/core/status.hpp"

namespace streamlearn::trees {

inline constexpr uint32_t kHoeffdingTreeKindTag = 0x54484c53;  // "SLHT" little-endian
inline constexpr uint32_t kNaiveBayesKindTag = 0x424e4c53;     // "SLNB" little-endian
inline constexpr uint32_t kHoeffdingTreeRegressorKindTag = 0x52484c53;  // "SLHR" little-endian
inline constexpr uint32_t kAdaptiveRandomForestKindTag = 0x46524c53;  // "SLRF" little-endian
inline constexpr uint32_t kArfRegressorKindTag = 0x52524c53;          // "SLRR" little-endian
inline constexpr uint32_t kHoeffdingAdaptiveTreeKindTag = 0x41484c53;   // "SLHA" little-endian
inline constexpr uint32_t kHoeffdingAdaptiveTreeRegressorKindTag = 0x52414c53;  // "SLAR" little-endian

// Adds the families to learn's factory; harmless when called again.
Status RegisterTreeLearners();

}  // namespace streamlearn::trees

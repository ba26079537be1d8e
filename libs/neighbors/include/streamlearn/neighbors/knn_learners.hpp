#pragma once
// k-nearest neighbours as River has them (neighbors.KNNClassifier, neighbors.KNNRegressor with
// an exact search over the sliding window), behind learn::Learner:
//
//   knn, knn_multiclass   River's KNNClassifier: votes of the k nearest rows of the window,
//                         each 1/distance (weighted) or 1, normalised by their sum (or softmax)
//   knn_regressor         River's KNNRegressor: mean, median or 1/distance-weighted mean of
//                         the k nearest rows' targets
//
// The window keeps the last window_size events learned (first in, first out). Distance:
// Minkowski with exponent p over every dense feature and every hashed sparse bucket, a missing
// dense feature or an absent bucket counting as 0 (River sums over the union of both dicts'
// keys with a.get(k, 0.0)). Ties in distance go to the older row (River's stable sort over the
// window). With fewer than k rows, all of them are used; with none, the regressor predicts 0
// and the classifier gives probability 0 to every class. A nearest row at distance 0 decides
// alone: its class with probability 1, its target.
//
// Keys (River's parameter names), each checked with the key named in the error:
//   all: n_neighbors (5, at most 256), window_size (1000, at most 1000000), p (2, >= 1).
//   knn, knn_multiclass: weighted (true), softmax (false).
//   knn_regressor: aggregation_method (mean | median | weighted_mean; mean).
//   All accept (and ignore) the keys the pipeline passes to every family: learning_rate, l2,
//   hash_bits.

#include <cstdint>

#include "streamlearn/core/status.hpp"

namespace streamlearn::neighbors {

inline constexpr uint32_t kKnnKindTag = 0x4e4b4c53;  // "SLKN" little-endian

// Adds the family to learn's factory; harmless when called again.
Status RegisterNeighborLearners();

}  // namespace streamlearn::neighbors

#pragma once
// The model's input. The struct itself lives in core (features builds it, learn reads it,
// and neither may depend on the other); this header names it where learners look for it.
//
//   dense / present      dense feature i (ids assigned by the caller, 0..n-1), n may grow;
//                        present[i] == 0 means missing: the model imputes the running mean
//   sparse_index / value hashed buckets in [0, 2^hash_bits), 1.0 for one-hot categoricals
//   clear()              keeps capacity, so the per-event path does not allocate

#include "streamlearn/core/feature_vector.hpp"

namespace streamlearn::learn {

using FeatureVector = ::streamlearn::FeatureVector;

}  // namespace streamlearn::learn

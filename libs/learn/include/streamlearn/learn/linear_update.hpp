#pragma once
// Model sync's summed updates (docs/architecture.md, one model across instances): what a
// peer learned between two of its states, added to this model as a parameter server sums
// its workers' updates. A function beside the Learner interface: only linear models have it.

#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::learn {

// Adds `now` - `base` (two states of one peer's model) to `target`: every parameter
// LinearModel::mix mixes except the input statistics (LinearModel::add_update).
// Unimplemented for a family other than linear; FailedPrecondition for a peer of another
// kind or settings, `target` unchanged.
Status AddLearnerUpdate(Learner& target, const Learner& now, const Learner& base);

}  // namespace streamlearn::learn

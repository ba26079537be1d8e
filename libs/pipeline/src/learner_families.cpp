#include <spdlog/spdlog.h>

#include <mutex>

#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"
#include "streamlearn/neural/mlp_learners.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::pipeline {

// The one place that names every family above learn (as Vowpal Wabbit lists its reductions'
// setup functions in one place): a new lib of learners adds its registration here.
void RegisterLearnerFamilies() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Status st = trees::RegisterTreeLearners(); !st.ok()) {
      // Only a clash of type names or kind tags between families can fail: a programming error.
      spdlog::error("learner families: {}", st.message());
    }
    if (Status st = neighbors::RegisterNeighborLearners(); !st.ok()) {
      spdlog::error("learner families: {}", st.message());
    }
    if (Status st = neural::RegisterNeuralLearners(); !st.ok()) {
      spdlog::error("learner families: {}", st.message());
    }
  });
}

}  // namespace streamlearn::pipeline

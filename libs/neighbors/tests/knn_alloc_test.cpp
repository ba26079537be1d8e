// The per-event path of a full window allocates nothing: predict (the top-k array is on the
// stack, the Prediction reused) and learn (the evicted slot's storage is reused).
#include <catch2/catch.hpp>

#include "learner_contract.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;

TEST_CASE("a full window predicts and learns without allocating", "[neighbors][alloc]") {
  if (!testing::kCountingAllocations) return;  // not counted under AddressSanitizer
  REQUIRE(neighbors::RegisterNeighborLearners().ok());
  for (auto [type, task] : {std::pair{"knn", learn::LearnerTask::kBinary},
                            std::pair{"knn_multiclass", learn::LearnerTask::kMulticlass},
                            std::pair{"knn_regressor", learn::LearnerTask::kRegression}}) {
    INFO(type);
    auto made = learn::MakeLearner(type, {{"window_size", "100"}});
    REQUIRE(made.ok());
    learn::Learner& l = **made;
    const auto stream = testing::ContractStream(task, 400);  // dense, a missing one, a bucket
    learn::Prediction pred;
    const uint64_t empty = testing::Allocations();
    for (const auto& e : stream) {  // fills the window and grows the Prediction
      l.predict(e.x, pred);
      l.learn(e.x, e.y);
    }
    const uint64_t before = testing::Allocations();
    CHECK(before > empty);  // filling the window does allocate: the counter counts
    for (int round = 0; round < 2; ++round) {
      for (const auto& e : stream) {
        l.predict(e.x, pred);
        l.learn(e.x, e.y);
      }
    }
    CHECK(testing::Allocations() == before);
  }
}

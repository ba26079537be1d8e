// Once warm, predict and learn allocate nothing: predict's hidden layers live on the stack
// and the reused Prediction keeps its capacity; learn reuses its scratch and swaps the
// candidate parameters in.
#include <catch2/catch.hpp>

#include "learner_contract.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neural/mlp_learners.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;

TEST_CASE("a warm mlp predicts and learns without allocating", "[neural][alloc]") {
  if (!testing::kCountingAllocations) return;  // not counted under AddressSanitizer
  REQUIRE(neural::RegisterNeuralLearners().ok());
  for (auto [type, task] : {std::pair{"mlp", learn::LearnerTask::kBinary},
                            std::pair{"mlp_multiclass", learn::LearnerTask::kMulticlass},
                            std::pair{"mlp_regressor", learn::LearnerTask::kRegression}}) {
    for (const char* dims : {"[32]", "[512, 512]"}) {
      INFO(type << " " << dims);
      auto made = learn::MakeLearner(type, {{"hidden_dims", dims}, {"optimizer", "adam"}});
      REQUIRE(made.ok());
      learn::Learner& l = **made;
      const auto stream = testing::ContractStream(task, 200);  // dense, a missing one, a bucket
      learn::Prediction pred;
      for (const auto& e : stream) {
        l.predict(e.x, pred);
        l.learn(e.x, e.y);
      }
      const uint64_t before = testing::Allocations();
      for (int round = 0; round < 2; ++round) {
        for (const auto& e : stream) l.predict(e.x, pred);
      }
      CHECK(testing::Allocations() == before);
      for (const auto& e : stream) {
        l.predict(e.x, pred);
        l.learn(e.x, e.y);
      }
      CHECK(testing::Allocations() == before);
    }
  }
}

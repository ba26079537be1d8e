// The per-event path of a full window allocates nothing: predict (the top-k array is on the
// stack, the Prediction reused) and learn (the evicted slot's storage is reused).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "learner_contract.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"

// Counts heap allocations. Not under AddressSanitizer, which replaces operator new itself.
#if defined(__SANITIZE_ADDRESS__)
#define SL_COUNTING_ALLOCATIONS 0
#else
#define SL_COUNTING_ALLOCATIONS 1
#endif

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

#if SL_COUNTING_ALLOCATIONS
// noinline: inlined, GCC sees free() of what it takes for the built-in new's memory and
// warns (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

using namespace streamlearn;

TEST_CASE("a full window predicts and learns without allocating", "[neighbors][alloc]") {
  if (!SL_COUNTING_ALLOCATIONS) return;  // not counted under AddressSanitizer
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
    const uint64_t empty = g_allocations.load();
    for (const auto& e : stream) {  // fills the window and grows the Prediction
      l.predict(e.x, pred);
      l.learn(e.x, e.y);
    }
    const uint64_t before = g_allocations.load();
    CHECK(before > empty);  // filling the window does allocate: the counter counts
    for (int round = 0; round < 2; ++round) {
      for (const auto& e : stream) {
        l.predict(e.x, pred);
        l.learn(e.x, e.y);
      }
    }
    CHECK(g_allocations.load() == before);
  }
}

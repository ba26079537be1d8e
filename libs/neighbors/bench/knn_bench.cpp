// k-NN throughput beside the linear model: test-then-train (predict, then learn) events per
// second on TrumpApproval-like rows (River's 1,001 rows, standardised once as River's
// StandardScaler would, repeated with a little noise so no row is an exact match). Figures
// only, no assertions: not run by ctest.
//
//   neighbors_bench [events]   (default 200000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../tests/river_streams.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"

using namespace streamlearn;

namespace {

struct Figure {
  double events_per_second = 0;
  double mae = 0;
};

Figure Run(learn::Learner& l, const std::vector<testing::RiverExample>& rows, size_t events) {
  learn::Prediction pred;
  double abs_error = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < events; ++i) {
    const auto& e = rows[i % rows.size()];
    l.predict(e.x, pred);
    abs_error += std::abs(e.y - pred.score);
    l.learn(e.x, e.y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(events) / seconds, abs_error / static_cast<double>(events)};
}

}  // namespace

int main(int argc, char** argv) {
  const size_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  if (!neighbors::RegisterNeighborLearners().ok()) return 1;
  const auto trump = testing::TrumpApprovalStream();
  testing::RiverStandardScaler scaler;
  for (const auto& e : trump) scaler.learn(e.x);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<testing::RiverExample> rows;
  for (int copy = 0; copy < 20; ++copy) {
    for (const auto& e : trump) {
      testing::RiverExample r{scaler.transform(e.x), e.y};
      for (double& v : r.x.dense) v += noise(rng);
      rows.push_back(std::move(r));
    }
  }
  std::printf("%zu test-then-train events, 6 dense features (TrumpApproval-like rows)\n", events);
  std::printf("%-34s %14s %10s %12s\n", "model", "events/s", "MAE", "memory");
  const auto report = [&](const std::string& name, learn::Learner& l) {
    const Figure f = Run(l, rows, events);
    std::printf("%-34s %14.0f %10.4f %10zu B\n", name.c_str(), f.events_per_second, f.mae, l.memory_bytes());
  };
  for (const char* type : {"linear"}) {
    auto l = learn::MakeLearner(type, {{"learning_rate", "0.01"}});
    if (!l.ok()) return 1;
    report(type, **l);
  }
  for (const char* window : {"1000", "5000"}) {
    for (const char* p : {"2", "1"}) {
      auto l = learn::MakeLearner("knn_regressor", {{"window_size", window}, {"p", p}});
      if (!l.ok()) return 1;
      report(std::string("knn_regressor window ") + window + " p " + p, **l);
    }
  }
  auto c = learn::MakeLearner("knn", {{"window_size", "5000"}});
  if (!c.ok()) return 1;
  // The classifier on the same rows, labelled by whether approval is above 42%.
  std::vector<testing::RiverExample> labelled = rows;
  for (auto& r : labelled) r.y = r.y > 42 ? 1 : 0;
  const Figure f = Run(**c, labelled, events);
  std::printf("%-34s %14.0f %10s %10zu B\n", "knn window 5000 (binary)", f.events_per_second, "-", (*c)->memory_bytes());
  return 0;
}

// linear_bench: predict + learn cost per event of LinearModel with every optimizer, beside
// LogisticRegression measured in the same run (the ratio is the figure to watch; absolute
// numbers depend on the machine). Events: 10 dense features (2 informative, 5% missing)
// and 5 one-hot categoricals of 1,000 values each, hashed into 2^18 buckets; a binary label
// (softmax: 3 classes, regression: a real label). 8,192 pre-built events are cycled, so the
// loop measures the model, not the generator. Each figure is the best of 3 runs.
//
// Usage: linear_bench [events [name-filter]]   (default 2000000 events, every model)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "oracle/logistic_regression.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace {

using streamlearn::learn::FeatureVector;
using streamlearn::learn::LinearModel;
using streamlearn::learn::LinearModelConfig;
using streamlearn::learn::Loss;
using streamlearn::learn::LogisticConfig;
using streamlearn::learn::LogisticRegression;
using streamlearn::learn::Optimizer;
using streamlearn::learn::Prediction;
using streamlearn::learn::Schedule;

struct Event {
  FeatureVector x;
  double binary;
  double three_class;
  double real;
};

std::vector<Event> MakeEvents(size_t count) {
  std::mt19937_64 engine(2024);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<Event> events(count);
  for (Event& e : events) {
    for (uint32_t j = 0; j < 10; ++j) {
      if (uniform(engine) < 0.05) continue;
      e.x.set_dense(j, 10 * uniform(engine) + j * 100);
    }
    if (e.x.dense.size() < 10) {  // keep the block 10 wide even if the last ones are missing
      e.x.dense.resize(10, 0.0);
      e.x.present.resize(10, 0);
    }
    for (uint32_t f = 0; f < 5; ++f) {
      const uint32_t value = static_cast<uint32_t>(uniform(engine) * 1000);
      e.x.sparse_index.push_back(((f * 1000 + value) * 2654435761u) & ((1u << 18) - 1));
      e.x.sparse_value.push_back(1.0f);
    }
    const double signal = e.x.dense[0] - 5 + 2 * (e.x.dense[1] - 105);
    e.binary = signal + uniform(engine) * 4 - 2 > 0 ? 1 : 0;
    e.three_class = signal < -3 ? 0 : (signal < 3 ? 1 : 2);
    e.real = signal + uniform(engine);
  }
  return events;
}

template <typename Step>
double BestNsPerEvent(size_t n, Step&& step) {
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) step(i);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, ns / static_cast<double>(n));
  }
  return best;
}

struct Variant {
  const char* name;
  LinearModelConfig config;
};

LinearModelConfig Make(Loss loss, Optimizer optimizer, Schedule schedule = Schedule::kConstant, double l1 = 0) {
  LinearModelConfig c;
  c.loss = loss;
  c.optimizer = optimizer;
  c.schedule = schedule;
  c.learning_rate = optimizer == Optimizer::kAdam ? 0.01 : 0.05;
  c.l1 = l1;
  c.l2 = 1e-5;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const std::string filter = argc > 2 ? argv[2] : "";
  const std::vector<Event> events = MakeEvents(8192);
  const size_t mask = events.size() - 1;
  double sink = 0;

  LogisticConfig lc;
  lc.learning_rate = 0.05;
  lc.l2 = 1e-5;
  double baseline = 0;
  {
    LogisticRegression warm(lc);
    for (size_t i = 0; i < events.size(); ++i) warm.learn(events[i].x, events[i].binary);
    baseline = BestNsPerEvent(n, [&](size_t i) {
      const Event& e = events[i & mask];
      sink += warm.predict_proba(e.x);
      warm.learn(e.x, e.binary);
    });
  }

  const Variant variants[] = {
      {"log sgd constant", Make(Loss::kLog, Optimizer::kSgd)},
      {"log sgd invscaling", Make(Loss::kLog, Optimizer::kSgd, Schedule::kInvscaling)},
      {"log sgd optimal", Make(Loss::kLog, Optimizer::kSgd, Schedule::kOptimal)},
      {"log sgd l1", Make(Loss::kLog, Optimizer::kSgd, Schedule::kConstant, 1e-4)},
      {"log adagrad", Make(Loss::kLog, Optimizer::kAdagrad)},
      {"log adam", Make(Loss::kLog, Optimizer::kAdam)},
      {"log ftrl", Make(Loss::kLog, Optimizer::kFtrl, Schedule::kConstant, 1e-4)},
      {"squared sgd", Make(Loss::kSquared, Optimizer::kSgd)},
      {"hinge sgd", Make(Loss::kHinge, Optimizer::kSgd)},
      {"softmax(3) sgd", Make(Loss::kSoftmax, Optimizer::kSgd)},
      {"softmax(3) adam", Make(Loss::kSoftmax, Optimizer::kAdam)},
  };

  std::printf("%zu events per run, 10 dense + 5 sparse features, predict + learn, best of 3\n", n);
  std::printf("%-22s %10s %14s %8s\n", "model", "ns/event", "events/s", "ratio");
  std::printf("%-22s %10.1f %14.0f %8.2f\n", "LogisticRegression", baseline, 1e9 / baseline, 1.0);
  for (const Variant& v : variants) {
    if (std::string(v.name).find(filter) == std::string::npos) continue;
    LinearModel model(v.config);
    const auto label = [&](const Event& e) {
      switch (v.config.loss) {
        case Loss::kSoftmax: return e.three_class;
        case Loss::kSquared:
        case Loss::kHuber: return e.real;
        default: return e.binary;
      }
    };
    for (size_t i = 0; i < events.size(); ++i) model.learn(events[i].x, label(events[i]));  // buckets and classes known
    Prediction p;
    const double ns = BestNsPerEvent(n, [&](size_t i) {
      const Event& e = events[i & mask];
      model.predict(e.x, p);
      sink += p.score;
      model.learn(e.x, label(e));
    });
    std::printf("%-22s %10.1f %14.0f %8.2f\n", v.name, ns, 1e9 / ns, ns / baseline);
  }
  std::printf("(checksum %g)\n", sink);
  return 0;
}

// Events per second of the tree families beside the linear model, on one core, on
// Phishing-like rows (River's Phishing stream, 9 numeric features, repeated to 1M events):
// one predict then one learn per event, as the pipeline does. Figures, not assertions.
//
//   trees_bench [events]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/trees/tree_learners.hpp"

using namespace streamlearn;

namespace {

struct Row {
  FeatureVector x;
  double y = 0;
};

std::vector<Row> ReadPhishing() {
  std::ifstream in(std::string(STREAMLEARN_TREES_DATA) + "/river/phishing.csv");
  std::string line;
  std::getline(in, line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    std::vector<double> v;
    while (std::getline(cells, cell, ',')) v.push_back(std::stod(cell));
    if (v.size() != 10) continue;
    Row r;
    r.x.dense.assign(v.begin(), v.begin() + 9);
    r.x.present.assign(9, 1);
    r.y = v[9];
    rows.push_back(std::move(r));
  }
  return rows;
}

void Run(const char* label, std::string_view type, const learn::LearnerKeys& keys, const std::vector<Row>& rows,
         uint64_t events) {
  auto made = learn::MakeLearner(type, keys);
  if (!made.ok()) {
    std::fprintf(stderr, "%s: %s\n", label, made.status().message().c_str());
    std::exit(1);
  }
  auto& l = **made;
  learn::Prediction p;
  uint64_t correct = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < events; ++i) {
    const Row& r = rows[i % rows.size()];
    l.predict(r.x, p);
    correct += p.class_index == static_cast<int32_t>(r.y) ? 1 : 0;
    l.learn(r.x, r.y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-34s %10.0f events/s  %7.1f ns/event  accuracy %.4f  memory %zu bytes\n", label,
              static_cast<double>(events) / seconds, 1e9 * seconds / static_cast<double>(events),
              static_cast<double>(correct) / static_cast<double>(events), l.memory_bytes());
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  if (!trees::RegisterTreeLearners().ok()) return 1;
  const auto rows = ReadPhishing();
  if (rows.empty()) {
    std::fprintf(stderr, "no rows in phishing.csv\n");
    return 1;
  }
  std::printf("%llu events (Phishing's %zu rows repeated), predict + learn each, one core\n",
              static_cast<unsigned long long>(events), rows.size());
  Run("logistic (linear, defaults)", "logistic", {}, rows, events);
  Run("naive_bayes (GaussianNB)", "naive_bayes", {}, rows, events);
  Run("hoeffding_tree (defaults: nba)", "hoeffding_tree", {}, rows, events);
  Run("hoeffding_tree leaf_prediction=mc", "hoeffding_tree", {{"leaf_prediction", "mc"}}, rows, events);
  Run("hoeffding_tree leaf_prediction=nb", "hoeffding_tree", {{"leaf_prediction", "nb"}}, rows, events);
  return 0;
}

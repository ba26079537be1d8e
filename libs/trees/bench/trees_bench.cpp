// Events per second of the tree families beside the linear models, on one core: the
// classifiers on River's Phishing stream (9 numeric features), the regressor on River's
// TrumpApproval (6 numeric features, standardised once up front), each repeated to 1M
// events: one predict then one learn per event, as the pipeline does. Figures, not assertions.
//
//   trees_bench [events]

#include <chrono>
#include <cmath>
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

// A River CSV of numbers: the target column `target`, every other column a dense feature.
std::vector<Row> ReadRiverCsv(const std::string& file, size_t columns, size_t target) {
  std::ifstream in(std::string(STREAMLEARN_TREES_DATA) + "/river/" + file);
  std::string line;
  std::getline(in, line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    std::vector<double> v;
    while (std::getline(cells, cell, ',')) v.push_back(std::stod(cell));
    if (v.size() != columns) continue;
    Row r;
    for (size_t c = 0; c < columns; ++c) {
      if (c == target) continue;
      r.x.dense.push_back(v[c]);
      r.x.present.push_back(1);
    }
    r.y = v[target];
    rows.push_back(std::move(r));
  }
  return rows;
}

// Each feature to mean 0 and standard deviation 1 over the whole stream (a bench shortcut
// for the online scaler River puts before its regressors).
void Standardise(std::vector<Row>& rows) {
  if (rows.empty()) return;
  for (size_t i = 0; i < rows[0].x.dense.size(); ++i) {
    double mean = 0, sq = 0;
    for (const auto& r : rows) mean += r.x.dense[i];
    mean /= static_cast<double>(rows.size());
    for (const auto& r : rows) sq += (r.x.dense[i] - mean) * (r.x.dense[i] - mean);
    const double sd = std::sqrt(sq / static_cast<double>(rows.size()));
    for (auto& r : rows) r.x.dense[i] = sd > 0 ? (r.x.dense[i] - mean) / sd : 0.0;
  }
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
  const bool regression = l.task() == learn::LearnerTask::kRegression;
  uint64_t correct = 0;
  double abs_error = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < events; ++i) {
    const Row& r = rows[i % rows.size()];
    l.predict(r.x, p);
    if (regression) {
      abs_error += std::abs(p.score - r.y);
    } else {
      correct += p.class_index == static_cast<int32_t>(r.y) ? 1 : 0;
    }
    l.learn(r.x, r.y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double quality = regression ? abs_error / static_cast<double>(events)
                                    : static_cast<double>(correct) / static_cast<double>(events);
  std::printf("%-42s %10.0f events/s  %7.1f ns/event  %s %.4f  memory %zu bytes\n", label,
              static_cast<double>(events) / seconds, 1e9 * seconds / static_cast<double>(events),
              regression ? "MAE     " : "accuracy", quality, l.memory_bytes());
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  if (!trees::RegisterTreeLearners().ok()) return 1;
  const auto rows = ReadRiverCsv("phishing.csv", 10, 9);
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
  Run("hoeffding_adaptive_tree (defaults)", "hoeffding_adaptive_tree", {}, rows, events);
  Run("hoeffding_adaptive_tree no bootstrap", "hoeffding_adaptive_tree", {{"bootstrap_sampling", "false"}}, rows,
      events);
  // The forest's goal: 10 trees at 10,000 events/s or more on these rows.
  Run("arf (10 trees, defaults)", "arf", {}, rows, events / 10);
  Run("arf (10 trees) leaf_prediction=mc", "arf", {{"leaf_prediction", "mc"}}, rows, events / 10);
  auto trump = ReadRiverCsv("trump_approval.csv", 7, 1);
  Standardise(trump);
  std::printf("regression: TrumpApproval's %zu rows repeated\n", trump.size());
  Run("linear (defaults)", "linear", {}, trump, events);
  Run("hoeffding_tree_regressor (defaults)", "hoeffding_tree_regressor", {}, trump, events);
  Run("hoeffding_tree_regressor mean leaves", "hoeffding_tree_regressor", {{"leaf_prediction", "mean"}}, trump, events);
  Run("hoeffding_adaptive_tree_regressor (defaults)", "hoeffding_adaptive_tree_regressor", {}, trump, events);
  Run("arf_regressor (10 trees, defaults)", "arf_regressor", {}, trump, events / 10);
  return 0;
}

// Events per second of the MLPs beside the linear model, on one core: one predict then one
// learn per event, as the pipeline does. Binary: River's Phishing (9 numeric features)
// repeated; regression: River's TrumpApproval (6 features, 1001 rows, one pass, MAE).
// Figures, not assertions.
//
//   neural_bench [events]

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neural/mlp_learners.hpp"

using namespace streamlearn;

namespace {

struct Row {
  FeatureVector x;
  double y = 0;
};

// Numeric CSV: every column but `target` (by position) a dense feature.
std::vector<Row> ReadCsv(const std::string& file, size_t target) {
  std::ifstream in(std::string(STREAMLEARN_RIVER_DATA) + "/" + file);
  std::string line;
  std::getline(in, line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    Row r;
    for (size_t c = 0; std::getline(cells, cell, ','); ++c) {
      const double v = std::stod(cell);
      if (c == target) {
        r.y = v;
      } else {
        r.x.dense.push_back(v);
        r.x.present.push_back(1);
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::unique_ptr<learn::Learner> Make(const char* label, std::string_view type, const learn::LearnerKeys& keys) {
  auto made = learn::MakeLearner(type, keys);
  if (!made.ok()) {
    std::fprintf(stderr, "%s: %s\n", label, made.status().message().c_str());
    std::exit(1);
  }
  return std::move(made).value();
}

void Classify(const char* label, std::string_view type, const learn::LearnerKeys& keys, const std::vector<Row>& rows,
              uint64_t events) {
  auto l = Make(label, type, keys);
  learn::Prediction p;
  uint64_t correct = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < events; ++i) {
    const Row& r = rows[i % rows.size()];
    l->predict(r.x, p);
    correct += p.class_index == static_cast<int32_t>(r.y) ? 1 : 0;
    l->learn(r.x, r.y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-40s %10.0f events/s  %8.1f ns/event  accuracy %.4f  memory %zu bytes\n", label,
              static_cast<double>(events) / seconds, 1e9 * seconds / static_cast<double>(events),
              static_cast<double>(correct) / static_cast<double>(events), l->memory_bytes());
}

void Regress(const char* label, std::string_view type, const learn::LearnerKeys& keys, const std::vector<Row>& rows) {
  auto l = Make(label, type, keys);
  learn::Prediction p;
  double abs_error = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const Row& r : rows) {
    l->predict(r.x, p);
    abs_error += std::abs(r.y - p.score);
    l->learn(r.x, r.y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto n = static_cast<double>(rows.size());
  std::printf("%-40s %10.0f events/s  %8.1f ns/event  MAE %.6f  guarded %llu\n", label, n / seconds,
              1e9 * seconds / n, abs_error / n, static_cast<unsigned long long>(l->guarded_updates()));
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  if (!neural::RegisterNeuralLearners().ok()) return 1;
  const auto phishing = ReadCsv("phishing.csv", 9);
  const auto trump = ReadCsv("trump_approval.csv", 1);
  if (phishing.empty() || trump.empty()) {
    std::fprintf(stderr, "no rows in phishing.csv or trump_approval.csv\n");
    return 1;
  }
  std::printf("binary: %llu events (Phishing's %zu rows repeated), predict + learn each, one core\n",
              static_cast<unsigned long long>(events), phishing.size());
  Classify("logistic (linear, defaults)", "logistic", {}, phishing, events);
  Classify("logistic adam", "logistic", {{"optimizer", "adam"}, {"learning_rate", "0.01"}}, phishing, events);
  Classify("mlp [5] sgd", "mlp", {{"hidden_dims", "[5]"}}, phishing, events);
  Classify("mlp [20] sgd (defaults)", "mlp", {}, phishing, events);
  Classify("mlp [20] adam", "mlp", {{"optimizer", "adam"}, {"learning_rate", "0.01"}}, phishing, events);
  Classify("mlp [64, 32] adam", "mlp", {{"hidden_dims", "[64, 32]"}, {"optimizer", "adam"}, {"learning_rate", "0.01"}},
           phishing, events);
  std::printf("regression: TrumpApproval's %zu rows, one pass (progressive MAE)\n", trump.size());
  Regress("linear (defaults)", "linear", {}, trump);
  Regress("mlp_regressor River docstring", "mlp_regressor",
          {{"hidden_dims", "[5]"}, {"output_activation", "relu"}, {"learning_rate", "1e-3"}}, trump);
  Regress("mlp_regressor [20] sgd 1e-3", "mlp_regressor", {{"learning_rate", "1e-3"}}, trump);
  Regress("mlp_regressor [20] sgd 0.01", "mlp_regressor", {}, trump);
  Regress("mlp_regressor [16] adam 0.01", "mlp_regressor", {{"hidden_dims", "[16]"}, {"optimizer", "adam"}}, trump);
  Regress("mlp_regressor [16] adam 0.1", "mlp_regressor",
          {{"hidden_dims", "[16]"}, {"optimizer", "adam"}, {"learning_rate", "0.1"}}, trump);
  return 0;
}

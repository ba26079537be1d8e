#pragma once
// River's streams as the neighbours tests and bench read them, River's StandardScaler, and
// progressive validation (test-then-train) as evaluate.progressive_val_score counts it.
// Catch-free, so the bench includes it too.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "streamlearn/learn/learner.hpp"

namespace streamlearn::testing {

struct RiverExample {
  FeatureVector x;
  double y = 0;
};

// A CSV of numbers under STREAMLEARN_RIVER_DATA: every column but `target` a dense feature,
// in file order (River's dicts keep the CSV's order).
inline std::vector<RiverExample> ReadRiverCsv(const std::string& file, const std::string& target) {
  std::ifstream in(std::string(STREAMLEARN_RIVER_DATA) + "/" + file);
  if (!in.good()) throw std::runtime_error("cannot read " + file);
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream names(line);
  while (std::getline(names, cell, ',')) {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    header.push_back(cell);
  }
  std::vector<RiverExample> out;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream cells(line);
    RiverExample e;
    for (size_t c = 0; std::getline(cells, cell, ','); ++c) {
      const double v = std::stod(cell);
      if (header.at(c) == target) {
        e.y = v;
      } else {
        e.x.dense.push_back(v);
        e.x.present.push_back(1);
      }
    }
    if (e.x.dense.size() + 1 != header.size()) throw std::runtime_error(file + ": no column " + target);
    out.push_back(std::move(e));
  }
  return out;
}

inline std::vector<RiverExample> PhishingStream() { return ReadRiverCsv("phishing.csv", "is_phishing"); }
inline std::vector<RiverExample> TrumpApprovalStream() {
  return ReadRiverCsv("trump_approval.csv", "five_thirty_eight");
}
inline std::vector<RiverExample> ChickWeightsStream() { return ReadRiverCsv("chick-weights.csv", "weight"); }

// River's preprocessing.StandardScaler: per feature a count, a running mean and a running
// population variance (Welford); transform gives (x - mean) / sqrt(var), 0 where var is 0.
class RiverStandardScaler {
 public:
  void learn(const FeatureVector& x) {
    if (x.dense.size() > mean_.size()) {
      count_.resize(x.dense.size(), 0);
      mean_.resize(x.dense.size(), 0);
      var_.resize(x.dense.size(), 0);
    }
    for (size_t i = 0; i < x.dense.size(); ++i) {
      if (!x.present[i]) continue;
      count_[i] += 1;
      const double old_mean = mean_[i];
      mean_[i] += (x.dense[i] - old_mean) / count_[i];
      var_[i] += ((x.dense[i] - old_mean) * (x.dense[i] - mean_[i]) - var_[i]) / count_[i];
    }
  }
  FeatureVector transform(const FeatureVector& x) const {
    FeatureVector out = x;
    for (size_t i = 0; i < x.dense.size(); ++i) {
      const double mean = i < mean_.size() ? mean_[i] : 0.0;
      const double sd = i < var_.size() ? std::pow(var_[i], 0.5) : 0.0;
      out.dense[i] = sd != 0 ? (x.dense[i] - mean) / sd : 0.0;
    }
    return out;
  }

 private:
  std::vector<double> count_, mean_, var_;
};

// `v` to `digits` decimals, as River's doctests print a metric.
inline double Rounded(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

// How the scaler meets the model in River's pipeline.
enum class Scaling {
  kNone,
  // River up to 0.x's Pipeline: predict_one updates the unsupervised scaler first, so the
  // event is scaled with statistics that include it, in predicting and in learning.
  kLearnThenTransform,
  // Later Pipelines: predict_one only transforms; learn_one updates the scaler and scales
  // the event with the updated statistics.
  kTransformThenLearn,
};

struct Progressive {
  uint64_t scored = 0;
  uint64_t correct = 0;
  double abs_error = 0;
  double squared_error = 0;
  double accuracy() const { return scored ? static_cast<double>(correct) / static_cast<double>(scored) : 0; }
  double mae() const { return scored ? abs_error / static_cast<double>(scored) : 0; }
  double rmse() const { return scored ? std::sqrt(squared_error / static_cast<double>(scored)) : 0; }
};

// Test-then-train over the stream. Classifiers are scored once they have learned something
// (River's first prediction is None, which progressive_val_score does not score); regressors
// from the first event (River's KNNRegressor answers 0.0 with an empty window).
inline Progressive RunProgressive(learn::Learner& l, const std::vector<RiverExample>& stream, Scaling scaling) {
  Progressive p;
  RiverStandardScaler scaler;
  learn::Prediction pred;
  const bool regression = l.task() == learn::LearnerTask::kRegression;
  for (const auto& e : stream) {
    FeatureVector x = e.x;
    if (scaling == Scaling::kLearnThenTransform) {
      scaler.learn(e.x);
      x = scaler.transform(e.x);
    } else if (scaling == Scaling::kTransformThenLearn) {
      x = scaler.transform(e.x);
    }
    if (regression || l.trained() > 0) {
      l.predict(x, pred);
      ++p.scored;
      if (regression) {
        p.abs_error += std::abs(e.y - pred.score);
        p.squared_error += (e.y - pred.score) * (e.y - pred.score);
      } else {
        p.correct += pred.class_index == static_cast<int32_t>(e.y) ? 1 : 0;
      }
    }
    if (scaling == Scaling::kTransformThenLearn) {
      scaler.learn(e.x);
      x = scaler.transform(e.x);
    }
    l.learn(x, e.y);
  }
  return p;
}

}  // namespace streamlearn::testing

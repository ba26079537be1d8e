#pragma once
// Scoring one served prediction against its label (test-then-train), shared by the
// Processor (its metrics and drift detector) and the offline evaluation (its own figures),
// so both count the same thing as right and wrong. Public because the offline lib
// (its evaluation) includes it too.

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "streamlearn/eval/metrics.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

// The probability the served prediction gave the true class `y`: a probabilistic binary
// learner's score (or its complement), a multiclass learner's probability of the class;
// NaN for regression, margins (hinge) and a class the model did not know yet.
inline double TrueClassProbability(Task task, bool scores_probability, double score,
                                   const std::vector<double>& probabilities, double y) {
  if (task == Task::kBinary && scores_probability) return y >= 0.5 ? score : 1 - score;
  if (task == Task::kMulticlass && y >= 0 && static_cast<size_t>(y) < probabilities.size()) {
    return probabilities[static_cast<size_t>(y)];
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// Scores one served prediction into the metrics of its task; returns the error the drift
// detector watches: 0/1 for classification, |prediction - y| for regression.
inline double ScorePrediction(Task task, eval::PrequentialClassifier& classification,
                              eval::PrequentialRegressor& regression, double score, int predicted,
                              double true_class_probability, double y) {
  switch (task) {
    case Task::kBinary:
      classification.update_binary(score, predicted, static_cast<int>(y));
      return predicted != static_cast<int>(y) ? 1.0 : 0.0;
    case Task::kMulticlass: {
      const size_t label = static_cast<size_t>(y);
      // Before any class is known the model predicts nothing: scored as a wrong guess.
      const size_t guess = predicted >= 0 ? static_cast<size_t>(predicted) : (label == 0 ? 1 : 0);
      (void)classification.update(label, guess, true_class_probability);
      return guess != label ? 1.0 : 0.0;
    }
    case Task::kRegression:
      (void)regression.update(score, y);
      return std::abs(score - y);
  }
  return 0;
}

}  // namespace streamlearn::pipeline

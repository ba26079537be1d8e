#pragma once
// What the tree tests share: River's Phishing stream as FeatureVectors, generated streams
// (numeric features dense, categorical ones hashed into sparse buckets), test-then-train.

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "learner_contract.hpp"
#include "streamlearn/eval/streams.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::testing {

inline void RegisterTrees() { REQUIRE(trees::RegisterTreeLearners().ok()); }

inline std::unique_ptr<learn::Learner> MakeTreeLearner(std::string_view type, const learn::LearnerKeys& keys = {}) {
  RegisterTrees();
  auto made = learn::MakeLearner(type, keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

inline const std::vector<std::string>& PhishingColumns() {
  static const std::vector<std::string> columns = {
      "empty_server_form_handler", "popup_window", "https",      "request_from_other_domain", "anchor_from_other_domain",
      "is_popular",                "long_url",     "age_of_domain", "ip_in_url"};
  return columns;
}

// tests/data/river/phishing.csv in stream order: 9 numeric features, is_phishing 0/1.
inline std::vector<LearnerExample> PhishingStream() {
  std::ifstream in(std::string(STREAMLEARN_TREES_DATA) + "/river/phishing.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);  // header
  std::vector<LearnerExample> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream cells(line);
    std::string cell;
    LearnerExample e;
    std::vector<double> values;
    while (std::getline(cells, cell, ',')) values.push_back(std::stod(cell));
    REQUIRE(values.size() == 10);
    e.x.dense.assign(values.begin(), values.begin() + 9);
    e.x.present.assign(9, 1);
    e.y = values[9];
    out.push_back(std::move(e));
  }
  return out;
}

// Test-then-train accuracy as River's progressive_val_score counts it: an event is scored
// only once the model has learned something (River's first prediction is None, not scored).
struct Progressive {
  uint64_t scored = 0;
  uint64_t correct = 0;
  double accuracy() const { return scored ? static_cast<double>(correct) / static_cast<double>(scored) : 0; }
};

inline Progressive TestThenTrain(learn::Learner& l, const std::vector<LearnerExample>& stream, size_t score_from = 0) {
  Progressive p;
  learn::Prediction pred;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (l.trained() > 0 && i >= score_from) {
      l.predict(stream[i].x, pred);
      ++p.scored;
      p.correct += pred.class_index == static_cast<int32_t>(stream[i].y) ? 1 : 0;
    }
    l.learn(stream[i].x, stream[i].y);
  }
  return p;
}

struct StepFigures {
  double accuracy = 0;
  double f1 = 0;  // positive class 1
};

// Test-then-train figures after every 25 events, as River's benchmark records them.
inline std::vector<StepFigures> EveryTwentyFive(learn::Learner& l, const std::vector<LearnerExample>& stream) {
  std::vector<StepFigures> out;
  uint64_t scored = 0, correct = 0, tp = 0, fp = 0, fn = 0;
  learn::Prediction pred;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (l.trained() > 0) {
      l.predict(stream[i].x, pred);
      const int y = static_cast<int>(stream[i].y);
      ++scored;
      correct += pred.class_index == y ? 1 : 0;
      tp += pred.class_index == 1 && y == 1 ? 1 : 0;
      fp += pred.class_index == 1 && y == 0 ? 1 : 0;
      fn += pred.class_index == 0 && y == 1 ? 1 : 0;
    }
    l.learn(stream[i].x, stream[i].y);
    if ((i + 1) % 25 == 0) {
      const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
      const double recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
      out.push_back({static_cast<double>(correct) / static_cast<double>(scored),
                     2 * precision * recall / (precision + recall)});
    }
  }
  return out;
}

inline uint32_t Bucket(const std::string& name, const std::string& value, uint32_t buckets) {
  uint64_t h = 1469598103934665603ull;
  for (char c : name + "=" + value) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<uint32_t>(h % buckets);
}

// A generated stream: numeric features dense in their order, categorical ones one-hot in
// 1024 hashed buckets, binary labels; with concepts > 1 the concept changes abruptly at
// change_at (empty: evenly spaced, eval's default).
inline std::vector<LearnerExample> GeneratedStream(std::string_view name, uint64_t events, uint64_t seed,
                                                   size_t concepts = 1, std::vector<uint64_t> change_at = {}) {
  eval::StreamOptions options;
  options.events = events;
  options.seed = seed;
  options.concepts = concepts;
  options.change_at = std::move(change_at);
  auto gen = eval::MakeStream(name, options);
  REQUIRE(gen.ok());
  std::vector<LearnerExample> out;
  eval::GeneratedEvent event;
  while ((*gen)->next(&event)) {
    LearnerExample e;
    for (const auto& f : event.numeric) {
      e.x.dense.push_back(f.missing ? 0.0 : f.value);
      e.x.present.push_back(f.missing ? 0 : 1);
    }
    for (const auto& c : event.categorical) {
      e.x.sparse_index.push_back(Bucket(c.name, c.value, 1024));
      e.x.sparse_value.push_back(1.0f);
    }
    e.y = event.label.value;
    out.push_back(std::move(e));
  }
  return out;
}

// A describe() record with features named after Phishing's columns (or f<i>).
inline std::string Described(const learn::Learner& l) {
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  l.describe(w, [](size_t i) { return i < PhishingColumns().size() ? PhishingColumns()[i] : "f" + std::to_string(i); },
             5);
  w.end_object();
  return out;
}

}  // namespace streamlearn::testing

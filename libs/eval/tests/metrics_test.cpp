#include <catch2/catch.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "streamlearn/eval/metrics.hpp"
#include "streamlearn/eval/prequential.hpp"

using namespace streamlearn;
using namespace streamlearn::eval;

namespace {

double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double Gaussian(std::mt19937_64& rng) {
  const double u1 = 1 - Uniform(rng), u2 = Uniform(rng);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * 3.141592653589793 * u2);
}

template <typename M>
std::string Save(const M& m) {
  std::string bytes;
  ByteWriter w(&bytes);
  m.save(w);
  return bytes;
}

// The five events of prequential_test.cpp's hand example: (P(1), predicted, label).
void FeedHandExample(PrequentialClassifier& m) {
  m.update_binary(0.9, 1, 1);
  m.update_binary(0.2, 0, 0);
  m.update_binary(0.6, 1, 0);
  m.update_binary(0.3, 0, 1);
  m.update_binary(0.8, 1, 1);
}

bool IsNull(simdjson::dom::element e) { return e.is_null(); }

}  // namespace

TEST_CASE("classifier metrics match a hand-computed binary example", "[eval][metrics]") {
  PrequentialClassifier m(ClassifierMetricsOptions{3, 1000, 16});
  FeedHandExample(m);
  const ClassificationFigures f = m.figures();
  CHECK(f.classes == 2);
  CHECK(f.binary);
  CHECK(f.cumulative.events == 5);
  CHECK(f.cumulative.accuracy == Approx(3.0 / 5));
  // Class 1: predicted 3 times, 2 right, 3 positives.
  CHECK(f.cumulative.precision == Approx(2.0 / 3));
  CHECK(f.cumulative.recall == Approx(2.0 / 3));
  CHECK(f.cumulative.f1 == Approx(2.0 / 3));
  // Class 0: P = R = F1 = 1/2; macro = the mean of both classes.
  CHECK(f.cumulative.macro_precision == Approx((0.5 + 2.0 / 3) / 2));
  CHECK(f.cumulative.macro_f1 == Approx((0.5 + 2.0 / 3) / 2));
  CHECK(f.cumulative.confusion == std::vector<uint64_t>{1, 1, 1, 2});
  CHECK(f.cumulative.log_loss ==
        Approx((0.1053605157 + 0.2231435513 + 0.9162907319 + 1.2039728043 + 0.2231435513) / 5));
  // Positives .9 .3 .8, negatives .2 .6: 5 of 6 pairs ordered.
  CHECK(f.cumulative.roc_auc == Approx(5.0 / 6));
  CHECK(m.auc_error_bound() == 0);
  // Last three: (0.6, 1, 0) (0.3, 0, 1) (0.8, 1, 1).
  CHECK(f.rolling.events == 3);
  CHECK(f.rolling.accuracy == Approx(1.0 / 3));
  CHECK(f.rolling.confusion == std::vector<uint64_t>{0, 1, 1, 1});
  CHECK(f.rolling.roc_auc == Approx(0.5));  // .3 < .6 < .8
  CHECK(f.rolling.log_loss == Approx((0.9162907319 + 1.2039728043 + 0.2231435513) / 3));
  // Majority class predicts 0, 1, 0, 0, 0 (ties to the smaller index): 1 of 5, never
  // right about class 1. No-change predicts 0, 1, 0, 0, 1: 2 of 5; F1(1) = 2·1/(2+3).
  CHECK(f.majority_class.accuracy == Approx(1.0 / 5));
  CHECK(f.majority_class.f1 == 0);
  CHECK(f.no_change.accuracy == Approx(2.0 / 5));
  CHECK(f.no_change.f1 == Approx(0.4));
  CHECK(f.no_change.rolling_accuracy == Approx(2.0 / 3));  // predicted 0, 0, 1 for labels 0, 1, 1
  CHECK(f.majority_class.rolling_accuracy == Approx(1.0 / 3));  // predicted 0, 0, 0

  // The same figures as the binary metrics the pipeline already uses.
  PrequentialBinary binary(3);
  binary.update(0.9, 1, 1);
  binary.update(0.2, 0, 0);
  binary.update(0.6, 1, 0);
  binary.update(0.3, 0, 1);
  binary.update(0.8, 1, 1);
  CHECK(m.accuracy() == binary.accuracy());
  CHECK(m.rolling_accuracy() == binary.rolling_accuracy());
  CHECK(m.log_loss() == Approx(binary.log_loss()).epsilon(1e-12));
  CHECK(m.majority_baseline_accuracy() == binary.majority_baseline_accuracy());
}

TEST_CASE("classifier metrics: multiclass macro figures and a growing class count", "[eval][metrics]") {
  PrequentialClassifier m;
  // (label, predicted): class 2 first appears as a prediction, so the matrix grows twice.
  const std::pair<size_t, size_t> events[] = {{0, 0}, {1, 2}, {2, 2}, {2, 1}, {1, 1}, {0, 2}};
  for (const auto& [label, predicted] : events) REQUIRE(m.update(label, predicted, 0.5).ok());
  const ClassificationFigures f = m.figures();
  CHECK(f.classes == 3);
  CHECK_FALSE(f.binary);
  CHECK(f.cumulative.accuracy == Approx(0.5));
  CHECK(f.cumulative.confusion == std::vector<uint64_t>{1, 0, 1, 0, 1, 1, 0, 1, 1});
  // Per class (P, R, F1): 0 (1, 1/2, 2/3), 1 (1/2, 1/2, 1/2), 2 (1/3, 1/2, 2/5) —
  // scikit-learn's precision/recall/f1_score(average="macro") give these means.
  CHECK(f.cumulative.macro_precision == Approx((1 + 0.5 + 1.0 / 3) / 3));
  CHECK(f.cumulative.macro_recall == Approx(0.5));
  CHECK(f.cumulative.macro_f1 == Approx((2.0 / 3 + 0.5 + 0.4) / 3));
  CHECK(f.cumulative.precision == f.cumulative.macro_precision);  // multiclass: macro
  CHECK(f.cumulative.f1 == f.cumulative.macro_f1);
  CHECK(f.cumulative.log_loss == Approx(std::log(2.0)));
  CHECK(std::isnan(f.cumulative.roc_auc));  // not binary
  // Majority predicts 0 (nothing seen), 0, 0 (tie 0/1), 0 (tie 0/1/2), 2, then 1 (tie
  // 1/2 at two each): right on the first event only.
  CHECK(f.majority_class.accuracy == Approx(1.0 / 6));
  // No-change predicts 0, 0, 1, 2, 2, 1: right on event 1 and event 4.
  CHECK(f.no_change.accuracy == Approx(2.0 / 6));

  // A NaN probability is scored as 1/K (K = 3 now).
  PrequentialClassifier nan;
  REQUIRE(nan.update(2, 0, kNoScore).ok());
  CHECK(nan.log_loss() == Approx(std::log(3.0)));
  // Out-of-range classes are refused and not counted.
  PrequentialClassifier small(ClassifierMetricsOptions{10, 10, 4});
  CHECK(small.update(4, 0, 0.5).code() == ErrorCode::kInvalidArgument);
  CHECK(small.update(0, 7, 0.5).message().find("max_classes") != std::string::npos);
  CHECK(small.count() == 0);
  CHECK(small.update(3, 0, 0.5).ok());
}

TEST_CASE("classifier metrics before any event are undefined, not zero", "[eval][metrics]") {
  PrequentialClassifier m;
  const ClassificationFigures f = m.figures();
  CHECK(f.classes == 0);
  CHECK(std::isnan(f.cumulative.accuracy));
  CHECK(std::isnan(f.cumulative.f1));
  CHECK(std::isnan(f.rolling.log_loss));
  CHECK(std::isnan(f.cumulative.roc_auc));
  CHECK(std::isnan(f.majority_class.accuracy));
  // One class only: the AUC stays undefined, precision of an unseen class is 0.
  m.update_binary(0.3, 0, 0);
  CHECK(std::isnan(m.roc_auc()));
  CHECK(m.figures().cumulative.precision == 0);
}

TEST_CASE("the histogram ROC AUC is River's ROCAUC with n_thresholds = bins + 1", "[eval][metrics]") {
  // River's docstring: y_true 0 0 1 1, y_pred .1 .4 .35 .8 → 0.875 with the default 10
  // thresholds, 0.75 (the exact figure) with 20.
  const double scores[] = {0.1, 0.4, 0.35, 0.8};
  const int labels[] = {0, 0, 1, 1};
  for (const auto& [bins, expected] : {std::pair<size_t, double>{9, 0.875}, {19, 0.75}}) {
    PrequentialClassifier m(ClassifierMetricsOptions{100, bins, 2});
    for (int i = 0; i < 4; ++i) m.update_binary(scores[i], scores[i] >= 0.5, labels[i]);
    CHECK(m.roc_auc() == Approx(expected));
  }
  CHECK(ExactRocAuc({{0.1, false}, {0.4, false}, {0.35, true}, {0.8, true}}) == Approx(0.75));
  CHECK(ExactRocAuc({{0.5, false}, {0.5, true}}) == Approx(0.5));  // a tie counts one half
  CHECK(std::isnan(ExactRocAuc({{0.5, true}})));
}

TEST_CASE("a score on a bin's upper edge falls in that bin, as River's score > i/B", "[eval][metrics]") {
  // 4 bins: (0, .25], (.25, .5], (.5, .75], (.75, 1]; 0 joins the first.
  const auto auc = [](double positive, double negative) {
    PrequentialClassifier m(ClassifierMetricsOptions{100, 4, 2});
    m.update_binary(positive, 1, 1);
    m.update_binary(negative, 0, 0);
    return m.roc_auc();
  };
  CHECK(auc(0.5, std::nextafter(0.5, 1.0)) == 0);     // bins 1 and 2
  CHECK(auc(0.5, 0.25) == 1);                         // bins 1 and 0
  CHECK(auc(0.5, std::nextafter(0.25, 1.0)) == 0.5);  // both in bin 1
  CHECK(auc(1.0, std::nextafter(0.75, 1.0)) == 0.5);  // both in bin 3
  CHECK(auc(0.75, std::nextafter(0.75, 1.0)) == 0);   // bins 2 and 3
  CHECK(auc(1e-300, 0.0) == 0.5);                     // both in bin 0
  CHECK(auc(0.25, 1e-300) == 0.5);                    // both in bin 0
}

TEST_CASE("the histogram ROC AUC stays within its error bound of the exact sort-based AUC", "[eval][metrics]") {
  std::mt19937_64 rng(7);
  PrequentialClassifier m;  // 1000 bins
  PrequentialClassifier coarse(ClassifierMetricsOptions{1000, 20, 2});
  std::vector<std::pair<double, bool>> all;
  for (int i = 0; i < 50'000; ++i) {
    const bool positive = Uniform(rng) < 0.3;
    const double score = 1 / (1 + std::exp(-(positive ? 0.8 : -0.8) - 1.2 * Gaussian(rng)));
    m.update_binary(score, score >= 0.5, positive);
    coarse.update_binary(score, score >= 0.5, positive);
    all.emplace_back(score, positive);
  }
  const double exact = ExactRocAuc(all);
  std::printf("ROC AUC on 50k events: exact %.6f, 1000 bins %.6f (bound %.2e), 20 bins %.6f (bound %.2e)\n",
              exact, m.roc_auc(), m.auc_error_bound(), coarse.roc_auc(), coarse.auc_error_bound());
  CHECK(std::abs(m.roc_auc() - exact) <= m.auc_error_bound() + 1e-12);
  CHECK(std::abs(m.roc_auc() - exact) < 1e-3);
  CHECK(std::abs(coarse.roc_auc() - exact) <= coarse.auc_error_bound() + 1e-12);
  // The rolling AUC is exact over the window.
  const std::vector<std::pair<double, bool>> last(all.end() - 1000, all.end());
  CHECK(m.rolling_roc_auc() == ExactRocAuc(last));
}

TEST_CASE("rolling classifier figures equal a recomputation over the last events", "[eval][metrics]") {
  constexpr size_t kWindow = 37;
  std::mt19937_64 rng(11);
  PrequentialClassifier m(ClassifierMetricsOptions{kWindow, 100, 16});
  struct Seen {
    size_t label, predicted, majority, no_change;
    double p;
  };
  std::deque<Seen> recent;
  std::vector<uint64_t> label_counts;
  size_t previous = 0;
  bool has_previous = false;
  for (int i = 0; i < 2000; ++i) {
    // Four classes, the fourth only after event 500, so K grows mid-stream.
    const size_t k = i < 500 ? 3 : 4;
    const size_t label = Uniform(rng) < 0.5 ? 0 : 1 + static_cast<size_t>(Uniform(rng) * static_cast<double>(k - 1));
    const size_t predicted = Uniform(rng) < 0.6 ? label : static_cast<size_t>(Uniform(rng) * static_cast<double>(k));
    const double p = 0.05 + 0.9 * Uniform(rng);
    // The baselines as their definitions say, computed here independently.
    size_t majority = 0;
    for (size_t c = 0; c < label_counts.size(); ++c) {
      if (label_counts[c] > label_counts[majority]) majority = c;
    }
    recent.push_back({label, predicted, majority, has_previous ? previous : 0, p});
    if (recent.size() > kWindow) recent.pop_front();
    if (label_counts.size() <= label) label_counts.resize(label + 1, 0);
    ++label_counts[label];
    previous = label;
    has_previous = true;
    REQUIRE(m.update(label, predicted, p).ok());

    if (i % 97 != 0 && i != 1999) continue;
    const ClassificationFigures f = m.figures();
    const size_t classes = f.classes;
    std::vector<uint64_t> confusion(classes * classes, 0);
    double loss = 0;
    uint64_t right = 0, majority_right = 0, no_change_right = 0;
    for (const Seen& s : recent) {
      ++confusion[s.label * classes + s.predicted];
      loss -= std::log(s.p);
      right += s.label == s.predicted;
      majority_right += s.label == s.majority;
      no_change_right += s.label == s.no_change;
    }
    double f1_sum = 0;
    size_t present = 0;
    for (size_t c = 0; c < classes; ++c) {
      uint64_t row = 0, column = 0;
      for (size_t j = 0; j < classes; ++j) {
        row += confusion[c * classes + j];
        column += confusion[j * classes + c];
      }
      if (row + column == 0) continue;
      ++present;
      f1_sum += 2.0 * static_cast<double>(confusion[c * classes + c]) / static_cast<double>(row + column);
    }
    const double n = static_cast<double>(recent.size());
    INFO("event " << i);
    REQUIRE(f.rolling.confusion == confusion);
    REQUIRE(f.rolling.accuracy == Approx(static_cast<double>(right) / n));
    REQUIRE(f.rolling.macro_f1 == Approx(f1_sum / static_cast<double>(present)));
    REQUIRE(f.rolling.log_loss == Approx(loss / n));
    REQUIRE(f.majority_class.rolling_accuracy == Approx(static_cast<double>(majority_right) / n));
    REQUIRE(f.no_change.rolling_accuracy == Approx(static_cast<double>(no_change_right) / n));
  }
}

TEST_CASE("classifier metrics survive save and load bit-exactly", "[eval][metrics]") {
  std::mt19937_64 rng(3);
  PrequentialClassifier m(ClassifierMetricsOptions{50, 64, 8});
  for (int i = 0; i < 300; ++i) {
    const size_t label = static_cast<size_t>(Uniform(rng) * (i < 100 ? 2 : 3));
    REQUIRE(m.update(label, static_cast<size_t>(Uniform(rng) * 3), Uniform(rng), label <= 1 ? Uniform(rng) : kNoScore)
                .ok());
  }
  const std::string bytes = Save(m);
  const double saved_accuracy = m.accuracy();
  PrequentialClassifier restored(ClassifierMetricsOptions{50, 1000, 8});  // the saved 64 bins win
  ByteReader reader(bytes);
  REQUIRE(restored.load(reader).ok());
  CHECK(reader.at_end());
  CHECK(Save(restored) == bytes);
  std::string a, b;
  AppendClassificationJson(a, m.figures());
  AppendClassificationJson(b, restored.figures());
  CHECK(a == b);
  // Both continue the same way: baselines, ring position and histogram came back too.
  for (int i = 0; i < 80; ++i) {
    const size_t label = static_cast<size_t>(Uniform(rng) * 3);
    const double p = Uniform(rng);
    REQUIRE(m.update(label, 1, p, 0.3).ok());
    REQUIRE(restored.update(label, 1, p, 0.3).ok());
  }
  CHECK(Save(restored) == Save(m));

  // A smaller configured window keeps the newest events.
  PrequentialClassifier narrow(ClassifierMetricsOptions{5, 64, 8});
  ByteReader again(bytes);
  REQUIRE(narrow.load(again).ok());
  CHECK(narrow.figures().rolling.events == 5);
  CHECK(narrow.accuracy() == saved_accuracy);
  CHECK(narrow.count() == 300);
}

TEST_CASE("corrupt classifier snapshots are refused and change nothing", "[eval][metrics]") {
  PrequentialClassifier m(ClassifierMetricsOptions{3, 4, 4});
  FeedHandExample(m);
  const std::string bytes = Save(m);
  PrequentialClassifier target(ClassifierMetricsOptions{3, 4, 4});
  target.update_binary(0.7, 1, 1);
  const std::string before = Save(target);
  for (size_t len = 0; len < bytes.size(); ++len) {
    ByteReader reader(std::string_view(bytes).substr(0, len));
    REQUIRE_FALSE(target.load(reader).ok());
  }
  const auto patched = [&](size_t offset, uint64_t value) {
    std::string p = bytes;
    std::memcpy(p.data() + offset, &value, sizeof value);
    ByteReader reader(p);
    return target.load(reader);
  };
  // Header: magic 0, version 4, classes 8, events 16, log loss 24, has_previous 32,
  // previous 33, confusion from 37.
  CHECK(patched(8, 9).code() == ErrorCode::kCorruption);   // above max_classes
  CHECK(patched(16, 6).code() == ErrorCode::kCorruption);  // matrix does not add up
  CHECK(patched(37, 2).code() == ErrorCode::kCorruption);  // nor here
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  ByteReader magic_reader(bad_magic);
  CHECK(target.load(magic_reader).message().find("not classifier metrics") != std::string::npos);
  CHECK(Save(target) == before);
}

TEST_CASE("regression metrics match a hand-computed example", "[eval][metrics]") {
  PrequentialRegressor m(RegressorMetricsOptions{2});
  // (prediction, target)
  REQUIRE(m.update(1, 2).ok());
  REQUIRE(m.update(3, 3).ok());
  REQUIRE(m.update(2, 5).ok());
  REQUIRE(m.update(4, 4).ok());
  const RegressionFigures f = m.figures();
  // Errors -1, 0, -3, 0.
  CHECK(f.cumulative.mae == Approx(1.0));
  CHECK(f.cumulative.rmse == Approx(std::sqrt(10.0 / 4)));
  // Targets 2 3 5 4: mean 3.5, Σ(y - mean)² = 5; R² = 1 - 10/5.
  CHECK(f.cumulative.r2 == Approx(-1.0));
  CHECK(m.r2() == Approx(-1.0));
  // Window (2, 5) and (4, 4): errors -3, 0; targets mean 4.5, Σ = 0.5.
  CHECK(f.rolling.events == 2);
  CHECK(f.rolling.mae == Approx(1.5));
  CHECK(f.rolling.rmse == Approx(std::sqrt(4.5)));
  CHECK(f.rolling.r2 == Approx(1 - 9 / 0.5));
  // Mean baseline predicts 0, 2, 2.5, 10/3: errors 2, 1, 2.5, 2/3.
  CHECK(f.mean.mae == Approx((2 + 1 + 2.5 + 2.0 / 3) / 4));
  CHECK(f.mean.rmse == Approx(std::sqrt((4 + 1 + 6.25 + 4.0 / 9) / 4)));
  CHECK(f.mean.rolling_mae == Approx((2.5 + 2.0 / 3) / 2));
  // No-change predicts 0, 2, 3, 5: errors 2, 1, 2, 1.
  CHECK(f.no_change.mae == Approx(1.5));
  CHECK(f.no_change.rmse == Approx(std::sqrt(10.0 / 4)));
  CHECK(f.no_change.rolling_rmse == Approx(std::sqrt(2.5)));

  CHECK(m.update(std::numeric_limits<double>::infinity(), 1).code() == ErrorCode::kInvalidArgument);
  CHECK(m.update(1, std::numeric_limits<double>::quiet_NaN()).code() == ErrorCode::kInvalidArgument);
  CHECK(m.count() == 4);

  PrequentialRegressor empty;
  CHECK(std::isnan(empty.figures().cumulative.mae));
  REQUIRE(empty.update(1, 1).ok());
  CHECK(std::isnan(empty.r2()));  // one target: no variance to explain
}

TEST_CASE("regression metrics survive save and load bit-exactly", "[eval][metrics]") {
  std::mt19937_64 rng(5);
  PrequentialRegressor m(RegressorMetricsOptions{20});
  for (int i = 0; i < 100; ++i) REQUIRE(m.update(Gaussian(rng), 3 + Gaussian(rng)).ok());
  const std::string bytes = Save(m);
  PrequentialRegressor restored(RegressorMetricsOptions{20});
  ByteReader reader(bytes);
  REQUIRE(restored.load(reader).ok());
  CHECK(reader.at_end());
  CHECK(Save(restored) == bytes);
  for (int i = 0; i < 30; ++i) {
    const double p = Gaussian(rng), y = Gaussian(rng);
    REQUIRE(m.update(p, y).ok());
    REQUIRE(restored.update(p, y).ok());
  }
  CHECK(Save(restored) == Save(m));
  std::string a, b;
  AppendRegressionJson(a, m.figures());
  AppendRegressionJson(b, restored.figures());
  CHECK(a == b);

  PrequentialRegressor target;
  const std::string before = Save(target);
  for (size_t len = 0; len < bytes.size(); ++len) {
    ByteReader truncated(std::string_view(bytes).substr(0, len));
    REQUIRE_FALSE(target.load(truncated).ok());
  }
  std::string nan_sum = bytes;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(nan_sum.data() + 16, &nan, sizeof nan);  // abs_sum
  ByteReader nan_reader(nan_sum);
  CHECK(target.load(nan_reader).code() == ErrorCode::kCorruption);
  CHECK(Save(target) == before);
}

TEST_CASE("figures print as JSON that parses, with null for undefined values", "[eval][metrics]") {
  PrequentialClassifier m;
  FeedHandExample(m);
  ClassificationFigures f = m.figures();
  f.class_names = {"no", "yes"};
  std::string json;
  AppendClassificationJson(json, f);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  CHECK(uint64_t(doc["events"]) == 5);
  CHECK(uint64_t(doc["classes"]) == 2);
  CHECK(bool(doc["binary"]));
  CHECK(double(doc["accuracy"]) == f.cumulative.accuracy);  // full precision
  CHECK(double(doc["roc_auc"]) == f.cumulative.roc_auc);
  CHECK(uint64_t(doc["confusion_matrix"].at(1).at(1)) == 2);
  CHECK(std::string_view(doc["class_names"].at(1)) == "yes");
  CHECK(uint64_t(doc["rolling"]["window"]) == 1000);
  CHECK(double(doc["rolling"]["log_loss"]) == f.rolling.log_loss);
  CHECK(double(doc["baselines"]["no_change"]["accuracy"]) == Approx(0.4));
  CHECK(double(doc["baselines"]["majority_class"]["rolling_accuracy"]) == Approx(0.2));

  std::string empty;
  AppendClassificationJson(empty, PrequentialClassifier().figures());
  REQUIRE(parser.parse(empty).get(doc) == simdjson::SUCCESS);
  CHECK(IsNull(doc["accuracy"]));
  CHECK(IsNull(doc["rolling"]["roc_auc"]));
  CHECK(empty.find("nan") == std::string::npos);

  PrequentialRegressor r;
  REQUIRE(r.update(1, 2).ok());
  std::string regression;
  AppendRegressionJson(regression, r.figures());
  REQUIRE(parser.parse(regression).get(doc) == simdjson::SUCCESS);
  CHECK(double(doc["mae"]) == 1);
  CHECK(IsNull(doc["r2"]));
  CHECK(double(doc["baselines"]["mean"]["mae"]) == 2);
  CHECK(uint64_t(doc["rolling"]["events"]) == 1);
  std::printf("classification figures JSON: %s\nregression figures JSON: %s\n", json.c_str(), regression.c_str());
}

#pragma once
// Prequential (test-then-train) metrics of classifiers and regressors, each cumulative and
// over a rolling window of the last events, with the baselines a model has to beat beside
// them: on autocorrelated streams "predict the previous label" is often hard to beat.
//
// Every update measures the model on an event it had not learned yet, so the caller
// predicts, updates these metrics, then learns. Memory is constant apart from the window
// (and the class count of a classifier): running sums, a score histogram for the ROC AUC
// and a ring buffer of the last events, from which the rolling figures that cannot be
// kept incrementally (log loss, ROC AUC, R²) are computed exactly when asked for.
//
// Undefined figures are NaN (the JSON writers print null): any figure before the first
// event, ROC AUC while only one class has been seen or when there are more than two
// classes, R² while every target was equal. A precision, recall or F1 whose denominator is
// zero is 0, as in scikit-learn and River.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::eval {

inline constexpr double kNoScore = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------
// Classification

struct ClassifierMetricsOptions {
  size_t rolling_window = 1000;  // events; 0 is read as 1
  // Resolution of the cumulative ROC AUC (see PrequentialClassifier::roc_auc); 0 read as 1.
  size_t auc_bins = 1000;
  // Class indices at or above this are refused: the confusion matrix is classes².
  // Read as at least 2 and at most 65536.
  size_t max_classes = 1024;
};

// Figures of one predictor over a set of events (all so far, or the rolling window).
struct ClassificationScores {
  uint64_t events = 0;
  double accuracy = kNoScore;
  // Of class 1 when the task is binary (at most two classes seen), else macro-averaged.
  double precision = kNoScore;
  double recall = kNoScore;
  double f1 = kNoScore;
  // Unweighted means over the classes that occurred as a label or a prediction in these
  // events (River's and scikit-learn's macro average over the present classes).
  double macro_precision = kNoScore;
  double macro_recall = kNoScore;
  double macro_f1 = kNoScore;
  double log_loss = kNoScore;  // mean of -ln(probability given to the true class)
  double roc_auc = kNoScore;   // binary only
  // classes × classes, row-major: confusion[true * classes + predicted].
  std::vector<uint64_t> confusion;
};

// A baseline predictor, scored test-then-train on the same events as the model.
struct BaselineScores {
  double accuracy = kNoScore;
  double f1 = kNoScore;  // class 1 when binary, else macro, as ClassificationScores::f1
  double rolling_accuracy = kNoScore;
  double rolling_f1 = kNoScore;
};

// A plain snapshot of a PrequentialClassifier, for printing (AppendClassificationJson).
struct ClassificationFigures {
  size_t classes = 0;  // 1 + the largest class index seen as a label or a prediction
  bool binary = true;  // classes <= 2
  size_t rolling_window = 0;
  ClassificationScores cumulative;
  ClassificationScores rolling;  // over the last min(events, rolling_window) events
  BaselineScores majority_class;  // predicts the most frequent label so far
  BaselineScores no_change;       // predicts the previous label
  // Optional, filled by the caller (the classifier only knows indices): printed as
  // "class_names" when it has exactly `classes` entries.
  std::vector<std::string> class_names;
};

// Binary and multiclass classification with class indices 0..K-1; K grows as larger
// indices appear. For binary tasks class 1 is the positive class.
class PrequentialClassifier {
 public:
  explicit PrequentialClassifier(ClassifierMetricsOptions options = {});

  // One scored event. `true_class_probability`: the probability the model gave to
  // `label` (NaN = no information, scored as 1/max(K, 2)); clipped to [1e-15, 1 - 1e-15]
  // for the log loss. `positive_score`: the model's P(class 1), for the ROC AUC of binary
  // tasks; NaN (the default) leaves this event out of both AUCs, and so does a label
  // above 1. A class index >= max_classes is refused (InvalidArgument) and nothing is
  // counted.
  Status update(size_t label, size_t predicted, double true_class_probability,
                double positive_score = kNoScore);
  // Binary shorthand, as PrequentialBinary::update: score = P(label = 1) (NaN read as
  // 0.5), predicted and label 0 or 1 (non-zero counts as 1).
  void update_binary(double score, int predicted, int label);

  uint64_t count() const { return events_; }
  size_t classes() const { return classes_; }
  double accuracy() const;
  double rolling_accuracy() const;
  double log_loss() const;
  // Cumulative ROC AUC from a histogram of the positive scores in `auc_bins` equal bins
  // over [0, 1]: bin i holds scores in (i/B, (i+1)/B] (bin 0 also holds 0; scores are
  // clamped to [0, 1]). Pairs in different bins are ordered exactly; a positive and a
  // negative in the same bin count 1/2, as tied scores do. This is River's ROCAUC with
  // n_thresholds = auc_bins + 1 (the trapezoids between thresholds are these half
  // counts), so the error is at most half the share of positive-negative pairs that share
  // a bin, which auc_error_bound() reports; with the default 1000 bins and spread-out
  // scores it is below 1e-3.
  double roc_auc() const;
  double auc_error_bound() const;
  // Exact, over the window's events that had a positive score (sorted on demand).
  double rolling_roc_auc() const;
  double majority_baseline_accuracy() const;
  double no_change_baseline_accuracy() const;
  ClassificationFigures figures() const;
  const ClassifierMetricsOptions& options() const { return options_; }

  // Bit-exact: save(load(save(x))) == save(x). The window keeps this object's size (the
  // newest saved events that fit), the AUC histogram its saved resolution. Corrupt bytes
  // give Corruption and leave this object unchanged.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  // Per-class counts of one predictor: enough for accuracy, precision, recall and F1.
  struct Tally {
    uint64_t events = 0;
    uint64_t correct = 0;
    std::vector<uint64_t> labelled;   // per class: events whose label it was
    std::vector<uint64_t> predicted;  // per class: events it was predicted for
    std::vector<uint64_t> hits;       // per class: predicted and right
    void resize(size_t classes);
    void add(size_t label, size_t prediction);
    void remove(size_t label, size_t prediction);
    BaselineScores baseline(bool binary) const;  // accuracy and f1 only
    void fill(bool binary, ClassificationScores* scores) const;
  };
  struct Slot {  // one event of the rolling window
    uint32_t label, predicted, majority, no_change;
    double true_class_probability;  // as clipped for the log loss
    double positive_score;          // NaN when not given or label > 1
  };

  void grow(size_t classes);
  // update()'s work once the classes are known to be below max_classes.
  void add_event(size_t label, size_t predicted, double true_class_probability, double positive_score);
  void rebuild_window_tallies();
  size_t oldest_slot() const;

  ClassifierMetricsOptions options_;
  size_t classes_ = 0;
  uint64_t events_ = 0;
  double log_loss_sum_ = 0;
  bool has_previous_ = false;
  uint32_t previous_label_ = 0;
  uint32_t majority_ = 0;
  std::vector<uint64_t> confusion_;  // classes_², row = label
  Tally model_, majority_tally_, no_change_tally_;
  std::vector<uint64_t> auc_positive_, auc_negative_;  // per score bin

  std::vector<Slot> window_;
  size_t window_next_ = 0;
  size_t window_filled_ = 0;
  std::vector<uint64_t> window_confusion_;
  Tally window_model_, window_majority_, window_no_change_;
};

// The exact ROC AUC of (score, is_positive) pairs, ties counted 1/2 (the Mann-Whitney U
// statistic over positives × negatives). NaN when either class is absent.
double ExactRocAuc(std::vector<std::pair<double, bool>> scored);

// ---------------------------------------------------------------------------------------
// Regression

struct RegressorMetricsOptions {
  size_t rolling_window = 1000;  // events; 0 is read as 1
};

struct RegressionScores {
  uint64_t events = 0;
  double mae = kNoScore;
  double rmse = kNoScore;
  double r2 = kNoScore;  // 1 - SSE / Σ(y - mean y)², over the same events
};

struct RegressionBaselineScores {
  double mae = kNoScore;
  double rmse = kNoScore;
  double rolling_mae = kNoScore;
  double rolling_rmse = kNoScore;
};

struct RegressionFigures {
  size_t rolling_window = 0;
  RegressionScores cumulative;
  RegressionScores rolling;
  RegressionBaselineScores mean;       // predicts the mean of the targets so far (0 at first)
  RegressionBaselineScores no_change;  // predicts the previous target (0 at first)
};

class PrequentialRegressor {
 public:
  explicit PrequentialRegressor(RegressorMetricsOptions options = {});

  // A non-finite prediction or target is refused (InvalidArgument) and nothing counted:
  // one infinity would make every figure infinite for good.
  Status update(double prediction, double target);

  uint64_t count() const { return events_; }
  double mae() const;
  double rmse() const;
  double r2() const;
  // The baselines' cumulative MAE, as figures() has them, in O(1).
  double mean_baseline_mae() const;
  double no_change_mae() const;
  RegressionFigures figures() const;  // the rolling figures are computed over the window
  const RegressorMetricsOptions& options() const { return options_; }

  // As PrequentialClassifier's: bit-exact, window of this object's size, Corruption on
  // bad bytes with this object unchanged.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  struct Slot {
    double prediction, target, mean_prediction, previous_prediction;
  };

  RegressorMetricsOptions options_;
  uint64_t events_ = 0;
  double abs_sum_ = 0, sq_sum_ = 0;
  double target_mean_ = 0, target_m2_ = 0;  // Welford, for R² and the mean baseline
  double mean_abs_sum_ = 0, mean_sq_sum_ = 0;
  double previous_target_ = 0;
  double no_change_abs_sum_ = 0, no_change_sq_sum_ = 0;

  std::vector<Slot> window_;
  size_t window_next_ = 0;
  size_t window_filled_ = 0;
};

// ---------------------------------------------------------------------------------------
// JSON

// Appends the figures as one JSON object (numbers in shortest round-trip form, NaN as
// null). Layout, with the same keys inside "rolling" (plus "window") as at the top:
//   {"events":N,"classes":K,"binary":true,"accuracy":…,"precision":…,"recall":…,"f1":…,
//    "macro_precision":…,"macro_recall":…,"macro_f1":…,"log_loss":…,"roc_auc":…,
//    "confusion_matrix":[[…],…],["class_names":[…],]
//    "rolling":{"window":W,"events":n,"accuracy":…,…,"confusion_matrix":[[…]]},
//    "baselines":{"majority_class":{"accuracy":…,"f1":…,"rolling_accuracy":…,"rolling_f1":…},
//                 "no_change":{…}}}
void AppendClassificationJson(std::string& out, const ClassificationFigures& figures);
//   {"events":N,"mae":…,"rmse":…,"r2":…,"rolling":{"window":W,"events":n,"mae":…,"rmse":…,"r2":…},
//    "baselines":{"mean":{"mae":…,"rmse":…,"rolling_mae":…,"rolling_rmse":…},"no_change":{…}}}
void AppendRegressionJson(std::string& out, const RegressionFigures& figures);

}  // namespace streamlearn::eval

#include "streamlearn/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "streamlearn/core/json_text.hpp"

namespace streamlearn::eval {

namespace {

constexpr double kMinProbability = 1e-15;
constexpr size_t kMaxClassesCap = size_t{1} << 16;
constexpr uint32_t kClassifierMagic = 0x43504c53;  // "SLPC", little-endian
constexpr uint32_t kRegressorMagic = 0x52504c53;   // "SLPR"
constexpr uint32_t kSnapshotVersion = 1;
constexpr size_t kClassifierSlotBytes = 4 * 4 + 2 * 8;
constexpr size_t kRegressorSlotBytes = 4 * 8;

double Ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? kNoScore : static_cast<double>(part) / static_cast<double>(whole);
}

// 0 when the denominator is 0: scikit-learn's zero_division=0 and River's safe_div.
double SafeRatio(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// River's ROCAUC thresholds t_i = i/B with "score > t_i": bin i holds (i/B, (i+1)/B].
// That is min(bins - 1, ceil(score * B) - 1), computed without std::ceil (a library call or
// a dozen instructions on baseline x86-64): below B the truncation is the floor, one less
// when the product is a whole number.
size_t ScoreBin(double score, size_t bins) {
  if (score <= 0) return 0;
  const double scaled = score * static_cast<double>(bins);
  if (!(scaled < static_cast<double>(bins))) return bins - 1;
  const auto whole = static_cast<int64_t>(scaled);  // 0 <= whole < bins
  return static_cast<size_t>(static_cast<double>(whole) == scaled ? whole - 1 : whole);
}

// Σ over positives of (negatives ranked below + half the negatives tied), as a share of
// all positive-negative pairs; groups are visited in ascending score order.
struct PairCounter {
  double positives = 0, negatives = 0, ordered = 0, tied = 0;
  void group(double pos, double neg) {
    ordered += pos * negatives;
    tied += pos * neg;
    positives += pos;
    negatives += neg;
  }
  double auc() const {
    const double pairs = positives * negatives;
    return pairs == 0 ? kNoScore : (ordered + 0.5 * tied) / pairs;
  }
  double tied_share() const {
    const double pairs = positives * negatives;
    return pairs == 0 ? kNoScore : tied / pairs;
  }
};

void Key(std::string& out, std::string_view name) {
  AppendJsonString(out, name);
  out.push_back(':');
}

void NumberField(std::string& out, std::string_view name, double value) {
  Key(out, name);
  AppendJsonNumber(out, value);
  out.push_back(',');
}

void CountField(std::string& out, std::string_view name, uint64_t value) {
  Key(out, name);
  AppendJsonUnsigned(out, value);
  out.push_back(',');
}

void DropComma(std::string& out) {
  if (!out.empty() && out.back() == ',') out.pop_back();
}

void AppendConfusion(std::string& out, const std::vector<uint64_t>& matrix, size_t classes) {
  Key(out, "confusion_matrix");
  out.push_back('[');
  for (size_t t = 0; t < classes; ++t) {
    out.push_back('[');
    for (size_t p = 0; p < classes; ++p) {
      if (p) out.push_back(',');
      AppendJsonUnsigned(out, t * classes + p < matrix.size() ? matrix[t * classes + p] : 0);
    }
    out.push_back(']');
    if (t + 1 < classes) out.push_back(',');
  }
  out.append("],");
}

void AppendClassificationScores(std::string& out, const ClassificationScores& s, size_t classes) {
  NumberField(out, "accuracy", s.accuracy);
  NumberField(out, "precision", s.precision);
  NumberField(out, "recall", s.recall);
  NumberField(out, "f1", s.f1);
  NumberField(out, "macro_precision", s.macro_precision);
  NumberField(out, "macro_recall", s.macro_recall);
  NumberField(out, "macro_f1", s.macro_f1);
  NumberField(out, "log_loss", s.log_loss);
  NumberField(out, "roc_auc", s.roc_auc);
  AppendConfusion(out, s.confusion, classes);
}

void AppendBaseline(std::string& out, std::string_view name, const BaselineScores& b) {
  Key(out, name);
  out.push_back('{');
  NumberField(out, "accuracy", b.accuracy);
  NumberField(out, "f1", b.f1);
  NumberField(out, "rolling_accuracy", b.rolling_accuracy);
  NumberField(out, "rolling_f1", b.rolling_f1);
  DropComma(out);
  out.append("},");
}

void AppendRegressionScores(std::string& out, const RegressionScores& s) {
  CountField(out, "events", s.events);
  NumberField(out, "mae", s.mae);
  NumberField(out, "rmse", s.rmse);
  NumberField(out, "r2", s.r2);
}

void AppendRegressionBaseline(std::string& out, std::string_view name, const RegressionBaselineScores& b) {
  Key(out, name);
  out.push_back('{');
  NumberField(out, "mae", b.mae);
  NumberField(out, "rmse", b.rmse);
  NumberField(out, "rolling_mae", b.rolling_mae);
  NumberField(out, "rolling_rmse", b.rolling_rmse);
  DropComma(out);
  out.append("},");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// PrequentialClassifier::Tally

void PrequentialClassifier::Tally::resize(size_t classes) {
  labelled.resize(classes, 0);
  predicted.resize(classes, 0);
  hits.resize(classes, 0);
}

// add() and remove() run several times per event: inlined into update(), their only caller.
[[gnu::always_inline]] inline void PrequentialClassifier::Tally::add(size_t label, size_t prediction) {
  ++events;
  ++labelled[label];
  ++predicted[prediction];
  if (label == prediction) {
    ++correct;
    ++hits[label];
  }
}

[[gnu::always_inline]] inline void PrequentialClassifier::Tally::remove(size_t label, size_t prediction) {
  --events;
  --labelled[label];
  --predicted[prediction];
  if (label == prediction) {
    --correct;
    --hits[label];
  }
}

void PrequentialClassifier::Tally::fill(bool binary, ClassificationScores* s) const {
  s->events = events;
  s->accuracy = Ratio(correct, events);
  if (events == 0) return;  // the rest stays NaN
  double precision_sum = 0, recall_sum = 0, f1_sum = 0;
  size_t present = 0;
  for (size_t c = 0; c < labelled.size(); ++c) {
    if (labelled[c] == 0 && predicted[c] == 0) continue;
    ++present;
    precision_sum += SafeRatio(hits[c], predicted[c]);
    recall_sum += SafeRatio(hits[c], labelled[c]);
    f1_sum += SafeRatio(2 * hits[c], predicted[c] + labelled[c]);  // = 2PR / (P + R)
  }
  s->macro_precision = precision_sum / static_cast<double>(present);
  s->macro_recall = recall_sum / static_cast<double>(present);
  s->macro_f1 = f1_sum / static_cast<double>(present);
  if (binary) {
    const bool has_one = labelled.size() > 1;
    const uint64_t hit = has_one ? hits[1] : 0, pred = has_one ? predicted[1] : 0, lab = has_one ? labelled[1] : 0;
    s->precision = SafeRatio(hit, pred);
    s->recall = SafeRatio(hit, lab);
    s->f1 = SafeRatio(2 * hit, pred + lab);
  } else {
    s->precision = s->macro_precision;
    s->recall = s->macro_recall;
    s->f1 = s->macro_f1;
  }
}

BaselineScores PrequentialClassifier::Tally::baseline(bool binary) const {
  ClassificationScores s;
  fill(binary, &s);
  BaselineScores b;
  b.accuracy = s.accuracy;
  b.f1 = s.f1;
  return b;
}

// ---------------------------------------------------------------------------------------
// PrequentialClassifier

PrequentialClassifier::PrequentialClassifier(ClassifierMetricsOptions options) : options_(options) {
  options_.rolling_window = std::max<size_t>(options_.rolling_window, 1);
  options_.auc_bins = std::max<size_t>(options_.auc_bins, 1);
  options_.max_classes = std::clamp<size_t>(options_.max_classes, 2, kMaxClassesCap);
  window_.resize(options_.rolling_window);
  auc_positive_.assign(options_.auc_bins, 0);
  auc_negative_.assign(options_.auc_bins, 0);
}

void PrequentialClassifier::grow(size_t classes) {
  if (classes <= classes_) return;
  // The matrices are row-major with stride classes_, so growing re-lays them out.
  const auto relayout = [&](std::vector<uint64_t>& m) {
    std::vector<uint64_t> wider(classes * classes, 0);
    for (size_t t = 0; t < classes_; ++t) {
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(t * classes_), classes_,
                  wider.begin() + static_cast<std::ptrdiff_t>(t * classes));
    }
    m.swap(wider);
  };
  relayout(confusion_);
  relayout(window_confusion_);
  for (Tally* t : {&model_, &majority_tally_, &no_change_tally_, &window_model_, &window_majority_,
                   &window_no_change_}) {
    t->resize(classes);
  }
  classes_ = classes;
}

Status PrequentialClassifier::update(size_t label, size_t predicted, double true_class_probability,
                                     double positive_score) {
  if (label >= options_.max_classes || predicted >= options_.max_classes) {
    return Status::Invalid("class index " + std::to_string(std::max(label, predicted)) +
                           " is not below max_classes " + std::to_string(options_.max_classes));
  }
  add_event(label, predicted, true_class_probability, positive_score);
  return Status::Ok();
}

// Inlined into update() and update_binary(), which has no class to refuse and no Status to
// build.
[[gnu::always_inline]] inline void PrequentialClassifier::add_event(size_t label, size_t predicted,
                                                                    double true_class_probability,
                                                                    double positive_score) {
  if (std::max(label, predicted) >= classes_) grow(std::max(label, predicted) + 1);

  // The baselines predict from the labels before this one: test, then train.
  const uint32_t majority = majority_;
  const uint32_t no_change = has_previous_ ? previous_label_ : 0;

  const double p = std::isnan(true_class_probability)
                       ? 1.0 / static_cast<double>(std::max<size_t>(classes_, 2))
                       : std::clamp(true_class_probability, kMinProbability, 1 - kMinProbability);
  log_loss_sum_ -= std::log(p);

  const double score = std::isnan(positive_score) || label > 1 ? kNoScore : std::clamp(positive_score, 0.0, 1.0);
  if (!std::isnan(score)) (label == 1 ? auc_positive_ : auc_negative_)[ScoreBin(score, auc_positive_.size())]++;

  ++events_;
  ++confusion_[label * classes_ + predicted];
  model_.add(label, predicted);
  majority_tally_.add(label, majority);
  no_change_tally_.add(label, no_change);

  Slot& slot = window_[window_next_];
  if (window_filled_ == window_.size()) {
    --window_confusion_[slot.label * classes_ + slot.predicted];
    window_model_.remove(slot.label, slot.predicted);
    window_majority_.remove(slot.label, slot.majority);
    window_no_change_.remove(slot.label, slot.no_change);
  } else {
    ++window_filled_;
  }
  slot = Slot{static_cast<uint32_t>(label), static_cast<uint32_t>(predicted), majority, no_change, p, score};
  ++window_confusion_[label * classes_ + predicted];
  window_model_.add(label, predicted);
  window_majority_.add(label, majority);
  window_no_change_.add(label, no_change);
  window_next_ = window_next_ + 1 == window_.size() ? 0 : window_next_ + 1;

  // Train the baselines. Ties keep the smaller index, so the majority class is well defined.
  const auto& counts = model_.labelled;
  if (counts[label] > counts[majority_] || (counts[label] == counts[majority_] && label < majority_)) {
    majority_ = static_cast<uint32_t>(label);
  }
  previous_label_ = static_cast<uint32_t>(label);
  has_previous_ = true;
}

void PrequentialClassifier::update_binary(double score, int predicted, int label) {
  const double p1 = std::isnan(score) ? 0.5 : std::clamp(score, 0.0, 1.0);
  const bool positive = label != 0;
  // Classes 0 and 1 are always below max_classes (at least 2): update() would accept them.
  add_event(positive ? 1 : 0, predicted != 0 ? 1 : 0, positive ? p1 : 1 - p1, p1);
}

double PrequentialClassifier::accuracy() const { return Ratio(model_.correct, events_); }

double PrequentialClassifier::rolling_accuracy() const { return Ratio(window_model_.correct, window_model_.events); }

double PrequentialClassifier::log_loss() const {
  return events_ == 0 ? kNoScore : log_loss_sum_ / static_cast<double>(events_);
}

double PrequentialClassifier::roc_auc() const {
  if (classes_ > 2) return kNoScore;
  PairCounter pairs;
  for (size_t i = 0; i < auc_positive_.size(); ++i) {
    pairs.group(static_cast<double>(auc_positive_[i]), static_cast<double>(auc_negative_[i]));
  }
  return pairs.auc();
}

double PrequentialClassifier::auc_error_bound() const {
  if (classes_ > 2) return kNoScore;
  PairCounter pairs;
  for (size_t i = 0; i < auc_positive_.size(); ++i) {
    pairs.group(static_cast<double>(auc_positive_[i]), static_cast<double>(auc_negative_[i]));
  }
  return 0.5 * pairs.tied_share();
}

size_t PrequentialClassifier::oldest_slot() const {
  return (window_next_ + window_.size() - window_filled_) % window_.size();
}

double PrequentialClassifier::rolling_roc_auc() const {
  if (classes_ > 2) return kNoScore;
  std::vector<std::pair<double, bool>> scored;
  scored.reserve(window_filled_);
  for (size_t k = 0, i = oldest_slot(); k < window_filled_; ++k, i = (i + 1) % window_.size()) {
    if (!std::isnan(window_[i].positive_score)) scored.emplace_back(window_[i].positive_score, window_[i].label == 1);
  }
  return ExactRocAuc(std::move(scored));
}

double PrequentialClassifier::majority_baseline_accuracy() const {
  return Ratio(majority_tally_.correct, majority_tally_.events);
}

double PrequentialClassifier::no_change_baseline_accuracy() const {
  return Ratio(no_change_tally_.correct, no_change_tally_.events);
}

ClassificationFigures PrequentialClassifier::figures() const {
  ClassificationFigures f;
  f.classes = classes_;
  f.binary = classes_ <= 2;
  f.rolling_window = window_.size();

  model_.fill(f.binary, &f.cumulative);
  f.cumulative.log_loss = log_loss();
  f.cumulative.roc_auc = roc_auc();
  f.cumulative.confusion = confusion_;

  window_model_.fill(f.binary, &f.rolling);
  if (window_filled_ > 0) {
    // Summed oldest first on every call, so the figure does not depend on the history
    // of additions and removals (no floating-point drift in a running sum).
    double loss = 0;
    for (size_t k = 0, i = oldest_slot(); k < window_filled_; ++k, i = (i + 1) % window_.size()) {
      loss -= std::log(window_[i].true_class_probability);
    }
    f.rolling.log_loss = loss / static_cast<double>(window_filled_);
  }
  f.rolling.roc_auc = rolling_roc_auc();
  f.rolling.confusion = window_confusion_;

  f.majority_class = majority_tally_.baseline(f.binary);
  const BaselineScores rolling_majority = window_majority_.baseline(f.binary);
  f.majority_class.rolling_accuracy = rolling_majority.accuracy;
  f.majority_class.rolling_f1 = rolling_majority.f1;
  f.no_change = no_change_tally_.baseline(f.binary);
  const BaselineScores rolling_no_change = window_no_change_.baseline(f.binary);
  f.no_change.rolling_accuracy = rolling_no_change.accuracy;
  f.no_change.rolling_f1 = rolling_no_change.f1;
  return f;
}

void PrequentialClassifier::rebuild_window_tallies() {
  window_confusion_.assign(classes_ * classes_, 0);
  for (Tally* t : {&window_model_, &window_majority_, &window_no_change_}) {
    *t = Tally{};
    t->resize(classes_);
  }
  for (size_t k = 0, i = oldest_slot(); k < window_filled_; ++k, i = (i + 1) % window_.size()) {
    const Slot& s = window_[i];
    ++window_confusion_[s.label * classes_ + s.predicted];
    window_model_.add(s.label, s.predicted);
    window_majority_.add(s.label, s.majority);
    window_no_change_.add(s.label, s.no_change);
  }
}

// Layout: magic u32 | version u32 | classes u64 | events u64 | log_loss_sum f64
//   | has_previous u8 | previous_label u32 | confusion classes² x u64 (row = label)
//   | majority baseline: predicted, hits (classes x u64 each) | no-change baseline: the same
//   | auc bins u64 | positives per bin | negatives per bin
//   | window size u64 | filled u64 | filled slots, oldest first:
//     label, predicted, majority, no_change (u32) | true-class probability, positive score (f64)
// Everything else (per-class label counts, the majority class, the model's hits) follows
// from these and is rebuilt on load.
void PrequentialClassifier::save(ByteWriter& out) const {
  out.u32(kClassifierMagic);
  out.u32(kSnapshotVersion);
  out.u64(classes_);
  out.u64(events_);
  out.f64(log_loss_sum_);
  out.u8(has_previous_ ? 1 : 0);
  out.u32(previous_label_);
  for (uint64_t v : confusion_) out.u64(v);
  for (const Tally* t : {&majority_tally_, &no_change_tally_}) {
    for (uint64_t v : t->predicted) out.u64(v);
    for (uint64_t v : t->hits) out.u64(v);
  }
  out.u64(auc_positive_.size());
  for (uint64_t v : auc_positive_) out.u64(v);
  for (uint64_t v : auc_negative_) out.u64(v);
  out.u64(window_.size());
  out.u64(window_filled_);
  for (size_t k = 0, i = oldest_slot(); k < window_filled_; ++k, i = (i + 1) % window_.size()) {
    const Slot& s = window_[i];
    out.u32(s.label);
    out.u32(s.predicted);
    out.u32(s.majority);
    out.u32(s.no_change);
    out.f64(s.true_class_probability);
    out.f64(s.positive_score);
  }
}

Status PrequentialClassifier::load(ByteReader& in) {
  const auto corrupt = [](const std::string& what) {
    return Status::Corruption("classifier metrics snapshot: " + what);
  };
  const uint32_t magic = in.u32();
  const uint32_t version = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (magic != kClassifierMagic) return corrupt("not classifier metrics");
  if (version != kSnapshotVersion) {
    return corrupt("format version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kSnapshotVersion));
  }
  const uint64_t classes = in.u64();
  const uint64_t events = in.u64();
  const double log_loss_sum = in.f64();
  const uint8_t has_previous = in.u8();
  const uint32_t previous_label = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (classes > options_.max_classes) {
    return corrupt(std::to_string(classes) + " classes, above max_classes " + std::to_string(options_.max_classes));
  }
  if ((classes == 0) != (events == 0)) return corrupt("classes and events disagree");
  if (has_previous > 1 || (has_previous == 1) != (events > 0) || (has_previous && previous_label >= classes)) {
    return corrupt("bad previous label");
  }
  if (!std::isfinite(log_loss_sum) || !(log_loss_sum >= 0)) return corrupt("bad log loss sum");
  if (classes * (classes + 4) > in.remaining() / 8) return corrupt("truncated counts");

  // Built aside, then moved in: a failure leaves this object as it was.
  PrequentialClassifier next(options_);
  next.grow(classes);
  next.events_ = events;
  next.log_loss_sum_ = log_loss_sum;
  next.has_previous_ = has_previous == 1;
  next.previous_label_ = previous_label;
  uint64_t total = 0;
  for (size_t t = 0; t < classes; ++t) {
    for (size_t p = 0; p < classes; ++p) {
      const uint64_t n = in.u64();
      if (n > events - total) return corrupt("confusion matrix exceeds the event count");
      total += n;
      next.confusion_[t * classes + p] = n;
      next.model_.events += n;
      next.model_.labelled[t] += n;
      next.model_.predicted[p] += n;
      if (t == p) {
        next.model_.correct += n;
        next.model_.hits[t] += n;
      }
    }
  }
  if (total != events) return corrupt("confusion matrix does not add up to the event count");
  for (Tally* t : {&next.majority_tally_, &next.no_change_tally_}) {
    t->events = events;
    t->labelled = next.model_.labelled;
    uint64_t predicted_total = 0;
    for (auto& v : t->predicted) {
      v = in.u64();
      if (v > events - predicted_total) return corrupt("baseline predictions exceed the event count");
      predicted_total += v;
    }
    for (size_t c = 0; c < classes; ++c) {
      const uint64_t h = in.u64();
      if (h > t->labelled[c] || h > t->predicted[c]) return corrupt("baseline hits exceed their counts");
      t->hits[c] = h;
      t->correct += h;
    }
    if (!in.ok()) return corrupt("truncated baselines");
    if (predicted_total != events) return corrupt("baseline predictions do not add up to the event count");
  }
  for (size_t c = 0; c < classes; ++c) {
    const auto& counts = next.model_.labelled;
    if (counts[c] > counts[next.majority_]) next.majority_ = static_cast<uint32_t>(c);
  }

  const uint64_t bins = in.u64();
  if (!in.ok() || bins == 0 || bins > in.remaining() / 16) return corrupt("bad ROC AUC histogram");
  next.auc_positive_.assign(bins, 0);
  next.auc_negative_.assign(bins, 0);
  uint64_t scored = 0;
  for (auto* histogram : {&next.auc_positive_, &next.auc_negative_}) {
    for (auto& v : *histogram) {
      v = in.u64();
      if (v > events - scored) return corrupt("ROC AUC histogram exceeds the event count");
      scored += v;
    }
  }
  next.options_.auc_bins = bins;

  const uint64_t saved_window = in.u64();
  const uint64_t filled = in.u64();
  if (!in.ok()) return corrupt("truncated window header");
  if (filled > saved_window || filled > events || filled > in.remaining() / kClassifierSlotBytes) {
    return corrupt("bad window size");
  }
  std::vector<Slot> slots(filled);
  for (Slot& s : slots) {
    s.label = in.u32();
    s.predicted = in.u32();
    s.majority = in.u32();
    s.no_change = in.u32();
    s.true_class_probability = in.f64();
    s.positive_score = in.f64();
    if (s.label >= classes || s.predicted >= classes || s.majority >= classes || s.no_change >= classes) {
      return corrupt("window class index out of range");
    }
    if (!(s.true_class_probability >= kMinProbability && s.true_class_probability <= 1)) {
      return corrupt("bad window probability");
    }
    if (!std::isnan(s.positive_score) && !(s.positive_score >= 0 && s.positive_score <= 1 && s.label <= 1)) {
      return corrupt("bad window score");
    }
  }
  if (!in.ok()) return corrupt("truncated window");

  // The newest saved events that fit this object's window.
  const size_t keep = std::min<size_t>(slots.size(), next.window_.size());
  std::copy(slots.end() - static_cast<std::ptrdiff_t>(keep), slots.end(), next.window_.begin());
  next.window_filled_ = keep;
  next.window_next_ = keep % next.window_.size();
  next.rebuild_window_tallies();
  *this = std::move(next);
  return Status::Ok();
}

double ExactRocAuc(std::vector<std::pair<double, bool>> scored) {
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  PairCounter pairs;
  for (size_t i = 0; i < scored.size();) {
    double pos = 0, neg = 0;
    const double score = scored[i].first;
    for (; i < scored.size() && scored[i].first == score; ++i) (scored[i].second ? pos : neg) += 1;
    pairs.group(pos, neg);
  }
  return pairs.auc();
}

// ---------------------------------------------------------------------------------------
// PrequentialRegressor

PrequentialRegressor::PrequentialRegressor(RegressorMetricsOptions options) : options_(options) {
  options_.rolling_window = std::max<size_t>(options_.rolling_window, 1);
  window_.resize(options_.rolling_window);
}

Status PrequentialRegressor::update(double prediction, double target) {
  if (!std::isfinite(prediction)) return Status::Invalid("regression metrics: prediction is not a finite number");
  if (!std::isfinite(target)) return Status::Invalid("regression metrics: target is not a finite number");
  // The baselines predict from the targets before this one: test, then train.
  const double mean_prediction = target_mean_;
  const double previous_prediction = previous_target_;

  const double error = prediction - target;
  abs_sum_ += std::abs(error);
  sq_sum_ += error * error;
  const double mean_error = mean_prediction - target;
  mean_abs_sum_ += std::abs(mean_error);
  mean_sq_sum_ += mean_error * mean_error;
  const double no_change_error = previous_prediction - target;
  no_change_abs_sum_ += std::abs(no_change_error);
  no_change_sq_sum_ += no_change_error * no_change_error;

  ++events_;
  const double delta = target - target_mean_;
  target_mean_ += delta / static_cast<double>(events_);
  target_m2_ += delta * (target - target_mean_);
  previous_target_ = target;

  window_[window_next_] = Slot{prediction, target, mean_prediction, previous_prediction};
  window_filled_ = std::min(window_filled_ + 1, window_.size());
  window_next_ = window_next_ + 1 == window_.size() ? 0 : window_next_ + 1;
  return Status::Ok();
}

double PrequentialRegressor::mae() const { return events_ == 0 ? kNoScore : abs_sum_ / static_cast<double>(events_); }

double PrequentialRegressor::rmse() const {
  return events_ == 0 ? kNoScore : std::sqrt(sq_sum_ / static_cast<double>(events_));
}

double PrequentialRegressor::mean_baseline_mae() const {
  return events_ == 0 ? kNoScore : mean_abs_sum_ / static_cast<double>(events_);
}

double PrequentialRegressor::no_change_mae() const {
  return events_ == 0 ? kNoScore : no_change_abs_sum_ / static_cast<double>(events_);
}

double PrequentialRegressor::r2() const { return target_m2_ > 0 ? 1 - sq_sum_ / target_m2_ : kNoScore; }

RegressionFigures PrequentialRegressor::figures() const {
  RegressionFigures f;
  f.rolling_window = window_.size();
  const double n = static_cast<double>(events_);
  f.cumulative.events = events_;
  f.cumulative.mae = mae();
  f.cumulative.rmse = rmse();
  f.cumulative.r2 = r2();
  if (events_ > 0) {
    f.mean.mae = mean_baseline_mae();
    f.mean.rmse = std::sqrt(mean_sq_sum_ / n);
    f.no_change.mae = no_change_mae();
    f.no_change.rmse = std::sqrt(no_change_sq_sum_ / n);
  }

  f.rolling.events = window_filled_;
  if (window_filled_ > 0) {
    // Two passes over the window, oldest first: exact and independent of its history.
    const size_t oldest = (window_next_ + window_.size() - window_filled_) % window_.size();
    const auto at = [&](size_t k) -> const Slot& { return window_[(oldest + k) % window_.size()]; };
    const double w = static_cast<double>(window_filled_);
    double target_sum = 0;
    for (size_t k = 0; k < window_filled_; ++k) target_sum += at(k).target;
    const double target_mean = target_sum / w;
    double abs_sum = 0, sq_sum = 0, total_sq = 0, mean_abs = 0, mean_sq = 0, nc_abs = 0, nc_sq = 0;
    for (size_t k = 0; k < window_filled_; ++k) {
      const Slot& s = at(k);
      const double e = s.prediction - s.target, me = s.mean_prediction - s.target,
                   ne = s.previous_prediction - s.target, d = s.target - target_mean;
      abs_sum += std::abs(e);
      sq_sum += e * e;
      total_sq += d * d;
      mean_abs += std::abs(me);
      mean_sq += me * me;
      nc_abs += std::abs(ne);
      nc_sq += ne * ne;
    }
    f.rolling.mae = abs_sum / w;
    f.rolling.rmse = std::sqrt(sq_sum / w);
    f.rolling.r2 = total_sq > 0 ? 1 - sq_sum / total_sq : kNoScore;
    f.mean.rolling_mae = mean_abs / w;
    f.mean.rolling_rmse = std::sqrt(mean_sq / w);
    f.no_change.rolling_mae = nc_abs / w;
    f.no_change.rolling_rmse = std::sqrt(nc_sq / w);
  }
  return f;
}

// Layout: magic u32 | version u32 | events u64 | abs_sum, sq_sum, target_mean, target_m2,
//   mean_abs_sum, mean_sq_sum, previous_target, no_change_abs_sum, no_change_sq_sum (f64)
//   | window size u64 | filled u64 | filled slots, oldest first: prediction, target,
//   mean baseline's prediction, no-change prediction (f64)
void PrequentialRegressor::save(ByteWriter& out) const {
  out.u32(kRegressorMagic);
  out.u32(kSnapshotVersion);
  out.u64(events_);
  for (double v : {abs_sum_, sq_sum_, target_mean_, target_m2_, mean_abs_sum_, mean_sq_sum_, previous_target_,
                   no_change_abs_sum_, no_change_sq_sum_}) {
    out.f64(v);
  }
  out.u64(window_.size());
  out.u64(window_filled_);
  const size_t oldest = (window_next_ + window_.size() - window_filled_) % window_.size();
  for (size_t k = 0; k < window_filled_; ++k) {
    const Slot& s = window_[(oldest + k) % window_.size()];
    out.f64(s.prediction);
    out.f64(s.target);
    out.f64(s.mean_prediction);
    out.f64(s.previous_prediction);
  }
}

Status PrequentialRegressor::load(ByteReader& in) {
  const auto corrupt = [](const std::string& what) {
    return Status::Corruption("regression metrics snapshot: " + what);
  };
  const uint32_t magic = in.u32();
  const uint32_t version = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (magic != kRegressorMagic) return corrupt("not regression metrics");
  if (version != kSnapshotVersion) {
    return corrupt("format version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kSnapshotVersion));
  }
  PrequentialRegressor next(options_);
  next.events_ = in.u64();
  double* const sums[] = {&next.abs_sum_,          &next.sq_sum_,          &next.target_mean_,
                          &next.target_m2_,        &next.mean_abs_sum_,    &next.mean_sq_sum_,
                          &next.previous_target_,  &next.no_change_abs_sum_, &next.no_change_sq_sum_};
  for (double* v : sums) *v = in.f64();
  const uint64_t saved_window = in.u64();
  const uint64_t filled = in.u64();
  if (!in.ok()) return corrupt("truncated header");
  for (double* v : sums) {
    if (!std::isfinite(*v)) return corrupt("non-finite sum");
  }
  for (double v : {next.abs_sum_, next.sq_sum_, next.target_m2_, next.mean_abs_sum_, next.mean_sq_sum_,
                   next.no_change_abs_sum_, next.no_change_sq_sum_}) {
    if (v < 0) return corrupt("negative sum");
  }
  if (filled > saved_window || filled > next.events_ || filled > in.remaining() / kRegressorSlotBytes) {
    return corrupt("bad window size");
  }
  std::vector<Slot> slots(filled);
  for (Slot& s : slots) {
    s = Slot{in.f64(), in.f64(), in.f64(), in.f64()};
    if (!std::isfinite(s.prediction) || !std::isfinite(s.target) || !std::isfinite(s.mean_prediction) ||
        !std::isfinite(s.previous_prediction)) {
      return corrupt("non-finite window value");
    }
  }
  if (!in.ok()) return corrupt("truncated window");
  const size_t keep = std::min<size_t>(slots.size(), next.window_.size());
  std::copy(slots.end() - static_cast<std::ptrdiff_t>(keep), slots.end(), next.window_.begin());
  next.window_filled_ = keep;
  next.window_next_ = keep % next.window_.size();
  *this = std::move(next);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// JSON

void AppendClassificationJson(std::string& out, const ClassificationFigures& f) {
  out.push_back('{');
  CountField(out, "events", f.cumulative.events);
  CountField(out, "classes", f.classes);
  Key(out, "binary");
  out.append(f.binary ? "true," : "false,");
  AppendClassificationScores(out, f.cumulative, f.classes);
  if (!f.class_names.empty() && f.class_names.size() == f.classes) {
    Key(out, "class_names");
    out.push_back('[');
    for (size_t i = 0; i < f.class_names.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(out, f.class_names[i]);
    }
    out.append("],");
  }
  Key(out, "rolling");
  out.push_back('{');
  CountField(out, "window", f.rolling_window);
  CountField(out, "events", f.rolling.events);
  AppendClassificationScores(out, f.rolling, f.classes);
  DropComma(out);
  out.append("},");
  Key(out, "baselines");
  out.push_back('{');
  AppendBaseline(out, "majority_class", f.majority_class);
  AppendBaseline(out, "no_change", f.no_change);
  DropComma(out);
  out.append("}}");
}

void AppendRegressionJson(std::string& out, const RegressionFigures& f) {
  out.push_back('{');
  AppendRegressionScores(out, f.cumulative);
  Key(out, "rolling");
  out.push_back('{');
  CountField(out, "window", f.rolling_window);
  AppendRegressionScores(out, f.rolling);
  DropComma(out);
  out.append("},");
  Key(out, "baselines");
  out.push_back('{');
  AppendRegressionBaseline(out, "mean", f.mean);
  AppendRegressionBaseline(out, "no_change", f.no_change);
  DropComma(out);
  out.append("}}");
}

}  // namespace streamlearn::eval

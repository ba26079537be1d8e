#include "model_selection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/scoring.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Log loss of a probability clipped as River's metrics clip it.
constexpr double kProbabilityFloor = 1e-15;
// ApplyDefaultModels' selection settings (docs/evaluation.md#choosing-the-defaults).
// Classification: a window of 500, 200 events between switches. Regression: a switch after
// 10 events, so a slowly moving target (TrumpApproval) is served by no-change almost from
// the start, over a window of 300.
constexpr int kDefaultSelectionWindow = 500;
constexpr int kDefaultSelectionMinEvents = 200;
constexpr int kDefaultRegressionSelectionWindow = 300;
constexpr int kDefaultRegressionSelectionMinEvents = 10;

}  // namespace

std::string_view ToString(CandidateKind kind) {
  switch (kind) {
    case CandidateKind::kLearner: return "learner";
    case CandidateKind::kNoChange: return "no_change";
    case CandidateKind::kMajority: return "majority";
    case CandidateKind::kMean: return "mean";
  }
  return "learner";
}

std::vector<CandidateSpec> BaselineCandidates(Task task) {
  if (task == Task::kRegression) return {{"no_change", CandidateKind::kNoChange}, {"mean", CandidateKind::kMean}};
  return {{"no_change", CandidateKind::kNoChange}, {"majority", CandidateKind::kMajority}};
}

std::vector<CandidateSpec> SelectionCandidates(const PipelineConfig& config, Task task) {
  std::vector<CandidateSpec> out;
  out.push_back({config.model.name, CandidateKind::kLearner});
  for (const auto& challenger : config.challengers) out.push_back({challenger.first, CandidateKind::kLearner});
  if (config.selection.include_baselines) {
    for (auto& baseline : BaselineCandidates(task)) out.push_back(std::move(baseline));
  }
  return out;
}

std::vector<DefaultCandidate> DefaultCandidates(Task task) {
  switch (task) {
    case Task::kBinary: return {{"hoeffding_adaptive_tree", "hoeffding_adaptive_tree"}};
    case Task::kMulticlass: return {{"hoeffding_adaptive_tree", "hoeffding_adaptive_tree_multiclass"}};
    case Task::kRegression: return {{"knn_regressor", "knn_regressor"}, {"mlp_regressor", "mlp_regressor"}};
  }
  return {};
}

bool UsesDefaultModels(const PipelineConfig& config) {
  return !config.model.type_given && config.challengers.empty() && !config.selection.given;
}

void ApplyDefaultModels(PipelineConfig& config) {
  if (!UsesDefaultModels(config)) return;
  for (const auto& candidate : DefaultCandidates(TaskOf(config.model))) {
    config.challengers[candidate.name] = {{"type", candidate.type}};
  }
  config.selection.enabled = true;
  // Background for every task (regression has it already, EffectiveDriftAction): beside
  // the selection it was the best drift action on average over the drifting streams
  // measured, and close to the best on each (none lost most on RandomRBF, reset on SEA).
  if (!config.drift.action_given) config.drift.action = DriftAction::kBackground;
  // Shorter than selection's own 1000/500: the real streams measured are short (Phishing
  // 1250 events, ChickWeights 578), and a drifting one rewards following the change sooner.
  const bool regression = TaskOf(config.model) == Task::kRegression;
  config.selection.window = regression ? kDefaultRegressionSelectionWindow : kDefaultSelectionWindow;
  config.selection.min_events = regression ? kDefaultRegressionSelectionMinEvents : kDefaultSelectionMinEvents;
}

SelectionMetric ResolvedMetric(SelectionMetric metric, Task task) {
  if (metric != SelectionMetric::kAuto) return metric;
  return task == Task::kRegression ? SelectionMetric::kMae : SelectionMetric::kAccuracy;
}

Status ValidateSelectionSettings(const PipelineConfig& config) {
  if (!config.selection.enabled) return Status::Ok();
  const Task task = TaskOf(config.model);
  const SelectionMetric metric = config.selection.metric;
  if (task == Task::kRegression && (metric == SelectionMetric::kAccuracy || metric == SelectionMetric::kLogLoss)) {
    return Status::Invalid("selection.metric: " + std::string(ToString(metric)) + " ranks classifiers; model.type '" +
                           config.model.type + "' is a regression model (use mae or auto)");
  }
  if (task != Task::kRegression && metric == SelectionMetric::kMae) {
    return Status::Invalid("selection.metric: mae ranks regression models; model.type '" + config.model.type +
                           "' is a classifier (use accuracy, log_loss or auto)");
  }
  if (!config.selection.include_baselines) return Status::Ok();
  for (const auto& baseline : BaselineCandidates(task)) {
    if (config.model.name == baseline.name) {
      return Status::Invalid("model.name: '" + baseline.name +
                             "' is the name of a selection baseline (selection.include_baselines)");
    }
    if (config.challengers.count(baseline.name) != 0) {
      return Status::Invalid("challengers." + baseline.name +
                             ": the name of a selection baseline (selection.include_baselines)");
    }
  }
  return Status::Ok();
}

ModelSelector::ModelSelector(const SelectionSettings& settings, Task task, std::vector<CandidateSpec> candidates)
    : settings_(settings), task_(task), metric_(ResolvedMetric(settings.metric, task)) {
  settings_.window = std::max(settings_.window, 1);
  settings_.min_events = std::max(settings_.min_events, 1);
  for (auto& spec : candidates) {
    Candidate c;
    c.spec = std::move(spec);
    c.losses.reserve(static_cast<size_t>(settings_.window));
    candidates_.push_back(std::move(c));
  }
}

void ModelSelector::predict_baseline(size_t i, learn::Prediction& out) const {
  const LabelHistory& h = history_;
  const CandidateKind kind = candidates_[i].spec.kind;
  out.probabilities.clear();
  if (task_ == Task::kRegression) {
    out.class_index = -1;
    out.score = kind == CandidateKind::kMean ? h.mean : (h.n > 0 ? h.last : 0.0);
    return;
  }
  // Probabilities with one pseudo-count per outcome (Laplace), so log loss stays finite.
  // no_change: the last label, with the estimated chance that a label repeats the one before.
  const double stay = static_cast<double>(h.stays + 1) / static_cast<double>(h.n + 1);
  const size_t classes = h.class_counts.size();
  if (task_ == Task::kBinary) {
    if (kind == CandidateKind::kNoChange) {
      out.class_index = h.n > 0 && h.last >= 0.5 ? 1 : 0;
      out.score = h.n == 0 ? 0.5 : (out.class_index == 1 ? stay : 1 - stay);
    } else {
      const uint64_t ones = classes > 1 ? h.class_counts[1] : 0;
      out.class_index = 2 * ones > h.n ? 1 : 0;
      out.score = static_cast<double>(ones + 1) / static_cast<double>(h.n + 2);
    }
    return;
  }
  if (h.n == 0 || classes == 0) {
    out.class_index = -1;
    out.score = 0;
    return;
  }
  out.probabilities.assign(classes, 0.0);
  if (kind == CandidateKind::kNoChange) {
    const size_t last = static_cast<size_t>(h.last);
    for (size_t k = 0; k < classes; ++k) {
      out.probabilities[k] = classes == 1 ? 1.0 : (k == last ? stay : (1 - stay) / static_cast<double>(classes - 1));
    }
    out.class_index = static_cast<int32_t>(last);
  } else {
    size_t best = 0;
    for (size_t k = 0; k < classes; ++k) {
      out.probabilities[k] =
          static_cast<double>(h.class_counts[k] + 1) / static_cast<double>(h.n + static_cast<uint64_t>(classes));
      if (h.class_counts[k] > h.class_counts[best]) best = k;
    }
    out.class_index = static_cast<int32_t>(best);
  }
  out.score = out.probabilities[static_cast<size_t>(out.class_index)];
}

double ModelSelector::loss(const learn::Prediction& prediction, double true_class_probability, double y) const {
  switch (metric_) {
    case SelectionMetric::kMae: return std::abs(prediction.score - y);
    case SelectionMetric::kLogLoss: {
      double p = true_class_probability;
      if (!std::isfinite(p)) p = prediction.class_index == static_cast<int>(y) ? 1.0 : 0.0;  // a class, no probability
      p = std::clamp(p, kProbabilityFloor, 1 - kProbabilityFloor);
      return -std::log(p);
    }
    case SelectionMetric::kAuto:
    case SelectionMetric::kAccuracy: break;
  }
  return prediction.class_index == static_cast<int>(y) ? 0.0 : 1.0;
}

void ModelSelector::push_loss(Candidate& c, double value) {
  const size_t window = static_cast<size_t>(settings_.window);
  c.scored++;
  if (c.losses.size() < window) {
    c.losses.push_back(value);
    c.sum += value;
    c.next = c.losses.size() % window;
    return;
  }
  c.sum += value - c.losses[c.next];
  c.losses[c.next] = value;
  c.next = (c.next + 1) % window;
  if (c.next == 0) {
    // Once per window, the exact sum: rounding does not pile up over a long stream.
    c.sum = 0;
    for (double l : c.losses) c.sum += l;
  }
}

void ModelSelector::score(size_t i, const learn::Prediction& prediction, double true_class_probability, double y) {
  push_loss(candidates_[i], loss(prediction, true_class_probability, y));
}

void ModelSelector::score_and_learn_baselines(double y) {
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].spec.kind == CandidateKind::kLearner) continue;
    predict_baseline(i, scratch_);
    const double p_true = TrueClassProbability(task_, true, scratch_.score, scratch_.probabilities, y);
    score(i, scratch_, p_true, y);
  }
  LabelHistory& h = history_;
  if (task_ == Task::kRegression) {
    h.n++;
    h.mean += (y - h.mean) / static_cast<double>(h.n);
  } else {
    const size_t label = static_cast<size_t>(y);
    if (h.class_counts.size() <= label) h.class_counts.resize(label + 1, 0);
    if (h.n > 0 && y == h.last) h.stays++;
    h.class_counts[label]++;
    h.n++;
  }
  h.last = y;
}

double ModelSelector::rolling_loss(size_t i) const {
  const Candidate& c = candidates_[i];
  if (c.losses.empty()) return kNaN;
  return c.sum / static_cast<double>(c.losses.size());
}

double ModelSelector::value(size_t i) const {
  const double l = rolling_loss(i);
  return metric_ == SelectionMetric::kAccuracy ? 1 - l : l;
}

std::optional<CandidateSwitch> ModelSelector::select() {
  labelled_++;
  since_switch_++;
  const uint64_t min_events = static_cast<uint64_t>(settings_.min_events);
  if (since_switch_ < min_events) return std::nullopt;
  size_t best = champion_;
  double best_loss = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (i == champion_ || candidates_[i].scored < min_events) continue;
    const double l = rolling_loss(i);
    if (l < best_loss) {
      best = i;
      best_loss = l;
    }
  }
  if (best == champion_) return std::nullopt;
  const double champion_loss = rolling_loss(champion_);
  // A champion never scored (new since a restore) gives way to any candidate that was.
  const bool leads = std::isnan(champion_loss) ||
                     (metric_ == SelectionMetric::kMae ? best_loss < champion_loss * (1 - settings_.margin)
                                                       : champion_loss - best_loss > settings_.margin);
  if (!leads) return std::nullopt;
  CandidateSwitch s{champion_, best, value(champion_), value(best), labelled_};
  champion_ = best;
  since_switch_ = 0;
  switches_++;
  return s;
}

SelectionStats ModelSelector::stats() const {
  SelectionStats out;
  out.enabled = true;
  out.metric = ToString(metric_);
  out.serving = name(champion_);
  out.switches = switches_;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const Candidate& c = candidates_[i];
    out.candidates.push_back({c.spec.name, std::string(ToString(c.spec.kind)), c.scored, c.served, value(i)});
  }
  return out;
}

void WriteSelectionJson(JsonWriter& w, const SelectionStats& s) {
  w.begin_object()
      .field("metric", std::string_view(s.metric))
      .field("serving", std::string_view(s.serving))
      .field("switches", s.switches);
  w.key("candidates").begin_array();
  for (const CandidateStats& c : s.candidates) {
    w.begin_object()
        .field("name", std::string_view(c.name))
        .field("kind", std::string_view(c.kind))
        .field("scored", c.scored)
        .field("served", c.served)
        .field("value", c.value)
        .end_object();
  }
  w.end_array().end_object();
}


void ModelSelector::save(ByteWriter& w) const {
  w.u32(static_cast<uint32_t>(settings_.window));
  w.u32(static_cast<uint32_t>(candidates_.size()));
  for (const Candidate& c : candidates_) {
    w.str(c.spec.name);
    w.u8(static_cast<uint8_t>(c.spec.kind));
    w.u64(c.scored);
    w.u64(c.served);
    w.u64(c.next);
    w.f64(c.sum);
    w.u32(static_cast<uint32_t>(c.losses.size()));
    for (double l : c.losses) w.f64(l);
  }
  w.str(candidates_[champion_].spec.name);
  w.u64(labelled_);
  w.u64(since_switch_);
  w.u64(switches_);
  const LabelHistory& h = history_;
  w.u64(h.n);
  w.f64(h.last);
  w.u64(h.stays);
  w.f64(h.mean);
  w.u32(static_cast<uint32_t>(h.class_counts.size()));
  for (uint64_t n : h.class_counts) w.u64(n);
}

Status ModelSelector::load(ByteReader& r) {
  const uint32_t stored_window = r.u32();
  const uint32_t count = r.u32();
  if (!r.ok() || count > 100000) return Status::Corruption("selection state: candidates");
  std::vector<Candidate> loaded;  // what is not stored starts fresh
  for (const Candidate& c : candidates_) {
    loaded.emplace_back();
    loaded.back().spec = c.spec;
  }
  const size_t window = static_cast<size_t>(settings_.window);
  for (uint32_t n = 0; n < count; ++n) {
    Candidate c;
    c.spec.name = r.str();
    c.spec.kind = static_cast<CandidateKind>(r.u8());
    c.scored = r.u64();
    c.served = r.u64();
    c.next = r.u64();
    c.sum = r.f64();
    const uint32_t losses = r.u32();
    if (!r.ok() || losses > r.remaining() / 8 || losses > stored_window || c.next > losses) {
      return Status::Corruption("selection state: candidate '" + c.spec.name + "'");
    }
    c.losses.resize(losses);
    for (double& l : c.losses) l = r.f64();
    auto it = std::find_if(loaded.begin(), loaded.end(), [&](const Candidate& x) { return x.spec.name == c.spec.name; });
    if (it == loaded.end() || it->spec.kind != c.spec.kind) continue;  // no longer configured (or another kind)
    if (stored_window != window) {
      // selection.window changed: the latest losses, oldest first, as many as fit.
      std::vector<double> ordered;
      const size_t start = c.losses.size() == stored_window ? c.next : 0;
      for (size_t k = 0; k < c.losses.size(); ++k) ordered.push_back(c.losses[(start + k) % c.losses.size()]);
      if (ordered.size() > window) ordered.erase(ordered.begin(), ordered.end() - static_cast<std::ptrdiff_t>(window));
      c.losses = std::move(ordered);
      c.next = c.losses.size() % window;
      c.sum = 0;
      for (double l : c.losses) c.sum += l;
    }
    c.losses.reserve(window);
    it->losses = std::move(c.losses);
    it->next = c.next;
    it->sum = c.sum;
    it->scored = c.scored;
    it->served = c.served;
  }
  const std::string champion = r.str();
  const uint64_t labelled = r.u64();
  const uint64_t since_switch = r.u64();
  const uint64_t switches = r.u64();
  LabelHistory h;
  h.n = r.u64();
  h.last = r.f64();
  h.stays = r.u64();
  h.mean = r.f64();
  const uint32_t classes = r.u32();
  if (!r.ok() || classes > learn::kMaxLearnerClasses) return Status::Corruption("selection state: label history");
  h.class_counts.resize(classes);
  for (uint64_t& n : h.class_counts) n = r.u64();
  if (!r.ok()) return Status::Corruption("selection state: label history");
  candidates_ = std::move(loaded);
  auto it =
      std::find_if(candidates_.begin(), candidates_.end(), [&](const Candidate& c) { return c.spec.name == champion; });
  champion_ = it == candidates_.end() ? 0 : static_cast<size_t>(it - candidates_.begin());
  labelled_ = labelled;
  since_switch_ = since_switch;
  switches_ = switches;
  history_ = std::move(h);
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

// The human-readable sides of an evaluation: the table `evaluate` prints and the
// self-contained HTML report (inline SVG and CSS only, so it opens anywhere offline).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/offline/evaluate.hpp"

namespace streamlearn::pipeline {
namespace {

std::string Fig(double v, int decimals = 4) { return FormatFigure(v, decimals); }

std::string Count(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

// One row of the metrics table: name, cumulative, rolling. A space before each column
// however wide the figure: columns never run together.
void AppendMetricRow(std::string& out, std::string_view name, const std::string& cumulative,
                     const std::string& rolling) {
  out += fmt::format("  {:<22} {:>11} {:>13}\n", name, cumulative, rolling);
}

void AppendMetricsTable(std::string& out, const EvaluationResult& r) {
  if (r.classification) {
    const eval::ClassificationFigures& f = *r.classification;
    const eval::ClassificationScores& c = f.cumulative;
    const eval::ClassificationScores& w = f.rolling;
    AppendMetricRow(out, "metric", "cumulative", fmt::format("rolling {}", f.rolling_window));
    AppendMetricRow(out, "accuracy", Fig(c.accuracy), Fig(w.accuracy));
    AppendMetricRow(out, "precision", Fig(c.precision), Fig(w.precision));
    AppendMetricRow(out, "recall", Fig(c.recall), Fig(w.recall));
    AppendMetricRow(out, "f1", Fig(c.f1), Fig(w.f1));
    AppendMetricRow(out, "log loss", Fig(c.log_loss), Fig(w.log_loss));
    AppendMetricRow(out, "roc auc", Fig(c.roc_auc), Fig(w.roc_auc));
    AppendMetricRow(out, "majority-class acc.", Fig(f.majority_class.accuracy), Fig(f.majority_class.rolling_accuracy));
    AppendMetricRow(out, "no-change acc.", Fig(f.no_change.accuracy), Fig(f.no_change.rolling_accuracy));
  } else if (r.regression) {
    const eval::RegressionFigures& f = *r.regression;
    AppendMetricRow(out, "metric", "cumulative", fmt::format("rolling {}", f.rolling_window));
    AppendMetricRow(out, "mae", Fig(f.cumulative.mae), Fig(f.rolling.mae));
    AppendMetricRow(out, "rmse", Fig(f.cumulative.rmse), Fig(f.rolling.rmse));
    AppendMetricRow(out, "r2", Fig(f.cumulative.r2), Fig(f.rolling.r2));
    AppendMetricRow(out, "mean baseline mae", Fig(f.mean.mae), Fig(f.mean.rolling_mae));
    AppendMetricRow(out, "no-change mae", Fig(f.no_change.mae), Fig(f.no_change.rolling_mae));
  }
}

// "amount (numeric, adwin) 3, country (categorical, psi) 1": data drift alarms per feature.
std::string DataDriftSummary(const EvaluationResult& r) {
  std::map<std::string, uint64_t> per_feature;
  for (const DataDriftMark& d : r.data_drifts) per_feature[d.feature + " (" + d.kind + ", " + d.detector + ")"]++;
  std::string out;
  for (const auto& [name, n] : per_feature) out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over span.
double NiceStep(double span, int ticks) {
  const double raw = span / std::max(ticks, 1);
  const double power = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-12))));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

// 50000 -> "50k", 1500000 -> "1.5M": short labels under the x axis.
std::string AxisLabel(double v) {
  if (v >= 1e6 && std::fmod(v, 1e5) == 0) return fmt::format("{}M", v / 1e6);
  if (v >= 1e3 && std::fmod(v, 1e2) == 0) return fmt::format("{}k", v / 1e3);
  return fmt::format("{}", v);
}

// One curve of the chart: a CurvePoint field, its stroke, its class and legend label.
struct CurveSeries {
  double CurvePoint::*field;
  const char* style;
  const char* name;
  std::string label;
};

// The chart's series: accuracies for classification, MAEs for regression (each with its
// task's baselines), drawn in this order (the model's cumulative curve on top).
std::vector<CurveSeries> CurveSeriesOf(const EvaluationResult& r) {
  const char* const kCumulative = R"svg(stroke="#1f77b4" stroke-width="2.2")svg";
  const char* const kRolling = R"svg(stroke="#9ecae1" stroke-width="1")svg";
  const char* const kBaseline = R"svg(stroke="#7f7f7f" stroke-width="1.5" stroke-dasharray="8 4")svg";
  const char* const kNoChange = R"svg(stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="2 3")svg";
  if (r.regression) {
    return {{&CurvePoint::mean_mae, kBaseline, "mean-curve", "mean baseline MAE"},
            {&CurvePoint::no_change_mae, kNoChange, "no-change-curve", "no-change baseline MAE"},
            {&CurvePoint::rolling_mae, kRolling, "rolling-curve", fmt::format("rolling MAE ({})", r.rolling_window)},
            {&CurvePoint::mae, kCumulative, "cumulative-curve", "cumulative MAE"}};
  }
  return {{&CurvePoint::majority_accuracy, kBaseline, "majority-curve", "majority-class baseline"},
          {&CurvePoint::no_change_accuracy, kNoChange, "no-change-curve", "no-change baseline"},
          {&CurvePoint::rolling_accuracy, kRolling, "rolling-curve", fmt::format("rolling accuracy ({})", r.rolling_window)},
          {&CurvePoint::accuracy, kCumulative, "cumulative-curve", "cumulative accuracy"}};
}

// The y range of the chart. Accuracy: [floor of the lowest value to 0.1, 1]. MAE: [0, the
// highest value once the first 5% of the outcomes are scored], rounded up: the first
// predictions of a regression are far off (a model that has seen nothing, a mean of one
// target) and would flatten the rest of the curves; values above the range are drawn at
// its top.
std::pair<double, double> CurveRange(const EvaluationResult& r, const std::vector<CurveSeries>& series) {
  if (!r.regression) {
    double y_min = 1;
    for (const CurvePoint& p : r.curve) {
      for (const CurveSeries& s : series) {
        if (std::isfinite(p.*s.field)) y_min = std::min(y_min, p.*s.field);
      }
    }
    return {std::clamp(std::floor(y_min * 10) / 10, 0.0, 0.9), 1.0};
  }
  const uint64_t settled = r.labelled / 20;
  double y_max = 0;
  for (const CurvePoint& p : r.curve) {
    if (p.labelled < settled) continue;
    for (const CurveSeries& s : series) {
      if (std::isfinite(p.*s.field)) y_max = std::max(y_max, p.*s.field);
    }
  }
  if (!(y_max > 0)) return {0.0, 1.0};
  const double step = NiceStep(y_max, 5);
  return {0.0, std::ceil(y_max / step) * step};
}

// The learning curves with their baselines and the change/detection markers, as SVG.
std::string CurveSvg(const EvaluationResult& r) {
  constexpr double kWidth = 960, kHeight = 420;
  constexpr double kLeft = 56, kRight = 16, kTop = 16, kBottom = 84;  // axis label and legend below
  constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
  double x_max = 1;
  for (const CurvePoint& p : r.curve) x_max = std::max(x_max, static_cast<double>(p.position + 1));
  for (uint64_t c : r.true_changes) x_max = std::max(x_max, static_cast<double>(c + 1));
  for (const DriftMark& d : r.drifts) x_max = std::max(x_max, static_cast<double>(d.position + 1));
  x_max = std::max(x_max, static_cast<double>(r.events));
  const std::vector<CurveSeries> series = CurveSeriesOf(r);
  const auto [y_min, y_max] = CurveRange(r, series);
  const auto X = [&](double x) { return kLeft + kPlotW * x / x_max; };
  const auto Y = [&](double y) {
    return kTop + kPlotH * (1 - (std::clamp(y, y_min, y_max) - y_min) / (y_max - y_min));
  };

  std::string svg = fmt::format(
      R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-label="learning curves">)svg",
      kWidth, kHeight);
  svg += "\n";
  svg += fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}" fill="#fff" stroke="#999"/>)svg", kLeft, kTop, kPlotW,
                     kPlotH);
  // Grid and axes.
  const double y_step = NiceStep(y_max - y_min, 5);
  for (double y = y_min; y <= y_max + 1e-9 * y_max; y += y_step) {
    svg += fmt::format(R"svg(<line x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}" stroke="#eee"/>)svg", kLeft,
                       kLeft + kPlotW, Y(y));
    svg += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)svg", kLeft - 6,
                       Y(y) + 4, r.regression ? fmt::format("{:.4g}", y) : fmt::format("{:.2f}", y));
  }
  const double x_step = NiceStep(x_max, 8);
  for (double x = 0; x <= x_max; x += x_step) {
    svg += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="middle">{}</text>)svg", X(x),
                       kTop + kPlotH + 16, AxisLabel(x));
  }
  svg += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" class="axis" text-anchor="middle">events (position in the input)</text>)svg",
                     kLeft + kPlotW / 2, kTop + kPlotH + 34);
  svg += fmt::format(R"svg(<text x="14" y="{:.1f}" class="axis" text-anchor="middle" transform="rotate(-90 14 {:.1f})">{}</text>)svg",
                     kTop + kPlotH / 2, kTop + kPlotH / 2, r.regression ? "MAE (lower is better)" : "accuracy");
  svg += "\n";

  // Markers under the curves: true changes dashed green, detections solid red, warnings
  // as short amber ticks at the bottom. Native <title> tooltips (no script).
  for (uint64_t c : r.true_changes) {
    svg += fmt::format(
        R"svg(<line class="change-marker" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 4"><title>true change at {3}</title></line>)svg",
        X(static_cast<double>(c)), kTop, kTop + kPlotH, c);
    svg += "\n";
  }
  size_t warnings_drawn = 0;
  for (const DriftMark& d : r.drifts) {
    if (d.position < 0) continue;
    const double x = X(static_cast<double>(d.position));
    if (d.level == "drift") {
      svg += fmt::format(
          R"svg(<line class="detection-marker" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#d62728" stroke-width="1.5"><title>drift detected at {3} ({4}, action {5})</title></line>)svg",
          x, kTop, kTop + kPlotH, d.position, Escape(d.event_id), Escape(d.action));
      svg += "\n";
    } else if (warnings_drawn++ < 1000) {
      svg += fmt::format(
          R"svg(<line class="warning-marker" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#e6a700" stroke-width="1"><title>warning at {3}</title></line>)svg",
          x, kTop + kPlotH - 10, kTop + kPlotH, d.position);
    }
  }

  // Curves, at most ~1000 points each: more than the plot has pixels for.
  const size_t step = std::max<size_t>(1, (r.curve.size() + 999) / 1000);
  for (const CurveSeries& s : series) {
    std::string points;
    for (size_t i = 0; i < r.curve.size(); i += step) {
      const double v = r.curve[i].*s.field;
      if (!std::isfinite(v)) continue;
      points += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(r.curve[i].position)), Y(v));
    }
    if (!r.curve.empty() && (r.curve.size() - 1) % step != 0 && std::isfinite(r.curve.back().*s.field)) {
      points += fmt::format("{:.1f},{:.1f}", X(static_cast<double>(r.curve.back().position)), Y(r.curve.back().*s.field));
    }
    svg += fmt::format(R"svg(<polyline class="{}" fill="none" {} points="{}"/>)svg", s.name, s.style, points);
    svg += "\n";
  }

  // Legend under the axis, in two rows: inside the plot it would hide a curve.
  struct Entry {
    std::string label;
    const char* style;
  };
  std::vector<Entry> entries;
  for (size_t i : {3, 2, 0, 1}) entries.push_back({series[i].label, series[i].style});  // the model's first
  entries.push_back({"true concept change", R"svg(stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 4")svg"});
  entries.push_back({"drift detected", R"svg(stroke="#d62728" stroke-width="1.5")svg"});
  entries.push_back({"warning", R"svg(stroke="#e6a700" stroke-width="2")svg"});
  svg += "<g class=\"legend\">";
  constexpr size_t kPerRow = 4;
  constexpr double kColumn = kPlotW / kPerRow;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double x = kLeft + kColumn * static_cast<double>(i % kPerRow);
    const double y = kHeight - 34 + 18 * static_cast<double>(i / kPerRow);
    svg += fmt::format(R"svg(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" {}/>)svg", x, x + 28, y - 4, y - 4,
                       entries[i].style);
    svg += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" class="tick">{}</text>)svg", x + 36, y, Escape(entries[i].label));
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

std::string Row(std::initializer_list<std::string> cells, bool header = false) {
  std::string out = "<tr>";
  for (const std::string& c : cells) out += header ? "<th>" + c + "</th>" : "<td>" + c + "</td>";
  return out + "</tr>\n";
}

}  // namespace

std::string FormatFigure(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  const double magnitude = std::abs(v);
  if (v == 0 || (magnitude >= 1e-3 && magnitude < 1e6)) return fmt::format("{:.{}f}", v, decimals);
  return fmt::format("{:.{}g}", v, std::max(decimals, 4));
}

std::string EvaluationTable(const EvaluationResult& r) {
  std::string out;
  out += fmt::format("evaluated {}{}: model {} ({}, version {}), detector {}, action {}\n", r.events_name,
                     r.labels_name.empty() ? "" : " with labels from " + r.labels_name, r.model_name, r.model_type,
                     r.model_version, r.detector, r.drift_action);
  out += fmt::format("  events {}  invalid {}  predictions {}  labelled {}\n", r.events, r.invalid_events,
                     r.predictions, r.labelled);
  out += fmt::format("  clipped feature values {} (features.fields.*.clip_std: outliers)\n", r.clipped_values);
  out += fmt::format("  throughput {:.0f} events/s ({:.2f} s)\n", r.events_per_s, r.seconds);
  AppendMetricsTable(out, r);
  for (const ChallengerStats& c : r.challengers) {
    // Beside the champion, the same figures (its metrics are the processor's own).
    if (r.regression) {
      out += fmt::format("  challenger {} ({} trained): MAE {}  RMSE {}  R2 {}\n", c.name, c.trained, FormatFigure(c.mae),
                         FormatFigure(c.rmse), FormatFigure(c.r2));
    } else {
      out += fmt::format("  challenger {} ({} trained): accuracy {}  rolling {}  log loss {}\n", c.name, c.trained,
                         FormatFigure(c.accuracy), FormatFigure(c.rolling_accuracy), FormatFigure(c.log_loss));
    }
  }
  if (r.selection.enabled) {
    // Which candidate served how much, and when the service changed hands.
    out += fmt::format("model selection by rolling {} ({} switches), serving at the end: {}\n", r.selection.metric,
                       r.selection.switches, r.selection.serving);
    // The name column as wide as the longest name (hoeffding_adaptive_tree is 23).
    size_t name_width = 16;
    for (const CandidateStats& c : r.selection.candidates) name_width = std::max(name_width, c.name.size());
    // The last column is each candidate's rolling figure over the selection window, what the
    // switches compare; the cumulative figures are the ones above, so the header says which.
    out += fmt::format("  {:<{}} {:<10} {:>10} {:>10} {:>16}\n", "candidate", name_width, "kind", "served", "scored",
                       "rolling " + r.selection.metric);
    for (const CandidateStats& c : r.selection.candidates) {
      out += fmt::format("  {:<{}} {:<10} {:>10} {:>10} {:>16}\n", c.name, name_width, c.kind, c.served, c.scored,
                         FormatFigure(c.value));
    }
    // The first switches; the JSON has them all.
    constexpr size_t kSwitchLines = 20;
    for (size_t i = 0; i < r.switches.size() && i < kSwitchLines; ++i) {
      const SwitchMark& s = r.switches[i];
      out += fmt::format("  switch at {} ({} labelled): {} ({}) -> {} ({}), version {}\n",
                         s.position >= 0 ? std::to_string(s.position) : std::string("?"), s.labelled, s.from,
                         FormatFigure(s.from_value), s.to, FormatFigure(s.to_value), s.model_version);
    }
    if (r.switches.size() > kSwitchLines) {
      out += fmt::format("  ... and {} more switches (--json lists them all)\n", r.switches.size() - kSwitchLines);
    }
  }
  out += fmt::format("  drift events {} (warnings {}), model version at the end {}\n", r.drift_count, r.warning_count,
                     r.model_version);
  if (r.divergence_count > 0) {
    std::string at;
    for (const DriftMark& d : r.drifts) {
      if (!d.reason.empty()) at += (at.empty() ? "" : ", ") + Count(d.position);
    }
    out += fmt::format("  divergences {} (the model ran away and was reset) at {}\n", r.divergence_count, at);
  }
  if (!r.data_drifts.empty()) {
    out += fmt::format("  data drift alarms {}: {}\n", r.data_drifts.size(), DataDriftSummary(r));
  }
  for (const FieldSlices& f : r.slices) {
    out += fmt::format("slices of {} ({} labelled): demographic parity difference {} ({} vs {}), equal opportunity "
                       "difference {} ({} vs {})\n",
                       f.field, f.events, FormatFigure(f.demographic_parity_difference), f.parity_max, f.parity_min,
                       FormatFigure(f.equal_opportunity_difference), f.opportunity_max, f.opportunity_min);
    out += fmt::format("  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "value", "events", "accuracy", "log loss", "pos. rate",
                       "TPR");
    for (const SliceFigures& v : f.values) {
      out += fmt::format("  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9}\n", v.value, v.events, FormatFigure(v.accuracy),
                         FormatFigure(v.log_loss), FormatFigure(v.positive_rate), FormatFigure(v.true_positive_rate));
    }
  }
  for (const SliceGapMark& g : r.slice_gaps) {
    out += fmt::format("  slice gap alert at {}: {} {} on {} ({} vs {})\n", g.position, g.metric, FormatFigure(g.gap),
                       g.field, g.max_value, g.min_value);
  }

  if (r.has_concepts) {
    out += "concepts (segments of the events' meta.concept markers, in stream order)\n";
    // A regression has no "correct": its segments count an outcome within a tenth of the
    // target's scale as right (evaluate.cpp), and the headers say so rather than "accuracy".
    const bool regression = r.regression.has_value();
    out += fmt::format("  {:>7} {:>7} {:>10} {:>9} {:>9} {:>12} {:>9}\n", "segment", "concept", "start", "events",
                       regression ? "in 10%" : "accuracy", regression ? "first-N" : "first-N acc.", "recovery");
    for (size_t i = 0; i < r.segments.size(); ++i) {
      const eval::ConceptSegment& s = r.segments[i];
      out += fmt::format("  {:>7} {:>7} {:>10} {:>9} {:>9} {:>12} {:>9}\n", i + 1, s.concept_index, s.start, s.events,
                         Fig(s.mean), fmt::format("{} ({})", Fig(s.first_events_mean), s.first_events),
                         s.recovery_events < 0 ? "-" : std::to_string(s.recovery_events));
    }
    if (regression) {
      out += "  in 10%: share of the segment's outcomes with |error| <= 0.1 * max(1, |target|); first-N: the same over\n"
             "  its first N events (N in brackets); recovery: events after the change until the rolling share is back\n"
             "  within tolerance of the previous segment's (- = not, or n/a)\n";
    } else {
      out += "  first-N acc.: accuracy over the segment's first N events (N in brackets); recovery: events after the\n"
             "  change until the rolling accuracy is back within tolerance of the previous segment's (- = not, or n/a)\n";
    }
    out += "detection (true changes: where meta.concept changes; detections: drift events, by position)\n";
    out += fmt::format("  {:>10} {:>12} {:>8} {:>8}\n", "change at", "detected at", "delay", "repeats");
    for (const eval::ChangeDetection& c : r.detection.changes) {
      out += fmt::format("  {:>10} {:>12} {:>8} {:>8}\n", c.change_at, c.detected_at < 0 ? "missed" : Count(c.detected_at),
                         Count(c.delay), c.repeats);
    }
    out += fmt::format("  detected {} of {}, missed {}, false alarms {}, mean delay {}\n", r.detection.detected,
                       r.detection.changes.size(), r.detection.missed, r.detection.false_alarms.size(),
                       Fig(r.detection.mean_delay, 1));
    if (!r.detection.false_alarms.empty()) {
      std::string list;
      for (size_t i = 0; i < r.detection.false_alarms.size() && i < 20; ++i) {
        list += (i ? ", " : "") + std::to_string(r.detection.false_alarms[i]);
      }
      if (r.detection.false_alarms.size() > 20) list += ", …";
      out += "  false alarms at " + list + "\n";
    }
  } else if (r.drift_count > 0) {
    out += "drifts (no meta.concept markers in the input, so no detection scoring)\n";
    size_t shown = 0;
    for (const DriftMark& d : r.drifts) {
      if (d.level != "drift" || !d.reason.empty()) continue;
      if (shown++ == 20) {
        out += "  …\n";
        break;
      }
      out += fmt::format("  at {} ({}), action {}\n", Count(d.position), d.event_id, d.action);
    }
  }
  if (r.has_labels) {
    const LabelJoinCounts& c = r.label_counts;
    out += fmt::format("labels ({})\n", r.labels_name);
    out += fmt::format(
        "  lines {}  invalid {}  joined {}  early {}  unknown {}  late {}  duplicate {}  expired {}  evicted {}  "
        "pending at end {}\n",
        r.label_lines, r.invalid_labels, c.joined, c.early, c.unknown, c.late, c.duplicate, c.expired, c.evicted,
        r.pending_at_end);
  }
  if (!r.invalid_examples.empty()) {
    out += fmt::format("invalid lines ({} events, {} labels; the first {})\n", r.invalid_events, r.invalid_labels,
                       r.invalid_examples.size());
    for (const InvalidExample& e : r.invalid_examples) out += fmt::format("  {}:{}: {}\n", e.input, e.line, e.reason);
  }
  return out;
}

std::string EvaluationReportHtml(const EvaluationResult& r) {
  std::string html;
  html.reserve(64 * 1024);
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>streamlearn evaluate: " + Escape(r.events_name) + "</title>\n";
  html += R"css(<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1000px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.tick { font-size: 11px; fill: #555; } .axis { font-size: 12px; fill: #333; }
.note { color: #666; font-size: 13px; }
</style>
</head>
<body>
)css";
  html += "<h1>streamlearn evaluate: " + Escape(r.events_name) + "</h1>\n";
  html += fmt::format(
      "<p>model <b>{}</b> ({}, version {} at the end), detector <b>{}</b>, action <b>{}</b>{}. "
      "{} events, {} invalid, {} labelled; {:.0f} events/s.</p>\n",
      Escape(r.model_name), Escape(r.model_type), r.model_version, Escape(r.detector), Escape(r.drift_action),
      r.labels_name.empty() ? "" : "; delayed labels from " + Escape(r.labels_name), r.events, r.invalid_events,
      r.labelled, r.events_per_s);

  html += "<h2>Learning curves</h2>\n";
  html += CurveSvg(r);
  html += "<p class=\"note\">Prequential (test-then-train): every labelled event is scored with the prediction that "
          "was served for it, then learned. Baselines are scored the same way on the same events.</p>\n";

  html += "<h2>Metrics</h2>\n<table>\n";
  if (r.classification) {
    const eval::ClassificationFigures& f = *r.classification;
    html += Row({"metric", "cumulative", fmt::format("rolling ({})", f.rolling_window)}, true);
    const std::pair<const char*, std::pair<double, double>> rows[] = {
        {"accuracy", {f.cumulative.accuracy, f.rolling.accuracy}},
        {"precision", {f.cumulative.precision, f.rolling.precision}},
        {"recall", {f.cumulative.recall, f.rolling.recall}},
        {"F1", {f.cumulative.f1, f.rolling.f1}},
        {"log loss", {f.cumulative.log_loss, f.rolling.log_loss}},
        {"ROC AUC", {f.cumulative.roc_auc, f.rolling.roc_auc}},
        {"majority-class baseline accuracy", {f.majority_class.accuracy, f.majority_class.rolling_accuracy}},
        {"no-change baseline accuracy", {f.no_change.accuracy, f.no_change.rolling_accuracy}},
    };
    for (const auto& [name, v] : rows) html += Row({name, Fig(v.first), Fig(v.second)});
  } else if (r.regression) {
    const eval::RegressionFigures& f = *r.regression;
    html += Row({"metric", "cumulative", fmt::format("rolling ({})", f.rolling_window)}, true);
    html += Row({"MAE", Fig(f.cumulative.mae), Fig(f.rolling.mae)});
    html += Row({"RMSE", Fig(f.cumulative.rmse), Fig(f.rolling.rmse)});
    html += Row({"R²", Fig(f.cumulative.r2), Fig(f.rolling.r2)});
    html += Row({"mean baseline MAE", Fig(f.mean.mae), Fig(f.mean.rolling_mae)});
    html += Row({"no-change baseline MAE", Fig(f.no_change.mae), Fig(f.no_change.rolling_mae)});
  }
  html += Row({"drift events", std::to_string(r.drift_count), ""});
  html += Row({"warnings", std::to_string(r.warning_count), ""});
  html += Row({"data drift alarms", std::to_string(r.data_drifts.size()), Escape(DataDriftSummary(r))});
  html += "</table>\n";

  if (!r.challengers.empty()) {
    html += "<h2>Challengers</h2>\n<table>\n";
    if (r.regression) {
      html += Row({"challenger", "type", "trained", "MAE", "RMSE", "R²"}, true);
      for (const ChallengerStats& c : r.challengers) {
        html += Row({Escape(c.name), Escape(c.type), std::to_string(c.trained), Fig(c.mae), Fig(c.rmse), Fig(c.r2)});
      }
    } else {
      html += Row({"challenger", "type", "trained", "accuracy", "rolling accuracy", "log loss"}, true);
      for (const ChallengerStats& c : r.challengers) {
        html += Row({Escape(c.name), Escape(c.type), std::to_string(c.trained), Fig(c.accuracy), Fig(c.rolling_accuracy),
                     Fig(c.log_loss)});
      }
    }
    html += "</table>\n";
  }

  if (r.selection.enabled) {
    // Which candidate served the predictions scored above, and when that changed.
    html += fmt::format(
        "<h2>Model selection</h2>\n<p>The predictions (and the figures above) are the serving candidate's, chosen by "
        "rolling {}: {} switches; serving at the end: <b>{}</b>.</p>\n<table>\n",
        Escape(r.selection.metric), r.selection.switches, Escape(r.selection.serving));
    html += Row({"candidate", "kind", "served", "scored", "rolling " + Escape(r.selection.metric)}, true);
    for (const CandidateStats& c : r.selection.candidates) {
      html += Row({Escape(c.name), Escape(c.kind), std::to_string(c.served), std::to_string(c.scored), Fig(c.value)});
    }
    html += "</table>\n";
    if (!r.switches.empty()) {
      constexpr size_t kSwitchRows = 200;
      html += "<table>\n";
      html += Row({"switch at", "labelled", "from", "to", "from's figure", "to's figure", "model version"}, true);
      for (size_t i = 0; i < r.switches.size() && i < kSwitchRows; ++i) {
        const SwitchMark& w = r.switches[i];
        html += Row({Count(w.position), std::to_string(w.labelled), Escape(w.from), Escape(w.to), Fig(w.from_value),
                     Fig(w.to_value), std::to_string(w.model_version)});
      }
      html += "</table>\n";
      if (r.switches.size() > kSwitchRows) {
        html += fmt::format("<p class=\"note\">first {} of {} switches</p>\n", kSwitchRows, r.switches.size());
      }
    }
  }

  if (r.has_concepts) {
    html += "<h2>Concepts</h2>\n<table>\n";
    const bool regression = r.regression.has_value();
    html += Row({"segment", "concept", "start", "events", regression ? "share within 10%" : "accuracy",
                 regression ? "first-N share within 10%" : "first-N accuracy", "N", "final rolling", "recovery events"},
                true);
    for (size_t i = 0; i < r.segments.size(); ++i) {
      const eval::ConceptSegment& s = r.segments[i];
      html += Row({std::to_string(i + 1), std::to_string(s.concept_index), std::to_string(s.start),
                   std::to_string(s.events), Fig(s.mean), Fig(s.first_events_mean), std::to_string(s.first_events),
                   Fig(s.final_rolling), s.recovery_events < 0 ? "-" : std::to_string(s.recovery_events)});
    }
    html += "</table>\n";
    if (regression) {
      html += "<p class=\"note\">A regression outcome counts within 10% when |error| &le; 0.1 &times; max(1, |target|)."
              "</p>\n";
    }
    html += "<h2>Detection</h2>\n<table>\n";
    html += Row({"true change at", "detected at", "delay", "repeats"}, true);
    for (const eval::ChangeDetection& c : r.detection.changes) {
      html += Row({std::to_string(c.change_at), c.detected_at < 0 ? "missed" : std::to_string(c.detected_at),
                   Count(c.delay), std::to_string(c.repeats)});
    }
    html += "</table>\n";
    std::string alarms;
    for (size_t i = 0; i < r.detection.false_alarms.size() && i < 50; ++i) {
      alarms += (i ? ", " : "") + std::to_string(r.detection.false_alarms[i]);
    }
    html += fmt::format("<p>detected {} of {}, missed {}, mean delay {}; false alarms {}{}</p>\n", r.detection.detected,
                        r.detection.changes.size(), r.detection.missed, Fig(r.detection.mean_delay, 1),
                        r.detection.false_alarms.size(), alarms.empty() ? "" : " (at " + alarms + ")");
  }

  if (!r.drifts.empty()) {
    html += "<h2>Drift events</h2>\n<table>\n";
    html += Row({"position", "level", "event id", "action", "model version", "ts"}, true);
    size_t shown = 0;
    for (const DriftMark& d : r.drifts) {
      if (shown++ == 200) break;
      html += Row({Count(d.position), Escape(d.level), Escape(d.event_id), Escape(d.action),
                   std::to_string(d.model_version), std::to_string(d.ts_ms)});
    }
    html += "</table>\n";
    if (r.drifts.size() > 200) html += fmt::format("<p class=\"note\">first 200 of {}</p>\n", r.drifts.size());
  }

  if (!r.data_drifts.empty()) {
    html += "<h2>Data drift</h2>\n<table>\n";
    html += Row({"position", "feature", "kind", "detector", "statistic", "event id"}, true);
    size_t shown = 0;
    for (const DataDriftMark& d : r.data_drifts) {
      if (shown++ == 200) break;
      html += Row({Count(d.position), Escape(d.feature), Escape(d.kind), Escape(d.detector), Fig(d.statistic),
                   Escape(d.event_id)});
    }
    html += "</table>\n";
    if (r.data_drifts.size() > 200) html += fmt::format("<p class=\"note\">first 200 of {}</p>\n", r.data_drifts.size());
  }

  for (const FieldSlices& f : r.slices) {
    html += fmt::format("<h2>Slices of {}</h2>\n<p>demographic parity difference {} ({} vs {}); equal opportunity "
                        "difference {} ({} vs {})</p>\n<table>\n",
                        Escape(f.field), Fig(f.demographic_parity_difference), Escape(f.parity_max),
                        Escape(f.parity_min), Fig(f.equal_opportunity_difference), Escape(f.opportunity_max),
                        Escape(f.opportunity_min));
    html += Row({"value", "events", "accuracy", "log loss", "positive rate", "true-positive rate"}, true);
    for (const SliceFigures& v : f.values) {
      html += Row({Escape(v.value), std::to_string(v.events), Fig(v.accuracy), Fig(v.log_loss), Fig(v.positive_rate),
                   Fig(v.true_positive_rate)});
    }
    html += "</table>\n";
  }
  if (!r.slice_gaps.empty()) {
    html += "<h2>Slice gap alerts</h2>\n<table>\n";
    html += Row({"position", "field", "metric", "gap", "highest", "lowest", "event id"}, true);
    for (const SliceGapMark& g : r.slice_gaps) {
      html += Row({Count(g.position), Escape(g.field), Escape(g.metric), Fig(g.gap), Escape(g.max_value),
                   Escape(g.min_value), Escape(g.event_id)});
    }
    html += "</table>\n";
  }

  if (r.has_labels) {
    const LabelJoinCounts& c = r.label_counts;
    html += "<h2>Delayed labels</h2>\n<table>\n";
    html += Row({"lines", "invalid", "joined", "early", "unknown", "late", "duplicate", "expired", "evicted",
                 "pending at end"},
                true);
    html += Row({std::to_string(r.label_lines), std::to_string(r.invalid_labels), std::to_string(c.joined),
                 std::to_string(c.early), std::to_string(c.unknown), std::to_string(c.late),
                 std::to_string(c.duplicate), std::to_string(c.expired), std::to_string(c.evicted),
                 std::to_string(r.pending_at_end)});
    html += "</table>\n";
  }
  if (!r.invalid_examples.empty()) {
    html += "<h2>Invalid lines</h2>\n<table>\n";
    html += Row({"input", "line", "reason"}, true);
    for (const InvalidExample& e : r.invalid_examples) {
      html += Row({Escape(e.input), std::to_string(e.line), Escape(e.reason)});
    }
    html += "</table>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace streamlearn::pipeline

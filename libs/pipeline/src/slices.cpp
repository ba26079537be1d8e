#include "streamlearn/pipeline/slices.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "streamlearn/core/json_writer.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Tracked values per field: a few times what is reported, so that a value that becomes
// frequent after the first ones is still counted on its own.
constexpr size_t kTrackedPerReported = 4;

double Ratio(uint64_t num, uint64_t den) {
  return den == 0 ? kNaN : static_cast<double>(num) / static_cast<double>(den);
}

void NumberOrNull(JsonWriter& w, std::string_view key, double v) {
  if (std::isfinite(v)) {
    w.field(key, v);
  } else {
    w.key(key).null();
  }
}

}  // namespace

void WriteFieldSlicesJson(JsonWriter& w, const FieldSlices& s) {
  w.begin_object().field("field", std::string_view(s.field)).field("events", s.events);
  NumberOrNull(w, "demographic_parity_difference", s.demographic_parity_difference);
  NumberOrNull(w, "equal_opportunity_difference", s.equal_opportunity_difference);
  w.key("values").begin_array();
  for (const SliceFigures& v : s.values) {
    w.begin_object().field("value", std::string_view(v.value)).field("events", v.events).field("positives", v.positives);
    NumberOrNull(w, "accuracy", v.accuracy);
    NumberOrNull(w, "log_loss", v.log_loss);
    NumberOrNull(w, "positive_rate", v.positive_rate);
    NumberOrNull(w, "true_positive_rate", v.true_positive_rate);
    w.end_object();
  }
  w.end_array().end_object();
}

SliceMetrics::SliceMetrics(std::vector<std::string> fields, size_t top_k, double gap_alert, bool binary)
    : top_k_(top_k), capacity_(top_k * kTrackedPerReported), gap_alert_(gap_alert), binary_(binary) {
  for (std::string& name : fields) {
    Field f;
    f.name = std::move(name);
    f.values.emplace_back(kOtherSlice);
    f.counts.emplace_back();
    f.slot_of.reserve(capacity_);
    f.values.reserve(capacity_ + 1);
    f.counts.reserve(capacity_ + 1);
    fields_.push_back(std::move(f));
  }
}
SliceMetrics::~SliceMetrics() = default;
SliceMetrics::SliceMetrics(SliceMetrics&&) noexcept = default;

uint32_t SliceMetrics::slot(Field& f, std::string_view value) {
  if (auto it = f.slot_of.find(value); it != f.slot_of.end()) return it->second;
  if (f.values.size() - 1 >= capacity_) return 0;  // "(other)"
  const auto s = static_cast<uint32_t>(f.values.size());
  f.slot_of.emplace(std::string(value), s);
  f.values.emplace_back(value);
  f.counts.emplace_back();
  return s;
}

void SliceMetrics::select(const Event& event) {
  for (Field& f : fields_) {
    std::string_view value = kMissingSlice;
    bool found = false;
    for (const auto& c : event.categorical) {
      if (c.name == f.name) {
        value = c.value;
        found = true;
        break;
      }
    }
    if (!found) {
      for (const auto& n : event.numeric) {
        if (n.name == f.name) {
          const int len = std::snprintf(number_, sizeof number_, "%g", n.value);
          value = std::string_view(number_, static_cast<size_t>(std::max(0, len)));
          break;
        }
      }
    }
    f.current = slot(f, value);
  }
  selected_ = true;
}

void SliceMetrics::record(int predicted, double p_true, double y) {
  if (!selected_) return;
  const bool correct = predicted == static_cast<int>(y);
  const double loss = -std::log(std::clamp(p_true, 1e-15, 1.0));
  for (Field& f : fields_) {
    Counts& c = f.counts[f.current];
    c.events++;
    c.correct += correct ? 1 : 0;
    c.log_loss_sum += std::isfinite(loss) ? loss : 0;
    if (binary_) {
      c.predicted_positive += predicted == 1 ? 1 : 0;
      c.positives += y >= 0.5 ? 1 : 0;
      c.true_positives += predicted == 1 && y >= 0.5 ? 1 : 0;
    }
    f.events++;
    if (gap_alert_ > 0 && binary_ && f.events % kCheckEvery == 0) check(f);
  }
}

SliceMetrics::Gap SliceMetrics::GapOf(const Field& f, bool opportunity, uint64_t min_base) {
  Gap g;
  bool any = false;
  size_t qualifying = 0;
  for (uint32_t s = 1; s < f.counts.size(); ++s) {
    const Counts& c = f.counts[s];
    const uint64_t base = opportunity ? c.positives : c.events;
    if (base < min_base) continue;
    const double rate = opportunity ? Ratio(c.true_positives, c.positives) : Ratio(c.predicted_positive, c.events);
    ++qualifying;
    if (!any || rate > g.max_rate) {
      g.max_rate = rate;
      g.max_slot = s;
    }
    if (!any || rate < g.min_rate) {
      g.min_rate = rate;
      g.min_slot = s;
    }
    any = true;
  }
  g.gap = qualifying >= 2 ? g.max_rate - g.min_rate : kNaN;
  return g;
}

void SliceMetrics::check(Field& f) {
  for (bool opportunity : {false, true}) {
    const Gap g = GapOf(f, opportunity, kMinAlertEvents);
    bool& alerted = opportunity ? f.opportunity_alerted : f.parity_alerted;
    const bool beyond = std::isfinite(g.gap) && g.gap > gap_alert_;
    if (beyond && !alerted) {
      SliceGapAlert a;
      a.field = f.name;
      a.metric = opportunity ? "equal_opportunity" : "demographic_parity";
      a.gap = g.gap;
      a.threshold = gap_alert_;
      a.max_value = f.values[g.max_slot];
      a.min_value = f.values[g.min_slot];
      a.max_rate = g.max_rate;
      a.min_rate = g.min_rate;
      a.events = f.events;
      alerts_.push_back(std::move(a));
    }
    alerted = beyond;
  }
}

FieldSlices SliceMetrics::report(const Field& f) const {
  FieldSlices out;
  out.field = f.name;
  out.events = f.events;
  std::vector<uint32_t> order;
  for (uint32_t s = 1; s < f.counts.size(); ++s) {
    if (f.counts[s].events > 0) order.push_back(s);
  }
  // Largest count first; ties in first-seen order (deterministic).
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return f.counts[a].events > f.counts[b].events; });
  Counts other = f.counts[0];
  auto figures = [&](std::string_view value, const Counts& c) {
    SliceFigures v;
    v.value = std::string(value);
    v.events = c.events;
    v.positives = c.positives;
    v.accuracy = Ratio(c.correct, c.events);
    v.log_loss = c.events == 0 ? kNaN : c.log_loss_sum / static_cast<double>(c.events);
    v.positive_rate = binary_ ? Ratio(c.predicted_positive, c.events) : kNaN;
    v.true_positive_rate = binary_ ? Ratio(c.true_positives, c.positives) : kNaN;
    return v;
  };
  for (size_t i = 0; i < order.size(); ++i) {
    const Counts& c = f.counts[order[i]];
    if (i < top_k_) {
      out.values.push_back(figures(f.values[order[i]], c));
      continue;
    }
    other.events += c.events;
    other.correct += c.correct;
    other.predicted_positive += c.predicted_positive;
    other.positives += c.positives;
    other.true_positives += c.true_positives;
    other.log_loss_sum += c.log_loss_sum;
  }
  if (other.events > 0) out.values.push_back(figures(kOtherSlice, other));
  out.demographic_parity_difference = kNaN;
  out.equal_opportunity_difference = kNaN;
  if (binary_) {
    const Gap parity = GapOf(f, false, kMinSliceEvents);
    const Gap opportunity = GapOf(f, true, kMinSliceEvents);
    out.demographic_parity_difference = parity.gap;
    out.equal_opportunity_difference = opportunity.gap;
    if (std::isfinite(parity.gap)) {
      out.parity_max = f.values[parity.max_slot];
      out.parity_min = f.values[parity.min_slot];
    }
    if (std::isfinite(opportunity.gap)) {
      out.opportunity_max = f.values[opportunity.max_slot];
      out.opportunity_min = f.values[opportunity.min_slot];
    }
  }
  return out;
}

std::vector<FieldSlices> SliceMetrics::report() const {
  std::vector<FieldSlices> out;
  out.reserve(fields_.size());
  for (const Field& f : fields_) out.push_back(report(f));
  return out;
}

}  // namespace streamlearn::pipeline

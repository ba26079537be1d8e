#include "streamlearn/eval/concepts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include "streamlearn/core/json_text.hpp"

namespace streamlearn::eval {

ConceptTracker::ConceptTracker(ConceptTrackerOptions options) : options_(options) {
  options_.first_events = std::max<size_t>(options_.first_events, 1);
  options_.rolling_window = std::max<size_t>(options_.rolling_window, 1);
  window_.resize(options_.rolling_window);
}

void ConceptTracker::update(int concept_index, double value) {
  if (segments_.empty() || segments_.back().concept_index != concept_index) {
    ConceptSegment next;
    next.concept_index = concept_index;
    next.start = position_;
    if (!segments_.empty()) next.previous_final_rolling = segments_.back().final_rolling;
    segments_.push_back(next);
    segment_sum_ = first_sum_ = window_sum_ = 0;
    window_next_ = window_filled_ = 0;
  }
  ConceptSegment& s = segments_.back();
  ++s.events;
  segment_sum_ += value;
  s.mean = segment_sum_ / static_cast<double>(s.events);
  if (s.events <= options_.first_events) {
    first_sum_ += value;
    s.first_events = s.events;
    s.first_events_mean = first_sum_ / static_cast<double>(s.events);
  }

  if (window_filled_ == window_.size()) {
    window_sum_ -= window_[window_next_];
  } else {
    ++window_filled_;
  }
  window_[window_next_] = value;
  window_sum_ += value;
  window_next_ = window_next_ + 1 == window_.size() ? 0 : window_next_ + 1;
  if (window_next_ == 0 && window_filled_ == window_.size()) {
    // Once per lap, re-add from scratch so that losses (not exact in binary, unlike 0/1)
    // do not accumulate rounding in the running sum.
    window_sum_ = 0;
    for (double v : window_) window_sum_ += v;
  }
  s.final_rolling = window_sum_ / static_cast<double>(window_filled_);

  if (s.recovery_events < 0 && segments_.size() > 1 && window_filled_ == window_.size()) {
    const double tolerance = options_.recovery_tolerance;
    const bool recovered = options_.measure == ConceptTrackerOptions::Measure::kAccuracy
                               ? s.final_rolling >= s.previous_final_rolling - tolerance
                               : s.final_rolling <= s.previous_final_rolling + tolerance;
    if (recovered) s.recovery_events = static_cast<int64_t>(s.events);
  }
  ++position_;
}

std::vector<uint64_t> ConceptTracker::change_positions() const {
  std::vector<uint64_t> changes;
  for (size_t i = 1; i < segments_.size(); ++i) changes.push_back(segments_[i].start);
  return changes;
}

std::vector<ConceptSummary> ConceptTracker::per_concept() const {
  std::map<int, ConceptSummary> by_concept;
  for (const ConceptSegment& s : segments_) {
    ConceptSummary& c = by_concept[s.concept_index];
    c.concept_index = s.concept_index;
    ++c.segments;
    // Weighted by events: the mean over all the concept's events.
    c.mean = (c.mean * static_cast<double>(c.events) + s.mean * static_cast<double>(s.events)) /
             static_cast<double>(c.events + s.events);
    c.events += s.events;
  }
  std::vector<ConceptSummary> out;
  for (const auto& [index, summary] : by_concept) out.push_back(summary);
  return out;
}

DetectionScore ScoreDetections(std::vector<uint64_t> true_changes, std::vector<uint64_t> detections,
                               uint64_t tolerance) {
  std::sort(true_changes.begin(), true_changes.end());
  true_changes.erase(std::unique(true_changes.begin(), true_changes.end()), true_changes.end());
  std::sort(detections.begin(), detections.end());

  DetectionScore score;
  for (uint64_t c : true_changes) score.changes.push_back(ChangeDetection{c, -1, -1, 0});
  size_t d = 0;
  for (; d < detections.size() && (true_changes.empty() || detections[d] < true_changes[0]); ++d) {
    score.false_alarms.push_back(detections[d]);
  }
  for (size_t i = 0; i < true_changes.size(); ++i) {
    const uint64_t change = true_changes[i];
    const uint64_t next = i + 1 < true_changes.size() ? true_changes[i + 1] : std::numeric_limits<uint64_t>::max();
    // The end of the attribution window, without overflowing change + tolerance.
    const uint64_t until = tolerance >= next - change ? next : change + tolerance;
    ChangeDetection& c = score.changes[i];
    for (; d < detections.size() && detections[d] < next; ++d) {
      if (detections[d] >= until) {
        score.false_alarms.push_back(detections[d]);
      } else if (c.detected_at < 0) {
        c.detected_at = static_cast<int64_t>(detections[d]);
        c.delay = static_cast<int64_t>(detections[d] - change);
      } else {
        ++c.repeats;
      }
    }
  }
  double delay_sum = 0;
  for (const ChangeDetection& c : score.changes) {
    if (c.detected_at < 0) {
      ++score.missed;
    } else {
      ++score.detected;
      delay_sum += static_cast<double>(c.delay);
    }
    score.repeats += c.repeats;
  }
  if (score.detected > 0) score.mean_delay = delay_sum / static_cast<double>(score.detected);
  return score;
}

namespace {

void Key(std::string& out, std::string_view name) {
  AppendJsonString(out, name);
  out.push_back(':');
}

void AppendOptional(std::string& out, int64_t value) {
  if (value < 0) {
    out.append("null");
  } else {
    AppendJsonInteger(out, value);
  }
}

}  // namespace

void AppendSegmentsJson(std::string& out, const std::vector<ConceptSegment>& segments,
                        ConceptTrackerOptions::Measure measure) {
  const bool accuracy = measure == ConceptTrackerOptions::Measure::kAccuracy;
  const std::string_view name = accuracy ? "accuracy" : "loss";
  const auto named = [&](std::string_view prefix, std::string_view suffix) {
    return std::string(prefix) + std::string(name) + std::string(suffix);
  };
  out.push_back('[');
  for (size_t i = 0; i < segments.size(); ++i) {
    const ConceptSegment& s = segments[i];
    if (i) out.push_back(',');
    out.push_back('{');
    Key(out, "concept");
    AppendJsonInteger(out, s.concept_index);
    out.push_back(',');
    Key(out, "start");
    AppendJsonUnsigned(out, s.start);
    out.push_back(',');
    Key(out, "events");
    AppendJsonUnsigned(out, s.events);
    out.push_back(',');
    Key(out, name);
    AppendJsonNumber(out, s.mean);
    out.push_back(',');
    Key(out, "first_events");
    AppendJsonUnsigned(out, s.first_events);
    out.push_back(',');
    Key(out, named("first_events_", ""));
    AppendJsonNumber(out, s.first_events_mean);
    out.push_back(',');
    Key(out, named("final_rolling_", ""));
    AppendJsonNumber(out, s.final_rolling);
    out.push_back(',');
    Key(out, named("previous_final_rolling_", ""));
    AppendJsonNumber(out, s.previous_final_rolling);
    out.push_back(',');
    Key(out, "recovery_events");
    AppendOptional(out, s.recovery_events);
    out.push_back('}');
  }
  out.push_back(']');
}

void AppendDetectionJson(std::string& out, const DetectionScore& score) {
  out.append("{\"changes\":[");
  for (size_t i = 0; i < score.changes.size(); ++i) {
    const ChangeDetection& c = score.changes[i];
    if (i) out.push_back(',');
    out.append("{\"at\":");
    AppendJsonUnsigned(out, c.change_at);
    out.append(",\"detected_at\":");
    AppendOptional(out, c.detected_at);
    out.append(",\"delay\":");
    AppendOptional(out, c.delay);
    out.append(",\"repeats\":");
    AppendJsonUnsigned(out, c.repeats);
    out.push_back('}');
  }
  out.append("],\"detected\":");
  AppendJsonUnsigned(out, score.detected);
  out.append(",\"missed\":");
  AppendJsonUnsigned(out, score.missed);
  out.append(",\"false_alarms\":[");
  for (size_t i = 0; i < score.false_alarms.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonUnsigned(out, score.false_alarms[i]);
  }
  out.append("],\"repeats\":");
  AppendJsonUnsigned(out, score.repeats);
  out.append(",\"mean_delay\":");
  AppendJsonNumber(out, score.mean_delay);
  out.push_back('}');
}

}  // namespace streamlearn::eval

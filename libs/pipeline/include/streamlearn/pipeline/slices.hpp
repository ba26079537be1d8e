#pragma once
// Sliced metrics, for fairness: per value of an input field (metrics.slices), the
// prequential accuracy, log loss, positive rate and true-positive rate of the served
// predictions, and the largest gaps between values:
//   demographic parity difference = max - min positive rate (predicted 1) across values;
//   equal opportunity difference  = max - min true-positive rate across values.
// Only tracked values (not "(other)") with at least kMinSliceEvents events (for the positive
// rate) or positives (for the true-positive rate) enter a gap: a value seen 3 times is
// noise, not a group.
//
// Bounded: per field the first 4 x top_k distinct values get counters of their own, later
// ones count as "(other)"; reports list the top_k values by count and "(other)" for the rest.
// Allocation-free per event once every tracked value has been seen (the lookup takes a
// string_view). Binary models get all four figures; multiclass models accuracy and log loss
// (positive rate and true-positive rate are undefined: NaN, null in JSON).
//
// An event is sliced when its label is known while it is processed (inline, or a delayed
// label that came first); a delayed label that joins later is not (its event's field values
// are not kept). Slices are not checkpointed: they start again at a restart.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamlearn/core/event.hpp"

namespace streamlearn {
class JsonWriter;
}

namespace streamlearn::pipeline {

inline constexpr uint64_t kMinSliceEvents = 100;
// A gap alert waits until every value in it has this many events (parity) or positives
// (opportunity): a rate's standard error is then at most 0.016, so a threshold such as 0.1
// is not crossed by noise alone in the first few hundred events.
inline constexpr uint64_t kMinAlertEvents = 1000;
inline constexpr std::string_view kOtherSlice = "(other)";
inline constexpr std::string_view kMissingSlice = "(missing)";

struct SliceFigures {
  std::string value;
  uint64_t events = 0;
  uint64_t positives = 0;  // events labelled 1 (binary)
  double accuracy = 0;
  double log_loss = 0;
  double positive_rate = 0;       // share predicted 1 (binary; NaN otherwise)
  double true_positive_rate = 0;  // predicted 1 among labelled 1 (NaN without positives)
};

struct FieldSlices {
  std::string field;
  uint64_t events = 0;
  std::vector<SliceFigures> values;  // top_k by count, largest first, then "(other)" if any
  // NaN when fewer than two values qualify (see the top of this file).
  double demographic_parity_difference = 0;
  double equal_opportunity_difference = 0;
  std::string parity_max, parity_min;        // the values at the ends of the gap
  std::string opportunity_max, opportunity_min;
};

// One field's figures as a JSON object: the one form /v1/status and evaluate write.
void WriteFieldSlicesJson(JsonWriter& w, const FieldSlices& s);

// A gap beyond metrics.slice_gap_alert, once per crossing (it may fire again after the gap
// has fallen back below the threshold).
struct SliceGapAlert {
  std::string field;
  std::string_view metric;  // "demographic_parity" | "equal_opportunity"
  double gap = 0;
  double threshold = 0;
  std::string max_value, min_value;
  double max_rate = 0, min_rate = 0;
  uint64_t events = 0;  // events of the field sliced so far
};

class SliceMetrics {
 public:
  // `binary`: the model predicts 0/1 (positive rate and true-positive rate are defined).
  SliceMetrics(std::vector<std::string> fields, size_t top_k, double gap_alert, bool binary);
  ~SliceMetrics();
  SliceMetrics(SliceMetrics&&) noexcept;

  // The event whose outcome comes next: its value of each field (categorical, or a number
  // written as %g, or "(missing)"). clear() after the event.
  void select(const Event& event);
  void clear() { selected_ = false; }
  bool selected() const { return selected_; }
  // The selected event's outcome: the class served, the probability it gave the true class,
  // the label. Gap alerts it crossed (checked every kCheckEvery outcomes) wait in alerts().
  void record(int predicted, double p_true, double y);
  std::vector<SliceGapAlert>& alerts() { return alerts_; }  // the caller publishes and clears

  std::vector<FieldSlices> report() const;
  size_t fields() const { return fields_.size(); }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Counts {
    uint64_t events = 0, correct = 0, predicted_positive = 0, positives = 0, true_positives = 0;
    double log_loss_sum = 0;
  };
  struct Field {
    std::string name;
    std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>> slot_of;
    std::vector<std::string> values;  // [0] is "(other)"
    std::vector<Counts> counts;       // per slot
    uint32_t current = 0;             // the selected event's slot
    uint64_t events = 0;
    bool parity_alerted = false, opportunity_alerted = false;
  };
  static constexpr uint64_t kCheckEvery = 100;

  uint32_t slot(Field& f, std::string_view value);
  struct Gap {
    double gap = 0;  // NaN when fewer than two values qualify
    uint32_t max_slot = 0, min_slot = 0;
    double max_rate = 0, min_rate = 0;
  };
  // Across the field's qualifying values: positive rates (parity) or true-positive rates.
  static Gap GapOf(const Field& f, bool opportunity, uint64_t min_base);
  FieldSlices report(const Field& f) const;
  void check(Field& f);

  std::vector<Field> fields_;
  size_t top_k_;
  size_t capacity_;  // tracked values per field
  double gap_alert_;
  bool binary_;
  bool selected_ = false;
  char number_[32] = {};
  std::vector<SliceGapAlert> alerts_;
};

}  // namespace streamlearn::pipeline

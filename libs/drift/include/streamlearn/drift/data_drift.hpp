#pragma once
// Data drift: watches each input feature's distribution, apart from concept drift (which
// watches the model's errors), and names the feature that moved.
//
//  - numeric feature: a River detector on the raw value, one per feature, built by
//    MakeDetector from `numeric_detector` ("adwin" or "kswin") and `numeric_params`
//    (River's parameter names). An alarm is the detector's kDrift.
//  - categorical feature: the population stability index (PSI) between a reference window
//    and a current window of its values.
//
// PSI = sum over bins b of (cur_b - ref_b) * ln(cur_b / ref_b), where ref_b and cur_b are
// the shares of bin b in the reference and the current window, each raised to at least
// `psi_epsilon` (so an empty bin counts as a share of epsilon instead of 0, which would
// make the logarithm infinite). Bins are the categories in first-seen order, at most
// `max_categories` of them; later categories share one "other" bin. Rule of thumb (credit
// scoring, where PSI comes from): < 0.1 no significant change, 0.1-0.25 moderate,
// > 0.25 significant; hence `psi_threshold` = 0.25.
//
// Windows of a categorical feature: its first `psi_reference_size` values fill the
// reference, which then stays fixed. The current window SLIDES over the last
// `psi_current_size` values (sliding rather than tumbling, so a change is seen in full
// one window after it happened, not up to two). Once the current window is full, PSI is
// computed on the value that filled it and then every `psi_eval_every` values (a PSI
// costs one pass over the bins). PSI > psi_threshold is an alarm.
//
// Once per change (cool-down): after a PSI alarm the feature starts over as at the start:
// the next `psi_reference_size` values make a new reference (the changed distribution)
// and the current window fills after it, so the feature is quiet for at least
// psi_reference_size + psi_current_size values and one abrupt change is one alarm.
// (Taking the current window as the new reference would not do: a sliding window
// crosses the threshold when only part of it has changed, and that mix against the fully
// changed window is, for a large change, a second alarm for the same change.) After an
// ADWIN or KSWIN drift the detector keeps River's semantics: its next update starts from
// an empty window, so it needs fresh evidence (ADWIN: > grace_period values, tested every
// `clock`; KSWIN: window_size values) before it can fire again.
//
// Notes for numeric features:
//  - NaN and ±Inf are never fed to a detector; they are skipped and counted per feature.
//  - ADWIN's cut bound eps = sqrt(2 m var d) + 2/3 d m is scale-sensitive: the variance
//    term scales with the values, the 2/3 d m term assumes values in [0, 1]. On large-
//    scale values the bound is the usual Hoeffding-with-variance one; on values much
//    smaller than 1 the second term dominates and shifts are found late or never (use
//    kswin or rescale such features). KSWIN works on any scale (ranks only).
//  - KSWIN without a `seed` parameter would seed from std::random_device; the monitor
//    sets seed=42 instead, so a run and its replay from a checkpoint detect the same.
//    KSWIN allocates inside its update (its sampling); ADWIN only when its histogram
//    grows a row (log2 of the window length), never per value.
//  - KSWIN tests on every update once its window is full, so with River's alpha = 0.005
//    it raises about 1.3 false alarms per 1,000 stationary values (drift_bench); for a
//    monitor give it a smaller alpha (1e-4: about 0.08 per 1,000). ADWIN's defaults gave
//    none in 1,000,000 stationary values.
//
// Keys: a feature is identified by its kind and name (numeric "x" and categorical "x"
// are two features). The hot path looks a name up without allocating; a caller that
// already has a stable small integer per name (the FeatureDictionary's dense id) can pass
// it too and skip the hash lookup (a vector index instead). An id must stay bound to one
// name for the monitor's lifetime; numeric and categorical ids are separate spaces. Ids
// are a cache only: they are not saved, and a loaded monitor re-binds them by name.
// Beyond the detectors themselves, the monitor allocates only when a feature, a category
// or an id is seen for the first time (at most max_features and max_categories of them),
// when a categorical's current window first fills, and when an alarm builds its event.
//
// Calibrated alarms (all off in a default DataDriftConfig; the pipeline turns them on):
//  - false_alarm_rate: the target alarms per value of a stationary feature. Sets ADWIN's
//    delta (AdwinDeltaForRate) or KSWIN's alpha unless numeric_params give them.
//  - numeric_block: ADWIN sees the mean of each block of that many quantiles, stretched by
//    sqrt(block) around 0.5 (independent quantiles' block means then vary as one quantile
//    does). Stationary but autocorrelated inputs, a cyclical counter visited in order
//    above all, made most false alarms: ADWIN compared one run (a day) against the rest.
//    ADWIN's clock becomes 32 / block and its min_window_length 2 blocks.
//  - warmup: no alarm in a feature's first `warmup` values; cooldown: none within
//    `cooldown` values after its previous alarm. A detection then is counted as
//    suppressed and adapts the detector as an alarm would, without an event.
// The measurements: bench/data_drift_calibration.cpp, docs/operations.md.
//
// Bounded memory: at most `max_features` features (numeric and categorical together);
// values of further features are ignored and counted (ignored_values()). Per categorical
// feature: max_categories + 1 bins and a ring of psi_current_size 2-byte bin ids.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/drift/detector.hpp"

namespace streamlearn::drift {

class Adwin;
class Kswin;

struct DataDriftConfig {
  std::string numeric_detector = "adwin";              // "adwin" | "kswin"
  std::map<std::string, std::string> numeric_params;   // River names, as MakeDetector takes
  // ADWIN sees each value's quantile in a reference sample of the feature's first
  // `numeric_reference_size` values (mid-rank / size, in [0, 1]), not the raw value: its
  // bound assumes values in [0, 1], and on raw heavy-tailed inputs (amounts with rare
  // 1e9 outliers) it fires all the time on a stationary stream. A location or shape shift
  // moves the quantiles' mean away from 0.5. After an alarm the reference is rebuilt from
  // the values that follow. 0 = raw values (River's ADWIN on the value itself). KSWIN is
  // rank-based already and always sees raw values.
  uint32_t numeric_reference_size = 1000;
  uint32_t psi_reference_size = 5000;  // values that make a categorical's reference
  uint32_t psi_current_size = 5000;    // values in its sliding current window
  uint32_t psi_eval_every = 100;       // PSI every this many values once the window is full
  double psi_threshold = 0.25;         // PSI above this is an alarm ("significant shift")
  double psi_epsilon = 1e-4;           // floor of a bin's share (empty bins)
  uint32_t max_categories = 32;        // bins per categorical besides "other"
  uint32_t max_features = 256;         // numeric + categorical features tracked
  uint32_t top_categories = 5;         // bins listed in a categorical event
  // Calibration (see "Calibrated alarms" above). 0 everywhere = the detectors as River has
  // them; the pipeline turns calibration on by default.
  double false_alarm_rate = 0;   // target alarms per value per stationary feature; sets delta
  uint32_t numeric_block = 1;    // quantiles averaged per ADWIN input (1 = every value)
  uint32_t warmup = 0;           // values of a feature before it may alarm
  uint32_t cooldown = 0;         // values of a feature after an alarm before the next

  // InvalidArgument naming the field (and the detector's own message for its params).
  Status validate() const;
  bool operator==(const DataDriftConfig&) const = default;
};

enum class FeatureKind : uint8_t { kNumeric = 0, kCategorical = 1 };

constexpr std::string_view ToString(FeatureKind kind) {
  return kind == FeatureKind::kNumeric ? "numeric" : "categorical";
}

// The name of the pooled bin in events and counters.
inline constexpr std::string_view kOtherCategory = "(other)";

// One bin of a categorical event: shares as observed (not epsilon-floored).
struct CategoryShare {
  std::string category;
  double reference_share = 0;
  double current_share = 0;
  double contribution = 0;  // this bin's term of the PSI sum
  bool operator==(const CategoryShare&) const = default;
};

// What the pipeline turns into a `data_drift` record on the drift topic and a metric.
struct DataDriftEvent {
  std::string feature;
  FeatureKind kind = FeatureKind::kNumeric;
  std::string detector;  // "adwin" | "kswin" | "psi"
  // psi: the PSI; adwin: |current_mean - reference_mean|, the gap that beat ADWIN's bound;
  // kswin: the KS statistic D (its p-value is in `stats`).
  double statistic = 0;
  double threshold = 0;        // psi: psi_threshold; kswin: alpha; adwin: delta
  uint64_t observations = 0;   // values of this feature observed so far, this one included
  uint64_t alarms = 0;         // this feature's alarms so far, this one included
  // The two sides that were compared, with how many values each summarises:
  //  adwin: the dropped older part of the window vs the part kept (which can still hold
  //         values from before the change, so its mean lies between the two levels);
  //  kswin: the older window_size - stat_size values vs the newest stat_size;
  //  psi:   the reference window vs the current window.
  uint64_t reference_count = 0;
  uint64_t current_count = 0;
  double reference_mean = 0;   // numeric only
  double current_mean = 0;     // numeric only
  std::vector<CategoryShare> top_categories;  // psi only: largest PSI terms first
  // numeric: the detector's stats(); psi: psi, threshold, epsilon, bins, pooled.
  std::vector<std::pair<std::string, double>> stats;
  bool operator==(const DataDriftEvent&) const = default;
};

// Per-feature figures for metrics.
struct FeatureDriftCounters {
  std::string feature;
  FeatureKind kind = FeatureKind::kNumeric;
  uint64_t observations = 0;  // values fed (numeric: finite ones)
  uint64_t alarms = 0;
  uint64_t non_finite = 0;    // numeric: NaN/Inf skipped
  uint64_t pooled = 0;        // categorical: values that went to the "other" bin
  uint32_t categories = 0;    // categorical: categories tracked (besides "other")
  uint64_t psi_evaluations = 0;
  double last_psi = 0;        // categorical: the latest PSI computed (0 before the first)
  double max_psi = 0;         // categorical: the largest PSI computed so far
  double estimation = 0;      // numeric: the detector's estimation() (window mean)
  uint64_t suppressed = 0;    // detections within the warm-up or a cool-down (not alarms)
  bool operator==(const FeatureDriftCounters&) const = default;
};

// The largest false_alarm_rate accepted (one alarm per 100 values).
inline constexpr double kMaxFalseAlarmRate = 0.01;
// The detector significance that gives `rate` alarms per value on a stationary feature
// (measured by data_drift_calibration; see "Calibrated alarms" above).
double AdwinDeltaForRate(double rate, uint32_t numeric_block);
double KswinAlphaForRate(double rate);

// PSI of two count vectors over the same bins (see the top of this file). Bins where
// both windows are empty contribute exactly 0; an all-zero side counts as all-empty.
double PopulationStabilityIndex(std::span<const uint32_t> reference_counts,
                                std::span<const uint32_t> current_counts, double epsilon);

// Where `value` falls in a sorted sample, in [0, 1]: (values below it + values not above
// it) / (2 n), so a run of ties sits at its middle. What ADWIN sees of a numeric feature
// (numeric_reference_size); 0.5 for an empty sample or a NaN (the monitor never feeds one).
double MidRankQuantile(std::span<const double> sorted, double value);

// The same quantile, found through `block_lasts` (QuantileBlockLasts of `sorted`): that
// small array is searched first, then one block of kQuantileBlock values, so a search
// touches a few cache lines of the sample instead of one per halving (the monitor sees
// one event in drift.data.sample, so the samples are mostly out of cache). The ranks are
// the plain search's, so the result is bit for bit the same. Without a matching index
// (its size is not ceil(n / kQuantileBlock)) it falls back to the plain search.
inline constexpr size_t kQuantileBlock = 16;
double MidRankQuantile(std::span<const double> sorted, std::span<const double> block_lasts, double value);
// The last value of each block of kQuantileBlock values of `sorted` (the last block may be
// shorter), into *out.
void QuantileBlockLasts(std::span<const double> sorted, std::vector<double>* out);

class DataDriftMonitor {
 public:
  static Result<DataDriftMonitor> Create(const DataDriftConfig& config);

  DataDriftMonitor(DataDriftMonitor&&) noexcept;
  DataDriftMonitor& operator=(DataDriftMonitor&&) noexcept;
  ~DataDriftMonitor();

  // One value of a numeric feature; an event when its detector reports a drift.
  std::optional<DataDriftEvent> observe_numeric(std::string_view feature, double value);
  // The same, with the caller's stable id for `feature` (see the top of this file).
  std::optional<DataDriftEvent> observe_numeric(uint32_t id, std::string_view feature,
                                                double value);
  // One value of a categorical feature; an event when its PSI crosses the threshold.
  std::optional<DataDriftEvent> observe_categorical(std::string_view feature,
                                                    std::string_view value);
  std::optional<DataDriftEvent> observe_categorical(uint32_t id, std::string_view feature,
                                                    std::string_view value);

  const DataDriftConfig& config() const { return config_; }
  // Every tracked feature, numeric ones first, each in first-seen order.
  std::vector<FeatureDriftCounters> counters() const;
  std::optional<FeatureDriftCounters> counters(FeatureKind kind, std::string_view feature) const;
  size_t tracked_features() const { return numeric_.size() + categorical_.size(); }
  uint64_t ignored_values() const { return ignored_values_; }  // of features over the cap
  uint64_t non_finite_values() const { return non_finite_values_; }
  uint64_t alarms() const { return alarms_; }

  // The whole monitor, config included: load() adopts the saved config (as a detector
  // adopts its saved parameters), so compare config() with the configured one to decide
  // whether a checkpointed monitor still applies. load() returns Corruption on bad bytes
  // and leaves the monitor as it was.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  // Lets the name maps be searched with a string_view, without building a std::string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using NameMap = std::unordered_map<std::string, V, NameHash, std::equal_to<>>;

  struct NumericFeature {
    std::string name;
    uint32_t next = UINT32_MAX;  // the slot of the feature that followed this one last time
    std::unique_ptr<DriftDetector> detector;
    Adwin* adwin = nullptr;  // typed views of `detector` for the event's summary
    Kswin* kswin = nullptr;
    uint64_t observations = 0;
    uint64_t alarms = 0;
    uint64_t non_finite = 0;
    uint64_t suppressed = 0;
    uint64_t last_alarm_at = 0;  // observations at the latest alarm (0: none yet)
    double block_sum = 0;        // quantiles of the block being averaged (numeric_block)
    uint32_t block_n = 0;
    // The quantile reference (ADWIN with numeric_reference_size > 0): filled, then sorted.
    std::vector<double> reference;
    std::vector<double> reference_block_lasts;  // QuantileBlockLasts of the sorted reference
    bool reference_ready = false;
    double reference_sum = 0;
    double since_reference_sum = 0;  // raw values after the reference was complete
    uint64_t since_reference = 0;
    // The latest raw values (up to kRecentValues), for the current mean of an alarm.
    std::vector<double> recent;
    uint32_t recent_next = 0;
  };
  static constexpr uint32_t kRecentValues = 1024;

  struct CategoricalFeature {
    std::string name;
    NameMap<uint16_t> bin_of;            // category -> bin; bin 0 is "other"
    std::vector<std::string> bin_names;  // [0] is unused ("other")
    std::vector<uint32_t> reference;     // counts per bin
    std::vector<uint32_t> current;       // counts per bin over the ring
    uint32_t reference_n = 0;
    bool reference_ready = false;
    std::vector<uint16_t> ring;  // the current window's bins; capacity psi_current_size
    uint32_t ring_head = 0;      // oldest
    uint32_t ring_size = 0;
    uint64_t current_seen = 0;   // values since the current window last started empty
    uint64_t observations = 0;
    uint64_t alarms = 0;
    uint64_t pooled = 0;
    uint64_t evaluations = 0;
    uint64_t suppressed = 0;
    uint64_t last_alarm_at = 0;
    double last_psi = 0;
    double max_psi = 0;
  };

  // Where a caller id points: not seen yet, a feature over the cap, or a slot.
  static constexpr int32_t kUnbound = -2;
  static constexpr int32_t kIgnored = -1;
  // Ids at or above this are looked up by name (bounds the id cache's memory).
  static constexpr uint32_t kMaxCachedId = 1u << 16;

  explicit DataDriftMonitor(DataDriftConfig config);

  Result<std::unique_ptr<DriftDetector>> make_detector() const;
  // False within the warm-up or a cool-down of a feature with `observations` values whose
  // latest alarm came at `last_alarm_at` (0: none).
  bool may_alarm(uint64_t observations, uint64_t last_alarm_at) const;
  int32_t numeric_slot(std::string_view feature);  // registers; kIgnored over the cap
  int32_t categorical_slot(std::string_view feature);
  int32_t add_numeric(std::string_view feature);
  int32_t add_categorical(std::string_view feature);
  int32_t cached_slot(std::vector<int32_t>& cache, uint32_t id, FeatureKind kind,
                      std::string_view feature);
  std::optional<DataDriftEvent> feed_numeric(int32_t slot, double value);
  std::optional<DataDriftEvent> feed_categorical(int32_t slot, std::string_view value);
  DataDriftEvent psi_event(const CategoricalFeature& f, double psi) const;
  static FeatureDriftCounters counters_of(const NumericFeature& f);
  static FeatureDriftCounters counters_of(const CategoricalFeature& f);

  DataDriftConfig config_;
  std::map<std::string, std::string> detector_params_;  // numeric_params + defaults we set
  double block_stretch_ = 1;  // sqrt(numeric_block)
  std::vector<NumericFeature> numeric_;
  std::vector<CategoricalFeature> categorical_;
  NameMap<uint32_t> numeric_slot_of_;
  NameMap<uint32_t> categorical_slot_of_;
  uint32_t last_numeric_ = UINT32_MAX;  // the slot numeric_slot() found last
  uint32_t categorical_hint_ = 0;
  std::vector<int32_t> numeric_id_cache_;
  std::vector<int32_t> categorical_id_cache_;
  uint64_t ignored_values_ = 0;
  uint64_t non_finite_values_ = 0;
  uint64_t alarms_ = 0;
};

}  // namespace streamlearn::drift

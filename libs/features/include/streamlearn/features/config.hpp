#pragma once
// What the feature builder does, per pipeline: per-field preprocessing, per-entity
// aggregates, crosses and PCA. The defaults reproduce the builder as it was before these
// options existed, byte for byte (tests/golden_test.cpp pins it).
//
// Keys of the pipeline config's `features:` section, as FeatureConfig::Parse reads them
// (dotted keys; lists comma-separated; every key optional; defaults in brackets):
//
//   entity_aggregates        bool [true]   per-entity aggregates on/off (all of `aggregates`
//                                          and `windows`; target_agg is separate)
//   ewma_half_life_s         > 0 [60]      half-life of the EWMAs, in event time (seconds)
//   hash_bits                4..24 [18]    hashed sparse block of 2^hash_bits buckets
//   max_dense_features       >= 16 [1024]  beyond this many dense names, new numeric fields
//                                          go to the hashed block
//   aggregates               list [count,since_last,mean,ewma,last]
//                            of count (log1p of the entity's events), since_last (seconds
//                            since its previous event), and per numeric field: sum, mean,
//                            std, min, max, ewma, last. Feature names: entity@log_count,
//                            entity@secs_since_last, <field>@entity_<agg>
//   windows                  list [none]   time windows over event time: "1m", "1h",
//                            "sliding:5m", "tumbling:1d" (durations as everywhere in the
//                            config: units ms s m h d, a bare number is seconds; at least
//                            1ms; sliding when unprefixed). Per window: entity@count_<w> (the entity's events
//                            in the window) and <field>@sum_<w> for each window_fields entry
//                            (<w> = "1h" or "1d_tumbling")
//   window_buckets           1..1000 [60]  sub-buckets of a sliding window (see below)
//   window_fields            list [none]   numeric fields whose windowed sums are kept
//   target_agg               bool [false]  entity@target_mean (the entity's past label rate
//                            or mean, smoothed) and entity@target_log_count; needs
//                            FeatureBuilder::learn_target() calls
//   target_prior             "global" | number ["global"]   the prior of the smoothing:
//                            the running mean of all labels learned so far, or a constant
//   target_prior_weight      >= 0 [5]      pseudo-count of the prior:
//                            (weight * prior + sum of labels) / (weight + labels)
//   nominals                 bool [false]  also give every categorical field as a nominal
//                            attribute (FeatureVector::nominal_field/nominal_value), for
//                            learners that split on a field's values (hoeffding_tree);
//                            the hashed one-hot block is kept as it is for the others
//   nominal_max_values       1..1000000 [1000]  distinct values per field given their own
//                            value id; later new values share the field's "other" id
//   crosses                  list [none]   pairs "a*b" hashed together into the sparse block
//                            (string values, or numbers in shortest form), e.g.
//                            "country*merchant_category,hour*country"
//   pca.components           0..64 [0]     k > 0: project pca.fields onto their top k
//                            principal components, as dense features pca@0..pca@{k-1}
//   pca.fields               list          the numeric inputs (k..128 of them, required when k > 0)
//   pca.refresh_every        >= 10 [1000]  covariance is updated every event; the
//                            eigendecomposition is redone every this many full input rows
//   pca.keep_inputs          bool [false]  also emit the inputs themselves (and their
//                            aggregates)
//   fields.<name>.<key>      per-field preprocessing; fields.*.<key> is the default for
//                            every field without a section of its own, and a named
//                            section starts from the fields.* settings (a dotted field
//                            name is fine: the key's last part is the setting):
//     impute                 none | mean | zero | constant [none]
//     impute_value           number [0]    the constant of impute: constant
//     missing_indicator      bool [false]  <field>@missing: 1 when missing, 0 when given
//     clip_std               > 0, 0 = off [0]   clip at mean ± k standard deviations of the
//                                          running statistics (after 10 values)
//     clip_min, clip_max     number [none] fixed bounds
//     log1p                  false | true | signed [false]   true: log(1 + v), a negative
//                            value is refused (treated as missing, counted); signed:
//                            sign(v) * log(1 + |v|)
//     scale                  none | standard | minmax [none]   online standardisation
//                            (Welford) or min-max to [0, 1] with the running min/max. Off
//                            by default: the model standardises its inputs itself
//     encoding               hash | onehot [hash]   for string values: hashed into
//                            2^hash_bits buckets, or one bucket per value for the first
//                            max_categories distinct values and one "other" bucket after
//     max_categories         1..2^hash_bits - 1 [100]
//     aggregates             list [features.aggregates' per-field ones]   this numeric
//                            field's entity aggregates, of sum, mean, std, min, max, ewma,
//                            last; none (or []) for none: the field then keeps no
//                            per-entity state at all (no memory in any entity), which is
//                            how wide events avoid paying every aggregate of every field,
//                            e.g. fields.*.aggregates: none, fields.amount.aggregates:
//                            mean,ewma. Only features.aggregates holds count, since_last.
//                            An entity keeps each aggregated field's members that any
//                            field's list asks for (they share one record per field).
//
// Numeric values, in the order applied: clip_min/clip_max (raw units) -> log1p ->
// clip_std (on the log scale when log1p is on) = the "clean" value, which feeds the
// running statistics, the entity aggregates, the windows and PCA -> scale -> the feature.
// Clipped values are counted per field (FeatureBuilder::field_reports(), with the imputed
// and refused counts). Running statistics are global (not per entity) and read as they
// were before the event: build() uses them, update() folds the event in.
//
// Missing means null in the event, or, for a field with a section of its own
// (fields.<name>) that imputes or flags, also absent (fields.*-only fields are not
// expected in every event). A missing value gets the imputed value (mean: the running mean
// of the clean values, none while there is none yet; zero and constant: in raw units,
// cleaned like a given value), scaled like any other; it never enters statistics,
// aggregates or windows, and the entity's aggregates of the field are still emitted.
// Without impute it stays missing: the model imputes it. missing_indicator also works for
// string fields (0 when given, 1 when absent); a string field never gets imputed numbers.
//
// Scaling also applies to the field's value-like aggregates (mean, min, max, ewma, last;
// std by the factor only), so they stay comparable with the field; sums and counts are
// never scaled.
//
// One-hot: the vocabulary (global, saved with the model) grows in build() with each new
// value until max_categories; its buckets are consecutive in the hashed block from a
// per-field base (so one field's values never collide with each other; another field's
// hashed buckets may, as hashed features always may). "other" values are counted.
//
// Target aggregate (after River's TargetAgg with a Bayesian mean): learn_target(y, state)
// is called whenever the model learns label y for an event of the entity (binary 0/1 or a
// real target; class names are not supported) - for a delayed label when it arrives, with
// the entity's state as it is then. With target_prior: global, entity@target_mean is
// missing until the first label of any entity.
//
// PCA: inputs are the scaled clean values of pca.fields (imputed ones too, for the
// projection); only rows where every input was given update the covariance. Before the
// first refresh the components are missing; at projection a missing input counts as the
// mean (contributes 0).
//
// Windows: a window of width W keeps B sub-buckets of width b = W / B (B = window_buckets
// for a sliding window, 1 for a tumbling one), so memory per entity is bounded. An event
// at time te is counted by the window of a later event at time t iff
// 0 <= floor(t / b) - floor(te / b) < B: always while t - te < W - b, never once
// t - te >= W, in between depending on where the two fall in their buckets (a 1h window
// with 60 buckets forgets an event 59 to 60 minutes after it). A tumbling window thus
// counts the entity's earlier events since the start of the current [kW, (k+1)W) in epoch
// time. Events older than the oldest bucket kept are not counted; a late event counts
// only the buckets up to its own.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/status.hpp"

namespace streamlearn::features {

enum class Impute : uint8_t { kNone, kMean, kZero, kConstant };
enum class Log1p : uint8_t { kOff, kOn, kSigned };
enum class Scale : uint8_t { kNone, kStandard, kMinMax };
enum class Encoding : uint8_t { kHash, kOneHot };

// Preprocessing of one field. All off by default: the value passes through unchanged.
struct FieldConfig {
  Impute impute = Impute::kNone;
  double impute_value = 0;  // impute: constant
  bool missing_indicator = false;
  double clip_std = 0;  // 0 = off
  double clip_min = -std::numeric_limits<double>::infinity();
  double clip_max = std::numeric_limits<double>::infinity();
  Log1p log1p = Log1p::kOff;
  Scale scale = Scale::kNone;
  Encoding encoding = Encoding::kHash;
  uint32_t max_categories = 100;
  // This field's entity aggregates (Aggregate bits of sum..last); none: those of
  // FeatureConfig::aggregates.
  std::optional<uint32_t> aggregates;

  // Whether the field needs global running statistics (mean, variance, min, max).
  bool needs_stats() const { return impute == Impute::kMean || clip_std > 0 || scale != Scale::kNone; }
  // Whether a numeric value of this field passes through untouched (today's path).
  bool numeric_identity() const {
    return impute == Impute::kNone && !missing_indicator && clip_std == 0 &&
           clip_min == -std::numeric_limits<double>::infinity() &&
           clip_max == std::numeric_limits<double>::infinity() && log1p == Log1p::kOff &&
           scale == Scale::kNone;
  }
  bool handles_missing() const { return impute != Impute::kNone || missing_indicator; }
  bool operator==(const FieldConfig&) const = default;
};

// Per-entity aggregates, as bits of FeatureConfig::aggregates.
enum Aggregate : uint32_t {
  kAggCount = 1u << 0,      // entity@log_count
  kAggSinceLast = 1u << 1,  // entity@secs_since_last
  kAggSum = 1u << 2,
  kAggMean = 1u << 3,
  kAggStd = 1u << 4,
  kAggMin = 1u << 5,
  kAggMax = 1u << 6,
  kAggEwma = 1u << 7,
  kAggLast = 1u << 8,
};
inline constexpr uint32_t kDefaultAggregates = kAggCount | kAggSinceLast | kAggMean | kAggEwma | kAggLast;
// The aggregates of one numeric field (the others are the entity's).
inline constexpr uint32_t kFieldAggregates = kAggSum | kAggMean | kAggStd | kAggMin | kAggMax | kAggEwma | kAggLast;

struct WindowSpec {
  int64_t width_ms = 60'000;
  bool tumbling = false;
  std::string name;  // in feature names: "1m", "1h_tumbling"
  bool operator==(const WindowSpec&) const = default;
};

struct PcaConfig {
  uint32_t components = 0;  // 0 = off
  std::vector<std::string> fields;
  uint32_t refresh_every = 1000;
  bool keep_inputs = false;
  bool operator==(const PcaConfig&) const = default;
};

// Stream-level lag features (lags.*): the stream's previous labels and previous values of
// chosen numeric fields, across entities, as known before the event (StreamLags).
inline constexpr uint32_t kMaxLags = 64;
struct LagConfig {
  uint32_t labels = 0;  // lags.labels: the last N labels learned (lag.label.1 … lag.label.N)
  // lags.fields.<name>: N: the field's last N values (lag.<name>.1 …), 1..kMaxLags.
  std::map<std::string, uint32_t, std::less<>> fields;
  bool enabled() const { return labels > 0 || !fields.empty(); }
  bool operator==(const LagConfig&) const = default;
};

inline constexpr uint32_t kMaxNominalValues = 1000000;

struct FeatureConfig {
  bool entity_aggregates = true;
  double ewma_half_life_s = 60;        // in event time (the events' ts)
  uint32_t hash_bits = 18;             // sparse block of 2^hash_bits buckets
  uint32_t max_dense_features = 1024;  // beyond this, new numeric names are hashed instead

  uint32_t aggregates = kDefaultAggregates;  // Aggregate bits
  std::vector<WindowSpec> windows;
  uint32_t window_buckets = 60;
  std::vector<std::string> window_fields;

  bool target_agg = false;
  std::optional<double> target_prior;  // nullopt: the global running mean of the labels
  double target_prior_weight = 5;

  bool nominals = false;
  uint32_t nominal_max_values = 1000;

  FieldConfig default_field;  // fields.*
  // fields.<name>: complete settings (Parse starts each from fields.*; here nothing is
  // inherited).
  std::map<std::string, FieldConfig, std::less<>> fields;
  std::vector<std::pair<std::string, std::string>> crosses;
  PcaConfig pca;
  LagConfig lags;

  // Checks every value; the message names the key as in the config file, e.g.
  // "features.fields.amount.clip_std: must be > 0 (0 = off), got -1".
  Status validate() const;
  // Reads the dotted keys documented above (without the "features." prefix) on top of the
  // defaults, then validates. Unknown keys and unparsable values are errors naming the key.
  static Result<FeatureConfig> Parse(const std::map<std::string, std::string>& keys);

  // The preprocessing of `field`: its own section, else fields.*.
  const FieldConfig& field(std::string_view name) const {
    auto it = fields.find(name);
    return it == fields.end() ? default_field : it->second;
  }
  // The entity aggregates of numeric field `name` (kFieldAggregates bits).
  uint32_t field_aggregates(std::string_view name) const {
    return field(name).aggregates.value_or(aggregates) & kFieldAggregates;
  }
  bool operator==(const FeatureConfig&) const = default;
};

}  // namespace streamlearn::features

#pragma once
// Feature engineering on one event: raw numeric and categorical fields with optional
// per-field preprocessing, crosses and PCA, plus per-entity aggregates read from the
// entity's state as it was BEFORE this event (point-in-time correct: a feature never sees
// the event it is predicting, nor its label). config.hpp documents every option.
//
// Per event, in the pipeline:
//   builder.build(event, state, &x);       // x from the state before the event
//   model.predict(x) ... model.learn(x, y);
//   builder.learn_target(y, &state);       // target_agg: whenever a label is learned for
//                                          // an event of this entity (a delayed label too,
//                                          // when it arrives: with the state as it is then)
//   builder.update(event, &state);         // folds the event into the entity state and
//                                          // into the global preprocessing statistics
// An event without an entity uses build(event, &x) and update(event): no entity state is
// read or written (no entity aggregates, no target aggregate); the global statistics are.
// Global preprocessing state (running statistics, vocabularies, the label mean, PCA) is
// part of the model snapshot: save()/load() beside FeatureDictionary's.
//
// Hot path: once the field names, vocabularies and entities have been seen, build(),
// update() and learn_target() do not allocate.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event.hpp"
#include "streamlearn/core/feature_vector.hpp"
#include "streamlearn/core/short_name.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/features/config.hpp"
#include "streamlearn/features/pca.hpp"

namespace streamlearn::features {

// Lets unordered_map<std::string, …> be searched with a string_view without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Name → dense id, append-only. Saved with the model so ids mean the same after a restart.
class FeatureDictionary {
 public:
  explicit FeatureDictionary(uint32_t capacity = 1024) : capacity_(capacity) {}
  // The id of `name`, assigning the next one if new; -1 when the dictionary is full.
  int64_t id_of(std::string_view name);
  int64_t find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(uint32_t id) const { return names_[id]; }

  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  uint32_t capacity_;
  std::vector<std::string> names_;
  StringMap<uint32_t> ids_;
};

// Running aggregates of one numeric field for one entity. Which members are kept depends
// on the configured aggregates (EntityState::tracked); the others stay 0.
struct FieldAggregate {
  uint32_t field_id = 0;  // the raw field's dictionary id
  uint64_t count = 0;
  double mean = 0;
  double ewma = 0;
  double last = 0;
  int64_t last_ts_ms = 0;
  double m2 = 0;  // Welford's sum of squared deviations (std)
  double min = 0;
  double max = 0;
  bool operator==(const FieldAggregate&) const = default;
};

// One time window of one entity: a ring of `buckets` sub-buckets (see config.hpp).
struct WindowCounts {
  static constexpr int64_t kEmpty = std::numeric_limits<int64_t>::min();
  int64_t head = kEmpty;         // index of the newest bucket, floor(ts / bucket width)
  std::vector<uint32_t> counts;  // bucket k at k mod buckets
  std::vector<double> sums;      // bucket-major: window_fields.size() per bucket
  bool operator==(const WindowCounts&) const = default;
};

// Everything remembered about one entity. Encoded compactly: it is stored per entity.
struct EntityState {
  // FieldAggregate members kept, as bits of `tracked`.
  enum : uint8_t { kMean = 1, kEwma = 2, kLast = 4, kM2 = 8, kMinMax = 16 };
  static constexpr uint8_t kV1 = kMean | kEwma | kLast;  // what encoding 1 holds

  uint64_t events = 0;
  int64_t last_ts_ms = -1;
  std::vector<FieldAggregate> fields;  // sorted by field_id
  uint8_t tracked = 0;                 // 0 while `fields` is empty
  // Target aggregate (learn_target): labels learned for this entity and their sum.
  uint64_t target_count = 0;
  double target_sum = 0;
  // Windows, in config order; windows_key identifies the configuration they were built for.
  uint64_t windows_key = 0;
  std::vector<WindowCounts> windows;

  // Encoding 1 (the original) when the state holds nothing more than it could; else
  // encoding 2 (varints, only the tracked members, only non-empty buckets). decode()
  // reads both; on an error `out` is left unchanged.
  void encode(std::string* out) const;
  static Status decode(std::string_view bytes, EntityState* out);
  // The bytes this state holds: the struct and what its vectors allocated (capacity).
  size_t memory_bytes() const;
  bool operator==(const EntityState&) const = default;
};

// An entity's aggregates live in their own allocation, which with many entities is out
// of cache when its event comes. A caller that knows the next events (a poll's batch)
// asks for them kPrefetchAhead events ahead, so they arrive while those are handled.
inline constexpr size_t kPrefetchAhead = 6;
// Reading where the aggregates are is itself a miss when the state (an entity cache's map
// node) is out of cache: the caller asks for the state's `fields` header further ahead
// (kPrefetchAhead * 2), so PrefetchAggregates finds it in cache.
inline void PrefetchAggregatesHeader(const EntityState& state) {
  const char* header = reinterpret_cast<const char*>(&state.fields);
  __builtin_prefetch(header);
  __builtin_prefetch(header + sizeof state.fields - 1);  // the vector may straddle two lines
}
inline void PrefetchAggregates(const EntityState& state) {
  const char* bytes = reinterpret_cast<const char*>(state.fields.data());
  const size_t size = std::min<size_t>(state.fields.size() * sizeof(FieldAggregate), 512);  // a few lines
  for (size_t offset = 0; offset < size; offset += 64) __builtin_prefetch(bytes + offset);
}

class FeatureBuilder {
 public:
  // `config` should have passed validate(); `dictionary` outlives the builder.
  FeatureBuilder(FeatureConfig config, FeatureDictionary* dictionary);
  ~FeatureBuilder();
  FeatureBuilder(FeatureBuilder&&) noexcept;
  FeatureBuilder& operator=(FeatureBuilder&&) noexcept;

  // x = fields of `event` (preprocessed) + aggregates of `before` (the entity's state
  // before `event`). Reads the global statistics as they are; grows the dictionary and the
  // one-hot vocabularies for names and values seen for the first time.
  void build(const Event& event, const EntityState& before, FeatureVector* x) { build_impl(event, &before, x); }
  // An event without an entity: x as with entity_aggregates off and without target_agg's
  // features (the entity's, of which there is none); the rest as above.
  void build(const Event& event, FeatureVector* x) { build_impl(event, nullptr, x); }
  // Folds `event` into the entity's state and into the global statistics (and PCA);
  // called after the prediction was made. Right after build() of the same Event object,
  // unchanged in between, it reuses the field lookups build() made (each field's name is
  // found once per event, not twice); debug builds check that the names are the same.
  void update(const Event& event, EntityState* state) { update_impl(event, state); }
  // An event without an entity: into the global statistics (and PCA) only.
  void update(const Event& event) { update_impl(event, nullptr); }
  // target_agg: the label y (0/1, or a real target) learned for an event of this entity.
  // Non-finite values are ignored. Without target_agg it does nothing.
  void learn_target(double y, EntityState* state);

  const FeatureConfig& config() const { return config_; }

  // Global preprocessing state (statistics, vocabularies, label mean, PCA), bit-exact.
  // load() leaves the builder unchanged on Corruption; parts the current config does not
  // use (a PCA over other fields) are dropped. Call it after the dictionary's load().
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

  // Counters and statistics per preprocessed numeric field, by first appearance.
  struct FieldReport {
    std::string name;
    uint64_t count = 0;    // clean values folded into the statistics
    uint64_t clipped = 0;  // values clipped (bounds or clip_std)
    uint64_t imputed = 0;  // missing values given a value
    uint64_t refused = 0;  // negative values under log1p: true
    double mean = 0, std = 0, min = 0, max = 0;
  };
  std::vector<FieldReport> field_reports() const;
  // nominals: the field's id (-1 when not seen), its distinct values with their own id, the
  // events whose new value went to its "other" id (config().nominal_max_values).
  int64_t nominal_field_id(std::string_view field) const;
  size_t nominal_values(std::string_view field) const;
  uint64_t nominal_other_count(std::string_view field) const;
  // One-hot vocabulary of a field (0 when none) and the values that went to "other".
  size_t vocabulary_size(std::string_view field) const;
  uint64_t other_count(std::string_view field) const;
  uint64_t labels_learned() const { return labels_; }
  const OnlinePca* pca() const { return pca_ ? &*pca_ : nullptr; }

 private:
  // Global running statistics of one preprocessed numeric field (of its clean values).
  struct Stats {
    std::string name;
    uint64_t count = 0;
    double mean = 0, m2 = 0, min = 0, max = 0;
    uint64_t clipped = 0, imputed = 0, refused = 0;
  };
  // One-hot vocabulary of one categorical field, in order of admission.
  struct Vocabulary {
    std::string name;
    std::vector<std::string> values;
    StringMap<uint32_t> index;
    uint64_t other = 0;
  };
  // A categorical field as a nominal attribute: value ids in order of first appearance,
  // the first nominal_max_values of them; later new values share id nominal_max_values.
  struct NominalField {
    std::string name;
    std::vector<std::string> values;
    StringMap<uint32_t> index;
    uint64_t other = 0;
  };
  // What one numeric field maps to, looked up once per field name.
  struct DerivedIds {
    // Hot members first: the per-event path reads these, one cache line.
    bool identity = true;  // cfg leaves numeric values untouched
    bool emit = true;      // false: a PCA input that is not kept
    bool aggregated = false;  // has entity aggregates (none: no per-entity record)
    // Decided once per field instead of per value (see add_derived):
    bool clip_only = false;   // cleaning is the clip at clip_std only (no bounds, no log1p)
    bool plain_emit = false;  // a given value is the feature as is (emitted, in the dictionary, no PCA, no scale)
    bool folds_entity = false;  // update() keeps a FieldAggregate for it in the entity
    int32_t named = -1;    // into named_
    int32_t pca_slot = -1;     // into config_.pca.fields
    int32_t stats = -1;    // into stats_
    int64_t raw = -1, mean = -1, ewma = -1, last = -1;  // the original four, in this order
    int64_t sum = -1, std = -1, min = -1, max = -1, missing = -1;
    int32_t window_slot = -1;  // into config_.window_fields
    std::vector<int64_t> window_sum_ids;  // per window, for a window field
    FieldConfig cfg;
  };
  struct CategoricalInfo {
    int32_t vocabulary = -1;  // into vocabularies_, for encoding: onehot
    int32_t named = -1;
    uint32_t max_categories = 0;
    uint64_t base = 0;  // the field's first one-hot bucket, before masking
  };

  // The ids of a numeric field: a lookup, or add_derived() the first time.
  DerivedIds& derived(std::string_view field) {
    auto it = derived_.find(field);
    return it != derived_.end() ? it->second : add_derived(field);
  }
  DerivedIds& add_derived(std::string_view field);
  // derived() for the numeric field at `position` of an event: events of one producer
  // name their fields in the same order, so the field seen there last time is compared
  // first (a string comparison instead of a hash lookup, twice per field and event).
  const DerivedIds& derived_at(size_t position, std::string_view field);
  // derived_at()'s first guess inline (the field seen at this position, after the event's
  // shift so far; the caller sets position_shift_ to 0 at the event's start), the rest out
  // of line: a call per field cost more than the comparison.
  // The slot after is tried inline too: the field after a null one sits there.
  [[gnu::always_inline]] const DerivedIds& guess_derived_at(size_t position, std::string_view field) {
    const size_t slot = position + position_shift_;
    if (slot < derived_by_position_.size()) {
      const auto* seen = derived_by_position_[slot];
      if (seen != nullptr && SameName(seen->first, field)) return seen->second;
      if (slot + 1 < derived_by_position_.size()) {
        seen = derived_by_position_[slot + 1];
        if (seen != nullptr && SameName(seen->first, field)) {
          position_shift_ += 1;
          return seen->second;
        }
      }
    }
    return derived_at(position, field);
  }
  // SameShortName, inlined where it is called per value (the compiler kept it a call).
  [[gnu::always_inline]] static bool SameName(std::string_view a, std::string_view b) {
    const size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return SameShortName(a, b);
    if (n >= 8) return short_name_detail::SameEnds<uint64_t>(a.data(), b.data(), n);
    if (n >= 4) return short_name_detail::SameEnds<uint32_t>(a.data(), b.data(), n);
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  DerivedIds& named_ids(size_t i);
  CategoricalInfo& categorical(std::string_view field);
  void resolve_entity_ids();
  void reset_caches();
  uint8_t tracked_mask() const;
  // Bounds, log1p, clip_std: false when the value is refused (counts as missing).
  bool clean(const DerivedIds& f, double v, double* out, bool* clipped) const;
  // clean() of a clip_only field: the same arithmetic, without the branches it skips.
  double clip(const DerivedIds& f, double v, bool* clipped) const;
  bool imputed_value(const DerivedIds& f, double* out) const;
  double scaled(const DerivedIds& f, double v) const;
  double scale_factor(const DerivedIds& f) const;
  // `before`/`state` null: the event has no entity.
  void build_impl(const Event& event, const EntityState* before, FeatureVector* x);
  void update_impl(const Event& event, EntityState* state);
  void emit_field(const DerivedIds& f, std::string_view name, bool have, double v, const EntityState* before,
                  FeatureVector* x);
  void emit_missing(const DerivedIds& f, std::string_view name, const EntityState* before, FeatureVector* x);
  [[gnu::always_inline]] inline void emit_aggregates(const DerivedIds& f, const EntityState* before, FeatureVector* x);
  void add_hashed(std::string_view name, std::string_view value, float weight, FeatureVector* x) const;
  void add_crosses(const Event& event, FeatureVector* x) const;
  void add_nominal(std::string_view field, std::string_view value, FeatureVector* x);
  void window_query(const EntityState& s, size_t w, int64_t ts_ms, uint32_t* count, double* sums) const;
  // Inlined into update(), their one caller per value: the calls cost as much as the work.
  [[gnu::always_inline]] inline void fold_field(const DerivedIds& f, bool have, double v, bool clipped, bool refused, int64_t ts_ms,
                  EntityState* state);
  [[gnu::always_inline]] inline void fold_entity(const DerivedIds& f, double v, int64_t ts_ms, EntityState* state);
  // A state written under other configured aggregates takes this builder's layout.
  [[gnu::noinline]] void adopt_layout(EntityState* state) const;
  void fold_missing(const DerivedIds& f);
  void window_add(EntityState* s, int64_t ts_ms);

  FeatureConfig config_;
  FeatureDictionary* dictionary_;
  uint32_t hash_mask_;
  uint8_t tracked_;
  uint64_t windows_key_;
  std::vector<int64_t> window_bucket_ms_;  // per window
  std::vector<uint32_t> window_buckets_;   // per window
  bool any_missing_handling_ = false;      // some field imputes or flags missing values
  bool categorical_lookup_ = false;        // some categorical needs its config
  bool needs_global_ = false;              // update() has global statistics or PCA to fold
  std::vector<std::string> named_;         // fields.<name> sections that handle missing values
  std::vector<uint64_t> cross_seeds_;

  // Entity-level ids, resolved at the first build().
  bool entity_ids_resolved_ = false;
  int64_t count_id_ = -1, gap_id_ = -1, target_mean_id_ = -1, target_count_id_ = -1;
  std::vector<int64_t> window_count_ids_;
  std::vector<const DerivedIds*> window_fields_;  // per config_.window_fields
  std::vector<int64_t> pca_ids_;

  StringMap<DerivedIds> derived_;  // node-based: pointers to values stay valid
  size_t aggregated_fields_ = 0;   // derived_ entries that keep a FieldAggregate per entity
  // derived_at(): per position, the derived_ entry last seen there.
  std::vector<const std::pair<const std::string, DerivedIds>*> derived_by_position_;
  size_t position_shift_ = 0;  // the current event's fields missing before this position
  // The numeric fields' lookups of the event build() saw last, for its update().
  const Event* built_event_ = nullptr;
  size_t built_count_ = 0;
  std::vector<const DerivedIds*> built_numeric_;
  // What build() made of each cleaned value (and the count of its field's statistics then),
  // for update() of the same event: each value is cleaned once.
  struct BuiltClean {
    double value = 0;
    uint64_t stats_count = 0;
    bool have = false;
    bool clipped = false;
  };
  std::vector<BuiltClean> built_clean_;
  bool same_clean(const DerivedIds& f, double raw, const BuiltClean& built) const;  // debug builds' check
  // build(): per categorical position, the name seen there last and its hash seed.
  struct NameSeedAt {
    std::string name;
    uint64_t seed = 0;
  };
  std::vector<NameSeedAt> categorical_seeds_;
  // The entity's aggregates of one event's fields, found by a cursor: events name their
  // fields in the order of their ids, as the records are sorted (emit: before's, read by
  // build(); fold: the state update() writes). Reset per event.
  size_t emit_cursor_ = 0;
  size_t fold_cursor_ = 0;
  // fold_entity(): the EWMA decay of the last elapsed time computed (-1: none yet).
  int64_t ewma_dt_ms_ = -1;
  double ewma_alpha_ = 0;
  StringMap<CategoricalInfo> categoricals_;
  std::vector<DerivedIds*> named_ids_;  // per named_, resolved lazily

  // Global preprocessing state.
  std::vector<Stats> stats_;  // by first appearance
  StringMap<uint32_t> stats_index_;
  std::vector<Vocabulary> vocabularies_;
  StringMap<uint32_t> vocabulary_index_;
  std::vector<NominalField> nominal_fields_;  // by field id
  StringMap<uint32_t> nominal_field_index_;
  uint64_t labels_ = 0;
  double label_sum_ = 0;
  std::optional<OnlinePca> pca_;

  // Per-event scratch, sized once.
  uint64_t epoch_ = 0;
  std::vector<uint64_t> named_seen_;  // epoch in which named_[i] was seen
  std::vector<double> pca_row_;
  std::vector<uint8_t> pca_have_;
  std::vector<double> pca_out_;
  std::vector<double> window_values_;  // per window field: this event's clean value
  std::vector<uint8_t> window_have_;
  std::vector<double> window_sums_;
};

}  // namespace streamlearn::features

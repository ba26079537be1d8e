#pragma once
// Feature engineering on one event: raw numeric and categorical fields, plus per-entity
// aggregates read from the entity's state as it was BEFORE this event (point-in-time
// correct: a feature never sees the event it is predicting).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event.hpp"
#include "streamlearn/core/feature_vector.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::features {

struct FeatureConfig {
  bool entity_aggregates = true;
  double ewma_half_life_s = 60;      // in event time (the events' ts)
  uint32_t hash_bits = 18;           // sparse block of 2^hash_bits buckets
  uint32_t max_dense_features = 1024;  // beyond this, new numeric names are hashed instead

  Status validate() const;
};

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

// Running aggregates of one numeric field for one entity.
struct FieldAggregate {
  uint32_t field_id = 0;  // the raw field's dictionary id
  uint64_t count = 0;
  double mean = 0;
  double ewma = 0;
  double last = 0;
  int64_t last_ts_ms = 0;
  bool operator==(const FieldAggregate&) const = default;
};

// Everything remembered about one entity. Encoded compactly: it is stored per entity.
struct EntityState {
  uint64_t events = 0;
  int64_t last_ts_ms = -1;
  std::vector<FieldAggregate> fields;  // sorted by field_id

  void encode(std::string* out) const;
  static Status decode(std::string_view bytes, EntityState* out);
  bool operator==(const EntityState&) const = default;
};

class FeatureBuilder {
 public:
  FeatureBuilder(FeatureConfig config, FeatureDictionary* dictionary);

  // x = raw fields of `event` + aggregates of `before` (the entity's state before `event`).
  void build(const Event& event, const EntityState& before, FeatureVector* x);
  // Folds `event` into the entity's state; called after the prediction was made.
  void update(const Event& event, EntityState* state);

  const FeatureConfig& config() const { return config_; }

 private:
  // Ids of the derived features of one raw field, looked up once per field name.
  struct DerivedIds {
    int64_t raw = -1, mean = -1, ewma = -1, last = -1;
  };
  const DerivedIds& derived(std::string_view field);
  void add_hashed(std::string_view name, std::string_view value, float weight, FeatureVector* x) const;

  FeatureConfig config_;
  FeatureDictionary* dictionary_;
  uint32_t hash_mask_;
  int64_t count_id_ = -1, gap_id_ = -1;
  StringMap<DerivedIds> derived_;
};

}  // namespace streamlearn::features

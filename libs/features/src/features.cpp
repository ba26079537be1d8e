#include "streamlearn/features/features.hpp"

#include <algorithm>
#include <cmath>

#include "streamlearn/core/hash.hpp"

namespace streamlearn::features {

Status FeatureConfig::validate() const {
  if (!(ewma_half_life_s > 0) || !std::isfinite(ewma_half_life_s)) {
    return Status::Invalid("features.ewma_half_life_s: must be a positive number of seconds");
  }
  if (hash_bits < 4 || hash_bits > 24) {
    return Status::Invalid("features.hash_bits: must be between 4 and 24");
  }
  if (max_dense_features < 16) {
    return Status::Invalid("features.max_dense_features: must be at least 16");
  }
  return Status::Ok();
}

int64_t FeatureDictionary::id_of(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  if (names_.size() >= capacity_) return -1;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

int64_t FeatureDictionary::find(std::string_view name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

void FeatureDictionary::save(ByteWriter& out) const {
  out.u32(capacity_);
  out.u32(static_cast<uint32_t>(names_.size()));
  for (const auto& n : names_) out.str(n);
}

Status FeatureDictionary::load(ByteReader& in) {
  uint32_t capacity = in.u32();
  uint32_t n = in.u32();
  if (!in.ok() || n > capacity || n > in.remaining() / 4) {
    return Status::Corruption("feature dictionary: bad size");
  }
  names_.clear();
  ids_.clear();
  capacity_ = capacity;
  for (uint32_t i = 0; i < n; ++i) {
    std::string name = in.str();
    if (!in.ok() || ids_.count(name)) return Status::Corruption("feature dictionary: bad name");
    ids_.emplace(name, i);
    names_.push_back(std::move(name));
  }
  return Status::Ok();
}

void EntityState::encode(std::string* out) const {
  out->clear();
  ByteWriter w(out);
  w.u8(1);  // encoding version
  w.u64(events);
  w.i64(last_ts_ms);
  w.u32(static_cast<uint32_t>(fields.size()));
  for (const auto& f : fields) {
    w.u32(f.field_id);
    w.u64(f.count);
    w.f64(f.mean);
    w.f64(f.ewma);
    w.f64(f.last);
    w.i64(f.last_ts_ms);
  }
}

Status EntityState::decode(std::string_view bytes, EntityState* out) {
  constexpr size_t kFieldBytes = 4 + 8 * 5;
  ByteReader r(bytes);
  if (r.u8() != 1) return Status::Corruption("entity state: unknown encoding version");
  out->events = r.u64();
  out->last_ts_ms = r.i64();
  uint32_t n = r.u32();
  if (!r.ok() || n > r.remaining() / kFieldBytes) {
    return Status::Corruption("entity state: truncated");
  }
  out->fields.resize(n);
  for (auto& f : out->fields) {
    f.field_id = r.u32();
    f.count = r.u64();
    f.mean = r.f64();
    f.ewma = r.f64();
    f.last = r.f64();
    f.last_ts_ms = r.i64();
  }
  if (!r.ok() || !r.at_end()) return Status::Corruption("entity state: bad length");
  return Status::Ok();
}

FeatureBuilder::FeatureBuilder(FeatureConfig config, FeatureDictionary* dictionary)
    : config_(config),
      dictionary_(dictionary),
      hash_mask_((1u << config.hash_bits) - 1) {}

const FeatureBuilder::DerivedIds& FeatureBuilder::derived(std::string_view field) {
  if (auto it = derived_.find(field); it != derived_.end()) return it->second;
  DerivedIds ids;
  std::string name(field);
  ids.raw = dictionary_->id_of(name);
  if (config_.entity_aggregates) {
    // Appending into one buffer (not name + "...") also dodges GCC 12's false -Wrestrict.
    std::string derived_name;
    auto id_with_suffix = [&](std::string_view suffix) {
      derived_name.assign(name).append(suffix);
      return dictionary_->id_of(derived_name);
    };
    ids.mean = id_with_suffix("@entity_mean");
    ids.ewma = id_with_suffix("@entity_ewma");
    ids.last = id_with_suffix("@entity_last");
  }
  return derived_.emplace(std::move(name), ids).first->second;
}

void FeatureBuilder::add_hashed(std::string_view name, std::string_view value, float weight,
                                FeatureVector* x) const {
  x->sparse_index.push_back(static_cast<uint32_t>(HashFeature(name, value) & hash_mask_));
  x->sparse_value.push_back(weight);
}

void FeatureBuilder::build(const Event& event, const EntityState& before, FeatureVector* x) {
  x->clear();
  // Dense block sized to the whole dictionary so absent features read as missing.
  x->dense.assign(dictionary_->size(), 0.0);
  x->present.assign(dictionary_->size(), 0);
  if (config_.entity_aggregates) {
    if (count_id_ < 0) {
      count_id_ = dictionary_->id_of("entity@log_count");
      gap_id_ = dictionary_->id_of("entity@secs_since_last");
    }
    if (count_id_ >= 0) x->set_dense(count_id_, std::log1p(static_cast<double>(before.events)));
    if (gap_id_ >= 0 && before.last_ts_ms >= 0 && event.ts_ms >= before.last_ts_ms) {
      x->set_dense(gap_id_, (event.ts_ms - before.last_ts_ms) / 1000.0);
    }
  }
  for (const auto& f : event.numeric) {
    const DerivedIds& ids = derived(f.name);
    if (ids.raw < 0) {  // dictionary full: the value still reaches the model, hashed
      add_hashed(f.name, "", static_cast<float>(f.value), x);
      continue;
    }
    x->set_dense(ids.raw, f.value);
    if (!config_.entity_aggregates || ids.mean < 0) continue;
    auto it = std::lower_bound(before.fields.begin(), before.fields.end(), ids.raw,
                               [](const FieldAggregate& a, int64_t id) { return a.field_id < id; });
    if (it == before.fields.end() || it->field_id != ids.raw || it->count == 0) continue;
    x->set_dense(ids.mean, it->mean);
    x->set_dense(ids.ewma, it->ewma);
    x->set_dense(ids.last, it->last);
  }
  for (const auto& c : event.categorical) add_hashed(c.name, c.value, 1.0f, x);
  // Fields first seen in this event may have grown the dictionary: they read as missing.
  x->dense.resize(dictionary_->size(), 0.0);
  x->present.resize(dictionary_->size(), 0);
}

void FeatureBuilder::update(const Event& event, EntityState* state) {
  state->events += 1;
  if (event.ts_ms > state->last_ts_ms) state->last_ts_ms = event.ts_ms;
  if (!config_.entity_aggregates) return;
  for (const auto& f : event.numeric) {
    const DerivedIds& ids = derived(f.name);
    if (ids.raw < 0) continue;
    auto it = std::lower_bound(state->fields.begin(), state->fields.end(), ids.raw,
                               [](const FieldAggregate& a, int64_t id) { return a.field_id < id; });
    if (it == state->fields.end() || it->field_id != ids.raw) {
      FieldAggregate fresh;
      fresh.field_id = static_cast<uint32_t>(ids.raw);
      it = state->fields.insert(it, fresh);
    }
    FieldAggregate& a = *it;
    a.count += 1;
    a.mean += (f.value - a.mean) / static_cast<double>(a.count);
    if (a.count == 1) {
      a.ewma = f.value;
    } else {
      // Decay by elapsed event time: an entity silent for a half-life weighs its past by half.
      double dt_s = std::max<int64_t>(event.ts_ms - a.last_ts_ms, 0) / 1000.0;
      double alpha = 1.0 - std::exp2(-dt_s / config_.ewma_half_life_s);
      a.ewma += alpha * (f.value - a.ewma);
    }
    a.last = f.value;
    a.last_ts_ms = std::max(a.last_ts_ms, event.ts_ms);
  }
}

}  // namespace streamlearn::features

#include "streamlearn/features/features.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/core/short_name.hpp"

namespace streamlearn::features {
namespace {

// clip_std waits for this many values: a standard deviation of fewer says little.
constexpr uint64_t kClipWarmup = 10;
constexpr uint8_t kBuilderStateVersion = 1;
// Version 1 with the nominal dictionary after the PCA section; written only with
// nominals on, so the state of a builder without them keeps its version-1 bytes.
constexpr uint8_t kBuilderStateNominalVersion = 2;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

size_t Mod(int64_t k, int64_t n) {
  const int64_t m = k % n;
  return static_cast<size_t>(m < 0 ? m + n : m);
}

// HashFeature(name, value) in two steps: the name's part (the FNV state after the name),
// which build() keeps per categorical position, then the value's.
constexpr uint64_t NameSeed(std::string_view name) { return Fnv1a64(name) ^ 0x9e3779b97f4a7c15ULL; }
constexpr uint64_t HashValue(uint64_t name_seed, std::string_view value) { return Mix64(Fnv1a64(value, name_seed)); }
static_assert(HashValue(NameSeed("country"), "GB") == HashFeature("country", "GB"));
static_assert(HashValue(NameSeed(""), "") == HashFeature("", ""));

// The first record of `fields` (sorted by field_id) whose id is not below `id`, looked for
// from `cursor` (where the previous field's search of the event ended): an event names its
// fields in the order of their ids, so the record is mostly right there, or a few further
// on; farther, by binary search; a field named out of order searches from the start.
[[gnu::noinline]] size_t SeekAggregateFurther(const std::vector<FieldAggregate>& fields, uint32_t id, size_t cursor) {
  const size_t n = fields.size();
  if (cursor > n || (cursor > 0 && fields[cursor - 1].field_id >= id)) cursor = 0;
  for (int step = 0; step < 4; ++step, ++cursor) {
    if (cursor == n || fields[cursor].field_id >= id) return cursor;
  }
  auto it = std::lower_bound(fields.begin() + static_cast<std::ptrdiff_t>(cursor), fields.end(), id,
                             [](const FieldAggregate& a, uint32_t i) { return a.field_id < i; });
  return static_cast<size_t>(it - fields.begin());
}
// The common cases inline: the record at the cursor, or a new one after every record.
[[gnu::always_inline]] inline size_t SeekAggregate(const std::vector<FieldAggregate>& fields, uint32_t id,
                                                   size_t cursor) {
  const size_t n = fields.size();
  if (cursor <= n && (cursor == n || fields[cursor].field_id >= id) && (cursor == 0 || fields[cursor - 1].field_id < id)) {
    return cursor;
  }
  return SeekAggregateFurther(fields, id, cursor);
}

// The text of field `name` in `event` (a string as is, a number in shortest round-trip
// form, written into buf), for crosses. False when the event lacks it.
bool FieldText(const Event& event, std::string_view name, char (&buf)[32], std::string_view* out) {
  for (const auto& c : event.categorical) {
    if (c.name == name) {
      *out = c.value;
      return true;
    }
  }
  for (const auto& n : event.numeric) {
    if (n.name == name) {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n.value);
      if (ec != std::errc()) return false;
      *out = std::string_view(buf, static_cast<size_t>(end - buf));
      return true;
    }
  }
  return false;
}

uint64_t Fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// FeatureDictionary

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

inline void FeatureBuilder::add_hashed(std::string_view name, std::string_view value, float weight,
                                       FeatureVector* x) const {
  x->sparse_index.push_back(static_cast<uint32_t>(HashFeature(name, value) & hash_mask_));
  x->sparse_value.push_back(weight);
}

void FeatureBuilder::add_nominal(std::string_view field, std::string_view value, FeatureVector* x) {
  auto it = nominal_field_index_.find(field);
  if (it == nominal_field_index_.end()) {
    it = nominal_field_index_.emplace(std::string(field), static_cast<uint32_t>(nominal_fields_.size())).first;
    nominal_fields_.push_back(NominalField{std::string(field), {}, {}, 0});
  }
  NominalField& f = nominal_fields_[it->second];
  uint32_t id = config_.nominal_max_values;  // "other"
  if (auto v = f.index.find(value); v != f.index.end()) {
    id = v->second;
  } else if (f.values.size() < config_.nominal_max_values) {
    id = static_cast<uint32_t>(f.values.size());
    f.values.emplace_back(value);
    f.index.emplace(std::string(value), id);
  } else {
    ++f.other;
  }
  x->nominal_field.push_back(it->second);
  x->nominal_value.push_back(id);
}

// ---------------------------------------------------------------------------------------
// FeatureBuilder: set-up

FeatureBuilder::FeatureBuilder(FeatureConfig config, FeatureDictionary* dictionary)
    : config_(std::move(config)),
      dictionary_(dictionary),
      hash_mask_((1u << std::clamp<uint32_t>(config_.hash_bits, 4, 24)) - 1) {
  tracked_ = tracked_mask();
  windows_key_ = 0;
  if (config_.entity_aggregates && !config_.windows.empty()) {
    // Identifies the window layout, so a state built under another one is not misread.
    uint64_t key = Fnv1a64("windows");
    for (const auto& w : config_.windows) {
      const int64_t buckets = w.tumbling ? 1 : config_.window_buckets;
      window_bucket_ms_.push_back(w.width_ms / buckets);
      window_buckets_.push_back(static_cast<uint32_t>(buckets));
      key = Fnv(Fnv(key, static_cast<uint64_t>(w.width_ms / buckets)), static_cast<uint64_t>(buckets));
    }
    for (const auto& f : config_.window_fields) key = Fnv1a64(f, Fnv(key, f.size()));
    windows_key_ = key == 0 ? 1 : key;
    window_values_.assign(config_.window_fields.size(), 0.0);
    window_have_.assign(config_.window_fields.size(), 0);
    window_sums_.assign(config_.window_fields.size(), 0.0);
  }
  any_missing_handling_ = config_.default_field.handles_missing();
  categorical_lookup_ = config_.default_field.encoding == Encoding::kOneHot;
  needs_global_ = !config_.default_field.numeric_identity() || config_.pca.components > 0;
  for (const auto& [name, f] : config_.fields) {
    if (f.handles_missing()) {
      any_missing_handling_ = true;
      named_.push_back(name);
    }
    if (f.encoding == Encoding::kOneHot) categorical_lookup_ = true;
    if (!f.numeric_identity()) needs_global_ = true;
  }
  if (!named_.empty()) categorical_lookup_ = true;
  named_ids_.assign(named_.size(), nullptr);
  named_seen_.assign(named_.size(), 0);
  for (const auto& [a, b] : config_.crosses) {
    cross_seeds_.push_back(Fnv1a64(b, Fnv1a64("*", Fnv1a64(a))));
  }
  if (config_.pca.components > 0 && !config_.pca.fields.empty()) {
    pca_.emplace(static_cast<uint32_t>(config_.pca.fields.size()), config_.pca.components, config_.pca.refresh_every);
    pca_row_.assign(pca_->dims(), 0.0);
    pca_have_.assign(pca_->dims(), 0);
    pca_out_.assign(pca_->components_count(), 0.0);
  }
}

FeatureBuilder::~FeatureBuilder() = default;
FeatureBuilder::FeatureBuilder(FeatureBuilder&&) noexcept = default;
FeatureBuilder& FeatureBuilder::operator=(FeatureBuilder&&) noexcept = default;

uint8_t FeatureBuilder::tracked_mask() const {
  if (!config_.entity_aggregates) return 0;
  // Every field's record holds what any field asks for (one layout for all).
  uint32_t a = config_.default_field.aggregates.value_or(config_.aggregates);
  for (const auto& [name, f] : config_.fields) a |= f.aggregates.value_or(config_.aggregates);
  a &= kFieldAggregates;
  uint8_t t = 0;
  if (a & (kAggMean | kAggSum | kAggStd)) t |= EntityState::kMean;
  if (a & kAggEwma) t |= EntityState::kEwma;
  if (a & kAggLast) t |= EntityState::kLast;
  if (a & kAggStd) t |= EntityState::kM2;
  if (a & (kAggMin | kAggMax)) t |= EntityState::kMinMax;
  return t;
}

FeatureBuilder::DerivedIds& FeatureBuilder::add_derived(std::string_view field) {
  DerivedIds ids;
  std::string name(field);
  ids.cfg = config_.field(field);
  ids.identity = ids.cfg.numeric_identity();
  if (pca_) {
    const auto& pf = config_.pca.fields;
    if (auto it = std::find(pf.begin(), pf.end(), field); it != pf.end()) {
      ids.pca_slot = static_cast<int32_t>(it - pf.begin());
      ids.emit = config_.pca.keep_inputs;
    }
  }
  if (ids.emit) {
    ids.raw = dictionary_->id_of(name);
    // Appending into one buffer (not name + "...") also dodges GCC 12's false -Wrestrict.
    std::string derived_name;
    auto id_with_suffix = [&](std::string_view suffix) {
      derived_name.assign(name).append(suffix);
      return dictionary_->id_of(derived_name);
    };
    if (config_.entity_aggregates) {
      // The original three first, in their original order: the default dictionary is unchanged.
      const uint32_t a = config_.field_aggregates(field);
      ids.aggregated = a != 0;
      if (ids.aggregated) ++aggregated_fields_;
      if (a & kAggMean) ids.mean = id_with_suffix("@entity_mean");
      if (a & kAggEwma) ids.ewma = id_with_suffix("@entity_ewma");
      if (a & kAggLast) ids.last = id_with_suffix("@entity_last");
      if (a & kAggSum) ids.sum = id_with_suffix("@entity_sum");
      if (a & kAggStd) ids.std = id_with_suffix("@entity_std");
      if (a & kAggMin) ids.min = id_with_suffix("@entity_min");
      if (a & kAggMax) ids.max = id_with_suffix("@entity_max");
    }
    if (ids.cfg.missing_indicator) ids.missing = id_with_suffix("@missing");
    if (windows_key_ != 0) {
      const auto& wf = config_.window_fields;
      if (auto it = std::find(wf.begin(), wf.end(), field); it != wf.end()) {
        ids.window_slot = static_cast<int32_t>(it - wf.begin());
        for (const auto& w : config_.windows) ids.window_sum_ids.push_back(id_with_suffix("@sum_" + w.name));
      }
    }
  }
  if (!ids.identity) {
    auto [it, inserted] = stats_index_.try_emplace(name, static_cast<uint32_t>(stats_.size()));
    if (inserted) stats_.push_back(Stats{name, 0, 0, 0, 0, 0, 0, 0, 0});
    ids.stats = static_cast<int32_t>(it->second);
  }
  if (auto it = std::find(named_.begin(), named_.end(), field); it != named_.end()) {
    ids.named = static_cast<int32_t>(it - named_.begin());
  }
  // Infinite bounds never cut (nor change a NaN): clean() of such a field is the clip alone.
  ids.clip_only = !ids.identity && ids.stats >= 0 && ids.cfg.clip_std > 0 &&
                  ids.cfg.clip_min == -std::numeric_limits<double>::infinity() &&
                  ids.cfg.clip_max == std::numeric_limits<double>::infinity() && ids.cfg.log1p == Log1p::kOff;
  ids.plain_emit = ids.emit && ids.raw >= 0 && ids.pca_slot < 0 && ids.cfg.scale == Scale::kNone;
  ids.folds_entity = config_.entity_aggregates && ids.emit && ids.raw >= 0 && tracked_ != 0 && ids.aggregated;
  return derived_.emplace(std::move(name), std::move(ids)).first->second;
}

FeatureBuilder::CategoricalInfo& FeatureBuilder::categorical(std::string_view field) {
  if (auto it = categoricals_.find(field); it != categoricals_.end()) return it->second;
  CategoricalInfo info;
  const FieldConfig& cfg = config_.field(field);
  if (cfg.encoding == Encoding::kOneHot) {
    auto [it, inserted] = vocabulary_index_.try_emplace(std::string(field), static_cast<uint32_t>(vocabularies_.size()));
    if (inserted) {
      Vocabulary v;
      v.name = std::string(field);
      vocabularies_.push_back(std::move(v));
    }
    info.vocabulary = static_cast<int32_t>(it->second);
    info.max_categories = cfg.max_categories;
    // Consecutive buckets from a per-field base: within a field, one-hot for real.
    info.base = Mix64(Fnv1a64(field) ^ 0x6f6e65686f74ULL);
  }
  if (auto it = std::find(named_.begin(), named_.end(), field); it != named_.end()) {
    info.named = static_cast<int32_t>(it - named_.begin());
  }
  return categoricals_.emplace(std::string(field), info).first->second;
}

void FeatureBuilder::resolve_entity_ids() {
  entity_ids_resolved_ = true;
  if (config_.entity_aggregates) {
    // count and since_last first, as the original builder registered them.
    if (config_.aggregates & kAggCount) count_id_ = dictionary_->id_of("entity@log_count");
    if (config_.aggregates & kAggSinceLast) gap_id_ = dictionary_->id_of("entity@secs_since_last");
    if (windows_key_ != 0) {
      for (const auto& w : config_.windows) window_count_ids_.push_back(dictionary_->id_of("entity@count_" + w.name));
      for (const auto& f : config_.window_fields) window_fields_.push_back(&derived(f));
    }
  }
  if (config_.target_agg) {
    target_mean_id_ = dictionary_->id_of("entity@target_mean");
    target_count_id_ = dictionary_->id_of("entity@target_log_count");
  }
  if (pca_) {
    for (uint32_t j = 0; j < pca_->components_count(); ++j) {
      pca_ids_.push_back(dictionary_->id_of("pca@" + std::to_string(j)));
    }
  }
}

const FeatureBuilder::DerivedIds& FeatureBuilder::derived_at(size_t position, std::string_view field) {
  constexpr size_t kMaxPositions = 256;  // wider events look the rest up by name
  // A null feature is not in the event's numbers, so the fields after it sit one position
  // earlier than in a full event: the slots a few places further on are tried too, and the
  // event's shift so far carries over to its next fields.
  constexpr size_t kMaxSkipped = 4;
  if (position == 0) position_shift_ = 0;
  for (size_t shift = position_shift_; shift <= position_shift_ + kMaxSkipped; ++shift) {
    if (position + shift >= derived_by_position_.size()) break;
    const auto* seen = derived_by_position_[position + shift];
    if (seen != nullptr && SameShortName(seen->first, field)) {
      position_shift_ = shift;
      return seen->second;
    }
  }
  const size_t slot = position + position_shift_;
  if (slot >= derived_by_position_.size() && slot < kMaxPositions) derived_by_position_.resize(slot + 1, nullptr);
  DerivedIds& ids = derived(field);
  if (slot < derived_by_position_.size()) derived_by_position_[slot] = &*derived_.find(field);
  return ids;
}

void FeatureBuilder::reset_caches() {
  built_event_ = nullptr;
  derived_by_position_.clear();
  position_shift_ = 0;
  derived_.clear();
  aggregated_fields_ = 0;
  categoricals_.clear();
  std::fill(named_ids_.begin(), named_ids_.end(), nullptr);
  entity_ids_resolved_ = false;
  count_id_ = gap_id_ = target_mean_id_ = target_count_id_ = -1;
  window_count_ids_.clear();
  window_fields_.clear();
  pca_ids_.clear();
}

FeatureBuilder::DerivedIds& FeatureBuilder::named_ids(size_t i) {
  if (named_ids_[i] == nullptr) named_ids_[i] = &derived(named_[i]);
  return *named_ids_[i];
}

// ---------------------------------------------------------------------------------------
// Per-field preprocessing

inline double FeatureBuilder::clip(const DerivedIds& f, double v, bool* clipped) const {
  const Stats& s = stats_[f.stats];
  const double k = f.cfg.clip_std;
  bool cut = false;
  const double sd = s.count >= kClipWarmup ? std::sqrt(s.m2 / static_cast<double>(s.count)) : 0;
  // sd 0 (a field constant so far) says nothing of its scale: clipping there would pin
  // every later value to the mean, and the statistics, fed the clean value, would never
  // move again.
  if (sd > 0) {
    const double lo = s.mean - k * sd, hi = s.mean + k * sd;
    if (v < lo) {
      v = lo;
      cut = true;
    } else if (v > hi) {
      v = hi;
      cut = true;
    }
  }
  *clipped = cut;
  return v;
}

bool FeatureBuilder::clean(const DerivedIds& f, double v, double* out, bool* clipped) const {
  const FieldConfig& c = f.cfg;
  bool cut = false;
  if (v < c.clip_min) {
    v = c.clip_min;
    cut = true;
  } else if (v > c.clip_max) {
    v = c.clip_max;
    cut = true;
  }
  if (c.log1p == Log1p::kOn) {
    if (v < 0) {  // refused: log1p is for non-negative values; the value counts as missing
      if (clipped) *clipped = cut;
      return false;
    }
    v = std::log1p(v);
  } else if (c.log1p == Log1p::kSigned) {
    v = std::copysign(std::log1p(std::fabs(v)), v);
  }
  if (c.clip_std > 0 && f.stats >= 0) {
    bool std_cut = false;
    v = clip(f, v, &std_cut);
    cut = cut || std_cut;
  }
  *out = v;
  if (clipped) *clipped = cut;
  return true;
}

bool FeatureBuilder::same_clean(const DerivedIds& f, double raw, const BuiltClean& built) const {
  double v = raw;
  bool clipped = false;
  const bool have = clean(f, raw, &v, &clipped);
  const bool same_value = v == built.value || (std::isnan(v) && std::isnan(built.value));
  return have == built.have && clipped == built.clipped && (!have || same_value);
}

bool FeatureBuilder::imputed_value(const DerivedIds& f, double* out) const {
  switch (f.cfg.impute) {
    case Impute::kNone:
      return false;
    case Impute::kMean:
      if (f.stats < 0 || stats_[f.stats].count == 0) return false;  // nothing seen yet
      *out = stats_[f.stats].mean;
      return true;
    case Impute::kZero:
      return clean(f, 0.0, out, nullptr);  // in raw units, like a value of the event
    case Impute::kConstant:
      return clean(f, f.cfg.impute_value, out, nullptr);
  }
  return false;
}

double FeatureBuilder::scaled(const DerivedIds& f, double v) const {
  if (f.cfg.scale == Scale::kNone || f.stats < 0) return v;
  const Stats& s = stats_[f.stats];
  if (f.cfg.scale == Scale::kStandard) {
    if (s.count < 2) return 0;
    const double sd = std::sqrt(s.m2 / static_cast<double>(s.count));
    return sd > 0 ? (v - s.mean) / sd : 0;
  }
  // Min-max with the range seen so far; a new extreme is clamped into [0, 1].
  if (s.count == 0 || !(s.max > s.min)) return 0;
  return std::clamp((v - s.min) / (s.max - s.min), 0.0, 1.0);
}

double FeatureBuilder::scale_factor(const DerivedIds& f) const {
  if (f.cfg.scale == Scale::kNone || f.stats < 0) return 1;
  const Stats& s = stats_[f.stats];
  if (f.cfg.scale == Scale::kStandard) {
    const double sd = s.count < 2 ? 0 : std::sqrt(s.m2 / static_cast<double>(s.count));
    return sd > 0 ? 1 / sd : 0;
  }
  return s.count > 0 && s.max > s.min ? 1 / (s.max - s.min) : 0;
}

// ---------------------------------------------------------------------------------------
// build

void FeatureBuilder::emit_aggregates(const DerivedIds& f, const EntityState* before, FeatureVector* x) {
  if (!config_.entity_aggregates || before == nullptr || f.raw < 0 || !f.aggregated) return;
  const auto& fields = before->fields;
  const size_t at = SeekAggregate(fields, static_cast<uint32_t>(f.raw), emit_cursor_);
  emit_cursor_ = at;
  if (at == fields.size() || fields[at].field_id != f.raw) return;
  emit_cursor_ = at + 1;
  const FieldAggregate* a = &fields[at];
  if (a->count == 0) return;
  if (f.cfg.scale == Scale::kNone) {  // the common case, as the original builder did it
    if (f.mean >= 0) x->set_dense(static_cast<uint32_t>(f.mean), a->mean);
    if (f.ewma >= 0) x->set_dense(static_cast<uint32_t>(f.ewma), a->ewma);
    if (f.last >= 0) x->set_dense(static_cast<uint32_t>(f.last), a->last);
    if (f.sum >= 0) x->set_dense(static_cast<uint32_t>(f.sum), a->mean * static_cast<double>(a->count));
    if (f.std >= 0) {
      x->set_dense(static_cast<uint32_t>(f.std), std::sqrt(std::max(a->m2, 0.0) / static_cast<double>(a->count)));
    }
    if (f.min >= 0) x->set_dense(static_cast<uint32_t>(f.min), a->min);
    if (f.max >= 0) x->set_dense(static_cast<uint32_t>(f.max), a->max);
    return;
  }
  // Scaled like the field itself; std by the scale factor only.
  auto value = [&](int64_t id, double v) {
    if (id >= 0) x->set_dense(static_cast<uint32_t>(id), scaled(f, v));
  };
  value(f.mean, a->mean);
  value(f.ewma, a->ewma);
  value(f.last, a->last);
  if (f.sum >= 0) x->set_dense(static_cast<uint32_t>(f.sum), a->mean * static_cast<double>(a->count));
  if (f.std >= 0) {
    const double sd = std::sqrt(std::max(a->m2, 0.0) / static_cast<double>(a->count));
    x->set_dense(static_cast<uint32_t>(f.std), sd * scale_factor(f));
  }
  value(f.min, a->min);
  value(f.max, a->max);
}

void FeatureBuilder::emit_field(const DerivedIds& f, std::string_view name, bool have, double v,
                                const EntityState* before, FeatureVector* x) {
  if (!have) {
    emit_missing(f, name, before, x);
    return;
  }
  if (f.pca_slot >= 0) {
    pca_row_[f.pca_slot] = scaled(f, v);
    pca_have_[f.pca_slot] = 1;
  }
  if (!f.emit) return;
  if (f.raw < 0) {  // dictionary full: the value still reaches the model, hashed
    add_hashed(name, "", static_cast<float>(scaled(f, v)), x);
    return;
  }
  x->set_dense(static_cast<uint32_t>(f.raw), scaled(f, v));
  if (f.missing >= 0) x->set_dense(static_cast<uint32_t>(f.missing), 0.0);
  emit_aggregates(f, before, x);
}

void FeatureBuilder::emit_missing(const DerivedIds& f, std::string_view name, const EntityState* before,
                                  FeatureVector* x) {
  double v = 0;
  const bool have = imputed_value(f, &v);
  if (have && f.pca_slot >= 0) {
    pca_row_[f.pca_slot] = scaled(f, v);
    pca_have_[f.pca_slot] = 1;
  }
  if (!f.emit) return;
  if (f.raw < 0) {
    if (have) add_hashed(name, "", static_cast<float>(scaled(f, v)), x);
    return;
  }
  if (have) x->set_dense(static_cast<uint32_t>(f.raw), scaled(f, v));
  if (f.missing >= 0) x->set_dense(static_cast<uint32_t>(f.missing), 1.0);
  emit_aggregates(f, before, x);  // the entity's history says something even now
}

void FeatureBuilder::add_crosses(const Event& event, FeatureVector* x) const {
  for (size_t i = 0; i < config_.crosses.size(); ++i) {
    char buf_a[32], buf_b[32];
    std::string_view a, b;
    if (!FieldText(event, config_.crosses[i].first, buf_a, &a) ||
        !FieldText(event, config_.crosses[i].second, buf_b, &b)) {
      continue;
    }
    // The length between the two keeps ("ab", "c") and ("a", "bc") apart.
    const uint64_t h = Fnv1a64(b, Fnv(Fnv1a64(a, cross_seeds_[i]), a.size()));
    x->sparse_index.push_back(static_cast<uint32_t>(Mix64(h) & hash_mask_));
    x->sparse_value.push_back(1.0f);
  }
}

void FeatureBuilder::window_query(const EntityState& s, size_t w, int64_t ts_ms, uint32_t* count,
                                  double* sums) const {
  const size_t per = config_.window_fields.size();
  *count = 0;
  std::fill(sums, sums + per, 0.0);
  const WindowCounts& win = s.windows[w];
  if (win.head == WindowCounts::kEmpty) return;
  const int64_t buckets = window_buckets_[w];
  const int64_t k = FloorDiv(ts_ms, window_bucket_ms_[w]);
  const int64_t lo = std::max(win.head, k) - buckets + 1;  // the later of the two windows' starts
  const int64_t hi = std::min(win.head, k);
  if (hi < lo) return;
  // Buckets lo..hi, oldest first, as at most two contiguous runs of the ring (no modulo
  // per bucket: this loop is the windows' main cost).
  const size_t first = Mod(lo, buckets);
  const size_t length = static_cast<size_t>(hi - lo + 1);
  const size_t run1 = std::min(length, static_cast<size_t>(buckets) - first);
  auto add = [&](size_t from, size_t n) {
    uint32_t c = 0;
    for (size_t slot = from; slot < from + n; ++slot) c += win.counts[slot];
    *count += c;
    // Four partial sums break the chain of dependent additions; the order is fixed, so
    // the result is deterministic (and depends only on the buckets, so a decoded state
    // reads the same).
    for (size_t j = 0; j < per; ++j) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t slot = from;
      for (; slot + 4 <= from + n; slot += 4) {
        s0 += win.sums[slot * per + j];
        s1 += win.sums[(slot + 1) * per + j];
        s2 += win.sums[(slot + 2) * per + j];
        s3 += win.sums[(slot + 3) * per + j];
      }
      for (; slot < from + n; ++slot) s0 += win.sums[slot * per + j];
      sums[j] += (s0 + s1) + (s2 + s3);
    }
  };
  add(first, run1);
  if (run1 < length) add(0, length - run1);
}

void FeatureBuilder::build_impl(const Event& event, const EntityState* entity, FeatureVector* x) {
  // Dense block sized to the whole dictionary so absent features read as missing.
  x->reset(dictionary_->size());
  emit_cursor_ = 0;
  // A new entity (most of them on a stream of many entities) has no aggregates to emit.
  const EntityState* with_records = entity != nullptr && !entity->fields.empty() ? entity : nullptr;
  if (!entity_ids_resolved_) resolve_entity_ids();
  if (config_.entity_aggregates && entity != nullptr) {
    const EntityState& before = *entity;
    if (count_id_ >= 0) x->set_dense(count_id_, std::log1p(static_cast<double>(before.events)));
    if (gap_id_ >= 0 && before.last_ts_ms >= 0 && event.ts_ms >= before.last_ts_ms) {
      x->set_dense(gap_id_, (event.ts_ms - before.last_ts_ms) / 1000.0);
    }
    if (windows_key_ != 0) {
      // A state kept under another window layout has no usable windows: they read as empty.
      const bool usable = before.windows_key == windows_key_ && before.windows.size() == window_count_ids_.size();
      for (size_t w = 0; w < window_count_ids_.size(); ++w) {
        uint32_t count = 0;
        if (usable) {
          window_query(before, w, event.ts_ms, &count, window_sums_.data());
        } else {
          std::fill(window_sums_.begin(), window_sums_.end(), 0.0);
        }
        if (window_count_ids_[w] >= 0) x->set_dense(static_cast<uint32_t>(window_count_ids_[w]), count);
        for (size_t j = 0; j < window_fields_.size(); ++j) {
          const int64_t id = window_fields_[j]->window_sum_ids.empty() ? -1 : window_fields_[j]->window_sum_ids[w];
          if (id >= 0) x->set_dense(static_cast<uint32_t>(id), window_sums_[j]);
        }
      }
    }
  }
  if (config_.target_agg && entity != nullptr) {
    const EntityState& before = *entity;
    // River's TargetAgg with a Bayesian mean: (w * prior + sum) / (w + n), so a new entity
    // reads the prior rather than 0/0.
    const double n = static_cast<double>(before.target_count);
    if (target_count_id_ >= 0) x->set_dense(static_cast<uint32_t>(target_count_id_), std::log1p(n));
    double prior = 0;
    bool has_prior = true;
    if (config_.target_prior) {
      prior = *config_.target_prior;
    } else if (labels_ > 0) {
      prior = label_sum_ / static_cast<double>(labels_);
    } else {
      has_prior = false;
    }
    const double w = has_prior ? config_.target_prior_weight : 0;
    if (target_mean_id_ >= 0 && n + w > 0) {
      x->set_dense(static_cast<uint32_t>(target_mean_id_), (w * prior + before.target_sum) / (n + w));
    }
  }
  ++epoch_;
  if (pca_) std::fill(pca_have_.begin(), pca_have_.end(), 0);
  // Kept for update() of the same event (derived_ is node-based: the pointers stay valid
  // until reset_caches(), which forgets them).
  if (built_numeric_.size() < event.numeric.size()) {
    built_numeric_.resize(event.numeric.size());
    built_clean_.resize(event.numeric.size());
  }
  built_event_ = &event;
  built_count_ = event.numeric.size();
  position_shift_ = 0;
  // The count in a local: the stores into x (bytes, which may alias anything) would make the
  // compiler read it again on every field.
  const size_t numeric_count = event.numeric.size();
  for (size_t i = 0; i < numeric_count; ++i) {
    const NumericFeature& f = event.numeric[i];
    const DerivedIds& ids = guess_derived_at(i, f.name);
    built_numeric_[i] = &ids;
    if (ids.named >= 0) named_seen_[ids.named] = epoch_;
    if (ids.identity && ids.emit && ids.pca_slot < 0) {
      // Today's path, kept tight: the value as is, then the entity's aggregates.
      if (ids.raw < 0) {
        add_hashed(f.name, "", static_cast<float>(f.value), x);
        continue;
      }
      x->set_dense(static_cast<uint32_t>(ids.raw), f.value);
      if (with_records != nullptr) emit_aggregates(ids, with_records, x);
    } else if (ids.clip_only && ids.plain_emit) {
      // The default (clipping only), as clean() and emit_field() would, without their calls
      // and the branches of the settings it does not use.
      bool clipped = false;
      const double v = clip(ids, f.value, &clipped);
      built_clean_[i] = {v, stats_[ids.stats].count, true, clipped};
      x->set_dense(static_cast<uint32_t>(ids.raw), v);
      if (ids.missing >= 0) x->set_dense(static_cast<uint32_t>(ids.missing), 0.0);
      if (with_records != nullptr) emit_aggregates(ids, with_records, x);
    } else if (ids.identity) {
      emit_field(ids, f.name, true, f.value, entity, x);
    } else {
      double v = f.value;
      bool clipped = false;
      const bool have = clean(ids, f.value, &v, &clipped);
      built_clean_[i] = {v, ids.stats >= 0 ? stats_[ids.stats].count : 0, have, clipped};
      emit_field(ids, f.name, have, v, entity, x);
    }
  }
  // Each categorical adds one sparse entry below: the i-th nominal pair's is begin + i.
  x->nominal_sparse_begin = static_cast<uint32_t>(x->sparse_index.size());
  if (categorical_seeds_.size() < event.categorical.size()) {
    categorical_seeds_.resize(event.categorical.size(), NameSeedAt{std::string(), NameSeed("")});
  }
  for (size_t i = 0; i < event.categorical.size(); ++i) {
    const CategoricalFeature& c = event.categorical[i];
    if (config_.nominals) add_nominal(c.name, c.value, x);
    if (!categorical_lookup_) {
      // The name's part of the hash, from the name seen at this position last time when it
      // is the same (a comparison instead of hashing the name again).
      NameSeedAt& seen = categorical_seeds_[i];
      if (!SameName(seen.name, c.name)) {
        seen.name.assign(c.name);
        seen.seed = NameSeed(c.name);
      }
      x->sparse_index.push_back(static_cast<uint32_t>(HashValue(seen.seed, c.value) & hash_mask_));
      x->sparse_value.push_back(1.0f);
      continue;
    }
    CategoricalInfo& info = categorical(c.name);
    if (info.named >= 0) {
      named_seen_[info.named] = epoch_;
      const DerivedIds& ids = named_ids(static_cast<size_t>(info.named));
      if (ids.missing >= 0) x->set_dense(static_cast<uint32_t>(ids.missing), 0.0);
    }
    if (info.vocabulary < 0) {
      add_hashed(c.name, c.value, 1.0f, x);
      continue;
    }
    Vocabulary& voc = vocabularies_[info.vocabulary];
    uint64_t slot = info.max_categories;  // "other"
    if (auto it = voc.index.find(c.value); it != voc.index.end()) {
      slot = it->second;
    } else if (voc.values.size() < info.max_categories) {
      slot = voc.values.size();
      voc.values.push_back(c.value);
      voc.index.emplace(c.value, static_cast<uint32_t>(slot));
    } else {
      voc.other++;
    }
    x->sparse_index.push_back(static_cast<uint32_t>((info.base + slot) & hash_mask_));
    x->sparse_value.push_back(1.0f);
  }
  if (any_missing_handling_) {
    for (const auto& name : event.missing) {
      if (!config_.field(name).handles_missing()) continue;
      const DerivedIds& ids = derived(name);
      if (ids.named >= 0) {
        if (named_seen_[ids.named] == epoch_) continue;  // given and null at once: the value wins
        named_seen_[ids.named] = epoch_;
      }
      emit_missing(ids, name, entity, x);
    }
    for (size_t i = 0; i < named_.size(); ++i) {
      if (named_seen_[i] != epoch_) emit_missing(named_ids(i), named_[i], entity, x);  // absent
    }
  }
  if (pca_ && pca_->ready()) {
    pca_->project(pca_row_.data(), pca_have_.data(), pca_out_.data());
    for (size_t j = 0; j < pca_ids_.size(); ++j) {
      if (pca_ids_[j] >= 0) x->set_dense(static_cast<uint32_t>(pca_ids_[j]), pca_out_[j]);
    }
  }
  if (!config_.crosses.empty()) add_crosses(event, x);
  // Fields first seen in this event may have grown the dictionary: they read as missing.
  x->dense.resize(dictionary_->size(), 0.0);
  x->present.resize(dictionary_->size(), 0);
}

// ---------------------------------------------------------------------------------------
// update and learn_target

void FeatureBuilder::fold_field(const DerivedIds& f, bool have, double v, bool clipped, bool refused, int64_t ts_ms,
                                EntityState* state) {
  if (f.stats >= 0) {
    Stats& s = stats_[f.stats];
    if (clipped) s.clipped++;
    if (refused) s.refused++;
  }
  if (!have) {
    fold_missing(f);
    return;
  }
  // Scaled with the statistics before this value, as build() saw them.
  if (f.pca_slot >= 0) {
    pca_row_[f.pca_slot] = scaled(f, v);
    pca_have_[f.pca_slot] = 1;
  }
  if (f.stats >= 0) {
    Stats& s = stats_[f.stats];
    s.count += 1;
    const double delta = v - s.mean;
    s.mean += delta / static_cast<double>(s.count);
    s.m2 += delta * (v - s.mean);
    if (s.count == 1) {
      s.min = s.max = v;
    } else {
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
    }
  }
  if (f.window_slot >= 0) {
    window_values_[f.window_slot] = v;
    window_have_[f.window_slot] = 1;
  }
  fold_entity(f, v, ts_ms, state);
}

void FeatureBuilder::adopt_layout(EntityState* state) const {
  const uint8_t tracked = tracked_;
  // Configured aggregates changed since this state was written: members no longer kept
  // are dropped; new ones start from the best guess at hand (the mean), so that a min
  // is not stuck at a made-up 0 and nothing non-finite appears; a new std starts at 0.
  const uint8_t had = state->tracked, added = static_cast<uint8_t>(tracked & ~had);
  for (auto& a : state->fields) {
    const double guess = (had & EntityState::kMean)   ? a.mean
                         : (had & EntityState::kLast) ? a.last
                         : (had & EntityState::kEwma) ? a.ewma
                                                      : 0.0;
    if (added & EntityState::kMean) a.mean = guess;
    if (added & EntityState::kEwma) a.ewma = guess;
    if (added & EntityState::kLast) a.last = guess;
    if (added & EntityState::kMinMax) a.min = a.max = guess;
    if (added & EntityState::kM2) a.m2 = 0;
  }
  for (auto& a : state->fields) {
    if (!(tracked & EntityState::kMean)) a.mean = 0;
    if (!(tracked & EntityState::kEwma)) a.ewma = 0;
    if (!(tracked & EntityState::kLast)) a.last = 0;
    if (!(tracked & (EntityState::kEwma | EntityState::kLast))) a.last_ts_ms = 0;
    if (!(tracked & EntityState::kM2)) a.m2 = 0;
    if (!(tracked & EntityState::kMinMax)) a.min = a.max = 0;
  }
  state->tracked = tracked;
}

void FeatureBuilder::fold_entity(const DerivedIds& f, double v, int64_t ts_ms, EntityState* state) {
  const uint8_t tracked = tracked_;  // a local: the writes below cannot alias it
  if (state == nullptr || !f.folds_entity) return;
  if (state->tracked != tracked) [[unlikely]] adopt_layout(state);
  auto& fields = state->fields;
  const uint32_t id = static_cast<uint32_t>(f.raw);
  const size_t at = SeekAggregate(fields, id, fold_cursor_);
  fold_cursor_ = at + 1;
  if (at == fields.size() || fields[at].field_id != id) {
    // A new entity's records: room for every aggregated field known, at once (they come in
    // the same event), instead of growing by doubling through the event's fields.
    if (fields.capacity() == 0) fields.reserve(aggregated_fields_);
    if (at == fields.size()) {
      fields.emplace_back().field_id = id;  // the event's fields in id order: each new one at the end
    } else {
      FieldAggregate fresh;
      fresh.field_id = id;
      fields.insert(fields.begin() + static_cast<std::ptrdiff_t>(at), fresh);
    }
  }
  FieldAggregate& a = fields[at];
  a.count += 1;
  const double delta = v - a.mean;
  if (tracked & EntityState::kMean) a.mean += delta / static_cast<double>(a.count);
  if (tracked & EntityState::kM2) a.m2 += delta * (v - a.mean);
  if (tracked & EntityState::kMinMax) {
    if (a.count == 1) {
      a.min = a.max = v;
    } else {
      a.min = std::min(a.min, v);
      a.max = std::max(a.max, v);
    }
  }
  if (tracked & EntityState::kEwma) {
    if (a.count == 1) {
      a.ewma = v;
    } else {
      // Decay by elapsed event time: an entity silent for a half-life weighs its past by half.
      // The fields of one entity were mostly last seen at the same time: the decay of the
      // previous field's elapsed time is reused (the same arithmetic on the same input).
      const int64_t dt_ms = std::max<int64_t>(ts_ms - a.last_ts_ms, 0);
      if (dt_ms != ewma_dt_ms_) {
        const double dt_s = dt_ms / 1000.0;
        ewma_alpha_ = 1.0 - std::exp2(-dt_s / config_.ewma_half_life_s);
        ewma_dt_ms_ = dt_ms;
      }
      a.ewma += ewma_alpha_ * (v - a.ewma);
    }
  }
  if (tracked & EntityState::kLast) a.last = v;
  if (tracked & (EntityState::kEwma | EntityState::kLast)) a.last_ts_ms = std::max(a.last_ts_ms, ts_ms);
}

void FeatureBuilder::fold_missing(const DerivedIds& f) {
  double v = 0;
  if (f.stats >= 0 && imputed_value(f, &v)) stats_[f.stats].imputed++;
}

void FeatureBuilder::window_add(EntityState* s, int64_t ts_ms) {
  const size_t n = window_buckets_.size();
  const size_t per = config_.window_fields.size();
  if (s->windows_key != windows_key_ || s->windows.size() != n) {
    s->windows.assign(n, WindowCounts{});
    for (size_t w = 0; w < n; ++w) {
      s->windows[w].counts.assign(window_buckets_[w], 0);
      s->windows[w].sums.assign(static_cast<size_t>(window_buckets_[w]) * per, 0.0);
    }
    s->windows_key = windows_key_;
  }
  for (size_t w = 0; w < n; ++w) {
    WindowCounts& win = s->windows[w];
    const int64_t buckets = window_buckets_[w];
    const int64_t k = FloorDiv(ts_ms, window_bucket_ms_[w]);
    if (win.head == WindowCounts::kEmpty) {
      win.head = k;
    } else if (k > win.head) {
      // Expire the buckets the head moves past (all of them after a long silence).
      const int64_t steps = std::min<int64_t>(k - win.head, buckets);
      for (int64_t i = 1; i <= steps; ++i) {
        const size_t slot = Mod(win.head + i, buckets);
        win.counts[slot] = 0;
        std::fill_n(win.sums.begin() + static_cast<std::ptrdiff_t>(slot * per), per, 0.0);
      }
      win.head = k;
    } else if (k <= win.head - buckets) {
      continue;  // older than every bucket kept
    }
    const size_t slot = Mod(k, buckets);
    win.counts[slot] += 1;
    for (size_t j = 0; j < per; ++j) {
      if (window_have_[j]) win.sums[slot * per + j] += window_values_[j];
    }
  }
}

void FeatureBuilder::update_impl(const Event& event, EntityState* state) {
  if (state != nullptr) {
    state->events += 1;
    if (event.ts_ms > state->last_ts_ms) state->last_ts_ms = event.ts_ms;
  }
  if (!(config_.entity_aggregates && state != nullptr) && !needs_global_) return;
  fold_cursor_ = 0;
  ++epoch_;
  if (pca_) std::fill(pca_have_.begin(), pca_have_.end(), 0);
  std::fill(window_have_.begin(), window_have_.end(), 0);
  // The event build() saw last: its lookups, instead of each name's guess and compare again.
  const bool built = &event == built_event_ && event.numeric.size() == built_count_;
  built_event_ = nullptr;
  const size_t numeric_count = event.numeric.size();
  for (size_t i = 0; i < numeric_count; ++i) {
    const NumericFeature& f = event.numeric[i];
    const DerivedIds& ids = built ? *built_numeric_[i] : derived_at(i, f.name);
    assert(!built || &ids == &derived(f.name));  // the event was not changed since build()
    if (ids.named >= 0) named_seen_[ids.named] = epoch_;
    if (ids.identity && ids.pca_slot < 0 && ids.window_slot < 0) {
      fold_entity(ids, f.value, event.ts_ms, state);  // today's path: no global statistics
      continue;
    }
    double v = f.value;
    bool have = true, clipped = false;
    if (!ids.identity) {
      // build() cleaned this value with the statistics as they still are (unless the event
      // named the field twice and the first has been folded since): its result is reused.
      const BuiltClean* b = built ? &built_clean_[i] : nullptr;
      if (b != nullptr && (ids.stats < 0 || stats_[ids.stats].count == b->stats_count)) {
        v = b->value;
        have = b->have;
        clipped = b->clipped;
        assert(same_clean(ids, f.value, *b));
      } else {
        have = clean(ids, f.value, &v, &clipped);
      }
    }
    fold_field(ids, have, v, clipped, !have, event.ts_ms, state);
  }
  if (any_missing_handling_) {
    if (!named_.empty()) {
      for (const auto& c : event.categorical) {
        const CategoricalInfo& info = categorical(c.name);
        if (info.named >= 0) named_seen_[info.named] = epoch_;
      }
    }
    for (const auto& name : event.missing) {
      if (!config_.field(name).handles_missing()) continue;
      const DerivedIds& ids = derived(name);
      if (ids.named >= 0) {
        if (named_seen_[ids.named] == epoch_) continue;
        named_seen_[ids.named] = epoch_;
      }
      fold_missing(ids);
    }
    for (size_t i = 0; i < named_.size(); ++i) {
      if (named_seen_[i] != epoch_) fold_missing(named_ids(i));
    }
  }
  if (pca_ && std::all_of(pca_have_.begin(), pca_have_.end(), [](uint8_t h) { return h != 0; })) {
    pca_->update(pca_row_.data());  // full rows of observed values only
  }
  if (windows_key_ != 0 && state != nullptr) window_add(state, event.ts_ms);
}

void FeatureBuilder::learn_target(double y, EntityState* state) {
  if (!config_.target_agg || !std::isfinite(y)) return;
  state->target_count += 1;
  state->target_sum += y;
  labels_ += 1;
  label_sum_ += y;
}

// ---------------------------------------------------------------------------------------
// Global state: save / load and inspection

void FeatureBuilder::save(ByteWriter& out) const {
  out.u8(config_.nominals ? kBuilderStateNominalVersion : kBuilderStateVersion);
  out.u32(static_cast<uint32_t>(stats_.size()));
  for (const auto& s : stats_) {
    out.str(s.name);
    out.u64(s.count);
    out.f64(s.mean);
    out.f64(s.m2);
    out.f64(s.min);
    out.f64(s.max);
    out.u64(s.clipped);
    out.u64(s.imputed);
    out.u64(s.refused);
  }
  out.u32(static_cast<uint32_t>(vocabularies_.size()));
  for (const auto& v : vocabularies_) {
    out.str(v.name);
    out.u64(v.other);
    out.u32(static_cast<uint32_t>(v.values.size()));
    for (const auto& value : v.values) out.str(value);
  }
  out.u64(labels_);
  out.f64(label_sum_);
  // PCA as a length-prefixed blob with its input names: a reader configured for other
  // inputs can skip it.
  out.u8(pca_ ? 1 : 0);
  if (pca_) {
    out.u32(static_cast<uint32_t>(config_.pca.fields.size()));
    for (const auto& f : config_.pca.fields) out.str(f);
    std::string blob;
    ByteWriter b(&blob);
    pca_->save(b);
    out.str(blob);
  }
  if (config_.nominals) {
    out.u32(static_cast<uint32_t>(nominal_fields_.size()));
    for (const auto& f : nominal_fields_) {
      out.str(f.name);
      out.u64(f.other);
      out.u32(static_cast<uint32_t>(f.values.size()));
      for (const auto& value : f.values) out.str(value);
    }
  }
}

Status FeatureBuilder::load(ByteReader& in) {
  const uint8_t version = in.u8();
  if (!in.ok() || (version != kBuilderStateVersion && version != kBuilderStateNominalVersion)) {
    return Status::Corruption("feature state: unknown version");
  }
  constexpr size_t kStatsBytes = 4 + 8 * 8;
  const uint32_t ns = in.u32();
  if (!in.ok() || ns > in.remaining() / kStatsBytes) return Status::Corruption("feature state: bad statistics count");
  std::vector<Stats> stats(ns);
  StringMap<uint32_t> stats_index;
  for (uint32_t i = 0; i < ns; ++i) {
    Stats& s = stats[i];
    s.name = in.str();
    s.count = in.u64();
    s.mean = in.f64();
    s.m2 = in.f64();
    s.min = in.f64();
    s.max = in.f64();
    s.clipped = in.u64();
    s.imputed = in.u64();
    s.refused = in.u64();
    if (!in.ok() || !stats_index.emplace(s.name, i).second) return Status::Corruption("feature state: bad statistics");
  }
  const uint32_t nv = in.u32();
  if (!in.ok() || nv > in.remaining() / 16) return Status::Corruption("feature state: bad vocabulary count");
  std::vector<Vocabulary> vocabularies(nv);
  StringMap<uint32_t> vocabulary_index;
  for (uint32_t i = 0; i < nv; ++i) {
    Vocabulary& v = vocabularies[i];
    v.name = in.str();
    v.other = in.u64();
    const uint32_t n = in.u32();
    if (!in.ok() || n > in.remaining() / 4 || !vocabulary_index.emplace(v.name, i).second) {
      return Status::Corruption("feature state: bad vocabulary");
    }
    v.values.reserve(n);
    for (uint32_t j = 0; j < n; ++j) {
      std::string value = in.str();
      if (!in.ok() || !v.index.emplace(value, j).second) return Status::Corruption("feature state: bad vocabulary value");
      v.values.push_back(std::move(value));
    }
  }
  const uint64_t labels = in.u64();
  const double label_sum = in.f64();
  const uint8_t has_pca = in.u8();
  if (!in.ok() || has_pca > 1) return Status::Corruption("feature state: truncated");
  std::optional<OnlinePca> pca;
  if (has_pca) {
    const uint32_t nf = in.u32();
    if (!in.ok() || nf > in.remaining() / 4) return Status::Corruption("feature state: bad pca inputs");
    std::vector<std::string> fields(nf);
    for (auto& f : fields) f = in.str();
    const std::string blob = in.str();
    if (!in.ok()) return Status::Corruption("feature state: truncated pca");
    // Another input list (or none configured): the saved PCA is dropped and starts afresh.
    if (pca_ && fields == config_.pca.fields) {
      pca.emplace(pca_->dims(), pca_->components_count(), config_.pca.refresh_every);
      ByteReader b(blob);
      Status st = pca->load(b);
      if (st.code() == ErrorCode::kFailedPrecondition) {
        pca.reset();
      } else if (!st.ok()) {
        return st;
      } else if (!b.at_end()) {
        return Status::Corruption("feature state: pca has trailing bytes");
      }
    }
  }
  // Version 1 (written without nominals) has none: ids start afresh.
  std::vector<NominalField> nominal_fields;
  StringMap<uint32_t> nominal_field_index;
  if (version == kBuilderStateNominalVersion) {
    const uint32_t nf = in.u32();
    if (!in.ok() || nf > in.remaining() / 16) return Status::Corruption("feature state: bad nominal field count");
    nominal_fields.resize(nf);
    for (uint32_t i = 0; i < nf; ++i) {
      NominalField& f = nominal_fields[i];
      f.name = in.str();
      f.other = in.u64();
      const uint32_t n = in.u32();
      if (!in.ok() || n > in.remaining() / 4 || n > kMaxNominalValues ||
          !nominal_field_index.emplace(f.name, i).second) {
        return Status::Corruption("feature state: bad nominal field");
      }
      f.values.reserve(n);
      for (uint32_t j = 0; j < n; ++j) {
        std::string value = in.str();
        if (!in.ok() || !f.index.emplace(value, j).second) return Status::Corruption("feature state: bad nominal value");
        f.values.push_back(std::move(value));
      }
    }
  }
  stats_ = std::move(stats);
  stats_index_ = std::move(stats_index);
  nominal_fields_ = std::move(nominal_fields);
  nominal_field_index_ = std::move(nominal_field_index);
  vocabularies_ = std::move(vocabularies);
  vocabulary_index_ = std::move(vocabulary_index);
  labels_ = labels;
  label_sum_ = label_sum;
  if (pca) {
    pca_ = std::move(pca);
  } else if (pca_) {
    pca_.emplace(pca_->dims(), pca_->components_count(), config_.pca.refresh_every);
  }
  // Cached ids point at the old dictionary and statistics: resolve them again.
  reset_caches();
  return Status::Ok();
}

std::vector<FeatureBuilder::FieldReport> FeatureBuilder::field_reports() const {
  std::vector<FieldReport> out;
  for (const auto& s : stats_) {
    FieldReport r;
    r.name = s.name;
    r.count = s.count;
    r.clipped = s.clipped;
    r.imputed = s.imputed;
    r.refused = s.refused;
    r.mean = s.mean;
    r.std = s.count > 0 ? std::sqrt(s.m2 / static_cast<double>(s.count)) : 0;
    r.min = s.min;
    r.max = s.max;
    out.push_back(std::move(r));
  }
  return out;
}

int64_t FeatureBuilder::nominal_field_id(std::string_view field) const {
  auto it = nominal_field_index_.find(field);
  return it == nominal_field_index_.end() ? int64_t{-1} : int64_t{it->second};
}

size_t FeatureBuilder::nominal_values(std::string_view field) const {
  auto it = nominal_field_index_.find(field);
  return it == nominal_field_index_.end() ? 0 : nominal_fields_[it->second].values.size();
}

uint64_t FeatureBuilder::nominal_other_count(std::string_view field) const {
  auto it = nominal_field_index_.find(field);
  return it == nominal_field_index_.end() ? 0 : nominal_fields_[it->second].other;
}

size_t FeatureBuilder::vocabulary_size(std::string_view field) const {
  auto it = vocabulary_index_.find(field);
  return it == vocabulary_index_.end() ? 0 : vocabularies_[it->second].values.size();
}

uint64_t FeatureBuilder::other_count(std::string_view field) const {
  auto it = vocabulary_index_.find(field);
  return it == vocabulary_index_.end() ? 0 : vocabularies_[it->second].other;
}

}  // namespace streamlearn::features

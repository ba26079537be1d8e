#include "streamlearn/core/event_decoder.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "json_fields.hpp"
#include "streamlearn/core/short_name.hpp"

namespace streamlearn {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

using json_fields::FirstTime;
using json_fields::Quote;
using json_fields::ReadLabel;

}  // namespace

struct EventDecoder::Impl {
  EventDecoderLimits limits;
  std::unique_ptr<json_fields::JsonObjectParser> json;
  std::vector<std::string_view> seen_features;
  // The feature names of the last event whose features all decoded, in their order: no two
  // alike, none empty (its first `schema_size` strings; the rest keep their buffers for the
  // next change). A stream's events mostly name the same features in the same order: while
  // an event's names follow these position by position they need neither the search for a
  // duplicate (a scan of the names before each, quadratic in the features) nor the empty
  // check. At the first name that departs, the names so far (this list's prefix) seed that
  // search and it goes on as it would without the list: the same checks in the same order,
  // so the same reasons.
  std::vector<std::string> schema;
  size_t schema_size = 0;
  // Features of the event being decoded so far. The output's vectors keep their elements
  // from the previous event and are overwritten in place, so that events of a steady
  // schema reuse the strings' buffers (no allocation, no free); trimmed at the end.
  size_t numeric_used = 0, categorical_used = 0, missing_used = 0;
  std::optional<int> concept_marker;

  Status Decode(std::string_view payload, std::string_view key, const SourcePosition& source,
                Event* out, size_t readable_after);
  Status DecodeFeatures(object features, Event* out);
  Status DecodeLabel(element v, Event* out);
};

EventDecoder::EventDecoder(EventDecoderLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->json = std::make_unique<json_fields::JsonObjectParser>(limits.max_payload_bytes, limits.max_depth);
}

EventDecoder::~EventDecoder() = default;

std::optional<int> EventDecoder::concept_marker() const { return impl_->concept_marker; }

static_assert(EventDecoder::kReadPastEnd == simdjson::SIMDJSON_PADDING);

uint64_t EventDecoder::payloads_copied() const { return impl_->json->copied(); }

Status EventDecoder::decode(std::string_view payload, std::string_view key,
                            const SourcePosition& source, Event* out, size_t readable_after) {
  Impl& d = *impl_;
  d.numeric_used = d.categorical_used = d.missing_used = 0;
  d.concept_marker.reset();
  Status status = d.Decode(payload, key, source, out, readable_after);
  if (!status.ok()) d.concept_marker.reset();
  out->numeric.resize(d.numeric_used);
  out->categorical.resize(d.categorical_used);
  out->missing.resize(d.missing_used);
  return status;
}

namespace {
// The next element of `v` to overwrite: a kept one, or a new one.
template <typename T>
T& NextSlot(std::vector<T>& v, size_t& used) {
  if (used == v.size()) v.emplace_back();
  return v[used++];
}
}  // namespace

Status EventDecoder::Impl::Decode(std::string_view payload, std::string_view key,
                                  const SourcePosition& source, Event* out, size_t readable_after) {
  out->id.clear();
  out->entity.clear();
  out->ts_ms = 0;
  out->label.reset();
  object top;
  SL_RETURN_IF_ERROR(json->parse(payload, "event", &top, readable_after));

  bool have_features = false;
  bool have_ts = false;
  // The fields an event may have, one bit each, set once read: a second one is a duplicate.
  // Any other name is rejected at its first appearance, so only these can repeat.
  enum : unsigned { kId = 1, kEntity = 2, kTs = 4, kFeatures = 8, kLabel = 16, kMeta = 32 };
  unsigned seen = 0;
  for (simdjson::dom::key_value_pair field : top) {
    std::string_view name = field.key;
    unsigned bit = 0;
    if (name == "id") {
      bit = kId;
    } else if (name == "entity") {
      bit = kEntity;
    } else if (name == "ts") {
      bit = kTs;
    } else if (name == "features") {
      bit = kFeatures;
    } else if (name == "label") {
      bit = kLabel;
    } else if (name == "meta") {
      bit = kMeta;
    } else {
      return Status::Invalid("unknown field " + Quote(name));
    }
    if (seen & bit) return Status::Invalid("duplicate field " + Quote(name));
    seen |= bit;
    element v = field.value;
    switch (bit) {
      case kId: {
        std::string_view s;
        if (v.get(s) || s.empty()) return Status::Invalid("field 'id' must be a non-empty string");
        out->id.assign(s);
        break;
      }
      case kEntity: {
        std::string_view s;
        if (v.get(s) || s.empty()) {
          return Status::Invalid("field 'entity' must be a non-empty string");
        }
        out->entity.assign(s);
        break;
      }
      case kTs: {
        int64_t ts = 0;
        if (v.get(ts) || ts < 0) {
          return Status::Invalid("field 'ts' must be a non-negative integer (epoch milliseconds)");
        }
        out->ts_ms = ts;
        have_ts = true;
        break;
      }
      case kFeatures: {
        object features;
        if (v.get(features)) return Status::Invalid("field 'features' must be an object");
        SL_RETURN_IF_ERROR(DecodeFeatures(features, out));
        have_features = true;
        break;
      }
      case kLabel:
        SL_RETURN_IF_ERROR(DecodeLabel(v, out));
        break;
      default: {  // kMeta
        // Annotations the model never sees (a generator's concept marker, a producer's trace
        // id): accepted so such streams need no rewriting, checked only for shape.
        object meta;
        if (v.get(meta)) return Status::Invalid("field 'meta' must be an object");
        int64_t concept_index = 0;
        if (!meta["concept"].get(concept_index) && concept_index >= std::numeric_limits<int>::min() + 1 &&
            concept_index <= std::numeric_limits<int>::max()) {
          concept_marker = static_cast<int>(concept_index);
        }
        break;
      }
    }
  }
  if (!have_features) return Status::Invalid("missing field 'features'");
  // Neither an 'entity' field nor a message key: an event without an entity (empty), which
  // is predicted and learned without entity aggregates.
  if (out->entity.empty()) out->entity.assign(key);
  // A leading NUL byte is the state changelog's offset-marker key: no entity may take it.
  if (!out->entity.empty() && out->entity.front() == '\0') {
    return Status::Invalid("the entity (field 'entity' or message key) must not start with a NUL byte");
  }
  if (out->id.empty()) {
    out->id.reserve(source.topic.size() + 24);
    out->id.assign(source.topic);
    out->id.push_back('-');
    out->id.append(std::to_string(source.partition));
    out->id.push_back('-');
    out->id.append(std::to_string(source.offset));
  }
  if (!have_ts && source.timestamp_ms > 0) out->ts_ms = source.timestamp_ms;
  return Status::Ok();
}

namespace {
// Writes `value` into `s` unless it holds it already: a kept slot of a steady stream mostly
// does (the same name at the same place), and the comparison is cheaper than the copy.
inline void Overwrite(std::string& s, std::string_view value) {
  if (!SameShortName(s, value)) s.assign(value);
}
}  // namespace

Status EventDecoder::Impl::DecodeFeatures(object features, Event* out) {
  size_t count = 0;                       // the features read so far
  size_t departed = schema_size + 1;      // where the names left the schema's, if they did
  for (simdjson::dom::key_value_pair field : features) {
    std::string_view name = field.key;
    if (departed > schema_size && count < schema_size && SameShortName(name, schema[count])) {
      // The schema's name at this place: not empty, and unlike the names before it.
    } else {
      if (departed > schema_size) {
        departed = count;
        seen_features.clear();
        for (size_t i = 0; i < count; ++i) seen_features.emplace_back(schema[i]);
      }
      if (name.empty()) return Status::Invalid("feature with an empty name");
      if (!FirstTime(seen_features, name)) return Status::Invalid("duplicate feature " + Quote(name));
    }
    if (++count > limits.max_features) {
      return Status::Invalid("more than " + std::to_string(limits.max_features) + " features");
    }
    element v = field.value;
    double d = 0;
    switch (v.type()) {
      case element_type::DOUBLE:
        d = v.get_double().value_unsafe();
        if (!std::isfinite(d)) return Status::Invalid("feature " + Quote(name) + " is not a finite number");
        break;
      case element_type::INT64: d = static_cast<double>(v.get_int64().value_unsafe()); break;
      case element_type::UINT64: d = static_cast<double>(v.get_uint64().value_unsafe()); break;
      case element_type::BOOL: d = v.get_bool().value_unsafe() ? 1.0 : 0.0; break;
      case element_type::STRING: {
        CategoricalFeature& f = NextSlot(out->categorical, categorical_used);
        Overwrite(f.name, name);
        Overwrite(f.value, v.get_string().value_unsafe());
        continue;
      }
      case element_type::NULL_VALUE:
        Overwrite(NextSlot(out->missing, missing_used), name);
        continue;
      default:
        return Status::Invalid("feature " + Quote(name) + " must be a number, string, boolean or null");
    }
    NumericFeature& f = NextSlot(out->numeric, numeric_used);
    Overwrite(f.name, name);
    f.value = d;
  }
  if (departed <= schema_size) {
    // This event's names become the schema. The first `departed` are the schema's already;
    // the others are the document's, read before the next parse.
    for (size_t i = departed; i < count; ++i) {
      if (i < schema.size()) {
        schema[i].assign(seen_features[i]);
      } else {
        schema.emplace_back(seen_features[i]);
      }
    }
    schema_size = count;
  }
  return Status::Ok();
}

Status EventDecoder::Impl::DecodeLabel(element v, Event* out) {
  return ReadLabel(v, /*null_allowed=*/true, &out->label);
}

}  // namespace streamlearn

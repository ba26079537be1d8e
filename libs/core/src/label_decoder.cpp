#include "streamlearn/core/label_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "json_fields.hpp"

namespace streamlearn {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using json_fields::FirstTime;
using json_fields::Quote;
using json_fields::ReadLabel;

}  // namespace

struct LabelDecoder::Impl {
  LabelDecoderLimits limits;
  simdjson::dom::parser parser;
  simdjson::error_code alloc_error = simdjson::SUCCESS;
  std::vector<char> padded;  // simdjson reads SIMDJSON_PADDING bytes past the end
  std::vector<std::string_view> seen;
  std::optional<Label> label;

  Status Decode(std::string_view payload, LabelRecord* out);
};

LabelDecoder::LabelDecoder(LabelDecoderLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  // Allocation fails only on out-of-memory; decode() then reports it for every record.
  impl_->alloc_error = impl_->parser.allocate(limits.max_payload_bytes, limits.max_depth);
}

LabelDecoder::~LabelDecoder() = default;

Status LabelDecoder::decode(std::string_view payload, LabelRecord* out) {
  Status st = impl_->Decode(payload, out);
  if (!st.ok()) out->clear();  // no half-decoded record after a failure
  return st;
}

Status LabelDecoder::Impl::Decode(std::string_view payload, LabelRecord* out) {
  out->clear();
  if (alloc_error) return Status::Internal("JSON parser: " + std::string(simdjson::error_message(alloc_error)));
  if (payload.empty()) return Status::Invalid("empty payload");
  if (payload.size() > limits.max_payload_bytes) {
    return Status::Invalid("payload of " + std::to_string(payload.size()) +
                           " bytes exceeds the limit of " +
                           std::to_string(limits.max_payload_bytes));
  }
  if (padded.size() < payload.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(payload.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(padded.data(), payload.data(), payload.size());
  element root;
  if (auto err = parser.parse(padded.data(), payload.size(), false).get(root)) {
    return Status::Invalid(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  object top;
  if (root.get(top)) return Status::Invalid("label record must be a JSON object");

  bool have_label = false;
  seen.clear();
  for (simdjson::dom::key_value_pair field : top) {
    std::string_view name = field.key;
    if (!FirstTime(seen, name)) return Status::Invalid("duplicate field " + Quote(name));
    element v = field.value;
    if (name == "id") {
      std::string_view s;
      if (v.get(s) || s.empty()) return Status::Invalid("field 'id' must be a non-empty string");
      out->id.assign(s);
    } else if (name == "label") {
      SL_RETURN_IF_ERROR(ReadLabel(v, /*null_allowed=*/false, &label));
      out->label = std::move(*label);
      have_label = true;
    } else if (name == "ts") {
      int64_t ts = 0;
      if (v.get(ts) || ts < 0) {
        return Status::Invalid("field 'ts' must be a non-negative integer (epoch milliseconds)");
      }
      out->ts_ms = ts;
    } else {
      return Status::Invalid("unknown field " + Quote(name));
    }
  }
  if (out->id.empty()) return Status::Invalid("missing field 'id'");
  if (!have_label) return Status::Invalid("missing field 'label'");
  return Status::Ok();
}

}  // namespace streamlearn

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
  std::unique_ptr<json_fields::JsonObjectParser> json;
  std::vector<std::string_view> seen;
  std::optional<Label> label;

  Status Decode(std::string_view payload, LabelRecord* out);
};

LabelDecoder::LabelDecoder(LabelDecoderLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->json = std::make_unique<json_fields::JsonObjectParser>(limits.max_payload_bytes, limits.max_depth);
}

LabelDecoder::~LabelDecoder() = default;

Status LabelDecoder::decode(std::string_view payload, LabelRecord* out) {
  Status st = impl_->Decode(payload, out);
  if (!st.ok()) out->clear();  // no half-decoded record after a failure
  return st;
}

Status LabelDecoder::Impl::Decode(std::string_view payload, LabelRecord* out) {
  out->clear();
  object top;
  SL_RETURN_IF_ERROR(json->parse(payload, "label record", &top));

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

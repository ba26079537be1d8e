#include "streamlearn/learn/family_support.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "streamlearn/core/config_values.hpp"

namespace streamlearn::learn {

bool IsPipelineKey(std::string_view key) { return key == "learning_rate" || key == "l2" || key == "hash_bits"; }

// Settings read through core's one config grammar; the range messages give each family's
// bounds, open or closed (River's).
Status ParseWhole(std::string_view text, int64_t lo, int64_t hi, int64_t* out) {
  auto v = ::streamlearn::ParseInteger(text);
  if (!v.ok()) return Status::Invalid("expected a whole number, got '" + std::string(text) + "'");
  if (*v < lo || *v > hi) {
    return Status::Invalid("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got '" +
                           std::string(text) + "'");
  }
  *out = *v;
  return Status::Ok();
}

Status ParseReal(std::string_view text, double lo, double hi, bool lo_open, bool hi_open, double* out) {
  auto v = ::streamlearn::ParseNumber(text);
  if (!v.ok() || !std::isfinite(*v)) return Status::Invalid("expected a number, got '" + std::string(text) + "'");
  const bool below = lo_open ? *v <= lo : *v < lo;
  const bool above = hi_open ? *v >= hi : *v > hi;
  if (below || above) {
    return Status::Invalid(std::string("must be in ") + (lo_open ? "(" : "[") + fmt::format("{}", lo) + ", " +
                           fmt::format("{}", hi) + (hi_open ? ")" : "]") + ", got '" + std::string(text) + "'");
  }
  *out = *v;
  return Status::Ok();
}

Status ParseChoice(std::string_view text, std::initializer_list<std::string_view> choices, std::string* out) {
  auto index = ::streamlearn::ParseChoice(text, choices);
  if (!index.ok()) return index.status();
  *out = std::string(*(choices.begin() + *index));
  return Status::Ok();
}

void WriteSealed(ByteWriter& out, uint32_t kind_tag, uint32_t version, std::string_view payload) {
  char magic[4];
  std::memcpy(magic, &kind_tag, 4);
  const std::string sealed = SealSnapshot(std::string_view(magic, 4), version, payload);
  out.raw(sealed.data(), sealed.size());
}

Result<std::string> ReadSealed(ByteReader& in, uint32_t kind_tag, uint32_t version, std::string_view what) {
  const std::string prefix = std::string(what) + " snapshot: ";
  ByteReader peek = in;
  const uint32_t tag = peek.u32();
  if (!peek.ok()) return Status::Corruption(prefix + "truncated kind tag");
  if (tag != kind_tag) return Status::FailedPrecondition(prefix + "the bytes are of another kind of learner");
  peek.u32();  // format version, checked by OpenSnapshot
  const uint64_t length = peek.u64();
  if (!peek.ok() || peek.remaining() < 8 || length > peek.remaining() - 8) {
    return Status::Corruption(prefix + "truncated (the header promises more bytes than there are)");
  }
  std::string sealed(24 + length, '\0');
  in.raw(sealed.data(), sealed.size());
  char magic[4];
  std::memcpy(magic, &kind_tag, 4);
  auto payload = OpenSnapshot(std::string_view(magic, 4), version, sealed);
  if (!payload.ok()) return Status(payload.status().code(), prefix + payload.status().message());
  return std::string(*payload);
}

}  // namespace streamlearn::learn

#pragma once
// Shared pieces of the detectors' snapshot decoding (internal).

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::drift::io {

inline Status Corrupt(std::string_view detector, const std::string& what) {
  return Status::Corruption(std::string(detector) + " state: " + what);
}

// Reads and checks the record header every detector writes: its name and format version.
inline Status ReadHeader(ByteReader& in, std::string_view name, uint32_t version) {
  const std::string got = in.str();
  if (!in.ok() || got != name) return Corrupt(name, "not a " + std::string(name) + " record");
  const uint32_t v = in.u32();
  if (!in.ok()) return Corrupt(name, "truncated");
  if (v != version) return Corrupt(name, "unknown format version " + std::to_string(v));
  return Status::Ok();
}

inline bool AsInt(int64_t v, int* out) {
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
  *out = static_cast<int>(v);
  return true;
}

inline bool AsBool(uint8_t v, bool* out) {
  if (v > 1) return false;
  *out = v == 1;
  return true;
}

inline bool Finite(double v) { return std::isfinite(v); }

}  // namespace streamlearn::drift::io

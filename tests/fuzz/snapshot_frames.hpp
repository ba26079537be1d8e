#pragma once
// A learner snapshot's frame, without and with its length and checksum fields, for the
// snapshot fuzz target (which seals what it is given) and the tool that writes its seeds
// (which unseals real snapshots). Two frames exist: the linear family's own
//   "SLLM" | version u8 | loss u8 | optimizer u8 | length u64 | body | checksum u64 (of all before)
// and every other family's (core's SealSnapshot)
//   tag(4) | version u32 | length u64 | payload | checksum u64 (of the payload).
// Unsealed, both drop the length and the checksum. Bytes too short for a frame pass as they
// are (the loader must refuse them).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "streamlearn/core/bytes.hpp"

namespace fuzz {

inline constexpr char kLinearTag[4] = {'S', 'L', 'L', 'M'};
inline constexpr size_t kLinearPrefix = 7;  // tag, version, loss, optimizer
inline constexpr size_t kSealedPrefix = 8;  // tag, version

inline bool IsLinear(std::string_view bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), kLinearTag, 4) == 0;
}

inline std::string SealLearnerSnapshot(std::string_view unsealed) {
  std::string out;
  streamlearn::ByteWriter w(&out);
  if (IsLinear(unsealed) && unsealed.size() >= kLinearPrefix) {
    w.raw(unsealed.data(), kLinearPrefix);
    w.u64(unsealed.size() - kLinearPrefix);
    w.raw(unsealed.data() + kLinearPrefix, unsealed.size() - kLinearPrefix);
    w.u64(streamlearn::Checksum(out));
    return out;
  }
  if (!IsLinear(unsealed) && unsealed.size() >= kSealedPrefix) {
    uint32_t version = 0;
    std::memcpy(&version, unsealed.data() + 4, 4);
    return streamlearn::SealSnapshot(unsealed.substr(0, 4), version, unsealed.substr(kSealedPrefix));
  }
  return std::string(unsealed);
}

// The inverse, for a well-formed snapshot.
inline std::string UnsealLearnerSnapshot(std::string_view sealed) {
  const size_t prefix = IsLinear(sealed) ? kLinearPrefix : kSealedPrefix;
  if (sealed.size() < prefix + 16) return std::string(sealed);
  std::string out(sealed.substr(0, prefix));
  out.append(sealed.substr(prefix + 8, sealed.size() - prefix - 16));
  return out;
}

}  // namespace fuzz

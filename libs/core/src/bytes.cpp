#include "streamlearn/core/bytes.hpp"

#include "streamlearn/core/hash.hpp"

namespace streamlearn {

uint64_t Checksum(std::string_view bytes) { return Mix64(Fnv1a64(bytes)); }

std::string SealSnapshot(std::string_view magic4, uint32_t version, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 24);
  ByteWriter w(&out);
  w.raw(magic4.data(), 4);
  w.u32(version);
  w.u64(payload.size());
  w.raw(payload.data(), payload.size());
  w.u64(Checksum(payload));
  return out;
}

Result<std::string_view> OpenSnapshot(std::string_view magic4, uint32_t expected_version,
                                      std::string_view sealed) {
  if (sealed.size() < 24 || sealed.substr(0, 4) != magic4) {
    return Status::Corruption("snapshot: not a '" + std::string(magic4) + "' snapshot");
  }
  ByteReader r(sealed.substr(4));
  uint32_t version = r.u32();
  uint64_t len = r.u64();
  if (version != expected_version) {
    return Status::FailedPrecondition("snapshot: format version " + std::to_string(version) +
                                      ", this build reads version " +
                                      std::to_string(expected_version));
  }
  if (len != sealed.size() - 24) {
    return Status::Corruption("snapshot: length " + std::to_string(len) + " does not match " +
                              std::to_string(sealed.size() - 24) + " stored bytes");
  }
  std::string_view payload = sealed.substr(16, len);
  ByteReader tail(sealed.substr(16 + len));
  if (tail.u64() != Checksum(payload)) {
    return Status::Corruption("snapshot: checksum mismatch");
  }
  return payload;
}

}  // namespace streamlearn

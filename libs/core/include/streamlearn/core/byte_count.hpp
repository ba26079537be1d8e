#pragma once
// The element count before a run of records in a snapshot or stored record, checked against
// the bytes left before anything is sized by it (a torn or corrupt count must not make a
// decoder allocate gigabytes or read past the end).

#include <cstddef>
#include <cstdint>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn {

// Reads the u32 count of the elements that follow, each at least `min_bytes_each` (> 0) bytes.
// False, with *count 0, when the count itself is cut short or the bytes left cannot hold that
// many elements; reads nothing but the count's 4 bytes.
inline bool ReadCount(ByteReader& r, size_t min_bytes_each, uint32_t* count) {
  const uint32_t n = r.u32();
  if (!r.ok() || n > r.remaining() / min_bytes_each) {
    *count = 0;
    return false;
  }
  *count = n;
  return true;
}

}  // namespace streamlearn

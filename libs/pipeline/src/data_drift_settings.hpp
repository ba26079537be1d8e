#pragma once
// The data-drift monitor's config from the pipeline's drift.data keys, and which events it
// watches (drift.data.sample).

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

drift::DataDriftConfig DataDriftConfigOf(const DriftSettings& drift);

// A stable hash of an event id that reads it a word at a time: an id of up to 8 bytes costs
// two loads and one Mix64, against FNV-1a's multiply per byte (it ran on every event, watched
// or not). The same value on every machine: the words are read as little-endian.
inline uint64_t EventIdHash(std::string_view id) {
  const char* p = id.data();
  const size_t n = id.size();
  auto word = [](const char* at, auto zero) {
    decltype(zero) w;
    std::memcpy(&w, at, sizeof w);
    if constexpr (std::endian::native == std::endian::big) {
      w = sizeof w == 8 ? static_cast<decltype(zero)>(__builtin_bswap64(w)) : static_cast<decltype(zero)>(__builtin_bswap32(static_cast<uint32_t>(w)));
    }
    return static_cast<uint64_t>(w);
  };
  uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1);
  size_t i = 0;
  for (; i + 8 < n; i += 8) h = Mix64(h ^ word(p + i, uint64_t{0}));
  // The last 1 to 8 bytes: two overlapping 4-byte reads, or the first, middle and last byte.
  const size_t rest = n - i;
  uint64_t w = 0;
  if (rest >= 4) {
    w = word(p + i, uint32_t{0}) | (word(p + n - 4, uint32_t{0}) << 32);
  } else if (rest > 0) {
    w = static_cast<unsigned char>(p[i]) | (uint64_t{static_cast<unsigned char>(p[i + rest / 2])} << 8) |
        (uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
  }
  return Mix64(h ^ w);
}

// One event in `every` goes to the data-drift monitor, chosen by a stable hash of its id
// (not by a counter): a replay from a checkpoint, another instance after a rebalance and a
// rerun of `evaluate` all watch the same events, so their alarms are the same bytes. The
// monitor then costs 1/every of its price per event; a shift is seen after about `every`
// times as many events (docs/operations.md#data-drift-alarm-rates).
class DataDriftSampler {
 public:
  explicit DataDriftSampler(int every)
      : every_(every), below_(every <= 1 ? std::numeric_limits<uint64_t>::max()
                                         : std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(every)) {}

  // The comparison keeps a share 1/every of the hash range without a division.
  bool watches(std::string_view event_id) const { return every_ <= 1 || EventIdHash(event_id) < below_; }
  int every() const { return every_; }

 private:
  int every_;
  uint64_t below_;
};

}  // namespace streamlearn::pipeline

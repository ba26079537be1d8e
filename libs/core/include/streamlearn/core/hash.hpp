#pragma once
// Stable hashes: the same input gives the same value on every machine and run, because
// hashed feature indices and checksums are stored in snapshots.

#include <cstdint>
#include <string_view>

namespace streamlearn {

constexpr uint64_t Fnv1a64(std::string_view s, uint64_t seed = 0xcbf29ce484222325ULL) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Finaliser from MurmurHash3: spreads FNV's weak low bits before masking to 2^b buckets.
constexpr uint64_t Mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// Hash of a (name, value) pair, as used for hashed categorical features.
constexpr uint64_t HashFeature(std::string_view name, std::string_view value) {
  return Mix64(Fnv1a64(value, Fnv1a64(name) ^ 0x9e3779b97f4a7c15ULL));
}

}  // namespace streamlearn

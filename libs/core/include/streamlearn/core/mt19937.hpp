#pragma once
// MT19937 (Matsumoto and Nishimura), the generator behind CPython's random.Random and
// numpy's legacy RandomState, with both of their seedings and their 53-bit doubles, and
// numpy's legacy normals, so River's draws can be reproduced bit for bit (drift's
// PythonRandom for KSWIN, the MLP's initial weights as River's xavier_init draws them).
// States save and load exactly.

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn {

class Mt19937 {
 public:
  static constexpr uint32_t kN = 624;

  // Knuth's linear seeding (numpy's legacy integer seed).
  void init_genrand(uint32_t seed) {
    state_[0] = seed;
    for (uint32_t i = 1; i < kN; ++i) {
      state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
    }
    index_ = kN;
  }

  // Seeding from an array of 32-bit words (CPython's integer seed).
  void init_by_array(const std::vector<uint32_t>& key) {
    init_genrand(19650218u);
    uint32_t i = 1;
    uint32_t j = 0;
    const uint32_t key_length = static_cast<uint32_t>(key.size());
    for (uint32_t k = kN > key_length ? kN : key_length; k > 0; --k) {
      state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1664525u)) + key[j] + j;
      ++i;
      ++j;
      if (i >= kN) {
        state_[0] = state_[kN - 1];
        i = 1;
      }
      if (j >= key_length) j = 0;
    }
    for (uint32_t k = kN - 1; k > 0; --k) {
      state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1566083941u)) - i;
      ++i;
      if (i >= kN) {
        state_[0] = state_[kN - 1];
        i = 1;
      }
    }
    state_[0] = 0x80000000u;  // non-zero initial state
    index_ = kN;
  }

  uint32_t next_u32() {
    if (index_ >= kN) refill();
    uint32_t y = state_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  // 53-bit double in [0, 1), the same formula in CPython and numpy.
  double next_double() {
    const uint32_t a = next_u32() >> 5;
    const uint32_t b = next_u32() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  void save(ByteWriter& out) const {
    for (uint32_t word : state_) out.u32(word);
    out.u32(index_);
  }
  // False on truncated bytes or an impossible position; *this is then unchanged.
  bool load(ByteReader& in) {
    std::array<uint32_t, kN> state{};
    for (uint32_t& word : state) word = in.u32();
    const uint32_t index = in.u32();
    if (!in.ok() || index > kN) return false;
    state_ = state;
    index_ = index;
    return true;
  }

  bool operator==(const Mt19937&) const = default;

 private:
  static constexpr uint32_t kM = 397;

  void refill() {
    auto twist = [](uint32_t upper, uint32_t lower, uint32_t far) {
      const uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
      return far ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    };
    uint32_t k = 0;
    for (; k < kN - kM; ++k) state_[k] = twist(state_[k], state_[k + 1], state_[k + kM]);
    for (; k < kN - 1; ++k) state_[k] = twist(state_[k], state_[k + 1], state_[k + kM - kN]);
    state_[kN - 1] = twist(state_[kN - 1], state_[0], state_[kM - 1]);
    index_ = 0;
  }

  std::array<uint32_t, kN> state_{};
  uint32_t index_ = kN;  // refill on first use (every real use seeds first)
};

// numpy's legacy RandomState (np.random.seed(int) / RandomState(int) for an int below 2^32):
// MT19937 seeded with init_genrand, and normals by the Marsaglia polar method, which yields
// two per accepted pair: the second is kept for the next draw (numpy's has_gauss / gauss).
class NumpyLegacyRandom {
 public:
  explicit NumpyLegacyRandom(uint32_t seed = 0) { seed_with(seed); }

  void seed_with(uint32_t seed) {
    mt_.init_genrand(seed);
    has_gauss_ = false;
    gauss_ = 0;
  }

  uint32_t next_u32() { return mt_.next_u32(); }
  double next_double() { return mt_.next_double(); }  // random_sample()

  // One standard normal draw (numpy's legacy_gauss: randn, standard_normal).
  double next_gauss() {
    if (has_gauss_) {
      has_gauss_ = false;
      return gauss_;
    }
    double x1 = 0, x2 = 0, r2 = 0;
    do {
      x1 = 2.0 * mt_.next_double() - 1.0;
      x2 = 2.0 * mt_.next_double() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
  }

  void save(ByteWriter& out) const {
    mt_.save(out);
    out.u8(has_gauss_ ? 1 : 0);
    out.f64(gauss_);
  }
  // False on bad bytes (the caller reports them); the generator is then unspecified.
  bool load(ByteReader& in) {
    if (!mt_.load(in)) return false;
    const uint8_t has = in.u8();
    gauss_ = in.f64();
    if (!in.ok() || has > 1 || !std::isfinite(gauss_)) return false;
    has_gauss_ = has == 1;
    return true;
  }

  bool operator==(const NumpyLegacyRandom&) const = default;

 private:
  Mt19937 mt_;
  bool has_gauss_ = false;
  double gauss_ = 0;
};

}  // namespace streamlearn

#pragma once
// numpy's legacy RandomState as River's MLP draws its initial weights from it:
// np.random.RandomState(seed).randn(...). MT19937 seeded with init_genrand(seed) (numpy's
// legacy seeding of an integer below 2^32), doubles of 53 bits from two 32-bit words, and
// normals by the Marsaglia polar method, which yields two per accepted pair: the second is
// kept for the next draw (numpy's has_gauss / gauss).

#include <array>
#include <cmath>
#include <cstdint>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::neural {

class NumpyLegacyRandom {
 public:
  static constexpr size_t kN = 624;

  explicit NumpyLegacyRandom(uint32_t seed = 0) { seed_with(seed); }

  void seed_with(uint32_t seed) {
    state_[0] = seed;
    for (uint32_t i = 1; i < kN; ++i) {
      state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
    }
    index_ = kN;
    has_gauss_ = false;
    gauss_ = 0;
  }

  uint32_t next_u32() {
    if (index_ >= kN) twist();
    uint32_t y = state_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  // [0, 1) with 53 random bits.
  double next_double() {
    const uint32_t a = next_u32() >> 5, b = next_u32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  // One standard normal draw (numpy's legacy_gauss).
  double next_gauss() {
    if (has_gauss_) {
      has_gauss_ = false;
      return gauss_;
    }
    double x1 = 0, x2 = 0, r2 = 0;
    do {
      x1 = 2.0 * next_double() - 1.0;
      x2 = 2.0 * next_double() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
  }

  void save(ByteWriter& out) const {
    for (uint32_t word : state_) out.u32(word);
    out.u32(static_cast<uint32_t>(index_));
    out.u8(has_gauss_ ? 1 : 0);
    out.f64(gauss_);
  }
  // False on bad bytes (the caller reports them); the generator is then unspecified.
  bool load(ByteReader& in) {
    for (uint32_t& word : state_) word = in.u32();
    const uint32_t index = in.u32();
    const uint8_t has = in.u8();
    gauss_ = in.f64();
    if (!in.ok() || index > kN || has > 1 || !std::isfinite(gauss_)) return false;
    index_ = index;
    has_gauss_ = has == 1;
    return true;
  }

  bool operator==(const NumpyLegacyRandom&) const = default;

 private:
  void twist() {
    for (size_t i = 0; i < kN; ++i) {
      const uint32_t y = (state_[i] & 0x80000000u) | (state_[(i + 1) % kN] & 0x7fffffffu);
      state_[i] = state_[(i + 397) % kN] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
    }
    index_ = 0;
  }

  std::array<uint32_t, kN> state_{};
  size_t index_ = kN;
  bool has_gauss_ = false;
  double gauss_ = 0;
};

}  // namespace streamlearn::neural

#pragma once
// Bit-exact ports of the random generators River's tests draw their streams from, so the
// detectors can be checked against the detection indices River's own tests assert:
//   PythonRandom      - CPython's random.Random(int seed): random(), choices(), gauss()
//   NumpyRandomState  - numpy's legacy np.random.seed(int): randint(), random_sample(),
//                       standard_normal() (RandomState's polar Box-Muller)
// Both sit on MT19937; they differ in seeding (init_by_array vs init_genrand).
// reference_rng_test.cpp pins them to values printed by CPython and numpy
// (print_reference_draws.py beside this file).

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace streamlearn::testing {

class Mt19937 {
 public:
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

 private:
  static constexpr uint32_t kN = 624;
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
  uint32_t index_ = kN + 1;
};

class PythonRandom {
 public:
  // random.Random(seed) for a non-negative int: its 32-bit words, least significant first.
  explicit PythonRandom(uint64_t seed) {
    std::vector<uint32_t> key;
    do {
      key.push_back(static_cast<uint32_t>(seed & 0xffffffffu));
      seed >>= 32;
    } while (seed != 0);
    mt_.init_by_array(key);
  }

  double random() { return mt_.next_double(); }

  // The index random.choices(population, k=...) picks for a population of n.
  size_t choice_index(size_t n) {
    return static_cast<size_t>(std::floor(random() * static_cast<double>(n)));
  }

  // rng.choices(population, k=k) for a population of numbers.
  std::vector<double> choices(const std::vector<double>& population, size_t k) {
    std::vector<double> out;
    out.reserve(k);
    for (size_t i = 0; i < k; ++i) out.push_back(population[choice_index(population.size())]);
    return out;
  }

  // random.gauss: Box-Muller on two uniforms, caching the second normal.
  double gauss(double mu, double sigma) {
    double z;
    if (has_gauss_next_) {
      z = gauss_next_;
      has_gauss_next_ = false;
    } else {
      const double x2pi = random() * (2.0 * 3.141592653589793);
      const double g2rad = std::sqrt(-2.0 * std::log(1.0 - random()));
      z = std::cos(x2pi) * g2rad;
      gauss_next_ = std::sin(x2pi) * g2rad;
      has_gauss_next_ = true;
    }
    return mu + z * sigma;
  }

 private:
  Mt19937 mt_;
  double gauss_next_ = 0;
  bool has_gauss_next_ = false;
};

class NumpyRandomState {
 public:
  // np.random.seed(seed) / np.random.RandomState(seed) for an int in [0, 2^32).
  explicit NumpyRandomState(uint32_t seed) { mt_.init_genrand(seed); }

  // np.random.randint(low, high) with the default int64 dtype, for high - low <= 2^32:
  // draws 32 bits, masks them to the smallest covering power of two, rejects overshoots.
  int64_t randint(int64_t low, int64_t high) {
    const uint32_t range = static_cast<uint32_t>(high - low - 1);
    if (range == 0) return low;
    uint32_t mask = range;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t value;
    do {
      value = mt_.next_u32() & mask;
    } while (value > range);
    return low + static_cast<int64_t>(value);
  }

  double random_sample() { return mt_.next_double(); }

  // np.random.randn / standard_normal: the legacy polar method, caching the second value.
  double standard_normal() {
    if (has_gauss_) {
      has_gauss_ = false;
      return gauss_;
    }
    double x1;
    double x2;
    double r2;
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

 private:
  Mt19937 mt_;
  double gauss_ = 0;
  bool has_gauss_ = false;
};

}  // namespace streamlearn::testing

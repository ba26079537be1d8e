#pragma once
// A bit-exact port of CPython's random.Random (MT19937 with CPython's integer seeding),
// for KSWIN: River draws KSWIN's reference sample with random.Random(seed).sample(...),
// and a user moving from River must get the same sample, hence the same detections.
// tests/reference_rng_test.cpp pins it to values printed by CPython 3.11.
//
// Covered: random.Random(int seed), random(), getrandbits(k <= 32), _randbelow(n),
// sample(range(n), k), choices(population, k) (unweighted), gauss(). The state
// (624 words, position, cached gauss) saves and loads for bit-identical continuation.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::drift {

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

class PythonRandom {
 public:
  // random.Random(seed) for an int seed: CPython seeds with abs(seed)'s 32-bit words,
  // least significant first.
  explicit PythonRandom(uint64_t seed) { this->seed(seed); }

  void seed(uint64_t seed) {
    std::vector<uint32_t> key;
    do {
      key.push_back(static_cast<uint32_t>(seed & 0xffffffffu));
      seed >>= 32;
    } while (seed != 0);
    mt_.init_by_array(key);
    gauss_next_ = 0;
    has_gauss_next_ = false;
  }

  double random() { return mt_.next_double(); }

  // getrandbits(k) for 1 <= k <= 32: the top k bits of one 32-bit output.
  uint32_t getrandbits(int k) { return mt_.next_u32() >> (32 - k); }

  // random._randbelow_with_getrandbits(n), n >= 1: k = n.bit_length() bits, rejecting >= n.
  uint32_t randbelow(uint32_t n) {
    int k = 0;
    for (uint32_t v = n; v != 0; v >>= 1) ++k;
    uint32_t r = getrandbits(k);
    while (r >= n) r = getrandbits(k);
    return r;
  }

  // random.sample(range(n), k) (CPython >= 3.11; the algorithm is unchanged since 3.2
  // apart from the error checks): a partial Fisher-Yates over a pool when n is small
  // next to the set CPython would otherwise build, else rejection through a set.
  // Requires k <= n <= 2^32 - 1.
  std::vector<uint32_t> sample_range(uint32_t n, uint32_t k) {
    std::vector<uint32_t> result(k);
    double setsize = 21;  // size of a small set minus size of an empty list
    if (k > 5) {
      // 4 ** ceil(log(k * 3, 4)); math.log(x, base) divides the two natural logs.
      setsize += std::pow(4.0, std::ceil(std::log(static_cast<double>(k) * 3) / std::log(4.0)));
    }
    if (static_cast<double>(n) <= setsize) {
      std::vector<uint32_t> pool(n);
      for (uint32_t i = 0; i < n; ++i) pool[i] = i;
      for (uint32_t i = 0; i < k; ++i) {
        const uint32_t j = randbelow(n - i);
        result[i] = pool[j];
        pool[j] = pool[n - i - 1];  // move the non-selected item into the vacancy
      }
    } else {
      std::vector<bool> selected(n, false);
      for (uint32_t i = 0; i < k; ++i) {
        uint32_t j = randbelow(n);
        while (selected[j]) j = randbelow(n);
        selected[j] = true;
        result[i] = j;
      }
    }
    return result;
  }

  // The index random.choices(population, k=...) picks for a population of n (unweighted).
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

  // rng.choices(population, weights, k=k): bisect_right over the cumulative weights,
  // in CPython's order (cum_weights from itertools.accumulate, total = cum[-1] + 0.0).
  std::vector<double> choices(const std::vector<double>& population,
                              const std::vector<double>& weights, size_t k) {
    std::vector<double> cum;
    double running = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      running = i == 0 ? weights[0] : running + weights[i];
      cum.push_back(running);
    }
    const double total = cum.back() + 0.0;
    const size_t hi = population.size() - 1;
    std::vector<double> out;
    out.reserve(k);
    for (size_t i = 0; i < k; ++i) {
      const double x = random() * total;
      size_t lo = 0;
      size_t high = hi;
      while (lo < high) {  // bisect.bisect_right(cum, x, 0, hi)
        const size_t mid = (lo + high) / 2;
        if (x < cum[mid]) {
          high = mid;
        } else {
          lo = mid + 1;
        }
      }
      out.push_back(population[lo]);
    }
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

  void save(ByteWriter& out) const {
    mt_.save(out);
    out.u8(has_gauss_next_ ? 1 : 0);
    out.f64(gauss_next_);
  }
  bool load(ByteReader& in) {
    Mt19937 mt;
    if (!mt.load(in)) return false;
    const uint8_t has_gauss = in.u8();
    const double gauss_next = in.f64();
    if (!in.ok() || has_gauss > 1 || !std::isfinite(gauss_next)) return false;
    mt_ = mt;
    has_gauss_next_ = has_gauss == 1;
    gauss_next_ = gauss_next;
    return true;
  }

  bool operator==(const PythonRandom&) const = default;

 private:
  Mt19937 mt_;
  double gauss_next_ = 0;
  bool has_gauss_next_ = false;
};

}  // namespace streamlearn::drift

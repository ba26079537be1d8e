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
#include "streamlearn/core/mt19937.hpp"

namespace streamlearn::drift {

// The generator itself is core's (numpy's legacy RandomState draws from it too).
using Mt19937 = ::streamlearn::Mt19937;

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

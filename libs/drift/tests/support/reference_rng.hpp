#pragma once
// Bit-exact ports of the random generators River's tests draw their streams from, so the
// detectors can be checked against the detection indices River's own tests assert:
//   PythonRandom      - CPython's random.Random(int seed): random(), choices(), gauss()
//   NumpyRandomState  - numpy's legacy np.random.seed(int): randint(), random_sample(),
//                       standard_normal() (RandomState's polar Box-Muller)
// Both sit on MT19937; they differ in seeding (init_by_array vs init_genrand).
// Mt19937 and numpy's normals live in core (streamlearn/core/mt19937.hpp), PythonRandom in
// drift (streamlearn/drift/python_random.hpp), because KSWIN draws its reference sample
// with random.Random at run time.
// reference_rng_test.cpp pins them to values printed by CPython and numpy
// (print_reference_draws.py beside this file).

#include <cmath>
#include <cstdint>
#include <vector>

#include "streamlearn/drift/python_random.hpp"

namespace streamlearn::testing {

using streamlearn::drift::Mt19937;
using streamlearn::drift::PythonRandom;

class NumpyRandomState {
 public:
  // np.random.seed(seed) / np.random.RandomState(seed) for an int in [0, 2^32).
  explicit NumpyRandomState(uint32_t seed) : rng_(seed) {}

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
      value = rng_.next_u32() & mask;
    } while (value > range);
    return low + static_cast<int64_t>(value);
  }

  double random_sample() { return rng_.next_double(); }

  // np.random.binomial(n, p) (legacy): numpy's random_binomial, which for n * min(p, q)
  // <= 30 (every use here) inverts the CDF, restarting when X passes its bound.
  int64_t binomial(int64_t n, double p) {
    if (n == 0 || p == 0.0) return 0;
    if (p <= 0.5) return binomial_inversion(n, p);
    return n - binomial_inversion(n, 1.0 - p);
  }

  // np.random.normal(loc, scale) (legacy): loc + scale * gauss.
  double normal(double loc, double scale) { return loc + scale * standard_normal(); }

  // np.random.randn / standard_normal: the legacy polar method, caching the second value.
  double standard_normal() { return rng_.next_gauss(); }

 private:
  int64_t binomial_inversion(int64_t n, double p) {
    const double q = 1.0 - p;
    const double qn = std::exp(n * std::log(q));
    const double np = n * p;
    const int64_t bound = static_cast<int64_t>(std::fmin(n, np + 10.0 * std::sqrt(np * q + 1)));
    int64_t x = 0;
    double px = qn;
    double u = rng_.next_double();
    while (u > px) {
      ++x;
      if (x > bound) {
        x = 0;
        px = qn;
        u = rng_.next_double();
      } else {
        u -= px;
        px = ((n - x + 1) * p * px) / (x * q);
      }
    }
    return x;
  }

  NumpyLegacyRandom rng_;  // core's: MT19937 and the cached normal
};

}  // namespace streamlearn::testing

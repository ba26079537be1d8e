#include "adwin_scan.hpp"

#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#define STREAMLEARN_ADWIN_SCAN_X86 1
#endif

// Built with -ffp-contract=off (see CMakeLists.txt): no a*b+c may become one FMA, in the
// scalar code or in the vector code, or a lane would round differently from River.

namespace streamlearn::drift::adwin_scan {
namespace {

// River's test for one cut (AdaptiveWindowing._evaluate_cut), operands in River's order.
bool CutIsSignificant(double n0, double n1, double u0, double u1, const Bound& b) {
  if (!(n1 >= b.min_length && n0 >= b.min_length)) return false;
  const double delta_mean = (u0 / n0) - (u1 / n1);
  const double m_recip = 1.0 / (n0 - b.min_length + 1) + 1.0 / (n1 - b.min_length + 1);
  const double epsilon =
      std::sqrt(2 * m_recip * b.variance_in_window * b.delta_prime) + b.two_thirds_delta_prime * m_recip;
  return std::fabs(delta_mean) > epsilon;
}

size_t ScalarFrom(const Cuts& c, const Bound& b, size_t i) {
  for (; i < c.count; ++i) {
    if (CutIsSignificant(c.n0[i], c.n1[i], c.u0[i], c.u1[i], b)) return i;
  }
  return c.count;
}

}  // namespace

size_t FirstSignificantCutScalar(const Cuts& cuts, const Bound& bound) { return ScalarFrom(cuts, bound, 0); }

#if STREAMLEARN_ADWIN_SCAN_X86

bool HasSse2() { return true; }  // part of x86-64

// The lane arithmetic mirrors CutIsSignificant step for step. A lane whose cut has a side
// shorter than L may divide by zero or take the root of a negative: masked, and IEEE
// exceptions are not trapped.
__attribute__((target("sse2"))) size_t FirstSignificantCutSse2(const Cuts& c, const Bound& b) {
  const __m128d min_length = _mm_set1_pd(b.min_length);
  const __m128d one = _mm_set1_pd(1.0);
  const __m128d two = _mm_set1_pd(2.0);
  const __m128d variance_in_window = _mm_set1_pd(b.variance_in_window);
  const __m128d delta_prime = _mm_set1_pd(b.delta_prime);
  const __m128d two_thirds_delta_prime = _mm_set1_pd(b.two_thirds_delta_prime);
  const __m128d sign_bit = _mm_set1_pd(-0.0);
  size_t i = 0;
  for (; i + 2 <= c.count; i += 2) {
    const __m128d n0 = _mm_loadu_pd(c.n0 + i);
    const __m128d n1 = _mm_loadu_pd(c.n1 + i);
    const __m128d u0 = _mm_loadu_pd(c.u0 + i);
    const __m128d u1 = _mm_loadu_pd(c.u1 + i);
    const __m128d long_enough = _mm_and_pd(_mm_cmpge_pd(n1, min_length), _mm_cmpge_pd(n0, min_length));
    const __m128d delta_mean = _mm_sub_pd(_mm_div_pd(u0, n0), _mm_div_pd(u1, n1));
    const __m128d m_recip = _mm_add_pd(_mm_div_pd(one, _mm_add_pd(_mm_sub_pd(n0, min_length), one)),
                                       _mm_div_pd(one, _mm_add_pd(_mm_sub_pd(n1, min_length), one)));
    const __m128d under_root = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(two, m_recip), variance_in_window), delta_prime);
    const __m128d epsilon = _mm_add_pd(_mm_sqrt_pd(under_root), _mm_mul_pd(two_thirds_delta_prime, m_recip));
    const __m128d significant = _mm_and_pd(long_enough, _mm_cmpgt_pd(_mm_andnot_pd(sign_bit, delta_mean), epsilon));
    const int lanes = _mm_movemask_pd(significant);
    if (lanes != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(lanes)));
  }
  return ScalarFrom(c, b, i);
}

__attribute__((target("avx"))) size_t FirstSignificantCutAvx(const Cuts& c, const Bound& b) {
  const __m256d min_length = _mm256_set1_pd(b.min_length);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d two = _mm256_set1_pd(2.0);
  const __m256d variance_in_window = _mm256_set1_pd(b.variance_in_window);
  const __m256d delta_prime = _mm256_set1_pd(b.delta_prime);
  const __m256d two_thirds_delta_prime = _mm256_set1_pd(b.two_thirds_delta_prime);
  const __m256d sign_bit = _mm256_set1_pd(-0.0);
  size_t i = 0;
  for (; i + 4 <= c.count; i += 4) {
    const __m256d n0 = _mm256_loadu_pd(c.n0 + i);
    const __m256d n1 = _mm256_loadu_pd(c.n1 + i);
    const __m256d u0 = _mm256_loadu_pd(c.u0 + i);
    const __m256d u1 = _mm256_loadu_pd(c.u1 + i);
    const __m256d long_enough =
        _mm256_and_pd(_mm256_cmp_pd(n1, min_length, _CMP_GE_OQ), _mm256_cmp_pd(n0, min_length, _CMP_GE_OQ));
    const __m256d delta_mean = _mm256_sub_pd(_mm256_div_pd(u0, n0), _mm256_div_pd(u1, n1));
    const __m256d m_recip =
        _mm256_add_pd(_mm256_div_pd(one, _mm256_add_pd(_mm256_sub_pd(n0, min_length), one)),
                      _mm256_div_pd(one, _mm256_add_pd(_mm256_sub_pd(n1, min_length), one)));
    const __m256d under_root =
        _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(two, m_recip), variance_in_window), delta_prime);
    const __m256d epsilon =
        _mm256_add_pd(_mm256_sqrt_pd(under_root), _mm256_mul_pd(two_thirds_delta_prime, m_recip));
    const __m256d significant = _mm256_and_pd(
        long_enough, _mm256_cmp_pd(_mm256_andnot_pd(sign_bit, delta_mean), epsilon, _CMP_GT_OQ));
    const int lanes = _mm256_movemask_pd(significant);
    if (lanes != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(lanes)));
  }
  // The rest, fewer than four, two lanes and then one.
  const Cuts rest{c.n0 + i, c.n1 + i, c.u0 + i, c.u1 + i, c.count - i};
  return i + FirstSignificantCutSse2(rest, b);
}

bool HasAvx() {
  __builtin_cpu_init();  // may run from a static initialiser, before the runtime's own
  return __builtin_cpu_supports("avx");
}

size_t FirstSignificantCut(const Cuts& cuts, const Bound& bound) {
  // Chosen on first use, so a detector updated from a static initialiser still works.
  static const auto scan = HasAvx() ? FirstSignificantCutAvx : FirstSignificantCutSse2;
  return scan(cuts, bound);
}

#else  // no x86 SIMD: the reference everywhere

bool HasSse2() { return false; }
bool HasAvx() { return false; }
size_t FirstSignificantCutSse2(const Cuts& cuts, const Bound& bound) { return ScalarFrom(cuts, bound, 0); }
size_t FirstSignificantCutAvx(const Cuts& cuts, const Bound& bound) { return ScalarFrom(cuts, bound, 0); }
size_t FirstSignificantCut(const Cuts& cuts, const Bound& bound) { return ScalarFrom(cuts, bound, 0); }

#endif

}  // namespace streamlearn::drift::adwin_scan

#pragma once
// The inner test of ADWIN's scan over cuts, for a run of cuts at once. Each cut's figures
// are computed with River's operations in River's order; IEEE division, square root,
// multiplication and addition are exact-rounded per lane, so a SIMD lane gives the same
// bits as the scalar code. Only the first significant cut matters (the caller drops the
// oldest bucket and rescans), so a run stops at the first lane group that holds one.

#include <cstddef>

namespace streamlearn::drift::adwin_scan {

// Per-scan constants: they depend on the window as a whole, not on the cut.
struct Bound {
  double min_length;              // L: a cut needs >= L values on each side
  double delta_prime;             // ln(2 ln(width) / delta)
  double variance_in_window;      // variance / width
  double two_thirds_delta_prime;  // 2.0 / 3.0 * delta_prime
};

// Cut i splits the window into W0 (n0[i] values summing to u0[i]) and W1 (n1[i], u1[i]).
struct Cuts {
  const double* n0;
  const double* n1;
  const double* u0;
  const double* u1;
  size_t count;
};

// Index of the first cut with both sides >= L and
//   |u0/n0 - u1/n1| > sqrt(2 * m * variance_in_window * delta_prime) + two_thirds_delta_prime * m,
//   m = 1/(n0 - L + 1) + 1/(n1 - L + 1);
// cuts.count if none. The widest variant this CPU runs.
size_t FirstSignificantCut(const Cuts& cuts, const Bound& bound);

// The variants, for tests that compare them: one cut at a time (the reference), two lanes
// (SSE2), four lanes (AVX; only call it when HasAvx()).
size_t FirstSignificantCutScalar(const Cuts& cuts, const Bound& bound);
size_t FirstSignificantCutSse2(const Cuts& cuts, const Bound& bound);
size_t FirstSignificantCutAvx(const Cuts& cuts, const Bound& bound);
bool HasSse2();
bool HasAvx();

}  // namespace streamlearn::drift::adwin_scan

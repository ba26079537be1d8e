#pragma once
// River's stats.Var (ddof = 1) over stats.Mean, with their merge (+=) and difference (-=),
// as the regression trees' target statistics and the E-BST's split statistics use them.
// The arithmetic is River's, quirks included (a merge with 1 or fewer events is a no-op;
// a difference is not the exact inverse of a merge), because the split points and merits
// of the trees follow from these figures bit for bit.

#include <cmath>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::trees {

struct RiverVar {
  double n = 0;      // Mean.n: the weight seen
  double mean = 0;   // Mean.mean
  double sigma = 0;  // the running variance (ddof 1)

  void update(double x, double w) {
    const double old_mean = mean;
    n += w;
    if (n > 0) mean += w * (x - mean) / n;
    if (n > 1) sigma += w * ((x - old_mean) * (x - mean) - sigma) / (n - 1);
  }

  RiverVar& operator+=(const RiverVar& o) {
    if (o.n <= 1) return *this;
    const double old_n = n;
    const double delta = o.mean - mean;
    n += o.n;
    mean = (old_n * mean + o.n * o.mean) / n;
    sigma = (old_n - 1) * sigma + (o.n - 1) * o.sigma;
    sigma = (sigma + (delta * delta) * (old_n * o.n) / n) / (n - 1);
    return *this;
  }

  RiverVar& operator-=(const RiverVar& o) {
    const double old_n = n;
    const double old_mean = mean;
    n -= o.n;
    if (n > 0) {
      mean = (old_n * old_mean - o.n * o.mean) / n;
    } else {
      n = 0;
      mean = 0;
    }
    if (n > 0 && n > 1) {
      const double delta = o.mean - mean;
      sigma = (old_n - 1) * sigma - (o.n - 1) * o.sigma;
      sigma = (sigma - (delta * delta) * (n * o.n) / old_n) / (n - 1);
    } else {
      sigma = 0;
    }
    return *this;
  }

  friend RiverVar operator+(RiverVar a, const RiverVar& b) { return a += b; }
  friend RiverVar operator-(RiverVar a, const RiverVar& b) { return a -= b; }

  void save(ByteWriter& w) const {
    w.f64(n);
    w.f64(mean);
    w.f64(sigma);
  }
  // False when the values cannot be a Var's (a damaged snapshot is refused).
  bool load(ByteReader& r) {
    n = r.f64();
    mean = r.f64();
    sigma = r.f64();
    return r.ok() && std::isfinite(n) && n >= 0 && std::isfinite(mean) && std::isfinite(sigma);
  }
};

}  // namespace streamlearn::trees

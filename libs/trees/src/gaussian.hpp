#pragma once
// River's proba.Gaussian: a weighted running mean and variance (stats.Var with ddof=1,
// West's update as River writes it), its density and its distribution function. The
// arithmetic follows River's order of operations so the figures match it to the last bit.

#include <cmath>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::trees {

struct Gaussian {
  double n = 0;     // weight seen
  double mean = 0;
  double m2 = 0;    // River's _S: the weighted sum of squared deviations

  void update(double x, double w) {
    const double old_mean = mean;
    n += w;
    mean += (w / n) * (x - mean);
    m2 += w * (x - old_mean) * (x - mean);
  }
  double variance() const { return n > 1 ? m2 / (n - 1) : 0.0; }
  double sigma() const { return std::sqrt(variance()); }

  // 0 while the variance is 0 (one value seen), as River's `if var:`.
  double pdf(double x) const {
    const double var = variance();
    if (var == 0) return 0.0;
    const double d = x - mean;
    return std::exp(d * d / (-2 * var)) / std::sqrt(6.283185307179586 * var);
  }
  // 0 when sigma is 0 (River catches the ZeroDivisionError).
  double cdf(double x) const {
    const double s = sigma();
    if (s == 0) return 0.0;
    return 0.5 * (1.0 + std::erf((x - mean) / (s * std::sqrt(2.0))));
  }

  void save(ByteWriter& w) const {
    w.f64(n);
    w.f64(mean);
    w.f64(m2);
  }
  // False when the values cannot be a Gaussian's (so a damaged snapshot is refused).
  bool load(ByteReader& r) {
    n = r.f64();
    mean = r.f64();
    m2 = r.f64();
    return r.ok() && std::isfinite(n) && n >= 0 && std::isfinite(mean) && std::isfinite(m2) && m2 >= -1e-9 * (1 + std::abs(m2));
  }
};

}  // namespace streamlearn::trees

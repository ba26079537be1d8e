#pragma once
// River's running statistics that the detectors are built on, with River's operand order
// (a reordered expression rounds differently and can move a detection).

#include <cmath>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::drift {

// river.stats.Mean with unit weights: n += 1.0; mean += (1.0 / n) * (x - mean).
struct RiverMean {
  double n = 0;  // a float in River (0 + w), so every comparison rounds the same way
  double mean = 0;

  void update(double x) {
    n += 1.0;
    mean += (1.0 / n) * (x - mean);
  }
  double get() const { return mean; }

  void save(ByteWriter& out) const {
    out.f64(n);
    out.f64(mean);
  }
  // False for non-finite or negative counts; the caller reports corruption.
  bool load(ByteReader& in) {
    n = in.f64();
    mean = in.f64();
    return in.ok() && std::isfinite(n) && n >= 0 && std::isfinite(mean);
  }
  bool operator==(const RiverMean&) const = default;
};

// river.stats.Var (Welford, ddof = 1 by default): S += (x - mean_old) * (x - mean_new);
// get() = S / (n - ddof) once n > ddof, else 0. EDDM uses the default ddof = 1: the
// SAMPLE variance.
struct RiverVar {
  RiverMean mean;
  double s = 0;

  void update(double x) {
    const double mean_old = mean.get();
    mean.update(x);
    const double mean_new = mean.get();
    s += 1.0 * (x - mean_old) * (x - mean_new);
  }
  double get(double ddof = 1) const { return mean.n > ddof ? s / (mean.n - ddof) : 0.0; }

  void save(ByteWriter& out) const {
    mean.save(out);
    out.f64(s);
  }
  bool load(ByteReader& in) {
    if (!mean.load(in)) return false;
    s = in.f64();
    return in.ok() && std::isfinite(s) && s >= 0;
  }
  bool operator==(const RiverVar&) const = default;
};

// river.stats.EWMean, which River delegates to the Rust crate watermill: the first value
// seeds the mean, and so does any value arriving while the mean is exactly 0.0:
//   if mean == 0: mean = x  else: mean = alpha * x + (1 - alpha) * mean
// (so a run of zeros followed by a one jumps to 1.0, not to alpha). Reproduced as is.
struct RiverEwMean {
  double alpha = 0.5;  // River's fading_factor
  double mean = 0;

  void update(double x) {
    if (mean == 0.0) {
      mean = x;
    } else {
      mean = alpha * x + (1.0 - alpha) * mean;
    }
  }
  double get() const { return mean; }
  bool operator==(const RiverEwMean&) const = default;
};

}  // namespace streamlearn::drift

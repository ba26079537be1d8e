#pragma once
// HDDM_A (Hoeffding's-bound drift detection with the A-test, Frías-Blanco et al. 2014) as
// River implements it (river.drift.binary.HDDM_A, itself after MOA).
//
// Three running means (River's stats.Mean): z over every value since the last drift, and
// two cut points, x_min and x_max, which are copies of z taken when z's Hoeffding interval
// (eps(n) = sqrt(1 / (2n) * ln(1 / drift_confidence))) lies below (x_min) or above (x_max)
// the cut point's own. After each value:
//   increase test at confidence c:  z - x_min >= sqrt(m / 2 * ln(2 / c)),
//                                   m = (n_z - n_xmin) / n_xmin * (1 / n_z)
//   drift if it holds at drift_confidence, else warning if it holds at warning_confidence.
//   two_sided_test = true adds the mirrored decrease test on x_max - z: a decrease at
//   drift_confidence also reports a drift, one at warning_confidence also a warning.
// No test while the cut point is z itself (same count). The update after a drift starts
// from scratch (River's reset at the top of update()).
// estimation(): z, the mean since the last drift.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/river_stats.hpp"

namespace streamlearn::drift {

struct HddmAParams {
  double drift_confidence = 0.001;
  double warning_confidence = 0.005;
  bool two_sided_test = false;  // also monitor decreases

  Status validate() const;
};

class HddmA final : public DriftDetector {
 public:
  HddmA();
  static Result<HddmA> Create(const HddmAParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "hddm_a"; }
  double estimation() const override { return z_.get(); }
  // n, estimation, x_min, n_x_min, x_max, n_x_max, warning_detected, lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const HddmAParams& params() const { return params_; }
  bool warning_detected() const override { return warning_detected_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }

 private:
  explicit HddmA(const HddmAParams& params);
  void clear();
  double hoeffding_bound(double n) const;
  bool mean_incr(double confidence) const;
  bool mean_decr(double confidence) const;

  HddmAParams params_;
  RiverMean x_min_;
  RiverMean x_max_;
  RiverMean z_;
  bool warning_detected_ = false;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakeHddmA(const HddmAParams& params);

}  // namespace streamlearn::drift

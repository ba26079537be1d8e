#pragma once
// DDM (Drift Detection Method, Gama et al. 2004) as River implements it
// (river.drift.binary.DDM), with River's parameter names, defaults and order of operations.
//
// Input: a stream of bits, 1 = error. With p_i the running error rate over the n values
// since the last drift and s_i = sqrt(p_i * (1 - p_i) / n):
//   - nothing is tested until n > warm_start (the first test runs on value warm_start + 1);
//   - from then on, whenever p_i + s_i <= p_min + s_min, (p_min, s_min) := (p_i, s_i);
//   - warning while p_i + s_i > p_min + warning_threshold * s_min,
//   - drift when      p_i + s_i > p_min + drift_threshold * s_min (the warning is cleared).
// Every comparison is strict as in River, so a constant stream of ones never fires.
// The update AFTER a drift starts from scratch (error rate, minimums, warning): River's
// `if self.drift_detected: self._reset()` at the top of update().
// estimation(): p_i, the error rate since the last drift (0 before any value).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/river_stats.hpp"

namespace streamlearn::drift {

struct DdmParams {
  int warm_start = 30;             // values needed before the first test
  double warning_threshold = 2.0;  // in units of s_min above p_min
  double drift_threshold = 3.0;

  Status validate() const;
};

class Ddm final : public DriftDetector {
 public:
  Ddm();
  static Result<Ddm> Create(const DdmParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "ddm"; }
  double estimation() const override { return p_.get(); }
  // n, estimation, s, p_min, s_min, ps_min (0 until the first test), warning_detected,
  // lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const DdmParams& params() const { return params_; }
  double n() const { return p_.n; }
  bool warning_detected() const override { return warning_detected_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }

 private:
  explicit Ddm(const DdmParams& params);
  void clear();  // River's _reset()

  DdmParams params_;
  RiverMean p_;
  bool has_min_ = false;  // River's p_min is None until the first test
  double p_min_ = 0;
  double s_min_ = 0;
  double ps_min_ = 0;  // +inf in River until set; only read once has_min_ is true
  bool warning_detected_ = false;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakeDdm(const DdmParams& params);

}  // namespace streamlearn::drift

#pragma once
// EDDM (Early Drift Detection Method, Baena-Garcia et al. 2006) as River implements it
// (river.drift.binary.EDDM).
//
// Input: a stream of bits; only x == 1 (an error) changes the statistics. On each error
// the distance to the previous error (in values; the first error's distance counts from
// the start) enters a running mean p' and SAMPLE standard deviation s' (River's
// stats.Var, ddof = 1; 0 while a single distance is known). Then, once more than
// warm_start VALUES have been seen (n > warm_start):
//   - if p' + 2 s' exceeds its maximum so far, the maximum moves and nothing else happens;
//   - otherwise, once more than warm_start ERRORS have been seen, with
//     level = (p' + 2 s') / max:  level < beta -> drift; else level < alpha -> warning;
//     else the warning clears.
// Warnings are therefore only raised or cleared on errors: River's flag, and our kWarning,
// persists across the correct predictions in between. The update after a drift starts
// from scratch (River's reset at the top of update()).
// estimation(): the error rate since the last drift, errors / values (0 before any value);
// the distance statistics are in stats().

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/river_stats.hpp"

namespace streamlearn::drift {

struct EddmParams {
  int warm_start = 30;  // values AND errors needed before a test (see above)
  double alpha = 0.95;  // warning below this ratio
  double beta = 0.9;    // drift below this ratio; River requires alpha >= beta

  Status validate() const;
};

class Eddm final : public DriftDetector {
 public:
  Eddm();
  static Result<Eddm> Create(const EddmParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "eddm"; }
  double estimation() const override;
  // n, n_errors, estimation, mean_distance, std_distance, p2s_max, warning_detected,
  // lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const EddmParams& params() const { return params_; }
  bool warning_detected() const override { return warning_detected_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }

 private:
  explicit Eddm(const EddmParams& params);
  void clear();

  EddmParams params_;
  RiverVar distances_;
  int64_t n_ = 0;
  int64_t last_error_ = 0;
  int64_t n_errors_ = 0;
  double p2s_prime_max_ = -1;
  bool warning_detected_ = false;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakeEddm(const EddmParams& params);

}  // namespace streamlearn::drift

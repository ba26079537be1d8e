#pragma once
// HDDM_W (Hoeffding's-bound drift detection with the W-test, Frías-Blanco et al. 2014) as
// River implements it (river.drift.binary.HDDM_W, after MOA).
//
// Every summary is an exponentially weighted mean (River's stats.EWMean with
// fading_factor = lambda_val, including its "a mean of exactly 0 restarts from the next
// value" behaviour, see RiverEwMean) plus its independent-bound condition
// ibc := lambda^2 + (1 - lambda)^2 * ibc (1 to start). Bound: sqrt(ibc * ln(1 / c) / 2).
//   increase: when total.ewma + bound(total.ibc, drift_confidence) drops below the lowest
//   such value so far, s1_incr := total and s2_incr restarts empty; otherwise the value
//   goes into s2_incr. Drift if s2.ewma - s1.ewma > bound(s1.ibc + s2.ibc,
//   drift_confidence), else warning at warning_confidence (both need s1 and s2 non-empty).
//   decrease: the mirror image, tracked always, tested only with two_sided_test = true;
//   a decrease at drift_confidence also reports a drift, at warning_confidence a warning.
// The update after a drift starts from scratch (River's reset at the top of update()).
// estimation(): the exponentially weighted mean of every value since the last drift.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/river_stats.hpp"

namespace streamlearn::drift {

struct HddmWParams {
  double drift_confidence = 0.001;
  double warning_confidence = 0.005;
  double lambda_val = 0.05;  // weight of the newest value in the weighted means
  bool two_sided_test = false;

  Status validate() const;
};

class HddmW final : public DriftDetector {
 public:
  HddmW();
  static Result<HddmW> Create(const HddmWParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "hddm_w"; }
  double estimation() const override { return total_.ewma.get(); }
  // estimation, ibc, incr_cutpoint, decr_cutpoint (0 until set), warning_detected,
  // lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const HddmWParams& params() const { return params_; }
  bool warning_detected() const override { return warning_detected_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }

 private:
  // River's SampleInfo.
  struct SampleInfo {
    RiverEwMean ewma;
    bool is_init = false;
    double ibc = 1.0;
    double lambd_sq = 0;
    double c_lambd_sq = 0;

    explicit SampleInfo(double lambd = 0.05);
    void update(double x);
    void save(ByteWriter& out) const;
    bool load(ByteReader& in, double lambd);
    bool operator==(const SampleInfo&) const = default;
  };

  explicit HddmW(const HddmWParams& params);
  void clear();
  static double mcdiarmid_bound(double ibc, double confidence);
  static bool has_mean_changed(const SampleInfo& s1, const SampleInfo& s2, double confidence);
  void update_incr_stats(double x, double confidence);
  void update_decr_stats(double x, double confidence);

  HddmWParams params_;
  SampleInfo total_;
  SampleInfo s1_decr_;
  SampleInfo s1_incr_;
  SampleInfo s2_decr_;
  SampleInfo s2_incr_;
  double incr_cutpoint_ = 0;  // +inf in River until set (incr_set_)
  double decr_cutpoint_ = 0;  // -inf in River until set (decr_set_)
  bool incr_set_ = false;
  bool decr_set_ = false;
  bool warning_detected_ = false;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakeHddmW(const HddmWParams& params);

}  // namespace streamlearn::drift

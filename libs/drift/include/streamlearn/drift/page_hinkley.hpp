#pragma once
// The Page-Hinkley test as River implements it (river.drift.PageHinkley, River >= 0.21,
// with the two-sided `mode`).
//
// With x_mean the running mean (River's stats.Mean) and dev = x - x_mean after the update:
//   sum_increase := alpha * sum_increase + dev - delta;  min_increase = min over time
//   sum_decrease := alpha * sum_decrease + dev + delta;  max_decrease = max over time
//                   (River starts max_decrease at -1, not -inf; reproduced)
// Once x_mean has seen min_instances values (n >= min_instances, so the first test runs
// on value min_instances itself), every update sets the drift flag to
//   up:   sum_increase - min_increase > threshold
//   down: max_decrease - sum_decrease > threshold
//   both: either.
// Page-Hinkley has no warning level. The update after a drift starts from scratch.
// estimation(): x_mean, the mean since the last drift.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/river_stats.hpp"

namespace streamlearn::drift {

enum class PageHinkleyMode { kUp, kDown, kBoth };

// "up" | "down" | "both"
std::string_view ToString(PageHinkleyMode mode);
Result<PageHinkleyMode> ParsePageHinkleyMode(std::string_view text);

struct PageHinkleyParams {
  int min_instances = 30;
  double delta = 0.005;      // tolerated change of the mean
  double threshold = 50.0;   // lambda
  double alpha = 1 - 0.0001; // forgetting factor of the cumulative sums
  PageHinkleyMode mode = PageHinkleyMode::kBoth;

  Status validate() const;
};

class PageHinkley final : public DriftDetector {
 public:
  PageHinkley();
  static Result<PageHinkley> Create(const PageHinkleyParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "page_hinkley"; }
  double estimation() const override { return x_mean_.get(); }
  // n, estimation, sum_increase, min_increase (0 until the first value), sum_decrease,
  // max_decrease, test_increase, test_decrease, lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const PageHinkleyParams& params() const { return params_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }

 private:
  explicit PageHinkley(const PageHinkleyParams& params);
  void clear();

  PageHinkleyParams params_;
  RiverMean x_mean_;
  double sum_increase_ = 0;
  double sum_decrease_ = 0;
  double min_increase_ = 0;  // +inf before the first value, as in River (set by clear())
  double max_decrease_ = -1;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakePageHinkley(const PageHinkleyParams& params);

}  // namespace streamlearn::drift

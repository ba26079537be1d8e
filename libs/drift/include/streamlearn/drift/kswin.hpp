#pragma once
// KSWIN (Kolmogorov-Smirnov WINdowing, Raab et al. 2020) as River implements it
// (river.drift.KSWIN).
//
// A sliding window of the last window_size values. Once it is full, on every update:
// R = the newest stat_size values, W = stat_size values drawn without replacement from the
// older window_size - stat_size (River: random.Random(seed).sample(range(...), stat_size),
// reproduced bit for bit by PythonRandom), and the two-sample KS test of W against R as
// scipy.stats.ks_2samp(W, R, method="auto") computes it: both samples have stat_size
// values and stat_size <= 10000, so "auto" means the EXACT two-sided p-value, which for
// equal sizes is scipy's _compute_prob_outside_square(n, h), h = n * D (an integer).
// Drift when p_value <= alpha AND D > 0.1. The update after a drift starts from scratch:
// empty window, and the generator re-seeded with `seed` (River rebuilds random.Random(seed)).
//
// Differences from River, both outside what River's parameters normally reach:
//  - seed unset: River seeds from os.urandom; here from std::random_device. Neither run is
//    reproducible; pass a seed for River-identical detections.
//  - scipy's exact formula rounds to 1 + 2^-52 (or so) for h <= 5; scipy then switches to
//    its asymptotic kstwo.sf, which gives >= 0.99996 there; we report 1.0. A detection
//    differs only for alpha in [0.99996, 1).
// estimation(): the mean of the values in the window (0 when empty).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"
#include "streamlearn/drift/python_random.hpp"

namespace streamlearn::drift {

struct KswinParams {
  double alpha = 0.005;  // p-value at or below which (with D > 0.1) a drift is reported
  int window_size = 100;
  int stat_size = 30;
  std::optional<int64_t> seed;  // random.Random(seed); CPython uses abs(seed)
  std::vector<double> window;   // values to start with (River's `window`)

  Status validate() const;
};

// scipy's ks_2samp(a, b, method="exact"/"auto") for two samples of the same size n:
// statistic D = h / n and the two-sided p-value. Exposed for tests.
struct KsResult {
  double statistic = 0;
  double p_value = 1;
};
KsResult KsTwoSampleEqualSizes(std::vector<double> a, std::vector<double> b);

class Kswin final : public DriftDetector {
 public:
  Kswin();  // River's defaults; seed from std::random_device
  static Result<Kswin> Create(const KswinParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "kswin"; }
  double estimation() const override;
  // n, estimation, window, p_value, statistic, seed, lifetime_detections.
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const KswinParams& params() const { return params_; }
  double p_value() const { return p_value_; }
  double statistic() const { return statistic_; }
  bool drift_detected() const { return drift_detected_; }
  uint64_t lifetime_detections() const { return lifetime_detections_; }
  // Oldest first.
  std::vector<double> window() const;

 private:
  explicit Kswin(const KswinParams& params);
  void clear();
  void push(double x);

  KswinParams params_;
  uint64_t effective_seed_ = 0;  // |seed|, or the random one drawn at construction
  PythonRandom rng_{0};
  std::vector<double> ring_;  // window_size slots
  size_t head_ = 0;           // index of the oldest value
  size_t size_ = 0;
  int64_t n_ = 0;
  double p_value_ = 0;
  double statistic_ = 0;
  bool drift_detected_ = false;
  uint64_t lifetime_detections_ = 0;
};

Result<std::unique_ptr<DriftDetector>> MakeKswin(const KswinParams& params);

}  // namespace streamlearn::drift

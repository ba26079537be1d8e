#pragma once
// ADWIN (ADaptive WINdowing, Bifet & Gavaldà 2007) as River implements it
// (river.drift.ADWIN over its AdaptiveWindowing helper, River >= 0.25), reproduced down
// to the order of floating-point operations so detections land on the same indices.
//
// The window is an exponential histogram: row r holds up to `max_buckets` buckets, each
// summarising 2^r consecutive values by their total and their sum of squared deviations.
// Every `clock` updates (once the window is longer than `grace_period`), every boundary
// between buckets is tried as a cut into an older W0 and a newer W1; when
// |mean(W0) - mean(W1)| exceeds
//   eps = sqrt(2 * m * var_w * d) + 2/3 * d * m,
//   d = ln(2 * ln(width) / delta),  m = 1/(n0 - L + 1) + 1/(n1 - L + 1),
//   var_w = (sum of squared deviations of the whole window) / width,  L = min_window_length
// (both sides must hold >= L values), the oldest bucket is dropped and the scan restarts.
// An update on which any bucket was dropped reports kDrift. As in River, the update
// AFTER a drift starts from an empty window: the whole history is discarded, not only W0.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/drift/detector.hpp"

namespace streamlearn::drift {

struct AdwinParams {
  double delta = 0.002;       // significance: smaller means fewer, later detections
  int clock = 32;             // test for a cut every `clock` updates
  int max_buckets = 5;        // buckets kept per row before the two oldest merge
  int min_window_length = 5;  // a cut needs at least this many values on each side
  int grace_period = 10;      // no test until the window holds more values than this

  Status validate() const;
};

class Adwin final : public DriftDetector {
 public:
  // River's defaults, which are always valid.
  Adwin();
  // Checks `params` first: an invalid set is an InvalidArgument status, never a detector.
  static Result<Adwin> Create(const AdwinParams& params);

  DriftLevel update(double x) override;
  void reset() override;
  std::string_view name() const override { return "adwin"; }
  // width, estimation, total, variance, variance_in_window, n_detections,
  // lifetime_detections (see the accessors below).
  std::vector<std::pair<std::string, double>> stats() const override;
  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;

  const AdwinParams& params() const { return params_; }
  // Number of values the window summarises.
  double width() const { return width_; }
  // Sum of the values in the window.
  double total() const { return total_; }
  // River's `variance`: the SUM of squared deviations from the window mean (not / width).
  double variance() const { return variance_; }
  // Mean of the window; 0 when it is empty.
  double estimation() const override { return width_ == 0 ? 0.0 : total_ / width_; }
  // River's `n_detections`: counted by the window helper, which River rebuilds on the
  // update after every drift, so it is 1 right after a drift and 0 again afterwards.
  int64_t n_detections() const { return n_detections_; }
  // Drifts reported since construction or reset(): what River's name suggests.
  uint64_t lifetime_detections() const { return lifetime_detections_; }
  // River's `drift_detected`: true from a kDrift update until the next update.
  bool drift_detected() const { return drift_detected_; }

 private:
  // One row of the histogram; every bucket in row r covers 2^r values. A ring of
  // max_buckets + 1 slots, oldest bucket at `head`: merging drops the two oldest in place
  // instead of moving the rest.
  struct BucketRow {
    std::vector<double> totals;
    std::vector<double> variances;  // sum of squared deviations within each bucket
    uint32_t head = 0;
    uint32_t count = 0;
    // Slot of the k-th oldest bucket.
    size_t slot(size_t k) const {
      const size_t i = head + k;
      return i >= totals.size() ? i - totals.size() : i;
    }
    void push(double total, double variance) {
      const size_t i = slot(count);
      totals[i] = total;
      variances[i] = variance;
      ++count;
    }
    void drop_oldest(uint32_t n) {
      head = static_cast<uint32_t>(slot(n));
      count -= n;
    }
  };
  BucketRow empty_row() const;

  explicit Adwin(const AdwinParams& params);

  void clear_window();
  void insert_value(double value);
  void merge_full_rows();
  bool detect_change();
  bool drop_oldest_bucket();  // false if there was nothing to drop

  AdwinParams params_;
  std::vector<BucketRow> rows_;  // rows_[0] holds single values, the newest last
  double total_ = 0;
  double variance_ = 0;
  double width_ = 0;  // a double, as in River, so the arithmetic rounds identically
  int64_t tick_ = 0;  // updates since the window was last cleared; drives `clock`
  int64_t n_detections_ = 0;
  uint64_t lifetime_detections_ = 0;
  bool drift_detected_ = false;
};

// The DriftDetector factory the pipeline uses; validates `params` first.
Result<std::unique_ptr<DriftDetector>> MakeAdwin(const AdwinParams& params);

}  // namespace streamlearn::drift

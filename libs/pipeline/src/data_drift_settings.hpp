#pragma once
// The data-drift monitor's config from the pipeline's drift.data keys, and which events it
// watches (drift.data.sample).

#include <cstdint>
#include <limits>
#include <string_view>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

drift::DataDriftConfig DataDriftConfigOf(const DriftSettings& drift);

// One event in `every` goes to the data-drift monitor, chosen by a stable hash of its id
// (not by a counter): a replay from a checkpoint, another instance after a rebalance and a
// rerun of `evaluate` all watch the same events, so their alarms are the same bytes. The
// monitor then costs 1/every of its price per event; a shift is seen after about `every`
// times as many events (docs/operations.md#data-drift-alarm-rates).
class DataDriftSampler {
 public:
  explicit DataDriftSampler(int every)
      : every_(every), below_(every <= 1 ? std::numeric_limits<uint64_t>::max()
                                         : std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(every)) {}

  // Mix64 spreads FNV's weak low bits, so ids that differ in their last digit (e-1, e-2, ...)
  // land evenly; the comparison keeps a share 1/every of the hash range without a division.
  bool watches(std::string_view event_id) const { return every_ <= 1 || Mix64(Fnv1a64(event_id)) < below_; }
  int every() const { return every_; }

 private:
  int every_;
  uint64_t below_;
};

}  // namespace streamlearn::pipeline

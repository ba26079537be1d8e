#pragma once
// Builds any detector by name from River-named parameters given as text, for the
// pipeline config and `streamlearn drift`.
//
//   adwin         delta, clock, max_buckets, min_window_length, grace_period
//   ddm           warm_start, warning_threshold, drift_threshold
//   eddm          warm_start, alpha, beta
//   hddm_a        drift_confidence, warning_confidence, two_sided_test
//   hddm_w        drift_confidence, warning_confidence, lambda_val, two_sided_test
//   page_hinkley  min_instances, delta, threshold, alpha, mode (up|down|both)
//   kswin         alpha, window_size, stat_size, seed, window (comma-separated numbers)
//
// Values follow core's config grammar (streamlearn/core/config_values.hpp); booleans are
// true|false in any case, or 1|0 (River's Python names, so not yes/no/on/off). An unknown detector or parameter, or a
// value that does not parse or is out of range, is an InvalidArgument status that names
// it and lists what is valid.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/drift/detector.hpp"

namespace streamlearn::drift {

Result<std::unique_ptr<DriftDetector>> MakeDetector(std::string_view name,
                                                    const std::map<std::string, std::string>& params);

// The detector names MakeDetector accepts, in the order above.
const std::vector<std::string>& DetectorNames();
// The parameter names of one detector (empty for an unknown name).
std::vector<std::string> DetectorParamNames(std::string_view name);

}  // namespace streamlearn::drift

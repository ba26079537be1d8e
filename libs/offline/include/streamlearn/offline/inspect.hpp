#pragma once
// `streamlearn state inspect DIR`: what a state directory holds, as one JSON object —
// offsets, entity count and a digest of every entity state, and each model's snapshot
// header and checksum. Two runs that reached the same state print the same digests.

#include <string>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

Result<std::string> InspectStateJson(const std::string& dir);

}  // namespace streamlearn::pipeline

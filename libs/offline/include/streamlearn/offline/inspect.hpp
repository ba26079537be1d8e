#pragma once
// `streamlearn state inspect DIR`: what a state directory holds, as one JSON object —
// offsets, entity count and a digest of every entity state, and each model's snapshot
// header and checksum. Two runs that reached the same state print the same digests.

#include <string>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

Result<std::string> InspectStateJson(const std::string& dir);
// One line per entity, in key order: the key (JSON-quoted), a tab, a digest of its state.
// Two directories' lines compare entity by entity (several instances' union).
Result<std::string> InspectEntityDigests(const std::string& dir);

}  // namespace streamlearn::pipeline

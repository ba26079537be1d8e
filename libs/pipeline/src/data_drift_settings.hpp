#pragma once
// The data-drift monitor's config from the pipeline's drift.data keys.

#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::pipeline {

drift::DataDriftConfig DataDriftConfigOf(const DriftSettings& drift);

}  // namespace streamlearn::pipeline

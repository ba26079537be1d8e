#include "data_drift_settings.hpp"

namespace streamlearn::pipeline {

drift::DataDriftConfig DataDriftConfigOf(const DriftSettings& drift) {
  drift::DataDriftConfig dc;
  dc.numeric_detector = drift.data_numeric_detector;
  dc.numeric_params = drift.data_params;
  dc.psi_threshold = drift.data_psi_threshold;
  dc.psi_reference_size = static_cast<uint32_t>(drift.data_psi_window);
  dc.psi_current_size = static_cast<uint32_t>(drift.data_psi_window);
  dc.false_alarm_rate = drift.data_false_alarm_rate;
  dc.numeric_block = static_cast<uint32_t>(drift.data_block);
  dc.warmup = static_cast<uint32_t>(drift.data_warmup);
  dc.cooldown = static_cast<uint32_t>(drift.data_cooldown);
  return dc;
}

}  // namespace streamlearn::pipeline

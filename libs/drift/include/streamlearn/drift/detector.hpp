#pragma once
// One interface for every concept-drift detector (ADWIN, DDM, EDDM, HDDM, Page-Hinkley,
// KSWIN). The pipeline feeds each labelled event's error/loss to update() and turns a
// kWarning or kDrift into an event on the `drift` topic plus the configured action.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::drift {

enum class DriftLevel { kNone, kWarning, kDrift };

// "none" | "warning" | "drift": the `level` field of the drift event.
constexpr std::string_view ToString(DriftLevel level) {
  switch (level) {
    case DriftLevel::kWarning: return "warning";
    case DriftLevel::kDrift: return "drift";
    case DriftLevel::kNone: break;
  }
  return "none";
}

class DriftDetector {
 public:
  virtual ~DriftDetector() = default;

  // Feeds one value; returns what fired on this update (kDrift when a drift did, whatever
  // warning_detected() says).
  virtual DriftLevel update(double x) = 0;
  // River's warning flag after the last update. A detector may hold it at the same update
  // as a drift (River's EDDM keeps a warning raised earlier when a later error drifts), so a
  // caller that reports both asks this beside update()'s kDrift. False for detectors
  // without a warning zone.
  virtual bool warning_detected() const { return false; }
  // Back to the freshly-constructed state, with the same parameters.
  virtual void reset() = 0;
  // Short lowercase name, e.g. "adwin": the `detector` field of the drift event.
  virtual std::string_view name() const = 0;
  // The detector's current estimate of the monitored mean (for an error stream, the error
  // rate). The pipeline compares it before and after a detection to tell a rise in error
  // (concept drift) from a fall (the model improving), which two-sided detectors both flag.
  virtual double estimation() const = 0;
  // Named statistics for the drift event's "stats" object, e.g. width, estimation.
  virtual std::vector<std::pair<std::string, double>> stats() const = 0;

  // Full state including parameters, so a loaded detector behaves bit-identically to the
  // one that was saved. load() returns a Corruption status on bad bytes and then leaves
  // the detector as it was.
  virtual void save(ByteWriter& out) const = 0;
  virtual Status load(ByteReader& in) = 0;
};

}  // namespace streamlearn::drift

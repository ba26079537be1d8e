#pragma once
// Stationary numeric streams of several kinds, for the data-drift monitor's false-alarm
// tests and its calibration (bench/data_drift_calibration.cpp). No change anywhere: every
// alarm on them is false. The cyclical ones are visited in order, as a real stream's
// day-of-week or hour field is, which makes them autocorrelated though stationary.

#include <cmath>
#include <cstdint>
#include <string_view>

#include "streamlearn/drift/python_random.hpp"

namespace streamlearn::drift::streams {

struct StationaryKind {
  std::string_view name;
  std::string_view what;
};

inline constexpr StationaryKind kStationaryKinds[] = {
    {"normal", "N(0, 1)"},
    {"uniform", "U(0, 1)"},
    {"heavy", "log-normal amounts, 1 % in [1e6, 1e9)"},
    {"discrete", "three levels 0, 0.5, 1 with shares 0.5, 0.3, 0.2"},
    {"dice", "1..6 uniform"},
    {"day_of_week", "1..7, 48 events a day in order (Elec2's day)"},
    {"hour", "0..23, one event an hour in order"},
    {"time_of_day", "0..1 in 48 steps plus noise (Elec2's period)"},
    {"month", "1..12, 720 events a month in order (hourly, 8,640 a cycle)"},
    {"ar1", "AR(1), phi 0.9 (stationary, autocorrelated)"},
};

// The values of one kind; `phase` shifts where a cycle starts.
class StationaryStream {
 public:
  StationaryStream(std::string_view kind, uint64_t seed, uint64_t phase = 0)
      : kind_(kind), rng_(seed), i_(phase) {}

  double next() {
    const uint64_t i = i_++;
    if (kind_ == "normal") return rng_.gauss(0, 1);
    if (kind_ == "uniform") return rng_.random();
    if (kind_ == "heavy") return rng_.random() < 0.01 ? 1e6 + rng_.random() * 1e9 : 50 * std::exp(rng_.gauss(0, 1));
    if (kind_ == "discrete") {
      const double u = rng_.random();
      return u < 0.5 ? 0.0 : u < 0.8 ? 0.5 : 1.0;
    }
    if (kind_ == "dice") return std::floor(rng_.random() * 6) + 1;
    if (kind_ == "day_of_week") return static_cast<double>((i / 48) % 7 + 1);
    if (kind_ == "hour") return static_cast<double>(i % 24);
    if (kind_ == "time_of_day") return static_cast<double>(i % 48) / 47.0 + rng_.gauss(0, 0.01);
    if (kind_ == "month") return static_cast<double>((i / 720) % 12 + 1);
    ar_ = 0.9 * ar_ + rng_.gauss(0, 1);  // ar1
    return ar_;
  }

 private:
  std::string_view kind_;
  PythonRandom rng_;
  uint64_t i_;
  double ar_ = 0;
};

}  // namespace streamlearn::drift::streams

#include "streamlearn/drift/hddm_a.hpp"

#include <cmath>

#include "io.hpp"

// Follows river/drift/binary/hddm_a.py line by line.

namespace streamlearn::drift {
namespace {
constexpr uint32_t kFormatVersion = 1;

Status CheckConfidence(const char* what, double c) {
  if (!(c > 0 && c < 1)) {
    return Status::Invalid(std::string("hddm_a: ") + what + " must be in (0, 1), got " +
                           std::to_string(c));
  }
  return Status::Ok();
}
}  // namespace

Status HddmAParams::validate() const {
  SL_RETURN_IF_ERROR(CheckConfidence("drift_confidence", drift_confidence));
  return CheckConfidence("warning_confidence", warning_confidence);
}

HddmA::HddmA() : HddmA(HddmAParams{}) {}
HddmA::HddmA(const HddmAParams& params) : params_(params) { clear(); }

Result<HddmA> HddmA::Create(const HddmAParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return HddmA(params);
}

Result<std::unique_ptr<DriftDetector>> MakeHddmA(const HddmAParams& params) {
  Result<HddmA> made = HddmA::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<HddmA>(std::move(made).value()));
}

void HddmA::clear() {
  x_min_ = RiverMean{};
  x_max_ = RiverMean{};
  z_ = RiverMean{};
  warning_detected_ = false;
  drift_detected_ = false;
}

void HddmA::reset() {
  clear();
  lifetime_detections_ = 0;
}

double HddmA::hoeffding_bound(double n) const {
  return std::sqrt(1.0 / (2 * n) * std::log(1.0 / params_.drift_confidence));
}

DriftLevel HddmA::update(double x) {
  if (!std::isfinite(x)) return DriftLevel::kNone;  // as ADWIN: never poison the sums
  if (drift_detected_) clear();

  z_.update(x);
  if (x_min_.n == 0) x_min_ = z_;
  if (x_max_.n == 0) x_max_ = z_;

  // Bound the data.
  const double eps_z = hoeffding_bound(z_.n);
  double eps_x = hoeffding_bound(x_min_.n);
  // The cut point for tracking a mean increase.
  if (x_min_.get() + eps_x >= z_.get() + eps_z) x_min_ = z_;

  eps_x = hoeffding_bound(x_max_.n);
  // The cut point for tracking a mean decrease.
  if (x_max_.get() - eps_x <= z_.get() - eps_z) x_max_ = z_;

  if (mean_incr(params_.drift_confidence)) {
    warning_detected_ = false;
    drift_detected_ = true;
  } else if (mean_incr(params_.warning_confidence)) {
    warning_detected_ = true;
    drift_detected_ = false;
  } else {
    warning_detected_ = false;
    drift_detected_ = false;
  }

  if (params_.two_sided_test) {
    if (mean_decr(params_.drift_confidence)) {
      drift_detected_ = true;
    } else if (mean_decr(params_.warning_confidence)) {
      warning_detected_ = true;
    }
  }

  if (drift_detected_) {
    ++lifetime_detections_;
    return DriftLevel::kDrift;
  }
  return warning_detected_ ? DriftLevel::kWarning : DriftLevel::kNone;
}

bool HddmA::mean_incr(double confidence) const {
  if (x_min_.n == z_.n) return false;
  const double m = (z_.n - x_min_.n) / x_min_.n * (1.0 / z_.n);
  const double eps = std::sqrt(m / 2 * std::log(2.0 / confidence));
  return z_.get() - x_min_.get() >= eps;
}

bool HddmA::mean_decr(double confidence) const {
  if (x_max_.n == z_.n) return false;
  const double m = (z_.n - x_max_.n) / x_max_.n * (1.0 / z_.n);
  const double eps = std::sqrt(m / 2 * std::log(2.0 / confidence));
  return x_max_.get() - z_.get() >= eps;
}

std::vector<std::pair<std::string, double>> HddmA::stats() const {
  return {
      {"n", z_.n},
      {"estimation", z_.get()},
      {"x_min", x_min_.get()},
      {"n_x_min", x_min_.n},
      {"x_max", x_max_.get()},
      {"n_x_max", x_max_.n},
      {"warning_detected", warning_detected_ ? 1.0 : 0.0},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void HddmA::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.f64(params_.drift_confidence);
  out.f64(params_.warning_confidence);
  out.u8(params_.two_sided_test ? 1 : 0);
  x_min_.save(out);
  x_max_.save(out);
  z_.save(out);
  out.u8(warning_detected_ ? 1 : 0);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status HddmA::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  HddmA loaded;
  loaded.params_.drift_confidence = in.f64();
  loaded.params_.warning_confidence = in.f64();
  const uint8_t two_sided = in.u8();
  if (!in.ok()) return corrupt("truncated");
  if (!io::AsBool(two_sided, &loaded.params_.two_sided_test)) return corrupt("bad flag");
  if (Status st = loaded.params_.validate(); !st.ok()) return corrupt(st.message());
  const bool means_ok = loaded.x_min_.load(in) && loaded.x_max_.load(in) && loaded.z_.load(in);
  const uint8_t warning = in.u8();
  const uint8_t drift = in.u8();
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!means_ok) return corrupt("bad running mean");
  if (!io::AsBool(warning, &loaded.warning_detected_) ||
      !io::AsBool(drift, &loaded.drift_detected_)) {
    return corrupt("bad flag");
  }
  // The cut points are earlier copies of z: never more values than z.
  if (loaded.x_min_.n > loaded.z_.n || loaded.x_max_.n > loaded.z_.n ||
      (loaded.z_.n > 0 && (loaded.x_min_.n == 0 || loaded.x_max_.n == 0))) {
    return corrupt("inconsistent counts");
  }
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

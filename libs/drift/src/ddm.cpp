#include "streamlearn/drift/ddm.hpp"

#include <cmath>

#include "io.hpp"

// Follows river/drift/binary/ddm.py line by line.

namespace streamlearn::drift {
namespace {
constexpr uint32_t kFormatVersion = 1;
}  // namespace

Status DdmParams::validate() const {
  if (warm_start < 0) {
    return Status::Invalid("ddm: warm_start must be >= 0, got " + std::to_string(warm_start));
  }
  if (!std::isfinite(warning_threshold) || warning_threshold < 0) {
    return Status::Invalid("ddm: warning_threshold must be a finite number >= 0, got " +
                           std::to_string(warning_threshold));
  }
  if (!std::isfinite(drift_threshold) || drift_threshold < 0) {
    return Status::Invalid("ddm: drift_threshold must be a finite number >= 0, got " +
                           std::to_string(drift_threshold));
  }
  return Status::Ok();
}

Ddm::Ddm() : Ddm(DdmParams{}) {}
Ddm::Ddm(const DdmParams& params) : params_(params) { clear(); }

Result<Ddm> Ddm::Create(const DdmParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return Ddm(params);
}

Result<std::unique_ptr<DriftDetector>> MakeDdm(const DdmParams& params) {
  Result<Ddm> made = Ddm::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<Ddm>(std::move(made).value()));
}

void Ddm::clear() {
  p_ = RiverMean{};
  has_min_ = false;
  p_min_ = 0;
  s_min_ = 0;
  ps_min_ = 0;
  warning_detected_ = false;
  drift_detected_ = false;
}

void Ddm::reset() {
  clear();
  lifetime_detections_ = 0;
}

DriftLevel Ddm::update(double x) {
  // As in ADWIN: a NaN or infinity would poison the running mean for good; ignored.
  if (!std::isfinite(x)) return DriftLevel::kNone;
  if (drift_detected_) clear();

  p_.update(x);
  const double p_i = p_.get();
  const double n = p_.n;
  // For values outside [0, 1] the variance can go negative: River's math.sqrt raises;
  // here s_i is NaN, every comparison below fails and nothing fires.
  const double s_i = std::sqrt(p_i * (1 - p_i) / n);

  if (n > params_.warm_start) {
    if (!has_min_ || p_i + s_i <= ps_min_) {
      if (!std::isnan(s_i)) {
        p_min_ = p_i;
        s_min_ = s_i;
        ps_min_ = p_min_ + s_min_;
        has_min_ = true;
      }
    }
    if (has_min_) {
      warning_detected_ = p_i + s_i > p_min_ + params_.warning_threshold * s_min_;
      if (p_i + s_i > p_min_ + params_.drift_threshold * s_min_) {
        drift_detected_ = true;
        warning_detected_ = false;
      }
    }
  }
  if (drift_detected_) {
    ++lifetime_detections_;
    return DriftLevel::kDrift;
  }
  return warning_detected_ ? DriftLevel::kWarning : DriftLevel::kNone;
}

std::vector<std::pair<std::string, double>> Ddm::stats() const {
  const double p_i = p_.get();
  const double s_i = p_.n > 0 ? std::sqrt(p_i * (1 - p_i) / p_.n) : 0.0;
  return {
      {"n", p_.n},
      {"estimation", p_i},
      {"s", std::isnan(s_i) ? 0.0 : s_i},
      {"p_min", p_min_},
      {"s_min", s_min_},
      {"ps_min", ps_min_},
      {"warning_detected", warning_detected_ ? 1.0 : 0.0},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void Ddm::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.i64(params_.warm_start);
  out.f64(params_.warning_threshold);
  out.f64(params_.drift_threshold);
  p_.save(out);
  out.u8(has_min_ ? 1 : 0);
  out.f64(p_min_);
  out.f64(s_min_);
  out.f64(ps_min_);
  out.u8(warning_detected_ ? 1 : 0);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status Ddm::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  Ddm loaded;
  const bool fits = io::AsInt(in.i64(), &loaded.params_.warm_start);
  loaded.params_.warning_threshold = in.f64();
  loaded.params_.drift_threshold = in.f64();
  if (!in.ok()) return corrupt("truncated");
  if (!fits) return corrupt("parameter out of range");
  if (Status st = loaded.params_.validate(); !st.ok()) return corrupt(st.message());
  const bool mean_ok = loaded.p_.load(in);
  const uint8_t has_min = in.u8();
  loaded.p_min_ = in.f64();
  loaded.s_min_ = in.f64();
  loaded.ps_min_ = in.f64();
  const uint8_t warning = in.u8();
  const uint8_t drift = in.u8();
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!mean_ok) return corrupt("bad error-rate mean");
  if (!io::AsBool(has_min, &loaded.has_min_) || !io::AsBool(warning, &loaded.warning_detected_) ||
      !io::AsBool(drift, &loaded.drift_detected_)) {
    return corrupt("bad flag");
  }
  if (!io::Finite(loaded.p_min_) || !io::Finite(loaded.s_min_) || !io::Finite(loaded.ps_min_)) {
    return corrupt("non-finite minimum");
  }
  if (loaded.p_.n != std::floor(loaded.p_.n)) return corrupt("fractional count");
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

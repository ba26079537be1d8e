#include "streamlearn/drift/eddm.hpp"

#include <cmath>

#include "io.hpp"

// Follows river/drift/binary/eddm.py line by line.

namespace streamlearn::drift {
namespace {
constexpr uint32_t kFormatVersion = 1;
}  // namespace

Status EddmParams::validate() const {
  if (warm_start < 0) {
    return Status::Invalid("eddm: warm_start must be >= 0, got " + std::to_string(warm_start));
  }
  if (!(alpha >= 0 && alpha <= 1)) {
    return Status::Invalid("eddm: alpha must be in [0, 1], got " + std::to_string(alpha));
  }
  if (!(beta >= 0 && beta <= 1)) {
    return Status::Invalid("eddm: beta must be in [0, 1], got " + std::to_string(beta));
  }
  if (alpha < beta) {  // River: "'alpha' must be greater or equal to 'beta'."
    return Status::Invalid("eddm: alpha must be greater or equal to beta, got alpha " +
                           std::to_string(alpha) + " < beta " + std::to_string(beta));
  }
  return Status::Ok();
}

Eddm::Eddm() : Eddm(EddmParams{}) {}
Eddm::Eddm(const EddmParams& params) : params_(params) { clear(); }

Result<Eddm> Eddm::Create(const EddmParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return Eddm(params);
}

Result<std::unique_ptr<DriftDetector>> MakeEddm(const EddmParams& params) {
  Result<Eddm> made = Eddm::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<Eddm>(std::move(made).value()));
}

void Eddm::clear() {
  distances_ = RiverVar{};
  n_ = 0;
  last_error_ = 0;
  n_errors_ = 0;
  p2s_prime_max_ = -1;
  warning_detected_ = false;
  drift_detected_ = false;
}

void Eddm::reset() {
  clear();
  lifetime_detections_ = 0;
}

DriftLevel Eddm::update(double x) {
  if (!std::isfinite(x)) return DriftLevel::kNone;  // as ADWIN: never poison the sums
  if (drift_detected_) clear();

  ++n_;
  if (x == 1) {
    ++n_errors_;
    distances_.update(static_cast<double>(n_ - last_error_));
    if (n_ > params_.warm_start) {
      const double pi_prime = distances_.mean.get();
      const double si_prime = std::pow(distances_.get(), 0.5);  // River: var ** 0.5
      const double p2s_prime = pi_prime + 2 * si_prime;
      if (p2s_prime > p2s_prime_max_) {
        p2s_prime_max_ = p2s_prime;
      } else if (n_errors_ > params_.warm_start) {
        const double level = p2s_prime / p2s_prime_max_;
        if (level < params_.beta) {
          drift_detected_ = true;
        } else if (level < params_.alpha) {
          warning_detected_ = true;
        } else {
          warning_detected_ = false;
        }
      }
    }
    last_error_ = n_;
  }
  if (drift_detected_) {
    ++lifetime_detections_;
    return DriftLevel::kDrift;
  }
  return warning_detected_ ? DriftLevel::kWarning : DriftLevel::kNone;
}

double Eddm::estimation() const {
  return n_ == 0 ? 0.0 : static_cast<double>(n_errors_) / static_cast<double>(n_);
}

std::vector<std::pair<std::string, double>> Eddm::stats() const {
  return {
      {"n", static_cast<double>(n_)},
      {"n_errors", static_cast<double>(n_errors_)},
      {"estimation", estimation()},
      {"mean_distance", distances_.mean.get()},
      {"std_distance", std::pow(distances_.get(), 0.5)},
      {"p2s_max", p2s_prime_max_},
      {"warning_detected", warning_detected_ ? 1.0 : 0.0},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void Eddm::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.i64(params_.warm_start);
  out.f64(params_.alpha);
  out.f64(params_.beta);
  distances_.save(out);
  out.i64(n_);
  out.i64(last_error_);
  out.i64(n_errors_);
  out.f64(p2s_prime_max_);
  out.u8(warning_detected_ ? 1 : 0);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status Eddm::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  Eddm loaded;
  const bool fits = io::AsInt(in.i64(), &loaded.params_.warm_start);
  loaded.params_.alpha = in.f64();
  loaded.params_.beta = in.f64();
  if (!in.ok()) return corrupt("truncated");
  if (!fits) return corrupt("parameter out of range");
  if (Status st = loaded.params_.validate(); !st.ok()) return corrupt(st.message());
  const bool var_ok = loaded.distances_.load(in);
  loaded.n_ = in.i64();
  loaded.last_error_ = in.i64();
  loaded.n_errors_ = in.i64();
  loaded.p2s_prime_max_ = in.f64();
  const uint8_t warning = in.u8();
  const uint8_t drift = in.u8();
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!var_ok) return corrupt("bad distance statistics");
  if (!io::AsBool(warning, &loaded.warning_detected_) ||
      !io::AsBool(drift, &loaded.drift_detected_)) {
    return corrupt("bad flag");
  }
  if (loaded.n_ < 0 || loaded.last_error_ < 0 || loaded.last_error_ > loaded.n_ ||
      loaded.n_errors_ < 0 || loaded.n_errors_ > loaded.n_ ||
      loaded.distances_.mean.n != static_cast<double>(loaded.n_errors_)) {
    return corrupt("inconsistent counters");
  }
  if (!io::Finite(loaded.p2s_prime_max_)) return corrupt("non-finite maximum");
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

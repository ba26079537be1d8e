#include "target_scaler.hpp"

#include <cmath>

namespace streamlearn::pipeline {

double TargetScaler::learned(double y) {
  if (!(std::abs(y) <= 1e100)) return y;  // NaN, Inf, too large to square: the learner refuses it and counts it
  count_++;
  const double delta = y - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (y - mean_);
  return active_ ? (y - mean_) / scale() : y;
}

double TargetScaler::scale() const {
  const double sd = count_ >= 2 && m2_ > 0 ? std::sqrt(m2_ / static_cast<double>(count_)) : 0.0;
  return sd > 0 && std::isfinite(sd) ? sd : 1.0;
}

void TargetScaler::save(ByteWriter& w) const {
  w.u8(active_ ? 1 : 0);
  w.u64(count_);
  w.f64(mean_);
  w.f64(m2_);
}

Status TargetScaler::load(ByteReader& r) {
  const uint8_t active = r.u8();
  const uint64_t count = r.u64();
  const double mean = r.f64();
  const double m2 = r.f64();
  if (!r.ok() || active > 1 || !std::isfinite(mean) || !(m2 >= 0)) return Status::Corruption("snapshot target scaler");
  active_ = active == 1;
  count_ = count;
  mean_ = mean;
  m2_ = m2;
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

#include "divergence_guard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace streamlearn::pipeline {
namespace {

double Sum(const std::vector<double>& v, uint32_t n) {
  double s = 0;
  for (uint32_t i = 0; i < n; ++i) s += v[i];
  return s;
}

}  // namespace

DivergenceGuard::DivergenceGuard(double factor, uint32_t window)
    : factor_(factor), window_(std::max<uint32_t>(window, 1)), model_errors_(window_), baseline_errors_(window_) {}

bool DivergenceGuard::update(double prediction, double y) {
  if (!std::isfinite(y)) return false;
  const double baseline = seen_ == 0 ? 0.0 : mean_;
  seen_++;
  mean_ += (y - mean_) / static_cast<double>(seen_);
  // A saturated prediction gives an Inf error: it counts as the largest one.
  double error = std::abs(prediction - y);
  if (!(error <= std::numeric_limits<double>::max())) error = std::numeric_limits<double>::max();
  const double baseline_error = std::abs(baseline - y);
  if (filled_ == window_) {
    model_sum_ -= model_errors_[next_];
    baseline_sum_ -= baseline_errors_[next_];
  }
  model_errors_[next_] = error;
  baseline_errors_[next_] = baseline_error;
  model_sum_ += error;
  baseline_sum_ += baseline_error;
  next_ = (next_ + 1) % window_;
  filled_ = std::min(filled_ + 1, window_);
  if (next_ == 0) {
    // Once per window the sums are taken afresh: no rounding carried on, no Inf - Inf.
    model_sum_ = Sum(model_errors_, window_);
    baseline_sum_ = Sum(baseline_errors_, window_);
  }
  if (factor_ <= 0 || filled_ < window_) return false;
  // A constant target leaves the mean predictor exact: rounding must not count as running away.
  const double floor = 1e-9 * (1 + std::abs(mean_)) * window_;
  if (!(model_sum_ > factor_ * baseline_sum_) || model_sum_ <= floor) return false;
  divergences_++;
  return true;
}

void DivergenceGuard::restart() {
  filled_ = 0;
  next_ = 0;
  model_sum_ = 0;
  baseline_sum_ = 0;
}

double DivergenceGuard::model_mae() const { return filled_ ? model_sum_ / filled_ : 0.0; }
double DivergenceGuard::baseline_mae() const { return filled_ ? baseline_sum_ / filled_ : 0.0; }

void DivergenceGuard::save(ByteWriter& w) const {
  w.u32(window_);
  w.u64(seen_);
  w.f64(mean_);
  w.u32(filled_);
  w.u32(next_);
  for (uint32_t i = 0; i < filled_; ++i) {
    w.f64(model_errors_[i]);
    w.f64(baseline_errors_[i]);
  }
  w.u64(divergences_);
  w.f64(model_sum_);  // as they are (not recomputed): a restored guard continues bit-identically
  w.f64(baseline_sum_);
}

Status DivergenceGuard::load(ByteReader& r) {
  const uint32_t window = r.u32();
  const uint64_t seen = r.u64();
  const double mean = r.f64();
  const uint32_t filled = r.u32();
  const uint32_t next = r.u32();
  if (!r.ok() || filled > window || next >= std::max<uint32_t>(window, 1) || filled > r.remaining() / 16) {
    return Status::Corruption("snapshot divergence guard");
  }
  std::vector<double> model(filled), baseline(filled);
  for (uint32_t i = 0; i < filled; ++i) {
    model[i] = r.f64();
    baseline[i] = r.f64();
  }
  const uint64_t divergences = r.u64();
  const double sums[2] = {r.f64(), r.f64()};
  if (!r.ok()) return Status::Corruption("snapshot divergence guard");
  seen_ = seen;
  mean_ = mean;
  divergences_ = divergences;
  if (window != window_) {
    restart();
    return Status::Ok();
  }
  std::copy(model.begin(), model.end(), model_errors_.begin());
  std::copy(baseline.begin(), baseline.end(), baseline_errors_.begin());
  filled_ = filled;
  next_ = next;
  model_sum_ = sums[0];
  baseline_sum_ = sums[1];
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

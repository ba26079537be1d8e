#include "streamlearn/drift/page_hinkley.hpp"

#include <cmath>
#include <limits>

#include "io.hpp"

// Follows river/drift/page_hinkley.py line by line.

namespace streamlearn::drift {
namespace {
constexpr uint32_t kFormatVersion = 1;
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

std::string_view ToString(PageHinkleyMode mode) {
  switch (mode) {
    case PageHinkleyMode::kUp: return "up";
    case PageHinkleyMode::kDown: return "down";
    case PageHinkleyMode::kBoth: break;
  }
  return "both";
}

Result<PageHinkleyMode> ParsePageHinkleyMode(std::string_view text) {
  if (text == "up") return PageHinkleyMode::kUp;
  if (text == "down") return PageHinkleyMode::kDown;
  if (text == "both") return PageHinkleyMode::kBoth;
  return Status::Invalid("page_hinkley: invalid mode '" + std::string(text) +
                         "'; valid values are: up, down, both");
}

Status PageHinkleyParams::validate() const {
  if (min_instances < 0) {
    return Status::Invalid("page_hinkley: min_instances must be >= 0, got " +
                           std::to_string(min_instances));
  }
  if (!std::isfinite(delta)) return Status::Invalid("page_hinkley: delta must be finite");
  if (!std::isfinite(threshold)) return Status::Invalid("page_hinkley: threshold must be finite");
  if (!(alpha >= 0 && alpha <= 1)) {
    return Status::Invalid("page_hinkley: alpha must be in [0, 1], got " + std::to_string(alpha));
  }
  if (mode != PageHinkleyMode::kUp && mode != PageHinkleyMode::kDown &&
      mode != PageHinkleyMode::kBoth) {
    return Status::Invalid("page_hinkley: invalid mode; valid values are: up, down, both");
  }
  return Status::Ok();
}

PageHinkley::PageHinkley() : PageHinkley(PageHinkleyParams{}) {}
PageHinkley::PageHinkley(const PageHinkleyParams& params) : params_(params) { clear(); }

Result<PageHinkley> PageHinkley::Create(const PageHinkleyParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return PageHinkley(params);
}

Result<std::unique_ptr<DriftDetector>> MakePageHinkley(const PageHinkleyParams& params) {
  Result<PageHinkley> made = PageHinkley::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<PageHinkley>(std::move(made).value()));
}

void PageHinkley::clear() {
  x_mean_ = RiverMean{};
  sum_increase_ = 0.0;
  sum_decrease_ = 0.0;
  min_increase_ = kInf;
  max_decrease_ = -1;
  drift_detected_ = false;
}

void PageHinkley::reset() {
  clear();
  lifetime_detections_ = 0;
}

DriftLevel PageHinkley::update(double x) {
  if (!std::isfinite(x)) return DriftLevel::kNone;  // as ADWIN: never poison the sums
  if (drift_detected_) clear();

  x_mean_.update(x);
  const double dev = x - x_mean_.get();

  sum_increase_ = params_.alpha * sum_increase_ + dev - params_.delta;
  sum_decrease_ = params_.alpha * sum_decrease_ + dev + params_.delta;

  if (sum_increase_ < min_increase_) min_increase_ = sum_increase_;
  if (sum_decrease_ > max_decrease_) max_decrease_ = sum_decrease_;

  if (x_mean_.n >= params_.min_instances) {
    const double test_increase = sum_increase_ - min_increase_;
    const double test_decrease = max_decrease_ - sum_decrease_;
    switch (params_.mode) {
      case PageHinkleyMode::kUp: drift_detected_ = test_increase > params_.threshold; break;
      case PageHinkleyMode::kDown: drift_detected_ = test_decrease > params_.threshold; break;
      case PageHinkleyMode::kBoth:
        drift_detected_ = test_increase > params_.threshold || test_decrease > params_.threshold;
        break;
    }
  }
  if (!drift_detected_) return DriftLevel::kNone;
  ++lifetime_detections_;
  return DriftLevel::kDrift;
}

std::vector<std::pair<std::string, double>> PageHinkley::stats() const {
  const bool started = x_mean_.n > 0;
  return {
      {"n", x_mean_.n},
      {"estimation", x_mean_.get()},
      {"sum_increase", sum_increase_},
      {"min_increase", started ? min_increase_ : 0.0},
      {"sum_decrease", sum_decrease_},
      {"max_decrease", max_decrease_},
      {"test_increase", started ? sum_increase_ - min_increase_ : 0.0},
      {"test_decrease", max_decrease_ - sum_decrease_},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void PageHinkley::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.i64(params_.min_instances);
  out.f64(params_.delta);
  out.f64(params_.threshold);
  out.f64(params_.alpha);
  out.u8(static_cast<uint8_t>(params_.mode));
  x_mean_.save(out);
  out.f64(sum_increase_);
  out.f64(sum_decrease_);
  out.f64(min_increase_);
  out.f64(max_decrease_);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status PageHinkley::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  PageHinkley loaded;
  PageHinkleyParams& p = loaded.params_;
  const bool fits = io::AsInt(in.i64(), &p.min_instances);
  p.delta = in.f64();
  p.threshold = in.f64();
  p.alpha = in.f64();
  const uint8_t mode = in.u8();
  if (!in.ok()) return corrupt("truncated");
  if (!fits) return corrupt("parameter out of range");
  if (mode > static_cast<uint8_t>(PageHinkleyMode::kBoth)) return corrupt("bad mode");
  p.mode = static_cast<PageHinkleyMode>(mode);
  if (Status st = p.validate(); !st.ok()) return corrupt(st.message());
  const bool mean_ok = loaded.x_mean_.load(in);
  loaded.sum_increase_ = in.f64();
  loaded.sum_decrease_ = in.f64();
  loaded.min_increase_ = in.f64();
  loaded.max_decrease_ = in.f64();
  const uint8_t drift = in.u8();
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!mean_ok) return corrupt("bad running mean");
  if (!io::AsBool(drift, &loaded.drift_detected_)) return corrupt("bad flag");
  const bool started = loaded.x_mean_.n > 0;
  if (!io::Finite(loaded.sum_increase_) || !io::Finite(loaded.sum_decrease_) ||
      !io::Finite(loaded.max_decrease_) ||
      (started ? !io::Finite(loaded.min_increase_) : loaded.min_increase_ != kInf)) {
    return corrupt("non-finite sums");
  }
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

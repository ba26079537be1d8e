#include "streamlearn/drift/hddm_w.hpp"

#include <cmath>

#include "io.hpp"

// Follows river/drift/binary/hddm_w.py line by line.

namespace streamlearn::drift {
namespace {
constexpr uint32_t kFormatVersion = 1;

Status CheckConfidence(const char* what, double c) {
  if (!(c > 0 && c < 1)) {
    return Status::Invalid(std::string("hddm_w: ") + what + " must be in (0, 1), got " +
                           std::to_string(c));
  }
  return Status::Ok();
}
}  // namespace

Status HddmWParams::validate() const {
  SL_RETURN_IF_ERROR(CheckConfidence("drift_confidence", drift_confidence));
  SL_RETURN_IF_ERROR(CheckConfidence("warning_confidence", warning_confidence));
  // River's EWMean: "q is not comprised between 0 and 1".
  if (!(lambda_val >= 0 && lambda_val <= 1)) {
    return Status::Invalid("hddm_w: lambda_val must be in [0, 1], got " +
                           std::to_string(lambda_val));
  }
  return Status::Ok();
}

HddmW::SampleInfo::SampleInfo(double lambd)
    : lambd_sq(lambd * lambd), c_lambd_sq(std::pow(1 - lambd, 2)) {
  ewma.alpha = lambd;
}

void HddmW::SampleInfo::update(double x) {
  ewma.update(x);
  is_init = true;
  ibc = lambd_sq + c_lambd_sq * ibc;
}

void HddmW::SampleInfo::save(ByteWriter& out) const {
  out.f64(ewma.mean);
  out.u8(is_init ? 1 : 0);
  out.f64(ibc);
}

bool HddmW::SampleInfo::load(ByteReader& in, double lambd) {
  *this = SampleInfo(lambd);
  ewma.mean = in.f64();
  const uint8_t init = in.u8();
  ibc = in.f64();
  return in.ok() && io::AsBool(init, &is_init) && io::Finite(ewma.mean) && io::Finite(ibc) &&
         ibc >= 0;
}

HddmW::HddmW() : HddmW(HddmWParams{}) {}
HddmW::HddmW(const HddmWParams& params) : params_(params) { clear(); }

Result<HddmW> HddmW::Create(const HddmWParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return HddmW(params);
}

Result<std::unique_ptr<DriftDetector>> MakeHddmW(const HddmWParams& params) {
  Result<HddmW> made = HddmW::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<HddmW>(std::move(made).value()));
}

void HddmW::clear() {
  total_ = SampleInfo(params_.lambda_val);
  s1_decr_ = SampleInfo(params_.lambda_val);
  s1_incr_ = SampleInfo(params_.lambda_val);
  s2_decr_ = SampleInfo(params_.lambda_val);
  s2_incr_ = SampleInfo(params_.lambda_val);
  incr_cutpoint_ = 0;
  decr_cutpoint_ = 0;
  incr_set_ = false;
  decr_set_ = false;
  warning_detected_ = false;
  drift_detected_ = false;
}

void HddmW::reset() {
  clear();
  lifetime_detections_ = 0;
}

double HddmW::mcdiarmid_bound(double ibc, double confidence) {
  return std::sqrt(ibc * std::log(1 / confidence) / 2);
}

bool HddmW::has_mean_changed(const SampleInfo& s1, const SampleInfo& s2, double confidence) {
  if (!(s1.is_init && s2.is_init)) return false;
  const double ibc_sum = s1.ibc + s2.ibc;
  const double bound = mcdiarmid_bound(ibc_sum, confidence);
  return s2.ewma.get() - s1.ewma.get() > bound;
}

void HddmW::update_incr_stats(double x, double confidence) {
  const double eps = mcdiarmid_bound(total_.ibc, confidence);
  // River compares against +inf before the first cut: always true for finite sums.
  if (!incr_set_ || total_.ewma.get() + eps < incr_cutpoint_) {
    incr_cutpoint_ = total_.ewma.get() + eps;
    incr_set_ = true;
    s1_incr_ = total_;
    s2_incr_ = SampleInfo(params_.lambda_val);
  } else {
    s2_incr_.update(x);
  }
}

void HddmW::update_decr_stats(double x, double confidence) {
  const double eps = mcdiarmid_bound(total_.ibc, confidence);
  if (!decr_set_ || total_.ewma.get() - eps > decr_cutpoint_) {
    decr_cutpoint_ = total_.ewma.get() - eps;
    decr_set_ = true;
    s1_decr_ = total_;
    s2_decr_ = SampleInfo(params_.lambda_val);
  } else {
    s2_decr_.update(x);
  }
}

DriftLevel HddmW::update(double x) {
  if (!std::isfinite(x)) return DriftLevel::kNone;  // as ADWIN: never poison the sums
  if (drift_detected_) clear();

  total_.update(x);

  update_incr_stats(x, params_.drift_confidence);
  if (has_mean_changed(s1_incr_, s2_incr_, params_.drift_confidence)) {
    warning_detected_ = false;
    drift_detected_ = true;
  } else if (has_mean_changed(s1_incr_, s2_incr_, params_.warning_confidence)) {
    warning_detected_ = true;
    drift_detected_ = false;
  } else {
    warning_detected_ = false;
    drift_detected_ = false;
  }

  update_decr_stats(x, params_.drift_confidence);
  if (params_.two_sided_test) {
    if (has_mean_changed(s2_decr_, s1_decr_, params_.drift_confidence)) {
      drift_detected_ = true;
    } else if (has_mean_changed(s2_decr_, s1_decr_, params_.warning_confidence)) {
      warning_detected_ = true;
    }
  }

  if (drift_detected_) {
    ++lifetime_detections_;
    return DriftLevel::kDrift;
  }
  return warning_detected_ ? DriftLevel::kWarning : DriftLevel::kNone;
}

std::vector<std::pair<std::string, double>> HddmW::stats() const {
  return {
      {"estimation", total_.ewma.get()},
      {"ibc", total_.ibc},
      {"incr_cutpoint", incr_cutpoint_},
      {"decr_cutpoint", decr_cutpoint_},
      {"warning_detected", warning_detected_ ? 1.0 : 0.0},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void HddmW::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.f64(params_.drift_confidence);
  out.f64(params_.warning_confidence);
  out.f64(params_.lambda_val);
  out.u8(params_.two_sided_test ? 1 : 0);
  for (const SampleInfo* s : {&total_, &s1_decr_, &s1_incr_, &s2_decr_, &s2_incr_}) s->save(out);
  out.f64(incr_cutpoint_);
  out.f64(decr_cutpoint_);
  out.u8(incr_set_ ? 1 : 0);
  out.u8(decr_set_ ? 1 : 0);
  out.u8(warning_detected_ ? 1 : 0);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status HddmW::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  HddmW loaded;
  HddmWParams& p = loaded.params_;
  p.drift_confidence = in.f64();
  p.warning_confidence = in.f64();
  p.lambda_val = in.f64();
  const uint8_t two_sided = in.u8();
  if (!in.ok()) return corrupt("truncated");
  if (!io::AsBool(two_sided, &p.two_sided_test)) return corrupt("bad flag");
  if (Status st = p.validate(); !st.ok()) return corrupt(st.message());
  bool samples_ok = true;
  for (SampleInfo* s : {&loaded.total_, &loaded.s1_decr_, &loaded.s1_incr_, &loaded.s2_decr_,
                        &loaded.s2_incr_}) {
    samples_ok = samples_ok && s->load(in, p.lambda_val);
  }
  loaded.incr_cutpoint_ = in.f64();
  loaded.decr_cutpoint_ = in.f64();
  const uint8_t flags[4] = {in.u8(), in.u8(), in.u8(), in.u8()};
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!samples_ok) return corrupt("bad weighted mean");
  if (!io::AsBool(flags[0], &loaded.incr_set_) || !io::AsBool(flags[1], &loaded.decr_set_) ||
      !io::AsBool(flags[2], &loaded.warning_detected_) ||
      !io::AsBool(flags[3], &loaded.drift_detected_)) {
    return corrupt("bad flag");
  }
  if (!io::Finite(loaded.incr_cutpoint_) || !io::Finite(loaded.decr_cutpoint_)) {
    return corrupt("non-finite cut point");
  }
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

#include "drift_policy.hpp"

#include <fmt/format.h>

#include "streamlearn/drift/factory.hpp"

namespace streamlearn::pipeline {

Result<std::unique_ptr<DriftPolicy>> DriftPolicy::Create(const DriftSettings& settings) {
  std::unique_ptr<DriftPolicy> policy(new DriftPolicy());
  policy->action_ = settings.action;
  policy->background_max_events_ = static_cast<uint64_t>(std::max(0, settings.background_max_events));
  std::map<std::string, std::string> params = settings.params;
  if (settings.detector == "adwin" && !params.count("delta")) params["delta"] = fmt::format("{}", settings.delta);
  auto detector = drift::MakeDetector(settings.detector, params);
  if (!detector.ok()) return Status::Invalid("drift.params: " + detector.status().message());
  policy->detector_ = std::move(detector).value();
  const std::string& d = settings.detector;
  if (policy->action_ == Action::kBackground && (d == "adwin" || d == "kswin" || d == "page_hinkley")) {
    auto warning = drift::MakeDetector("adwin", {{"delta", fmt::format("{}", settings.warning_delta)}, {"clock", "1"}});
    if (!warning.ok()) return Status::Invalid("drift.warning_delta: " + warning.status().message());
    policy->warning_detector_ = std::move(warning).value();
  }
  return policy;
}

std::string_view DriftPolicy::action_name() const { return ToString(action_); }

DriftPolicy::Outcome DriftPolicy::update(double error, std::unique_ptr<learn::Learner>& model) {
  Outcome out;
  out.error_before = detector_->estimation();
  const drift::DriftLevel level = detector_->update(error);
  out.error_after = detector_->estimation();
  const bool was_warning = in_warning_;
  in_warning_ = level == drift::DriftLevel::kWarning;
  if (level == drift::DriftLevel::kDrift && out.error_after <= out.error_before) {
    // Two-sided detectors (ADWIN, KSWIN, Page-Hinkley "both") also flag a model whose
    // error is falling because it is still learning. That is no concept drift; resetting
    // would throw the progress away.
    counts_.improvements++;
    out.kind = Outcome::Kind::kImprovement;
  } else if (level == drift::DriftLevel::kDrift) {
    out.kind = Outcome::Kind::kDrift;
    out.action = action_name();
    out.background_trained = background_ ? background_trained_ : 0;
    if (action_ == Action::kBackground && background_) {
      model = std::move(background_);
      background_trained_ = 0;
      out.background_swapped = true;
    } else if (action_ != Action::kNone) {
      model->reset();  // reset, or background with no warning before the drift
    }
    out.model_replaced = action_ != Action::kNone;
  } else if (in_warning_ && !was_warning && action_ != Action::kBackground) {
    // Once when the warning zone is entered, not for every update inside it.
    counts_.warnings++;
    out.kind = Outcome::Kind::kWarning;
    out.action = "none";
    out.background_trained = background_trained_;
  }
  if (action_ == Action::kBackground) tend_background(error, level, was_warning, *model, out);
  return out;
}

void DriftPolicy::tend_background(double error, drift::DriftLevel level, bool was_warning, learn::Learner& model,
                                  Outcome& out) {
  bool warning_began = false, warning_cleared = false;
  if (warning_detector_) {
    // A looser ADWIN on the same errors: its rise is the warning; no drift within
    // background_max_events means it cleared.
    const double before = warning_detector_->estimation();
    const drift::DriftLevel w = warning_detector_->update(error);
    warning_began = w == drift::DriftLevel::kDrift && warning_detector_->estimation() > before;
    warning_cleared = background_ && background_trained_ >= background_max_events_;
  } else {
    warning_began = level == drift::DriftLevel::kWarning && !was_warning;
    warning_cleared = background_ && level == drift::DriftLevel::kNone;
  }
  if (level == drift::DriftLevel::kDrift) return;  // swapped (or reset) in update()
  if (warning_cleared && !warning_began) {
    out.background_dropped = true;
    out.background_trained = background_trained_;
    background_.reset();
    background_trained_ = 0;
    counts_.backgrounds_dropped++;
  }
  if (warning_began && !background_) {
    background_ = model.fresh_copy();  // fresh parameters, the input statistics kept
    background_trained_ = 0;
    counts_.warnings++;
    counts_.backgrounds_started++;
    out.kind = Outcome::Kind::kWarning;
    out.action = "background";
    out.background_started = true;
    out.background_trained = 0;
  }
}

void DriftPolicy::save_learners(ByteWriter& w) const {
  w.u8(warning_detector_ ? 1 : 0);
  if (warning_detector_) warning_detector_->save(w);
  w.u8(background_ ? 1 : 0);
  if (background_) {
    w.u64(background_trained_);
    background_->save(w);
  }
}

Status DriftPolicy::load_learners(ByteReader& r, const learn::Learner& model) {
  if (r.u8() != 0) {
    auto scratch = drift::MakeDetector("adwin", {});
    SL_RETURN_IF_ERROR((warning_detector_ ? *warning_detector_ : **scratch).load(r));
  }
  if (r.u8() != 0) {
    background_trained_ = r.u64();
    background_ = model.fresh_copy();
    SL_RETURN_IF_ERROR(background_->load(r));
    if (action_ != Action::kBackground) {
      background_.reset();
      background_trained_ = 0;
    }
  }
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

#include "streamlearn/eval/prequential.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace streamlearn::eval {

namespace {

constexpr double kMinProbability = 1e-15;
constexpr uint32_t kSnapshotMagic = 0x51504c53;  // "SLPQ", little-endian
constexpr uint32_t kSnapshotVersion = 1;

double Ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

PrequentialBinary::PrequentialBinary(size_t rolling_window)
    : window_(std::max<size_t>(rolling_window, 1), 0) {}

void PrequentialBinary::update(double score, int predicted_class, int label) {
  const bool positive = label != 0;
  const bool correct = (predicted_class != 0) == positive;

  // The baseline predicts from the labels before this one: test, then train.
  const bool majority_positive = positives_ > count_ - positives_;
  majority_correct_ += majority_positive == positive;
  positives_ += positive;

  ++count_;
  correct_ += correct;

  const double p = std::isnan(score) ? 0.5 : std::clamp(score, kMinProbability, 1 - kMinProbability);
  log_loss_sum_ -= positive ? std::log(p) : std::log1p(-p);

  if (window_filled_ == window_.size()) {
    window_correct_ -= window_[window_next_];
  } else {
    ++window_filled_;
  }
  window_[window_next_] = correct ? 1 : 0;
  window_correct_ += correct;
  window_next_ = window_next_ + 1 == window_.size() ? 0 : window_next_ + 1;
}

double PrequentialBinary::accuracy() const { return Ratio(correct_, count_); }

double PrequentialBinary::rolling_accuracy() const { return Ratio(window_correct_, window_filled_); }

double PrequentialBinary::log_loss() const {
  return count_ == 0 ? 0.0 : log_loss_sum_ / static_cast<double>(count_);
}

double PrequentialBinary::majority_baseline_accuracy() const { return Ratio(majority_correct_, count_); }

// Layout: magic u32 | version u32 | count u64 | correct u64 | log_loss_sum f64
//   | positives u64 | majority_correct u64 | window size u64 | filled u64
//   | filled x u8 outcomes, oldest first
void PrequentialBinary::save(ByteWriter& out) const {
  out.u32(kSnapshotMagic);
  out.u32(kSnapshotVersion);
  out.u64(count_);
  out.u64(correct_);
  out.f64(log_loss_sum_);
  out.u64(positives_);
  out.u64(majority_correct_);
  out.u64(window_.size());
  out.u64(window_filled_);
  const size_t oldest = (window_next_ + window_.size() - window_filled_) % window_.size();
  for (size_t k = 0; k < window_filled_; ++k) out.u8(window_[(oldest + k) % window_.size()]);
}

Status PrequentialBinary::load(ByteReader& in) {
  const auto corrupt = [](const std::string& what) {
    return Status::Corruption("prequential metrics snapshot: " + what);
  };
  const uint32_t magic = in.u32();
  const uint32_t version = in.u32();
  if (!in.ok()) return corrupt("truncated header");
  if (magic != kSnapshotMagic) return corrupt("not prequential metrics");
  if (version != kSnapshotVersion) {
    return corrupt("format version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kSnapshotVersion));
  }
  const uint64_t count = in.u64();
  const uint64_t correct = in.u64();
  const double log_loss_sum = in.f64();
  const uint64_t positives = in.u64();
  const uint64_t majority_correct = in.u64();
  const uint64_t saved_window = in.u64();
  const uint64_t filled = in.u64();
  if (!in.ok()) return corrupt("truncated header");
  if (correct > count || positives > count || majority_correct > count) return corrupt("counts exceed the total");
  if (!(log_loss_sum >= 0) || !std::isfinite(log_loss_sum)) return corrupt("bad log loss sum");
  if (filled > saved_window || filled > count || filled > in.remaining()) return corrupt("bad window size");

  std::vector<uint8_t> outcomes(filled);
  in.raw(outcomes.data(), outcomes.size());
  if (!in.ok()) return corrupt("truncated window");
  if (std::any_of(outcomes.begin(), outcomes.end(), [](uint8_t v) { return v > 1; })) {
    return corrupt("bad window outcome");
  }

  const size_t keep = std::min<size_t>(outcomes.size(), window_.size());
  std::fill(window_.begin(), window_.end(), 0);
  std::copy(outcomes.end() - static_cast<std::ptrdiff_t>(keep), outcomes.end(), window_.begin());
  window_next_ = keep % window_.size();
  window_filled_ = keep;
  window_correct_ = static_cast<uint64_t>(std::count(window_.begin(), window_.end(), 1));
  count_ = count;
  correct_ = correct;
  log_loss_sum_ = log_loss_sum;
  positives_ = positives;
  majority_correct_ = majority_correct;
  return Status::Ok();
}

}  // namespace streamlearn::eval

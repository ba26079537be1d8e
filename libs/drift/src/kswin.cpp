#include "streamlearn/drift/kswin.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "io.hpp"

// Follows river/drift/kswin.py, and scipy.stats.ks_2samp for the test River calls.

namespace streamlearn::drift {
namespace {

constexpr uint32_t kFormatVersion = 1;
// scipy's method="auto" is exact up to this sample size, asymptotic beyond; only the
// exact branch is ported, so larger statistic windows are refused.
constexpr int kMaxExactSize = 10000;
// Bounds what a snapshot can make us allocate.
constexpr int kMaxWindowSize = 1 << 24;

// scipy.stats._stats_py._compute_prob_outside_square(n, h): Pr(D_{n,n} >= h / n) for two
// samples of n values, by a Horner-like evaluation of the alternating binomial series,
// in scipy's operand order.
double ProbOutsideSquare(int64_t n, int64_t h) {
  double p = 0.0;
  int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(n) / static_cast<double>(h)));
  while (k >= 0) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
    --k;
  }
  return 2 * p;
}

uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

uint64_t AbsSeed(int64_t seed) {
  // CPython seeds with abs(seed); the magnitude of INT64_MIN still fits in 64 bits.
  return seed < 0 ? uint64_t{0} - static_cast<uint64_t>(seed) : static_cast<uint64_t>(seed);
}

}  // namespace

KsResult KsTwoSampleEqualSizes(std::vector<double> a, std::vector<double> b) {
  // ks_2samp: sort both; cdf_i(v) = searchsorted(data_i, v, 'right') / n at every value v
  // of either sample; D = max |cdf1 - cdf2|. With equal sizes scipy's exact branch
  // recovers h = round(D * n), the largest difference in counts, and reports D = h / n.
  const size_t n = a.size();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  int64_t h = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < n) {
    // The next distinct value; both counts advance past every copy of it.
    double v;
    if (j >= n || (i < n && a[i] <= b[j])) {
      v = a[i];
    } else {
      v = b[j];
    }
    while (i < n && a[i] <= v) ++i;
    while (j < n && b[j] <= v) ++j;
    const int64_t diff = static_cast<int64_t>(i) - static_cast<int64_t>(j);
    h = std::max(h, diff < 0 ? -diff : diff);
  }
  KsResult result;
  result.statistic = static_cast<double>(h) * 1.0 / static_cast<double>(n);
  if (h == 0) {
    result.p_value = 1.0;
    return result;
  }
  const double prob = ProbOutsideSquare(static_cast<int64_t>(n), h);
  // scipy: a result outside [0, 1] (rounding, only for h <= 5 where p ~ 1) makes it fall
  // back to the asymptotic kstwo.sf, >= 0.99996 there; we clip to 1 (see kswin.hpp).
  result.p_value = std::clamp(prob, 0.0, 1.0);
  return result;
}

Status KswinParams::validate() const {
  if (!(alpha >= 0 && alpha <= 1)) {
    return Status::Invalid("kswin: alpha must be between 0 and 1, got " + std::to_string(alpha));
  }
  if (window_size < 0 || window_size > kMaxWindowSize) {
    return Status::Invalid("kswin: window_size must be in [0, " + std::to_string(kMaxWindowSize) +
                           "], got " + std::to_string(window_size));
  }
  if (window_size < stat_size) {
    return Status::Invalid("kswin: stat_size must be smaller than window_size, got stat_size " +
                           std::to_string(stat_size) + " > window_size " +
                           std::to_string(window_size));
  }
  // River accepts these but fails on the first full window: random.sample cannot draw
  // stat_size values out of fewer, and ks_2samp refuses empty samples.
  if (stat_size < 1) {
    return Status::Invalid("kswin: stat_size must be >= 1, got " + std::to_string(stat_size));
  }
  if (window_size - stat_size < stat_size) {
    return Status::Invalid(
        "kswin: window_size must be at least 2 * stat_size (the reference sample of stat_size "
        "values is drawn from the older window_size - stat_size), got window_size " +
        std::to_string(window_size) + ", stat_size " + std::to_string(stat_size));
  }
  if (stat_size > kMaxExactSize) {
    return Status::Invalid("kswin: stat_size must be <= " + std::to_string(kMaxExactSize) +
                           " (scipy's exact test), got " + std::to_string(stat_size));
  }
  for (double v : window) {
    if (!std::isfinite(v)) return Status::Invalid("kswin: window values must be finite");
  }
  return Status::Ok();
}

Kswin::Kswin() : Kswin(KswinParams{}) {}

Kswin::Kswin(const KswinParams& params)
    : params_(params), effective_seed_(params.seed ? AbsSeed(*params.seed) : RandomSeed()) {
  clear();
  // River: `if window: self.window = deque(window, maxlen=window_size)`, at construction
  // only (a drift's reset starts from an empty window).
  for (double v : params_.window) push(v);
}

Result<Kswin> Kswin::Create(const KswinParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return Kswin(params);
}

Result<std::unique_ptr<DriftDetector>> MakeKswin(const KswinParams& params) {
  Result<Kswin> made = Kswin::Create(params);
  if (!made.ok()) return made.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<Kswin>(std::move(made).value()));
}

void Kswin::clear() {
  p_value_ = 0;
  statistic_ = 0;
  n_ = 0;
  ring_.assign(static_cast<size_t>(params_.window_size), 0.0);
  head_ = 0;
  size_ = 0;
  rng_.seed(effective_seed_);
  drift_detected_ = false;
}

void Kswin::reset() {
  clear();
  for (double v : params_.window) push(v);
  lifetime_detections_ = 0;
}

void Kswin::push(double x) {
  const size_t capacity = ring_.size();
  if (capacity == 0) return;
  if (size_ < capacity) {
    ring_[(head_ + size_) % capacity] = x;
    ++size_;
  } else {  // deque(maxlen): the oldest value falls out
    ring_[head_] = x;
    head_ = (head_ + 1) % capacity;
  }
}

std::vector<double> Kswin::window() const {
  std::vector<double> out;
  out.reserve(size_);
  for (size_t i = 0; i < size_; ++i) out.push_back(ring_[(head_ + i) % ring_.size()]);
  return out;
}

DriftLevel Kswin::update(double x) {
  if (!std::isfinite(x)) return DriftLevel::kNone;  // a NaN would break the ordering
  if (drift_detected_) clear();

  ++n_;
  push(x);
  const size_t window_size = static_cast<size_t>(params_.window_size);
  const size_t stat_size = static_cast<size_t>(params_.stat_size);
  if (size_ >= window_size && window_size > 0) {
    auto at = [&](size_t i) { return ring_[(head_ + i) % window_size]; };
    const std::vector<uint32_t> picks = rng_.sample_range(
        static_cast<uint32_t>(window_size - stat_size), static_cast<uint32_t>(stat_size));
    std::vector<double> rnd_window;
    rnd_window.reserve(stat_size);
    for (uint32_t r : picks) rnd_window.push_back(at(r));
    std::vector<double> most_recent;
    most_recent.reserve(stat_size);
    for (size_t i = window_size - stat_size; i < window_size; ++i) most_recent.push_back(at(i));

    const KsResult ks = KsTwoSampleEqualSizes(std::move(rnd_window), std::move(most_recent));
    statistic_ = ks.statistic;
    p_value_ = ks.p_value;
    // River then keeps only the most recent values in the window, but the next update
    // resets it anyway, so that assignment never shows.
    drift_detected_ = p_value_ <= params_.alpha && ks.statistic > 0.1;
  } else {
    drift_detected_ = false;
  }
  if (!drift_detected_) return DriftLevel::kNone;
  ++lifetime_detections_;
  return DriftLevel::kDrift;
}

double Kswin::estimation() const {
  if (size_ == 0) return 0.0;
  double sum = 0;
  for (size_t i = 0; i < size_; ++i) sum += ring_[(head_ + i) % ring_.size()];
  return sum / static_cast<double>(size_);
}

std::vector<std::pair<std::string, double>> Kswin::stats() const {
  return {
      {"n", static_cast<double>(n_)},
      {"estimation", estimation()},
      {"window", static_cast<double>(size_)},
      {"p_value", p_value_},
      {"statistic", statistic_},
      {"seed", static_cast<double>(effective_seed_)},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

void Kswin::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.f64(params_.alpha);
  out.i64(params_.window_size);
  out.i64(params_.stat_size);
  out.u8(params_.seed ? 1 : 0);
  out.i64(params_.seed.value_or(0));
  out.u32(static_cast<uint32_t>(params_.window.size()));
  for (double v : params_.window) out.f64(v);
  out.u64(effective_seed_);
  rng_.save(out);
  const std::vector<double> values = window();
  out.u32(static_cast<uint32_t>(values.size()));
  for (double v : values) out.f64(v);
  out.i64(n_);
  out.f64(p_value_);
  out.f64(statistic_);
  out.u8(drift_detected_ ? 1 : 0);
  out.u64(lifetime_detections_);
}

Status Kswin::load(ByteReader& in) {
  SL_RETURN_IF_ERROR(io::ReadHeader(in, name(), kFormatVersion));
  auto corrupt = [this](const std::string& what) { return io::Corrupt(name(), what); };
  KswinParams p;
  p.alpha = in.f64();
  const bool fits = io::AsInt(in.i64(), &p.window_size) && io::AsInt(in.i64(), &p.stat_size);
  const uint8_t has_seed = in.u8();
  const int64_t seed = in.i64();
  const uint32_t initial = in.u32();
  if (!in.ok()) return corrupt("truncated");
  if (!fits) return corrupt("parameter out of range");
  if (has_seed > 1) return corrupt("bad flag");
  if (has_seed == 1) p.seed = seed;
  if (initial > in.remaining() / 8) return corrupt("truncated");
  for (uint32_t i = 0; i < initial; ++i) p.window.push_back(in.f64());
  if (Status st = p.validate(); !st.ok()) return corrupt(st.message());

  KswinParams seeded = p;
  seeded.window.clear();  // restored below from the saved window instead
  seeded.seed = 0;        // skip std::random_device; the saved seed follows
  Kswin loaded(seeded);
  loaded.params_ = p;
  loaded.effective_seed_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (p.seed && loaded.effective_seed_ != AbsSeed(*p.seed)) return corrupt("seed mismatch");
  if (!loaded.rng_.load(in)) return corrupt("bad generator state");
  const uint32_t count = in.u32();
  if (!in.ok()) return corrupt("truncated");
  if (count > static_cast<uint32_t>(p.window_size)) return corrupt("window over window_size");
  if (count > in.remaining() / 8) return corrupt("truncated");
  for (uint32_t i = 0; i < count; ++i) {
    const double v = in.f64();
    if (!io::Finite(v)) return corrupt("non-finite window value");
    loaded.push(v);
  }
  loaded.n_ = in.i64();
  loaded.p_value_ = in.f64();
  loaded.statistic_ = in.f64();
  const uint8_t drift = in.u8();
  loaded.lifetime_detections_ = in.u64();
  if (!in.ok()) return corrupt("truncated");
  if (!io::AsBool(drift, &loaded.drift_detected_)) return corrupt("bad flag");
  if (loaded.n_ < 0) return corrupt("negative counter");
  if (!(loaded.p_value_ >= 0 && loaded.p_value_ <= 1) ||
      !(loaded.statistic_ >= 0 && loaded.statistic_ <= 1)) {
    return corrupt("p-value or statistic out of [0, 1]");
  }
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

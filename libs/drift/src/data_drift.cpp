#include "streamlearn/drift/data_drift.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "streamlearn/core/short_name.hpp"
#include "io.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/drift/factory.hpp"
#include "streamlearn/drift/kswin.hpp"

namespace streamlearn::drift {
namespace {

constexpr std::string_view kRecordName = "data_drift";
constexpr uint32_t kFormatVersion = 3;  // 2: the numeric quantile reference; 3: calibration
constexpr uint32_t kOldestFormatVersion = 2;
constexpr uint32_t kMaxWindow = 10'000'000;
// Bin ids are uint16_t and bin 0 is "other".
constexpr uint32_t kMaxCategoriesLimit = 65'534;
constexpr uint32_t kMaxFeaturesLimit = 1'000'000;
// KSWIN's seed when the config gives none (River would draw one from os.urandom).
constexpr std::string_view kDefaultKswinSeed = "42";
// The smallest delta or alpha a false_alarm_rate turns into.
constexpr double kMinSignificance = 1e-12;
// River's ADWIN clock: values between two tests for a cut.
constexpr uint32_t kAdwinClockValues = 32;
// What the calibration measured: false alarms per value per unit of ADWIN's delta.
constexpr double kAdwinRatePerDelta = 2.6e-4;

// A double as text that parses back to the same value (detector parameters are text).
std::string ExactText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::map<std::string, std::string> DetectorParams(const DataDriftConfig& config) {
  std::map<std::string, std::string> params = config.numeric_params;
  if (config.numeric_detector == "kswin") params.emplace("seed", kDefaultKswinSeed);
  if (config.numeric_detector == "adwin" && config.numeric_block > 1) {
    // ADWIN tests every `clock` inputs; with blocks, every 32 values as without.
    params.emplace("clock", std::to_string(std::max<uint32_t>(1, kAdwinClockValues / config.numeric_block)));
    // A cut needs 2 blocks on each side (River: 5 values), so a large shift is still
    // found within about 3 blocks.
    params.emplace("min_window_length", "2");
  }
  if (config.false_alarm_rate > 0) {
    const double significance = config.numeric_detector == "adwin"
                                    ? AdwinDeltaForRate(config.false_alarm_rate, config.numeric_block)
                                    : KswinAlphaForRate(config.false_alarm_rate);
    params.emplace(config.numeric_detector == "adwin" ? "delta" : "alpha",
                   ExactText(significance));
  }
  return params;
}

double Share(uint32_t count, uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(total);
}

// One bin's PSI term; both shares floored at epsilon. 0 exactly when both are empty.
double PsiTerm(double reference_share, double current_share, double epsilon) {
  const double r = std::max(reference_share, epsilon);
  const double c = std::max(current_share, epsilon);
  return (c - r) * std::log(c / r);
}

// The first position in the sorted a[0, n) whose element is not below x (Strict: not
// below-or-equal, i.e. std::upper_bound). The comparison picks the half with a conditional
// move, not a branch: on values that land at random in the reference, a branch would be
// mispredicted at every other step, and the search ran three times slower.
template <bool kUpper>
size_t BranchlessBound(const double* a, size_t n, double x) {
  if (n == 0) return 0;
  const double* base = a;
  while (n > 1) {
    const size_t half = n / 2;
    const bool right = kUpper ? base[half] <= x : base[half] < x;
    base = right ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - a) + ((kUpper ? *base <= x : *base < x) ? 1 : 0);
}

uint64_t Sum(std::span<const uint32_t> counts) {
  return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}

void WriteU16(ByteWriter& out, uint16_t v) { out.raw(&v, sizeof v); }
uint16_t ReadU16(ByteReader& in) {
  uint16_t v = 0;
  in.raw(&v, sizeof v);
  return v;
}

}  // namespace

Status DataDriftConfig::validate() const {
  auto bad = [](const std::string& what) { return Status::Invalid("data drift: " + what); };
  if (numeric_detector != "adwin" && numeric_detector != "kswin") {
    return bad("numeric_detector '" + numeric_detector + "' is not one of: adwin, kswin");
  }
  Result<std::unique_ptr<DriftDetector>> probe = MakeDetector(numeric_detector,
                                                              DetectorParams(*this));
  if (!probe.ok()) return bad("numeric_params: " + probe.status().message());
  auto window = [&](const char* name, uint32_t v) -> Status {
    if (v < 1 || v > kMaxWindow) {
      return bad(std::string(name) + " must be in [1, " + std::to_string(kMaxWindow) +
                 "], got " + std::to_string(v));
    }
    return Status::Ok();
  };
  if (numeric_reference_size > kMaxWindow) {
    return bad("numeric_reference_size must be in [0, " + std::to_string(kMaxWindow) + "], got " +
               std::to_string(numeric_reference_size));
  }
  SL_RETURN_IF_ERROR(window("psi_reference_size", psi_reference_size));
  SL_RETURN_IF_ERROR(window("psi_current_size", psi_current_size));
  SL_RETURN_IF_ERROR(window("psi_eval_every", psi_eval_every));
  if (!(std::isfinite(psi_threshold) && psi_threshold > 0)) {
    return bad("psi_threshold must be a finite number > 0");
  }
  if (!(psi_epsilon > 0 && psi_epsilon < 1)) return bad("psi_epsilon must be in (0, 1)");
  if (max_categories < 1 || max_categories > kMaxCategoriesLimit) {
    return bad("max_categories must be in [1, " + std::to_string(kMaxCategoriesLimit) + "]");
  }
  if (max_features < 1 || max_features > kMaxFeaturesLimit) {
    return bad("max_features must be in [1, " + std::to_string(kMaxFeaturesLimit) + "]");
  }
  if (!(false_alarm_rate >= 0 && false_alarm_rate <= kMaxFalseAlarmRate)) {
    return bad("false_alarm_rate must be in [0, " + ExactText(kMaxFalseAlarmRate) + "]");
  }
  SL_RETURN_IF_ERROR(window("numeric_block", numeric_block));
  return Status::Ok();
}

double AdwinDeltaForRate(double rate, uint32_t /*numeric_block*/) {
  // Measured with data_drift_calibration (block 32, min_window_length 2, 4,000,000
  // values a point) on the worst stationary kind, AR(1) with phi 0.9: rate = 2.6e-4 *
  // delta from delta 0.01 to 0.9; independent values alarm 15 to 30 times less. Inverted
  // with a margin of 2. The block does not enter: ADWIN tests every 32 values whatever
  // the block (its clock follows it).
  if (rate <= 0) return kMinSignificance;
  return std::clamp(rate / (2 * kAdwinRatePerDelta), kMinSignificance, 0.9);
}

double KswinAlphaForRate(double rate) {
  // KSWIN tests at every value: on independent values it alarmed 0.45 times per alpha
  // per value (alpha 1e-4 and 1e-5, 200,000 values of five kinds). On autocorrelated ones
  // it alarms all the time whatever alpha (its windows are 100 values): use ADWIN there.
  return std::clamp(rate, kMinSignificance, 0.5);
}

double MidRankQuantile(std::span<const double> sorted, double value) {
  const size_t n = sorted.size();
  if (n == 0 || std::isnan(value)) return 0.5;
  const size_t lo = BranchlessBound<false>(sorted.data(), n, value);
  const size_t hi = lo < n && sorted[lo] == value ? lo + BranchlessBound<true>(sorted.data() + lo, n - lo, value) : lo;
  return (static_cast<double>(lo) + static_cast<double>(hi)) / (2.0 * static_cast<double>(n));
}

double MidRankQuantile(std::span<const double> sorted, std::span<const double> block_lasts, double value) {
  const size_t n = sorted.size();
  if (block_lasts.size() != (n + kQuantileBlock - 1) / kQuantileBlock) return MidRankQuantile(sorted, value);
  if (n == 0 || std::isnan(value)) return 0.5;
  // Every value of a block whose last value is below `value` is below it; the first value
  // not below it is in the first block whose last value is not (none: all are below).
  const size_t block = BranchlessBound<false>(block_lasts.data(), block_lasts.size(), value);
  size_t lo = n;
  if (block < block_lasts.size()) {
    const size_t begin = block * kQuantileBlock;
    lo = begin + BranchlessBound<false>(sorted.data() + begin, std::min(kQuantileBlock, n - begin), value);
  }
  // Ties: the first value above `value` is found the same way (the first block whose last
  // value is above it), not by a search over the rest of the reference, which with a
  // cold reference took a cache miss at nearly every halving.
  size_t hi = lo;
  if (lo < n && sorted[lo] == value) {
    const size_t above = BranchlessBound<true>(block_lasts.data(), block_lasts.size(), value);
    hi = n;
    if (above < block_lasts.size()) {
      const size_t begin = above * kQuantileBlock;
      hi = begin + BranchlessBound<true>(sorted.data() + begin, std::min(kQuantileBlock, n - begin), value);
    }
  }
  return (static_cast<double>(lo) + static_cast<double>(hi)) / (2.0 * static_cast<double>(n));
}

void QuantileBlockLasts(std::span<const double> sorted, std::vector<double>* out) {
  out->clear();
  for (size_t end = kQuantileBlock; end - kQuantileBlock < sorted.size(); end += kQuantileBlock) {
    out->push_back(sorted[std::min(end, sorted.size()) - 1]);
  }
}

double PopulationStabilityIndex(std::span<const uint32_t> reference_counts,
                                std::span<const uint32_t> current_counts, double epsilon) {
  const uint64_t reference_n = Sum(reference_counts);
  const uint64_t current_n = Sum(current_counts);
  const size_t bins = std::max(reference_counts.size(), current_counts.size());
  double psi = 0;
  for (size_t b = 0; b < bins; ++b) {
    const uint32_t r = b < reference_counts.size() ? reference_counts[b] : 0;
    const uint32_t c = b < current_counts.size() ? current_counts[b] : 0;
    psi += PsiTerm(Share(r, reference_n), Share(c, current_n), epsilon);
  }
  return psi;
}

DataDriftMonitor::DataDriftMonitor(DataDriftConfig config)
    : config_(std::move(config)),
      detector_params_(DetectorParams(config_)),
      block_stretch_(std::sqrt(static_cast<double>(config_.numeric_block))) {}
DataDriftMonitor::DataDriftMonitor(DataDriftMonitor&&) noexcept = default;
DataDriftMonitor& DataDriftMonitor::operator=(DataDriftMonitor&&) noexcept = default;
DataDriftMonitor::~DataDriftMonitor() = default;

Result<DataDriftMonitor> DataDriftMonitor::Create(const DataDriftConfig& config) {
  SL_RETURN_IF_ERROR(config.validate());
  return DataDriftMonitor(config);
}

Result<std::unique_ptr<DriftDetector>> DataDriftMonitor::make_detector() const {
  return MakeDetector(config_.numeric_detector, detector_params_);
}

int32_t DataDriftMonitor::numeric_slot(std::string_view feature) {
  // Events of one producer name their features in the same order: the feature that followed
  // the last one looked up is checked first, a string comparison instead of a hash lookup.
  // A null feature is not among the event's numbers, so the few after it are tried too.
  // The order is learned as it comes (slots are in order of first appearance, which a
  // null in the first events shuffles).
  constexpr int kMaxSkipped = 4;
  const auto size = static_cast<uint32_t>(numeric_.size());
  uint32_t slot = last_numeric_ < size ? numeric_[last_numeric_].next : 0;
  for (int k = 0; k <= kMaxSkipped && slot < size; ++k) {
    if (SameShortName(numeric_[slot].name, feature)) {
      last_numeric_ = slot;
      return static_cast<int32_t>(slot);
    }
    slot = numeric_[slot].next;
  }
  int32_t found = 0;
  if (auto it = numeric_slot_of_.find(feature); it != numeric_slot_of_.end()) {
    found = static_cast<int32_t>(it->second);
  } else {
    found = add_numeric(feature);
    if (found < 0) return found;
  }
  if (last_numeric_ < numeric_.size()) numeric_[last_numeric_].next = static_cast<uint32_t>(found);
  last_numeric_ = static_cast<uint32_t>(found);
  return found;
}

int32_t DataDriftMonitor::add_numeric(std::string_view feature) {
  if (tracked_features() >= config_.max_features) return kIgnored;
  Result<std::unique_ptr<DriftDetector>> made = make_detector();
  if (!made.ok()) return kIgnored;  // cannot happen: Create validated these parameters
  NumericFeature f;
  f.name = std::string(feature);
  f.detector = std::move(made).value();
  f.adwin = dynamic_cast<Adwin*>(f.detector.get());
  f.kswin = dynamic_cast<Kswin*>(f.detector.get());
  const auto slot = static_cast<uint32_t>(numeric_.size());
  numeric_.push_back(std::move(f));
  numeric_slot_of_.emplace(std::string(feature), slot);
  return static_cast<int32_t>(slot);
}

int32_t DataDriftMonitor::categorical_slot(std::string_view feature) {
  uint32_t slot = categorical_hint_;  // as numeric_slot()
  if (slot >= categorical_.size() || !SameShortName(categorical_[slot].name, feature)) {
    auto it = categorical_slot_of_.find(feature);
    if (it == categorical_slot_of_.end()) return add_categorical(feature);
    slot = it->second;
  }
  categorical_hint_ = slot + 1 == categorical_.size() ? 0 : slot + 1;
  return static_cast<int32_t>(slot);
}

int32_t DataDriftMonitor::add_categorical(std::string_view feature) {
  if (tracked_features() >= config_.max_features) return kIgnored;
  CategoricalFeature f;
  f.name = std::string(feature);
  f.bin_names.emplace_back();  // bin 0: "other"
  f.reference.push_back(0);
  f.current.push_back(0);
  const auto slot = static_cast<uint32_t>(categorical_.size());
  categorical_.push_back(std::move(f));
  categorical_slot_of_.emplace(std::string(feature), slot);
  return static_cast<int32_t>(slot);
}

int32_t DataDriftMonitor::cached_slot(std::vector<int32_t>& cache, uint32_t id,
                                      FeatureKind kind, std::string_view feature) {
  auto resolve = [&] {
    return kind == FeatureKind::kNumeric ? numeric_slot(feature) : categorical_slot(feature);
  };
  if (id >= kMaxCachedId) return resolve();
  if (id >= cache.size()) cache.resize(static_cast<size_t>(id) + 1, kUnbound);
  if (cache[id] == kUnbound) cache[id] = resolve();
  return cache[id];
}

std::optional<DataDriftEvent> DataDriftMonitor::observe_numeric(std::string_view feature,
                                                                double value) {
  return feed_numeric(numeric_slot(feature), value);
}

std::optional<DataDriftEvent> DataDriftMonitor::observe_numeric(uint32_t id,
                                                                std::string_view feature,
                                                                double value) {
  return feed_numeric(cached_slot(numeric_id_cache_, id, FeatureKind::kNumeric, feature), value);
}

std::optional<DataDriftEvent> DataDriftMonitor::observe_categorical(std::string_view feature,
                                                                    std::string_view value) {
  return feed_categorical(categorical_slot(feature), value);
}

std::optional<DataDriftEvent> DataDriftMonitor::observe_categorical(uint32_t id,
                                                                    std::string_view feature,
                                                                    std::string_view value) {
  return feed_categorical(
      cached_slot(categorical_id_cache_, id, FeatureKind::kCategorical, feature), value);
}

std::optional<DataDriftEvent> DataDriftMonitor::feed_numeric(int32_t slot, double value) {
  if (slot < 0) {
    ++ignored_values_;
    return std::nullopt;
  }
  NumericFeature& f = numeric_[static_cast<size_t>(slot)];
  if (!std::isfinite(value)) {
    ++f.non_finite;
    ++non_finite_values_;
    return std::nullopt;
  }
  ++f.observations;
  double fed = value;
  const bool quantiles = f.adwin != nullptr && config_.numeric_reference_size > 0;
  if (quantiles) {
    if (!f.reference_ready) {
      f.reference.push_back(value);
      f.reference_sum += value;
      if (f.reference.size() < config_.numeric_reference_size) return std::nullopt;
      std::sort(f.reference.begin(), f.reference.end());
      QuantileBlockLasts(f.reference, &f.reference_block_lasts);
      f.reference_ready = true;
      return std::nullopt;
    }
    fed = MidRankQuantile(f.reference, f.reference_block_lasts, value);
    f.since_reference_sum += value;
    f.since_reference++;
    if (f.recent.size() < kRecentValues) {
      f.recent.push_back(value);
    } else {
      f.recent[f.recent_next] = value;
    }
    f.recent_next = (f.recent_next + 1) % kRecentValues;
  }
  if (f.adwin != nullptr && config_.numeric_block > 1) {
    // ADWIN sees block means: fewer tests, and a feature whose values come in runs (a
    // cyclical counter) is compared over whole runs instead of one run against the rest.
    f.block_sum += fed;
    if (++f.block_n < config_.numeric_block) return std::nullopt;
    // Stretched by sqrt(block) around 0.5: the mean of `block` independent uniform
    // quantiles then varies as much as one quantile does, so ADWIN's bound (made for one
    // value in [0, 1]) needs as many values for a shift as without blocks.
    const double mean = f.block_sum / static_cast<double>(f.block_n);
    fed = 0.5 + (mean - 0.5) * block_stretch_;
    f.block_sum = 0;
    f.block_n = 0;
  }
  // ADWIN's window before this update, to recover the part a drift drops. After a drift
  // ADWIN starts this update from an empty window (River), so "before" is empty then.
  double width_before = 0;
  double total_before = 0;
  if (f.adwin != nullptr && !f.adwin->drift_detected()) {
    width_before = f.adwin->width();
    total_before = f.adwin->total();
  }
  if (f.detector->update(fed) != DriftLevel::kDrift) return std::nullopt;
  const bool publish = may_alarm(f.observations, f.last_alarm_at);
  if (!publish) {
    ++f.suppressed;
  } else {
    ++f.alarms;
    ++alarms_;
    f.last_alarm_at = f.observations;
  }

  DataDriftEvent event;
  event.feature = f.name;
  event.kind = FeatureKind::kNumeric;
  event.detector = std::string(f.detector->name());
  event.observations = f.observations;
  event.alarms = f.alarms;
  event.stats = f.detector->stats();
  if (f.adwin != nullptr) {
    // The window kept (W1) is what ADWIN holds now; the dropped part (W0) is the rest.
    const double block = config_.numeric_block;
    const double kept = f.adwin->width() * block;
    const double dropped = (width_before + 1) * block - kept;
    event.current_count = static_cast<uint64_t>(kept);
    event.reference_count = static_cast<uint64_t>(dropped);
    event.current_mean = f.adwin->estimation();
    event.reference_mean = dropped > 0 ? (total_before + fed - f.adwin->total()) * block / dropped : 0;
    event.statistic = std::abs(event.current_mean - event.reference_mean);
    event.threshold = f.adwin->params().delta;
    if (quantiles) {
      // The two sides in quantiles of the reference go to stats; the means reported are in
      // the feature's own units: the reference sample's, and everything seen after it.
      event.stats.emplace_back("quantile_before", event.reference_mean);
      event.stats.emplace_back("quantile_after", event.current_mean);
      event.reference_count = f.reference.size();
      event.reference_mean = f.reference_sum / static_cast<double>(f.reference.size());
      // The part ADWIN kept, in raw values: its newest min(kept, kRecentValues) values.
      const size_t n = std::min<size_t>({static_cast<size_t>(kept), f.recent.size(), kRecentValues});
      double sum = 0;
      for (size_t k = 1; k <= n; ++k) sum += f.recent[(f.recent_next + kRecentValues - k) % kRecentValues];
      event.current_count = n;
      event.current_mean = n > 0 ? sum / static_cast<double>(n) : 0;
      // A new regime becomes the reference: rebuilt from the values that follow.
      f.reference.clear();
      f.reference_block_lasts.clear();
      f.reference_ready = false;
      f.reference_sum = 0;
      f.since_reference_sum = 0;
      f.since_reference = 0;
      f.recent.clear();
      f.recent_next = 0;
    }
    if (!publish) return std::nullopt;
  } else if (f.kswin != nullptr) {
    // At the drift update KSWIN still holds its full window (it clears on the next one).
    const std::vector<double> window = f.kswin->window();
    const size_t recent = std::min(window.size(),
                                   static_cast<size_t>(f.kswin->params().stat_size));
    const size_t older = window.size() - recent;
    const double older_sum = std::accumulate(window.begin(), window.begin() + older, 0.0);
    const double recent_sum = std::accumulate(window.begin() + older, window.end(), 0.0);
    event.reference_count = older;
    event.current_count = recent;
    event.reference_mean = older == 0 ? 0 : older_sum / static_cast<double>(older);
    event.current_mean = recent == 0 ? 0 : recent_sum / static_cast<double>(recent);
    event.statistic = f.kswin->statistic();
    event.threshold = f.kswin->params().alpha;
  }
  if (!publish) return std::nullopt;
  return event;
}

std::optional<DataDriftEvent> DataDriftMonitor::feed_categorical(int32_t slot,
                                                                 std::string_view value) {
  if (slot < 0) {
    ++ignored_values_;
    return std::nullopt;
  }
  CategoricalFeature& f = categorical_[static_cast<size_t>(slot)];
  uint16_t bin = 0;
  if (auto it = f.bin_of.find(value); it != f.bin_of.end()) {
    bin = it->second;
  } else if (f.bin_names.size() - 1 < config_.max_categories) {
    bin = static_cast<uint16_t>(f.bin_names.size());
    f.bin_of.emplace(std::string(value), bin);
    f.bin_names.emplace_back(value);
    f.reference.push_back(0);
    f.current.push_back(0);
  } else {
    ++f.pooled;  // bin 0
  }
  ++f.observations;

  if (!f.reference_ready) {
    ++f.reference[bin];
    if (++f.reference_n >= config_.psi_reference_size) f.reference_ready = true;
    return std::nullopt;
  }

  // The sliding current window. While it fills, ring_head stays 0.
  const uint32_t capacity = config_.psi_current_size;
  if (f.ring.size() != capacity) f.ring.assign(capacity, 0);  // once, at the first value
  if (f.ring_size == capacity) {
    --f.current[f.ring[f.ring_head]];
    f.ring[f.ring_head] = bin;
    f.ring_head = f.ring_head + 1 == capacity ? 0 : f.ring_head + 1;
  } else {
    f.ring[f.ring_size++] = bin;
  }
  ++f.current[bin];
  ++f.current_seen;
  if (f.ring_size < capacity || (f.current_seen - capacity) % config_.psi_eval_every != 0) {
    return std::nullopt;
  }

  const double psi = PopulationStabilityIndex(f.reference, f.current, config_.psi_epsilon);
  ++f.evaluations;
  f.last_psi = psi;
  f.max_psi = std::max(f.max_psi, psi);
  if (!(psi > config_.psi_threshold)) return std::nullopt;
  std::optional<DataDriftEvent> event;
  if (may_alarm(f.observations, f.last_alarm_at)) {
    ++f.alarms;
    ++alarms_;
    f.last_alarm_at = f.observations;
    event = psi_event(f, psi);
  } else {
    ++f.suppressed;
  }

  // Cool-down: start over as at the start, with a reference made of the values that
  // follow the alarm. Not the current window as it stands: a sliding window crosses the
  // threshold while only part of it has changed, and that mix against the fully changed
  // window a little later is a second alarm for the same change (0.7/0.2/0.1 ->
  // 0.2/0.2/0.6: alarm at about 30 % changed, then PSI(mix, new) = 0.66).
  std::fill(f.reference.begin(), f.reference.end(), 0u);
  f.reference_n = 0;
  f.reference_ready = false;
  std::fill(f.current.begin(), f.current.end(), 0u);
  f.ring_head = 0;
  f.ring_size = 0;
  f.current_seen = 0;
  return event;
}

bool DataDriftMonitor::may_alarm(uint64_t observations, uint64_t last_alarm_at) const {
  if (observations <= config_.warmup) return false;
  return last_alarm_at == 0 || observations - last_alarm_at > config_.cooldown;
}

DataDriftEvent DataDriftMonitor::psi_event(const CategoricalFeature& f, double psi) const {
  DataDriftEvent event;
  event.feature = f.name;
  event.kind = FeatureKind::kCategorical;
  event.detector = "psi";
  event.statistic = psi;
  event.threshold = config_.psi_threshold;
  event.observations = f.observations;
  event.alarms = f.alarms;
  event.reference_count = f.reference_n;
  event.current_count = f.ring_size;

  std::vector<CategoryShare> bins;
  for (size_t b = 0; b < f.bin_names.size(); ++b) {
    if (f.reference[b] == 0 && f.current[b] == 0) continue;
    CategoryShare share;
    share.category = b == 0 ? std::string(kOtherCategory) : f.bin_names[b];
    share.reference_share = Share(f.reference[b], f.reference_n);
    share.current_share = Share(f.current[b], f.ring_size);
    share.contribution = PsiTerm(share.reference_share, share.current_share,
                                 config_.psi_epsilon);
    bins.push_back(std::move(share));
  }
  // Largest terms first; stable, so ties keep first-seen order (deterministic).
  std::stable_sort(bins.begin(), bins.end(), [](const CategoryShare& a, const CategoryShare& b) {
    return a.contribution > b.contribution;
  });
  if (bins.size() > config_.top_categories) bins.resize(config_.top_categories);
  event.top_categories = std::move(bins);
  event.stats = {{"psi", psi},
                 {"threshold", config_.psi_threshold},
                 {"epsilon", config_.psi_epsilon},
                 {"bins", static_cast<double>(f.bin_names.size())},
                 {"pooled", static_cast<double>(f.pooled)}};
  return event;
}

FeatureDriftCounters DataDriftMonitor::counters_of(const NumericFeature& f) {
  FeatureDriftCounters c;
  c.feature = f.name;
  c.kind = FeatureKind::kNumeric;
  c.observations = f.observations;
  c.alarms = f.alarms;
  c.non_finite = f.non_finite;
  c.estimation = f.detector->estimation();
  c.suppressed = f.suppressed;
  return c;
}

FeatureDriftCounters DataDriftMonitor::counters_of(const CategoricalFeature& f) {
  FeatureDriftCounters c;
  c.feature = f.name;
  c.kind = FeatureKind::kCategorical;
  c.observations = f.observations;
  c.alarms = f.alarms;
  c.pooled = f.pooled;
  c.categories = static_cast<uint32_t>(f.bin_names.size() - 1);
  c.psi_evaluations = f.evaluations;
  c.last_psi = f.last_psi;
  c.max_psi = f.max_psi;
  c.suppressed = f.suppressed;
  return c;
}

std::vector<FeatureDriftCounters> DataDriftMonitor::counters() const {
  std::vector<FeatureDriftCounters> out;
  out.reserve(tracked_features());
  for (const NumericFeature& f : numeric_) out.push_back(counters_of(f));
  for (const CategoricalFeature& f : categorical_) out.push_back(counters_of(f));
  return out;
}

std::optional<FeatureDriftCounters> DataDriftMonitor::counters(FeatureKind kind,
                                                               std::string_view feature) const {
  if (kind == FeatureKind::kNumeric) {
    auto it = numeric_slot_of_.find(feature);
    if (it == numeric_slot_of_.end()) return std::nullopt;
    return counters_of(numeric_[it->second]);
  }
  auto it = categorical_slot_of_.find(feature);
  if (it == categorical_slot_of_.end()) return std::nullopt;
  return counters_of(categorical_[it->second]);
}

// Layout: name, version, config, totals, numeric features (name, counters, the
// detector's own record), categorical features (name, counters, bin names, reference
// counts, window state, the current window's bins oldest first). The current counts are
// not stored: they are recomputed from the window, so they cannot disagree with it.
void DataDriftMonitor::save(ByteWriter& out) const {
  out.str(kRecordName);
  out.u32(kFormatVersion);
  out.str(config_.numeric_detector);
  out.u32(static_cast<uint32_t>(config_.numeric_params.size()));
  for (const auto& [key, text] : config_.numeric_params) {
    out.str(key);
    out.str(text);
  }
  out.u32(config_.numeric_reference_size);
  out.u32(config_.psi_reference_size);
  out.u32(config_.psi_current_size);
  out.u32(config_.psi_eval_every);
  out.f64(config_.psi_threshold);
  out.f64(config_.psi_epsilon);
  out.u32(config_.max_categories);
  out.u32(config_.max_features);
  out.u32(config_.top_categories);
  out.f64(config_.false_alarm_rate);
  out.u32(config_.numeric_block);
  out.u32(config_.warmup);
  out.u32(config_.cooldown);

  out.u64(ignored_values_);
  out.u64(non_finite_values_);
  out.u64(alarms_);

  out.u32(static_cast<uint32_t>(numeric_.size()));
  for (const NumericFeature& f : numeric_) {
    out.str(f.name);
    out.u64(f.observations);
    out.u64(f.alarms);
    out.u64(f.non_finite);
    f.detector->save(out);
    out.u8(f.reference_ready ? 1 : 0);
    out.u32(static_cast<uint32_t>(f.reference.size()));
    for (double v : f.reference) out.f64(v);
    out.f64(f.reference_sum);
    out.f64(f.since_reference_sum);
    out.u64(f.since_reference);
    out.u32(static_cast<uint32_t>(f.recent.size()));
    out.u32(f.recent_next);
    for (double v : f.recent) out.f64(v);
    out.u64(f.suppressed);
    out.u64(f.last_alarm_at);
    out.f64(f.block_sum);
    out.u32(f.block_n);
  }

  out.u32(static_cast<uint32_t>(categorical_.size()));
  for (const CategoricalFeature& f : categorical_) {
    out.str(f.name);
    out.u64(f.observations);
    out.u64(f.alarms);
    out.u64(f.pooled);
    out.u64(f.evaluations);
    out.f64(f.last_psi);
    out.f64(f.max_psi);
    out.u32(static_cast<uint32_t>(f.bin_names.size()));
    for (size_t b = 1; b < f.bin_names.size(); ++b) out.str(f.bin_names[b]);
    for (uint32_t count : f.reference) out.u32(count);
    out.u8(f.reference_ready ? 1 : 0);
    out.u32(f.reference_n);
    out.u64(f.current_seen);
    out.u32(f.ring_size);
    for (uint32_t i = 0; i < f.ring_size; ++i) {
      const uint32_t at = f.ring_head + i;
      WriteU16(out, f.ring[at < f.ring.size() ? at : at - f.ring.size()]);
    }
    out.u64(f.suppressed);
    out.u64(f.last_alarm_at);
  }
}

Status DataDriftMonitor::load(ByteReader& in) {
  // Version 2 (before calibration) loads as an uncalibrated monitor.
  uint32_t version = kFormatVersion;
  {
    ByteReader probe = in;
    if (io::ReadHeader(probe, kRecordName, kOldestFormatVersion).ok()) version = kOldestFormatVersion;
  }
  SL_RETURN_IF_ERROR(io::ReadHeader(in, kRecordName, version));
  const bool calibrated = version >= 3;
  auto corrupt = [](const std::string& what) { return io::Corrupt(kRecordName, what); };
  auto truncated = [&] { return corrupt("truncated"); };

  DataDriftConfig config;
  config.numeric_detector = in.str();
  const uint32_t n_params = in.u32();
  if (!in.ok()) return truncated();
  if (n_params > in.remaining() / 8) return truncated();
  for (uint32_t i = 0; i < n_params; ++i) {
    std::string key = in.str();
    std::string text = in.str();
    if (!in.ok()) return truncated();
    if (!config.numeric_params.emplace(std::move(key), std::move(text)).second) {
      return corrupt("duplicate detector parameter");
    }
  }
  config.numeric_reference_size = in.u32();
  config.psi_reference_size = in.u32();
  config.psi_current_size = in.u32();
  config.psi_eval_every = in.u32();
  config.psi_threshold = in.f64();
  config.psi_epsilon = in.f64();
  config.max_categories = in.u32();
  config.max_features = in.u32();
  config.top_categories = in.u32();
  if (calibrated) {
    config.false_alarm_rate = in.f64();
    config.numeric_block = in.u32();
    config.warmup = in.u32();
    config.cooldown = in.u32();
  }
  if (!in.ok()) return truncated();
  if (Status st = config.validate(); !st.ok()) return corrupt("config: " + st.message());

  // Decoded into a fresh monitor, so a failure leaves *this untouched.
  DataDriftMonitor loaded(config);
  loaded.ignored_values_ = in.u64();
  loaded.non_finite_values_ = in.u64();
  loaded.alarms_ = in.u64();
  const uint32_t n_numeric = in.u32();
  if (!in.ok()) return truncated();
  if (n_numeric > config.max_features) return corrupt("more features than max_features");
  uint64_t alarm_sum = 0;
  uint64_t non_finite_sum = 0;
  for (uint32_t i = 0; i < n_numeric; ++i) {
    std::string name = in.str();
    const uint64_t observations = in.u64();
    const uint64_t feature_alarms = in.u64();
    const uint64_t feature_non_finite = in.u64();
    if (!in.ok()) return truncated();
    if (loaded.numeric_slot_of_.count(name) != 0) return corrupt("duplicate numeric feature");
    const int32_t slot = loaded.numeric_slot(name);
    if (slot < 0) return corrupt("cannot build the numeric detector");
    NumericFeature& f = loaded.numeric_[static_cast<size_t>(slot)];
    SL_RETURN_IF_ERROR(f.detector->load(in));  // a Corruption naming the detector
    f.reference_ready = in.u8() != 0;
    const uint32_t reference_n = in.u32();
    if (!in.ok() || reference_n > config.numeric_reference_size || reference_n > in.remaining() / 8) {
      return corrupt("numeric reference");
    }
    f.reference.resize(reference_n);
    for (double& v : f.reference) v = in.f64();
    f.reference_sum = in.f64();
    f.since_reference_sum = in.f64();
    f.since_reference = in.u64();
    const uint32_t recent_n = in.u32();
    f.recent_next = in.u32();
    if (!in.ok() || recent_n > kRecentValues || f.recent_next >= kRecentValues || recent_n > in.remaining() / 8) {
      return corrupt("numeric recent values");
    }
    f.recent.resize(recent_n);
    for (double& v : f.recent) v = in.f64();
    if (calibrated) {
      f.suppressed = in.u64();
      f.last_alarm_at = in.u64();
      f.block_sum = in.f64();
      f.block_n = in.u32();
    }
    if (!in.ok()) return truncated();
    if (f.block_n >= config.numeric_block || !std::isfinite(f.block_sum) || f.last_alarm_at > observations) {
      return corrupt("numeric block state");
    }
    if (f.reference_ready && (reference_n != config.numeric_reference_size ||
                              !std::is_sorted(f.reference.begin(), f.reference.end()))) {
      return corrupt("numeric reference");
    }
    if (f.reference_ready) QuantileBlockLasts(f.reference, &f.reference_block_lasts);
    if (feature_alarms > observations) return corrupt("more alarms than observations");
    f.observations = observations;
    f.alarms = feature_alarms;
    f.non_finite = feature_non_finite;
    alarm_sum += feature_alarms;
    non_finite_sum += feature_non_finite;
  }

  const uint32_t n_categorical = in.u32();
  if (!in.ok()) return truncated();
  if (n_categorical > config.max_features - n_numeric) {
    return corrupt("more features than max_features");
  }
  for (uint32_t i = 0; i < n_categorical; ++i) {
    std::string name = in.str();
    const uint64_t observations = in.u64();
    const uint64_t feature_alarms = in.u64();
    const uint64_t pooled = in.u64();
    const uint64_t evaluations = in.u64();
    const double last_psi = in.f64();
    const double max_psi = in.f64();
    const uint32_t n_bins = in.u32();
    if (!in.ok()) return truncated();
    if (loaded.categorical_slot_of_.count(name) != 0) {
      return corrupt("duplicate categorical feature");
    }
    if (n_bins < 1 || n_bins > config.max_categories + 1) return corrupt("bad bin count");
    if (n_bins > in.remaining() / 8) return truncated();
    if (!(last_psi >= 0 && max_psi >= last_psi && std::isfinite(max_psi))) {
      return corrupt("bad PSI figures");
    }
    if (feature_alarms > evaluations || evaluations > observations || pooled > observations) {
      return corrupt("inconsistent counters");
    }
    const int32_t slot = loaded.categorical_slot(name);
    if (slot < 0) return corrupt("more features than max_features");
    CategoricalFeature& f = loaded.categorical_[static_cast<size_t>(slot)];
    f.observations = observations;
    f.alarms = feature_alarms;
    f.pooled = pooled;
    f.evaluations = evaluations;
    f.last_psi = last_psi;
    f.max_psi = max_psi;
    for (uint32_t b = 1; b < n_bins; ++b) {
      std::string category = in.str();
      if (!in.ok()) return truncated();
      if (!f.bin_of.emplace(category, static_cast<uint16_t>(b)).second) {
        return corrupt("duplicate category");
      }
      f.bin_names.push_back(std::move(category));
    }
    f.reference.assign(n_bins, 0);
    f.current.assign(n_bins, 0);
    for (uint32_t& count : f.reference) count = in.u32();
    const uint8_t ready = in.u8();
    f.reference_n = in.u32();
    f.current_seen = in.u64();
    f.ring_size = in.u32();
    if (!in.ok()) return truncated();
    if (!io::AsBool(ready, &f.reference_ready)) return corrupt("bad flag");
    if (Sum(f.reference) != f.reference_n) return corrupt("reference counts do not add up");
    const uint32_t capacity = config.psi_current_size;
    if (!f.reference_ready) {
      if (f.reference_n >= config.psi_reference_size || f.ring_size != 0 ||
          f.current_seen != 0) {
        return corrupt("window state while the reference fills");
      }
    } else {
      if (f.reference_n != config.psi_reference_size) {
        return corrupt("reference of the wrong size");
      }
      if (f.ring_size > capacity || f.current_seen < f.ring_size ||
          (f.ring_size < capacity && f.current_seen != f.ring_size)) {
        return corrupt("bad current window size");
      }
      if (f.ring_size > in.remaining() / 2) return truncated();
      f.ring.assign(capacity, 0);
      for (uint32_t k = 0; k < f.ring_size; ++k) {
        const uint16_t bin = ReadU16(in);
        if (bin >= n_bins) return corrupt("bin out of range");
        f.ring[k] = bin;
        ++f.current[bin];
      }
      if (!in.ok()) return truncated();
    }
    if (calibrated) {
      f.suppressed = in.u64();
      f.last_alarm_at = in.u64();
      if (!in.ok()) return truncated();
      if (f.last_alarm_at > observations) return corrupt("alarm position");
    }
    alarm_sum += feature_alarms;
  }
  if (alarm_sum != loaded.alarms_ || non_finite_sum != loaded.non_finite_values_) {
    return corrupt("totals do not match the features");
  }
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

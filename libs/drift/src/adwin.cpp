#include "streamlearn/drift/adwin.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "adwin_scan.hpp"

// Follows River's AdaptiveWindowing (rust_src/adwin.rs, a bit-identical port of the
// Cython drift/adwin_c.pyx it replaced): expressions keep River's operand order, because
// a reordered sum or product rounds differently and can move a detection.

namespace streamlearn::drift {
namespace {

constexpr uint32_t kFormatVersion = 1;
// A row index is an exponent of two; 64 rows would already summarise 2^64 values.
constexpr uint32_t kMaxRows = 63;
// Rows hold max_buckets + 1 buckets for a moment before merging. Bifet's paper uses 5;
// far larger values buy nothing statistically, and the cap bounds what a snapshot can
// make us allocate.
constexpr int kMaxBucketsCap = 1024;

// 2^row and 2^-row for every row index, both exact in a double.
struct PowersOfTwo {
  double size[64];
  double inverse[64];
};
constexpr PowersOfTwo kPowersOfTwo = [] {
  PowersOfTwo p{};
  double size = 1.0, inverse = 1.0;
  for (int row = 0; row < 64; ++row, size *= 2.0, inverse *= 0.5) {
    p.size[row] = size;
    p.inverse[row] = inverse;
  }
  return p;
}();

double BucketSize(size_t row) { return kPowersOfTwo.size[row]; }

// x / 2^row without a division's latency: 2^-row is exact, so x * 2^-row and x / 2^row
// are the same real number rounded once, to the same double.
double DivideByBucketSize(double x, size_t row) { return x * kPowersOfTwo.inverse[row]; }

}  // namespace

Status AdwinParams::validate() const {
  if (!(delta > 0.0 && delta < 1.0)) {
    return Status::Invalid("adwin: delta must be in (0, 1), got " + std::to_string(delta));
  }
  if (clock < 1) {
    return Status::Invalid("adwin: clock must be >= 1, got " + std::to_string(clock));
  }
  // With one bucket per row a merge empties the row, so dropping the oldest bucket can
  // meet an empty row, which River's code does not handle. Two or more keep every row
  // non-empty.
  if (max_buckets < 2 || max_buckets > kMaxBucketsCap) {
    return Status::Invalid("adwin: max_buckets must be in [2, " + std::to_string(kMaxBucketsCap) +
                           "], got " + std::to_string(max_buckets));
  }
  if (min_window_length < 1) {
    return Status::Invalid("adwin: min_window_length must be >= 1, got " +
                           std::to_string(min_window_length));
  }
  if (grace_period < 0) {
    return Status::Invalid("adwin: grace_period must be >= 0, got " +
                           std::to_string(grace_period));
  }
  return Status::Ok();
}

Adwin::Adwin() : Adwin(AdwinParams{}) {}

Adwin::Adwin(const AdwinParams& params) : params_(params) { clear_window(); }

Result<Adwin> Adwin::Create(const AdwinParams& params) {
  SL_RETURN_IF_ERROR(params.validate());
  return Adwin(params);
}

Result<std::unique_ptr<DriftDetector>> MakeAdwin(const AdwinParams& params) {
  Result<Adwin> adwin = Adwin::Create(params);
  if (!adwin.ok()) return adwin.status();
  return std::unique_ptr<DriftDetector>(std::make_unique<Adwin>(std::move(adwin).value()));
}

// River's ADWIN rebuilds its helper from the parameters: everything but the parameters
// (and our lifetime counter) starts over.
Adwin::BucketRow Adwin::empty_row() const {
  BucketRow row;
  row.totals.resize(static_cast<size_t>(params_.max_buckets) + 1);
  row.variances.resize(static_cast<size_t>(params_.max_buckets) + 1);
  return row;
}

void Adwin::clear_window() {
  if (rows_.empty()) rows_.push_back(empty_row());
  rows_.resize(1);
  rows_[0].head = 0;
  rows_[0].count = 0;
  total_ = 0;
  variance_ = 0;
  width_ = 0;
  tick_ = 0;
  n_detections_ = 0;
  drift_detected_ = false;
}

void Adwin::reset() {
  clear_window();
  lifetime_detections_ = 0;
}

DriftLevel Adwin::update(double x) {
  // The one deliberate departure from River: a NaN or infinity would poison the window's
  // sums for good (every later test compares against NaN and fails), so it is ignored.
  if (!std::isfinite(x)) return DriftLevel::kNone;
  if (drift_detected_) clear_window();  // River: the update after a drift starts afresh
  insert_value(x);
  drift_detected_ = detect_change();
  if (!drift_detected_) return DriftLevel::kNone;
  ++lifetime_detections_;
  return DriftLevel::kDrift;
}

void Adwin::insert_value(double value) {
  rows_[0].push(value, 0.0);
  // Streaming update of the sum of squared deviations (Welford), in River's order.
  width_ += 1;
  double incremental_variance = 0.0;
  if (width_ > 1.0) {
    const double deviation = value - total_ / (width_ - 1.0);
    incremental_variance = (width_ - 1.0) * deviation * deviation / width_;
  }
  variance_ += incremental_variance;
  total_ += value;
  merge_full_rows();
}

// A row that reached max_buckets + 1 merges its two oldest buckets into one bucket of the
// next row, which may overflow in turn.
void Adwin::merge_full_rows() {
  const size_t full = static_cast<size_t>(params_.max_buckets) + 1;
  for (size_t row = 0; rows_[row].count == full; ++row) {
    const double n = BucketSize(row);
    const BucketRow& source = rows_[row];
    const size_t first = source.slot(0), second = source.slot(1);
    const double mean1 = DivideByBucketSize(source.totals[first], row);
    const double mean2 = DivideByBucketSize(source.totals[second], row);
    const double merged_total = source.totals[first] + source.totals[second];
    // n1 * n2 / (n1 + n2) == n / 2 for two buckets of equal size n.
    const double between = n * 0.5 * (mean1 - mean2) * (mean1 - mean2);
    const double merged_variance = source.variances[first] + source.variances[second] + between;

    if (row + 1 == rows_.size()) rows_.push_back(empty_row());
    rows_[row + 1].push(merged_total, merged_variance);
    rows_[row].drop_oldest(2);  // re-read: push_back may have moved rows_
    // The loop goes on only if that push filled the next row in turn.
  }
}

bool Adwin::detect_change() {
  bool change_detected = false;
  ++tick_;
  if (tick_ % params_.clock == 0 && width_ > params_.grace_period) {
    while (true) {
      // The bound's log term and the window's variance depend on the window as a whole:
      // once per scan, not per cut (the same arithmetic as River's, so the same values).
      const double delta_prime = std::log(2 * std::log(width_) / params_.delta);
      const adwin_scan::Bound bound{static_cast<double>(params_.min_window_length), delta_prime,
                                    variance_ / width_, 2.0 / 3.0 * delta_prime};
      // W0 grows from the oldest bucket; W1 is the rest of the window. The running sums
      // are River's, in River's order; the cuts they give are tested a run at a time
      // (adwin_scan.hpp), and only whether any fires matters: River drops the oldest
      // bucket at the first significant cut and scans again.
      constexpr size_t kRun = 64;
      double run_n0[kRun], run_n1[kRun], run_u0[kRun], run_u1[kRun];
      const adwin_scan::Cuts run{run_n0, run_n1, run_u0, run_u1, 0};
      size_t filled = 0;
      auto any_fires = [&] {
        adwin_scan::Cuts cuts = run;
        cuts.count = filled;
        filled = 0;
        return adwin_scan::FirstSignificantCut(cuts, bound) < cuts.count;
      };
      double n0 = 0.0;
      double n1 = width_;
      double u0 = 0.0;
      double u1 = total_;
      bool fired = false;
      for (size_t row = rows_.size(); row-- > 0 && !fired;) {
        const double size = BucketSize(row);
        const BucketRow& scanned = rows_[row];
        // The newest bucket always stays in W1: no cut after it.
        const size_t cut_count = row == 0 && scanned.count > 0 ? scanned.count - 1 : scanned.count;
        // The row's ring read as its two contiguous runs, oldest first.
        const double* totals = scanned.totals.data();
        const size_t before_wrap = std::min(cut_count, scanned.totals.size() - scanned.head);
        auto add_cuts = [&](const double* bucket_totals, size_t n) {
          for (size_t k = 0; k < n; ++k) {
            n0 += size;
            n1 -= size;
            u0 += bucket_totals[k];
            u1 -= bucket_totals[k];
            run_n0[filled] = n0;
            run_n1[filled] = n1;
            run_u0[filled] = u0;
            run_u1[filled] = u1;
            if (++filled == kRun && any_fires()) return true;
          }
          return false;
        };
        fired = add_cuts(totals + scanned.head, before_wrap) || add_cuts(totals, cut_count - before_wrap);
      }
      if (!fired && filled > 0) fired = any_fires();
      if (!fired) break;
      change_detected = true;
      // The window still holds its newest bucket, so there is always one to drop; the
      // check only keeps the loop finite on states the invariants rule out.
      if (!drop_oldest_bucket()) break;
    }
  }
  if (change_detected) ++n_detections_;
  return change_detected;
}

bool Adwin::drop_oldest_bucket() {
  BucketRow& oldest_row = rows_.back();
  if (oldest_row.count == 0) return false;  // cannot happen with max_buckets >= 2
  const double n = BucketSize(rows_.size() - 1);
  const double u = oldest_row.totals[oldest_row.head];
  const double v = oldest_row.variances[oldest_row.head];
  const double mu = DivideByBucketSize(u, rows_.size() - 1);

  width_ -= n;
  total_ -= u;
  const double mu_window = total_ / width_;
  const double incremental_variance =
      v + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
  variance_ -= incremental_variance;

  oldest_row.drop_oldest(1);
  if (oldest_row.count == 0) rows_.pop_back();
  return true;
}

std::vector<std::pair<std::string, double>> Adwin::stats() const {
  return {
      {"width", width_},
      {"estimation", estimation()},
      {"total", total_},
      {"variance", variance_},
      {"variance_in_window", width_ == 0 ? 0.0 : variance_ / width_},
      {"n_detections", static_cast<double>(n_detections_)},
      {"lifetime_detections", static_cast<double>(lifetime_detections_)},
  };
}

// Layout: name, format version, parameters, counters, window sums, then each row as a
// bucket count and (total, variance) pairs.
void Adwin::save(ByteWriter& out) const {
  out.str(name());
  out.u32(kFormatVersion);
  out.f64(params_.delta);
  out.i64(params_.clock);
  out.i64(params_.max_buckets);
  out.i64(params_.min_window_length);
  out.i64(params_.grace_period);
  out.u8(drift_detected_ ? 1 : 0);
  out.i64(tick_);
  out.i64(n_detections_);
  out.u64(lifetime_detections_);
  out.f64(total_);
  out.f64(variance_);
  out.f64(width_);
  out.u32(static_cast<uint32_t>(rows_.size()));
  for (const BucketRow& row : rows_) {
    out.u32(row.count);
    for (size_t k = 0; k < row.count; ++k) {
      out.f64(row.totals[row.slot(k)]);
      out.f64(row.variances[row.slot(k)]);
    }
  }
}

Status Adwin::load(ByteReader& in) {
  auto corrupt = [](const std::string& what) { return Status::Corruption("adwin state: " + what); };
  auto as_int = [](int64_t v, int* out) {
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
    *out = static_cast<int>(v);
    return true;
  };

  if (in.str() != name() || !in.ok()) return corrupt("not an adwin record");
  const uint32_t version = in.u32();
  if (!in.ok()) return corrupt("truncated");
  if (version != kFormatVersion) {
    return corrupt("unknown format version " + std::to_string(version));
  }

  // Decoded into a fresh detector, so a failure leaves *this untouched.
  Adwin loaded;
  AdwinParams& p = loaded.params_;
  p.delta = in.f64();
  const bool params_fit = as_int(in.i64(), &p.clock) && as_int(in.i64(), &p.max_buckets) &&
                          as_int(in.i64(), &p.min_window_length) &&
                          as_int(in.i64(), &p.grace_period);
  if (!in.ok()) return corrupt("truncated");
  if (!params_fit) return corrupt("parameter out of range");
  if (Status st = p.validate(); !st.ok()) return corrupt(st.message());

  const uint8_t drift_flag = in.u8();
  loaded.tick_ = in.i64();
  loaded.n_detections_ = in.i64();
  loaded.lifetime_detections_ = in.u64();
  loaded.total_ = in.f64();
  loaded.variance_ = in.f64();
  loaded.width_ = in.f64();
  const uint32_t n_rows = in.u32();
  if (!in.ok()) return corrupt("truncated");
  if (drift_flag > 1) return corrupt("bad drift flag");
  loaded.drift_detected_ = drift_flag == 1;
  if (loaded.tick_ < 0 || loaded.n_detections_ < 0) return corrupt("negative counter");
  if (!std::isfinite(loaded.total_) || !std::isfinite(loaded.variance_) ||
      !std::isfinite(loaded.width_)) {
    return corrupt("non-finite window sums");
  }
  if (n_rows < 1 || n_rows > kMaxRows) return corrupt("bad row count");

  loaded.rows_.assign(n_rows, loaded.empty_row());
  double summarised = 0;  // values covered by the buckets; must equal width
  for (uint32_t row = 0; row < n_rows; ++row) {
    const uint32_t count = in.u32();
    if (!in.ok()) return corrupt("truncated");
    // Between updates no row is over max_buckets, and only an empty window has an
    // empty row (row 0, alone).
    if (count > static_cast<uint32_t>(p.max_buckets)) return corrupt("overfull bucket row");
    if (count == 0 && n_rows > 1) return corrupt("empty bucket row");
    if (count > in.remaining() / 16) return corrupt("truncated");
    BucketRow& r = loaded.rows_[row];
    for (uint32_t k = 0; k < count; ++k) {
      const double total = in.f64();
      const double variance = in.f64();
      if (!std::isfinite(total) || !std::isfinite(variance)) return corrupt("non-finite bucket");
      r.push(total, variance);
    }
    summarised += count * BucketSize(row);
  }
  if (!in.ok()) return corrupt("truncated");
  if (summarised != loaded.width_) return corrupt("buckets do not add up to the window width");

  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamlearn::drift

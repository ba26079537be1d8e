#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "adwin_scan.hpp"
#include "streamlearn/drift/adwin.hpp"

// The SIMD scan over ADWIN's cuts must decide exactly as the one-cut-at-a-time test: the
// same first significant cut for every run of cuts, whatever lane it falls in; and the
// detector built on it must match a straightforward ADWIN value for value.

using namespace streamlearn::drift;
namespace scan = streamlearn::drift::adwin_scan;

namespace {

struct CutArrays {
  std::vector<double> n0, n1, u0, u1;
  void add(double a, double b, double c, double d) {
    n0.push_back(a);
    n1.push_back(b);
    u0.push_back(c);
    u1.push_back(d);
  }
  scan::Cuts from(size_t first) const {
    return {n0.data() + first, n1.data() + first, u0.data() + first, u1.data() + first, n0.size() - first};
  }
};

// Every variant, from every starting cut (so every cut is seen in every lane position),
// against the scalar reference.
void RequireVariantsAgree(const CutArrays& cuts, const scan::Bound& bound) {
  for (size_t first = 0; first <= cuts.n0.size(); ++first) {
    const scan::Cuts c = cuts.from(first);
    const size_t expected = scan::FirstSignificantCutScalar(c, bound);
    INFO("first cut " << first << " of " << cuts.n0.size());
    REQUIRE(scan::FirstSignificantCut(c, bound) == expected);
    if (scan::HasSse2()) REQUIRE(scan::FirstSignificantCutSse2(c, bound) == expected);
    if (scan::HasAvx()) REQUIRE(scan::FirstSignificantCutAvx(c, bound) == expected);
  }
}

scan::Bound BoundFor(double width, double variance, double delta, double min_length) {
  const double delta_prime = std::log(2 * std::log(width) / delta);
  return {min_length, delta_prime, variance / width, 2.0 / 3.0 * delta_prime};
}

// The cuts ADWIN tries on a window of `buckets` (oldest first: size, total).
CutArrays CutsOf(const std::vector<std::pair<double, double>>& buckets) {
  double width = 0, total = 0;
  for (const auto& [size, sum] : buckets) {
    width += size;
    total += sum;
  }
  CutArrays cuts;
  double n0 = 0, n1 = width, u0 = 0, u1 = total;
  for (size_t i = 0; i + 1 < buckets.size(); ++i) {
    n0 += buckets[i].first;
    n1 -= buckets[i].first;
    u0 += buckets[i].second;
    u1 -= buckets[i].second;
    cuts.add(n0, n1, u0, u1);
  }
  return cuts;
}

// A straightforward ADWIN (River's AdaptiveWindowing, one cut at a time, rows as deques)
// for the detector-level comparison.
class ReferenceAdwin {
 public:
  explicit ReferenceAdwin(const AdwinParams& p) : p_(p) {}

  bool update(double x) {
    if (drift_) *this = ReferenceAdwin(p_);
    insert(x);
    drift_ = detect();
    return drift_;
  }
  double width() const { return width_; }
  double total() const { return total_; }
  double variance() const { return variance_; }

 private:
  struct Bucket {
    double total, variance;
  };
  void insert(double value) {
    if (rows_.empty()) rows_.emplace_back();
    rows_[0].push_back({value, 0.0});
    width_ += 1;
    double incremental_variance = 0.0;
    if (width_ > 1.0) {
      const double deviation = value - total_ / (width_ - 1.0);
      incremental_variance = (width_ - 1.0) * deviation * deviation / width_;
    }
    variance_ += incremental_variance;
    total_ += value;
    for (size_t r = 0; rows_[r].size() == static_cast<size_t>(p_.max_buckets) + 1; ++r) {
      const double n = std::ldexp(1.0, static_cast<int>(r));
      const Bucket a = rows_[r][0], b = rows_[r][1];
      const double mean1 = a.total / n, mean2 = b.total / n;
      const double between = n * 0.5 * (mean1 - mean2) * (mean1 - mean2);
      if (r + 1 == rows_.size()) rows_.emplace_back();
      rows_[r + 1].push_back({a.total + b.total, a.variance + b.variance + between});
      rows_[r].pop_front();
      rows_[r].pop_front();
    }
  }
  bool detect() {
    bool change = false;
    ++tick_;
    if (tick_ % p_.clock != 0 || !(width_ > p_.grace_period)) return false;
    const double min_length = p_.min_window_length;
    for (bool rescan = true; rescan;) {
      rescan = false;
      double n0 = 0, n1 = width_, u0 = 0, u1 = total_;
      const double variance_in_window = variance_ / width_;
      const double delta_prime = std::log(2 * std::log(width_) / p_.delta);
      for (size_t r = rows_.size(); r-- > 0 && !rescan;) {
        const double size = std::ldexp(1.0, static_cast<int>(r));
        for (size_t k = 0; k < rows_[r].size(); ++k) {
          n0 += size;
          n1 -= size;
          u0 += rows_[r][k].total;
          u1 -= rows_[r][k].total;
          if (r == 0 && k + 1 == rows_[r].size()) break;
          const double delta_mean = (u0 / n0) - (u1 / n1);
          if (n1 < min_length || n0 < min_length) continue;
          const double m = 1.0 / (n0 - min_length + 1) + 1.0 / (n1 - min_length + 1);
          const double epsilon = std::sqrt(2 * m * variance_in_window * delta_prime) + 2.0 / 3.0 * delta_prime * m;
          if (std::fabs(delta_mean) > epsilon) {
            change = rescan = true;
            drop_oldest();
            break;
          }
        }
      }
    }
    return change;
  }
  void drop_oldest() {
    const double n = std::ldexp(1.0, static_cast<int>(rows_.size() - 1));
    const Bucket b = rows_.back().front();
    width_ -= n;
    total_ -= b.total;
    const double mu = b.total / n, mu_window = total_ / width_;
    variance_ -= b.variance + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
    rows_.back().pop_front();
    if (rows_.back().empty()) rows_.pop_back();
  }

  AdwinParams p_;
  std::vector<std::deque<Bucket>> rows_;
  double width_ = 0, total_ = 0, variance_ = 0;
  int64_t tick_ = 0;
  bool drift_ = false;
};

void RequireSameAsReference(const AdwinParams& params, const std::vector<double>& stream) {
  Adwin fast = Adwin::Create(params).value();
  ReferenceAdwin reference(params);
  size_t drifts = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    const bool fast_drift = fast.update(stream[i]) == DriftLevel::kDrift;
    const bool reference_drift = reference.update(stream[i]);
    INFO("update " << i);
    REQUIRE(fast_drift == reference_drift);
    REQUIRE(fast.width() == reference.width());
    REQUIRE(fast.total() == reference.total());
    REQUIRE(fast.variance() == reference.variance());
    drifts += fast_drift;
  }
  // A comparison on streams without a single detection would test little.
  CHECK(drifts > 0);
}

// Errors of a model whose error rate jumps between `rates` every `segment` updates.
std::vector<double> ErrorStream(size_t n, size_t segment, const std::vector<double>& rates, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = u(rng) < rates[(i / segment) % rates.size()] ? 1.0 : 0.0;
  return out;
}

std::vector<double> RealStream(size_t n, size_t segment, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = g(rng) * 0.7 + ((i / segment) % 3) * 0.5;
  return out;
}

}  // namespace

TEST_CASE("adwin scan: the first firing cut is found in every lane position", "[adwin][scan]") {
  // Cuts with equal means never fire; one cut with a far larger W0 mean does. Every
  // position of the firing cut, and every start, covers every lane of every variant.
  for (size_t count : {1, 2, 3, 4, 5, 7, 8, 9, 13, 64}) {
    for (size_t firing = 0; firing < count; ++firing) {
      CutArrays cuts;
      for (size_t i = 0; i < count; ++i) {
        const double n0 = 40.0 + static_cast<double>(i), n1 = 200.0 - static_cast<double>(i);
        const double mean0 = i == firing ? 2.0 : 0.3;
        cuts.add(n0, n1, mean0 * n0, 0.3 * n1);
      }
      const scan::Bound bound = BoundFor(240, 0.2 * 240, 0.002, 5);
      INFO("count " << count << ", firing " << firing);
      REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == firing);
      RequireVariantsAgree(cuts, bound);
    }
  }
}

TEST_CASE("adwin scan: a tie does not fire, one ulp more does", "[adwin][scan]") {
  // variance 0, n0 = n1 = L: m = 2, epsilon = 2/3 * delta_prime * 2; pick delta_prime
  // so that epsilon is exactly 0.5 and put |mean0 - mean1| exactly on it.
  const double min_length = 5;
  scan::Bound bound{min_length, 0.375, 0.0, 0.25};
  CutArrays cuts;
  for (int i = 0; i < 6; ++i) cuts.add(5, 5, 2.5, 0.0);  // delta_mean 0.5 == epsilon
  REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == cuts.n0.size());
  RequireVariantsAgree(cuts, bound);
  cuts.u0[3] = std::nextafter(2.5, 3.0);
  REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == 3);
  RequireVariantsAgree(cuts, bound);
  // W1 ahead by the same amount: the absolute difference counts.
  cuts.u0[3] = 0.0;
  cuts.u1[3] = std::nextafter(2.5, 3.0);
  REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == 3);
  RequireVariantsAgree(cuts, bound);
}

TEST_CASE("adwin scan: a side shorter than min_window_length never fires", "[adwin][scan]") {
  CutArrays cuts;
  cuts.add(1, 99, 1, 0);    // W0 too short, means 1 and 0
  cuts.add(4, 96, 4, 0);    // W0 too short
  cuts.add(96, 4, 96, 0);   // W1 too short
  cuts.add(99, 1, 99, 0);   // W1 too short
  cuts.add(100, 0, 100, 0); // W1 empty: 0/0 in its lane
  const scan::Bound bound = BoundFor(100, 1.0, 0.002, 5);
  REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == cuts.n0.size());
  RequireVariantsAgree(cuts, bound);
}

TEST_CASE("adwin scan: a negative rounded variance gives NaN bounds that never fire", "[adwin][scan]") {
  CutArrays cuts;
  for (int i = 0; i < 9; ++i) cuts.add(10 + i, 50 - i, 10 + i, 0);
  const scan::Bound bound = BoundFor(60, -1e-18, 0.002, 5);
  REQUIRE(scan::FirstSignificantCutScalar(cuts.from(0), bound) == cuts.n0.size());
  RequireVariantsAgree(cuts, bound);
}

TEST_CASE("adwin scan: random windows of 0/1 errors and of reals", "[adwin][scan]") {
  std::mt19937_64 rng(20261207);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 400; ++trial) {
    // An exponential histogram: up to 5 buckets per row, sizes 2^row, oldest rows first.
    const int rows = 1 + static_cast<int>(rng() % 14);
    std::vector<std::pair<double, double>> buckets;
    const bool binary = trial % 2 == 0;
    const double p_old = u(rng), p_new = trial % 4 < 2 ? p_old : u(rng);
    for (int r = rows - 1; r >= 0; --r) {
      const double size = std::ldexp(1.0, r);
      const int in_row = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < in_row; ++k) {
        const double p = r > rows / 2 ? p_old : p_new;
        double sum = 0;
        for (int v = 0; v < static_cast<int>(size); ++v) sum += binary ? (u(rng) < p ? 1.0 : 0.0) : p + u(rng) * 3 - 1.5;
        buckets.push_back({size, sum});
      }
    }
    const CutArrays cuts = CutsOf(buckets);
    double width = 0;
    for (const auto& b : buckets) width += b.first;
    const double variance = width * (binary ? 0.25 * u(rng) : u(rng));
    const double delta = trial % 3 == 0 ? 0.002 : std::pow(10.0, -1 - 5 * u(rng));
    const double min_length = 1 + static_cast<double>(rng() % 8);
    if (width < 3) continue;
    RequireVariantsAgree(cuts, BoundFor(width, variance, delta, min_length));
  }
}

TEST_CASE("adwin scan: the detector matches a straightforward ADWIN", "[adwin][scan]") {
  AdwinParams every_update;
  every_update.clock = 1;  // the pipeline's warning detector: a scan at every update
  AdwinParams loose = every_update;
  loose.delta = 0.2;
  AdwinParams defaults;
  AdwinParams more_buckets = every_update;
  more_buckets.max_buckets = 9;
  more_buckets.min_window_length = 2;

  SECTION("0/1 errors") {
    const auto stream = ErrorStream(30000, 2500, {0.1, 0.4, 0.2, 0.25}, 1);
    RequireSameAsReference(every_update, stream);
    RequireSameAsReference(loose, stream);
    RequireSameAsReference(defaults, stream);
    RequireSameAsReference(more_buckets, stream);
  }
  SECTION("reals") {
    const auto stream = RealStream(30000, 3000, 2);
    RequireSameAsReference(every_update, stream);
    RequireSameAsReference(loose, stream);
    RequireSameAsReference(more_buckets, stream);
  }
  SECTION("a long window, then a change") {
    // 2^17 stationary values make rows of more than 64 cuts in all (several runs per
    // scan) before the change is found.
    auto stream = ErrorStream(140000, 140000, {0.2}, 3);
    const auto after = ErrorStream(3000, 3000, {0.6}, 4);
    stream.insert(stream.end(), after.begin(), after.end());
    RequireSameAsReference(every_update, stream);
  }
}

#include "knn_window.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace streamlearn::neighbors {
namespace {

// More dense features than any pipeline gives (its dictionary stops far below): a snapshot
// claiming more is refused rather than sized.
constexpr uint32_t kMaxDims = uint32_t{1} << 24;

// |d|^p for the exponents worth their own loop (1, 2), else pow.
template <int kP>
inline double Term(double d, double p) {
  if constexpr (kP == 1) {
    return std::abs(d);
  } else if constexpr (kP == 2) {
    return d * d;
  } else {
    return std::pow(std::abs(d), p);
  }
}

template <int kP>
inline double Root(double sum, double p) {
  if constexpr (kP == 1) {
    return sum;
  } else if constexpr (kP == 2) {
    return std::sqrt(sum);
  } else {
    return std::pow(sum, 1.0 / p);
  }
}

// Two rows' terms side by side (GCC's and Clang's vector types: SSE2 on any x86-64, plain
// scalar code elsewhere). Each lane is computed as Term computes it, to the bit.
using V2 = double __attribute__((vector_size(16)));
using U2 = uint64_t __attribute__((vector_size(16)));

template <int kP>
inline V2 Term2(V2 d, double p) {
  if constexpr (kP == 1) {
    constexpr uint64_t kMagnitude = ~(uint64_t{1} << 63);  // std::abs clears the sign bit
    return std::bit_cast<V2>(std::bit_cast<U2>(d) & U2{kMagnitude, kMagnitude});
  } else if constexpr (kP == 2) {
    return d * d;
  } else {
    return V2{Term<kP>(d[0], p), Term<kP>(d[1], p)};
  }
}

// Keeps out[0..n) sorted by distance; an equal distance goes after those already there
// (rows are scanned oldest first, so the older wins ties as in River's stable sort).
inline void Offer(Neighbor* out, size_t& n, size_t k, double distance, double sum, uint32_t age) {
  if (n == k) {
    if (!(distance < out[k - 1].distance)) return;
    --n;
  }
  size_t j = n;
  while (j > 0 && out[j - 1].distance > distance) {
    out[j] = out[j - 1];
    --j;
  }
  out[j] = {distance, sum, age};
  ++n;
}

double QueryBucket(const FeatureVector& x, uint32_t index) {
  double v = 0;
  for (size_t j = 0; j < x.sparse_index.size(); ++j) {
    if (x.sparse_index[j] == index) v += x.sparse_value[j];
  }
  return v;
}

}  // namespace

void KnnWindow::widen(size_t dim) {
  std::vector<double> wider(targets_.size() * dim, 0.0);
  for (size_t s = 0; s < targets_.size(); ++s) {
    std::copy_n(rows_.begin() + static_cast<std::ptrdiff_t>(s * dim_), dim_,
                wider.begin() + static_cast<std::ptrdiff_t>(s * dim));
  }
  rows_ = std::move(wider);
  nonzero_.resize(dim, 0);
  dim_ = dim;
}

void KnnWindow::push(const FeatureVector& x, double y) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  if (n > dim_) widen(n);
  size_t s;
  if (count_ < capacity_) {
    s = count_++;
    rows_.resize((s + 1) * dim_, 0.0);
    targets_.push_back(y);
    sparse_.emplace_back();
  } else {
    s = start_;
    start_ = start_ + 1 == capacity_ ? 0 : start_ + 1;
    targets_[s] = y;
    const double* evicted = rows_.data() + s * dim_;
    for (size_t i = 0; i < dim_; ++i) nonzero_[i] -= evicted[i] != 0;
  }
  double* row = rows_.data() + s * dim_;
  for (size_t i = 0; i < dim_; ++i) {
    row[i] = i < n && x.present[i] ? x.dense[i] : 0.0;
    nonzero_[i] += row[i] != 0;  // NaN counts: it is not 0
  }
  // Buckets summed per index and sorted, so a row's bucket is one entry (a dict key in River).
  SparseRow& sparse = sparse_[s];
  sparse.clear();
  const size_t m = std::min(x.sparse_index.size(), x.sparse_value.size());
  for (size_t j = 0; j < m; ++j) sparse.emplace_back(x.sparse_index[j], x.sparse_value[j]);
  std::sort(sparse.begin(), sparse.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t out = 0;
  for (size_t j = 0; j < sparse.size(); ++j) {
    if (out > 0 && sparse[out - 1].first == sparse[j].first) {
      sparse[out - 1].second += sparse[j].second;
    } else {
      sparse[out++] = sparse[j];
    }
  }
  sparse.resize(out);
  any_sparse_ = any_sparse_ || out > 0;
}

double KnnWindow::sparse_part(const FeatureVector& x, const SparseRow& row, double p, int kind) const {
  const auto term = [&](double d) { return kind == 1 ? Term<1>(d, p) : kind == 2 ? Term<2>(d, p) : Term<0>(d, p); };
  double acc = 0;
  for (const auto& [index, value] : row) acc += term(static_cast<double>(value) - QueryBucket(x, index));
  const size_t m = std::min(x.sparse_index.size(), x.sparse_value.size());
  for (size_t j = 0; j < m; ++j) {
    const uint32_t index = x.sparse_index[j];
    bool first = true;
    for (size_t i = 0; i < j && first; ++i) first = x.sparse_index[i] != index;
    if (!first) continue;
    const auto it = std::lower_bound(row.begin(), row.end(), index,
                                     [](const auto& e, uint32_t v) { return e.first < v; });
    if (it != row.end() && it->first == index) continue;  // counted above
    acc += term(QueryBucket(x, index));
  }
  return acc;
}

namespace {

// The query's buckets prepared once per search, so a row's sparse part is one merge walk
// instead of a binary search and a duplicate check per query bucket. It sums exactly the
// terms sparse_part sums, in its order: the row's buckets by index, then the buckets only
// the query has, in their first-occurrence order.
struct SparseQuery {
  static constexpr size_t kMax = 64;  // distinct query buckets tracked (one bit each)
  size_t m = 0;
  double value[kMax];           // summed per bucket, first-occurrence order
  uint32_t sorted_index[kMax];  // the same buckets by index
  double sorted_value[kMax];
  uint8_t sorted_order[kMax];  // their first-occurrence position

  // False when the query's buckets do not fit (sparse_part then serves).
  bool prepare(const FeatureVector& x) {
    if (x.sparse_index.size() != x.sparse_value.size()) return false;
    uint32_t index[kMax];
    for (size_t j = 0; j < x.sparse_index.size(); ++j) {
      const uint32_t b = x.sparse_index[j];
      if (std::find(index, index + m, b) != index + m) continue;
      if (m == kMax) return false;
      index[m] = b;
      value[m] = QueryBucket(x, b);
      ++m;
    }
    for (size_t j = 0; j < m; ++j) {
      size_t i = j;
      for (; i > 0 && sorted_index[i - 1] > index[j]; --i) {
        sorted_index[i] = sorted_index[i - 1];
        sorted_value[i] = sorted_value[i - 1];
        sorted_order[i] = sorted_order[i - 1];
      }
      sorted_index[i] = index[j];
      sorted_value[i] = value[j];
      sorted_order[i] = static_cast<uint8_t>(j);
    }
    return true;
  }

  template <int kP>
  double part(const std::vector<std::pair<uint32_t, float>>& row, double p) const {
    double acc = 0;
    uint64_t matched = 0;
    size_t q = 0;
    for (const auto& [index, v] : row) {
      while (q < m && sorted_index[q] < index) ++q;
      double bucket = 0;  // QueryBucket's sum of nothing
      if (q < m && sorted_index[q] == index) {
        bucket = sorted_value[q];
        matched |= uint64_t{1} << sorted_order[q];
      }
      acc += Term<kP>(static_cast<double>(v) - bucket, p);
    }
    for (size_t j = 0; j < m; ++j) {
      if (!(matched >> j & 1)) acc += Term<kP>(value[j], p);
    }
    return acc;
  }
};

}  // namespace

template <int kP>
size_t KnnWindow::scan(const FeatureVector& x, double p, size_t k, Neighbor* out) const {
  const size_t qn = std::min(x.dense.size(), x.present.size());
  const size_t shared = std::min(qn, dim_);
  // Query features the window has never seen: every row has 0 there.
  double beyond = 0;
  for (size_t i = dim_; i < qn; ++i) {
    if (x.present[i]) beyond += Term<kP>(x.dense[i], p);
  }
  // The query over the window's features, missing ones 0, on the stack (the first kStackDims
  // of a wider window; the rest is read from x per row), so the inner loop reads no flags.
  // |0 - r|^p is |r|^p to the bit, so a feature the query lacks needs no branch.
  constexpr size_t kStackDims = 512;
  double query[kStackDims];
  const size_t head = std::min(dim_, kStackDims);
  for (size_t i = 0; i < head; ++i) query[i] = i < shared && x.present[i] ? x.dense[i] : 0.0;
  // The features that can add anything: a feature every row has 0 at and the query 0 adds
  // |0 - 0|^p = +0 (p > 0), and acc + +0 is acc to the bit, so it is left out (a pipeline
  // gives ids to features this model never sees set: 16 numeric fields came as 66 ids, 16
  // ever set). The rows are read through the list of the others.
  uint32_t active[kStackDims];
  size_t na = 0;
  for (size_t i = 0; i < head; ++i) {
    if (!(p > 0) || query[i] != 0 || nonzero_[i] != 0) {
      query[na] = query[i];  // na <= i: compacting in place
      active[na++] = static_cast<uint32_t>(i);
    }
  }
  const auto tail = [&](const double* row, double acc) {
    for (size_t i = head; i < dim_; ++i) acc += Term<kP>((i < shared && x.present[i] ? x.dense[i] : 0.0) - row[i], p);
    return acc;
  };
  const bool sparse = any_sparse_ || !x.sparse_index.empty();
  SparseQuery sq;
  const bool merge = sparse && sq.prepare(x);
  size_t n = 0;
  // Adds the row's sparse part and offers it; each row's sum is beyond, then its dense terms
  // in index order, then its sparse part, whatever the loops below do around it.
  const auto finish = [&](size_t age, size_t s, double acc) {
    // A sum above the k-th best's cannot give a smaller distance (the root does not
    // decrease), so it is refused without taking the root; the sparse part only adds (a
    // term >= 0, or NaN, which is refused too), so the dense sum alone can refuse the row.
    if (n == k && acc > out[k - 1].sum) return;
    if (sparse) acc += merge ? sq.template part<kP>(sparse_[s], p) : sparse_part(x, sparse_[s], p, kP);
    if (n == k && acc > out[k - 1].sum) return;
    Offer(out, n, k, Root<kP>(acc, p), acc, static_cast<uint32_t>(age));
  };
  const auto row_of = [&](size_t s) { return rows_.data() + s * dim_; };
  // Ages in one or two runs of consecutive slots (the ring's end, then its start), so a batch's
  // rows are one stride apart.
  for (size_t age = 0; age < count_;) {
    const size_t first = slot(age);
    const size_t end = age + std::min(count_ - age, capacity_ - first);
    size_t s = first;
    // Four rows at once, two to a vector: each lane is one row's own sum, so every row's terms
    // are still added one by one in feature order, and the four chains overlap in the CPU.
    for (; age + 4 <= end; age += 4, s += 4) {
      const double* r0 = row_of(s);
      const double *r1 = r0 + dim_, *r2 = r1 + dim_, *r3 = r2 + dim_;
      // Opaque to the optimiser, so a row is read as pointer + index (one instruction) rather
      // than through an offset recomputed per feature.
      asm("" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3));
      V2 a01 = {beyond, beyond}, a23 = {beyond, beyond};
#pragma GCC unroll 4
      for (size_t j = 0; j < na; ++j) {
        const V2 q = {query[j], query[j]};
        const size_t i = active[j];
        a01 += Term2<kP>(q - V2{r0[i], r1[i]}, p);
        a23 += Term2<kP>(q - V2{r2[i], r3[i]}, p);
      }
      finish(age, s, tail(r0, a01[0]));
      finish(age + 1, s + 1, tail(r1, a01[1]));
      finish(age + 2, s + 2, tail(r2, a23[0]));
      finish(age + 3, s + 3, tail(r3, a23[1]));
    }
    for (; age < end; ++age, ++s) {
      const double* row = row_of(s);
      double acc = beyond;
      for (size_t j = 0; j < na; ++j) acc += Term<kP>(query[j] - row[active[j]], p);
      finish(age, s, tail(row, acc));
    }
  }
  return n;
}

size_t KnnWindow::search(const FeatureVector& x, double p, size_t k, Neighbor* out) const {
  k = std::min(k, kMaxNeighbors);
  if (k == 0 || count_ == 0) return 0;
  if (p == 2) return scan<2>(x, p, k, out);
  if (p == 1) return scan<1>(x, p, k, out);
  return scan<0>(x, p, k, out);
}

void KnnWindow::clear() {
  rows_.clear();
  targets_.clear();
  sparse_.clear();
  nonzero_.clear();
  start_ = 0;
  count_ = 0;
  any_sparse_ = false;
}

void KnnWindow::save(ByteWriter& w) const {
  w.u32(static_cast<uint32_t>(dim_));
  w.u32(static_cast<uint32_t>(count_));
  for (size_t age = 0; age < count_; ++age) {
    const size_t s = slot(age);
    w.f64(targets_[s]);
    for (size_t i = 0; i < dim_; ++i) w.f64(rows_[s * dim_ + i]);
    w.u32(static_cast<uint32_t>(sparse_[s].size()));
    for (const auto& [index, value] : sparse_[s]) {
      w.u32(index);
      uint32_t bits;
      std::memcpy(&bits, &value, 4);
      w.u32(bits);
    }
  }
}

bool KnnWindow::load(ByteReader& r) {
  clear();
  const uint32_t dim = r.u32();
  const uint32_t count = r.u32();
  if (!r.ok() || count > capacity_ || dim > kMaxDims || (count > 0 && dim > r.remaining() / 8 / count)) return false;
  dim_ = dim;
  rows_.resize(size_t{count} * dim_);
  nonzero_.assign(dim_, 0);
  targets_.resize(count);
  sparse_.resize(count);
  count_ = count;
  for (size_t s = 0; s < count; ++s) {
    targets_[s] = r.f64();
    if (!std::isfinite(targets_[s])) return false;
    for (size_t i = 0; i < dim_; ++i) {
      rows_[s * dim_ + i] = r.f64();
      if (!std::isfinite(rows_[s * dim_ + i])) return false;
      nonzero_[i] += rows_[s * dim_ + i] != 0;
    }
    const uint32_t m = r.u32();
    if (!r.ok() || m > r.remaining() / 8) return false;
    sparse_[s].resize(m);
    for (uint32_t j = 0; j < m; ++j) {
      const uint32_t index = r.u32();
      const uint32_t bits = r.u32();
      float value;
      std::memcpy(&value, &bits, 4);
      if (!std::isfinite(value) || (j > 0 && index <= sparse_[s][j - 1].first)) return false;
      sparse_[s][j] = {index, value};
    }
    any_sparse_ = any_sparse_ || m > 0;
  }
  return r.ok();
}

size_t KnnWindow::memory_bytes() const {
  size_t bytes = rows_.capacity() * sizeof(double) + targets_.capacity() * sizeof(double) +
                 sparse_.capacity() * sizeof(SparseRow) + nonzero_.capacity() * sizeof(uint32_t);
  for (const auto& row : sparse_) bytes += row.capacity() * sizeof(row[0]);
  return bytes;
}

}  // namespace streamlearn::neighbors

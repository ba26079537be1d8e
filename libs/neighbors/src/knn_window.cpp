#include "knn_window.hpp"

#include <algorithm>
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
  }
  double* row = rows_.data() + s * dim_;
  for (size_t i = 0; i < dim_; ++i) row[i] = i < n && x.present[i] ? x.dense[i] : 0.0;
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

template <int kP>
size_t KnnWindow::scan(const FeatureVector& x, double p, size_t k, Neighbor* out) const {
  const size_t qn = std::min(x.dense.size(), x.present.size());
  const size_t shared = std::min(qn, dim_);
  // Query features the window has never seen: every row has 0 there.
  double beyond = 0;
  for (size_t i = dim_; i < qn; ++i) {
    if (x.present[i]) beyond += Term<kP>(x.dense[i], p);
  }
  // The query over the window's features, missing ones 0, on the stack when it fits, so the
  // inner loop is one pass over two arrays.
  constexpr size_t kStackDims = 64;
  double query[kStackDims];
  const bool on_stack = dim_ <= kStackDims;
  if (on_stack) {
    for (size_t i = 0; i < dim_; ++i) query[i] = i < shared && x.present[i] ? x.dense[i] : 0.0;
  }
  const bool sparse = any_sparse_ || !x.sparse_index.empty();
  size_t n = 0;
  for (size_t age = 0; age < count_; ++age) {
    const size_t s = slot(age);
    const double* row = rows_.data() + s * dim_;
    double acc = beyond;
    if (on_stack) {
      for (size_t i = 0; i < dim_; ++i) acc += Term<kP>(query[i] - row[i], p);
    } else {
      for (size_t i = 0; i < shared; ++i) acc += Term<kP>((x.present[i] ? x.dense[i] : 0.0) - row[i], p);
      for (size_t i = shared; i < dim_; ++i) acc += Term<kP>(row[i], p);
    }
    if (sparse) acc += sparse_part(x, sparse_[s], p, kP);
    // A sum above the k-th best's cannot give a smaller distance (the root does not
    // decrease), so it is refused without taking the root.
    if (n == k && acc > out[k - 1].sum) continue;
    Offer(out, n, k, Root<kP>(acc, p), acc, static_cast<uint32_t>(age));
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
  targets_.resize(count);
  sparse_.resize(count);
  count_ = count;
  for (size_t s = 0; s < count; ++s) {
    targets_[s] = r.f64();
    if (!std::isfinite(targets_[s])) return false;
    for (size_t i = 0; i < dim_; ++i) {
      rows_[s * dim_ + i] = r.f64();
      if (!std::isfinite(rows_[s * dim_ + i])) return false;
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
                 sparse_.capacity() * sizeof(SparseRow);
  for (const auto& row : sparse_) bytes += row.capacity() * sizeof(row[0]);
  return bytes;
}

}  // namespace streamlearn::neighbors

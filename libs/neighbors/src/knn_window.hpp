#pragma once
// The sliding window of a k-NN learner and its exact search. Rows are stored contiguously
// (one dense vector of `dim` doubles per row, a ring of window_size rows once full), so a
// query is one linear pass over memory; the k best are kept in a caller's fixed array, so a
// query allocates nothing. Hashed sparse buckets, rare in numeric streams, sit beside each
// row, sorted by index, in a vector reused when the slot is overwritten.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/learn/feature_vector.hpp"

namespace streamlearn::neighbors {

// The most neighbours a query asks for (the top-k array lives on the stack).
inline constexpr size_t kMaxNeighbors = 256;

struct Neighbor {
  double distance = 0;
  double sum = 0;    // the distance before the root (sum of |difference|^p)
  uint32_t age = 0;  // 0 = the oldest row of the window
};

class KnnWindow {
 public:
  explicit KnnWindow(size_t capacity) : capacity_(capacity) {}

  size_t size() const { return count_; }
  size_t capacity() const { return capacity_; }
  size_t dim() const { return dim_; }
  double target(uint32_t age) const { return targets_[slot(age)]; }

  // Appends the row (missing dense features stored as 0), evicting the oldest when full.
  void push(const FeatureVector& x, double y);
  // The min(k, size()) rows nearest to x by Minkowski distance with exponent p, nearest
  // first, the older first on equal distances; returns how many were written to `out`.
  size_t search(const FeatureVector& x, double p, size_t k, Neighbor* out) const;
  void clear();

  // Rows oldest first, so the bytes do not depend on where the ring starts.
  void save(ByteWriter& w) const;
  // False on bad bytes (the window is then cleared by the caller's discarding it).
  bool load(ByteReader& r);
  size_t memory_bytes() const;

 private:
  using SparseRow = std::vector<std::pair<uint32_t, float>>;

  size_t slot(size_t age) const {
    const size_t s = start_ + age;
    return s >= capacity_ ? s - capacity_ : s;
  }
  void widen(size_t dim);
  template <int kP>
  size_t scan(const FeatureVector& x, double p, size_t k, Neighbor* out) const;
  double sparse_part(const FeatureVector& x, const SparseRow& row, double p, int kind) const;

  size_t capacity_;
  size_t dim_ = 0;
  size_t start_ = 0;  // slot of the oldest row
  size_t count_ = 0;
  std::vector<double> rows_;     // slot-major, dim_ per slot
  std::vector<double> targets_;  // by slot
  std::vector<SparseRow> sparse_;
  // Per dense feature, how many rows of the window hold a value other than 0 there: the
  // search skips a feature no row holds and the query lacks (its term is exactly +0).
  // Pipelines give many such (ids of fields this stream never sends).
  std::vector<uint32_t> nonzero_;
  bool any_sparse_ = false;  // some row of the window had buckets (else the sparse pass is skipped)
};

}  // namespace streamlearn::neighbors

#pragma once
// Online PCA: the running mean and covariance of d inputs (Welford's co-moments, O(d^2)
// per row), and every `refresh_every` rows an eigendecomposition of the covariance (Eigen's
// self-adjoint solver, in a workspace allocated once, so a refresh does not allocate
// either). Projections use the components and the mean of the last refresh, so they stay
// fixed between refreshes. Each component's sign is fixed (its largest entry in absolute
// value is positive, the first of equals), which makes the output deterministic: the
// same rows give bit-identical components.

#include <cstdint>
#include <memory>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::features {

class OnlinePca {
 public:
  static constexpr uint32_t kMaxDims = 128;

  // dims in 1..kMaxDims, components in 1..dims, refresh_every >= 1 (checked by the config).
  OnlinePca(uint32_t dims, uint32_t components, uint32_t refresh_every);
  ~OnlinePca();
  OnlinePca(OnlinePca&&) noexcept;
  OnlinePca& operator=(OnlinePca&&) noexcept;

  // Folds one row of dims() finite values in; recomputes the components every
  // refresh_every rows.
  void update(const double* row);
  // Recomputes the components from the statistics so far (needs >= 2 rows).
  void refresh();
  bool ready() const { return ready_; }
  // out[j] = (row - mean at the last refresh) . component j, for j < components_count();
  // needs ready(). Inputs with have[i] == 0 count as the mean (contribute 0); have may be null.
  void project(const double* row, const uint8_t* have, double* out) const;

  uint32_t dims() const { return dims_; }
  uint32_t components_count() const { return k_; }
  uint64_t rows() const { return rows_; }
  // Row-major k x d: component j is [j * d, (j + 1) * d), unit length, by falling variance.
  const std::vector<double>& components() const { return components_; }
  const std::vector<double>& explained_variance() const { return variances_; }

  // Statistics and components, bit-exact. load() needs the same dims/components (else
  // FailedPrecondition) and leaves the object unchanged on any error.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  struct Workspace;  // Eigen's solver: kept out of this header

  uint32_t dims_, k_, refresh_every_;
  uint64_t rows_ = 0;
  std::vector<double> mean_;      // d
  std::vector<double> comoment_;  // d x d column-major, lower triangle: sum of (x - mean_old)(x - mean_new)^T
  std::vector<double> delta_;     // scratch
  bool ready_ = false;
  std::vector<double> center_;      // d: the mean at the last refresh
  std::vector<double> components_;  // k x d
  std::vector<double> variances_;   // k
  std::unique_ptr<Workspace> ws_;
};

}  // namespace streamlearn::features

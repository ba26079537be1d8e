#include "streamlearn/features/pca.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

namespace streamlearn::features {

// Fixed-capacity matrices: their storage lives inside the object, so the solver, allocated
// once with the builder, never touches the heap when it runs (Eigen's dynamic-size solver
// allocates its Householder workspace on every compute()).
using CapMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, OnlinePca::kMaxDims,
                                OnlinePca::kMaxDims>;

struct OnlinePca::Workspace {
  CapMatrix covariance;
  Eigen::SelfAdjointEigenSolver<CapMatrix> solver;
};

OnlinePca::OnlinePca(uint32_t dims, uint32_t components, uint32_t refresh_every)
    : dims_(std::clamp<uint32_t>(dims, 1, kMaxDims)),
      k_(std::clamp<uint32_t>(components, 1, dims_)),
      refresh_every_(std::max<uint32_t>(refresh_every, 1)),
      mean_(dims_, 0.0),
      comoment_(static_cast<size_t>(dims_) * dims_, 0.0),
      delta_(dims_, 0.0),
      center_(dims_, 0.0),
      components_(static_cast<size_t>(k_) * dims_, 0.0),
      variances_(k_, 0.0),
      ws_(std::make_unique<Workspace>()) {}

OnlinePca::~OnlinePca() = default;
OnlinePca::OnlinePca(OnlinePca&&) noexcept = default;
OnlinePca& OnlinePca::operator=(OnlinePca&&) noexcept = default;

void OnlinePca::update(const double* row) {
  const size_t d = dims_;
  rows_ += 1;
  const double inv_n = 1.0 / static_cast<double>(rows_);
  for (size_t i = 0; i < d; ++i) {
    delta_[i] = row[i] - mean_[i];
    mean_[i] += delta_[i] * inv_n;
  }
  // Lower triangle only (column-major, i >= j): the solver reads no more.
  for (size_t j = 0; j < d; ++j) {
    const double after_j = row[j] - mean_[j];
    double* col = &comoment_[j * d];
    for (size_t i = j; i < d; ++i) col[i] += delta_[i] * after_j;
  }
  if (rows_ % refresh_every_ == 0) refresh();
}

void OnlinePca::refresh() {
  if (rows_ < 2) return;
  const Eigen::Index d = dims_;
  Workspace& w = *ws_;
  w.covariance.resize(d, d);
  const double inv_n = 1.0 / static_cast<double>(rows_);
  for (Eigen::Index j = 0; j < d; ++j) {
    for (Eigen::Index i = 0; i < d; ++i) {
      const size_t lower = i >= j ? static_cast<size_t>(j * d + i) : static_cast<size_t>(i * d + j);
      w.covariance(i, j) = comoment_[lower] * inv_n;
    }
  }
  w.solver.compute(w.covariance, Eigen::ComputeEigenvectors);
  if (w.solver.info() != Eigen::Success) return;  // keep the previous components
  const auto& values = w.solver.eigenvalues();  // ascending
  const auto& vectors = w.solver.eigenvectors();
  for (uint32_t c = 0; c < k_; ++c) {
    const Eigen::Index col = d - 1 - c;
    // Fix the sign: an eigenvector is only defined up to it.
    Eigen::Index pivot = 0;
    for (Eigen::Index i = 1; i < d; ++i) {
      if (std::abs(vectors(i, col)) > std::abs(vectors(pivot, col))) pivot = i;
    }
    const double sign = vectors(pivot, col) < 0 ? -1.0 : 1.0;
    for (Eigen::Index i = 0; i < d; ++i) components_[c * dims_ + i] = sign * vectors(i, col);
    variances_[c] = std::max(values(col), 0.0);
  }
  center_ = mean_;  // same size: no allocation
  ready_ = true;
}

void OnlinePca::project(const double* row, const uint8_t* have, double* out) const {
  for (uint32_t c = 0; c < k_; ++c) {
    const double* v = &components_[static_cast<size_t>(c) * dims_];
    double z = 0;
    for (uint32_t i = 0; i < dims_; ++i) {
      if (have == nullptr || have[i]) z += v[i] * (row[i] - center_[i]);
    }
    out[c] = z;
  }
}

void OnlinePca::save(ByteWriter& out) const {
  out.u32(dims_);
  out.u32(k_);
  out.u64(rows_);
  for (double m : mean_) out.f64(m);
  for (size_t j = 0; j < dims_; ++j) {
    for (size_t i = j; i < dims_; ++i) out.f64(comoment_[j * dims_ + i]);
  }
  out.u8(ready_ ? 1 : 0);
  for (double c : center_) out.f64(c);
  for (double c : components_) out.f64(c);
  for (double v : variances_) out.f64(v);
}

Status OnlinePca::load(ByteReader& in) {
  const uint32_t dims = in.u32();
  const uint32_t k = in.u32();
  if (!in.ok()) return Status::Corruption("pca: truncated");
  if (dims != dims_ || k != k_) {
    return Status::FailedPrecondition("pca: saved with " + std::to_string(dims) + " inputs and " + std::to_string(k) +
                                      " components, configured " + std::to_string(dims_) + " and " +
                                      std::to_string(k_));
  }
  const size_t d = dims_;
  const size_t need = 8 + 8 * (d + d * (d + 1) / 2 + d + k_ * d + k_) + 1;
  if (in.remaining() < need) return Status::Corruption("pca: truncated");
  OnlinePca next(dims_, k_, refresh_every_);
  next.rows_ = in.u64();
  for (double& m : next.mean_) m = in.f64();
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = j; i < d; ++i) next.comoment_[j * d + i] = in.f64();
  }
  const uint8_t ready = in.u8();
  for (double& c : next.center_) c = in.f64();
  for (double& c : next.components_) c = in.f64();
  for (double& v : next.variances_) v = in.f64();
  if (!in.ok() || ready > 1) return Status::Corruption("pca: bad bytes");
  for (double v : next.mean_) if (!std::isfinite(v)) return Status::Corruption("pca: non-finite mean");
  next.ready_ = ready == 1;
  *this = std::move(next);
  return Status::Ok();
}

}  // namespace streamlearn::features

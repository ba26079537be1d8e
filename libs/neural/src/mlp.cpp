// MlpLearner: prediction, the learning step (forward, backpropagation, guarded optimizer
// step), growth, reset and inspection. Keys and the factory entry are in mlp_config.cpp,
// save/load in mlp_snapshot.cpp.

#include "mlp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "streamlearn/core/json_writer.hpp"

namespace streamlearn::neural {
namespace {

// Inputs, labels and parameters beyond this are refused (squaring them overflows).
constexpr double kMaxAbsValue = 1e100;
// Standardised inputs are clipped (the linear model's bound): one wild value cannot swamp a step.
constexpr double kStandardisedClip = 10;
// sigmoid(35) is 1 - 6e-16: past it the gradient is rounding noise.
constexpr double kMarginClip = 35;
// A weight k is k steps, at most this many.
constexpr double kMaxRepeats = 100;

bool Usable(double v) { return std::abs(v) <= kMaxAbsValue; }

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-std::clamp(z, -kMarginClip, kMarginClip))); }

double FiniteScore(double v) {
  if (std::isnan(v)) return 0;
  return std::clamp(v, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
}

double Activate(Activation f, double z) {
  switch (f) {
    case Activation::kRelu: return z < 0 ? 0.0 : z;
    case Activation::kTanh: return std::tanh(z);
    case Activation::kSigmoid: return Sigmoid(z);
    case Activation::kIdentity: break;
  }
  return z;
}

// d activation / d z, from z and a = f(z) (River's ReLU: 1 where z > 0, else 0).
double Derivative(Activation f, double z, double a) {
  switch (f) {
    case Activation::kRelu: return z > 0 ? 1.0 : 0.0;
    case Activation::kTanh: return 1.0 - a * a;
    case Activation::kSigmoid: return a * (1.0 - a);
    case Activation::kIdentity: break;
  }
  return 1.0;
}

// z = w^T in + b with in(i) the layer's inputs: one row of w per input, as numpy's
// np.dot(a, w) + b for one row.
template <typename In>
void Affine(const Layer& layer, const In& in, double* z) {
  Eigen::Map<Vector> out(z, layer.w.cols());
  out.setZero();
  for (Eigen::Index i = 0; i < layer.w.rows(); ++i) out.noalias() += in(i) * layer.w.row(i).transpose();
  out += layer.b;
}

// Softmax in place (the largest subtracted first); the most probable class, lowest on ties.
int32_t SoftmaxInPlace(double* v, size_t k) {
  size_t best = 0;
  for (size_t c = 0; c < k; ++c) {
    v[c] = FiniteScore(v[c]);
    if (v[c] > v[best]) best = c;
  }
  const double top = v[best];
  double sum = 0;
  for (size_t c = 0; c < k; ++c) {
    v[c] = std::exp(v[c] - top);
    sum += v[c];
  }
  for (size_t c = 0; c < k; ++c) v[c] /= sum;
  return static_cast<int32_t>(best);
}

bool Bounded(const Matrix& m) { return (m.array().abs() <= kMaxAbsValue).all(); }
bool Bounded(const Vector& v) { return (v.array().abs() <= kMaxAbsValue).all(); }
bool Finite(const Vector& v) { return v.allFinite(); }

}  // namespace

MlpLearner::MlpLearner(const MlpConfig& config) : config_(config), rng_(config.seed) {
  n_out_ = config_.task == learn::LearnerTask::kMulticlass ? 0 : 1;
}

std::string_view MlpLearner::type() const {
  switch (config_.task) {
    case learn::LearnerTask::kBinary: return "mlp";
    case learn::LearnerTask::kMulticlass: return "mlp_multiclass";
    case learn::LearnerTask::kRegression: break;
  }
  return "mlp_regressor";
}

Activation MlpLearner::output_kind() const {
  switch (config_.task) {
    case learn::LearnerTask::kBinary: return Activation::kSigmoid;
    case learn::LearnerTask::kMulticlass: return Activation::kIdentity;  // softmax over the margins
    case learn::LearnerTask::kRegression: break;
  }
  return config_.output_activation;
}

// Input i as the network sees it: standardised with the running statistics (a missing or
// unusable value is the running mean, 0 standardised), or raw.
double MlpLearner::input(const FeatureVector& x, size_t i) const {
  const bool present = i < x.dense.size() && i < x.present.size() && x.present[i] != 0 && Usable(x.dense[i]);
  if (!config_.standardize) return present ? x.dense[i] : mean_[i];
  if (!present) return 0.0;
  const double sd = std::sqrt(var_[i]);
  if (sd == 0) return 0.0;  // River's safe_div
  return std::clamp((x.dense[i] - mean_[i]) / sd, -kStandardisedClip, kStandardisedClip);
}

// ---------------------------------------------------------------------------------------
// Prediction: on the stack (hidden widths are bounded), so nothing is allocated once the
// Prediction's probabilities have grown.

void MlpLearner::predict(const FeatureVector& x, learn::Prediction& out) const {
  const bool multiclass = config_.task == learn::LearnerTask::kMulticlass;
  if (!multiclass) out.probabilities.clear();
  if (!initialized_) {  // River's MLPRegressor answers 0 before its first learn_one
    switch (config_.task) {
      case learn::LearnerTask::kBinary:
        out.score = 0.5;
        out.class_index = 1;
        return;
      case learn::LearnerTask::kRegression:
        out.score = 0;
        out.class_index = -1;
        return;
      case learn::LearnerTask::kMulticlass:
        out.probabilities.assign(n_out_, n_out_ == 0 ? 0.0 : 1.0 / static_cast<double>(n_out_));
        out.score = n_out_ == 0 ? 0.0 : out.probabilities[0];
        out.class_index = n_out_ == 0 ? -1 : 0;
        return;
    }
  }
  std::array<std::array<double, kMaxHiddenWidth>, kMaxHiddenLayers> hidden;
  const double* previous = nullptr;
  const size_t n_hidden = layers_.size() - 1;
  for (size_t l = 0; l < n_hidden; ++l) {
    double* z = hidden[l].data();
    if (l == 0) {
      Affine(layers_[0], [&](Eigen::Index i) { return input(x, static_cast<size_t>(i)); }, z);
    } else {
      Affine(layers_[l], [previous](Eigen::Index i) { return previous[i]; }, z);
    }
    for (Eigen::Index j = 0; j < layers_[l].w.cols(); ++j) z[j] = Activate(config_.activation, z[j]);
    previous = z;
  }
  const Layer& last = layers_.back();
  if (multiclass) {
    out.probabilities.resize(n_out_);
    Affine(last, [previous](Eigen::Index i) { return previous[i]; }, out.probabilities.data());
    out.class_index = SoftmaxInPlace(out.probabilities.data(), n_out_);
    out.score = out.probabilities[static_cast<size_t>(out.class_index)];
    return;
  }
  std::array<double, 2> out_z{};  // one output; two slots keep GCC's bounds check quiet about SSE
  Affine(last, [previous](Eigen::Index i) { return previous[i]; }, out_z.data());
  const double z = out_z[0];
  if (config_.task == learn::LearnerTask::kBinary) {
    out.score = std::isnan(z) ? 0.5 : Sigmoid(z);
    out.class_index = out.score >= 0.5 ? 1 : 0;
  } else {
    const double scaled = Activate(config_.output_activation, z);
    out.score = FiniteScore(config_.scale_target ? y_mean_ + std::sqrt(y_var_) * scaled : scaled);
    out.class_index = -1;
  }
}

// ---------------------------------------------------------------------------------------
// Learning

bool MlpLearner::label_ok(double y) const {
  switch (config_.task) {
    case learn::LearnerTask::kBinary: return y >= 0 && y <= 1;
    case learn::LearnerTask::kMulticlass: return y >= 0 && y < learn::kMaxLearnerClasses && y == std::floor(y);
    case learn::LearnerTask::kRegression: break;
  }
  return Usable(y);
}

void MlpLearner::learn(const FeatureVector& x, double y, double weight) {
  if (!(weight > 0)) return;  // 0, negative or NaN: nothing to learn
  bool inputs_ok = std::isfinite(weight);
  for (size_t i = 0; i < x.dense.size() && i < x.present.size() && inputs_ok; ++i) {
    if (x.present[i] != 0 && !Usable(x.dense[i])) inputs_ok = false;
  }
  if (!inputs_ok || !label_ok(y)) {
    ++guarded_;
    return;
  }
  // No native sample weights (River's MLP has none): a whole weight k is k steps, a
  // fractional one rounded (below one half, nothing).
  const double repeats = std::min(std::round(weight), kMaxRepeats);
  for (double k = repeats; k >= 1; --k) {
    if (step(x, y)) {
      ++trained_;
    } else {
      ++guarded_;
    }
  }
}

// River's StandardScaler.learn_one for the present inputs (Welford on the population
// variance, in River's order of operations).
void MlpLearner::observe_inputs(const FeatureVector& x) {
  for (size_t i = 0; i < x.dense.size() && i < x.present.size(); ++i) {
    if (x.present[i] == 0) continue;
    const double v = x.dense[i];
    count_[i] += 1;
    const double old_mean = mean_[i];
    mean_[i] += (v - old_mean) / count_[i];
    var_[i] += ((v - old_mean) * (v - mean_[i]) - var_[i]) / count_[i];
  }
}

bool MlpLearner::step(const FeatureVector& x, double y) {
  const size_t n_in = std::max(n_in_, std::min(x.dense.size(), x.present.size()));
  if (n_in > n_in_) {
    count_.resize(n_in, 0.0);
    mean_.resize(n_in, 0.0);
    var_.resize(n_in, 0.0);
    n_in_ = n_in;
  }
  size_t label = 0;
  if (config_.task == learn::LearnerTask::kMulticlass) {
    label = static_cast<size_t>(y);
    n_out_ = std::max(n_out_, label + 1);
  }
  observe_inputs(x);
  if (config_.task == learn::LearnerTask::kRegression && config_.scale_target) {
    y_count_ += 1;
    const double old_mean = y_mean_;
    y_mean_ += (y - old_mean) / y_count_;
    y_var_ += ((y - old_mean) * (y - y_mean_) - y_var_) / y_count_;
    const double sd = std::sqrt(y_var_);
    y = sd == 0 ? 0.0 : (y - y_mean_) / sd;  // the network learns the standardised target
  }
  if (!initialized_) {
    initialize();
  } else {
    grow_inputs(n_in_);
    grow_outputs(n_out_);
  }

  // Forward, keeping every pre-activation and activation.
  const size_t n_layers = layers_.size();
  inputs_.resize(static_cast<Eigen::Index>(n_in_));
  for (size_t i = 0; i < n_in_; ++i) inputs_[static_cast<Eigen::Index>(i)] = input(x, i);
  z_.resize(n_layers);
  a_.resize(n_layers);
  delta_.resize(n_layers);
  for (size_t l = 0; l < n_layers; ++l) {
    const Vector& in = l == 0 ? inputs_ : a_[l - 1];
    z_[l].resize(layers_[l].w.cols());
    Affine(layers_[l], [&in](Eigen::Index i) { return in[i]; }, z_[l].data());
    if (!Finite(z_[l])) return false;
    const Activation f = l + 1 < n_layers ? config_.activation : output_kind();
    a_[l] = z_[l].unaryExpr([f](double z) { return Activate(f, z); });
  }

  // Output deltas, dL/dz: squared loss 2 (p - y) through the output activation (River's
  // Squared.gradient times the activation's gradient); log loss through a sigmoid or a
  // softmax: p - y.
  Vector& out_delta = delta_[n_layers - 1];
  const Vector& z_out = z_[n_layers - 1];
  switch (config_.task) {
    case learn::LearnerTask::kRegression: {
      const double p = a_[n_layers - 1][0];
      out_delta.resize(1);
      out_delta[0] = 2 * (p - y) * Derivative(config_.output_activation, z_out[0], p);
      break;
    }
    case learn::LearnerTask::kBinary:
      out_delta.resize(1);
      out_delta[0] = a_[n_layers - 1][0] - y;
      break;
    case learn::LearnerTask::kMulticlass:
      out_delta = z_out;
      SoftmaxInPlace(out_delta.data(), n_out_);
      out_delta[static_cast<Eigen::Index>(label)] -= 1.0;
      break;
  }
  if (!Finite(out_delta)) return false;
  for (size_t l = n_layers - 1; l > 0; --l) {
    delta_[l - 1].resize(layers_[l].w.rows());
    delta_[l - 1].noalias() = layers_[l].w * delta_[l];
    for (Eigen::Index j = 0; j < delta_[l - 1].size(); ++j) {
      delta_[l - 1][j] *= Derivative(config_.activation, z_[l - 1][j], a_[l - 1][j]);
    }
    if (!Finite(delta_[l - 1])) return false;
  }

  // The candidate parameters. Activations and deltas are finite, so each gradient
  // component is finite or an overflow to +-Inf, which the clip bounds.
  const double c = config_.clip_gradient;
  const double lr = config_.learning_rate;
  const bool adam = config_.optimizer == MlpOptimizer::kAdam;
  double adam_lr = 0;
  if (adam) {  // River's Adam: the bias corrections folded into the step size
    const double t = static_cast<double>(adam_steps_ + 1);
    adam_lr = lr * std::sqrt(1 - std::pow(config_.beta2, t)) / (1 - std::pow(config_.beta1, t));
  }
  next_.resize(n_layers);
  grad_.resize(n_layers);
  for (size_t l = 0; l < n_layers; ++l) {
    const Vector& in = l == 0 ? inputs_ : a_[l - 1];
    const Layer& cur = layers_[l];
    Layer& nxt = next_[l];
    Matrix& g = grad_[l];
    g.resize(cur.w.rows(), cur.w.cols());
    g.noalias() = in * delta_[l].transpose();
    g = g.cwiseMin(c).cwiseMax(-c);
    Vector& gb = delta_[l];  // the bias gradient; no longer needed as a delta
    gb = gb.cwiseMin(c).cwiseMax(-c);
    if (!adam) {
      nxt.w = cur.w - lr * g;
      nxt.b = cur.b - lr * gb;
    } else {
      const double b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
      nxt.w_m = b1 * cur.w_m + (1 - b1) * g;
      nxt.w_v = b2 * cur.w_v + (1 - b2) * g.cwiseProduct(g);
      nxt.b_m = b1 * cur.b_m + (1 - b1) * gb;
      nxt.b_v = b2 * cur.b_v + (1 - b2) * gb.cwiseProduct(gb);
      nxt.w = cur.w.array() - adam_lr * nxt.w_m.array() / (nxt.w_v.array().sqrt() + eps);
      nxt.b = cur.b.array() - adam_lr * nxt.b_m.array() / (nxt.b_v.array().sqrt() + eps);
      if (!Bounded(nxt.w_v) || !Bounded(nxt.b_v)) return false;
    }
    if (!Bounded(nxt.w) || !Bounded(nxt.b)) return false;
  }
  for (size_t l = 0; l < n_layers; ++l) std::swap(layers_[l], next_[l]);
  if (adam) ++adam_steps_;
  return true;
}

// Xavier as River draws it: per layer, randn(in, out) row by row, divided by sqrt(in).
void MlpLearner::initialize() {
  std::vector<size_t> dims{n_in_};
  for (uint32_t h : config_.hidden_dims) dims.push_back(h);
  dims.push_back(n_out_);
  layers_.assign(dims.size() - 1, Layer{});
  const bool adam = config_.optimizer == MlpOptimizer::kAdam;
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    Layer& layer = layers_[l];
    const auto rows = static_cast<Eigen::Index>(dims[l]), cols = static_cast<Eigen::Index>(dims[l + 1]);
    layer.w.resize(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j) layer.w(i, j) = draw(dims[l]);
    }
    layer.b = Vector::Zero(cols);
    if (adam) {
      layer.w_m = Matrix::Zero(rows, cols);
      layer.w_v = Matrix::Zero(rows, cols);
      layer.b_m = Vector::Zero(cols);
      layer.b_v = Vector::Zero(cols);
    }
  }
  initialized_ = true;
}

// A dense feature first seen after the weights were drawn: its row, drawn from the same
// generator (fan-in: the new input count).
void MlpLearner::grow_inputs(size_t n_in) {
  Layer& first = layers_.front();
  const Eigen::Index old_rows = first.w.rows(), cols = first.w.cols();
  const auto rows = static_cast<Eigen::Index>(n_in);
  if (rows <= old_rows) return;
  first.w.conservativeResize(rows, cols);
  for (Eigen::Index i = old_rows; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) first.w(i, j) = draw(n_in);
  }
  if (config_.optimizer == MlpOptimizer::kAdam) {
    first.w_m.conservativeResize(rows, cols);
    first.w_v.conservativeResize(rows, cols);
    first.w_m.bottomRows(rows - old_rows).setZero();
    first.w_v.bottomRows(rows - old_rows).setZero();
  }
}

// A class first seen after the weights were drawn: its output column, drawn likewise.
void MlpLearner::grow_outputs(size_t n_out) {
  Layer& last = layers_.back();
  const Eigen::Index rows = last.w.rows(), old_cols = last.w.cols();
  const auto cols = static_cast<Eigen::Index>(n_out);
  if (cols <= old_cols) return;
  last.w.conservativeResize(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = old_cols; j < cols; ++j) last.w(i, j) = draw(static_cast<size_t>(rows));
  }
  last.b.conservativeResize(cols);
  last.b.tail(cols - old_cols).setZero();
  if (config_.optimizer == MlpOptimizer::kAdam) {
    last.w_m.conservativeResize(rows, cols);
    last.w_v.conservativeResize(rows, cols);
    last.w_m.rightCols(cols - old_cols).setZero();
    last.w_v.rightCols(cols - old_cols).setZero();
    last.b_m.conservativeResize(cols);
    last.b_v.conservativeResize(cols);
    last.b_m.tail(cols - old_cols).setZero();
    last.b_v.tail(cols - old_cols).setZero();
  }
}

// A drift reset: weights and optimizer state forgotten (drawn again, from the seed, at the
// next event), the inputs' statistics, the classes and the counters kept.
void MlpLearner::reset() {
  initialized_ = false;
  layers_.clear();
  next_.clear();
  grad_.clear();
  adam_steps_ = 0;
  rng_.seed_with(config_.seed);
}

std::unique_ptr<learn::Learner> MlpLearner::fresh_copy() const {
  auto copy = std::make_unique<MlpLearner>(*this);
  copy->reset();
  copy->trained_ = 0;
  copy->guarded_ = 0;
  return copy;
}

// ---------------------------------------------------------------------------------------
// Inspection

namespace {
std::string_view ActivationName(Activation f) {
  switch (f) {
    case Activation::kRelu: return "relu";
    case Activation::kTanh: return "tanh";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kIdentity: break;
  }
  return "identity";
}
}  // namespace

std::string HiddenDimsText(const std::vector<uint32_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

void MlpLearner::describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t /*top_sparse*/) const {
  const bool adam = config_.optimizer == MlpOptimizer::kAdam;
  out.key("learner").begin_object().field("type", type()).field("task", ToString(config_.task));
  out.field("hidden_dims", HiddenDimsText(config_.hidden_dims))
      .field("activation", ActivationName(config_.activation));
  if (config_.task == learn::LearnerTask::kRegression) {
    out.field("output_activation", ActivationName(config_.output_activation));
  }
  out.field("optimizer", adam ? "adam" : "sgd").field("learning_rate", fmt::format("{}", config_.learning_rate));
  if (adam) {
    out.field("beta1", fmt::format("{}", config_.beta1))
        .field("beta2", fmt::format("{}", config_.beta2))
        .field("epsilon", fmt::format("{}", config_.eps));
  }
  out.field("seed", std::to_string(config_.seed))
      .field("standardize", config_.standardize ? "true" : "false");
  if (config_.task == learn::LearnerTask::kRegression) {
    out.field("scale_target", config_.scale_target ? "true" : "false")
        .field("target_mean", y_mean_)
        .field("target_std", std::sqrt(y_var_));
  }
  out      .field("clip_gradient", fmt::format("{}", config_.clip_gradient));
  out.end_object();

  // The layers as they are now (widths grow with new inputs and classes).
  out.key("layers").begin_array();
  std::vector<size_t> dims{n_in_};
  for (uint32_t h : config_.hidden_dims) dims.push_back(h);
  dims.push_back(n_out_);
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    const bool output = l + 2 == dims.size();
    std::string_view f = ActivationName(config_.activation);
    if (output) {
      f = config_.task == learn::LearnerTask::kBinary       ? "sigmoid"
          : config_.task == learn::LearnerTask::kMulticlass ? "softmax"
                                                            : ActivationName(config_.output_activation);
    }
    out.begin_object()
        .field("inputs", uint64_t{dims[l]})
        .field("outputs", uint64_t{dims[l + 1]})
        .field("activation", f)
        .end_object();
  }
  out.end_array();
  out.field("initialized", initialized_);
  if (config_.task == learn::LearnerTask::kMulticlass) out.field("classes", uint64_t{n_out_});
  // Per dense input: its running statistics and the L2 norm of its first-layer weights
  // (how much the network listens to it).
  out.key("inputs").begin_array();
  for (size_t i = 0; i < n_in_; ++i) {
    out.begin_object().field("feature", name(i)).field("mean", mean_[i]).field("std", std::sqrt(var_[i]));
    if (initialized_) out.field("weight_norm", layers_.front().w.row(static_cast<Eigen::Index>(i)).norm());
    out.end_object();
  }
  out.end_array();
  out.field("sparse_features", "ignored");
  out.field("adam_steps", uint64_t{adam_steps_});
  out.field("trained", uint64_t{trained_}).field("guarded_updates", uint64_t{guarded_});
  out.field("memory_bytes", uint64_t{memory_bytes()});
}

size_t MlpLearner::memory_bytes() const {
  auto bytes = [](const std::vector<Layer>& layers) {
    size_t n = layers.capacity() * sizeof(Layer);
    for (const Layer& l : layers) {
      n += sizeof(double) * static_cast<size_t>(l.w.size() + l.b.size() + l.w_m.size() + l.w_v.size() +
                                                l.b_m.size() + l.b_v.size());
    }
    return n;
  };
  size_t scratch = sizeof(double) * static_cast<size_t>(inputs_.size());
  for (const Matrix& g : grad_) scratch += sizeof(double) * static_cast<size_t>(g.size());
  for (const auto* vs : {&z_, &a_, &delta_}) {
    for (const Vector& v : *vs) scratch += sizeof(double) * static_cast<size_t>(v.size());
  }
  return sizeof(*this) + sizeof(double) * (count_.capacity() + mean_.capacity() + var_.capacity()) + bytes(layers_) +
         bytes(next_) + scratch;
}

}  // namespace streamlearn::neural

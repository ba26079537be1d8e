#pragma once
// The MLP learner behind learn::Learner; streamlearn/neural/mlp_learners.hpp has the
// arithmetic and the keys.

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/mt19937.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::neural {

enum class Activation : uint8_t { kRelu, kTanh, kSigmoid, kIdentity };
enum class MlpOptimizer : uint8_t { kSgd, kAdam };

inline constexpr uint32_t kMaxHiddenWidth = 512;
inline constexpr size_t kMaxHiddenLayers = 2;

struct MlpConfig {
  learn::LearnerTask task = learn::LearnerTask::kBinary;
  std::vector<uint32_t> hidden_dims{20};
  Activation activation = Activation::kRelu;
  Activation output_activation = Activation::kIdentity;  // regressor only
  MlpOptimizer optimizer = MlpOptimizer::kSgd;
  double learning_rate = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  uint32_t seed = 42;
  bool standardize = true;
  bool scale_target = true;  // regressor only
  double clip_gradient = 1000;

  Status validate() const;  // the problem, keyed, for settings read from a snapshot
  bool operator==(const MlpConfig&) const = default;
};

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

// One weight layer as numpy holds it: w is inputs x outputs (row i: input i's fan-out).
struct Layer {
  Matrix w;
  Vector b;
  Matrix w_m, w_v;  // adam's moments (empty under sgd)
  Vector b_m, b_v;
};

class MlpLearner final : public learn::Learner {
 public:
  explicit MlpLearner(const MlpConfig& config);

  std::string_view type() const override;
  learn::LearnerTask task() const override { return config_.task; }
  bool scores_probability() const override { return true; }

  void predict(const FeatureVector& x, learn::Prediction& out) const override;
  void learn(const FeatureVector& x, double y, double weight) override;

  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;
  std::unique_ptr<learn::Learner> fresh_copy() const override;
  void reset() override;
  void describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t top_sparse) const override;
  size_t memory_bytes() const override;
  uint64_t trained() const override { return trained_; }
  uint64_t guarded_updates() const override { return guarded_; }

  const MlpConfig& config() const { return config_; }
  bool initialized() const { return initialized_; }
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  // One step on one event; false when a guard refused it (nothing learned).
  bool step(const FeatureVector& x, double y);
  bool label_ok(double y) const;
  void observe_inputs(const FeatureVector& x);
  double input(const FeatureVector& x, size_t i) const;
  void initialize();
  void grow_inputs(size_t n_in);
  void grow_outputs(size_t n_out);
  double draw(size_t fan_in) { return rng_.next_gauss() / std::sqrt(static_cast<double>(fan_in)); }
  Activation output_kind() const;

  MlpConfig config_;
  size_t n_in_ = 0;   // dense inputs known (the first layer's rows once initialised)
  size_t n_out_ = 0;  // outputs: 1, or the classes seen (multiclass)
  // River's StandardScaler per input: count, mean, population variance.
  std::vector<double> count_, mean_, var_;
  // The regressor's target, likewise (River's TargetStandardScaler).
  double y_count_ = 0, y_mean_ = 0, y_var_ = 0;
  bool initialized_ = false;
  std::vector<Layer> layers_;
  uint64_t adam_steps_ = 0;
  NumpyLegacyRandom rng_;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;

  // learn()'s scratch: inputs, pre-activations and activations per layer, deltas (the bias
  // gradients), weight gradients, the candidate parameters (swapped in when all of them are
  // finite and bounded).
  // Sized on the first events, reused after: a warm learn() allocates nothing.
  Vector inputs_;
  std::vector<Vector> z_, a_, delta_;
  std::vector<Matrix> grad_;
  std::vector<Layer> next_;

  friend Status ReadLearner(ByteReader& in, MlpLearner* out);
};

// "[16, 8]": hidden_dims as describe() and the docs write it.
std::string HiddenDimsText(const std::vector<uint32_t>& dims);
// "5", "[5]", "16,8", "[16, 8]" or "(16, 8)": one or two widths in [1, kMaxHiddenWidth].
Status ParseHiddenDims(std::string_view text, std::vector<uint32_t>* out);

Result<std::unique_ptr<learn::Learner>> MakeMlp(std::string_view type, const learn::LearnerKeys& keys,
                                                std::string_view key_prefix);
Status CheckMlpSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreMlp(ByteReader& in);

}  // namespace streamlearn::neural

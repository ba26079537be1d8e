// The MLP family's keys, its factory entry and its registration.

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "mlp.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/learn/family_support.hpp"
#include "streamlearn/neural/mlp_learners.hpp"

namespace streamlearn::neural {
namespace {

constexpr std::string_view kKeyList =
    "hidden_dims, activation, optimizer, learning_rate, beta1, beta2, epsilon, seed, standardize, clip_gradient";

learn::LearnerTask TaskOfType(std::string_view type) {
  if (type == "mlp_multiclass") return learn::LearnerTask::kMulticlass;
  if (type == "mlp_regressor") return learn::LearnerTask::kRegression;
  return learn::LearnerTask::kBinary;
}

Status Real(std::string_view text, double lo, double hi, bool lo_open, bool hi_open, double* out) {
  return learn::ParseReal(text, lo, hi, lo_open, hi_open, out);
}

// One key into `config`; the problem without the key (the caller names it), NotFound for a
// key the family does not have.
Status ApplyKey(std::string_view key, std::string_view text, MlpConfig* config) {
  if (key == "hidden_dims") return ParseHiddenDims(text, &config->hidden_dims);
  if (key == "activation") {
    std::string name;
    SL_RETURN_IF_ERROR(learn::ParseChoice(text, {"relu", "tanh", "sigmoid"}, &name));
    config->activation = name == "relu" ? Activation::kRelu : name == "tanh" ? Activation::kTanh : Activation::kSigmoid;
    return Status::Ok();
  }
  if (key == "output_activation") {
    std::string name;
    SL_RETURN_IF_ERROR(learn::ParseChoice(text, {"identity", "relu"}, &name));
    config->output_activation = name == "relu" ? Activation::kRelu : Activation::kIdentity;
    return Status::Ok();
  }
  if (key == "optimizer") {
    std::string name;
    SL_RETURN_IF_ERROR(learn::ParseChoice(text, {"sgd", "adam"}, &name));
    config->optimizer = name == "adam" ? MlpOptimizer::kAdam : MlpOptimizer::kSgd;
    return Status::Ok();
  }
  if (key == "learning_rate") return Real(text, 0, 1e6, true, true, &config->learning_rate);
  if (key == "beta1") return Real(text, 0, 1, false, true, &config->beta1);
  if (key == "beta2") return Real(text, 0, 1, false, true, &config->beta2);
  if (key == "epsilon") return Real(text, 0, 1, true, false, &config->eps);
  if (key == "clip_gradient") return Real(text, 0, 1e100, true, false, &config->clip_gradient);
  if (key == "seed") {
    int64_t v = 0;
    SL_RETURN_IF_ERROR(learn::ParseWhole(text, 0, 4294967295LL, &v));
    config->seed = static_cast<uint32_t>(v);
    return Status::Ok();
  }
  if (key == "standardize" || key == "scale_target") {
    auto v = ParseBool(text);
    if (!v.ok()) return Status::Invalid("expected true or false, got '" + std::string(text) + "'");
    (key == "standardize" ? config->standardize : config->scale_target) = *v;
    return Status::Ok();
  }
  return Status::NotFound("");
}

}  // namespace

Status ParseHiddenDims(std::string_view text, std::vector<uint32_t>* out) {
  const std::string got = ", got '" + std::string(text) + "'";
  std::string body(text);
  const size_t first = body.find_first_not_of(" \t");
  const size_t last = body.find_last_not_of(" \t");
  body = first == std::string::npos ? "" : body.substr(first, last - first + 1);
  if (body.size() >= 2 && ((body.front() == '[' && body.back() == ']') || (body.front() == '(' && body.back() == ')'))) {
    body = body.substr(1, body.size() - 2);
  }
  std::vector<uint32_t> dims;
  size_t start = 0;
  while (true) {
    const size_t comma = body.find(',', start);
    const std::string item = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto v = ParseInteger(item);
    if (!v.ok() || *v < 1 || *v > kMaxHiddenWidth) {
      return Status::Invalid("expected one or two layer widths, each from 1 to " + std::to_string(kMaxHiddenWidth) +
                             " (e.g. [16, 8])" + got);
    }
    dims.push_back(static_cast<uint32_t>(*v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (dims.size() > kMaxHiddenLayers) return Status::Invalid("at most two hidden layers" + got);
  *out = std::move(dims);
  return Status::Ok();
}

Status MlpConfig::validate() const {
  if (task > learn::LearnerTask::kRegression) return Status::Invalid("task: unknown");
  if (hidden_dims.empty() || hidden_dims.size() > kMaxHiddenLayers) return Status::Invalid("hidden_dims: 1 or 2 layers");
  for (uint32_t h : hidden_dims) {
    if (h < 1 || h > kMaxHiddenWidth) return Status::Invalid("hidden_dims: width out of range");
  }
  if (activation > Activation::kSigmoid) return Status::Invalid("activation: unknown");
  if (output_activation != Activation::kIdentity && output_activation != Activation::kRelu) {
    return Status::Invalid("output_activation: unknown");
  }
  if (optimizer > MlpOptimizer::kAdam) return Status::Invalid("optimizer: unknown");
  if (!(learning_rate > 0 && learning_rate < 1e6)) return Status::Invalid("learning_rate: out of range");
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) return Status::Invalid("beta1/beta2: out of range");
  if (!(eps > 0 && eps <= 1)) return Status::Invalid("eps: out of range");
  if (!(clip_gradient > 0 && clip_gradient <= 1e100)) return Status::Invalid("clip_gradient: out of range");
  return Status::Ok();
}

Result<std::unique_ptr<learn::Learner>> MakeMlp(std::string_view type, const learn::LearnerKeys& keys,
                                                std::string_view key_prefix) {
  MlpConfig config;
  config.task = TaskOfType(type);
  for (const auto& [key, value] : keys) {
    if (key == "l2" || key == "hash_bits") continue;  // the pipeline's, for other families
    const bool foreign =
        (key == "output_activation" || key == "scale_target") && config.task != learn::LearnerTask::kRegression;
    Status st = foreign ? Status::NotFound("") : ApplyKey(key, value, &config);
    if (st.code() == ErrorCode::kNotFound) {
      return Status::Invalid(std::string(key_prefix) + key + ": unknown key for " + std::string(type) + " (its keys: " +
                             std::string(kKeyList) +
                             (config.task == learn::LearnerTask::kRegression ? ", output_activation, scale_target)" : ")"));
    }
    if (!st.ok()) return Status::Invalid(std::string(key_prefix) + key + ": " + st.message());
  }
  return std::unique_ptr<learn::Learner>(std::make_unique<MlpLearner>(config));
}

Status CheckMlpSetting(std::string_view key, std::string_view value) {
  MlpConfig config;
  Status st = ApplyKey(key, value, &config);
  return st.code() == ErrorCode::kNotFound ? Status::Ok() : st;  // another family's key: judged later
}

Result<std::unique_ptr<learn::Learner>> RestoreMlp(ByteReader& in) {
  ByteReader peek = in;
  auto learner = std::make_unique<MlpLearner>(MlpConfig{});
  SL_RETURN_IF_ERROR(ReadLearner(peek, learner.get()));
  in = peek;
  return std::unique_ptr<learn::Learner>(std::move(learner));
}

Status RegisterNeuralLearners() {
  using learn::LearnerTask;
  return learn::RegisterLearnerFamily({{{"mlp", LearnerTask::kBinary},
                                        {"mlp_multiclass", LearnerTask::kMulticlass},
                                        {"mlp_regressor", LearnerTask::kRegression}},
                                       kMlpKindTag,
                                       MakeMlp,
                                       CheckMlpSetting,
                                       RestoreMlp});
}

}  // namespace streamlearn::neural

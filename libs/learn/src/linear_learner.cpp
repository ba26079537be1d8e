#include "linear_learner.hpp"
#include "streamlearn/learn/linear_update.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <typeinfo>

namespace streamlearn::learn {

namespace {

struct LinearMemo final : PredictionMemo {
  LinearModel::Memo kept;
};

// The memo when it is a LinearMemo (a type comparison, cheaper than a dynamic_cast).
const LinearMemo* AsLinearMemo(const PredictionMemo* memo) {
  return memo != nullptr && typeid(*memo) == typeid(LinearMemo) ? static_cast<const LinearMemo*>(memo) : nullptr;
}

}  // namespace

void LinearLearner::predict_keeping(const FeatureVector& x, Prediction& out,
                                    std::unique_ptr<PredictionMemo>& memo) const {
  if (AsLinearMemo(memo.get()) == nullptr) memo = std::make_unique<LinearMemo>();
  model_.predict_keeping(x, out, static_cast<LinearMemo*>(memo.get())->kept);
}

void LinearLearner::learn_predicted(const FeatureVector& x, double y, double weight, const PredictionMemo* memo) {
  const LinearMemo* kept = AsLinearMemo(memo);
  if (weight != 1.0 || kept == nullptr) {
    learn(x, y, weight);
    return;
  }
  model_.learn_predicted(x, y, &kept->kept);
}

namespace {

// model.type -> the LinearModel loss.
struct LinearType {
  std::string_view type;
  Loss loss;
};
constexpr LinearType kLinearTypes[] = {{"logistic", Loss::kLog},   {"softmax", Loss::kSoftmax}, {"linear", Loss::kSquared},
                                       {"huber", Loss::kHuber},    {"hinge", Loss::kHinge}};

static_assert(kMaxLearnerClasses == kMaxSoftmaxClasses);

void DescribeOutput(JsonWriter& out, const LinearModel& model, const DenseFeatureName& name, uint32_t output,
                    size_t top_sparse) {
  const auto learned = model.dense_weights(output);
  const auto input_units = model.weights_in_input_units(output);
  out.begin_object().field("bias", model.bias(output)).field("bias_input_units", model.bias_in_input_units(output));
  out.key("dense").begin_array();
  for (size_t i = 0; i < learned.size(); ++i) {
    const auto stats = model.dense_input_stats(i);
    out.begin_object()
        .field("feature", name(i))
        .field("weight", learned[i])
        .field("weight_input_units", i < input_units.size() ? input_units[i] : 0.0)
        .field("mean", stats.mean)
        .field("std", stats.std_dev)
        .end_object();
  }
  out.end_array();
  auto sparse = model.sparse_weights(output);
  std::stable_sort(sparse.begin(), sparse.end(), [](const SparseWeight& a, const SparseWeight& b) {
    return std::abs(a.weight) > std::abs(b.weight);
  });
  out.field("sparse_nonzero", uint64_t{sparse.size()});
  out.key("sparse_top").begin_array();
  for (size_t i = 0; i < std::min(top_sparse, sparse.size()); ++i) {
    out.begin_object().field("bucket", uint64_t{sparse[i].bucket}).field("weight", sparse[i].weight).end_object();
  }
  out.end_array().end_object();
}

}  // namespace

std::string_view LinearLearner::type() const {
  for (const auto& t : kLinearTypes) {
    if (t.loss == model_.config().loss) return t.type;
  }
  return "logistic";  // unreachable: every loss has a type
}

LearnerTask LinearLearner::task() const {
  switch (model_.config().loss) {
    case Loss::kSoftmax: return LearnerTask::kMulticlass;
    case Loss::kSquared:
    case Loss::kHuber: return LearnerTask::kRegression;
    default: return LearnerTask::kBinary;
  }
}

std::unique_ptr<Learner> LinearLearner::fresh_copy() const {
  auto copy = std::make_unique<LinearLearner>(model_);
  copy->model_.reset_weights();  // fresh weights, the input statistics and classes kept
  return copy;
}

Status LinearLearner::mix(double own_weight, std::span<const MixInput> peers) {
  std::vector<LinearModel::MixPeer> models;
  models.reserve(peers.size());
  for (const MixInput& peer : peers) {
    const auto* linear = dynamic_cast<const LinearLearner*>(peer.learner);
    if (linear == nullptr) {
      return Status::FailedPrecondition("cannot mix a " + std::string(peer.learner ? peer.learner->type() : "missing") +
                                        " model into a " + std::string(type()) + " model");
    }
    models.push_back({&linear->model_, peer.weight});
  }
  return model_.mix(own_weight, models);
}

void LinearLearner::describe(JsonWriter& out, const DenseFeatureName& name, size_t top_sparse) const {
  out.key("learner").begin_object();
  for (const auto& [key, value] : ToStringMap(model_.config())) out.field(key, std::string_view(value));
  out.end_object();
  out.key("weights").begin_array();
  for (uint32_t o = 0; o < model_.outputs(); ++o) DescribeOutput(out, model_, name, o, top_sparse);
  out.end_array();
}

Result<std::unique_ptr<Learner>> MakeLinearLearner(std::string_view type, const LearnerKeys& keys,
                                                   std::string_view key_prefix) {
  const auto it = std::find_if(std::begin(kLinearTypes), std::end(kLinearTypes),
                               [&](const LinearType& t) { return t.type == type; });
  if (it == std::end(kLinearTypes)) return Status::Invalid(std::string(key_prefix) + "type: not a linear model type");
  LearnerKeys with_loss = keys;
  with_loss["loss"] = std::string(ToString(it->loss));
  auto config = ParseLinearModelConfig(with_loss, key_prefix);
  if (!config.ok()) return config.status();
  return std::unique_ptr<Learner>(std::make_unique<LinearLearner>(LinearModel(*config)));
}

Status CheckLinearSetting(std::string_view key, std::string_view value) {
  auto checked = ParseLinearModelConfig({{std::string(key), std::string(value)}});
  if (checked.ok()) return Status::Ok();
  const std::string& message = checked.status().message();
  const std::string own = std::string(key) + ":";
  // A problem of this value ("<key>: must be ..., got ...") is reported; one of the
  // combination with the defaults (e.g. a schedule with a non-SGD optimizer) is judged
  // when the whole config is.
  if (message.rfind(own, 0) == 0 && message.find("got") != std::string::npos) {
    return Status::Invalid(message.substr(own.size() + 1));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Learner>> RestoreLinearLearner(ByteReader& in) {
  auto model = LinearModel::Restore(in);
  if (!model.ok()) return model.status();
  return std::unique_ptr<Learner>(std::make_unique<LinearLearner>(std::move(model).value()));
}

Status AddLearnerUpdate(Learner& target, const Learner& now, const Learner& base) {
  auto* own = dynamic_cast<LinearLearner*>(&target);
  if (own == nullptr) {
    return Status::Unimplemented("model type " + std::string(target.type()) +
                                 " does not add peers' updates: each instance keeps its own model");
  }
  const auto* a = dynamic_cast<const LinearLearner*>(&now);
  const auto* b = dynamic_cast<const LinearLearner*>(&base);
  if (a == nullptr || b == nullptr) {
    return Status::FailedPrecondition("cannot add a " + std::string(a == nullptr ? now.type() : base.type()) +
                                      " model's update to a " + std::string(target.type()) + " model");
  }
  return own->model().add_update(a->model(), b->model());
}

}  // namespace streamlearn::learn

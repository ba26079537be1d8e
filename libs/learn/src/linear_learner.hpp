#pragma once
// The linear family behind the Learner interface: a LinearModel per learner, one virtual
// call per predict()/learn() and nothing allocated beyond what LinearModel itself does.
// Private to the learn lib: the factory makes these.
//
// Kind tag: LinearModel's own snapshot header, unchanged (so stored snapshots keep their
// bytes): magic "SLLM" names the family, the loss byte after the format version the type.

#include <cmath>
#include <memory>
#include <string_view>

#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

inline constexpr uint32_t kLinearKindTag = 0x4d4c4c53;  // "SLLM" little-endian: LinearModel's magic

class LinearLearner final : public Learner {
 public:
  explicit LinearLearner(LinearModel model) : model_(std::move(model)) {}

  std::string_view type() const override;
  LearnerTask task() const override;
  bool scores_probability() const override { return model_.config().loss == Loss::kLog; }

  void predict(const FeatureVector& x, Prediction& out) const override { model_.predict(x, out); }
  void learn(const FeatureVector& x, double y, double weight) override {
    if (weight == 1.0) {
      model_.learn(x, y);
      return;
    }
    for (double k = std::round(weight); k >= 1; --k) model_.learn(x, y);  // NaN and <= 0: nothing
  }
  // The memo holds LinearModel::Memo: the inputs' check and the sparse entries found while
  // predicting, which learning the same vector would look for again.
  void predict_keeping(const FeatureVector& x, Prediction& out, std::unique_ptr<PredictionMemo>& memo) const override;
  void learn_predicted(const FeatureVector& x, double y, double weight, const PredictionMemo* memo) override;

  void save(ByteWriter& out) const override { model_.save(out); }
  Status load(ByteReader& in) override { return model_.load(in); }
  std::unique_ptr<Learner> fresh_copy() const override;
  void reset() override { model_.reset_weights(); }
  Status mix(double own_weight, std::span<const MixInput> peers) override;
  LinearModel& model() { return model_; }  // model sync adds peers' updates to it
  void describe(JsonWriter& out, const DenseFeatureName& name, size_t top_sparse) const override;
  size_t memory_bytes() const override { return sizeof(*this) - sizeof(model_) + model_.memory_bytes(); }
  uint64_t trained() const override { return model_.trained(); }
  uint64_t guarded_updates() const override { return model_.guarded_updates(); }

  const LinearModel& model() const { return model_; }

 private:
  LinearModel model_;
};

// The family's factory entries (learner_factory.cpp's table).
Result<std::unique_ptr<Learner>> MakeLinearLearner(std::string_view type, const LearnerKeys& keys,
                                                   std::string_view key_prefix);
Status CheckLinearSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<Learner>> RestoreLinearLearner(ByteReader& in);

}  // namespace streamlearn::learn

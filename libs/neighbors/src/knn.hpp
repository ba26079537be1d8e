#pragma once
// River's KNNClassifier and KNNRegressor (exact search) behind learn::Learner; see
// streamlearn/neighbors/knn_learners.hpp for the arithmetic and the keys.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "knn_window.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::neighbors {

enum class Aggregation : uint8_t { kMean, kMedian, kWeightedMean };

struct KnnConfig {
  learn::LearnerTask task = learn::LearnerTask::kBinary;
  uint32_t n_neighbors = 5;
  uint32_t window_size = 1000;
  double p = 2;
  bool weighted = true;   // classifier: votes of 1/distance
  bool softmax = false;   // classifier: softmax of the votes instead of votes / their sum
  Aggregation aggregation = Aggregation::kMean;  // regressor
};

class KnnLearner final : public learn::Learner {
 public:
  explicit KnnLearner(const KnnConfig& config) : config_(config), window_(config.window_size) {}

  std::string_view type() const override;
  learn::LearnerTask task() const override { return config_.task; }
  bool scores_probability() const override { return true; }

  void predict(const FeatureVector& x, learn::Prediction& out) const override;
  void learn(const FeatureVector& x, double y, double weight) override;

  void save(ByteWriter& out) const override;
  Status load(ByteReader& in) override;
  std::unique_ptr<learn::Learner> fresh_copy() const override;
  void reset() override { window_.clear(); }
  void describe(JsonWriter& out, const learn::DenseFeatureName& name, size_t top_sparse) const override;
  size_t memory_bytes() const override;
  uint64_t trained() const override { return trained_; }
  uint64_t guarded_updates() const override { return guarded_; }

  const KnnConfig& config() const { return config_; }

 private:
  void classify(const FeatureVector& x, learn::Prediction& out) const;
  double regress(const FeatureVector& x) const;

  KnnConfig config_;
  KnnWindow window_;
  std::vector<uint8_t> seen_;  // classifier: class c was ever learned (River's `classes`, kept by reset)
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeKnn(std::string_view type, const learn::LearnerKeys& keys,
                                                std::string_view key_prefix);
Status CheckKnnSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreKnn(ByteReader& in);

}  // namespace streamlearn::neighbors

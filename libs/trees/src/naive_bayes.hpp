#pragma once
// River's naive_bayes.GaussianNB behind learn::Learner. Per class: its count (the prior)
// and a Gaussian per dense feature. predict gives River's predict_proba_one: the joint log
// likelihood log P(c) + sum over the present features of log(1e-9 + pdf_c(x_i)), normalised
// with log-sum-exp, over the classes seen. The sparse block is not read (one-hot buckets
// are constant 1.0 where present, which a Gaussian cannot use).

#include <memory>
#include <string_view>
#include <vector>

#include "gaussian.hpp"
#include "streamlearn/learn/learner.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::trees {

class NaiveBayesLearner final : public learn::Learner {
 public:
  explicit NaiveBayesLearner(learn::LearnerTask task) : task_(task) {}

  std::string_view type() const override;
  learn::LearnerTask task() const override { return task_; }
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

 private:
  struct ClassStats {
    double count = 0;                 // events of the class (River's class_counts)
    bool has_features = false;        // River keeps a class's Gaussians once a feature came with it
    std::vector<Gaussian> features;   // by dense index
  };

  void learn_one(const FeatureVector& x, uint32_t label);
  void decode(ByteReader& r, std::vector<ClassStats>* classes, uint32_t* known, uint64_t* trained,
              uint64_t* guarded, Status* st) const;

  learn::LearnerTask task_;
  uint32_t known_classes_ = 0;  // labels 0..known-1 have been given (kept by reset)
  std::vector<ClassStats> classes_;
  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

Result<std::unique_ptr<learn::Learner>> MakeNaiveBayes(std::string_view type, const learn::LearnerKeys& keys,
                                                       std::string_view key_prefix);
Status CheckNaiveBayesSetting(std::string_view key, std::string_view value);
Result<std::unique_ptr<learn::Learner>> RestoreNaiveBayes(ByteReader& in);

}  // namespace streamlearn::trees

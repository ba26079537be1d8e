#include "adaptive_random_forest.hpp"
#include "adaptive_random_forest_regressor.hpp"
#include "hoeffding_adaptive_tree.hpp"
#include "hoeffding_adaptive_tree_regressor.hpp"
#include "hoeffding_tree.hpp"
#include "hoeffding_tree_regressor.hpp"
#include "naive_bayes.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/trees/tree_learners.hpp"

namespace streamlearn::trees {

Status RegisterTreeLearners() {
  using learn::LearnerTask;
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily(
      {{{"hoeffding_tree", LearnerTask::kBinary}, {"hoeffding_tree_multiclass", LearnerTask::kMulticlass}},
       kHoeffdingTreeKindTag,
       MakeHoeffdingTree,
       CheckHoeffdingTreeSetting,
       RestoreHoeffdingTree}));
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily({{{"hoeffding_tree_regressor", LearnerTask::kRegression}},
                                                   kHoeffdingTreeRegressorKindTag,
                                                   MakeHoeffdingTreeRegressor,
                                                   CheckHoeffdingTreeRegressorSetting,
                                                   RestoreHoeffdingTreeRegressor}));
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily({{{"arf", LearnerTask::kBinary}, {"arf_multiclass", LearnerTask::kMulticlass}},
                                                   kAdaptiveRandomForestKindTag,
                                                   MakeAdaptiveRandomForest,
                                                   CheckAdaptiveRandomForestSetting,
                                                   RestoreAdaptiveRandomForest}));
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily({{{"arf_regressor", LearnerTask::kRegression}},
                                                   kArfRegressorKindTag,
                                                   MakeAdaptiveRandomForestRegressor,
                                                   CheckAdaptiveRandomForestRegressorSetting,
                                                   RestoreAdaptiveRandomForestRegressor}));
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily(
      {{{"hoeffding_adaptive_tree", LearnerTask::kBinary}, {"hoeffding_adaptive_tree_multiclass", LearnerTask::kMulticlass}},
       kHoeffdingAdaptiveTreeKindTag,
       MakeHoeffdingAdaptiveTree,
       CheckHoeffdingAdaptiveTreeSetting,
       RestoreHoeffdingAdaptiveTree}));
  SL_RETURN_IF_ERROR(learn::RegisterLearnerFamily({{{"hoeffding_adaptive_tree_regressor", LearnerTask::kRegression}},
                                                   kHoeffdingAdaptiveTreeRegressorKindTag,
                                                   MakeHoeffdingAdaptiveTreeRegressor,
                                                   CheckHoeffdingAdaptiveTreeRegressorSetting,
                                                   RestoreHoeffdingAdaptiveTreeRegressor}));
  return learn::RegisterLearnerFamily({{{"naive_bayes", LearnerTask::kBinary},
                                        {"naive_bayes_multiclass", LearnerTask::kMulticlass}},
                                       kNaiveBayesKindTag,
                                       MakeNaiveBayes,
                                       CheckNaiveBayesSetting,
                                       RestoreNaiveBayes});
}

}  // namespace streamlearn::trees

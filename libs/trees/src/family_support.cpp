#include "family_support.hpp"

#include <algorithm>
#include <cmath>

namespace streamlearn::trees {

learn::LearnerTask TaskOfType(std::string_view type) {
  constexpr std::string_view kSuffix = "_multiclass";
  const bool multi = type.size() > kSuffix.size() && type.substr(type.size() - kSuffix.size()) == kSuffix;
  return multi ? learn::LearnerTask::kMulticlass : learn::LearnerTask::kBinary;
}

bool ValidClassLabel(learn::LearnerTask task, double y) {
  if (!std::isfinite(y) || y < 0 || y != std::floor(y)) return false;
  return task == learn::LearnerTask::kBinary ? y <= 1 : y < learn::kMaxLearnerClasses;
}

bool FiniteTreeInputs(const FeatureVector& x) {
  const size_t n = std::min(x.dense.size(), x.present.size());
  for (size_t i = 0; i < n; ++i) {
    if (x.present[i] && !std::isfinite(x.dense[i])) return false;
  }
  return x.sparse_index.size() == x.sparse_value.size();
}

}  // namespace streamlearn::trees

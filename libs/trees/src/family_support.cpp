#include "family_support.hpp"

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

}  // namespace streamlearn::trees

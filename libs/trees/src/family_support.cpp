#include "family_support.hpp"

namespace streamlearn::trees {

learn::LearnerTask TaskOfType(std::string_view type) {
  constexpr std::string_view kSuffix = "_multiclass";
  const bool multi = type.size() > kSuffix.size() && type.substr(type.size() - kSuffix.size()) == kSuffix;
  return multi ? learn::LearnerTask::kMulticlass : learn::LearnerTask::kBinary;
}

}  // namespace streamlearn::trees

#pragma once
// What both tree families share beyond learn's family support: their task from the type.

#include <string_view>

#include "streamlearn/learn/family_support.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::trees {

using learn::IsPipelineKey;
using learn::ParseChoice;
using learn::ParseReal;
using learn::ParseWhole;
using learn::ReadSealed;
using learn::WriteSealed;

// A learner's task from its type name: "<family>_multiclass" is multiclass, else binary.
learn::LearnerTask TaskOfType(std::string_view type);

// A class label the task takes: 0/1 (binary) or a class index below kMaxLearnerClasses.
bool ValidClassLabel(learn::LearnerTask task, double y);

}  // namespace streamlearn::trees

#pragma once
// Learners by type name. A table of families (src/learner_factory.cpp): each lists its type
// names, how to make one from settings, how to check one setting on its own, and its
// snapshot kind tag. A new family is one entry there plus its own files and tests.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::learn {

// Settings by key, as text (a YAML section flattened): e.g. learning_rate, l2, hash_bits,
// optimizer. Each family documents its keys.
using LearnerKeys = std::map<std::string, std::string>;

// Every known type name, in table order ("logistic", "softmax", "linear", "huber", "hinge").
const std::vector<std::string_view>& LearnerTypes();
// A learner of `type` with `keys`; an unknown type, an unknown key or a bad value is
// InvalidArgument naming "<key_prefix><key>" (e.g. "model.beta1: must be in [0, 1), got 1.5").
Result<std::unique_ptr<Learner>> MakeLearner(std::string_view type, const LearnerKeys& keys,
                                             std::string_view key_prefix = {});
// What `type` predicts; InvalidArgument for an unknown type.
Result<LearnerTask> TaskOfLearnerType(std::string_view type);
// One setting checked on its own, for any family that has the key (a config file names the
// line). Ok when some family accepts it or the problem lies in a combination judged by
// MakeLearner; else InvalidArgument with the problem ("must be in [0, 1), got 1.5").
Status CheckLearnerSetting(std::string_view key, std::string_view value);
// The learner a snapshot holds, with the snapshot's own settings, of whatever family its
// kind tag names: for inspecting or reading past a stored learner. Corruption when no
// family knows the tag or the bytes are bad.
Result<std::unique_ptr<Learner>> RestoreLearner(ByteReader& in);

}  // namespace streamlearn::learn

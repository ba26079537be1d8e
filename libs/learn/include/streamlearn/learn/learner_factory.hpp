#pragma once
// Learners by type name. A table of families (src/learner_factory.cpp): each lists its type
// names, how to make one from settings, how to check one setting on its own, and its
// snapshot kind tag. A family of the learn lib is one entry there plus its own files and
// tests; a family in a lib above learn (trees, ...) adds its entry with
// RegisterLearnerFamily, so the dependencies keep pointing down: learn never names them.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::learn {

// Settings by key, as text (a YAML section flattened): e.g. learning_rate, l2, hash_bits,
// optimizer. Each family documents its keys.
using LearnerKeys = std::map<std::string, std::string>;

// One family of learners: the type names it makes (each with its task), its snapshots'
// 4-byte kind tag (little-endian u32), and how it makes, checks and restores learners.
struct LearnerFamily {
  std::vector<std::pair<std::string_view, LearnerTask>> types;
  uint32_t kind_tag = 0;
  Result<std::unique_ptr<Learner>> (*make)(std::string_view type, const LearnerKeys& keys,
                                           std::string_view key_prefix) = nullptr;
  Status (*check)(std::string_view key, std::string_view value) = nullptr;
  Result<std::unique_ptr<Learner>> (*restore)(ByteReader& in) = nullptr;
};

// Adds a family after the built-in ones (a lib above learn calls this, e.g.
// trees::RegisterTreeLearners). Call at start-up, from one thread, before any learner is
// made or any config read: the table is not locked. A family whose kind tag is known
// already is not added again (so registering twice is harmless); a type name that is
// taken is InvalidArgument.
Status RegisterLearnerFamily(LearnerFamily family);

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

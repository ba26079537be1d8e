#include "streamlearn/learn/learner_factory.hpp"

#include <algorithm>

#include "linear_learner.hpp"

namespace streamlearn::learn {
namespace {

// One row per learner family. To add one: its Learner subclass in its own files, its make /
// check / restore functions, a row here, and the contract suite run against it.
struct LearnerFamily {
  std::vector<std::pair<std::string_view, LearnerTask>> types;  // model.type names it makes
  uint32_t kind_tag;  // the first 4 bytes of its snapshots (little-endian u32)
  Result<std::unique_ptr<Learner>> (*make)(std::string_view type, const LearnerKeys& keys,
                                           std::string_view key_prefix);
  Status (*check)(std::string_view key, std::string_view value);
  Result<std::unique_ptr<Learner>> (*restore)(ByteReader& in);
};

const std::vector<LearnerFamily>& Families() {
  static const std::vector<LearnerFamily> families = {
      {{{"logistic", LearnerTask::kBinary},
        {"softmax", LearnerTask::kMulticlass},
        {"linear", LearnerTask::kRegression},
        {"huber", LearnerTask::kRegression},
        {"hinge", LearnerTask::kBinary}},
       kLinearKindTag,
       MakeLinearLearner,
       CheckLinearSetting,
       RestoreLinearLearner},
  };
  return families;
}

const LearnerFamily* FamilyOf(std::string_view type, LearnerTask* task) {
  for (const auto& family : Families()) {
    for (const auto& [name, t] : family.types) {
      if (name == type) {
        if (task) *task = t;
        return &family;
      }
    }
  }
  return nullptr;
}

std::string TypeChoices() {
  std::string out;
  for (std::string_view t : LearnerTypes()) out.append(out.empty() ? "" : ", ").append(t);
  return out;
}

}  // namespace

std::string_view ToString(LearnerTask task) {
  switch (task) {
    case LearnerTask::kBinary: return "binary";
    case LearnerTask::kMulticlass: return "multiclass";
    case LearnerTask::kRegression: return "regression";
  }
  return "binary";
}

const std::vector<std::string_view>& LearnerTypes() {
  static const std::vector<std::string_view> types = [] {
    std::vector<std::string_view> out;
    for (const auto& family : Families()) {
      for (const auto& t : family.types) out.push_back(t.first);
    }
    return out;
  }();
  return types;
}

Result<std::unique_ptr<Learner>> MakeLearner(std::string_view type, const LearnerKeys& keys,
                                             std::string_view key_prefix) {
  const LearnerFamily* family = FamilyOf(type, nullptr);
  if (!family) {
    return Status::Invalid(std::string(key_prefix) + "type: expected one of " + TypeChoices() + ", got '" +
                           std::string(type) + "'");
  }
  return family->make(type, keys, key_prefix);
}

Result<LearnerTask> TaskOfLearnerType(std::string_view type) {
  LearnerTask task = LearnerTask::kBinary;
  if (!FamilyOf(type, &task)) return Status::Invalid("unknown learner type '" + std::string(type) + "'");
  return task;
}

Status CheckLearnerSetting(std::string_view key, std::string_view value) {
  Status first = Status::Ok();
  for (const auto& family : Families()) {
    Status st = family.check(key, value);
    if (st.ok()) return st;
    if (first.ok()) first = st;
  }
  return first;
}

Result<std::unique_ptr<Learner>> RestoreLearner(ByteReader& in) {
  ByteReader peek = in;
  const uint32_t tag = peek.u32();
  if (!peek.ok()) return Status::Corruption("learner snapshot: truncated kind tag");
  for (const auto& family : Families()) {
    if (family.kind_tag == tag) return family.restore(in);
  }
  return Status::Corruption("learner snapshot: unknown kind tag");
}

}  // namespace streamlearn::learn

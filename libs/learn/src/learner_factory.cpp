#include "streamlearn/learn/learner_factory.hpp"

#include <algorithm>

#include "linear_learner.hpp"

namespace streamlearn::learn {
namespace {

// One row per learner family of this lib. To add one: its Learner subclass in its own files,
// its make / check / restore functions, a row here, and the contract suite run against it.
// Families of libs above learn join with RegisterLearnerFamily.
std::vector<LearnerFamily>& MutableFamilies() {
  static std::vector<LearnerFamily> families = {
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

const std::vector<LearnerFamily>& Families() { return MutableFamilies(); }

// Rebuilt when a family registers.
std::vector<std::string_view>& MutableTypes() {
  static std::vector<std::string_view> types;
  return types;
}

void RebuildTypes() {
  auto& types = MutableTypes();
  types.clear();
  for (const auto& family : Families()) {
    for (const auto& t : family.types) types.push_back(t.first);
  }
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

Status Learner::mix(double /*own_weight*/, std::span<const MixInput> /*peers*/) {
  return Status::Unimplemented("model type " + std::string(type()) +
                               " does not mix with peers: each instance keeps its own model");
}

const std::vector<std::string_view>& LearnerTypes() {
  if (MutableTypes().empty()) RebuildTypes();
  return MutableTypes();
}

Status RegisterLearnerFamily(LearnerFamily family) {
  if (!family.make || !family.check || !family.restore || family.types.empty()) {
    return Status::Invalid("learner family: types, make, check and restore are required");
  }
  for (const auto& known : Families()) {
    if (known.kind_tag == family.kind_tag) return Status::Ok();  // registered already
  }
  for (const auto& t : family.types) {
    if (FamilyOf(t.first, nullptr)) {
      return Status::Invalid("learner family: type '" + std::string(t.first) + "' is taken");
    }
  }
  MutableFamilies().push_back(std::move(family));
  RebuildTypes();
  return Status::Ok();
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

#include "label_kind_watch.hpp"

#include <spdlog/spdlog.h>

namespace streamlearn::pipeline {

namespace {

std::string_view KindName(Label::Kind kind) {
  switch (kind) {
    case Label::Kind::kBinary: return "0/1 or boolean labels";
    case Label::Kind::kReal: return "numeric labels";
    case Label::Kind::kClass: return "class-name (string) labels";
  }
  return "labels";
}

std::string Advice(Label::Kind received, Task task, const ModelSettings& model) {
  std::string expects;
  std::string fix;
  switch (task) {
    case Task::kBinary:
      expects = "0, 1 or a boolean";
      fix = received == Label::Kind::kReal
                ? "for a numeric target run with -c config/regression.yaml (the default regression pipeline) "
                  "or set model.type to a regressor (linear)"
                : "for class names set model.type: softmax";
      break;
    case Task::kRegression:
      expects = "a number";
      fix = "for a class target set model.type: logistic (0/1) or softmax (class names), or leave model.type out "
            "for the binary default";
      break;
    case Task::kMulticlass:
      expects = "a class name or 0/1";
      fix = "for a numeric target run with -c config/regression.yaml or set model.type to a regressor (linear)";
      break;
  }
  return "received " + std::string(KindName(received)) + " but model '" + model.name + "' (" + model.type +
         ") learns " + expects + ": " + fix;
}

}  // namespace

void LabelKindWatch::refused(Label::Kind received, Task task, const ModelSettings& model) {
  ++refused_;
  ++in_a_row_;
  if (!advice_.empty()) return;
  advice_ = Advice(received, task, model);
  spdlog::warn("labels of the wrong kind for this pipeline: {}. Every such event or label is dead-lettered and "
               "nothing is learned from it (counted in streamlearn_labels_wrong_kind_total and /v1/status "
               "labels_wrong_kind). Logged once",
               advice_);
}

}  // namespace streamlearn::pipeline

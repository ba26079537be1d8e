#include <catch2/catch.hpp>

#include "learner_contract.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/learn/linear_model.hpp"

using namespace streamlearn;

namespace {

std::unique_ptr<learn::Learner> Make(std::string_view type, const learn::LearnerKeys& keys) {
  auto made = learn::MakeLearner(type, keys);
  REQUIRE(made.ok());
  return std::move(made).value();
}

}  // namespace

// Every type of the factory, with its defaults: a new family's types join here.
TEST_CASE("every learner type keeps the learner contract", "[learner][contract]") {
  for (std::string_view type : learn::LearnerTypes()) {
    DYNAMIC_SECTION(type) {
      testing::CheckLearnerContract([&] { return Make(type, {{"hash_bits", "8"}, {"learning_rate", "0.05"}}); });
    }
  }
}

TEST_CASE("the contract holds under other optimizers", "[learner][contract]") {
  for (const char* optimizer : {"adagrad", "adam", "ftrl"}) {
    DYNAMIC_SECTION(optimizer) {
      testing::CheckLearnerContract([&] { return Make("logistic", {{"hash_bits", "8"}, {"optimizer", optimizer}}); });
    }
  }
  SECTION("softmax with sgd and l1") {
    testing::CheckLearnerContract([] { return Make("softmax", {{"hash_bits", "8"}, {"l1", "0.001"}}); });
  }
}

TEST_CASE("the factory names types, tasks and bad settings", "[learner][factory]") {
  CHECK(learn::LearnerTypes() == std::vector<std::string_view>{"logistic", "softmax", "linear", "huber", "hinge"});
  CHECK(*learn::TaskOfLearnerType("softmax") == learn::LearnerTask::kMulticlass);
  CHECK(*learn::TaskOfLearnerType("huber") == learn::LearnerTask::kRegression);
  CHECK(*learn::TaskOfLearnerType("hinge") == learn::LearnerTask::kBinary);
  CHECK_FALSE(learn::TaskOfLearnerType("forest").ok());

  auto unknown = learn::MakeLearner("forest", {}, "model.");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() ==
        "model.type: expected one of logistic, softmax, linear, huber, hinge, got 'forest'");
  auto bad = learn::MakeLearner("logistic", {{"beta1", "1.5"}, {"optimizer", "adam"}}, "model.");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("model.beta1:", 0) == 0);

  CHECK(learn::CheckLearnerSetting("l1", "0.1").ok());
  CHECK(learn::CheckLearnerSetting("schedule", "optimal").ok());  // a combination: judged later
  CHECK(learn::CheckLearnerSetting("beta1", "1.5").message().find("got 1.5") != std::string::npos);
  CHECK_FALSE(learn::CheckLearnerSetting("optimizer", "rmsprop").ok());

  auto made = learn::MakeLearner("linear", {{"hash_bits", "8"}});
  REQUIRE(made.ok());
  CHECK((*made)->type() == "linear");
  CHECK((*made)->task() == learn::LearnerTask::kRegression);
  CHECK_FALSE((*made)->scores_probability());
  CHECK((*learn::MakeLearner("logistic", {}))->scores_probability());
  CHECK_FALSE((*learn::MakeLearner("hinge", {}))->scores_probability());
}

TEST_CASE("RestoreLearner reads any stored learner by its kind tag", "[learner][factory]") {
  auto made = learn::MakeLearner("softmax", {{"hash_bits", "8"}, {"learning_rate", "0.2"}});
  REQUIRE(made.ok());
  const auto stream = testing::ContractStream(learn::LearnerTask::kMulticlass, 100);
  testing::LearnAll(**made, stream);
  const std::string bytes = testing::SavedLearner(**made);
  ByteReader in(bytes);
  auto restored = learn::RestoreLearner(in);
  REQUIRE(restored.ok());
  CHECK(in.at_end());
  CHECK((*restored)->type() == "softmax");
  CHECK(testing::SavedLearner(**restored) == bytes);
  CHECK(testing::SamePredictions(testing::PredictAll(**restored, stream), testing::PredictAll(**made, stream)));

  std::string other = bytes;
  other[0] = 'X';
  ByteReader wrong(other);
  auto refused = learn::RestoreLearner(wrong);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == ErrorCode::kCorruption);
  ByteReader empty("");
  CHECK(learn::RestoreLearner(empty).status().code() == ErrorCode::kCorruption);
}

TEST_CASE("the linear learner's snapshot is LinearModel's, byte for byte", "[learner][factory]") {
  auto made = learn::MakeLearner("logistic", {{"hash_bits", "8"}, {"learning_rate", "0.05"}});
  REQUIRE(made.ok());
  learn::LinearModelConfig config;
  config.hash_bits = 8;
  config.learning_rate = 0.05;
  learn::LinearModel model(config);
  const auto stream = testing::ContractStream(learn::LearnerTask::kBinary, 100);
  for (const auto& e : stream) model.learn(e.x, e.y);
  testing::LearnAll(**made, stream);
  std::string direct;
  ByteWriter w(&direct);
  model.save(w);
  CHECK(testing::SavedLearner(**made) == direct);
}

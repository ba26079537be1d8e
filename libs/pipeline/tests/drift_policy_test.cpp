// The drift policy on its own: errors in, what happened out, the model acted on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "drift_policy.hpp"
#include "streamlearn/learn/learner_factory.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
using Kind = DriftPolicy::Outcome::Kind;

namespace {

std::unique_ptr<learn::Learner> TrainedModel() {
  auto made = learn::MakeLearner("logistic", {{"hash_bits", "8"}, {"learning_rate", "0.1"}});
  REQUIRE(made.ok());
  FeatureVector x;
  x.dense = {1.0, -2.0};
  x.present = {1, 1};
  for (int i = 0; i < 50; ++i) {
    x.dense[0] = i % 3;
    (*made)->learn(x, i % 2);
  }
  return std::move(made).value();
}

std::string Saved(const learn::Learner& l) {
  std::string bytes;
  ByteWriter w(&bytes);
  l.save(w);
  return bytes;
}

std::unique_ptr<DriftPolicy> Policy(const std::string& action, double delta = 0.002, double warning_delta = 0.01,
                                    int background_max_events = 5000) {
  DriftSettings settings;
  settings.action = ParseDriftAction(action).value();
  settings.delta = delta;
  settings.warning_delta = warning_delta;
  settings.background_max_events = background_max_events;
  auto policy = DriftPolicy::Create(settings);
  REQUIRE(policy.ok());
  return std::move(policy).value();
}

struct Run {
  std::vector<DriftPolicy::Outcome> outcomes;
  const DriftPolicy::Outcome* first(Kind kind) const {
    for (const auto& o : outcomes) {
      if (o.kind == kind) return &o;
    }
    return nullptr;
  }
};

// Feeds `errors`; the background learner (if any) learns each event as the processor does.
Run Feed(DriftPolicy& policy, std::unique_ptr<learn::Learner>& model, const std::vector<double>& errors) {
  Run run;
  FeatureVector x;
  x.dense = {0.5, 1.0};
  x.present = {1, 1};
  for (double e : errors) {
    run.outcomes.push_back(policy.update(e, model));
    policy.learn(x, 1);
  }
  return run;
}

std::vector<double> Errors(size_t zeros, size_t ones) {
  std::vector<double> out(zeros, 0.0);
  out.insert(out.end(), ones, 1.0);
  return out;
}

}  // namespace

TEST_CASE("drift fires: reset forgets the weights and asks for a new version", "[drift_policy]") {
  auto policy = Policy("reset");
  auto model = TrainedModel();
  const std::string learned = Saved(*model);
  auto fresh = model->fresh_copy();
  const Run run = Feed(*policy, model, Errors(1000, 200));
  const auto* drift = run.first(Kind::kDrift);
  REQUIRE(drift);
  CHECK(drift->action == "reset");
  CHECK(drift->model_replaced);
  CHECK_FALSE(drift->background_swapped);
  CHECK(drift->error_after > drift->error_before);
  CHECK(Saved(*model) != learned);
  CHECK(Saved(*model) == Saved(*fresh));  // weights as fresh, the input statistics kept
  CHECK(policy->counts().improvements == 0);
}

TEST_CASE("drift fires under action none: alert only, the model kept", "[drift_policy]") {
  auto policy = Policy("none");
  auto model = TrainedModel();
  const std::string learned = Saved(*model);
  const Run run = Feed(*policy, model, Errors(1000, 200));
  const auto* drift = run.first(Kind::kDrift);
  REQUIRE(drift);
  CHECK(drift->action == "none");
  CHECK_FALSE(drift->model_replaced);
  CHECK(Saved(*model) == learned);
}

TEST_CASE("an improvement is counted, not acted on", "[drift_policy]") {
  auto policy = Policy("reset");
  auto model = TrainedModel();
  const std::string learned = Saved(*model);
  std::vector<double> errors(600, 1.0);
  errors.insert(errors.end(), 600, 0.0);
  const Run run = Feed(*policy, model, errors);
  CHECK(run.first(Kind::kImprovement));
  CHECK_FALSE(run.first(Kind::kDrift));
  CHECK(policy->counts().improvements >= 1);
  CHECK(Saved(*model) == learned);
}

TEST_CASE("background: the warning starts a learner, the drift swaps it in", "[drift_policy]") {
  auto policy = Policy("background");
  auto model = TrainedModel();
  const learn::Learner* champion = model.get();
  const Run run = Feed(*policy, model, Errors(1000, 300));
  const auto* warning = run.first(Kind::kWarning);
  const auto* drift = run.first(Kind::kDrift);
  REQUIRE(warning);
  REQUIRE(drift);
  CHECK(warning < drift);  // the warning came first
  CHECK(warning->action == "background");
  CHECK(warning->background_started);
  CHECK(warning->background_trained == 0);
  CHECK(drift->background_swapped);
  CHECK(drift->model_replaced);
  // The swapped-in learner learned every event from its warning on (its own included).
  CHECK(drift->background_trained == static_cast<uint64_t>(drift - warning));
  CHECK(model.get() != champion);
  CHECK(policy->counts().backgrounds_started == 1);
  CHECK(policy->counts().warnings == 1);
}

TEST_CASE("background: a warning that clears drops the learner", "[drift_policy]") {
  // A loose warning detector and a strict drift detector: a short burst of errors is a
  // warning and no drift; after background_max_events events without a drift it clears.
  auto policy = Policy("background", 1e-9, 0.5, 20);
  auto model = TrainedModel();
  std::vector<double> errors = Errors(1000, 8);
  errors.insert(errors.end(), 300, 0.0);
  const Run run = Feed(*policy, model, errors);
  REQUIRE(run.first(Kind::kWarning));
  CHECK_FALSE(run.first(Kind::kDrift));
  const DriftPolicy::Outcome* dropped = nullptr;
  for (const auto& o : run.outcomes) {
    if (o.background_dropped && !dropped) dropped = &o;
  }
  REQUIRE(dropped);
  CHECK(dropped->background_trained == 20);
  CHECK(policy->counts().backgrounds_dropped >= 1);
  CHECK(policy->counts().backgrounds_dropped + (policy->has_background() ? 1 : 0) ==
        policy->counts().backgrounds_started);
}

TEST_CASE("the policy's learners survive a snapshot, and another action drops the background", "[drift_policy]") {
  auto policy = Policy("background");
  auto model = TrainedModel();
  Run run = Feed(*policy, model, Errors(1000, 20));
  REQUIRE(policy->has_background());
  std::string bytes;
  ByteWriter w(&bytes);
  policy->save_learners(w);

  auto same = Policy("background");
  ByteReader r(bytes);
  REQUIRE(same->load_learners(r, *model).ok());
  CHECK(r.at_end());
  CHECK(same->has_background());
  CHECK(same->background_trained() == policy->background_trained());

  auto other = Policy("reset");
  ByteReader again(bytes);
  REQUIRE(other->load_learners(again, *model).ok());
  CHECK(again.at_end());
  CHECK_FALSE(other->has_background());
}

TEST_CASE("a bad detector setting names its key", "[drift_policy]") {
  DriftSettings settings;
  settings.params["delta"] = "2";
  auto policy = DriftPolicy::Create(settings);
  REQUIRE_FALSE(policy.ok());
  CHECK(policy.status().message().rfind("drift.params:", 0) == 0);
}

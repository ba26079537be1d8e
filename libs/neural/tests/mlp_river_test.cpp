#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "river_streams.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neural/mlp_learners.hpp"

// River's MLPRegressor docstring (river/neural_net/mlp.py):
//
//   pp.StandardScaler() | nn.MLPRegressor(hidden_dims=(5,),
//       activations=(ReLU, ReLU, Identity), optimizer=optim.SGD(1e-3), seed=42)
//   evaluate.progressive_val_score(TrumpApproval, model, MAE)  ->  MAE: 1.580578
//
// What it takes to reproduce, all checked against numpy's arithmetic:
//   - the weights: numpy's legacy RandomState(42).randn(6, 5) / sqrt(6), then randn(5, 1) /
//     sqrt(5) (core's NumpyLegacyRandom), biases 0;
//   - the input order: River sorts the columns by name (gallup, ipsos, morning_consult,
//     ordinal_date, rasmussen, you_gov), which decides which row of weights each feature gets;
//   - the output activation: River's forward pass applies activations[0] to the hidden layer
//     and activations[1] to the output, never activations[2]: the output is a ReLU
//     (output_activation: relu);
//   - the scaler: River's current Pipeline predicts with the scaler's statistics before the
//     event and learns with them updated (our standardize does exactly that; the older
//     protocol, update before predicting, gives 1.589827);
//   - the first prediction, before any learning, is 0 and is scored.

using namespace streamlearn;
using testing::Scaling;

namespace {

std::unique_ptr<learn::Learner> Make(const learn::LearnerKeys& keys) {
  REQUIRE(neural::RegisterNeuralLearners().ok());
  auto made = learn::MakeLearner("mlp_regressor", keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

// TrumpApproval with its features in River's order: sorted by column name.
std::vector<testing::RiverExample> SortedTrumpApproval() {
  // CSV order: ordinal_date, gallup, ipsos, morning_consult, rasmussen, you_gov.
  const std::vector<size_t> by_name{1, 2, 3, 0, 4, 5};
  auto stream = testing::TrumpApprovalStream();
  for (auto& e : stream) {
    const std::vector<double> csv = e.x.dense;
    for (size_t i = 0; i < by_name.size(); ++i) e.x.dense[i] = csv[by_name[i]];
  }
  return stream;
}

const learn::LearnerKeys kRiverDocstring{{"hidden_dims", "[5]"},     {"activation", "relu"},
                                         {"output_activation", "relu"}, {"optimizer", "sgd"},
                                         {"learning_rate", "1e-3"},     {"seed", "42"},
                                         {"scale_target", "false"}};

}  // namespace

TEST_CASE("mlp_regressor reproduces River's MLPRegressor docstring on TrumpApproval (MAE 1.580578)",
          "[neural][river]") {
  const auto stream = SortedTrumpApproval();
  REQUIRE(stream.size() == 1001);

  auto internal = Make(kRiverDocstring);  // standardize: true, the scaler inside
  const auto ours = testing::RunProgressive(*internal, stream, Scaling::kNone);
  CHECK(ours.scored == 1001);
  CHECK(testing::Rounded(ours.mae(), 6) == 1.580578);
  CHECK(internal->guarded_updates() == 0);

  learn::LearnerKeys raw = kRiverDocstring;
  raw["standardize"] = "false";
  auto external = Make(raw);  // River's StandardScaler before it, as the docstring's pipeline
  CHECK(testing::Rounded(testing::RunProgressive(*external, stream, Scaling::kTransformThenLearn).mae(), 6) == 1.580578);
  auto older = Make(raw);
  CHECK(testing::Rounded(testing::RunProgressive(*older, stream, Scaling::kLearnThenTransform).mae(), 6) == 1.589827);
}

TEST_CASE("mlp_regressor beats the running mean on TrumpApproval, with our defaults too", "[neural][river]") {
  const auto stream = SortedTrumpApproval();
  double mean = 0, mean_abs_error = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    mean_abs_error += std::abs(stream[i].y - mean);  // predicted before learning, 0 at first
    mean += (stream[i].y - mean) / static_cast<double>(i + 1);
  }
  mean_abs_error /= static_cast<double>(stream.size());
  auto docstring = Make(kRiverDocstring);
  const double river_mae = testing::RunProgressive(*docstring, stream, Scaling::kNone).mae();
  auto defaults = Make({});
  const double default_mae = testing::RunProgressive(*defaults, stream, Scaling::kNone).mae();
  auto adam = Make({{"hidden_dims", "[16]"}, {"optimizer", "adam"}, {"learning_rate", "0.01"}});
  const double adam_mae = testing::RunProgressive(*adam, stream, Scaling::kNone).mae();
  INFO("running mean " << mean_abs_error << ", River's docstring model " << river_mae << ", defaults "
                       << default_mae << ", adam [16] " << adam_mae);
  CHECK(default_mae < mean_abs_error);
  CHECK(adam_mae < mean_abs_error);
}

// The linear model alone (the pipeline's settings without ApplyDefaultModels' selection;
// `streamlearn evaluate -c` with only the model type) on River's real regression streams,
// as scripts/csv-to-events.py turns them into events: it must beat
// the mean predictor and River's LinearRegression after a StandardScaler (its published
// progressive-validation MAE). And stream-level lags (features.lags) on autocorrelated streams.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "river_csv.hpp"
#include "streamlearn/offline/evaluate.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

// The defaults, the model type from the labels (default_pipeline_test.cpp adds the
// default candidates, as `streamlearn evaluate FILE` does).
EvaluationResult EvaluateDefault(const std::string& events, PipelineConfig config = {}) {
  std::istringstream peek(events);
  config.model.type = GuessModelType(peek);
  std::istringstream in(events);
  EvaluateInputs inputs;
  inputs.events = &in;
  inputs.events_name = "river.jsonl";
  auto result = Evaluate(config, inputs);
  REQUIRE(result.ok());
  return std::move(result).value();
}

}  // namespace

TEST_CASE("the default pipeline beats the mean and River's linear regression on TrumpApproval and ChickWeights",
          "[evaluate][regression]") {
  struct Case {
    const char* file;
    const char* target;
    double river_linear_mae;  // River's published figure (LinearRegression after StandardScaler)
  };
  for (const Case c : {Case{"trump_approval.csv", "five_thirty_eight", 1.349}, Case{"chick-weights.csv", "weight", 23.84}}) {
    INFO(c.file);
    const EvaluationResult r = EvaluateDefault(testing::RiverCsvEvents(c.file, c.target));
    CHECK(r.model_type == "linear");
    CHECK(r.invalid_events == 0);
    REQUIRE(r.regression);
    const double mae = r.regression->cumulative.mae;
    INFO("MAE " << mae << ", mean baseline " << r.regression->mean.mae << ", River " << c.river_linear_mae);
    CHECK(mae < r.regression->mean.mae);
    CHECK(mae < c.river_linear_mae);  // TrumpApproval 0.488, ChickWeights 22.75
    CHECK(r.divergence_count == 0);
    CHECK(EvaluationJson(r).find("\"divergences\":0") != std::string::npos);
  }
}

TEST_CASE("a forced divergence is in evaluate's table and JSON, apart from the detector's drifts",
          "[evaluate][regression]") {
  std::string events;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 2000; ++i) {
    const double a = u(rng), b = 1e4 * u(rng);
    events += fmt::format(R"({{"id":"r-{}","features":{{"a":{},"b":{}}},"label":{}}})", i, a, b, 1e6 + 3e5 * a + 20 * b) + "\n";
  }
  PipelineConfig config;
  config.model.learning_rate = 5;
  config.model.params["schedule"] = "constant";
  const EvaluationResult r = EvaluateDefault(events, config);
  REQUIRE(r.divergence_count >= 1);
  const std::string json = EvaluationJson(r);
  CHECK(json.find("\"reason\":\"diverged\"") != std::string::npos);
  CHECK(json.find("\"divergences\":" + std::to_string(r.divergence_count)) != std::string::npos);
  CHECK(EvaluationTable(r).find("divergences " + std::to_string(r.divergence_count)) != std::string::npos);
}

TEST_CASE("features.lags: the previous labels and field values help on autocorrelated streams", "[evaluate][lags]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> u(0, 10);
  // AR(1) with an irrelevant feature; and a label made from the previous event's price.
  std::string ar, delayed;
  double y = 0, previous_price = 5;
  for (int i = 0; i < 5000; ++i) {
    y = 0.9 * y + noise(rng);
    const double price = u(rng);
    ar += fmt::format(R"({{"id":"r-{}","features":{{"x":{}}},"label":{}}})", i, noise(rng), 20 + y) + "\n";
    delayed += fmt::format(R"({{"id":"r-{}","features":{{"price":{}}},"label":{}}})", i, price,
                           3 * previous_price + 0.1 * noise(rng)) +
               "\n";
    previous_price = price;
  }
  const EvaluationResult plain_ar = EvaluateDefault(ar);
  PipelineConfig lagged;
  lagged.features.params["lags.labels"] = "2";
  const EvaluationResult lagged_ar = EvaluateDefault(ar, lagged);
  INFO("AR(1): MAE without lags " << plain_ar.regression->cumulative.mae << ", with " << lagged_ar.regression->cumulative.mae);
  CHECK(lagged_ar.regression->cumulative.mae < 0.6 * plain_ar.regression->cumulative.mae);
  CHECK(lagged_ar.regression->cumulative.mae < 0.6 * lagged_ar.regression->mean.mae);

  const EvaluationResult plain_price = EvaluateDefault(delayed);
  PipelineConfig price_lag;
  price_lag.features.params["lags.fields.price"] = "1";
  const EvaluationResult lagged_price = EvaluateDefault(delayed, price_lag);
  INFO("price: MAE without lags " << plain_price.regression->cumulative.mae << ", with "
                                   << lagged_price.regression->cumulative.mae);
  CHECK(lagged_price.regression->cumulative.mae < 0.3 * plain_price.regression->cumulative.mae);
}

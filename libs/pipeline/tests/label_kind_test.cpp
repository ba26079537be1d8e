// Labels of a kind the task cannot learn: counted, the run of them measured, the advice
// given (what came, what the model learns, what to set), and /v1/status's undefined figures
// null rather than 0.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/pipeline/runner.hpp"
#include "label_kind_watch.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

struct DeadLetterSink : JsonOutputSink {
  std::vector<std::string> reasons;
  Status prediction(std::string_view, std::string_view) override { return Status::Ok(); }
  Status dead_letter(const RawMessage&, std::string_view reason) override {
    reasons.emplace_back(reason);
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
};

// Events {"features":{"x":i},"label":<labels[i]>} through a processor of `config`.
ProcessorStats Process(const PipelineConfig& config, const std::vector<std::string>& labels, DeadLetterSink& sink) {
  auto p = Processor::Create(config, nullptr, nullptr);
  REQUIRE(p.ok());
  std::vector<std::string> payloads;
  for (size_t i = 0; i < labels.size(); ++i) {
    payloads.push_back(R"({"id":"e)" + std::to_string(i) + R"(","features":{"x":)" + std::to_string(i) +
                       R"(},"label":)" + labels[i] + "}");
  }
  std::vector<RawMessage> raw;
  for (size_t i = 0; i < payloads.size(); ++i) {
    raw.push_back({{"events", 0, static_cast<int64_t>(i), 1700000000000}, "u", payloads[i]});
  }
  REQUIRE((*p)->process(raw, sink).ok());
  return (*p)->stats();
}

PipelineConfig Regression() {
  PipelineConfig config;
  config.model.name = "linear";
  config.model.type = "linear";
  return config;
}

}  // namespace

TEST_CASE("numeric labels on the binary default: counted, the run measured, the advice names config/regression.yaml",
          "[processor][labels]") {
  DeadLetterSink sink;
  const ProcessorStats st = Process(PipelineConfig{}, {"2.5", "17", "1", "3.25", "4.5", "6"}, sink);
  REQUIRE(sink.reasons.size() == 5);
  CHECK(st.labels_wrong_kind == 5);
  CHECK(st.labels_wrong_kind_in_a_row == 3);  // the 0/1 label in the middle ends the first run
  CHECK_THAT(st.label_kind_advice, Catch::Contains("received numeric labels"));
  CHECK_THAT(st.label_kind_advice, Catch::Contains("model 'logreg' (logistic) learns 0, 1 or a boolean"));
  CHECK_THAT(st.label_kind_advice, Catch::Contains("-c config/regression.yaml"));

  RunnerStatus status;
  status.processor = st;
  const std::string json = StatusToJson(status, PipelineConfig{});
  INFO(json);
  CHECK_THAT(json, Catch::Contains(R"("labels_wrong_kind":5,"labels_wrong_kind_in_a_row":3,"label_kind_advice":"received numeric labels)"));
}

TEST_CASE("class names on a regression and numbers on a softmax are refused with their own advice", "[processor][labels]") {
  DeadLetterSink sink;
  ProcessorStats st = Process(Regression(), {R"("cat")", "1.5"}, sink);
  CHECK(st.labels_wrong_kind == 1);
  CHECK(st.labels_wrong_kind_in_a_row == 0);
  CHECK_THAT(st.label_kind_advice, Catch::Contains("received class-name (string) labels"));
  CHECK_THAT(st.label_kind_advice, Catch::Contains("softmax"));

  PipelineConfig softmax;
  softmax.model.type = "softmax";
  st = Process(softmax, {"2.5", R"("cat")"}, sink);
  CHECK(st.labels_wrong_kind == 1);
  CHECK_THAT(st.label_kind_advice, Catch::Contains("config/regression.yaml"));
  CHECK(LabelKindFits(Label::Kind::kBinary, Task::kRegression));
  CHECK(LabelKindFits(Label::Kind::kBinary, Task::kMulticlass));
  CHECK_FALSE(LabelKindFits(Label::Kind::kReal, Task::kBinary));
}

TEST_CASE("/v1/status: accuracy null before any label and for a regression, which gives its MAE", "[processor][labels]") {
  RunnerStatus status;
  std::string json = StatusToJson(status, PipelineConfig{});
  INFO(json);
  CHECK_THAT(json, Catch::Contains(R"("labelled":0,"accuracy":null,"rolling_accuracy":null,"log_loss":null,"majority_baseline":null,"labels_wrong_kind":0,)"));

  DeadLetterSink sink;
  status.processor = Process(PipelineConfig{}, {"1", "0", "1"}, sink);
  json = StatusToJson(status, PipelineConfig{});
  CHECK_THAT(json, Catch::Contains(R"("labelled":3,"accuracy":)"));
  CHECK_THAT(json, !Catch::Contains(R"("accuracy":null)"));

  status.processor = Process(Regression(), {"1.5", "2.5", "4"}, sink);
  json = StatusToJson(status, Regression());
  CHECK_THAT(json, Catch::Contains(R"("labelled":3,"accuracy":null,"rolling_accuracy":null,)"));
  CHECK_THAT(json, Catch::Contains(R"("mae":)"));
  CHECK_THAT(json, !Catch::Contains(R"("mae":null)"));
  status.processor = {};
  CHECK_THAT(StatusToJson(status, Regression()), Catch::Contains(R"("mae":null,"rmse":null,"r2":null)"));
}

#include "streamlearn/pipeline/predict.hpp"

#include <chrono>
#include <optional>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/pipeline/output.hpp"
#include "streamlearn/state/store.hpp"
#include "output_encoders.hpp"

namespace streamlearn::pipeline {

void SnapshotBoard::publish(std::shared_ptr<const PredictSnapshot> snapshot) {
  std::lock_guard lock(mutex_);
  latest_ = std::move(snapshot);
}

std::shared_ptr<const PredictSnapshot> SnapshotBoard::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

Result<std::vector<std::string_view>> SplitJsonArray(std::string_view text, bool* is_array) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t begin = 0;
  while (begin < text.size() && is_space(text[begin])) ++begin;
  *is_array = begin < text.size() && text[begin] == '[';
  if (!*is_array) return std::vector<std::string_view>{text};
  std::vector<std::string_view> elements;
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t start = begin + 1;
  for (size_t i = begin + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    } else if (depth == 0 && (c == ',' || c == ']')) {
      std::string_view element = text.substr(start, i - start);
      while (!element.empty() && is_space(element.front())) element.remove_prefix(1);
      while (!element.empty() && is_space(element.back())) element.remove_suffix(1);
      if (element.empty() && !(c == ']' && elements.empty())) {
        return Status::Invalid("malformed array: an empty element at byte " + std::to_string(i));
      }
      if (!element.empty()) elements.push_back(element);
      start = i + 1;
      if (c == ']') {
        for (size_t j = i + 1; j < text.size(); ++j) {
          if (!is_space(text[j])) return Status::Invalid("unexpected text after the array at byte " + std::to_string(j));
        }
        if (elements.empty()) return Status::Invalid("empty array: send at least one event");
        return elements;
      }
    }
  }
  return Status::Invalid("malformed array: no closing ']'");
}

struct Predictor::Impl {
  PipelineConfig config;
  features::FeatureConfig feature_config;
  const SnapshotBoard* board = nullptr;
  state::StateStore* store = nullptr;

  // The restored copy of `current`'s model. Learner::predict is const: it stays as loaded.
  std::shared_ptr<const PredictSnapshot> current;
  std::unique_ptr<learn::Learner> model;
  Task task = Task::kBinary;

  EventDecoder decoder;
  Event event;
  FeatureVector x;
  learn::Prediction prediction;
  PredictionEncoder encoder;
  std::vector<std::string_view> keys;
  std::vector<std::optional<std::string>> values;

  Status load(std::shared_ptr<const PredictSnapshot> snapshot) {
    auto learner = learn::MakeLearner(config.model.type, LearnerKeys(config.model, config.features.hash_bits), "model.");
    if (!learner.ok()) return learner.status();
    ByteReader r(snapshot->model);
    SL_RETURN_IF_ERROR((*learner)->load(r));
    model = std::move(learner).value();
    task = model->task();
    current = std::move(snapshot);
    return Status::Ok();
  }

  // The entity's state as the snapshot sees it: its copy, else the store's, else empty.
  Status entity_state(std::string_view key, features::EntityState* state) {
    *state = {};
    if (auto it = current->entities.find(key); it != current->entities.end()) {
      *state = it->second;
      return Status::Ok();
    }
    if (store == nullptr) return Status::Ok();
    keys.assign(1, key);
    SL_RETURN_IF_ERROR(store->get_entities(keys, &values));
    if (values[0]) SL_RETURN_IF_ERROR(features::EntityState::decode(*values[0], state));
    return Status::Ok();
  }
};

Predictor::Predictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Predictor::~Predictor() = default;

Result<std::unique_ptr<Predictor>> Predictor::Create(const PipelineConfig& config, const SnapshotBoard* board,
                                                     state::StateStore* store) {
  RegisterLearnerFamilies();
  auto fc = features::FeatureConfig::Parse(FeatureKeys(config.features));
  if (!fc.ok()) return fc.status();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->feature_config = std::move(fc).value();
  impl->board = board;
  impl->store = store;
  return std::unique_ptr<Predictor>(new Predictor(std::move(impl)));
}

Result<std::string> Predictor::predict(std::string_view body) {
  Impl& s = *impl_;
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<const PredictSnapshot> latest = s.board->latest();
  if (!latest) return Status::Unavailable("no model snapshot yet: the stream has not published one");
  if (latest != s.current) {
    Status st = s.load(std::move(latest));
    if (!st.ok()) return Status::Internal("model snapshot: " + st.message());
  }
  bool is_array = false;
  auto elements = SplitJsonArray(body, &is_array);
  if (!elements.ok()) return elements.status();

  // A fresh builder per request, from the snapshot's bytes: building a vector may add
  // dictionary entries or statistics to the builder, which must not outlive the request.
  features::FeatureDictionary dictionary(s.feature_config.max_dense_features);
  features::FeatureBuilder builder(s.feature_config, &dictionary);
  ByteReader r(s.current->features);
  SL_RETURN_IF_ERROR(dictionary.load(r));
  SL_RETURN_IF_ERROR(builder.load(r));

  std::string out;
  if (is_array) out.push_back('[');
  features::EntityState state;
  for (size_t i = 0; i < elements->size(); ++i) {
    const std::string_view text = (*elements)[i];
    // Without an id or ts the event gets "predict-0-<index>" and the snapshot's time.
    const SourcePosition source{"predict", 0, static_cast<int64_t>(i), s.current->taken_ms};
    Status st = s.decoder.decode(text, {}, source, &s.event);
    if (!st.ok()) {
      return Status::Invalid(is_array ? "event " + std::to_string(i) + ": " + st.message() : st.message());
    }
    if (!s.event.entity.empty()) {
      SL_RETURN_IF_ERROR(s.entity_state(s.event.entity, &state));
      builder.build(s.event, state, &s.x);
    } else {
      builder.build(s.event, &s.x);
    }
    s.model->predict(s.x, s.prediction);

    PredictionRecord record;
    record.id = s.event.id;
    record.entity = s.event.entity;
    record.model = s.current->model_name;
    record.version = s.current->model_version;
    record.score = s.prediction.score;
    const int predicted = s.prediction.class_index;
    if (s.task == Task::kBinary) {
      record.class_field = PredictionRecord::ClassField::kIndex;
      record.class_index = predicted == 1 ? 1 : 0;
    } else if (s.task == Task::kMulticlass) {
      if (predicted >= 0 && static_cast<size_t>(predicted) < s.current->class_names.size()) {
        record.class_field = PredictionRecord::ClassField::kName;
        record.class_name = s.current->class_names[static_cast<size_t>(predicted)];
      } else {
        record.class_field = PredictionRecord::ClassField::kNull;
      }
    }
    record.ts_ms = s.event.ts_ms;
    record.latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    if (i > 0) out.push_back(',');
    s.encoder.encode(record, out);
  }
  if (is_array) out.push_back(']');
  return out;
}

}  // namespace streamlearn::pipeline

#include "streamlearn/offline/core_bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <span>

#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/eval/streams.hpp"
#include "streamlearn/features/features.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/offline/evaluate.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Counts what the processor emits; keeps nothing (the bench measures the core, not a sink).
class CountingSink : public JsonOutputSink {
 public:
  Status prediction(std::string_view, std::string_view json) override {
    bytes_ += json.size();
    predictions_++;
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view) override {
    dead_++;
    return Status::Ok();
  }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
  uint64_t predictions() const { return predictions_; }
  uint64_t dead() const { return dead_; }

 private:
  uint64_t predictions_ = 0, dead_ = 0, bytes_ = 0;
};

// The four stages the learning core is made of, composed directly from the libs as the
// Processor composes them (default pipeline config): decode, the entity's state and the
// features built from it, predict, learn (and the entity's update). Without what the
// service adds around them: prediction JSON, metrics, drift detectors, offsets.
Result<double> RunFourStages(const std::vector<RawMessage>& raw, size_t batch, const PipelineConfig& config) {
  auto feature_config = features::FeatureConfig::Parse(FeatureKeys(config.features));
  if (!feature_config.ok()) return feature_config.status();
  auto made = learn::MakeLearner(config.model.type, LearnerKeys(config.model, config.features.hash_bits), "model.");
  if (!made.ok()) return made.status();
  learn::Learner& model = **made;
  const bool regression = TaskOf(config.model) == Task::kRegression;
  EventDecoder decoder;
  features::FeatureDictionary dictionary(feature_config->max_dense_features);
  features::FeatureBuilder builder(*feature_config, &dictionary);
  learn::Prediction prediction;
  features::StringMap<features::EntityState> entities;
  std::vector<Event> events(batch);
  std::vector<features::EntityState*> states(batch);
  FeatureVector x;
  uint64_t trained = 0;
  const auto begin = Clock::now();
  for (size_t from = 0; from < raw.size(); from += batch) {
    // As the Processor does a poll's batch: decode it, find its entities in one pass (their
    // cache misses overlap), then test and train event by event, an entity's aggregates
    // asked for a few events ahead.
    const size_t n = std::min(batch, raw.size() - from);
    size_t valid = 0;
    for (size_t i = 0; i < n; ++i) {
      const RawMessage& m = raw[from + i];
      if (decoder.decode(m.payload, m.key, m.source, &events[valid]).ok()) valid++;
    }
    // An event without an entity has no state: features from the event alone.
    for (size_t i = 0; i < valid; ++i) states[i] = events[i].entity.empty() ? nullptr : &entities[events[i].entity];
    for (size_t i = 0; i < valid; ++i) {
      if (i + features::kPrefetchAhead < valid && states[i + features::kPrefetchAhead]) {
        features::PrefetchAggregates(*states[i + features::kPrefetchAhead]);
      }
      const Event& event = events[i];
      features::EntityState* state = states[i];
      if (state) {
        builder.build(event, *state, &x);
      } else {
        builder.build(event, &x);
      }
      model.predict(x, prediction);
      if (event.label) {
        const double y = regression ? event.label->value : event.label->value >= 0.5 ? 1 : 0;
        model.learn(x, y);
        if (state) builder.learn_target(y, state);
        trained++;
      }
      if (state) {
        builder.update(event, state);
      } else {
        builder.update(event);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  if (trained == 0 || model.trained() == 0) return Status::Internal("bench core: the four stages learned nothing");
  return seconds;
}

CoreBenchFigure Figure(std::string name, uint64_t events, double seconds) {
  return {std::move(name), static_cast<double>(events) / seconds, seconds * 1e9 / static_cast<double>(events)};
}

}  // namespace

Result<CoreBenchResult> RunCoreBench(const CoreBenchOptions& options,
                                     const std::function<void(const std::string&)>& print) {
  eval::StreamOptions so;
  so.events = options.events;
  so.seed = options.seed;
  if (options.entities > 0) so.entities = options.entities;  // else the stream's own default
  so.concepts = 1;
  auto stream = eval::MakeStream(options.stream, so);
  if (!stream.ok()) return stream.status();
  // One buffer of JSON lines, as a poll would hand them over.
  std::string buffer;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<std::string> keys;
  eval::GeneratedEvent event;
  eval::EventJsonOptions json_options;
  json_options.concept_marker = false;
  while ((*stream)->next(&event)) {
    const size_t at = buffer.size();
    eval::AppendEventJson(buffer, event, (*stream)->position() - 1, json_options);
    spans.emplace_back(at, buffer.size() - at);
    keys.push_back(event.entity);
  }
  std::vector<RawMessage> raw;
  raw.reserve(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    raw.push_back({{"events", 0, static_cast<int64_t>(i), -1}, keys[i],
                   std::string_view(buffer).substr(spans[i].first, spans[i].second)});
  }
  CoreBenchResult result;
  result.bytes_per_event = static_cast<double>(buffer.size()) / static_cast<double>(raw.size());
  PipelineConfig base;  // the default pipeline, with the options' feature keys
  for (const auto& [key, value] : options.features) base.features.params[key] = value;
  // The model evaluate picks from the labels: logistic for 0/1 labels, linear for a numeric
  // target (the regression stream's), from the stream's first lines as evaluate reads them.
  std::string head;
  for (size_t i = 0; i < std::min<size_t>(raw.size(), 1000); ++i) head.append(raw[i].payload).push_back('\n');
  std::istringstream head_lines(head);
  base.model.type = GuessModelType(head_lines);
  const bool any_entity = std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return !k.empty(); });
  print(fmt::format("bench core: {} events of the '{}' stream ({}), {:.0f} bytes of JSON each, {} model, batches of "
                    "{}, best of {}",
                    raw.size(), options.stream,
                    any_entity ? fmt::format("{} entities", so.entity_count()) : std::string("no entity field"),
                    result.bytes_per_event, base.model.type, options.batch, options.repeats));

  // 1. Decode alone: the floor every event pays.
  double best = 1e300;
  for (int r = 0; r < options.repeats; ++r) {
    EventDecoder decoder;
    Event decoded;
    uint64_t ok = 0;
    const auto begin = Clock::now();
    for (const auto& m : raw) ok += decoder.decode(m.payload, m.key, m.source, &decoded).ok() ? 1 : 0;
    best = std::min(best, std::chrono::duration<double>(Clock::now() - begin).count());
    if (ok != raw.size()) return Status::Internal("bench core: the generated stream did not decode");
  }
  result.figures.push_back(Figure("decode (simdjson)", raw.size(), best));

  // 2. The learning core: decode + features + predict + learn.
  best = 1e300;
  for (int r = 0; r < options.repeats; ++r) {
    auto seconds = RunFourStages(raw, options.batch, base);
    if (!seconds.ok()) return seconds.status();
    best = std::min(best, *seconds);
  }
  result.figures.push_back(Figure("decode + features + predict + learn", raw.size(), best));

  // 3. The whole core, as the service runs it (entity aggregates, features, predict,
  // learn, metrics, concept-drift detector, prediction JSON), without and with the data
  // drift monitor (on by default). The two take turns, in the other order at each repeat,
  // so that load moving on a shared machine, or the heap a freed processor leaves, weighs
  // on both figures alike rather than on whichever runs second: measured one after the
  // other, their difference (the monitor's cost) read from -760 to +265 ns per event on
  // the entities stream from run to run.
  double best_of[2] = {1e300, 1e300};  // [data_drift]
  for (int r = 0; r < options.repeats; ++r) {
    for (const bool second : {false, true}) {
      const bool data_drift = (r % 2 == 0) == second;
      PipelineConfig config = base;
      config.drift.data_enabled = data_drift;
      auto processor = Processor::Create(config, nullptr, nullptr);
      if (!processor.ok()) return processor.status();
      CountingSink sink;
      const auto begin = Clock::now();
      for (size_t i = 0; i < raw.size(); i += options.batch) {
        const size_t n = std::min(options.batch, raw.size() - i);
        SL_RETURN_IF_ERROR((*processor)->process(std::span<const RawMessage>(raw).subspan(i, n), sink));
      }
      double& figure_best = best_of[data_drift ? 1 : 0];
      figure_best = std::min(figure_best, std::chrono::duration<double>(Clock::now() - begin).count());
      if (sink.predictions() != raw.size()) {
        return Status::Internal(fmt::format("bench core: {} predictions for {} events ({} dead letters)",
                                            sink.predictions(), raw.size(), sink.dead()));
      }
      if (data_drift) {
        result.entities = (*processor)->stats().entities_cached;
        result.bytes_per_entity = result.entities == 0 ? 0
                                                       : static_cast<double>((*processor)->entity_memory_bytes()) /
                                                             static_cast<double>(result.entities);
      }
    }
  }
  result.figures.push_back(Figure("processor (+ JSON, metrics, concept drift)", raw.size(), best_of[0]));
  result.figures.push_back(Figure("processor (+ JSON, metrics, drift, data drift)", raw.size(), best_of[1]));
  // 4. Delayed labels: the events without their labels, each label a message of its own
  // on the labels topic label_delay_events later; the label join holds the served vector
  // until then.
  if (options.label_delay_events > 0) {
    std::string delayed_buffer;
    std::vector<std::pair<size_t, size_t>> delayed_spans;
    std::vector<std::string_view> delayed_keys, topics;
    const std::string_view label_field = R"(,"label":)";
    auto add = [&](std::string_view topic, std::string_view key, size_t at) {
      delayed_spans.emplace_back(at, delayed_buffer.size() - at);
      delayed_keys.push_back(key);
      topics.push_back(topic);
    };
    for (size_t i = 0; i < raw.size() + options.label_delay_events; ++i) {
      if (i < raw.size()) {
        const std::string_view payload = raw[i].payload;  // ..."features":{...},"label":L}
        const size_t cut = payload.rfind(label_field);
        if (cut == std::string_view::npos) return Status::Internal("bench core: an event without a label");
        const size_t at = delayed_buffer.size();
        delayed_buffer.append(payload.substr(0, cut)).push_back('}');
        add("events", raw[i].key, at);
      }
      if (i >= options.label_delay_events) {
        const size_t e = i - options.label_delay_events;
        const std::string_view payload = raw[e].payload;
        const size_t cut = payload.rfind(label_field) + label_field.size();
        const size_t at = delayed_buffer.size();
        fmt::format_to(std::back_inserter(delayed_buffer), R"({{"id":"e-{}","label":{},"ts":{}}})", e,
                       payload.substr(cut, payload.size() - cut - 1),
                       eval::EventJsonOptions{}.start_ts_ms + static_cast<int64_t>(i) * eval::EventJsonOptions{}.step_ms);
        add("labels", raw[e].key, at);
      }
    }
    std::vector<RawMessage> delayed;
    delayed.reserve(delayed_spans.size());
    int64_t event_offset = 0, label_offset = 0;
    for (size_t i = 0; i < delayed_spans.size(); ++i) {
      const bool label = topics[i] == "labels";
      delayed.push_back({{topics[i], 0, label ? label_offset++ : event_offset++, -1}, delayed_keys[i],
                         std::string_view(delayed_buffer).substr(delayed_spans[i].first, delayed_spans[i].second)});
    }
    best = 1e300;
    for (int r = 0; r < options.repeats; ++r) {
      PipelineConfig config = base;
      config.labels.enabled = true;
      auto processor = Processor::Create(config, nullptr, nullptr);
      if (!processor.ok()) return processor.status();
      CountingSink sink;
      const auto begin = Clock::now();
      for (size_t i = 0; i < delayed.size(); i += options.batch) {
        const size_t n = std::min(options.batch, delayed.size() - i);
        SL_RETURN_IF_ERROR((*processor)->process(std::span<const RawMessage>(delayed).subspan(i, n), sink));
      }
      best = std::min(best, std::chrono::duration<double>(Clock::now() - begin).count());
      const uint64_t joined = (*processor)->label_counts().joined;
      if (sink.predictions() != raw.size() || sink.dead() != 0 || joined != raw.size()) {
        return Status::Internal(fmt::format("bench core: delayed labels: {} predictions and {} joined for {} events ({} "
                                            "dead letters)",
                                            sink.predictions(), joined, raw.size(), sink.dead()));
      }
    }
    result.figures.push_back(Figure("processor, delayed labels (+ label join)", raw.size(), best));
  }
  const double floor = result.figures[0].ns_per_event;
  for (const auto& f : result.figures) {
    print(fmt::format("  {:<52} {:>12.0f} events/s {:>8.0f} ns/event  ({:.2f}x decode)", f.name, f.events_per_sec,
                      f.ns_per_event, f.ns_per_event / floor));
  }
  return result;
}

}  // namespace streamlearn::pipeline

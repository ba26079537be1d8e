#pragma once
// Predicting outside the stream (POST /v1/predict): the processing thread publishes an
// immutable PredictSnapshot of what a prediction needs; a Predictor on another thread
// (the HTTP server's) answers from the latest one. Nothing the stream owns is read or
// written by the Predictor, so it never races with learning, and no request changes a
// model, a feature statistic or an entity state.
//
// Staleness: a snapshot is what the stream would have predicted at the end of the batch it
// was taken after. The runner publishes one at most every http.predict_refresh_ms, at a
// batch end, so an answer lags the stream by that interval plus one batch. An entity that
// changed since the last checkpoint is read from the snapshot (its state is copied into
// it); any other from the state store, which may already hold a newer checkpoint.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/features/features.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::state {
class StateStore;
}  // namespace streamlearn::state

namespace streamlearn::pipeline {

// What the champion needs to predict, frozen at the end of one batch. Never changed after
// it is published.
struct PredictSnapshot {
  std::string model_name;
  uint64_t model_version = 0;
  uint64_t messages = 0;   // the processor's message count when it was taken
  int64_t taken_ms = 0;    // wall clock (ms since the epoch) when it was taken
  std::string features;    // FeatureDictionary::save, then FeatureBuilder::save
  std::string model;       // the champion's Learner::save
  std::vector<std::string> class_names;  // softmax: the class of each index
  // Entities changed since the last checkpoint: their state is only in the stream's memory.
  features::StringMap<features::EntityState> entities;
};

// The latest snapshot, handed from the processing thread to readers. Thread-safe.
class SnapshotBoard {
 public:
  void publish(std::shared_ptr<const PredictSnapshot> snapshot);
  std::shared_ptr<const PredictSnapshot> latest() const;

 private:
  mutable std::mutex mutex_;  // held only to copy a shared_ptr
  std::shared_ptr<const PredictSnapshot> latest_;
};

// Answers prediction requests from a SnapshotBoard. One owner thread (not thread-safe):
// it keeps a restored copy of the latest snapshot's model.
class Predictor {
 public:
  // `store` may be null: entities not in the snapshot then start empty. Both outlive it.
  static Result<std::unique_ptr<Predictor>> Create(const PipelineConfig& config, const SnapshotBoard* board,
                                                   state::StateStore* store);
  ~Predictor();

  // `body` is one event (schemas/event.schema.json) or a JSON array of them; the answer is
  // a prediction (schemas/prediction.schema.json), or an array of them for an array.
  // Invalid: the request is bad (the reason names the event of an array by its index);
  // Unavailable: no snapshot has been published yet.
  Result<std::string> predict(std::string_view body);

 private:
  struct Impl;
  explicit Predictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The top-level elements of a JSON array, as text (not validated: each is decoded later).
// A text that is not an array gives one element, itself. Invalid for an empty or unclosed
// array.
Result<std::vector<std::string_view>> SplitJsonArray(std::string_view text, bool* is_array);

}  // namespace streamlearn::pipeline

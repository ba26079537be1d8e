#pragma once
// The processing loop (docs/architecture.md) for one batch of raw messages, with no I/O of its
// own: Kafka, files and tests feed it RawMessages and receive its output through a sink.
// One thread owns a Processor (the models, entity cache and detectors).

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/pipeline/output.hpp"
#include "streamlearn/pipeline/slices.hpp"

namespace streamlearn::state {
class StateStore;
class CheckpointBatch;
struct TopicPartition;
}  // namespace streamlearn::state

namespace streamlearn::pipeline {

class EntityCache;

class PipelineProbe;
struct PredictSnapshot;

struct DriftRecord {
  uint64_t events = 0;  // valid events processed when it fired
  int64_t ts_ms = 0;    // event time of the event that fired it
  std::string event_id;
  double error_before = 0;  // the detector's error estimate before the cut …
  double error_after = 0;   // … and after it (the recent window's error rate)
};

struct ChallengerStats {
  std::string name;
  std::string type;         // the learner type ("arf", "logistic", ...)
  uint64_t trained = 0;
  uint64_t memory_bytes = 0;  // what the learner holds (Learner::memory_bytes)
  double accuracy = 0, rolling_accuracy = 0, log_loss = 0;  // classification
  double mae = 0, rmse = 0, r2 = 0;                         // regression
};
// One challenger's figures as a JSON object (name, type, trained, memory_bytes, accuracy,
// rolling_accuracy, log_loss, mae, rmse, r2): the one form /v1/status, `model inspect` and evaluate write.
void WriteChallengerJson(JsonWriter& w, const ChallengerStats& c);

// One candidate of model selection (selection.enabled).
struct CandidateStats {
  std::string name;
  std::string kind;     // "learner" (the model or a challenger) | "no_change" | "majority" | "mean"
  uint64_t scored = 0;  // labelled events it was scored on
  uint64_t served = 0;  // predictions it served
  double value = 0;     // its rolling selection metric; NaN before it was scored
};
struct SelectionStats {
  bool enabled = false;
  std::string metric;    // "accuracy" | "log_loss" | "mae"
  std::string serving;   // the candidate serving now
  uint64_t switches = 0;
  std::vector<CandidateStats> candidates;
};
// The selection as a JSON object (metric, serving, switches, candidates: name, kind, scored,
// served, value): the one form /v1/status and evaluate write.
void WriteSelectionJson(JsonWriter& w, const SelectionStats& s);

struct ProcessorStats {
  uint64_t messages = 0;     // everything consumed, valid or not
  uint64_t predictions = 0;
  uint64_t invalid = 0;
  uint64_t labelled = 0;
  double accuracy = 0;
  double rolling_accuracy = 0;
  double log_loss = 0;
  double majority_baseline = 0;
  double mae = 0, rmse = 0, r2 = 0;  // regression models
  // Labels dead-lettered because the task cannot learn their kind (numbers for a binary
  // model...), in all and since the last learnable label; what to set, once there was one.
  uint64_t labels_wrong_kind = 0;
  uint64_t labels_wrong_kind_in_a_row = 0;
  std::string label_kind_advice;
  std::vector<ChallengerStats> challengers;
  SelectionStats selection;
  std::vector<FieldSlices> slices;  // metrics.slices
  uint64_t model_version = 1;
  uint64_t model_trained = 0;
  uint64_t model_bytes = 0;  // what the champion holds (Learner::memory_bytes)
  uint64_t guarded_updates = 0;
  uint64_t clipped_values = 0;  // numeric values clipped (clip_std or clip_min/clip_max), all fields
  uint64_t divergences = 0;  // regression champions reset with reason "diverged"
  size_t entities_cached = 0;
  uint64_t improvements = 0;  // detections where the error fell: not acted on
  uint64_t warnings = 0;      // entries into the detector's warning zone
  uint64_t data_drifts = 0;   // data drift alarms, all features
  uint64_t backgrounds_started = 0;  // drift.action background
  uint64_t backgrounds_dropped = 0;
  std::vector<DriftRecord> drifts;
  // Delayed labels (labels.enabled).
  bool labels_enabled = false;
  LabelJoinCounts labels;
  uint64_t pending_labels = 0;  // predictions waiting for their label
  uint64_t early_labels = 0;    // labels waiting for their event
};

// What a stored model snapshot says about itself, without loading it.
struct SnapshotInfo {
  std::string name, type;
  uint64_t version = 0, messages = 0, predictions = 0, invalid = 0, labelled = 0, drifts = 0;
  uint64_t bytes = 0, checksum = 0;
};
Result<SnapshotInfo> InspectSnapshot(std::string_view sealed);

// One labelled event as the model met it: the prediction that was served (for a delayed
// label, the one made when the event came) and the truth. For offline evaluation.
struct LearnOutcome {
  std::string_view event_id;
  int64_t ts_ms = 0;
  double score = 0;
  int predicted = 0;  // class index; -1 for regression or before any class
  int label = 0;      // class index (0/1 for binary)
  double target = 0;  // the label as learned: the class index, or the regression target
  // The probability the served prediction gave the true class (classification; NaN for
  // regression and before any class was known).
  double true_class_probability = std::numeric_limits<double>::quiet_NaN();
};

// An event message of a batch as the decoder left it, for offline evaluation: what it
// reads of each line without parsing it a second time.
struct DecodedEvent {
  size_t index = 0;              // in the batch given to process()
  const Event* event = nullptr;  // null when the message was invalid (dead-lettered)
  std::optional<int> concept_marker;  // "meta":{"concept": K} (EventDecoder::concept_marker)
};

// A change of the champion asked for through the admin API; applied by the processing
// thread between batches (Processor::apply).
struct ModelCommand {
  enum class Kind : uint8_t { kRollback, kPromote };
  Kind kind = Kind::kRollback;
  std::string model;  // rollback: the champion's name; promote: the challenger's
  std::optional<uint64_t> version;  // rollback: the kept version to return to; none: the latest before the current
};

// The champion as model sync publishes it (docs/architecture.md, one model across
// instances): its learner's bytes and what a peer needs to know to mix it.
struct ChampionModel {
  std::string type;
  uint64_t version = 0;
  uint64_t trained = 0;               // events it learned itself (not its peers')
  std::vector<std::string> classes;   // class names by index (multiclass)
  std::vector<std::string> features;  // dense feature names by index
  std::string learner;                // Learner::save
};

// The champion's version and the change that made it: "start" (new or restored), "drift"
// (a drift reset or the background learner swapped in), "diverged", "switch" (model
// selection), "rollback", "promote", "adopted" (model sync took a peer's newer version).
struct ChampionVersion {
  uint64_t number = 0;
  std::string_view cause;
};

struct WeightedChampion {
  const ChampionModel* model = nullptr;
  double weight = 0;  // events the peer learned since it last mixed
};

class Processor {
 public:
  // `store` may be null (offline evaluation): then nothing is reloaded or checkpointed
  // (the entity cache has no bound, the label join tracks no changes); `probe` may be null.
  static Result<std::unique_ptr<Processor>> Create(const PipelineConfig& config, state::StateStore* store,
                                                   PipelineProbe* probe);
  ~Processor();

  // Processes the batch in order. Returns non-ok only for failures that must stop the
  // instance (the sink or the store failing); bad events go to the sink's dead letters.
  Status process(std::span<const RawMessage> batch, OutputSink& sink);

  // Adds dirty entity states, the label join's changed records, the model snapshot and
  // the next offsets to `batch`; then evicts entity states beyond state.max_cached_entities.
  void checkpoint(state::CheckpointBatch& batch);
  // Next offset per partition, as processed so far (what a checkpoint would store).
  const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets() const;
  // Forgets partitions (after they were revoked and checkpointed).
  void forget_partitions();
  // A partition's state restored from its changelog resumes at `next` (partition_state.cpp).
  void set_next_offset(const std::string& topic, int32_t partition, int64_t next);
  // The entity states in memory, for the changelog and restores; null before the store is known.
  EntityCache* entity_cache();
  // The delayed-label join, for the changelog and restores; null without labels.enabled.
  LabelJoin* label_join();

  // Called for every labelled event, after the metrics and detector saw it, before the
  // model learns (so drift events about it are already out).
  void set_learn_observer(std::function<void(const LearnOutcome&)> observer);
  // Called for every event message of a batch as it is decoded, in order, before any event
  // of the batch is handled (so before the learn observer hears of them).
  void set_decode_observer(std::function<void(const DecodedEvent&)> observer);

  // The model registry. apply() changes the champion as `command` says, as a new version
  // (kept from the next checkpoint on, like every version, the last models.keep of them),
  // and publishes a model_change record on the drift topic; it answers the change as JSON.
  // NotFound: no such model or kept version; FailedPrecondition: the challenger's model
  // cannot become the champion (another type or settings); Unavailable: no state store.
  Result<std::string> apply(const ModelCommand& command, OutputSink& sink);
  // GET /v1/models: {"champion": name, "models": [...]}, each with name, role, type,
  // version, trained, metrics, memory_bytes; the champion with its kept versions.
  std::string models_json() const;
  // GET /v1/models/{name}: the champion's describe_json(), or a challenger's figures and
  // learner (Learner::describe); NotFound for another name.
  Result<std::string> model_json(std::string_view name) const;

  // Model sync: the champion as published, and a mix of peers' champions into it
  // (Learner::mix, this one weighing `own_weight`). A peer of another type, or whose
  // classes or dense features are not indexed as this champion's, is refused
  // (FailedPrecondition naming why) before anything changes; Unimplemented for a family
  // that does not mix (with no peers: Ok or Unimplemented, which asks whether the champion
  // mixes at all, cheaply). Call between batches, before a checkpoint.
  ChampionModel champion_model() const;
  Status mix_champion(double own_weight, std::span<const WeightedChampion> peers);
  // Cheap: no learner bytes.
  ChampionVersion champion_version() const;
  uint64_t champion_model_trained() const;
  // Model sync agrees versions: `peer`'s champion, of a newer version made on another
  // instance, becomes this champion with its version number. Its parameters, optimizer
  // state and input statistics are taken whole (no mix); trained() stays this instance's
  // own count (a family that does not mix takes the peer's learner, counts included). The
  // replaced version is kept for a rollback, and the drift detector starts over (its
  // errors were the replaced model's). Refused as mix_champion refuses, nothing changed.
  Status adopt_champion(const ChampionModel& peer);
  // Adds what a peer learned itself, `now` (its champion) minus `base` (its champion's
  // learner bytes when it last mixed), to this champion (Learner::add_update): model sync's
  // summed updates. Refused as mix_champion refuses, nothing changed.
  Status add_champion_update(const ChampionModel& now, std::string_view base);

  ProcessorStats stats() const;
  // EntityCache::memory_bytes: what the cached entity states take (a walk over all of them).
  size_t entity_memory_bytes() const;
  // The delayed-label join (all zero when labels are disabled).
  LabelJoinCounts label_counts() const;
  size_t pending_labels() const;  // predictions waiting for their label
  // What POST /v1/predict needs, frozen now (predict.hpp): the champion's and the feature
  // builder's bytes and the entity states not yet checkpointed. `now_ms`: wall-clock time.
  std::shared_ptr<const PredictSnapshot> predict_snapshot(int64_t now_ms) const;
  // The model snapshot as stored in RocksDB (sealed, versioned, checksummed).
  std::string model_snapshot() const;
  // A processor holding the model of `sealed` (a snapshot as model_snapshot() writes it and
  // `streamlearn model export` saves it), for inspection or import: checks magic, version,
  // checksum and that it fits `config` (type, learner kind), naming what does not.
  static Result<std::unique_ptr<Processor>> FromSnapshot(const PipelineConfig& config, std::string_view sealed);
  // `streamlearn model inspect`: one JSON object: name, type, version, counts, metrics, the
  // learner's settings, dense weights by feature name (in the inputs' own units, and as
  // learned on standardised inputs), the largest hashed weights by bucket, classes,
  // challengers and the drift detector's statistics.
  std::string describe_json(size_t top_sparse = 20) const;

 private:
  struct Impl;
  explicit Processor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlearn::pipeline

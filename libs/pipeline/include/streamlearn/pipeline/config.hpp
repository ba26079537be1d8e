#pragma once
// The pipeline's configuration: one YAML file, every key overridable from the environment
// (STREAMLEARN_<SECTION>_<KEY>, e.g. STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS). Unknown keys
// and bad values are errors that name the key and, for the file, the line.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::pipeline {

// kafka.order. timestamp: across partitions, the message with the smallest (timestamp,
// partition, offset) goes first (as Kafka Streams), so a replay after a crash meets the same
// model state; arrival: as fetched (no holding back; replays may score differently).
enum class KafkaOrder { kTimestamp, kArrival };
// kafka.guarantee. at_least_once: an idempotent producer, predictions replayed identically
// after a crash. exactly_once: predictions, changelog records and input offsets of each
// checkpoint interval in one Kafka transaction (docs/architecture.md).
enum class KafkaGuarantee { kAtLeastOnce, kExactlyOnce };

// drift.action. none: alert only; reset: fresh weights, version + 1; background: a fresh
// learner starts at the warning and trains alongside, is swapped in at the drift (version +
// 1), and is dropped if the warning clears.
enum class DriftAction { kNone, kReset, kBackground };

// What the model predicts, from model.type (the learner factory says which type predicts
// what): binary, multiclass or regression.
using Task = learn::LearnerTask;
using learn::ToString;

// The config's spelling of each value ("timestamp", "background", "regression").
std::string_view ToString(KafkaOrder order);
std::string_view ToString(DriftAction action);
// By the config's spelling; the error lists the valid names.
Result<KafkaOrder> ParseKafkaOrder(std::string_view name);
Result<DriftAction> ParseDriftAction(std::string_view name);
// Compares with the config's spelling (action == "reset").
inline bool operator==(KafkaOrder order, std::string_view name) { return ToString(order) == name; }
inline bool operator==(DriftAction action, std::string_view name) { return ToString(action) == name; }

struct KafkaSettings {
  std::string bootstrap_servers = "localhost:9092";
  std::string group_id = "streamlearn";
  std::string events_topic = "events";
  std::string predictions_topic = "predictions";
  std::string drift_topic = "drift";
  std::string dlq_topic = "dlq";
  std::string labels_topic = "labels";  // read only when labels.enabled
  int batch_size = 1000;
  int poll_timeout_ms = 100;
  KafkaOrder order = KafkaOrder::kTimestamp;
  int max_idle_ms = 0;  // how long an empty partition at its end may hold the others back
  // `run` exits when the cluster keeps refusing authentication/authorisation this long.
  int auth_timeout_ms = 60000;
  KafkaGuarantee guarantee = KafkaGuarantee::kAtLeastOnce;
  std::map<std::string, std::string> properties;  // passed to librdkafka as they are
};

struct StateSettings {
  std::string dir = "./state";
  int commit_interval_ms = 1000;
  // How long checkpoint writes may keep failing (no space, I/O error, read-only) before
  // `run` exits; consuming is paused meanwhile.
  int disk_error_timeout_ms = 120000;
  // Entity states kept in memory; beyond it, states already checkpointed are evicted
  // (reloaded from the store on their next event). States changed since the last
  // checkpoint stay until it, so the cache may exceed this in between. Applies only with
  // a state store: offline (evaluate, bench) there is nowhere to reload from.
  int max_cached_entities = 1000000;
};

// features.fields.*.clip_std when the section does not set it: every numeric field is
// clipped at mean +- this many standard deviations of its running statistics, so a corrupt
// finite value (1e9 in a field of values in [0, 1]) cannot inflate them for good. Large
// enough that no clean stream measured loses anything to it (docs/configuration.md).
inline constexpr double kDefaultClipStd = 8;

struct FeatureSettings {
  bool entity_aggregates = true;
  double ewma_half_life_s = 60;
  int hash_bits = 18;
  // Every other key of the `features:` section (preprocessing per field, aggregates,
  // windows, target aggregates, crosses, PCA: libs/features/.../config.hpp), flattened to
  // dotted keys without the "features." prefix, lists joined with commas; checked by
  // features::FeatureConfig::Parse when the pipeline starts.
  std::map<std::string, std::string> params;
};

struct ModelSettings {
  std::string name = "logreg";
  // logistic (0/1 labels) | softmax (class names) | linear (squared loss) | huber | hinge (0/1)
  std::string type = "logistic";
  double learning_rate = 0.005;  // best prequential accuracy on SEA among 0.002-0.3, and large changes stay visible to ADWIN
  double l2 = 0.0;
  // Regression: the models learn the target standardised by its running mean and standard
  // deviation, and predict in its own units (what the learning rate means then does not
  // depend on the target's scale).
  bool standardize_target = true;
  // The learner's other settings by its family's names (linear: optimizer, schedule, l1,
  // power_t, alpha, beta1, beta2, epsilon, ftrl_alpha, ftrl_beta, huber_epsilon, classes,
  // standardize), as text; checked when read.
  std::map<std::string, std::string> params;
  // Whether model.type was set (file or environment). Without it, and without challengers
  // or a selection section, `run` and `evaluate` pick the models (ApplyDefaultModels).
  bool type_given = false;
};

// Adds the learner families of libs above learn (trees: Hoeffding tree, naive Bayes) to
// learn's factory, once. Reading a config, TaskOf and Processor::Create call it, so every
// program that goes through the pipeline knows every model type.
void RegisterLearnerFamilies();

// The task of a model.type, as the learner factory knows it; binary for an unknown type.
Task TaskOf(const ModelSettings& model);

// drift.action as the processor applies it: the configured one, or for a regression model
// without drift.action, background.
struct PipelineConfig;
DriftAction EffectiveDriftAction(const PipelineConfig& config);
// The learner settings of a model (learning_rate, l2, hash_bits from features, params), for
// learn::MakeLearner with model.type.
std::map<std::string, std::string> LearnerKeys(const ModelSettings& model, int hash_bits);

struct DriftSettings {
  std::string detector = "adwin";  // adwin | ddm | eddm | hddm_a | hddm_w | page_hinkley | kswin
  double delta = 0.002;            // ADWIN's delta (a shortcut for params.delta)
  std::map<std::string, std::string> params;  // the detector's parameters, by River's names
  DriftAction action = DriftAction::kReset;
  // Whether drift.action was given. When it was not, a regression model gets background
  // (EffectiveDriftAction): its absolute errors grow with the target's spread, which a
  // detector reads as drift, and a reset would throw away a model that was right.
  bool action_given = false;
  // Detectors without a warning zone (adwin, kswin, page_hinkley) get a second ADWIN with
  // this looser delta as their warning, as River's adaptive random forest pairs them.
  double warning_delta = 0.01;
  // For such a warning detector, "the warning clears" when no drift follows within this
  // many labelled events.
  int background_max_events = 5000;
  // Regression: a champion whose MAE over the last divergence_window labelled events is
  // beyond divergence_factor times the mean predictor's is reset (drift reason "diverged");
  // 0 turns the check off.
  double divergence_factor = 10;
  int divergence_window = 200;
  // Data drift: every numeric input watched by ADWIN or KSWIN, every categorical one by the
  // population stability index of a reference and a current window.
  bool data_enabled = true;
  std::string data_numeric_detector = "adwin";  // adwin | kswin
  std::map<std::string, std::string> data_params;  // its parameters, by River's names
  double data_psi_threshold = 0.25;
  int data_psi_window = 5000;  // values in the reference and in the current window
  // Calibration (docs/operations.md#data-drift-alarm-rates): ADWIN's delta follows from the
  // target false-alarm rate per value of a stationary feature (0: data_params' delta or
  // River's), ADWIN sees means of `data_block` quantiles, no alarm in a feature's first
  // `data_warmup` values nor within `data_cooldown` values after its previous alarm.
  double data_false_alarm_rate = 1e-5;
  int data_block = 32;
  int data_warmup = 1000;
  int data_cooldown = 10000;
  // One event in `data_sample` is watched, chosen by a hash of its id (1: every event): the
  // monitor costs that much less, and a shift is seen that many times as many events later.
  int data_sample = 8;
};

struct MetricsSettings {
  int rolling_window = 1000;
  // Sliced metrics (pipeline/slices.hpp): per value of these input fields; the top K values
  // by count are reported, the rest as "(other)". A demographic parity or equal opportunity
  // difference above slice_gap_alert publishes a slice_gap record (0: never).
  std::vector<std::string> slices;
  int slices_top_k = 20;
  double slice_gap_alert = 0;
};

// selection.metric: what ranks the candidates over their rolling window. auto: accuracy
// for classification, mae for regression.
enum class SelectionMetric { kAuto, kAccuracy, kLogLoss, kMae };
std::string_view ToString(SelectionMetric metric);

// Model selection: the served model is chosen among candidates scored test-then-train on
// the same labelled events (the model, the challengers and, if asked, baselines), by a
// rolling metric with hysteresis. Off: the model serves, as without this section.
struct SelectionSettings {
  bool enabled = false;
  SelectionMetric metric = SelectionMetric::kAuto;
  int window = 1000;  // labelled events in each candidate's rolling figure
  // How far a candidate must lead the serving one to replace it: in accuracy or log loss
  // units; for mae, a fraction of the serving candidate's MAE.
  double margin = 0.01;
  // Labelled events the serving candidate keeps serving after a switch, and that a
  // candidate must have been scored on before it may serve.
  int min_events = 500;
  bool include_baselines = true;  // no_change and majority (classification) or mean (regression)
  bool given = false;             // whether any selection.* key was set
};

// Delayed labels (the `labels` topic): an event without a label is predicted at once and
// its feature vector waits in the pending store until its label arrives. Times are event
// time (the events' and labels' `ts`), so a replay expires exactly what the first run did.
struct LabelSettings {
  bool enabled = false;
  int64_t ttl_ms = 7LL * 24 * 3600 * 1000;  // a pending prediction expires this long after its event
  int64_t max_pending = 1000000;            // beyond this, the oldest pending prediction is evicted
  int64_t early_ttl_ms = 3600 * 1000;       // a label ahead of its event waits this long
  int64_t max_early = 100000;               // beyond this, the oldest early label is dropped as unknown
};

struct HttpSettings {
  // Loopback unless a deployment says otherwise (the container images set 0.0.0.0).
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  bool enabled = true;
  // Bearer token of the endpoints that change state (rollback, promote); empty: they are
  // disabled (403). STREAMLEARN_HTTP_TOKEN sets it without writing it into a file.
  std::string token;
  int max_connections = 64;        // more wait in the listen backlog
  int predict_refresh_ms = 1000;   // how often the stream publishes a predict snapshot
};

struct ModelRegistrySettings {
  int keep = 5;  // model versions kept in the state store per model, for rollback
};

// Several instances in one consumer group (docs/architecture.md, "Scaling out").
struct ScaleSettings {
  // Each checkpoint also writes the changed entity states and an offset marker per changed
  // partition to a changelog topic partitioned like the input, so that a partition's state
  // follows it to another member.
  bool changelog = true;
  // Whether scale.changelog was given. A changelog topic that cannot serve (missing and not
  // auto-created, or fewer partitions than the input) stops the start only when it was:
  // by default a single instance runs on without it, with a warning.
  bool changelog_given = false;
  std::string changelog_topic;  // empty: "<kafka.group_id>-<kafka.topics.events>-changelog"
  // Warm copies of the partitions this instance does not hold, tailed from the changelog
  // (standby.hpp): 0 keeps none; N >= 1 keeps N copies of each partition over the group,
  // never on its holder (standby_placement.hpp).
  int standby_replicas = 0;
  // A prediction goes to the predictions partition of its event's partition number, and a
  // replay does not produce again what was published after the checkpoint it resumes from
  // (when the predictions topic has as many partitions as the events topic).
  bool replay_dedup = true;
  // With labels.enabled: the label join's records (pending predictions, early labels, joined
  // ids) go to the changelog with their partition and move with it. false: they stay with
  // the instance that made them (a partition that moves loses its pending predictions).
  bool changelog_labels = true;
};
// The changelog topic `scale` names, with its default filled in.
std::string ChangelogTopic(const PipelineConfig& config);
// One logical model across instances (docs/architecture.md#one-model-across-instances).
// scale.model_sync_mix. average: parameter mixing, the weighted mean of the models;
// updates: each instance adds its peers' updates (what each learned itself since it last
// mixed), as a parameter server sums its workers' (docs/architecture.md: worse here).
enum class ModelSyncMix { kAverage, kUpdates };

struct ModelSyncSettings {
  bool enabled = false;      // scale.model_sync: off, a single instance has no peers
  ModelSyncMix mix = ModelSyncMix::kAverage;
  std::string topic;         // scale.model_sync_topic: empty = "<kafka.group_id>.model-sync"
  std::string instance_id;   // scale.instance_id: empty = "<host name>:<state.dir>"
};

struct PipelineConfig {
  KafkaSettings kafka;
  StateSettings state;
  FeatureSettings features;
  ModelSettings model;  // the champion: publishes predictions, drift actions apply to it
  // Challengers: more models on the same stream, each with its own metrics, not published.
  // Name -> settings that differ from the champion's (learner keys, plus `type`).
  std::map<std::string, std::map<std::string, std::string>> challengers;
  DriftSettings drift;
  MetricsSettings metrics;
  SelectionSettings selection;
  LabelSettings labels;
  HttpSettings http;
  ModelRegistrySettings models;
  ScaleSettings scale;
  ModelSyncSettings sync;
};

// The `features:` section as features::FeatureConfig::Parse reads it.
std::map<std::string, std::string> FeatureKeys(const FeatureSettings& features);
// A challenger's learner keys: the champion's, with the challenger's overrides (but `type`).
std::map<std::string, std::string> ChallengerKeys(const PipelineConfig& config, const std::string& name);
// A challenger's model type: its `type` override, or the champion's.
std::string ChallengerType(const PipelineConfig& config, const std::string& name);

// The feature, model and challenger settings as libs/features and libs/learn read them:
// the first problem, naming its key ("features.fields.amount.clip_std: ...").
Status ValidateLearnerSettings(const PipelineConfig& config);

// Whether the config leaves the choice of models to streamlearn: no model.type, no
// challengers, no selection key.
bool UsesDefaultModels(const PipelineConfig& config);
// When UsesDefaultModels: selection on (window 500 and min_events 200 for classification,
// 300 and 10 for regression), with the default
// candidates of model.type's task (DefaultCandidates in model_selection.hpp) as challengers
// beside the model, and drift.action background unless set. Else nothing:
// a config that names its models keeps exactly what it says. `run` and `evaluate` call it
// after the model type is known (evaluate guesses it from the labels).
void ApplyDefaultModels(PipelineConfig& config);

using Environment = std::function<const char*(const char*)>;  // getenv, or a test's map

// Parses YAML text; `source` names it in errors (a file path). A duplicate key (at any
// level, or the same key spelled twice as `a.b:` and `a: {b:}`) is an error naming both
// lines; so is a text without any setting (empty, or only comments). Values follow the
// grammar of streamlearn/core/config_values.hpp.
Result<PipelineConfig> ParseConfig(const std::string& yaml_text, const std::string& source,
                                   const Environment& env);
Result<PipelineConfig> LoadConfigFile(const std::string& path, const Environment& env);
// Defaults with environment overrides applied (no file).
Result<PipelineConfig> DefaultConfig(const Environment& env);
// One warning for each STREAMLEARN_<SECTION>_* name among `names` (the process's
// environment) that sets nothing, with the closest setting when it looks like a typo: such a
// variable is otherwise silently ignored. Names outside the settings' sections are left alone.
std::vector<std::string> UnknownSettingVariables(const std::vector<std::string>& names);

}  // namespace streamlearn::pipeline

#pragma once
// One logical model across instances (docs/architecture.md#one-model-across-instances).
//
// At each checkpoint an instance publishes its champion to the model-sync topic, keyed by
// its instance id (compacted on a real broker: the latest per instance), and reads what its
// peers published; at its next checkpoint it mixes the peers' latest records it has not
// mixed yet into its champion, each weighted by the events that peer learned since it last
// mixed, before the checkpoint is written (so the checkpoint holds the mixed model and a
// replay from it stays exact for this instance).
//
// ModelSync is the bookkeeping alone, fed records, with no Kafka: which peer records are
// new, which are refused (own, another pipeline, undecodable), what to publish next.
// ModelSyncLink wires it to the runner's producer, a TopicReader and the Processor.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace streamlearn::kafka {
class Producer;
class TopicReader;
}  // namespace streamlearn::kafka

namespace streamlearn::pipeline {

class PipelineProbe;

// A version of the logical model: its number and the change that made it. Versions are
// agreed across instances: the newer one (Supersedes) is adopted by every instance, and only
// models of the same version mix.
struct ModelVersion {
  uint64_t number = 0;
  // Who made the change: an instance id, or "" for a drift reset (or a divergence reset),
  // which any instance makes alike (a fresh model on the new concept): two instances that
  // reset the same version independently made the same version and mix their models.
  std::string origin;
  std::string cause;  // Processor::champion_version's cause, for logs and records
};
// `a` is newer than `b`: a higher number; for one number (changes made at once on two
// instances), the smaller origin wins (a drift reset's "" before any instance id).
bool Supersedes(const ModelVersion& a, const ModelVersion& b);
bool SameVersion(const ModelVersion& a, const ModelVersion& b);

// One record of the model-sync topic (value; the key is `instance`).
struct ModelSyncRecord {
  std::string instance;
  std::string pipeline;  // PipelineFingerprint(): only records of the same pipeline mix
  uint64_t sequence = 0;  // per instance, new on every publication
  uint64_t events = 0;    // events it learned since its previous publication: its weight
  // scale.model_sync_mix updates: the publisher's champion when it last mixed (or adopted,
  // or reset); `champion` - `base` is what it learned itself since. Empty when averaging.
  std::string base;
  std::string origin;     // the champion's version (champion.version) as ModelVersion has it
  std::string cause;
  ChampionModel champion;

  ModelVersion version() const { return {champion.version, origin, cause}; }
};

// Sealed bytes (magic "SLMS", version, checksum), so a stray or damaged record is refused.
std::string EncodeModelSyncRecord(const ModelSyncRecord& record);
Result<ModelSyncRecord> DecodeModelSyncRecord(std::string_view bytes);

// scale.instance_id's default: "<host name>:<state.dir>" (model sync, standby placement).
std::string DefaultInstanceId(const PipelineConfig& config);

// The model's name, type and learner and feature settings: instances mix only models made
// by the same configuration.
std::string PipelineFingerprint(const PipelineConfig& config);

class ModelSync {
 public:
  // `first_sequence`: where this run's sequence numbers start (the runner uses wall-clock
  // milliseconds, so a restarted instance never repeats one its peers have mixed).
  // `every_record`: take_unmixed() gives every new record in the topic's order (summed
  // updates must not miss one), not only each peer's latest (averaged models).
  ModelSync(std::string instance, std::string pipeline, uint64_t first_sequence, bool every_record = false);

  enum class Received : uint8_t { kNew, kOwn, kSame, kOtherPipeline, kUndecodable };
  // A record read from the topic. The latest record of each peer is kept; kSame: the record
  // this instance already holds for that peer.
  Received receive(std::string_view key, std::string_view value);

  // The peers' latest records not mixed yet (every one with `every_record`); they count as
  // mixed from now on, and stay readable until the next call.
  std::vector<const ModelSyncRecord*> take_unmixed();

  // The champion's version as the processor has it, at each checkpoint: a number this sync
  // did not set is a change made here (origin: this instance, or "" for a drift reset). The
  // first one (a restored model) takes the identity of a peer's record of the same number.
  void observe_own(uint64_t number, std::string_view cause);
  // What to do with the peers' unmixed records: adopt the newest version if it supersedes
  // this instance's (`adopt`), and mix the records of the resulting version; records of an
  // older version are dropped (`stale`): an old concept is never mixed back in.
  struct Plan {
    const ModelSyncRecord* adopt = nullptr;
    std::vector<const ModelSyncRecord*> mix;
    size_t stale = 0;
  };
  Plan plan();
  // The champion took `record`'s model: this instance's version is now its.
  void adopted(const ModelSyncRecord& record);
  const ModelVersion& version() const { return version_; }
  // This instance's next record.
  ModelSyncRecord publication(ChampionModel champion, uint64_t events_since_mix);

  size_t peers() const { return peers_.size(); }
  const std::string& instance() const { return instance_; }

 private:
  struct Peer {
    ModelSyncRecord latest;
    uint64_t mixed_sequence = 0;
  };
  std::string instance_;
  std::string pipeline_;
  uint64_t next_sequence_;
  ModelVersion version_;
  bool every_record_ = false;
  std::vector<ModelSyncRecord> pending_, taken_;  // every_record: received, handed out
  bool version_observed_ = false;
  bool version_provisional_ = false;  // restored, not yet matched against the peers'
  std::map<std::string, Peer, std::less<>> peers_;
};

// The runner's side: two hooks in the checkpoint.
class ModelSyncLink {
 public:
  static Result<std::unique_ptr<ModelSyncLink>> Create(const PipelineConfig& config, kafka::Producer& producer,
                                                       const std::map<std::string, std::string>& client_properties,
                                                       PipelineProbe* probe);
  ~ModelSyncLink();

  // Before the checkpoint's write: reads the topic and mixes the peers' new records into
  // the champion (a refused mix is logged; the champion then stays as it was).
  void before_checkpoint(Processor& processor);
  // Summed updates: reads the topic, and whether a peer published since the last mix. The
  // runner then makes a checkpoint even when this instance learned nothing new (an idle
  // instance takes its peers' updates before its next events, not a checkpoint later).
  // Averaging: false.
  bool peers_published();
  // After the write: publishes the champion as checkpointed.
  void after_checkpoint(const Processor& processor);

 private:
  ModelSyncLink(const PipelineConfig& config, kafka::Producer& producer, PipelineProbe* probe);
  // Takes a newer version's model; false (logged) when the champion cannot.
  bool adopt(Processor& processor, const ModelSyncRecord& newer);
  void average(Processor& processor, const ModelSync::Plan& plan);
  void sum_updates(Processor& processor, const ModelSync::Plan& plan);
  void mixed(size_t peers, const Status& status);  // counts and logs a mix
  void read_topic();  // feeds what arrived to sync_; sets news_ on a peer's new record
  std::string topic_;
  std::string drift_topic_;  // an adopted version is published there, as any version change
  std::string model_;
  kafka::Producer& producer_;
  std::unique_ptr<kafka::TopicReader> reader_;
  ModelSync sync_;
  bool sum_updates_;  // scale.model_sync_mix updates
  // Summed updates: the champion when it last mixed (what its own learning is measured
  // from), and the record that the next after_checkpoint publishes.
  std::optional<ChampionModel> base_;
  std::optional<ModelSyncRecord> publication_;
  uint64_t trained_at_mix_ = 0;          // the champion's trained() when it last mixed
  uint64_t trained_at_publication_ = 0;  // ... when it was last published
  bool started_ = false;
  bool news_ = false;  // a peer's record arrived since the last mix
  bool champion_mixes_ = true;  // its family implements Learner::mix
  uint64_t refusals_logged_ = 0;
  prometheus::Counter* mixes_ = nullptr;
  prometheus::Counter* adopted_ = nullptr;
  prometheus::Counter* published_ = nullptr;
  prometheus::Counter* published_bytes_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  prometheus::Gauge* peers_ = nullptr;
};

}  // namespace streamlearn::pipeline

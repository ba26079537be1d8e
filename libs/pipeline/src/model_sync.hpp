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

// One record of the model-sync topic (value; the key is `instance`).
struct ModelSyncRecord {
  std::string instance;
  std::string pipeline;  // PipelineFingerprint(): only records of the same pipeline mix
  uint64_t sequence = 0;  // per instance, new on every publication
  uint64_t events = 0;    // events it learned since its previous publication: its weight
  ChampionModel champion;
};

// Sealed bytes (magic "SLMS", version, checksum), so a stray or damaged record is refused.
std::string EncodeModelSyncRecord(const ModelSyncRecord& record);
Result<ModelSyncRecord> DecodeModelSyncRecord(std::string_view bytes);

// The model's name, type and learner and feature settings: instances mix only models made
// by the same configuration.
std::string PipelineFingerprint(const PipelineConfig& config);

class ModelSync {
 public:
  // `first_sequence`: where this run's sequence numbers start (the runner uses wall-clock
  // milliseconds, so a restarted instance never repeats one its peers have mixed).
  ModelSync(std::string instance, std::string pipeline, uint64_t first_sequence);

  enum class Received : uint8_t { kNew, kOwn, kSame, kOtherPipeline, kUndecodable };
  // A record read from the topic. The latest record of each peer is kept; kSame: the record
  // this instance already holds for that peer.
  Received receive(std::string_view key, std::string_view value);

  // The peers' latest records not mixed yet; they count as mixed from now on.
  std::vector<const ModelSyncRecord*> take_unmixed();
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
  // After the write: publishes the champion as checkpointed.
  void after_checkpoint(const Processor& processor);

 private:
  ModelSyncLink(const PipelineConfig& config, kafka::Producer& producer, PipelineProbe* probe);
  std::string topic_;
  kafka::Producer& producer_;
  std::unique_ptr<kafka::TopicReader> reader_;
  ModelSync sync_;
  uint64_t trained_at_mix_ = 0;          // the champion's trained() when it last mixed
  uint64_t trained_at_publication_ = 0;  // ... when it was last published
  bool started_ = false;
  bool champion_mixes_ = true;  // its family implements Learner::mix
  uint64_t refusals_logged_ = 0;
  prometheus::Counter* mixes_ = nullptr;
  prometheus::Counter* published_ = nullptr;
  prometheus::Counter* published_bytes_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  prometheus::Gauge* peers_ = nullptr;
};

}  // namespace streamlearn::pipeline

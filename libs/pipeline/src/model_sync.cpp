#include "model_sync.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/topic_reader.hpp"
#include "streamlearn/pipeline/probe.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kRecordMagic = "SLMS";
constexpr uint32_t kRecordVersion = 1;
// A record refused for the same reason is logged the first time and then every this many.
constexpr uint64_t kRefusalLogEvery = 100;

void WriteNames(ByteWriter& w, const std::vector<std::string>& names) {
  w.u32(static_cast<uint32_t>(names.size()));
  for (const auto& n : names) w.str(n);
}

bool ReadNames(ByteReader& r, std::vector<std::string>* names) {
  const uint32_t n = r.u32();
  if (!r.ok() || n > r.remaining() / 4) return false;  // each name takes at least its length
  names->reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) names->push_back(r.str());
  return r.ok();
}

std::string DefaultInstanceId(const PipelineConfig& config) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + config.state.dir;
}

uint64_t WallMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::string EncodeModelSyncRecord(const ModelSyncRecord& record) {
  std::string payload;
  ByteWriter w(&payload);
  w.str(record.instance);
  w.str(record.pipeline);
  w.u64(record.sequence);
  w.u64(record.events);
  const ChampionModel& c = record.champion;
  w.str(c.type);
  w.u64(c.version);
  w.u64(c.trained);
  WriteNames(w, c.classes);
  WriteNames(w, c.features);
  w.str(c.learner);
  return SealSnapshot(kRecordMagic, kRecordVersion, payload);
}

Result<ModelSyncRecord> DecodeModelSyncRecord(std::string_view bytes) {
  auto payload = OpenSnapshot(kRecordMagic, kRecordVersion, bytes);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  ModelSyncRecord record;
  record.instance = r.str();
  record.pipeline = r.str();
  record.sequence = r.u64();
  record.events = r.u64();
  ChampionModel& c = record.champion;
  c.type = r.str();
  c.version = r.u64();
  c.trained = r.u64();
  if (!ReadNames(r, &c.classes) || !ReadNames(r, &c.features)) return Status::Corruption("model-sync record: bad names");
  c.learner = r.str();
  if (!r.ok() || !r.at_end()) return Status::Corruption("model-sync record: truncated or trailing bytes");
  return record;
}

std::string PipelineFingerprint(const PipelineConfig& config) {
  std::string text = config.model.name + "|" + config.model.type;
  for (const auto& [k, v] : LearnerKeys(config.model, config.features.hash_bits)) text += "|" + k + "=" + v;
  for (const auto& [k, v] : FeatureKeys(config.features)) text += "|features." + k + "=" + v;
  return fmt::format("{}/{}/{:016x}", config.model.name, config.model.type, Checksum(text));
}

ModelSync::ModelSync(std::string instance, std::string pipeline, uint64_t first_sequence)
    : instance_(std::move(instance)), pipeline_(std::move(pipeline)), next_sequence_(first_sequence) {}

ModelSync::Received ModelSync::receive(std::string_view key, std::string_view value) {
  if (key == instance_) return Received::kOwn;
  auto record = DecodeModelSyncRecord(value);
  if (!record.ok()) return Received::kUndecodable;
  if (record->instance == instance_) return Received::kOwn;
  if (record->pipeline != pipeline_) return Received::kOtherPipeline;
  auto it = peers_.find(record->instance);
  if (it == peers_.end()) {
    const std::string name = record->instance;
    peers_.emplace(name, Peer{std::move(record).value(), 0});
    return Received::kNew;
  }
  if (it->second.latest.sequence == record->sequence) return Received::kSame;
  it->second.latest = std::move(record).value();  // the topic's order is the instance's
  return Received::kNew;
}

std::vector<const ModelSyncRecord*> ModelSync::take_unmixed() {
  std::vector<const ModelSyncRecord*> out;
  for (auto& [name, peer] : peers_) {
    if (peer.latest.sequence == peer.mixed_sequence) continue;
    peer.mixed_sequence = peer.latest.sequence;
    out.push_back(&peer.latest);
  }
  return out;
}

ModelSyncRecord ModelSync::publication(ChampionModel champion, uint64_t events_since_mix) {
  ModelSyncRecord record;
  record.instance = instance_;
  record.pipeline = pipeline_;
  record.sequence = next_sequence_++;
  record.events = events_since_mix;
  record.champion = std::move(champion);
  return record;
}

ModelSyncLink::ModelSyncLink(const PipelineConfig& config, kafka::Producer& producer, PipelineProbe* probe)
    : topic_(config.sync.topic.empty() ? config.kafka.group_id + ".model-sync" : config.sync.topic),
      producer_(producer),
      sync_(config.sync.instance_id.empty() ? DefaultInstanceId(config) : config.sync.instance_id,
            PipelineFingerprint(config), WallMs()) {
  if (!probe) return;
  auto& registry = *probe->registry();
  mixes_ = &prometheus::BuildCounter()
                .Name("streamlearn_model_sync_mixes_total")
                .Help("Checkpoints at which peers' models were mixed into the champion")
                .Register(registry)
                .Add({});
  published_ = &prometheus::BuildCounter()
                    .Name("streamlearn_model_sync_published_total")
                    .Help("Champion snapshots published to the model-sync topic")
                    .Register(registry)
                    .Add({});
  published_bytes_ = &prometheus::BuildCounter()
                          .Name("streamlearn_model_sync_published_bytes_total")
                          .Help("Bytes of the records published to the model-sync topic")
                          .Register(registry)
                          .Add({});
  refused_ = &prometheus::BuildCounter()
                  .Name("streamlearn_model_sync_refused_total")
                  .Help("Model-sync records refused: another pipeline, undecodable, or a mix that failed")
                  .Register(registry)
                  .Add({});
  peers_ = &prometheus::BuildGauge()
                .Name("streamlearn_model_sync_peers")
                .Help("Peer instances seen on the model-sync topic")
                .Register(registry)
                .Add({});
}

ModelSyncLink::~ModelSyncLink() = default;

Result<std::unique_ptr<ModelSyncLink>> ModelSyncLink::Create(const PipelineConfig& config, kafka::Producer& producer,
                                                             const std::map<std::string, std::string>& client_properties,
                                                             PipelineProbe* probe) {
  std::unique_ptr<ModelSyncLink> link(new ModelSyncLink(config, producer, probe));
  auto reader = kafka::TopicReader::Create(client_properties, link->topic_);
  if (!reader.ok()) return reader.status();
  link->reader_ = std::move(reader).value();
  spdlog::info("model sync on: instance {} publishes to and mixes from topic {}", link->sync_.instance(), link->topic_);
  return link;
}

void ModelSyncLink::before_checkpoint(Processor& processor) {
  if (!started_) {
    trained_at_mix_ = trained_at_publication_ = processor.champion_model().trained;
    started_ = true;
  }
  // A champion of a family that does not mix neither mixes nor publishes (a forest's bytes
  // every second would buy nothing); asked again at every checkpoint, as a model switch can
  // change the family.
  const Status mixes = processor.mix_champion(0, {});
  const bool was_mixing = champion_mixes_;
  champion_mixes_ = mixes.ok();
  if (champion_mixes_ != was_mixing) {
    if (champion_mixes_) {
      spdlog::info("model sync: the champion mixes again; publishing and mixing resume");
    } else {
      spdlog::warn("model sync: {}; this instance neither publishes nor mixes while it is the champion",
                   mixes.message());
    }
  }
  std::vector<kafka::OwnedRecord> records;
  (void)reader_->read_available(&records);
  for (const auto& r : records) {
    const auto received = sync_.receive(r.key, r.value);
    if (received == ModelSync::Received::kOtherPipeline || received == ModelSync::Received::kUndecodable) {
      if (refused_) refused_->Increment();
      if (refusals_logged_++ % kRefusalLogEvery == 0) {
        spdlog::warn("model sync: record of {} at {}-{}@{} refused ({}); {} refused so far", r.key, topic_, r.partition,
                     r.offset,
                     received == ModelSync::Received::kUndecodable ? "not a model-sync record of this version"
                                                                   : "another pipeline's model or settings",
                     refusals_logged_);
      }
    }
  }
  if (peers_) peers_->Set(static_cast<double>(sync_.peers()));
  const auto unmixed = sync_.take_unmixed();
  if (unmixed.empty() || !champion_mixes_) return;
  const uint64_t trained = processor.champion_model().trained;
  const double own_weight = static_cast<double>(trained - std::min(trained, trained_at_mix_));
  std::vector<WeightedChampion> peers;
  for (const ModelSyncRecord* r : unmixed) peers.push_back({&r->champion, static_cast<double>(r->events)});
  const Status mixed = processor.mix_champion(own_weight, peers);
  if (!mixed.ok()) {
    if (refused_) refused_->Increment();
    if (refusals_logged_++ % kRefusalLogEvery == 0) {
      spdlog::warn("model sync: not mixing {} peer model(s): {}", unmixed.size(), mixed.message());
    }
    return;
  }
  trained_at_mix_ = trained;
  if (mixes_) mixes_->Increment();
  spdlog::debug("model sync: mixed {} peer model(s) (own weight {})", unmixed.size(), own_weight);
}

void ModelSyncLink::after_checkpoint(const Processor& processor) {
  if (!champion_mixes_) return;
  ChampionModel champion = processor.champion_model();
  const uint64_t trained = champion.trained;
  // Its weight: what it learned since its previous publication (a peer mixes each
  // publication once, so each event learned here weighs in once).
  const uint64_t events = trained - std::min(trained, trained_at_publication_);
  trained_at_publication_ = trained;
  const std::string bytes = EncodeModelSyncRecord(sync_.publication(std::move(champion), events));
  const Status st = producer_.produce(topic_, sync_.instance(), bytes);
  if (!st.ok()) {
    spdlog::warn("model sync: publishing to {} failed: {}", topic_, st.message());
    return;
  }
  if (published_) published_->Increment();
  if (published_bytes_) published_bytes_->Increment(static_cast<double>(bytes.size()));
}

}  // namespace streamlearn::pipeline

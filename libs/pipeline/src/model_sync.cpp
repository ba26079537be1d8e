#include "model_sync.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/core/bytes.hpp"
#include "output_encoders.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/topic_reader.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/pipeline/probe.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kRecordMagic = "SLMS";
constexpr uint32_t kRecordVersion = 2;  // 2: the version's origin and cause
// A record refused for the same reason is logged the first time and then every this many.
constexpr uint64_t kRefusalLogEvery = 100;

void WriteNames(ByteWriter& w, const std::vector<std::string>& names) {
  w.u32(static_cast<uint32_t>(names.size()));
  for (const auto& n : names) w.str(n);
}

bool ReadNames(ByteReader& r, std::vector<std::string>* names) {
  uint32_t n = 0;
  if (!ReadCount(r, 4, &n)) return false;  // each name takes at least its length
  names->reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) names->push_back(r.str());
  return r.ok();
}

uint64_t WallMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::string DefaultInstanceId(const PipelineConfig& config) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + config.state.dir;
}

std::string EncodeModelSyncRecord(const ModelSyncRecord& record) {
  std::string payload;
  ByteWriter w(&payload);
  w.str(record.instance);
  w.str(record.pipeline);
  w.u64(record.sequence);
  w.u64(record.events);
  w.str(record.base);
  w.str(record.origin);
  w.str(record.cause);
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
  record.base = r.str();
  record.origin = r.str();
  record.cause = r.str();
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

bool Supersedes(const ModelVersion& a, const ModelVersion& b) {
  if (a.number != b.number) return a.number > b.number;
  return a.origin < b.origin;
}

bool SameVersion(const ModelVersion& a, const ModelVersion& b) {
  return a.number == b.number && a.origin == b.origin;
}

ModelSync::ModelSync(std::string instance, std::string pipeline, uint64_t first_sequence, bool every_record)
    : instance_(std::move(instance)),
      pipeline_(std::move(pipeline)),
      next_sequence_(first_sequence),
      every_record_(every_record) {}

ModelSync::Received ModelSync::receive(std::string_view key, std::string_view value) {
  if (key == instance_) return Received::kOwn;
  auto record = DecodeModelSyncRecord(value);
  if (!record.ok()) return Received::kUndecodable;
  if (record->instance == instance_) return Received::kOwn;
  if (record->pipeline != pipeline_) return Received::kOtherPipeline;
  auto it = peers_.find(record->instance);
  if (every_record_ && (it == peers_.end() || it->second.latest.sequence != record->sequence)) {
    pending_.push_back(*record);
  }
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
  if (every_record_) {
    taken_ = std::move(pending_);
    pending_.clear();
    for (auto& [name, peer] : peers_) peer.mixed_sequence = peer.latest.sequence;
    for (const ModelSyncRecord& r : taken_) out.push_back(&r);
    return out;
  }
  for (auto& [name, peer] : peers_) {
    if (peer.latest.sequence == peer.mixed_sequence) continue;
    peer.mixed_sequence = peer.latest.sequence;
    out.push_back(&peer.latest);
  }
  return out;
}

void ModelSync::observe_own(uint64_t number, std::string_view cause) {
  if (!version_observed_) {
    version_ = {number, "", std::string(cause)};
    version_observed_ = true;
    version_provisional_ = true;
    return;
  }
  if (number == version_.number) return;
  // A change made here. A drift or divergence reset is the same change wherever it is made.
  const bool reset = cause == "drift" || cause == "diverged";
  version_ = {number, reset ? std::string() : instance_, std::string(cause)};
  version_provisional_ = false;
}

ModelSync::Plan ModelSync::plan() {
  Plan out;
  const std::vector<const ModelSyncRecord*> unmixed = take_unmixed();
  if (version_provisional_ && !unmixed.empty()) {
    // A restored model does not know who made its version: the peers do.
    for (const ModelSyncRecord* r : unmixed) {
      if (r->champion.version == version_.number && (version_provisional_ || r->origin < version_.origin)) {
        version_.origin = r->origin;
        version_.cause = r->cause;
        version_provisional_ = false;
      }
    }
    version_provisional_ = false;
  }
  ModelVersion target = version_;
  for (const ModelSyncRecord* r : unmixed) {
    const ModelVersion v = r->version();
    // Among peers of the newest version, the one that learned most is taken.
    if (Supersedes(v, target) || (out.adopt && SameVersion(v, target) && r->champion.trained > out.adopt->champion.trained)) {
      target = v;
      out.adopt = r;
    }
  }
  // Summed updates: the adopted model holds what its publisher had before it (as far as
  // this instance can tell), so only the records after it add theirs.
  bool after_adopted = out.adopt == nullptr || !every_record_;
  for (const ModelSyncRecord* r : unmixed) {
    if (r == out.adopt) {
      after_adopted = true;
      continue;
    }
    if (SameVersion(r->version(), target) && after_adopted) {
      out.mix.push_back(r);
    } else {
      out.stale++;
    }
  }
  return out;
}

void ModelSync::adopted(const ModelSyncRecord& record) {
  version_ = record.version();
  version_provisional_ = false;
}

ModelSyncRecord ModelSync::publication(ChampionModel champion, uint64_t events_since_mix) {
  ModelSyncRecord record;
  record.instance = instance_;
  record.pipeline = pipeline_;
  record.sequence = next_sequence_++;
  record.events = events_since_mix;
  record.origin = version_.origin;
  record.cause = version_.cause;
  record.champion = std::move(champion);
  return record;
}

ModelSyncLink::ModelSyncLink(const PipelineConfig& config, kafka::Producer& producer, PipelineProbe* probe)
    : topic_(config.sync.topic.empty() ? config.kafka.group_id + ".model-sync" : config.sync.topic),
      drift_topic_(config.kafka.drift_topic),
      model_(config.model.name),
      producer_(producer),
      sync_(config.sync.instance_id.empty() ? DefaultInstanceId(config) : config.sync.instance_id,
            PipelineFingerprint(config), WallMs(), config.sync.mix == ModelSyncMix::kUpdates),
      sum_updates_(config.sync.mix == ModelSyncMix::kUpdates) {
  if (!probe) return;
  auto& registry = *probe->registry();
  mixes_ = &prometheus::BuildCounter()
                .Name("streamlearn_model_sync_mixes_total")
                .Help("Checkpoints at which peers' models were mixed into the champion")
                .Register(registry)
                .Add({});
  adopted_ = &prometheus::BuildCounter()
                  .Name("streamlearn_model_sync_adopted_total")
                  .Help("Newer model versions made on a peer and taken by this instance")
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
    trained_at_mix_ = trained_at_publication_ = processor.champion_model_trained();
    started_ = true;
  }
  // A champion of a family that does not mix neither mixes nor publishes (a forest's bytes
  // every second would buy nothing); asked again at every checkpoint, as a model switch can
  // change the family.
  const ChampionVersion version = processor.champion_version();
  sync_.observe_own(version.number, version.cause);
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
  read_topic();
  news_ = false;
  if (peers_) peers_->Set(static_cast<double>(sync_.peers()));
  const ModelSync::Plan plan = sync_.plan();
  if (!champion_mixes_) return;
  if (sum_updates_) {
    sum_updates(processor, plan);
  } else {
    average(processor, plan);
  }
}

bool ModelSyncLink::peers_published() {
  // Averaging weighs this instance by what it learned since it last mixed: an idle one
  // would weigh 0 and take its peers' models whole, so it waits for events of its own.
  if (!champion_mixes_ || !sum_updates_) return false;
  read_topic();
  return news_;
}

void ModelSyncLink::read_topic() {
  std::vector<kafka::OwnedRecord> records;
  (void)reader_->read_available(&records);
  for (const auto& r : records) {
    const auto received = sync_.receive(r.key, r.value);
    if (received == ModelSync::Received::kNew) news_ = true;
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
}

bool ModelSyncLink::adopt(Processor& processor, const ModelSyncRecord& newer) {
  const uint64_t from = sync_.version().number;
  const Status adopted = processor.adopt_champion(newer.champion);
  if (!adopted.ok()) {
    // Not mixing the peers of that version into this one either: the peer republishes at
    // its next checkpoint, and the adoption is tried again then.
    if (refused_) refused_->Increment();
    spdlog::warn("model sync: cannot take version {} ({}) from {}: {}", newer.champion.version, newer.cause,
                 newer.instance, adopted.message());
    return false;
  }
  sync_.adopted(newer);
  if (adopted_) adopted_->Increment();
  // On the drift topic like every other version change (a drift reset, a rollback): a reader
  // of that topic sees each version a prediction of this instance may carry. Inside the open
  // transaction with exactly_once (the checkpoint's), like the checkpoint it belongs to.
  if (!drift_topic_.empty()) {
    ModelChangeRecord change;
    change.model = model_;
    change.action = "adopt";
    change.version = newer.champion.version;
    change.previous_version = from;
    change.peer = newer.instance;
    change.cause = newer.cause;
    change.trained = newer.champion.trained;
    change.ts_ms = static_cast<int64_t>(WallMs());
    std::string json;
    EncodeModelChange(change, json);
    const Status published = producer_.produce(drift_topic_, model_, json);
    if (!published.ok()) spdlog::warn("model sync: the adoption of version {} is not on {}: {}", change.version,
                                      drift_topic_, published.message());
  }
  spdlog::info("model sync: version {} ({} on {}) taken from {}, replacing version {}", newer.champion.version,
               newer.cause, newer.origin.empty() ? std::string("any instance") : newer.origin, newer.instance, from);
  return true;
}

void ModelSyncLink::mixed(size_t peers, const Status& status) {
  if (status.ok()) {
    if (mixes_) mixes_->Increment();
    return;
  }
  if (refused_) refused_->Increment();
  if (refusals_logged_++ % kRefusalLogEvery == 0) {
    spdlog::warn("model sync: not mixing {} peer model(s): {}", peers, status.message());
  }
}

void ModelSyncLink::average(Processor& processor, const ModelSync::Plan& plan) {
  const uint64_t trained = processor.champion_model_trained();
  double own_weight = static_cast<double>(trained - std::min(trained, trained_at_mix_));
  if (plan.adopt != nullptr) {
    if (!adopt(processor, *plan.adopt)) return;
    own_weight = static_cast<double>(plan.adopt->events);  // the model here is now that peer's
    trained_at_mix_ = trained;
  }
  if (plan.mix.empty()) return;
  std::vector<WeightedChampion> peers;
  for (const ModelSyncRecord* r : plan.mix) peers.push_back({&r->champion, static_cast<double>(r->events)});
  const Status status = processor.mix_champion(own_weight, peers);
  mixed(plan.mix.size(), status);
  if (status.ok()) trained_at_mix_ = trained;
}

void ModelSyncLink::sum_updates(Processor& processor, const ModelSync::Plan& plan) {
  ChampionModel now = processor.champion_model();
  if (!base_ || base_->version != now.version) {
    // A change made here since the base was taken (or the first checkpoint): after a drift
    // reset what it learned since is all new, so the base is the reset model; after a switch
    // or a rollback the peers take the model whole, and the base is the model as it is.
    ChampionModel base = now;
    const ChampionVersion version = processor.champion_version();
    if (base_ && (version.cause == "drift" || version.cause == "diverged")) {
      ByteReader in(now.learner);
      auto learner = learn::RestoreLearner(in);
      if (learner.ok()) {
        (*learner)->reset();
        base.learner.clear();
        ByteWriter w(&base.learner);
        (*learner)->save(w);
      }
    }
    base_ = std::move(base);
  }
  // Published after the checkpoint: what this instance learned itself until now.
  publication_ = sync_.publication(now, 0);
  publication_->base = base_->learner;
  bool changed = false;
  if (plan.adopt != nullptr) {
    if (!adopt(processor, *plan.adopt)) return;
    changed = true;
    // What it learned at the replaced version is not published: the peers are past it.
    publication_ = sync_.publication(processor.champion_model(), 0);
    publication_->base = publication_->champion.learner;
  }
  Status status = Status::Ok();
  for (const ModelSyncRecord* r : plan.mix) {
    if (r->base.empty()) continue;  // a peer that averages: nothing to add
    status = processor.add_champion_update(r->champion, r->base);
    if (!status.ok()) break;
    changed = true;
  }
  if (!plan.mix.empty()) mixed(plan.mix.size(), status);
  // From here on, what it learns is its own again (published next time).
  base_ = changed ? processor.champion_model() : std::move(now);
}

void ModelSyncLink::after_checkpoint(const Processor& processor) {
  if (!champion_mixes_) return;
  const uint64_t trained = processor.champion_model_trained();
  // Its weight: what it learned since its previous publication (a peer mixes each
  // publication once, so each event learned here weighs in once).
  const uint64_t events = trained - std::min(trained, trained_at_publication_);
  // A checkpoint made only to take the peers' updates (peers_published): nothing of its own
  // to publish (the version it may have taken is its publisher's, already on the topic).
  if (events == 0) return;
  trained_at_publication_ = trained;
  ModelSyncRecord record;
  if (sum_updates_) {
    if (!publication_) return;
    record = std::move(*publication_);
    publication_.reset();
    record.events = events;
  } else {
    record = sync_.publication(processor.champion_model(), events);
  }
  const std::string bytes = EncodeModelSyncRecord(record);
  const Status st = producer_.produce(topic_, sync_.instance(), bytes);
  if (!st.ok()) {
    spdlog::warn("model sync: publishing to {} failed: {}", topic_, st.message());
    return;
  }
  if (published_) published_->Increment();
  if (published_bytes_) published_bytes_->Increment(static_cast<double>(bytes.size()));
}

}  // namespace streamlearn::pipeline

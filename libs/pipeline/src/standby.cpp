#include "standby.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "model_sync.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr int kPollMs = 200;
constexpr size_t kMaxRecordsPerStep = 5000;

std::string Prefix(int32_t partition) {
  const auto p = static_cast<uint32_t>(partition);
  return {static_cast<char>(p >> 24), static_cast<char>(p >> 16), static_cast<char>(p >> 8), static_cast<char>(p)};
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string List(const std::set<int32_t>& partitions) {
  std::string out;
  for (int32_t p : partitions) out.append(out.empty() ? "" : ",").append(std::to_string(p));
  return out.empty() ? "none" : out;
}

}  // namespace

std::string MembersTopic(const PipelineConfig& config) { return config.kafka.group_id + ".standby-members"; }

Result<std::unique_ptr<StandbyReplicas>> StandbyReplicas::Start(const PipelineConfig& config,
                                                                const kafka::Properties& reader,
                                                                const kafka::Properties& writer,
                                                                PipelineProbe* probe) {
  std::unique_ptr<StandbyReplicas> s(new StandbyReplicas());
  s->topic_ = ChangelogTopic(config);
  s->members_topic_ = MembersTopic(config);
  s->instance_ = config.sync.instance_id.empty() ? DefaultInstanceId(config) : config.sync.instance_id;
  s->replicas_ = config.scale.standby_replicas;
  s->placement_.emplace(s->instance_, s->replicas_);
  s->reader_ = reader;
  kafka::Properties out = writer;
  out["linger.ms"] = "0";
  auto producer = kafka::Producer::Create(out);
  if (!producer.ok()) return producer.status();
  s->members_out_ = std::move(producer).value();
  auto members = kafka::TopicReader::Create(reader, s->members_topic_);
  if (!members.ok()) return members.status();
  s->members_in_ = std::move(members).value();
  // Not synced: a copy lost in a crash is read again from the changelog.
  auto store = state::StateStore::Open(config.state.dir + "/standby", {.sync = false});
  if (!store.ok()) return Status(store.status().code(), "scale.standby_replicas: " + store.status().message());
  s->store_ = std::move(store).value();
  auto tailer = kafka::PartitionTailer::Create(reader, s->topic_);
  if (!tailer.ok()) return tailer.status();
  s->tailer_ = std::move(tailer).value();
  if (probe) {
    auto& r = *probe->registry();
    s->partitions_gauge_ = &prometheus::BuildGauge()
                                .Name("streamlearn_standby_partitions")
                                .Help("Partitions of which this instance keeps a warm copy (scale.standby_replicas)")
                                .Register(r)
                                .Add({});
    s->lag_gauge_ = &prometheus::BuildGauge()
                         .Name("streamlearn_standby_lag_records")
                         .Help("Changelog records the warm copies are behind, over their partitions")
                         .Register(r)
                         .Add({});
    s->records_ = &prometheus::BuildCounter()
                       .Name("streamlearn_standby_records_total")
                       .Help("Changelog records read by the standby replicas")
                       .Register(r)
                       .Add({});
    s->bytes_ = &prometheus::BuildCounter()
                     .Name("streamlearn_standby_bytes_total")
                     .Help("Key and value bytes of the changelog records the standby replicas read")
                     .Register(r)
                     .Add({});
    s->copy_family_ = &prometheus::BuildGauge()
                           .Name("streamlearn_standby_placement")
                           .Help("1 for each partition this instance holds (role active) or keeps a warm copy of "
                                 "(role standby), else 0")
                           .Register(r);
  }
  StandbyReplicas* self = s.get();
  s->thread_ = std::thread([self] { self->run(); });
  return s;
}

StandbyReplicas::~StandbyReplicas() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  // A tombstone: the others place copies without this instance at once, not after its TTL.
  if (members_out_ && members_out_->produce(members_topic_, instance_, {}).ok()) (void)members_out_->flush(2000);
}

void StandbyReplicas::hold(int32_t partition) {
  std::lock_guard lock(mu_);
  if (held_.insert(partition).second) held_version_++;
}

void StandbyReplicas::release(int32_t partition) {
  std::lock_guard lock(mu_);
  if (held_.erase(partition) > 0) held_version_++;
}

Result<WarmCopy> StandbyReplicas::copy_of(int32_t partition) {
  std::lock_guard lock(mu_);
  WarmCopy copy;
  const std::string prefix = Prefix(partition);
  auto offsets = store_->offsets();
  if (!offsets.ok()) return offsets.status();
  auto at = offsets->find({topic_, partition});
  if (at == offsets->end()) return copy;  // never reached a marker
  copy.position = at->second;
  Status st = store_->for_each_entity([&](std::string_view key, std::string_view value) {
    if (key.size() < 4 || key.compare(0, 4, prefix) < 0) return true;
    if (key.compare(0, 4, prefix) > 0) return false;  // keys are in partition order
    const std::string_view entity = key.substr(4);
    if (entity == OffsetMarkerKey()) {
      auto marker = DecodeOffsetMarker(value);
      if (marker.ok()) copy.marker = std::move(marker).value();
    } else {
      copy.entities.emplace(entity, value);
    }
    return true;
  });
  if (!st.ok()) return st;
  if (!copy.marker) return WarmCopy{};  // a position without its marker: not a copy to trust
  return copy;
}

int64_t AdoptWarmCopy(StandbyReplicas& standby, int32_t partition,
                      std::map<std::string, std::string, std::less<>>& entities, std::optional<OffsetMarker>& marker) {
  auto copy = standby.copy_of(partition);
  if (!copy.ok()) {
    spdlog::warn("partition {}: its warm copy is not readable ({}); the whole changelog is read", partition,
                 copy.status().message());
    return 0;
  }
  if (!copy->marker) return 0;
  spdlog::info("partition {}: warm copy of {} entity state(s) up to changelog offset {}", partition,
               copy->entities.size(), copy->position);
  entities = std::move(copy->entities);
  marker = std::move(copy->marker);
  return copy->position;
}

void StandbyReplicas::run() {
  while (!stop_) {
    Status st = step();
    if (!st.ok()) {
      spdlog::warn("standby replicas: {}; retrying in 1 s", st.message());
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

Status StandbyReplicas::step() {
  if (partitions_ == 0) {
    auto count = kafka::PartitionCount(reader_, topic_, 5000);
    if (!count.ok()) return count.status();
    partitions_ = *count;
  }
  std::vector<kafka::OwnedRecord> members;
  SL_RETURN_IF_ERROR(members_in_->read_available(&members));
  for (const auto& m : members) placement_->receive(m.key, m.value);
  const int64_t now_ms = NowMs();
  {
    // Follow the partitions placed here: one new to the set starts at its copy's position.
    std::lock_guard lock(mu_);
    std::map<int32_t, int> short_of;
    std::set<int32_t> warm = placement_->warm(held_, partitions_, now_ms, &short_of);
    if (short_of != short_of_) {
      if (!short_of.empty()) {
        spdlog::warn("standby replicas: {} live member(s) for {} copies of each partition: {} partition(s) have "
                     "fewer (scale.standby_replicas)",
                     placement_->live(now_ms).size(), replicas_, short_of.size());
      }
      short_of_ = std::move(short_of);
    }
    if (assigned_version_ != held_version_ || warm != warm_) {
      auto offsets = store_->offsets();
      if (!offsets.ok()) return offsets.status();
      std::map<int32_t, Tail> tails;
      std::map<int32_t, int64_t> next;
      for (int32_t p : warm) {
        auto kept = tails_.find(p);
        if (kept != tails_.end()) {
          tails[p] = std::move(kept->second);
        } else {
          auto at = offsets->find({topic_, p});
          tails[p].next = at == offsets->end() ? 0 : at->second;
        }
        next[p] = tails[p].next;
      }
      SL_RETURN_IF_ERROR(tailer_->assign(next));
      tails_ = std::move(tails);
      assigned_version_ = held_version_;
      warm_ = std::move(warm);
      if (partitions_gauge_) partitions_gauge_->Set(static_cast<double>(tails_.size()));
      for (int32_t p = 0; copy_family_ && p < partitions_; ++p) {
        auto& [active, standby] = copy_gauges_[p];
        if (!active) {
          active = &copy_family_->Add({{"partition", std::to_string(p)}, {"role", "active"}});
          standby = &copy_family_->Add({{"partition", std::to_string(p)}, {"role", "standby"}});
        }
        active->Set(held_.count(p) ? 1 : 0);
        standby->Set(warm_.count(p) ? 1 : 0);
      }
      spdlog::info("standby replicas: keeping {} partition(s) of {} warm ({}); holding {}; {} live member(s)",
                   warm_.size(), topic_, List(warm_), List(held_), placement_->live(now_ms).size());
    }
  }
  // Not a reason to stop tailing: the others then place copies without this instance's
  // assignment (it counts as gone after its TTL, and may get a copy too many meanwhile).
  if (Status published = publish(now_ms); !published.ok() && !publish_failed_) {
    spdlog::warn("standby replicas: this instance's assignment is not published on {}: {}", members_topic_,
                 published.message());
    publish_failed_ = true;
  } else if (published.ok()) {
    publish_failed_ = false;
  }
  // Fetch outside the lock; apply under it, so that a partition held meanwhile is skipped.
  struct Record {
    int32_t partition;
    int64_t offset;
    std::string key, value;
  };
  std::vector<Record> records;
  auto polled = tailer_->poll(kPollMs, kMaxRecordsPerStep, [&](const kafka::MessageView& m) {
    records.push_back({m.partition, m.offset, std::string(m.key), std::string(m.payload)});
  });
  if (!polled.ok()) return polled.status();
  uint64_t bytes = 0;
  {
    std::lock_guard lock(mu_);
    state::CheckpointBatch batch = store_->begin_checkpoint();
    for (Record& r : records) {
      bytes += r.key.size() + r.value.size();
      if (held_.count(r.partition)) continue;
      auto tail = tails_.find(r.partition);
      if (tail == tails_.end() || r.offset < tail->second.next) continue;
      tail->second.next = r.offset + 1;
      if (r.key != OffsetMarkerKey()) {
        tail->second.unfinished[std::move(r.key)] = std::move(r.value);
        continue;
      }
      if (!DecodeOffsetMarker(r.value).ok()) continue;  // skipped, as a restore skips it
      const std::string prefix = Prefix(r.partition);
      for (const auto& [key, value] : tail->second.unfinished) {
        if (value.empty() && IsLabelJoinKey(key)) {
          batch.delete_entity(prefix + key);  // the label join's id is gone
        } else {
          batch.put_entity(prefix + key, value);
        }
      }
      tail->second.unfinished.clear();
      batch.put_entity(prefix + r.key, r.value);
      batch.put_offset({topic_, r.partition}, r.offset + 1);
    }
    if (batch.count() > 0) SL_RETURN_IF_ERROR(store_->commit(batch));
  }
  double lag = 0;
  std::map<int32_t, int64_t> recreated;  // partition -> its end, before the copy's position
  for (const auto& [p, tail] : tails_) {
    const std::optional<int64_t> end = tailer_->end_offset(p);
    if (end && *end > tail.next) lag += static_cast<double>(*end - tail.next);
    if (end && *end < tail.next) recreated[p] = *end;
  }
  for (const auto& [p, end] : recreated) SL_RETURN_IF_ERROR(drop(p, end));
  if (records_) {
    records_->Increment(static_cast<double>(records.size()));
    bytes_->Increment(static_cast<double>(bytes));
    lag_gauge_->Set(lag);
  }
  return Status::Ok();
}

Status StandbyReplicas::publish(int64_t now_ms) {
  members_out_->poll();
  MemberRecord record;
  record.ttl_ms = kMemberTtlMs;
  {
    std::lock_guard lock(mu_);
    record.held = held_;
  }
  record.warm = warm_;
  const std::string changed = EncodeMemberRecord(record);  // at_ms 0: compared without the time
  if (changed == published_ && now_ms - published_ms_ < kMemberHeartbeatMs) return Status::Ok();
  record.at_ms = now_ms;
  SL_RETURN_IF_ERROR(members_out_->produce(members_topic_, instance_, EncodeMemberRecord(record)));
  published_ = changed;
  published_ms_ = now_ms;
  return Status::Ok();
}

// The changelog ends before the copy's position: the topic was recreated, and the copy
// belongs to the old one. Dropped, and the partition read again from its beginning.
Status StandbyReplicas::drop(int32_t partition, int64_t end) {
  spdlog::warn("standby replicas: {}-{} ends at {}, before the warm copy's position {}; the copy is read again",
               topic_, partition, end, tails_[partition].next);
  std::lock_guard lock(mu_);
  const std::string prefix = Prefix(partition);
  state::CheckpointBatch batch = store_->begin_checkpoint();
  SL_RETURN_IF_ERROR(store_->for_each_entity([&](std::string_view key, std::string_view) {
    if (key.size() < 4 || key.compare(0, 4, prefix) < 0) return true;
    if (key.compare(0, 4, prefix) > 0) return false;
    batch.delete_entity(key);
    return true;
  }));
  batch.put_offset({topic_, partition}, 0);
  SL_RETURN_IF_ERROR(store_->commit(batch));
  tails_.erase(partition);
  assigned_version_ = ~held_version_;  // assigned again at the next step
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

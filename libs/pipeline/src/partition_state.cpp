#include "partition_state.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "standby.hpp"
#include "streamlearn/kafka/partition_tailer.hpp"
#include "streamlearn/kafka/range_reader.hpp"
#include "streamlearn/pipeline/entity_cache.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kMarkerKey{"\0streamlearn.offsets", 20};
constexpr std::string_view kMarkerMagic = "streamlearn-offsets 1";
constexpr std::string_view kLabelJoinKeyPrefix{"\0label:", 7};
constexpr int kReadTimeoutMs = 120000;
constexpr int kCommittedTimeoutMs = 5000;

// Which instance wrote a marker: the host and the state directory, which a restarted
// instance keeps and no other instance shares.
std::string InstanceId(const std::string& dir) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::error_code ec;
  std::filesystem::path path = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  return std::string(host) + ":" + (ec ? dir : path.string());
}

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::string_view OffsetMarkerKey() { return kMarkerKey; }

std::string LabelJoinKey(std::string_view id) {
  std::string key(kLabelJoinKeyPrefix);
  key += id;
  return key;
}
bool IsLabelJoinKey(std::string_view key) { return key.starts_with(kLabelJoinKeyPrefix); }
std::string_view IdOfLabelJoinKey(std::string_view key) { return key.substr(kLabelJoinKeyPrefix.size()); }

// Text, one item a line (topic names hold no white space): readable with kcat.
std::string EncodeOffsetMarker(const OffsetMarker& marker) {
  std::string out(kMarkerMagic);
  out += "\ninstance " + marker.instance + "\nsequence " + std::to_string(marker.sequence) + "\n";
  for (const auto& [topic, next] : marker.next_offsets) out += "offset " + topic + " " + std::to_string(next) + "\n";
  return out;
}

Result<OffsetMarker> DecodeOffsetMarker(std::string_view value) {
  OffsetMarker marker;
  size_t line_no = 0;
  while (!value.empty()) {
    const size_t end = value.find('\n');
    std::string_view line = value.substr(0, end);
    value = end == std::string_view::npos ? std::string_view() : value.substr(end + 1);
    if (line_no++ == 0) {
      if (line != kMarkerMagic) return Status::Corruption("offset marker of an unknown format");
      continue;
    }
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return Status::Corruption("offset marker line without a value");
    const std::string_view name = line.substr(0, space), rest = line.substr(space + 1);
    try {
      if (name == "instance") {
        marker.instance = rest;
      } else if (name == "sequence") {
        marker.sequence = std::stoull(std::string(rest));
      } else if (name == "offset") {
        const size_t split = rest.rfind(' ');
        if (split == std::string_view::npos) return Status::Corruption("offset marker: offset without a topic");
        marker.next_offsets[std::string(rest.substr(0, split))] = std::stoll(std::string(rest.substr(split + 1)));
      }
    } catch (const std::exception&) {
      return Status::Corruption("offset marker: a number that is not one");
    }
  }
  if (line_no == 0) return Status::Corruption("empty offset marker");
  return marker;
}

struct PartitionStates::Restored {
  std::map<std::string, std::string, std::less<>> entities;  // up to the last marker
  std::map<std::string, std::string, std::less<>> unfinished;  // after it: ignored
  std::optional<OffsetMarker> marker;
  uint64_t records = 0;
  size_t label_records = 0;  // of the label join, taken out of `entities` by restore()
};

PartitionStates::PartitionStates(const PipelineConfig& config, Processor& processor, state::StateStore& store,
                                 PipelineProbe* probe, kafka::Properties reader)
    : config_(config),
      processor_(processor),
      store_(store),
      probe_(probe),
      reader_(std::move(reader)),
      topic_(ChangelogTopic(config)),
      instance_(InstanceId(config.state.dir)),
      sequence_(WallMs()) {
  // What RocksDB holds is what earlier markers said (or older): only partitions processed
  // from here on get a marker, never one this member does not hold.
  marked_ = processor_.next_offsets();
  produced_messages_ = processor_.stats().messages;
}

Status PartitionStates::produce_changes(kafka::Producer& producer, std::vector<PendingMarker>* markers) {
  if (!config_.scale.changelog) return Status::Ok();
  const uint64_t messages = processor_.stats().messages;
  if (messages == produced_messages_) return Status::Ok();
  produced_messages_ = messages;
  EntityCache* cache = processor_.entity_cache();
  if (!cache) return Status::Ok();
  std::set<int32_t> changed;
  uint64_t records = 0, bytes = 0;
  for (const EntityCache::Entry* entry : cache->dirty()) {
    const int32_t partition = entry->second.partition;
    if (partition < 0) continue;  // touched by no event of ours (cannot happen without labels)
    entry->second.state.encode(&bytes_);
    SL_RETURN_IF_ERROR(producer.produce(topic_, entry->first, bytes_, {}, partition));
    changed.insert(partition);
    records++;
    bytes += entry->first.size() + bytes_.size();
  }
  // The label join's changes, of the partitions held (a revoked one's belong to its next holder).
  if (labels_in_unit()) {
    Status st = Status::Ok();
    processor_.label_join()->for_each_change([&](int32_t partition, std::string_view id, std::string_view record) {
      if (!st.ok() || held_.count({config_.kafka.events_topic, partition}) == 0) return;
      key_ = LabelJoinKey(id);
      st = producer.produce(topic_, key_, record, {}, partition);
      changed.insert(partition);
      records++;
      bytes += key_.size() + record.size();
    });
    SL_RETURN_IF_ERROR(st);
  }
  const auto& offsets = processor_.next_offsets();
  for (const auto& [tp, next] : offsets) {
    if (tp.first != config_.kafka.events_topic && tp.first != config_.kafka.labels_topic) continue;
    auto it = marked_.find(tp);
    if (it == marked_.end() || it->second != next) changed.insert(tp.second);
  }
  if (!changed.empty()) sequence_++;
  // With scale.replay_dedup, the predictions partition's offset too (replay_dedup.hpp).
  const std::string* predictions = config_.scale.replay_dedup ? &config_.kafka.predictions_topic : nullptr;
  for (int32_t partition : changed) {
    OffsetMarker marker{instance_, sequence_, {}};
    for (const std::string* topic : {&config_.kafka.events_topic, &config_.kafka.labels_topic, predictions}) {
      if (!topic) continue;
      auto it = offsets.find({*topic, partition});
      if (it == offsets.end()) continue;
      marker.next_offsets[*topic] = it->second;
      marked_[{*topic, partition}] = it->second;
    }
    if (marker.next_offsets.empty()) continue;
    markers->push_back({partition, EncodeOffsetMarker(marker)});
  }
  if (probe_) {
    probe_->changelog_records.Increment(static_cast<double>(records));
    probe_->changelog_bytes.Increment(static_cast<double>(bytes));
  }
  return Status::Ok();
}

Status PartitionStates::produce_markers(kafka::Producer& producer, const std::vector<PendingMarker>& markers) {
  uint64_t bytes = 0;
  for (const PendingMarker& m : markers) {
    SL_RETURN_IF_ERROR(producer.produce(topic_, kMarkerKey, m.value, {}, m.partition));
    bytes += kMarkerKey.size() + m.value.size();
  }
  if (probe_ && !markers.empty()) {
    probe_->changelog_records.Increment(static_cast<double>(markers.size()));
    probe_->changelog_bytes.Increment(static_cast<double>(bytes));
  }
  return Status::Ok();
}

bool PartitionStates::labels_in_unit() const {
  return config_.scale.changelog && config_.scale.changelog_labels && processor_.label_join() != nullptr;
}

Status PartitionStates::on_assign(kafka::Consumer& consumer, std::vector<kafka::PartitionOffset>& parts,
                                  const std::function<void(const std::string&)>& progress) {
  if (probe_) probe_->rebalances.Increment();
  if (!config_.scale.changelog) return Status::Ok();
  for (const auto& p : parts) held_.insert({p.topic, p.partition});
  SL_RETURN_IF_ERROR(decide(consumer, parts, progress));
  return drop_labels_not_held();
}

void PartitionStates::on_revoke(const std::vector<kafka::PartitionOffset>& revoked) {
  for (const auto& r : revoked) held_.erase({r.topic, r.partition});
}

// The label join records of a partition held elsewhere went to its holder through the
// changelog; the copies here would be expired, evicted or joined by no label. Dropped, and
// the partition's local offsets with them: its local state is no longer whole, so when it
// comes back it is restored from the changelog (its last marker, even this instance's own)
// rather than resumed as "current".
Status PartitionStates::drop_labels_not_held() {
  if (!labels_in_unit()) return Status::Ok();
  // A record's partition is its event's, or its label's for an early label: kept while this
  // instance holds that partition of either topic (one instance holds all of both, however
  // many partitions each has).
  std::set<int32_t> kept;
  for (const auto& [topic, partition] : held_) kept.insert(partition);
  state::CheckpointBatch batch = store_.begin_checkpoint();
  const size_t dropped = processor_.label_join()->drop_partitions_except(kept, batch);
  std::set<int32_t> forgotten;
  for (const auto& [tp, next] : processor_.next_offsets()) {
    if (tp.first != config_.kafka.events_topic && tp.first != config_.kafka.labels_topic) continue;
    if (next >= 0 && kept.count(tp.second) == 0) forgotten.insert(tp.second);
  }
  for (int32_t partition : forgotten) {
    for (const std::string* topic : {&config_.kafka.events_topic, &config_.kafka.labels_topic}) {
      auto tp = std::make_pair(*topic, partition);
      if (processor_.next_offsets().count(tp) == 0) continue;
      processor_.set_next_offset(*topic, partition, -1);
      marked_[tp] = -1;  // no marker for it: this member does not hold it
      batch.put_offset({*topic, partition}, -1);
    }
  }
  if (dropped == 0 && forgotten.empty()) return Status::Ok();
  SL_RETURN_IF_ERROR(store_.commit(batch));
  spdlog::info("label join: {} record(s) of {} partition(s) now held elsewhere dropped; they are restored from {} "
               "if they come back",
               dropped, forgotten.size(), topic_);
  return Status::Ok();
}

Status PartitionStates::decide(kafka::Consumer& consumer, std::vector<kafka::PartitionOffset>& parts,
                               const std::function<void(const std::string&)>& progress) {
  if (parts.empty()) return Status::Ok();
  std::vector<kafka::PartitionOffset> committed = parts;
  Status asked = consumer.committed(committed, kCommittedTimeoutMs);
  if (!asked.ok()) {
    spdlog::warn("{}; deciding from the changelog", asked.message());
    for (auto& c : committed) c.offset = -2;  // matches no local offset
  }
  // The group's offset equal to the local one is not proof enough: a member whose hand-over
  // commit was refused (a rebalance already under way) advanced the partition without it. The
  // last changelog record says: this member's marker, or one at the local offset, confirms.
  std::vector<kafka::ReadRange> tails;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].topic == config_.kafka.events_topic && parts[i].offset >= 0 && parts[i].offset == committed[i].offset) {
      tails.push_back({parts[i].partition, -1, -1, 1});
    }
  }
  std::set<int32_t> confirmed;
  Status peeked = kafka::ReadRanges(reader_, topic_, tails, kCommittedTimeoutMs, [&](const kafka::MessageView& m) {
    if (m.key != kMarkerKey) return;  // a checkpoint that did not finish: the whole read decides
    auto marker = DecodeOffsetMarker(m.payload);
    if (!marker.ok()) return;
    auto at = marker->next_offsets.find(config_.kafka.events_topic);
    const auto held = std::find_if(parts.begin(), parts.end(), [&](const kafka::PartitionOffset& p) {
      return p.topic == config_.kafka.events_topic && p.partition == m.partition;
    });
    // Another member's marker at the local offsets: of the labels topic too, whose
    // partition it may have advanced alone (labels without events: its label join changed).
    auto labels = marker->next_offsets.find(config_.kafka.labels_topic);
    auto local_labels = processor_.next_offsets().find({config_.kafka.labels_topic, m.partition});
    const bool labels_same = labels == marker->next_offsets.end() ||
                             (local_labels != processor_.next_offsets().end() && local_labels->second == labels->second);
    if (marker->instance == instance_ || (at != marker->next_offsets.end() && at->second == held->offset && labels_same)) {
      confirmed.insert(m.partition);
    }
  });
  if (!peeked.ok()) spdlog::warn("{}; deciding from the whole changelog", peeked.message());
  for (const auto& t : tails) {
    if (peeked.ok() && t.end == 0) confirmed.insert(t.partition);  // an empty changelog
  }
  std::map<std::pair<std::string, int32_t>, int64_t> resume;  // restored partitions' offsets
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].topic != config_.kafka.events_topic) continue;
    const int32_t partition = parts[i].partition;
    const int64_t local = parts[i].offset;
    if (standby_) standby_->hold(partition);
    if (local >= 0 && local == committed[i].offset && confirmed.count(partition)) {
      spdlog::info("partition {}-{}: local state current (offset {}, as the group committed)", parts[i].topic,
                   partition, local);
      continue;
    }
    const Clock::time_point began = Clock::now();
    Restored read;
    const std::string what = fmt::format("restoring partition {}-{}", parts[i].topic, partition);
    progress(what + ": reading " + topic_);
    const int64_t from = standby_ ? AdoptWarmCopy(*standby_, partition, read.entities, read.marker) : 0;
    Status st = kafka::ReadPartitionFrom(reader_, topic_, partition, from, kReadTimeoutMs,
                                     [&](const kafka::MessageView& m, int64_t end) {
                                       read.records++;
                                       if (m.key == kMarkerKey) {
                                         auto marker = DecodeOffsetMarker(m.payload);
                                         if (!marker.ok()) return;  // skipped: an earlier one stays
                                         for (auto& [k, v] : read.unfinished) read.entities[k] = std::move(v);
                                         read.unfinished.clear();
                                         read.marker = std::move(marker).value();
                                       } else {
                                         read.unfinished[std::string(m.key)] = std::string(m.payload);
                                       }
                                       if (read.records % 1000 == 0) {
                                         progress(fmt::format("{}: {} of {} records", what, m.offset + 1, end));
                                       }
                                     });
    if (!st.ok()) return Status::Unavailable(what + " from " + topic_ + ": " + st.message());
    if (probe_) probe_->restored_records.Increment(static_cast<double>(read.records));
    if (!read.marker) {
      spdlog::info("partition {}-{}: no checkpoint in {}; resumes at {}", parts[i].topic, partition, topic_,
                   local >= 0 ? std::to_string(local) : std::string("the group's committed offset"));
      continue;
    }
    if (read.marker->instance == instance_ && local >= 0) {
      spdlog::info("partition {}-{}: this instance wrote its last checkpoint; local state resumes at {}",
                   parts[i].topic, partition, local);
      continue;
    }
    SL_RETURN_IF_ERROR(restore(partition, read, progress));
    for (const auto& [topic, next] : read.marker->next_offsets) resume[{topic, partition}] = next;
    const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
    if (probe_) probe_->restore_seconds.Increment(seconds);
    // The start of the line up to the seconds is parsed by tests/scale/bench_scale.py.
    spdlog::info("partition {}-{}: restored {} entity state(s) from {} ({} records, {:.3f} s, written by {}, "
                 "{} label join record(s)); resumes at {}",
                 parts[i].topic, partition, read.entities.size(), topic_, read.records, seconds, read.marker->instance,
                 read.label_records, read.marker->next_offsets[parts[i].topic]);
  }
  for (auto& p : parts) {
    auto it = resume.find({p.topic, p.partition});
    if (it != resume.end()) p.offset = it->second;
  }
  progress("");
  return Status::Ok();
}

Status PartitionStates::restore(int32_t partition, Restored& from, const std::function<void(const std::string&)>&) {
  EntityCache* cache = processor_.entity_cache();
  state::CheckpointBatch batch = store_.begin_checkpoint();
  // The label join's records are no entity states (even when they are not taken here).
  std::map<std::string, std::string, std::less<>> labels;
  for (auto it = from.entities.begin(); it != from.entities.end();) {
    if (!IsLabelJoinKey(it->first)) {
      ++it;
      continue;
    }
    if (!it->second.empty()) labels.emplace(IdOfLabelJoinKey(it->first), std::move(it->second));
    it = from.entities.erase(it);
  }
  if (labels_in_unit()) {
    SL_RETURN_IF_ERROR(processor_.label_join()->replace_partition(partition, labels, batch));
    from.label_records = labels.size();
  }
  // Copies this member kept from an earlier hold of the partition that the changelog does
  // not name: stale, removed so a later move back cannot use them.
  if (cache) {
    for (const std::string& key : cache->keys_of_partition(partition)) {
      if (from.entities.find(key) == from.entities.end()) batch.delete_entity(key);
    }
  }
  for (const auto& [key, value] : from.entities) batch.put_entity(key, value);
  // A marker of a writer that recorded no predictions offset: this member's own is of an
  // earlier hold, so it is marked unknown (-1) rather than read from.
  if (config_.scale.replay_dedup) from.marker->next_offsets.try_emplace(config_.kafka.predictions_topic, -1);
  for (const auto& [topic, next] : from.marker->next_offsets) batch.put_offset({topic, partition}, next);
  SL_RETURN_IF_ERROR(store_.commit(batch));
  if (cache) {
    cache->forget([&](std::string_view key, const CachedEntity& cached) {
      return cached.partition == partition || from.entities.find(key) != from.entities.end();
    });
  }
  for (const auto& [topic, next] : from.marker->next_offsets) {
    processor_.set_next_offset(topic, partition, next);
    marked_[{topic, partition}] = next;
  }
  return Status::Ok();
}

void WarnIfLabelsNotCopartitioned(const PipelineConfig& config, const kafka::Properties& properties) {
  if (!config.labels.enabled) return;
  auto events = kafka::PartitionCount(properties, config.kafka.events_topic, 5000);
  auto labels = kafka::PartitionCount(properties, config.kafka.labels_topic, 5000);
  if (!events.ok() || !labels.ok() || *events == *labels) return;
  spdlog::warn("labels topic '{}' has {} partition(s), events topic '{}' {}: not co-partitioned. One instance joins "
               "every label; with several, a label goes to the holder of its labels partition, which may not hold its "
               "prediction (the label is then dead-lettered as unknown and the prediction expires). Give both topics "
               "as many partitions and key labels like their events",
               config.kafka.labels_topic, *labels, config.kafka.events_topic, *events);
}

Status CheckChangelogTopic(const PipelineConfig& config, const kafka::Properties& properties,
                           kafka::Producer& producer) {
  if (!config.scale.changelog) return Status::Ok();
  const std::string topic = ChangelogTopic(config);
  auto inputs = kafka::PartitionCount(properties, config.kafka.events_topic, 5000);
  if (!inputs.ok()) {
    spdlog::warn("scale.changelog_topic: the events topic's partitions are not known yet ({}); not checked",
                 inputs.status().message());
    return Status::Ok();
  }
  (void)producer.warm_up({topic}, 5000);  // a broker that auto-creates topics creates it now
  auto count = kafka::PartitionCount(properties, topic, 5000);
  if (!count.ok()) {
    return Status::Unavailable(fmt::format(
        "scale.changelog_topic '{}': {}; create it compacted with {} partitions (as many as {}), or set "
        "scale.changelog: false for a single instance",
        topic, count.status().message(), *inputs, config.kafka.events_topic));
  }
  if (*count < *inputs) {
    return Status::Invalid(fmt::format(
        "scale.changelog_topic '{}' has {} partition(s), the events topic '{}' {}: a partition's state goes to the "
        "changelog partition of the same number; create it compacted with {} partitions",
        topic, *count, config.kafka.events_topic, *inputs, *inputs));
  }
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

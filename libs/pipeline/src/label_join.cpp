#include "streamlearn/pipeline/label_join.hpp"

#include <algorithm>

#include "streamlearn/core/byte_count.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

// Record kinds in the `pending` column family, keyed by event id.
constexpr uint8_t kPendingRecord = 'P';
constexpr uint8_t kEarlyRecord = 'E';
constexpr uint8_t kTombstoneRecord = 'T';

void WriteVector(const FeatureVector& x, ByteWriter& w) {
  w.u32(static_cast<uint32_t>(x.dense.size()));
  for (size_t i = 0; i < x.dense.size(); ++i) {
    w.f64(x.dense[i]);
    w.u8(x.present[i]);
  }
  w.u32(static_cast<uint32_t>(x.sparse_index.size()));
  for (size_t i = 0; i < x.sparse_index.size(); ++i) {
    w.u32(x.sparse_index[i]);
    w.raw(&x.sparse_value[i], sizeof(float));
  }
}

bool ReadVector(ByteReader& r, FeatureVector* x) {
  x->clear();
  uint32_t dense = 0;
  if (!ReadCount(r, 9, &dense)) return false;
  for (uint32_t i = 0; i < dense; ++i) {
    x->dense.push_back(r.f64());
    x->present.push_back(r.u8());
  }
  uint32_t sparse = 0;
  if (!ReadCount(r, 8, &sparse)) return false;
  for (uint32_t i = 0; i < sparse; ++i) {
    x->sparse_index.push_back(r.u32());
    float v = 0;
    r.raw(&v, sizeof v);
    x->sparse_value.push_back(v);
  }
  return r.ok();
}

}  // namespace

LabelJoin::LabelJoin(const LabelSettings& settings) : settings_(settings) {}
LabelJoin::~LabelJoin() = default;

LabelJoin::AgeKey LabelJoin::add_age(AgeMap& ages, AgeKey key, std::string_view id) {
  if (spare_ages_.empty()) {
    while (!ages.emplace(key, std::string(id)).second) key.second++;
    return key;
  }
  AgeMap::node_type node = std::move(spare_ages_.back());
  spare_ages_.pop_back();
  node.key() = key;
  node.mapped().assign(id.data(), id.size());
  // Ages mostly come in order: the end is the usual place. A node that stays (its key was
  // taken) tries the next sequence number.
  ages.insert(ages.end(), std::move(node));
  while (node) {  // NOLINT(bugprone-use-after-move): left as it was when the key is taken
    node.key().second = ++key.second;
    ages.insert(ages.end(), std::move(node));
  }
  return key;
}

void LabelJoin::remove_age(AgeMap& ages, AgeKey key) {
  auto it = ages.find(key);
  if (it != ages.end()) remove_age(ages, it);
}

PendingPrediction& LabelJoin::add_pending(std::string_view id) {
  if (spare_pending_.empty()) return pending_.try_emplace(std::string(id)).first->second;
  IdMap<PendingPrediction>::node_type node = std::move(spare_pending_.back());
  spare_pending_.pop_back();
  node.key().assign(id.data(), id.size());
  return pending_.insert(std::move(node)).position->second;
}

void LabelJoin::touch(std::string_view id, int32_t partition) {
  if (!track_changes_) return;
  if (auto d = dirty_.find(id); d != dirty_.end()) {
    d->second = partition;
    return;
  }
  if (spare_dirty_.empty()) {
    dirty_.emplace(std::string(id), partition);
    return;
  }
  IdMap<int32_t>::node_type node = std::move(spare_dirty_.back());
  spare_dirty_.pop_back();
  node.key().assign(id.data(), id.size());
  node.mapped() = partition;
  dirty_.insert(std::move(node));
}

std::optional<EarlyLabel> LabelJoin::add_prediction(std::string_view id, const PendingPrediction& prediction) {
  auto early = early_.find(id);
  if (early != early_.end()) {
    EarlyLabel label = std::move(early->second);
    remove_age(early_age_, {label.ts_ms, label.seq});
    early_.erase(early);
    bury(id, Gone::kJoined, prediction.partition, prediction.ts_ms);
    counts_.joined++;
    return label;
  }
  auto existing = pending_.find(id);
  if (existing != pending_.end()) {  // the same id again: the newer prediction waits instead
    remove_age(pending_age_, {existing->second.ts_ms, existing->second.seq});
    remove_pending(existing);
  }
  // An id may come back after its tombstone; its age entry is skipped when met.
  if (auto t = tombstones_.find(id); t != tombstones_.end()) spare_tombstones_.push_back(tombstones_.extract(t));
  const AgeKey age = add_age(pending_age_, AgeKey{prediction.ts_ms, prediction.seq}, id);
  PendingPrediction& slot = add_pending(id);
  // Assigned member by member: the recycled entry's buffers are reused.
  slot.entity.assign(prediction.entity);
  slot.ts_ms = prediction.ts_ms;
  slot.seq = age.second;
  slot.score = prediction.score;
  slot.predicted = prediction.predicted;
  slot.model_version = prediction.model_version;
  slot.x = prediction.x;
  slot.probabilities = prediction.probabilities;
  slot.partition = prediction.partition;
  touch(id, prediction.partition);
  while (static_cast<int64_t>(pending_.size()) > settings_.max_pending) {
    auto oldest = pending_age_.begin();
    int32_t partition = -1;
    if (auto p = pending_.find(oldest->second); p != pending_.end()) {
      partition = p->second.partition;
      remove_pending(p);
    }
    bury(oldest->second, Gone::kExpired, partition, stream_time_ms_);
    remove_age(pending_age_, oldest);
    counts_.evicted++;
  }
  return std::nullopt;
}

LabelJoin::LabelOutcome LabelJoin::add_label(const EarlyLabel& label, PendingPrediction* joined) {
  auto it = pending_.find(label.id);
  if (it != pending_.end()) {
    std::swap(*joined, it->second);  // the entry keeps *joined's buffers for the next one
    remove_age(pending_age_, {joined->ts_ms, joined->seq});
    remove_pending(it);
    bury(label.id, Gone::kJoined, joined->partition, label.ts_ms);
    counts_.joined++;
    return LabelOutcome::kJoined;
  }
  auto tomb = tombstones_.find(label.id);
  if (tomb != tombstones_.end()) {
    if (tomb->second.kind == Gone::kJoined) {
      counts_.duplicate++;
      return LabelOutcome::kDuplicate;
    }
    counts_.late++;
    return LabelOutcome::kLate;
  }
  if (early_.find(label.id) != early_.end()) {
    counts_.duplicate++;
    return LabelOutcome::kDuplicate;
  }
  // Older than labels.ttl with no record of its id: its event, if it came (before its label),
  // is past the TTL and its tombstone may be gone already. Unknown now, not an early label
  // waiting labels.early_ttl for an event that may have been seen long ago.
  if (stream_time_ms_ != INT64_MIN && label.ts_ms < stream_time_ms_ - settings_.ttl_ms) {
    counts_.unknown++;
    return LabelOutcome::kUnknown;
  }
  counts_.early++;
  const AgeKey age = add_age(early_age_, AgeKey{label.ts_ms, label.seq}, label.id);
  early_.emplace(label.id, label).first->second.seq = age.second;
  touch(label.id, label.partition);
  return LabelOutcome::kEarly;
}

void LabelJoin::drop_early(AgeMap::iterator it, std::vector<EarlyLabel>* unknown) {
  auto e = early_.find(it->second);
  touch(it->second, e->second.partition);
  unknown->push_back(std::move(e->second));
  early_.erase(e);
  remove_age(early_age_, it);
  counts_.unknown++;
}

void LabelJoin::advance(int64_t ts_ms, std::vector<EarlyLabel>* unknown) {
  stream_time_ms_ = std::max(stream_time_ms_, ts_ms);
  while (static_cast<int64_t>(early_.size()) > settings_.max_early) {
    counts_.early_evicted++;
    drop_early(early_age_.begin(), unknown);
  }
  while (!early_age_.empty() && early_age_.begin()->first.first < stream_time_ms_ - settings_.early_ttl_ms) {
    drop_early(early_age_.begin(), unknown);
  }
  while (!pending_age_.empty() && pending_age_.begin()->first.first < stream_time_ms_ - settings_.ttl_ms) {
    auto oldest = pending_age_.begin();
    int32_t partition = -1;
    if (auto p = pending_.find(oldest->second); p != pending_.end()) {
      partition = p->second.partition;
      remove_pending(p);
    }
    bury(oldest->second, Gone::kExpired, partition, stream_time_ms_);
    remove_age(pending_age_, oldest);
    counts_.expired++;
  }
  // Tombstones are kept for another TTL (a label later than that is "unknown") and at most
  // max_pending of them.
  while (!tombstone_age_.empty() &&
         (tombstone_age_.begin()->first.first < stream_time_ms_ - settings_.ttl_ms ||
          static_cast<int64_t>(tombstone_age_.size()) > settings_.max_pending)) {
    auto oldest = tombstone_age_.begin();
    auto t = tombstones_.find(oldest->second);
    if (t != tombstones_.end() && t->second.seq == oldest->first.second) {
      touch(oldest->second, t->second.partition);
      spare_tombstones_.push_back(tombstones_.extract(t));
    }
    remove_age(tombstone_age_, oldest);
  }
}

void LabelJoin::bury(std::string_view id, Gone kind, int32_t partition, int64_t at_ms) {
  // Before any stream time (a fresh instance's first label joins a prediction that came
  // with its partition): the time of what buried it, else it would expire at once.
  const int64_t since = stream_time_ms_ != INT64_MIN ? stream_time_ms_ : std::max<int64_t>(at_ms, 0);
  const AgeKey age = add_age(tombstone_age_, AgeKey{since, tomb_seq_++}, id);
  auto t = tombstones_.find(id);
  if (t == tombstones_.end()) {
    if (spare_tombstones_.empty()) {
      t = tombstones_.try_emplace(std::string(id)).first;
    } else {
      IdMap<Tombstone>::node_type node = std::move(spare_tombstones_.back());
      spare_tombstones_.pop_back();
      node.key().assign(id.data(), id.size());
      t = tombstones_.insert(std::move(node)).position;
    }
  }
  t->second = {kind, partition, since, age.second};
  touch(id, partition);
}

bool LabelJoin::encode(std::string_view id, std::string* out) const {
  out->clear();
  ByteWriter w(out);
  if (auto p = pending_.find(id); p != pending_.end()) {
    const PendingPrediction& e = p->second;
    w.u8(kPendingRecord);
    w.i64(e.ts_ms);
    w.u64(e.seq);
    w.f64(e.score);
    w.u8(static_cast<uint8_t>(e.predicted));
    w.u64(e.model_version);
    w.str(e.entity);
    WriteVector(e.x, w);
    w.u32(static_cast<uint32_t>(e.probabilities.size()));
    for (double v : e.probabilities) w.f64(v);
    w.u32(static_cast<uint32_t>(e.partition));  // appended: a record without it has none (-1)
  } else if (auto l = early_.find(id); l != early_.end()) {
    const EarlyLabel& e = l->second;
    w.u8(kEarlyRecord);
    w.f64(e.value);
    w.i64(e.ts_ms);
    w.u64(e.seq);
    w.str(e.topic);
    w.u32(static_cast<uint32_t>(e.partition));
    w.i64(e.offset);
    w.str(e.key);
    w.str(e.payload);
  } else if (auto t = tombstones_.find(id); t != tombstones_.end()) {
    w.u8(kTombstoneRecord);
    w.u8(static_cast<uint8_t>(t->second.kind));
    w.i64(t->second.since_ms);
    w.u64(t->second.seq);
    w.u32(static_cast<uint32_t>(t->second.partition));  // appended, as above
  } else {
    return false;
  }
  return true;
}

void LabelJoin::checkpoint(state::CheckpointBatch& batch) {
  while (!dirty_.empty()) {
    IdMap<int32_t>::node_type node = dirty_.extract(dirty_.begin());  // kept for the next ids touched
    const std::string& id = node.key();
    if (encode(id, &record_)) {
      batch.put_pending(id, record_);
    } else {
      batch.delete_pending(id);
    }
    spare_dirty_.push_back(std::move(node));
  }
}

void LabelJoin::for_each_change(
    const std::function<void(int32_t partition, std::string_view id, std::string_view record)>& visit) const {
  std::string record;
  for (const auto& [id, partition] : dirty_) {
    if (partition < 0) continue;
    if (!encode(id, &record)) record.clear();
    visit(partition, id, record);
  }
}

bool LabelJoin::insert_record(const std::string& id, std::string_view value, int32_t partition) {
  ByteReader r(value);
  const uint8_t kind = r.u8();
  // A trailing partition: records written before they had one have none (-1).
  auto partition_of = [&r]() { return r.at_end() ? -1 : static_cast<int32_t>(r.u32()); };
  if (kind == kPendingRecord) {
    PendingPrediction p;
    p.ts_ms = r.i64();
    p.seq = r.u64();
    p.score = r.f64();
    p.predicted = r.u8();
    p.model_version = r.u64();
    p.entity = r.str();
    const bool vector_ok = ReadVector(r, &p.x);
    uint32_t k = 0;
    if (!vector_ok || !ReadCount(r, 8, &k)) return false;
    for (uint32_t i = 0; i < k; ++i) p.probabilities.push_back(r.f64());
    p.partition = partition_of();
    if (!r.ok() || !r.at_end() || (partition >= 0 && p.partition != partition)) return false;
    p.seq = add_age(pending_age_, AgeKey{p.ts_ms, p.seq}, id).second;
    pending_.insert_or_assign(id, std::move(p));
    return true;
  }
  if (kind == kEarlyRecord) {
    EarlyLabel e;
    e.id = id;
    e.value = r.f64();
    e.ts_ms = r.i64();
    e.seq = r.u64();
    e.topic = r.str();
    e.partition = static_cast<int32_t>(r.u32());
    e.offset = r.i64();
    e.key = r.str();
    e.payload = r.str();
    if (!r.ok() || !r.at_end() || (partition >= 0 && e.partition != partition)) return false;
    e.seq = add_age(early_age_, AgeKey{e.ts_ms, e.seq}, id).second;
    early_.insert_or_assign(id, std::move(e));
    return true;
  }
  if (kind == kTombstoneRecord) {
    const auto gone = static_cast<Gone>(r.u8());
    const int64_t since = r.i64();
    const uint64_t seq = r.u64();
    Tombstone t{gone, partition_of(), since, seq};
    if (!r.ok() || !r.at_end() || (t.kind != Gone::kJoined && t.kind != Gone::kExpired) ||
        (partition >= 0 && t.partition != partition)) {
      return false;
    }
    t.seq = add_age(tombstone_age_, AgeKey{t.since_ms, t.seq}, id).second;
    tombstones_.insert_or_assign(id, t);
    return true;
  }
  return false;
}

Status LabelJoin::restore(state::StateStore& store) {
  Status bad = Status::Ok();
  Status st = store.for_each_pending([&](std::string_view key, std::string_view value) {
    std::string id(key);
    if (insert_record(id, value, -1)) return true;
    bad = Status::Corruption("pending label record for event id '" + id + "' in " + store.dir() +
                             " is unreadable");
    return false;
  });
  SL_RETURN_IF_ERROR(st);
  return bad;
}

void LabelJoin::erase_id(std::string_view id) {
  if (auto p = pending_.find(id); p != pending_.end()) {
    remove_age(pending_age_, {p->second.ts_ms, p->second.seq});
    remove_pending(p);
  }
  if (auto e = early_.find(id); e != early_.end()) {
    remove_age(early_age_, {e->second.ts_ms, e->second.seq});
    early_.erase(e);
  }
  if (auto t = tombstones_.find(id); t != tombstones_.end()) {
    remove_age(tombstone_age_, {t->second.since_ms, t->second.seq});
    spare_tombstones_.push_back(tombstones_.extract(t));
  }
  if (auto d = dirty_.find(id); d != dirty_.end()) spare_dirty_.push_back(dirty_.extract(d));
}

size_t LabelJoin::drop_where(const std::function<bool(int32_t partition)>& gone, state::CheckpointBatch& batch) {
  std::vector<std::string> ids;
  for (const auto& [id, p] : pending_) {
    if (gone(p.partition)) ids.push_back(id);
  }
  for (const auto& [id, e] : early_) {
    if (gone(e.partition)) ids.push_back(id);
  }
  for (const auto& [id, t] : tombstones_) {
    if (gone(t.partition)) ids.push_back(id);
  }
  // Ids whose entry is gone already (a deletion not checkpointed yet).
  for (const auto& [id, partition] : dirty_) {
    if (gone(partition)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (const std::string& id : ids) {
    erase_id(id);
    batch.delete_pending(id);
  }
  return ids.size();
}

size_t LabelJoin::drop_partitions_except(const std::set<int32_t>& held, state::CheckpointBatch& batch) {
  return drop_where([&held](int32_t partition) { return partition >= 0 && held.count(partition) == 0; }, batch);
}

Status LabelJoin::replace_partition(int32_t partition, const std::map<std::string, std::string, std::less<>>& records,
                                    state::CheckpointBatch& batch) {
  drop_where([partition](int32_t p) { return p == partition; }, batch);
  for (const auto& [id, value] : records) {
    if (value.empty()) continue;  // gone
    erase_id(id);  // an id another partition holds here (labels not co-partitioned): the changelog's wins
    if (!insert_record(id, value, partition)) {
      // The instance stops on it (the restore fails): what is half taken is never checkpointed.
      return Status::Corruption("the changelog's label join record for event id '" + id + "' (partition " +
                                std::to_string(partition) + ") is unreadable");
    }
    // Written as it now stands here (its sequence number may have moved on).
    if (encode(id, &record_)) batch.put_pending(id, record_);
  }
  return Status::Ok();
}

size_t LabelJoin::records_of_partition(int32_t partition) const {
  size_t n = 0;
  for (const auto& [id, p] : pending_) n += p.partition == partition;
  for (const auto& [id, e] : early_) n += e.partition == partition;
  for (const auto& [id, t] : tombstones_) n += t.partition == partition;
  return n;
}

void LabelJoin::save(ByteWriter& out) const {
  out.i64(stream_time_ms_);
  out.u64(tomb_seq_);
  for (uint64_t v : {counts_.joined, counts_.early, counts_.unknown, counts_.late, counts_.duplicate, counts_.expired,
                     counts_.evicted, counts_.early_evicted}) {
    out.u64(v);
  }
}

Status LabelJoin::load(ByteReader& in) {
  const int64_t stream_time = in.i64();
  const uint64_t tomb_seq = in.u64();
  LabelJoinCounts c;
  for (uint64_t* v : {&c.joined, &c.early, &c.unknown, &c.late, &c.duplicate, &c.expired, &c.evicted,
                      &c.early_evicted}) {
    *v = in.u64();
  }
  if (!in.ok()) return Status::Corruption("label join counters");
  stream_time_ms_ = stream_time;
  tomb_seq_ = tomb_seq;
  counts_ = c;
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

#include "streamlearn/pipeline/label_join.hpp"

#include <algorithm>

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
  const uint32_t dense = r.u32();
  if (!r.ok() || dense > r.remaining() / 9) return false;
  for (uint32_t i = 0; i < dense; ++i) {
    x->dense.push_back(r.f64());
    x->present.push_back(r.u8());
  }
  const uint32_t sparse = r.u32();
  if (!r.ok() || sparse > r.remaining() / 8) return false;
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

void LabelJoin::add_age(AgeMap& ages, AgeKey key, std::string_view id) {
  if (spare_ages_.empty()) {
    ages.emplace(key, std::string(id));
    return;
  }
  AgeMap::node_type node = std::move(spare_ages_.back());
  spare_ages_.pop_back();
  node.key() = key;
  node.mapped().assign(id.data(), id.size());
  // Ages mostly come in order: the end is the usual place. A key already there keeps its
  // entry (as emplace would), and the node goes back.
  ages.insert(ages.end(), std::move(node));
  if (node) spare_ages_.push_back(std::move(node));  // NOLINT(bugprone-use-after-move): left as it was
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

void LabelJoin::touch(std::string_view id) {
  if (!track_changes_ || dirty_.find(id) != dirty_.end()) return;
  if (spare_dirty_.empty()) {
    dirty_.emplace(id);
    return;
  }
  IdSet::node_type node = std::move(spare_dirty_.back());
  spare_dirty_.pop_back();
  node.value().assign(id.data(), id.size());
  dirty_.insert(std::move(node));
}

std::optional<EarlyLabel> LabelJoin::add_prediction(std::string_view id, const PendingPrediction& prediction) {
  auto early = early_.find(id);
  if (early != early_.end()) {
    EarlyLabel label = std::move(early->second);
    remove_age(early_age_, {label.ts_ms, label.seq});
    early_.erase(early);
    bury(id, Gone::kJoined);
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
  add_age(pending_age_, AgeKey{prediction.ts_ms, prediction.seq}, id);
  PendingPrediction& slot = add_pending(id);
  // Assigned member by member: the recycled entry's buffers are reused.
  slot.entity.assign(prediction.entity);
  slot.ts_ms = prediction.ts_ms;
  slot.seq = prediction.seq;
  slot.score = prediction.score;
  slot.predicted = prediction.predicted;
  slot.model_version = prediction.model_version;
  slot.x = prediction.x;
  slot.probabilities = prediction.probabilities;
  touch(id);
  while (static_cast<int64_t>(pending_.size()) > settings_.max_pending) {
    auto oldest = pending_age_.begin();
    if (auto p = pending_.find(oldest->second); p != pending_.end()) remove_pending(p);
    bury(oldest->second, Gone::kExpired);
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
    bury(label.id, Gone::kJoined);
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
  counts_.early++;
  add_age(early_age_, AgeKey{label.ts_ms, label.seq}, label.id);
  early_.emplace(label.id, label);
  touch(label.id);
  return LabelOutcome::kEarly;
}

void LabelJoin::drop_early(AgeMap::iterator it, std::vector<EarlyLabel>* unknown) {
  auto e = early_.find(it->second);
  touch(it->second);
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
    if (auto p = pending_.find(oldest->second); p != pending_.end()) remove_pending(p);
    bury(oldest->second, Gone::kExpired);
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
      touch(oldest->second);
      spare_tombstones_.push_back(tombstones_.extract(t));
    }
    remove_age(tombstone_age_, oldest);
  }
}

void LabelJoin::bury(std::string_view id, Gone kind) {
  const int64_t since = stream_time_ms_ == INT64_MIN ? 0 : stream_time_ms_;
  const uint64_t seq = tomb_seq_++;
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
  t->second = {kind, since, seq};
  add_age(tombstone_age_, AgeKey{since, seq}, id);
  touch(id);
}

void LabelJoin::checkpoint(state::CheckpointBatch& batch) {
  std::string& record = record_;
  while (!dirty_.empty()) {
    IdSet::node_type node = dirty_.extract(dirty_.begin());  // kept for the next ids touched
    const std::string& id = node.value();
    record.clear();
    ByteWriter w(&record);
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
    } else {
      batch.delete_pending(id);
      spare_dirty_.push_back(std::move(node));
      continue;
    }
    batch.put_pending(id, record);
    spare_dirty_.push_back(std::move(node));
  }
}

Status LabelJoin::restore(state::StateStore& store) {
  Status bad = Status::Ok();
  Status st = store.for_each_pending([&](std::string_view key, std::string_view value) {
    std::string id(key);
    ByteReader r(value);
    const uint8_t kind = r.u8();
    if (kind == kPendingRecord) {
      PendingPrediction p;
      p.ts_ms = r.i64();
      p.seq = r.u64();
      p.score = r.f64();
      p.predicted = r.u8();
      p.model_version = r.u64();
      p.entity = r.str();
      const bool vector_ok = ReadVector(r, &p.x);
      const uint32_t k = r.u32();
      if (vector_ok && r.ok() && k <= r.remaining() / 8) {
        for (uint32_t i = 0; i < k; ++i) p.probabilities.push_back(r.f64());
      }
      if (vector_ok && r.ok() && r.at_end()) {
        pending_age_.emplace(AgeKey{p.ts_ms, p.seq}, id);
        pending_.emplace(id, std::move(p));
        return true;
      }
    } else if (kind == kEarlyRecord) {
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
      if (r.ok() && r.at_end()) {
        early_age_.emplace(AgeKey{e.ts_ms, e.seq}, id);
        early_.emplace(id, std::move(e));
        return true;
      }
    } else if (kind == kTombstoneRecord) {
      Tombstone t{static_cast<Gone>(r.u8()), r.i64(), r.u64()};
      if (r.ok() && r.at_end() && (t.kind == Gone::kJoined || t.kind == Gone::kExpired)) {
        tombstone_age_.emplace(AgeKey{t.since_ms, t.seq}, id);
        tombstones_.emplace(id, t);
        return true;
      }
    }
    bad = Status::Corruption("pending label record for event id '" + id + "' in " + store.dir() +
                             " is unreadable");
    return false;
  });
  SL_RETURN_IF_ERROR(st);
  return bad;
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

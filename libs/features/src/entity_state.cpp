// EntityState's two encodings.
//
// 1 (the original, still written whenever the state holds nothing more, so that the
//   default configuration stores the same bytes as before):
//   u8 1 | u64 events | i64 last_ts | u32 n | n x (u32 id, u64 count, f64 mean, f64 ewma,
//   f64 last, i64 last_ts)
// 2 (richer configurations): varints for integers, doubles raw (bit-exact), only the
//   tracked members, only the non-empty window buckets:
//   u8 2 | v events | z last_ts | u8 tracked | v n | n x (v id delta, v count, [f64 mean],
//   [f64 ewma], [f64 last], [z entity last_ts - field last_ts], [f64 m2], [f64 min, f64 max])
//   | v target_count | [f64 target_sum] | v windows | [u64 windows_key | per window:
//   v buckets, v sums per bucket, u8 has_head, [z head, v non-empty, non-empty x
//   (v age = head - bucket, v count, f64 sums...)]]
// (v = unsigned LEB128 varint, z = zigzag varint.)

#include <cmath>

#include "streamlearn/features/features.hpp"

namespace streamlearn::features {
namespace {

constexpr uint8_t kAllTracked =
    EntityState::kMean | EntityState::kEwma | EntityState::kLast | EntityState::kM2 | EntityState::kMinMax;
constexpr uint64_t kMaxWindows = 64;
constexpr uint64_t kMaxBuckets = 100'000;
constexpr uint64_t kMaxRingValues = 1u << 20;  // buckets x (1 + sums): bounds what bad bytes can allocate

void PutVarint(ByteWriter& w, uint64_t v) {
  while (v >= 0x80) {
    w.u8(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  w.u8(static_cast<uint8_t>(v));
}

void PutZigzag(ByteWriter& w, int64_t v) {
  PutVarint(w, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Reads a varint; a malformed one (more than 10 bytes) poisons `ok`.
uint64_t GetVarint(ByteReader& r, bool* ok) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t b = r.u8();
    if (!r.ok()) break;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  *ok = false;
  return 0;
}

int64_t GetZigzag(ByteReader& r, bool* ok) {
  const uint64_t u = GetVarint(r, ok);
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Mod(int64_t k, int64_t n) {
  const int64_t m = k % n;
  return m < 0 ? m + n : m;
}

bool FitsV1(const EntityState& s) {
  return s.windows.empty() && s.target_count == 0 && s.target_sum == 0 && !std::signbit(s.target_sum) &&
         s.windows_key == 0 && (s.tracked == EntityState::kV1 || (s.tracked == 0 && s.fields.empty()));
}

void EncodeV1(const EntityState& s, ByteWriter& w) {
  w.u8(1);
  w.u64(s.events);
  w.i64(s.last_ts_ms);
  w.u32(static_cast<uint32_t>(s.fields.size()));
  for (const auto& f : s.fields) {
    w.u32(f.field_id);
    w.u64(f.count);
    w.f64(f.mean);
    w.f64(f.ewma);
    w.f64(f.last);
    w.i64(f.last_ts_ms);
  }
}

Status DecodeV1(ByteReader& r, EntityState* s) {
  constexpr size_t kFieldBytes = 4 + 8 * 5;
  s->events = r.u64();
  s->last_ts_ms = r.i64();
  uint32_t n = r.u32();
  if (!r.ok() || n > r.remaining() / kFieldBytes) return Status::Corruption("entity state: truncated");
  s->fields.resize(n);
  for (auto& f : s->fields) {
    f.field_id = r.u32();
    f.count = r.u64();
    f.mean = r.f64();
    f.ewma = r.f64();
    f.last = r.f64();
    f.last_ts_ms = r.i64();
  }
  s->tracked = s->fields.empty() ? 0 : EntityState::kV1;
  return Status::Ok();
}

void EncodeV2(const EntityState& s, ByteWriter& w) {
  const uint8_t t = s.tracked;
  w.u8(2);
  PutVarint(w, s.events);
  PutZigzag(w, s.last_ts_ms);
  w.u8(t);
  PutVarint(w, s.fields.size());
  uint32_t prev = 0;
  for (const auto& f : s.fields) {
    PutVarint(w, f.field_id - prev);  // sorted: small deltas
    prev = f.field_id;
    PutVarint(w, f.count);
    if (t & EntityState::kMean) w.f64(f.mean);
    if (t & EntityState::kEwma) w.f64(f.ewma);
    if (t & EntityState::kLast) w.f64(f.last);
    if (t & (EntityState::kEwma | EntityState::kLast)) {
      // Relative to the entity's last event: usually 0, one byte. Wrapping arithmetic: any
      // pair of int64 round-trips.
      PutZigzag(w, static_cast<int64_t>(static_cast<uint64_t>(s.last_ts_ms) - static_cast<uint64_t>(f.last_ts_ms)));
    }
    if (t & EntityState::kM2) w.f64(f.m2);
    if (t & EntityState::kMinMax) {
      w.f64(f.min);
      w.f64(f.max);
    }
  }
  PutVarint(w, s.target_count);
  if (s.target_count > 0) w.f64(s.target_sum);
  PutVarint(w, s.windows.size());
  if (s.windows.empty()) return;
  w.u64(s.windows_key);
  for (const auto& win : s.windows) {
    const int64_t buckets = static_cast<int64_t>(win.counts.size());
    const size_t per = buckets > 0 ? win.sums.size() / static_cast<size_t>(buckets) : 0;
    PutVarint(w, static_cast<uint64_t>(buckets));
    PutVarint(w, per);
    w.u8(win.head == WindowCounts::kEmpty ? 0 : 1);
    if (win.head == WindowCounts::kEmpty) continue;
    PutZigzag(w, win.head);
    uint64_t nonempty = 0;
    for (uint32_t c : win.counts) nonempty += c != 0;
    PutVarint(w, nonempty);
    for (int64_t age = 0; age < buckets; ++age) {
      const size_t slot = static_cast<size_t>(Mod(win.head - age, buckets));
      if (win.counts[slot] == 0) continue;
      PutVarint(w, static_cast<uint64_t>(age));
      PutVarint(w, win.counts[slot]);
      for (size_t j = 0; j < per; ++j) w.f64(win.sums[slot * per + j]);
    }
  }
}

Status DecodeV2(ByteReader& r, EntityState* s) {
  bool ok = true;
  s->events = GetVarint(r, &ok);
  s->last_ts_ms = GetZigzag(r, &ok);
  s->tracked = r.u8();
  if (!r.ok() || !ok || (s->tracked & ~kAllTracked) != 0) return Status::Corruption("entity state: bad header");
  const uint8_t t = s->tracked;
  const uint64_t n = GetVarint(r, &ok);
  // Every field takes at least two bytes.
  if (!r.ok() || !ok || n > r.remaining() / 2) return Status::Corruption("entity state: truncated");
  s->fields.resize(n);
  uint64_t id = 0;
  for (size_t i = 0; i < n; ++i) {
    FieldAggregate& f = s->fields[i];
    const uint64_t delta = GetVarint(r, &ok);
    if ((i > 0 && delta == 0) || id + delta > UINT32_MAX) return Status::Corruption("entity state: bad field id");
    id += delta;
    f.field_id = static_cast<uint32_t>(id);
    f.count = GetVarint(r, &ok);
    if (t & EntityState::kMean) f.mean = r.f64();
    if (t & EntityState::kEwma) f.ewma = r.f64();
    if (t & EntityState::kLast) f.last = r.f64();
    if (t & (EntityState::kEwma | EntityState::kLast)) {
      f.last_ts_ms = static_cast<int64_t>(static_cast<uint64_t>(s->last_ts_ms) -
                                          static_cast<uint64_t>(GetZigzag(r, &ok)));
    }
    if (t & EntityState::kM2) f.m2 = r.f64();
    if (t & EntityState::kMinMax) {
      f.min = r.f64();
      f.max = r.f64();
    }
    if (!r.ok() || !ok) return Status::Corruption("entity state: truncated field");
  }
  if (n > 0 && t == 0) return Status::Corruption("entity state: fields without members");
  s->target_count = GetVarint(r, &ok);
  if (s->target_count > 0) s->target_sum = r.f64();
  const uint64_t nw = GetVarint(r, &ok);
  if (!r.ok() || !ok || nw > kMaxWindows) return Status::Corruption("entity state: bad windows");
  if (nw > 0) s->windows_key = r.u64();
  s->windows.resize(nw);
  for (auto& win : s->windows) {
    const uint64_t buckets = GetVarint(r, &ok);
    const uint64_t per = GetVarint(r, &ok);
    const uint8_t has_head = r.u8();
    if (!r.ok() || !ok || buckets == 0 || buckets > kMaxBuckets || per > 64 || buckets * (1 + per) > kMaxRingValues ||
        has_head > 1) {
      return Status::Corruption("entity state: bad window");
    }
    win.counts.assign(buckets, 0);
    win.sums.assign(buckets * per, 0.0);
    if (!has_head) continue;
    win.head = GetZigzag(r, &ok);
    const uint64_t nonempty = GetVarint(r, &ok);
    if (!r.ok() || !ok || win.head == WindowCounts::kEmpty || nonempty > buckets) {
      return Status::Corruption("entity state: bad window head");
    }
    int64_t previous_age = -1;
    for (uint64_t i = 0; i < nonempty; ++i) {
      const uint64_t age = GetVarint(r, &ok);
      const uint64_t count = GetVarint(r, &ok);
      if (!ok || static_cast<int64_t>(age) <= previous_age || age >= buckets || count == 0 || count > UINT32_MAX) {
        return Status::Corruption("entity state: bad window bucket");
      }
      previous_age = static_cast<int64_t>(age);
      const size_t slot = static_cast<size_t>(Mod(win.head - static_cast<int64_t>(age), static_cast<int64_t>(buckets)));
      win.counts[slot] = static_cast<uint32_t>(count);
      for (size_t j = 0; j < per; ++j) win.sums[slot * per + j] = r.f64();
      if (!r.ok()) return Status::Corruption("entity state: truncated window");
    }
  }
  return Status::Ok();
}

}  // namespace

size_t EntityState::memory_bytes() const {
  size_t bytes = sizeof(EntityState) + fields.capacity() * sizeof(FieldAggregate) + windows.capacity() * sizeof(WindowCounts);
  for (const WindowCounts& w : windows) bytes += w.counts.capacity() * sizeof(uint32_t) + w.sums.capacity() * sizeof(double);
  return bytes;
}

void EntityState::encode(std::string* out) const {
  out->clear();
  ByteWriter w(out);
  if (FitsV1(*this)) {
    EncodeV1(*this, w);
  } else {
    EncodeV2(*this, w);
  }
}

Status EntityState::decode(std::string_view bytes, EntityState* out) {
  ByteReader r(bytes);
  const uint8_t version = r.u8();
  EntityState next;  // decoded aside: `out` stays as it was on an error
  Status st;
  if (version == 1) {
    st = DecodeV1(r, &next);
  } else if (version == 2) {
    st = DecodeV2(r, &next);
  } else {
    return Status::Corruption("entity state: unknown encoding version");
  }
  if (!st.ok()) return st;
  if (!r.ok() || !r.at_end()) return Status::Corruption("entity state: bad length");
  *out = std::move(next);
  return Status::Ok();
}

}  // namespace streamlearn::features

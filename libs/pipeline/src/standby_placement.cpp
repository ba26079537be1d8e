#include "standby_placement.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kMagic = "standby-member 1 ";

void AppendSet(std::string& out, std::string_view name, const std::set<int32_t>& partitions) {
  out.append(name);
  out.push_back('=');
  bool first = true;
  for (int32_t p : partitions) {
    if (!first) out.push_back(',');
    out.append(std::to_string(p));
    first = false;
  }
}

// "<name>=p,p,..." at the front of `in`, which is advanced past it and one space.
bool ParseSet(std::string_view& in, std::string_view name, std::set<int32_t>* out) {
  if (!in.starts_with(name) || in.size() <= name.size() || in[name.size()] != '=') return false;
  in.remove_prefix(name.size() + 1);
  const size_t end = std::min(in.find(' '), in.size());
  std::string_view list = in.substr(0, end);
  in.remove_prefix(end == in.size() ? end : end + 1);
  while (!list.empty()) {
    int32_t p = 0;
    auto [ptr, ec] = std::from_chars(list.data(), list.data() + list.size(), p);
    if (ec != std::errc() || p < 0) return false;
    out->insert(p);
    list.remove_prefix(static_cast<size_t>(ptr - list.data()));
    if (!list.empty()) {
      if (list.front() != ',') return false;
      list.remove_prefix(1);
    }
  }
  return true;
}

bool ParseInt(std::string_view& in, int64_t* out) {
  auto [ptr, ec] = std::from_chars(in.data(), in.data() + in.size(), *out);
  if (ec != std::errc() || ptr == in.data() + in.size() || *ptr != ' ') return false;
  in.remove_prefix(static_cast<size_t>(ptr - in.data()) + 1);
  return true;
}

}  // namespace

std::string EncodeMemberRecord(const MemberRecord& record) {
  std::string out(kMagic);
  out.append(std::to_string(record.at_ms)).push_back(' ');
  out.append(std::to_string(record.ttl_ms)).push_back(' ');
  AppendSet(out, "held", record.held);
  out.push_back(' ');
  AppendSet(out, "warm", record.warm);
  return out;
}

Result<MemberRecord> DecodeMemberRecord(std::string_view value) {
  if (!value.starts_with(kMagic)) return Status::Invalid("not a standby member record");
  value.remove_prefix(kMagic.size());
  MemberRecord r;
  if (!ParseInt(value, &r.at_ms) || !ParseInt(value, &r.ttl_ms) || r.ttl_ms <= 0 ||
      !ParseSet(value, "held", &r.held) || !ParseSet(value, "warm", &r.warm) || !value.empty()) {
    return Status::Invalid("a standby member record that does not parse");
  }
  return r;
}

uint64_t RendezvousScore(int32_t partition, std::string_view instance) {
  // FNV-1a over the partition's four bytes and the id, then splitmix64's finalizer: the same
  // on every host and build (std::hash is not), and well spread for ids that differ by a digit.
  uint64_t h = 14695981039346656037ULL;
  auto add = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  const auto p = static_cast<uint32_t>(partition);
  for (int shift = 24; shift >= 0; shift -= 8) add(static_cast<unsigned char>(p >> shift));
  for (char c : instance) add(static_cast<unsigned char>(c));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

void StandbyPlacement::receive(std::string_view instance, std::string_view value) {
  if (instance.empty() || instance == self_) return;
  if (value.empty()) {
    auto it = members_.find(instance);
    if (it != members_.end()) members_.erase(it);
    return;
  }
  auto record = DecodeMemberRecord(value);
  if (!record.ok()) return;
  auto it = members_.find(instance);
  // Records of one key come in order on one partition; a restarted publisher's clock rules.
  if (it == members_.end()) {
    members_.emplace(std::string(instance), std::move(record).value());
  } else {
    it->second = std::move(record).value();
  }
}

std::set<std::string> StandbyPlacement::live(int64_t now_ms) const {
  std::set<std::string> out = {self_};
  for (const auto& [id, r] : members_) {
    if (now_ms <= r.at_ms + r.ttl_ms) out.insert(id);
  }
  return out;
}

std::set<int32_t> StandbyPlacement::warm(const std::set<int32_t>& held_here, int32_t partitions, int64_t now_ms,
                                         std::map<int32_t, int>* short_of) const {
  std::vector<std::pair<std::string_view, const std::set<int32_t>*>> members = {{self_, &held_here}};
  for (const auto& [id, r] : members_) {
    if (now_ms <= r.at_ms + r.ttl_ms) members.emplace_back(id, &r.held);
  }
  std::set<int32_t> out;
  std::vector<std::pair<uint64_t, std::string_view>> ranked;
  for (int32_t p = 0; p < partitions; ++p) {
    if (held_here.count(p)) continue;
    ranked.clear();
    // Every member that says it holds p is left out (two may, for a moment, in a rebalance).
    for (const auto& [id, held] : members) {
      if (!held->count(p)) ranked.emplace_back(RendezvousScore(p, id), id);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const size_t copies = std::min(ranked.size(), static_cast<size_t>(replicas_));
    for (size_t i = 0; i < copies; ++i) {
      if (ranked[i].second == self_) out.insert(p);
    }
    if (short_of && copies < static_cast<size_t>(replicas_)) (*short_of)[p] = static_cast<int>(copies);
  }
  return out;
}

}  // namespace streamlearn::pipeline

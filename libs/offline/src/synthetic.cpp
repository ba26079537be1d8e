#include "streamlearn/offline/synthetic.hpp"

#include <fmt/format.h>

namespace streamlearn::pipeline {
namespace {

eval::SeaConfig SeaFrom(const SyntheticOptions& o) {
  eval::SeaConfig c;
  c.seed = o.seed;
  c.noise = o.noise;
  c.change_at = o.change_at;
  c.thetas = o.thetas;
  return c;
}

double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

SyntheticSeaStream::SyntheticSeaStream(SyntheticOptions options)
    : options_(std::move(options)), sea_(SeaFrom(options_)), rng_(options_.seed ^ 0x5ea5ea5eULL) {}

bool SyntheticSeaStream::next(std::string* key, std::string* payload, bool* valid) {
  if (produced_ >= options_.events) return false;
  const uint64_t i = produced_++;
  const uint64_t entity = rng_() % options_.entities;
  key->assign(fmt::format("u{}", entity));
  const int64_t ts = timestamp_ms(i);
  if (Uniform01(rng_) < options_.invalid_share) {
    // One of each kind of bad input, in turn: every one must reach the dead-letter topic.
    static constexpr const char* kInvalid[] = {
        R"({"entity":"u1","features":{"x1":1.5,"x2":)",                // truncated JSON
        R"({"entity":"u1","features":[1.5,2.5,3.5],"label":1})",       // features not an object
        R"({"entity":"u1","features":{"x1":1e400,"x2":1,"x3":1}})",    // not a finite number
        R"({"entity":"","features":{"x1":1,"x2":2,"x3":3},"label":0})",  // an empty entity (and no key)
        R"({"entity":"u1","features":{"x1":1,"x2":2,"x3":3},"label":"yes"})",  // not a binary label
        R"({"entity":"u1","features":{"x1":1,"x2":2,"x1":3}})",        // duplicate feature
        "",                                                            // empty
    };
    const size_t kind = invalid_ % std::size(kInvalid);
    payload->assign(kInvalid[kind]);
    if (kind == 3) key->clear();
    invalid_++;
    *valid = false;
    return true;
  }
  if (change_messages_.size() < options_.change_at.size() &&
      sea_.position() == options_.change_at[change_messages_.size()]) {
    change_messages_.push_back(i);
  }
  const eval::SeaSample s = sea_.next();
  payload->clear();
  fmt::format_to(std::back_inserter(*payload),
                 R"({{"id":"e-{}","entity":"u{}","ts":{},"features":{{"x1":{:.4f},"x2":{:.4f},"x3":{:.4f}}},"label":{}}})",
                 i, entity, ts, s.x1, s.x2, s.x3, s.label);
  *valid = true;
  return true;
}

int64_t SyntheticPosition(std::string_view event_id) {
  if (event_id.size() < 3 || event_id.substr(0, 2) != "e-") return -1;
  int64_t v = 0;
  for (char c : event_id.substr(2)) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace streamlearn::pipeline

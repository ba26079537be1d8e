#include "streamlearn/features/lags.hpp"

#include <cmath>

namespace streamlearn::features {

StreamLags::StreamLags(const LagConfig& config, FeatureDictionary* dictionary) : dictionary_(dictionary) {
  auto add = [&](const std::string& field, uint32_t depth) {
    Series s;
    s.field = field;
    s.depth = depth;
    for (uint32_t k = 1; k <= depth; ++k) s.names.push_back("lag." + (field.empty() ? "label" : field) + "." + std::to_string(k));
    s.ring.assign(depth, 0.0);
    series_.push_back(std::move(s));
  };
  if (config.labels > 0) add("", config.labels);
  for (const auto& [field, depth] : config.fields) add(field, depth);
}

void StreamLags::Series::push(double v) {
  ring[next] = v;
  next = (next + 1) % depth;
  if (filled < depth) filled++;
}

void StreamLags::build(FeatureVector* x) {
  for (const Series& s : series_) {
    for (uint32_t k = 0; k < s.filled; ++k) {
      const int64_t id = dictionary_->id_of(s.names[k]);
      if (id < 0) continue;  // the dictionary is full
      const uint32_t slot = (s.next + s.depth - 1 - k) % s.depth;  // k = 0: the newest
      x->set_dense(static_cast<uint32_t>(id), s.ring[slot]);
    }
  }
}

void StreamLags::learn_label(double y) {
  if (series_.empty() || !series_.front().field.empty() || !std::isfinite(y)) return;
  series_.front().push(y);
}

void StreamLags::update(const Event& event) {
  for (Series& s : series_) {
    if (s.field.empty()) continue;
    for (const auto& f : event.numeric) {
      if (f.name == s.field && std::isfinite(f.value)) {
        s.push(f.value);
        break;
      }
    }
  }
}

void StreamLags::save(ByteWriter& out) const {
  out.u32(static_cast<uint32_t>(series_.size()));
  for (const Series& s : series_) {
    out.str(s.field);
    out.u32(s.depth);
    out.u32(s.filled);
    out.u32(s.next);
    for (double v : s.ring) out.f64(v);
  }
}

Status StreamLags::load(ByteReader& in) {
  const uint32_t n = in.u32();
  if (!in.ok() || n > in.remaining() / 16) return Status::Corruption("lag state: bad series count");
  std::vector<Series> stored(n);
  bool same = n == series_.size();
  for (uint32_t i = 0; i < n; ++i) {
    Series& s = stored[i];
    s.field = in.str();
    s.depth = in.u32();
    s.filled = in.u32();
    s.next = in.u32();
    if (!in.ok() || s.depth == 0 || s.depth > kMaxLags || s.filled > s.depth || s.next >= s.depth ||
        s.depth > in.remaining() / 8) {
      return Status::Corruption("lag state: bad series");
    }
    s.ring.resize(s.depth);
    for (double& v : s.ring) v = in.f64();
    same = same && s.field == series_[i].field && s.depth == series_[i].depth;
  }
  if (!in.ok()) return Status::Corruption("lag state: truncated");
  if (!same) return Status::Ok();  // another configuration: the configured lags start over
  for (uint32_t i = 0; i < n; ++i) {
    series_[i].ring = std::move(stored[i].ring);
    series_[i].filled = stored[i].filled;
    series_[i].next = stored[i].next;
  }
  return Status::Ok();
}

}  // namespace streamlearn::features

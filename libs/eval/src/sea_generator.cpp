#include "streamlearn/eval/sea_generator.hpp"

#include <algorithm>
#include <cmath>

namespace streamlearn::eval {

Status SeaConfig::validate() const {
  if (!(noise >= 0 && noise <= 1)) return Status::Invalid("noise: must be a probability in [0, 1]");
  if (thetas.empty()) return Status::Invalid("thetas: at least one concept is needed");
  for (double theta : thetas) {
    if (!std::isfinite(theta)) return Status::Invalid("thetas: must be finite numbers");
  }
  for (size_t i = 1; i < change_at.size(); ++i) {
    if (change_at[i] <= change_at[i - 1]) return Status::Invalid("change_at: must be strictly ascending");
  }
  return Status::Ok();
}

SeaGenerator::SeaGenerator(SeaConfig config) : config_(std::move(config)), engine_(config_.seed) {
  std::sort(config_.change_at.begin(), config_.change_at.end());
  config_.change_at.erase(std::unique(config_.change_at.begin(), config_.change_at.end()),
                          config_.change_at.end());
  config_.noise = std::isnan(config_.noise) ? 0.0 : std::clamp(config_.noise, 0.0, 1.0);
  if (config_.thetas.empty()) config_.thetas = SeaConfig{}.thetas;
}

double SeaGenerator::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

SeaSample SeaGenerator::next() {
  while (changes_passed_ < config_.change_at.size() && config_.change_at[changes_passed_] <= position_) {
    ++changes_passed_;
  }
  const size_t concept_index = changes_passed_ % config_.thetas.size();
  SeaSample s;
  s.x1 = 10 * uniform();
  s.x2 = 10 * uniform();
  s.x3 = 10 * uniform();
  s.label = s.x1 + s.x2 <= config_.thetas[concept_index] ? 1 : 0;
  if (uniform() < config_.noise) s.label = 1 - s.label;
  s.concept_index = static_cast<int>(concept_index);
  ++position_;
  return s;
}

std::vector<uint64_t> EvenChanges(uint64_t events, size_t concepts) {
  std::vector<uint64_t> changes;
  if (concepts <= 1) return changes;
  changes.reserve(concepts - 1);
  // floor(events * i / concepts) without overflowing events * i.
  const uint64_t whole = events / concepts, rest = events % concepts;
  for (uint64_t i = 1; i < concepts; ++i) changes.push_back(whole * i + rest * i / concepts);
  return changes;
}

}  // namespace streamlearn::eval

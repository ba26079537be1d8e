#pragma once
// MOA's SEA concepts (Street & Kim, 2001), the classic abrupt-drift benchmark: three
// features uniform in [0, 10], the third irrelevant; label 1 if x1 + x2 <= theta, else 0.
// theta changes abruptly at given event positions, cycling through `thetas`; labels are
// flipped with probability `noise`.
//
// Reproducible everywhere: std::mt19937_64 is fully specified by the standard, and the
// uniform numbers are its top 53 bits scaled to [0, 1) (std::uniform_real_distribution's
// output is implementation-defined). Every sample draws exactly four numbers (x1, x2, x3,
// noise), so streams that differ only in noise or thetas share the same features.

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "streamlearn/core/status.hpp"

namespace streamlearn::eval {

struct SeaConfig {
  uint64_t seed = 42;
  double noise = 0.1;                        // probability of flipping a label, in [0, 1]
  std::vector<double> thetas = {8, 9, 7, 9.5};  // concept i uses thetas[i % size]
  std::vector<uint64_t> change_at;  // event indices where the next concept starts, ascending

  Status validate() const;
};

struct SeaSample {
  double x1, x2, x3;
  int label;
  // Index into SeaConfig::thetas of the concept that labelled this sample. (Not named
  // `concept`: that is a C++20 keyword.)
  int concept_index;
};

class SeaGenerator {
 public:
  // `config` should pass validate(); otherwise it is made usable rather than refused:
  // change_at sorted and deduplicated, noise clamped to [0, 1], empty thetas → default.
  explicit SeaGenerator(SeaConfig config);

  SeaSample next();
  uint64_t position() const { return position_; }  // samples drawn so far = next index
  const SeaConfig& config() const { return config_; }

 private:
  double uniform();

  SeaConfig config_;
  std::mt19937_64 engine_;
  uint64_t position_ = 0;
  size_t changes_passed_ = 0;
};

// `concepts - 1` change positions splitting `events` into equal parts (floor(events*i/concepts)).
// Empty when concepts <= 1; strictly ascending (as SeaConfig::validate() wants) when
// events >= concepts.
std::vector<uint64_t> EvenChanges(uint64_t events, size_t concepts);

}  // namespace streamlearn::eval

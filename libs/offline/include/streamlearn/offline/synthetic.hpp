#pragma once
// A synthetic drifting event stream for the demo, tests and benchmarks: MOA's SEA concepts
// as events of schemas/event.schema.json, keyed by entity, with a share of deliberately invalid messages.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/eval/sea_generator.hpp"

namespace streamlearn::pipeline {

struct SyntheticOptions {
  uint64_t events = 200000;          // messages, valid and invalid
  uint64_t seed = 42;
  uint64_t entities = 1000;
  double invalid_share = 0.005;
  double noise = 0.1;
  std::vector<uint64_t> change_at;   // valid-event indices where the next concept starts
  std::vector<double> thetas = {8, 9, 7, 9.5};  // SEA's threshold per concept, cycling
  int64_t start_ts_ms = 1700000000000;
  int64_t step_ms = 10;
};

class SyntheticSeaStream {
 public:
  explicit SyntheticSeaStream(SyntheticOptions options);
  // The next message; false when `events` were produced. `valid` says if it should decode.
  bool next(std::string* key, std::string* payload, bool* valid);
  uint64_t produced() const { return produced_; }
  // The event time of message `index` (valid or not): the Kafka timestamp to give it, so that
  // a timestamp merge of several partitions replays the stream's own order.
  int64_t timestamp_ms(uint64_t index) const {
    return options_.start_ts_ms + static_cast<int64_t>(index) * options_.step_ms;
  }
  uint64_t invalid() const { return invalid_; }
  // Message index (the N of id "e-N") of the first event of each new concept produced so far.
  const std::vector<uint64_t>& change_messages() const { return change_messages_; }
  const SyntheticOptions& options() const { return options_; }

 private:
  SyntheticOptions options_;
  eval::SeaGenerator sea_;
  std::mt19937_64 rng_;
  uint64_t produced_ = 0;
  uint64_t invalid_ = 0;
  std::vector<uint64_t> change_messages_;
};

// The message index in a synthetic event id "e-N", or -1 for another id.
int64_t SyntheticPosition(std::string_view event_id);

}  // namespace streamlearn::pipeline

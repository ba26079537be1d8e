#pragma once
// Stream-level lag features (features.lags): the stream's previous labels and previous
// values of chosen numeric fields, whatever the entity, point in time: an event sees only
// labels learned and values folded in before it.
//
//   lag.label.k   the k-th most recent label learned (k = 1 … lags.labels): with inline
//                 labels the previous events' labels; with delayed labels the last ones
//                 that arrived, in the order they were learned
//   lag.<f>.k     the k-th most recent value field <f> took (events without it skip it)
//
// A lag not known yet (the stream's first events) is left missing: the model imputes it.
// Per event, in the pipeline: build() after the event's own features, learn_label() when a
// label is learned, update() after the event was predicted (and learned). The state is
// part of the model snapshot (save/load): a restored pipeline continues bit-identically.

#include <cstdint>
#include <string>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event.hpp"
#include "streamlearn/core/feature_vector.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/features/config.hpp"
#include "streamlearn/features/features.hpp"

namespace streamlearn::features {

class StreamLags {
 public:
  // `dictionary` outlives this; lag feature names get their ids from it.
  StreamLags(const LagConfig& config, FeatureDictionary* dictionary);

  void build(FeatureVector* x);
  void learn_label(double y);
  void update(const Event& event);

  // A snapshot written for another lags configuration is read and dropped (lags start over).
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  // The last `depth` values of one series, newest first when read.
  struct Series {
    std::string field;  // empty: the labels
    uint32_t depth = 0;
    std::vector<std::string> names;  // lag.<field>.k, k = 1 … depth
    std::vector<double> ring;        // depth slots
    uint32_t filled = 0, next = 0;
    void push(double v);
    bool operator==(const Series&) const = default;
  };

  FeatureDictionary* dictionary_;
  std::vector<Series> series_;  // labels first (when on), then the fields by name
};

}  // namespace streamlearn::features

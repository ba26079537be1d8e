#pragma once
// The event model (schemas/event.schema.json), after decoding: what every stage below the decoder sees.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamlearn {

struct NumericFeature {
  std::string name;
  double value;  // always finite: the decoder rejects NaN/Inf
  bool operator==(const NumericFeature&) const = default;
};

struct CategoricalFeature {
  std::string name;
  std::string value;
  bool operator==(const CategoricalFeature&) const = default;
};

// A label as it arrives: 0/1 and booleans become kBinary; other numbers kReal; strings kClass.
struct Label {
  enum class Kind { kBinary, kReal, kClass };
  Kind kind = Kind::kBinary;
  double value = 0;        // kBinary: 0 or 1; kReal: the number
  std::string class_name;  // kClass only
  bool operator==(const Label&) const = default;
};

struct Event {
  std::string id;
  std::string entity;  // empty: the event has no entity (no entity aggregates)
  int64_t ts_ms = 0;
  std::vector<NumericFeature> numeric;       // in the order they appear
  std::vector<CategoricalFeature> categorical;
  std::vector<std::string> missing;          // features given as null
  std::optional<Label> label;

  bool operator==(const Event&) const = default;

  void clear() {
    id.clear();
    entity.clear();
    ts_ms = 0;
    numeric.clear();
    categorical.clear();
    missing.clear();
    label.reset();
  }
};

// Where an event came from; used for default ids and for dead-letter headers.
struct SourcePosition {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;  // the Kafka message timestamp, -1 when absent
};

}  // namespace streamlearn

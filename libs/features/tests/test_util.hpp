#pragma once
// Small helpers shared by the feature tests: hand-made events and feature lookups by name.

#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/features/features.hpp"

namespace feature_test {

using namespace streamlearn;
using namespace streamlearn::features;

struct EventSpec {
  std::string entity = "u";
  int64_t ts = 0;
  std::initializer_list<std::pair<const char*, double>> numeric = {};
  std::initializer_list<std::pair<const char*, const char*>> categorical = {};
  std::initializer_list<const char*> missing = {};
};

inline Event Make(const EventSpec& s) {
  Event e;
  e.entity = s.entity;
  e.ts_ms = s.ts;
  for (const auto& [n, v] : s.numeric) e.numeric.push_back({n, v});
  for (const auto& [n, v] : s.categorical) e.categorical.push_back({n, v});
  for (const auto* n : s.missing) e.missing.emplace_back(n);
  return e;
}

inline Event Amount(int64_t ts, double amount, std::string entity = "u") {
  Event e;
  e.entity = std::move(entity);
  e.ts_ms = ts;
  e.numeric.push_back({"amount", amount});
  return e;
}

// The dense value of `name`, NaN when missing (absent from the dictionary or not present).
inline double Dense(const FeatureVector& x, const FeatureDictionary& d, std::string_view name) {
  int64_t id = d.find(name);
  if (id < 0 || static_cast<size_t>(id) >= x.dense.size() || !x.present[id]) return NAN;
  return x.dense[id];
}

inline bool HasDense(const FeatureVector& x, const FeatureDictionary& d, std::string_view name) {
  return !std::isnan(Dense(x, d, name));
}

}  // namespace feature_test

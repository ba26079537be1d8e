// Pins today's behaviour: the default FeatureConfig (and the two legacy knobs) must keep
// producing exactly the same feature vectors, encoded entity states and dictionary bytes
// as the code before per-field preprocessing and richer aggregates existed. The digests
// below were computed by this very test against that code (commit 4fde0ac's features.cpp).

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/features/features.hpp"

using namespace streamlearn;
using namespace streamlearn::features;

namespace {

struct Digest {
  uint64_t h = 0xcbf29ce484222325ULL;
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= c[i];
      h *= 0x100000001b3ULL;
    }
  }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
};

// A deterministic mixed stream: 7 entities, three regular numeric fields (one sometimes
// absent), a rare one, two categoricals, nulls, repeated and backwards timestamps.
void MakeGoldenEvent(std::mt19937_64& rng, int64_t* ts, Event* e) {
  e->clear();
  auto u = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  e->id = "e";
  e->entity = "u" + std::to_string(rng() % 7);
  const uint64_t step = rng() % 10;
  if (step == 0) {
    *ts -= 500;  // out of order
  } else if (step < 8) {
    *ts += static_cast<int64_t>(rng() % 5000);
  }
  e->ts_ms = *ts;
  e->numeric.push_back({"amount", std::round(u() * 100000) / 100});
  if (rng() % 4 != 0) e->numeric.push_back({"hour", static_cast<double>(rng() % 24)});
  else e->missing.push_back("hour");
  e->numeric.push_back({"score", u() * 2 - 1});
  if (rng() % 20 == 0) e->numeric.push_back({"rare", -u() * 1e6});
  static const char* kCountries[] = {"DE", "FR", "US", "BR", "JP"};
  e->categorical.push_back({"country", kCountries[rng() % 5]});
  e->categorical.push_back({"merchant", "m" + std::to_string(rng() % 50)});
}

uint64_t RunGolden(const FeatureConfig& config, uint32_t dict_capacity) {
  FeatureDictionary dict(dict_capacity);
  FeatureBuilder builder(config, &dict);
  std::map<std::string, EntityState> states;
  std::mt19937_64 rng(2024);
  int64_t ts = 1'700'000'000'000;
  Event e;
  FeatureVector x;
  Digest d;
  std::string bytes;
  for (int i = 0; i < 3000; ++i) {
    MakeGoldenEvent(rng, &ts, &e);
    EntityState& s = states[e.entity];
    builder.build(e, s, &x);
    d.u64(x.dense.size());
    for (size_t k = 0; k < x.dense.size(); ++k) {
      d.u64(std::bit_cast<uint64_t>(x.dense[k]));
      d.u64(x.present[k]);
    }
    d.u64(x.sparse_index.size());
    for (size_t k = 0; k < x.sparse_index.size(); ++k) {
      d.u64(x.sparse_index[k]);
      d.u64(std::bit_cast<uint32_t>(x.sparse_value[k]));
    }
    builder.update(e, &s);
    s.encode(&bytes);
    d.str(bytes);
  }
  for (const auto& [k, s] : states) {
    s.encode(&bytes);
    d.str(k);
    d.str(bytes);
  }
  bytes.clear();
  ByteWriter w(&bytes);
  dict.save(w);
  d.str(bytes);
  return d.h;
}

}  // namespace

TEST_CASE("golden: the default config builds exactly what it did before preprocessing existed",
          "[features][golden]") {
  FeatureConfig defaults;
  const uint64_t got_default = RunGolden(defaults, defaults.max_dense_features);

  FeatureConfig no_aggregates;
  no_aggregates.entity_aggregates = false;
  no_aggregates.hash_bits = 10;
  const uint64_t got_no_aggregates = RunGolden(no_aggregates, 1024);

  // A full dictionary: numeric fields spill into the hashed block. 14 fills up exactly after
  // a field's derived ids (the old code crashed when it filled up between them).
  FeatureConfig small;
  small.ewma_half_life_s = 3;
  small.max_dense_features = 16;
  const uint64_t got_small = RunGolden(small, 14);

  INFO("default " << got_default << " no_aggregates " << got_no_aggregates << " small " << got_small);
  CHECK(got_default == 3997646749581656101ULL);
  CHECK(got_no_aggregates == 7668102432282533333ULL);
  CHECK(got_small == 14945774035366896373ULL);
}

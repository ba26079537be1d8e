#pragma once
// Checks every detector must pass: snapshot continuation, corrupt bytes refused, reset.

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/drift/detector.hpp"
#include "reference_rng.hpp"

namespace streamlearn::testing {

using MakeFn = std::function<std::unique_ptr<drift::DriftDetector>()>;

inline std::string Saved(const drift::DriftDetector& d) {
  std::string bytes;
  ByteWriter w(&bytes);
  d.save(w);
  return bytes;
}

inline std::vector<drift::DriftLevel> Levels(drift::DriftDetector& d,
                                             const std::vector<double>& stream, size_t first) {
  std::vector<drift::DriftLevel> out;
  for (size_t i = first; i < stream.size(); ++i) out.push_back(d.update(stream[i]));
  return out;
}

// Saves after each `cut`, loads into `other` (a detector built with different
// parameters), and requires the rest of the stream to produce the same levels, stats and
// bytes as the original.
inline void CheckSnapshotContinues(const MakeFn& make, const MakeFn& other,
                                   const std::vector<double>& stream,
                                   const std::vector<size_t>& cuts) {
  for (size_t cut : cuts) {
    INFO("saved after index " << cut);
    std::unique_ptr<drift::DriftDetector> original = make();
    for (size_t i = 0; i <= cut; ++i) original->update(stream[i]);
    const std::string bytes = Saved(*original);

    std::unique_ptr<drift::DriftDetector> restored = other();
    ByteReader in(bytes);
    REQUIRE(restored->load(in).ok());
    CHECK(in.at_end());
    CHECK(Saved(*restored) == bytes);
    CHECK(Levels(*restored, stream, cut + 1) == Levels(*original, stream, cut + 1));
    CHECK(Saved(*restored) == Saved(*original));
    CHECK(restored->stats() == original->stats());
  }
}

// Every truncation and random garbage is refused with kCorruption (truncations) or some
// error (garbage), and a refused load leaves the target as it was.
inline void CheckLoadRejectsCorruptBytes(const MakeFn& make, const std::vector<double>& stream) {
  std::unique_ptr<drift::DriftDetector> original = make();
  for (double v : stream) original->update(v);
  const std::string bytes = Saved(*original);

  std::unique_ptr<drift::DriftDetector> target = make();
  target->update(1.0);
  const std::string before = Saved(*target);
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("first " << n << " bytes");
    ByteReader in(std::string_view(bytes).substr(0, n));
    CHECK(target->load(in).code() == ErrorCode::kCorruption);
  }
  PythonRandom rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk(rng.choice_index(400), '\0');
    for (char& c : junk) c = static_cast<char>(rng.choice_index(256));
    ByteReader in(junk);
    CHECK_FALSE(target->load(in).ok());
  }
  // A valid record of another detector is refused too.
  {
    std::string wrong = bytes;
    wrong[4] = static_cast<char>(wrong[4] ^ 0x20);  // first letter of the name
    ByteReader in(wrong);
    CHECK(target->load(in).code() == ErrorCode::kCorruption);
  }
  CHECK(Saved(*target) == before);
  ByteReader in(bytes);
  CHECK(target->load(in).ok());
  CHECK(Saved(*target) == bytes);
}

// reset() equals a fresh detector, and replays the same detections.
inline void CheckResetIsFresh(const MakeFn& make, const std::vector<double>& stream) {
  std::unique_ptr<drift::DriftDetector> used = make();
  const std::vector<drift::DriftLevel> first = Levels(*used, stream, 0);
  used->reset();
  CHECK(Saved(*used) == Saved(*make()));
  CHECK(Levels(*used, stream, 0) == first);
}

// Non-finite input is ignored (the state does not change).
inline void CheckIgnoresNonFinite(const MakeFn& make, const std::vector<double>& stream) {
  std::unique_ptr<drift::DriftDetector> d = make();
  for (size_t i = 0; i < 50 && i < stream.size(); ++i) d->update(stream[i]);
  const std::string before = Saved(*d);
  CHECK(d->update(std::numeric_limits<double>::quiet_NaN()) == drift::DriftLevel::kNone);
  CHECK(d->update(std::numeric_limits<double>::infinity()) == drift::DriftLevel::kNone);
  CHECK(d->update(-std::numeric_limits<double>::infinity()) == drift::DriftLevel::kNone);
  CHECK(Saved(*d) == before);
}

inline double Stat(const drift::DriftDetector& d, const std::string& key) {
  for (const auto& [name, value] : d.stats()) {
    if (name == key) return value;
  }
  FAIL("no stat named " << key);
  return 0;
}

}  // namespace streamlearn::testing

// libFuzzer target: learn::RestoreLearner on arbitrary bytes, with every learner family the
// pipeline registers. A stored model arrives from disk (RocksDB, `model import`), so a
// corrupt one must be refused with a reason, never crash, hang or allocate without bound.
// Snapshots carry a checksum, which random bytes almost never match; so the fuzzer's input
// is a snapshot with its length and checksum fields taken out (snapshot_frames.hpp), and the
// target puts them back before restoring: mutations reach the decoders behind the checksum.
// Invariants: it returns; a refusal has a non-empty UTF-8 reason under 300 bytes; a learner
// it accepts predicts finite scores of its task on a few inputs (dense, missing, sparse, wider
// than anything it saw), saves to bytes that restore to the same bytes, and learns one event
// without its predictions turning non-finite.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "snapshot_frames.hpp"
#include "streamlearn/core/bytes.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace {

using streamlearn::ByteReader;
using streamlearn::ByteWriter;
using streamlearn::FeatureVector;
using streamlearn::learn::Learner;
using streamlearn::learn::LearnerTask;
using streamlearn::learn::Prediction;

FeatureVector Input(int which) {
  FeatureVector x;
  switch (which) {
    case 0:  // a few dense values, all present
      for (uint32_t i = 0; i < 4; ++i) x.set_dense(i, 0.5 * i - 1);
      break;
    case 1:  // dense with a missing one, and hashed buckets
      x.set_dense(0, 3.0);
      x.set_dense(2, -7.5);
      x.sparse_index = {1, 17, 4095};
      x.sparse_value = {1.0f, 1.0f, 1.0f};
      break;
    default:  // wider than a seed's learner has seen, with large values
      for (uint32_t i = 0; i < 40; ++i) x.set_dense(i, i % 2 ? 1e6 : -1e6);
      x.sparse_index = {(1u << 24) - 1};
      x.sparse_value = {1.0f};
      break;
  }
  return x;
}

void CheckPredictions(const Learner& l) {
  Prediction p;
  for (int k = 0; k < 3; ++k) {
    l.predict(Input(k), p);
    FUZZ_CHECK(std::isfinite(p.score), "%s: score %g", std::string(l.type()).c_str(), p.score);
    switch (l.task()) {
      case LearnerTask::kBinary:
        FUZZ_CHECK(p.class_index == 0 || p.class_index == 1, "binary class %d", p.class_index);
        break;
      case LearnerTask::kMulticlass:
        FUZZ_CHECK(p.class_index >= -1, "class %d", p.class_index);
        for (double q : p.probabilities) FUZZ_CHECK(std::isfinite(q) && q >= 0 && q <= 1 + 1e-9, "probability %g", q);
        break;
      case LearnerTask::kRegression:
        break;
    }
  }
}

std::string Save(const Learner& l) {
  std::string out;
  ByteWriter w(&out);
  l.save(w);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool registered = [] {
    streamlearn::pipeline::RegisterLearnerFamilies();
    return true;
  }();
  (void)registered;
  const std::string sealed = fuzz::SealLearnerSnapshot(std::string_view(reinterpret_cast<const char*>(data), size));
  ByteReader in(sealed);
  auto restored = streamlearn::learn::RestoreLearner(in);
  if (!restored.ok()) {
    fuzz::CheckReason(restored.status());
    return 0;
  }
  Learner& l = **restored;
  CheckPredictions(l);
  const std::string once = Save(l);
  ByteReader again_in(once);
  auto again = streamlearn::learn::RestoreLearner(again_in);
  FUZZ_CHECK(again.ok(), "%s: its own save is refused: %s", std::string(l.type()).c_str(),
             again.status().message().c_str());
  FUZZ_CHECK(Save(**again) == once, "%s: save, restore, save differs", std::string(l.type()).c_str());
  const double label = l.task() == LearnerTask::kRegression ? 2.5 : 1.0;
  l.learn(Input(1), label);
  CheckPredictions(l);
  return 0;
}

// Writes the seeds of fuzz_learner_snapshot: for every learner type the pipeline registers,
// one snapshot untrained and one after 300 events of a small stream (dense values with
// missing ones, hashed buckets, labels of the type's task), unsealed (snapshot_frames.hpp).
// Run after adding a learner family: write_learner_snapshot_seeds tests/fuzz/corpus/learner_snapshot

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "snapshot_frames.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/pipeline/config.hpp"

using namespace streamlearn;

namespace {

void Write(const std::string& path, const learn::Learner& l) {
  std::string sealed;
  ByteWriter w(&sealed);
  l.save(w);
  std::ofstream(path, std::ios::binary) << fuzz::UnsealLearnerSnapshot(sealed);
  std::printf("%s (%zu bytes)\n", path.c_str(), sealed.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  pipeline::RegisterLearnerFamilies();
  const std::string dir = argv[1];
  for (std::string_view type : learn::LearnerTypes()) {
    auto made = learn::MakeLearner(type, {});
    if (!made.ok()) {
      std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(type.size()), type.data(), made.status().message().c_str());
      return 1;
    }
    learn::Learner& l = **made;
    Write(dir + "/valid-" + std::string(type) + "-untrained.bin", l);
    std::mt19937 rng(7);
    std::normal_distribution<double> normal;
    FeatureVector x;
    for (int i = 0; i < 300; ++i) {
      x.clear();
      for (uint32_t f = 0; f < 4; ++f) {
        if ((i + f) % 7 != 0) x.set_dense(f, normal(rng));
      }
      x.sparse_index = {static_cast<uint32_t>(i % 5), 100};
      x.sparse_value = {1.0f, 1.0f};
      const double signal = x.dense[0] + (x.dense.size() > 1 ? x.dense[1] : 0);
      double y = 0;
      switch (l.task()) {
        case learn::LearnerTask::kBinary: y = signal > 0 ? 1 : 0; break;
        case learn::LearnerTask::kMulticlass: y = signal > 0.5 ? 2 : signal > -0.5 ? 1 : 0; break;
        case learn::LearnerTask::kRegression: y = 3 * signal + 10; break;
      }
      l.learn(x, y);
    }
    Write(dir + "/valid-" + std::string(type) + "-trained.bin", l);
  }
  return 0;
}

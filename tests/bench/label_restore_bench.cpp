// What a pending delayed-label prediction costs as part of its partition's unit: the
// changelog bytes of one (key + record), and the time to take N of them over from the
// changelog (LabelJoin::replace_partition and the RocksDB write), beside the baseline of the
// same N restored from the instance's own RocksDB at start (LabelJoin::restore).
//   label_restore_bench [N] [DENSE] [REPEATS]
// Prints figures (medians of REPEATS); asserts nothing.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "partition_state.hpp"
#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Fail(const Status& st) {
  fmt::print(stderr, "{}\n", st.message());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const uint32_t dense = argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 3;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  LabelSettings settings;
  settings.max_pending = static_cast<int64_t>(n) + 1;
  settings.ttl_ms = int64_t{1} << 40;

  // The old holder: n predictions of partition 0 as the processor stores them (SEA-like
  // vectors of `dense` features, entity keys like the demo's, ids "e-<i>").
  LabelJoin source(settings);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0, 10);
  for (size_t i = 0; i < n; ++i) {
    PendingPrediction p;
    p.entity = "u" + std::to_string(rng() % 10000);
    p.ts_ms = 1700000000000 + static_cast<int64_t>(i);
    p.seq = i;
    p.score = uniform(rng) / 10;
    p.predicted = p.score >= 0.5;
    p.model_version = 1;
    for (uint32_t f = 0; f < dense; ++f) {
      p.x.dense.push_back(uniform(rng));
      p.x.present.push_back(1);
    }
    p.partition = 0;
    (void)source.add_prediction("e-" + std::to_string(i), p);
  }
  std::map<std::string, std::string, std::less<>> records;
  size_t key_bytes = 0, value_bytes = 0;
  source.for_each_change([&](int32_t, std::string_view id, std::string_view record) {
    key_bytes += LabelJoinKey(id).size();
    value_bytes += record.size();
    records.emplace(std::string(id), std::string(record));
  });
  fmt::print("{} pending predictions, {} dense features each\n", n, dense);
  fmt::print("changelog bytes per pending prediction: {:.1f} (key {:.1f}, record {:.1f})\n",
             static_cast<double>(key_bytes + value_bytes) / static_cast<double>(n),
             static_cast<double>(key_bytes) / static_cast<double>(n),
             static_cast<double>(value_bytes) / static_cast<double>(n));

  const fs::path root = fs::temp_directory_path() / ("sl-label-restore-bench-" + std::to_string(std::random_device{}()));
  std::vector<double> take_over, restart;
  for (int r = 0; r < repeats; ++r) {
    const std::string dir = (root / std::to_string(r)).string();
    auto store = state::StateStore::Open(dir);
    if (!store.ok()) return Fail(store.status());
    LabelJoin holder(settings);
    const Clock::time_point began = Clock::now();
    state::CheckpointBatch batch = (*store)->begin_checkpoint();
    if (Status st = holder.replace_partition(0, records, batch); !st.ok()) return Fail(st);
    if (Status st = (*store)->commit(batch); !st.ok()) return Fail(st);
    take_over.push_back(std::chrono::duration<double>(Clock::now() - began).count());
    if (holder.pending_size() != n) return Fail(Status::Internal("not every prediction was taken over"));

    LabelJoin again(settings);  // the baseline: the same records from the instance's own RocksDB
    const Clock::time_point from_disk = Clock::now();
    if (Status st = again.restore(**store); !st.ok()) return Fail(st);
    restart.push_back(std::chrono::duration<double>(Clock::now() - from_disk).count());
    if (again.pending_size() != n) return Fail(Status::Internal("not every prediction was restored"));
  }
  fs::remove_all(root);
  const double t = Median(take_over), b = Median(restart);
  fmt::print("taking over from the changelog's records (replace_partition + RocksDB write): {:.3f} s, "
             "{:.0f} predictions/s (median of {})\n",
             t, static_cast<double>(n) / t, repeats);
  fmt::print("baseline, restored from the instance's own RocksDB at start: {:.3f} s, {:.0f} predictions/s; "
             "ratio {:.2f}\n",
             b, static_cast<double>(n) / b, t / b);
  return 0;
}

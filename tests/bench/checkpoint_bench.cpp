// Checkpoint time and size for N entities (default 1,000,000): one StateStore checkpoint
// (one RocksDB WriteBatch, WAL fsync on, as `streamlearn run` writes it) holding every
// entity's features::EntityState with 3 numeric fields, then a second one with 10% of the
// entities dirty. Prints figures; asserts nothing. Not run by ctest.
//   checkpoint_bench [ENTITIES] [DIR]   (DIR defaults to a fresh directory under /tmp)
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "streamlearn/features/features.hpp"
#include "streamlearn/state/store.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace sl = streamlearn;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

uint64_t DirBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

sl::features::EntityState MakeState(uint64_t i, std::mt19937_64& rng, int64_t ts) {
  std::uniform_real_distribution<double> u(0, 10);
  sl::features::EntityState s;
  s.events = 1 + i % 50;
  s.last_ts_ms = ts;
  for (uint32_t f = 0; f < 3; ++f) {
    sl::features::FieldAggregate a;
    a.field_id = f;
    a.count = s.events;
    a.mean = u(rng);
    a.ewma = u(rng);
    a.last = u(rng);
    a.last_ts_ms = ts;
    s.fields.push_back(a);
  }
  return s;
}

// One checkpoint of the entities i with i % stride == 0; returns false on error.
bool Checkpoint(sl::state::StateStore& store, uint64_t entities, uint64_t stride, int64_t ts, const char* what,
                const fs::path& dir) {
  std::mt19937_64 rng(ts);
  std::string key, bytes;
  const auto t0 = Clock::now();
  auto batch = store.begin_checkpoint();
  uint64_t n = 0;
  for (uint64_t i = 0; i < entities; i += stride, ++n) {
    key = fmt::format("u{}", i);
    MakeState(i, rng, ts).encode(&bytes);
    batch.put_entity(key, bytes);
  }
  batch.put_model("bench-model", std::string(3000, 'm'));  // a model snapshot is ~3 KB
  batch.put_offset({"events", 0}, static_cast<int64_t>(n));
  const auto t1 = Clock::now();
  const size_t batch_bytes = batch.byte_size();
  sl::Status st = store.commit(batch);
  const auto t2 = Clock::now();
  if (!st.ok()) {
    fmt::print(stderr, "commit failed: {}\n", st.message());
    return false;
  }
  const uint64_t disk = DirBytes(dir);
  fmt::print("{}: {} entities dirty\n", what, n);
  fmt::print("  build batch (encode + Put): {:8.3f} s\n", Seconds(t0, t1));
  fmt::print("  commit (WriteBatch, WAL fsync): {:8.3f} s   ({:.0f} entities/s)\n", Seconds(t1, t2),
             static_cast<double>(n) / Seconds(t1, t2));
  fmt::print("  batch size: {} bytes = {:.1f} bytes/entity (state value {} bytes)\n", batch_bytes,
             static_cast<double>(batch_bytes) / static_cast<double>(n), bytes.size());
  fmt::print("  state directory on disk after commit: {} bytes = {:.1f} bytes per stored entity\n", disk,
             static_cast<double>(disk) / static_cast<double>(entities));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t entities = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  fs::path dir = argc > 2 ? fs::path(argv[2])
                          : fs::temp_directory_path() / fmt::format("streamlearn-checkpoint-bench-{}", ::getpid());
  if (fs::exists(dir)) {
    fmt::print(stderr, "{} exists; give a new directory\n", dir.string());
    return 2;
  }
  fmt::print("checkpoint bench: {} entities (EntityState, 3 fields) in {}\n", entities, dir.string());
  {
    const auto t0 = Clock::now();
    auto store = sl::state::StateStore::Open(dir.string());
    if (!store.ok()) {
      fmt::print(stderr, "{}\n", store.status().message());
      return 1;
    }
    fmt::print("open (new): {:.3f} s\n", Seconds(t0, Clock::now()));
    if (!Checkpoint(**store, entities, 1, 1700000000000, "first checkpoint (all entities new)", dir)) return 1;
    if (!Checkpoint(**store, entities, 10, 1700000100000, "second checkpoint (10% dirty)", dir)) return 1;
  }
  fmt::print("after close: {} bytes on disk\n", DirBytes(dir));
  {
    const auto t0 = Clock::now();
    auto store = sl::state::StateStore::Open(dir.string());
    if (!store.ok()) {
      fmt::print(stderr, "{}\n", store.status().message());
      return 1;
    }
    const double open_s = Seconds(t0, Clock::now());
    uint64_t n = 0;
    const auto t1 = Clock::now();
    (void)(*store)->for_each_entity([&](std::string_view, std::string_view) { return ++n, true; });
    fmt::print("reopen (WAL replay): {:.3f} s; full scan of {} entities: {:.3f} s; {} bytes on disk\n", open_s, n,
               Seconds(t1, Clock::now()), DirBytes(dir));
  }
  if (argc <= 2) fs::remove_all(dir);
  return 0;
}

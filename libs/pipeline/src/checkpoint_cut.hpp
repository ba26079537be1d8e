#pragma once
// A checkpoint cut between two batches and written later, so that processing does not wait
// for the broker. At the cut the processor's changes and next offsets go into a batch and
// the producer's message number is noted; the batch is written (and its offsets committed
// to Kafka) once every message produced before the cut is acknowledged, which is what a
// checkpoint written at once after a flush guaranteed: a crash after the write loses no
// prediction of a checkpointed event, and one before it replays from the previous
// checkpoint as before. The RocksDB write itself runs on the runner's writer thread
// (state::CheckpointWriter), its offsets committed and its markers produced once it has
// succeeded. One cut at a time; the blocking checkpoint (revoke, stop, disk retry, broker
// outage) takes a write in flight and writes a waiting cut first, then the rest.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/state/store.hpp"
#include "partition_state.hpp"

namespace streamlearn::pipeline {

struct CheckpointCut {
  explicit CheckpointCut(state::CheckpointBatch b) : batch(std::move(b)) {}
  state::CheckpointBatch batch;
  uint64_t produced = 0;  // Producer::produced() at the cut: acknowledged below it, writable
  uint64_t messages = 0;  // the processor's message count at the cut
  std::vector<kafka::PartitionOffset> offsets;  // the processor's next offsets at the cut
  std::chrono::steady_clock::time_point at;
  double held_s = 0;  // how long making the cut (and starting its write) held processing
  std::chrono::steady_clock::time_point write_began;  // handed to the writer thread
  std::vector<PendingMarker> markers;  // the changelog's offset markers, produced after the write
  bool transaction_committed = false;  // exactly_once: its transaction committed (a disk retry must not again)
};

}  // namespace streamlearn::pipeline

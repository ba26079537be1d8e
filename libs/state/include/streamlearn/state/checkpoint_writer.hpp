#pragma once
// Writes one checkpoint batch at a time on a thread of its own (named "sl-checkpoint"), so
// that the thread that made the batch goes on processing while RocksDB syncs its write-ahead
// log (milliseconds per checkpoint). RocksDB takes a Write beside Gets and Writes from other
// threads; the batch must be left alone (and outlive the write) until take() has returned.

#include <condition_variable>
#include <mutex>
#include <thread>

#include "streamlearn/core/status.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::state {

class CheckpointWriter {
 public:
  CheckpointWriter() = default;
  ~CheckpointWriter();  // waits for a write in flight: the store and the batch outlive it
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Begins StateStore::commit(batch) on the writer's thread (started on first use). One at
  // a time: the previous write must have been taken.
  void start(StateStore& store, CheckpointBatch& batch);
  // A write was started and its result not yet taken (finished or not).
  bool busy() const;
  // The write started has finished; its result waits for take().
  bool done() const;
  // Until the write started has finished (its result stays for take()); at once when idle.
  void wait() const;
  // Waits until the write has finished and returns what StateStore::commit returned (a
  // refused batch is kept whole, to be committed again). Ok when nothing was started.
  Status take();

 private:
  enum class Phase { kIdle, kWriting, kDone };
  void run();

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  Phase phase_ = Phase::kIdle;
  bool stopping_ = false;
  StateStore* store_ = nullptr;
  CheckpointBatch* batch_ = nullptr;
  Status result_;
  std::thread thread_;  // last: started after the members it reads
};

}  // namespace streamlearn::state

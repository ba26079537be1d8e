#include "streamlearn/state/checkpoint_writer.hpp"

#include <pthread.h>

namespace streamlearn::state {

CheckpointWriter::~CheckpointWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();  // the thread finishes a write it began first
}

void CheckpointWriter::start(StateStore& store, CheckpointBatch& batch) {
  {
    std::lock_guard lock(mutex_);
    store_ = &store;
    batch_ = &batch;
    result_ = Status::Ok();
    phase_ = Phase::kWriting;
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  changed_.notify_all();
}

bool CheckpointWriter::busy() const {
  std::lock_guard lock(mutex_);
  return phase_ != Phase::kIdle;
}

bool CheckpointWriter::done() const {
  std::lock_guard lock(mutex_);
  return phase_ == Phase::kDone;
}

void CheckpointWriter::wait() const {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return phase_ != Phase::kWriting; });
}

Status CheckpointWriter::take() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return phase_ != Phase::kWriting; });
  phase_ = Phase::kIdle;
  store_ = nullptr;
  batch_ = nullptr;
  Status result = std::move(result_);
  result_ = Status::Ok();  // taken once: a second take() without a write is Ok
  return result;
}

void CheckpointWriter::run() {
  // Named for tools that look for the checkpoint's sync (the crash tests kill inside it).
  pthread_setname_np(pthread_self(), "sl-checkpoint");
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || phase_ == Phase::kWriting; });
    if (phase_ != Phase::kWriting) return;  // stopping, nothing begun
    StateStore* store = store_;
    CheckpointBatch* batch = batch_;
    lock.unlock();
    Status written = store->commit(*batch);
    lock.lock();
    result_ = std::move(written);
    phase_ = Phase::kDone;
    changed_.notify_all();
  }
}

}  // namespace streamlearn::state

#pragma once
// Kafka transactions over a Producer created with `transactional.id`: what the pipeline's
// exactly-once checkpoint needs (docs/architecture.md, "Exactly once"). One transaction is
// open between checkpoints; a checkpoint adds the consumer's offsets to it and commits it.

#include <memory>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::kafka {

// How a transactional call failed, from librdkafka's error flags: kRetriable may be called
// again; kAbortable needs abort() and the work since the last commit done again; kFatal
// (fenced by a newer producer with the same transactional.id, or refused) ends the producer.
enum class TransactionFailure { kNone, kRetriable, kAbortable, kFatal };

struct TransactionResult {
  TransactionFailure failure = TransactionFailure::kNone;
  Status status;
  bool ok() const { return failure == TransactionFailure::kNone; }
};

class Transactions {
 public:
  // rd_kafka_init_transactions: registers the transactional.id with its coordinator, which
  // fences (and aborts the open transaction of) an earlier producer with the same id.
  static Result<std::unique_ptr<Transactions>> Init(Producer& producer, int timeout_ms);

  TransactionResult begin();
  // Adds `offsets` (the next offsets to read) for the consumer's group, then commits: every
  // message produced in the transaction is flushed first.
  TransactionResult commit(const Consumer& consumer, const std::vector<PartitionOffset>& offsets, int timeout_ms);
  TransactionResult abort(int timeout_ms);
  // librdkafka's fatal error (fenced, ...), empty when there is none.
  std::string fatal_error() const;
  bool open() const { return open_; }

 private:
  explicit Transactions(Producer& producer) : producer_(producer) {}
  Producer& producer_;
  bool open_ = false;
};

}  // namespace streamlearn::kafka

#pragma once
// kafka.guarantee: exactly_once (docs/architecture.md, "Exactly once"). A transactional
// producer with one transaction open between checkpoints: the interval's predictions, drift
// events, dead letters and changelog records, then the consumed offsets, committed together
// before the RocksDB write. A crash before the commit leaves the transaction aborted and the
// group's offsets where RocksDB's are: local state current. A crash between the commit and
// the RocksDB write leaves the group's offsets ahead of RocksDB's: the next start processes
// the events between them again to rebuild the state (the order is a function of the logs,
// so it is the same state) with their outputs dropped, since the committed transaction
// already published them.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/transactions.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace streamlearn::pipeline {

// "<kafka.group_id>.<scale.instance_id or host:state.dir>": stable across restarts of one
// instance, so that its next start fences what is left of the previous one.
std::string TransactionalId(const PipelineConfig& config);

// The producer properties exactly_once needs, set over `producer` (the user's
// kafka.properties still win, except transactional.id).
void ConfigureTransactionalProducer(const PipelineConfig& config, kafka::Properties& producer);

class ExactlyOnce {
 public:
  // init_transactions (fencing an earlier producer with the same id), then the first begin.
  static Result<std::unique_ptr<ExactlyOnce>> Start(kafka::Producer& producer, const std::string& transactional_id,
                                                    prometheus::Registry* registry);

  // Commits the open transaction with `offsets` and begins the next. An abortable failure
  // aborts it and returns kUnavailable, a fenced or otherwise fatal one kFailedPrecondition:
  // either way the caller must not write the checkpoint, and must drop its in-memory state.
  Status commit(const kafka::Consumer& consumer, const std::vector<kafka::PartitionOffset>& offsets);
  // At shutdown: the open (empty) transaction aborted, so the coordinator has nothing to time out.
  void finish();
  // A failure while the transaction was open (a produce refused in the transaction's
  // abortable or fatal state, ...): aborts it unless fatal, and returns the error to stop with.
  Status abandon(const Status& cause);

  // After the runner's assignment decided where each partition resumes: partitions whose
  // group offset (committed in a transaction) is ahead are replayed silently up to it.
  void on_assign(kafka::Consumer& consumer, const std::vector<kafka::PartitionOffset>& parts);
  void on_revoke(const std::vector<kafka::PartitionOffset>& revoked);
  // Processes `batch`, sending to a sink that drops everything the messages of a silent
  // replay would output (their outputs are already committed), and the rest to `sink`.
  Status process(Processor& processor, std::span<const RawMessage> batch, OutputSink& sink);
  bool replaying() const { return !silent_until_.empty(); }

 private:
  explicit ExactlyOnce(kafka::Producer& producer) : producer_(producer) {}
  Status fail(const kafka::TransactionResult& r);
  Status fail_once(const kafka::TransactionResult& r);
  Status failed_;  // after a failure nothing commits again: the in-memory state is past the checkpoint
  kafka::Producer& producer_;
  std::string id_;
  std::unique_ptr<kafka::Transactions> transactions_;
  std::map<std::pair<std::string, int32_t>, int64_t> silent_until_;  // next offset the group committed
  uint64_t replayed_ = 0;
  prometheus::Counter* committed_ = nullptr;
  prometheus::Counter* aborted_ = nullptr;
  prometheus::Counter* fenced_ = nullptr;
  prometheus::Counter* silent_ = nullptr;
};

}  // namespace streamlearn::pipeline

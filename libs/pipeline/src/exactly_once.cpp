#include "exactly_once.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace streamlearn::pipeline {
namespace {

// How long a transactional call may wait for the coordinator. A checkpoint has already
// flushed its messages when it commits, so this bounds the commit's own round trips.
constexpr int kTransactionTimeoutMs = 60000;

// Drops every record: the outputs of a silent replay were committed by a transaction before
// the crash, identical (the order is a function of the logs).
class DroppingSink : public OutputSink {
 public:
  Status write(const PredictionRecord&) override { return Status::Ok(); }
  Status write(const ConceptDriftRecord&) override { return Status::Ok(); }
  Status write(const DataDriftRecord&) override { return Status::Ok(); }
  Status write(const ModelSwitchRecord&) override { return Status::Ok(); }
  Status write(const DeadLetterRecord&) override { return Status::Ok(); }
};

}  // namespace

std::string TransactionalId(const PipelineConfig& config) {
  std::string instance = config.sync.instance_id;
  if (instance.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    instance = std::string(host) + ":" + config.state.dir;
  }
  return config.kafka.group_id + "." + instance;
}

void ConfigureTransactionalProducer(const PipelineConfig& config, kafka::Properties& producer) {
  producer["transactional.id"] = TransactionalId(config);
  // librdkafka refuses message.timeout.ms above transaction.timeout.ms (0 = never is above
  // it): a message not delivered within the transaction's life aborts the transaction.
  if (!config.kafka.properties.contains("message.timeout.ms")) {
    auto txn = config.kafka.properties.find("transaction.timeout.ms");
    producer["message.timeout.ms"] = txn == config.kafka.properties.end() ? "60000" : txn->second;
  }
}

Result<std::unique_ptr<ExactlyOnce>> ExactlyOnce::Start(kafka::Producer& producer, const std::string& transactional_id,
                                                        prometheus::Registry* registry) {
  auto transactions = kafka::Transactions::Init(producer, kTransactionTimeoutMs);
  if (!transactions.ok()) {
    return Status::Unavailable("kafka.guarantee exactly_once: the transactional producer '" + transactional_id +
                               "' could not start: " + transactions.status().message());
  }
  std::unique_ptr<ExactlyOnce> eo(new ExactlyOnce(producer));
  eo->id_ = transactional_id;
  eo->transactions_ = std::move(transactions).value();
  if (registry) {
    auto& family = prometheus::BuildCounter()
                       .Name("streamlearn_transactions_total")
                       .Help("Kafka transactions (kafka.guarantee exactly_once) by result")
                       .Register(*registry);
    eo->committed_ = &family.Add({{"result", "committed"}});
    eo->aborted_ = &family.Add({{"result", "aborted"}});
    eo->fenced_ = &family.Add({{"result", "fenced"}});
    eo->silent_ = &prometheus::BuildCounter()
                       .Name("streamlearn_transaction_replayed_total")
                       .Help("Events processed again after a crash between a transaction's commit and the "
                             "RocksDB write, their outputs dropped (already committed)")
                       .Register(*registry)
                       .Add({});
  }
  kafka::TransactionResult begun = eo->transactions_->begin();
  if (!begun.ok()) return eo->fail(begun);
  spdlog::info("kafka.guarantee exactly_once: transactional producer '{}' ready (earlier producers with this id "
               "are fenced)",
               transactional_id);
  return eo;
}

Status ExactlyOnce::abandon(const Status& cause) {
  if (!failed_.ok()) return failed_;
  const std::string fatal = transactions_->fatal_error();
  kafka::TransactionResult r;
  r.failure = fatal.empty() ? kafka::TransactionFailure::kAbortable : kafka::TransactionFailure::kFatal;
  r.status = Status::Unavailable(fatal.empty() ? cause.message() : fatal + "; " + cause.message());
  return fail(r);
}

Status ExactlyOnce::fail(const kafka::TransactionResult& r) {
  failed_ = fail_once(r);
  return failed_;
}

Status ExactlyOnce::fail_once(const kafka::TransactionResult& r) {
  if (r.failure == kafka::TransactionFailure::kFatal) {
    if (fenced_) fenced_->Increment();
    return Status::FailedPrecondition(
        "kafka.guarantee exactly_once: the transactional producer '" + id_ + "' can no longer commit (" +
        r.status.message() + "); another instance with the same transactional.id (kafka.group_id and " +
        "scale.instance_id) has probably started and fenced this one. Nothing after the last checkpoint was " +
        "committed; stopping");
  }
  kafka::TransactionResult aborted = transactions_->abort(kTransactionTimeoutMs);
  if (aborted_) aborted_->Increment();
  std::string message = "kafka.guarantee exactly_once: transaction aborted (" + r.status.message() + ")";
  if (!aborted.ok()) message += "; the abort failed too (" + aborted.status.message() + ")";
  // The processor's in-memory state is past the last checkpoint: a restart returns to it
  // (RocksDB and the group's offsets are both at that checkpoint).
  return Status::Unavailable(message + "; nothing since the last checkpoint was committed, and a restart resumes "
                                       "from it");
}

Status ExactlyOnce::commit(const kafka::Consumer& consumer, const std::vector<kafka::PartitionOffset>& offsets) {
  if (!failed_.ok()) return failed_;
  kafka::TransactionResult r = transactions_->commit(consumer, offsets, kTransactionTimeoutMs);
  // A retriable answer (a coordinator moving): the same commit again, a few times.
  for (int retry = 0; r.failure == kafka::TransactionFailure::kRetriable && retry < 3; ++retry) {
    spdlog::warn("{}; retrying", r.status.message());
    r = transactions_->commit(consumer, offsets, kTransactionTimeoutMs);
  }
  if (!r.ok()) return fail(r);
  if (committed_) committed_->Increment();
  kafka::TransactionResult begun = transactions_->begin();
  if (!begun.ok()) return fail(begun);
  return Status::Ok();
}

void ExactlyOnce::finish() {
  if (!failed_.ok() || !transactions_->open()) return;
  kafka::TransactionResult r = transactions_->abort(5000);
  if (!r.ok()) spdlog::debug("closing the empty transaction: {}", r.status.message());
}

void ExactlyOnce::on_assign(kafka::Consumer& consumer, const std::vector<kafka::PartitionOffset>& parts) {
  std::vector<kafka::PartitionOffset> committed;
  for (const auto& p : parts) committed.push_back({p.topic, p.partition, -1});
  if (committed.empty()) return;
  Status asked = consumer.committed(committed, 10000);
  if (!asked.ok()) {
    spdlog::warn("kafka.guarantee exactly_once: the group's offsets are unknown ({}); no silent replay",
                 asked.message());
    return;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const int64_t local = parts[i].offset, group = committed[i].offset;
    if (local < 0 || group <= local) continue;
    silent_until_[{parts[i].topic, parts[i].partition}] = group;
    spdlog::info("partition {}-{}: a transaction committed up to {} but the local checkpoint is at {} (a crash "
                 "came between them): events {}..{} are processed again with their outputs dropped",
                 parts[i].topic, parts[i].partition, group, local, local, group - 1);
  }
}

void ExactlyOnce::on_revoke(const std::vector<kafka::PartitionOffset>& revoked) {
  for (const auto& p : revoked) silent_until_.erase({p.topic, p.partition});
}

Status ExactlyOnce::process(Processor& processor, std::span<const RawMessage> batch, OutputSink& sink) {
  if (silent_until_.empty()) return processor.process(batch, sink);
  auto silent = [&](const RawMessage& m) {
    auto it = silent_until_.find({std::string(m.source.topic), m.source.partition});
    return it != silent_until_.end() && m.source.offset < it->second;
  };
  DroppingSink dropping;
  // Consecutive runs of silent and published messages, in the batch's order.
  size_t begin = 0;
  while (begin < batch.size()) {
    const bool quiet = silent(batch[begin]);
    size_t end = begin + 1;
    while (end < batch.size() && silent(batch[end]) == quiet) ++end;
    OutputSink& to = quiet ? static_cast<OutputSink&>(dropping) : sink;
    SL_RETURN_IF_ERROR(processor.process(batch.subspan(begin, end - begin), to));
    if (quiet) {
      replayed_ += end - begin;
      if (silent_) silent_->Increment(static_cast<double>(end - begin));
    }
    begin = end;
  }
  // A partition past its committed offset publishes again.
  for (auto it = silent_until_.begin(); it != silent_until_.end();) {
    const auto next = processor.next_offsets().find(it->first);
    if (next != processor.next_offsets().end() && next->second >= it->second) {
      spdlog::info("partition {}-{}: caught up with the committed transaction ({} event(s) replayed silently)",
                   it->first.first, it->first.second, replayed_);
      it = silent_until_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

}  // namespace streamlearn::pipeline

#include "streamlearn/kafka/transactions.hpp"

#include <librdkafka/rdkafka.h>

namespace streamlearn::kafka {
namespace {

// Takes ownership of `error` (may be null) and classifies it.
TransactionResult Classify(rd_kafka_error_t* error, const char* what) {
  TransactionResult r;
  if (!error) return r;
  std::string message = std::string(what) + ": " + rd_kafka_error_string(error) + " (" + rd_kafka_error_name(error) + ")";
  if (rd_kafka_error_is_fatal(error)) {
    r.failure = TransactionFailure::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(error)) {
    r.failure = TransactionFailure::kAbortable;
  } else if (rd_kafka_error_is_retriable(error)) {
    r.failure = TransactionFailure::kRetriable;
  } else {
    // Neither fatal nor abortable nor retriable (a wrong state): treated as fatal, since
    // the producer's transactional state is not what the caller believes.
    r.failure = TransactionFailure::kFatal;
  }
  r.status = Status::Unavailable(std::move(message));
  rd_kafka_error_destroy(error);
  return r;
}

}  // namespace

Result<std::unique_ptr<Transactions>> Transactions::Init(Producer& producer, int timeout_ms) {
  TransactionResult r = Classify(rd_kafka_init_transactions(producer.rk_, timeout_ms), "init_transactions");
  if (!r.ok()) return r.status;
  return std::unique_ptr<Transactions>(new Transactions(producer));
}

TransactionResult Transactions::begin() {
  TransactionResult r = Classify(rd_kafka_begin_transaction(producer_.rk_), "begin_transaction");
  if (r.ok()) open_ = true;
  return r;
}

TransactionResult Transactions::commit(const Consumer& consumer, const std::vector<PartitionOffset>& offsets,
                                       int timeout_ms) {
  if (!offsets.empty()) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (const auto& o : offsets) rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.offset;
    rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(consumer.rk_);
    TransactionResult sent = Classify(rd_kafka_send_offsets_to_transaction(producer_.rk_, list, group, timeout_ms),
                                      "send_offsets_to_transaction");
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(list);
    if (!sent.ok()) return sent;
  }
  TransactionResult r = Classify(rd_kafka_commit_transaction(producer_.rk_, timeout_ms), "commit_transaction");
  if (r.ok()) open_ = false;
  return r;
}

std::string Transactions::fatal_error() const {
  char reason[512] = {};
  if (rd_kafka_fatal_error(producer_.rk_, reason, sizeof reason) == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return reason;
}

TransactionResult Transactions::abort(int timeout_ms) {
  TransactionResult r = Classify(rd_kafka_abort_transaction(producer_.rk_, timeout_ms), "abort_transaction");
  if (r.ok()) open_ = false;
  return r;
}

}  // namespace streamlearn::kafka

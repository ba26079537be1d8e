#pragma once
// Thin RAII wrappers over librdkafka's C API: what the pipeline needs and nothing more.
// librdkafka's own threads do the network I/O; every call here is made from one thread
// (the processing thread), including the rebalance hooks.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/timestamp_merge.hpp"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;

namespace streamlearn::kafka {

using Properties = std::map<std::string, std::string>;

struct Header {
  std::string_view name;
  std::string_view value;
};

// A consumed message; views stay valid until the MessageBatch that holds it is cleared.
struct MessageView {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  std::string_view key;
  std::string_view payload;
};

// Owns the librdkafka messages of one poll.
class MessageBatch {
 public:
  MessageBatch() = default;
  ~MessageBatch() { clear(); }
  MessageBatch(const MessageBatch&) = delete;
  MessageBatch& operator=(const MessageBatch&) = delete;
  void clear();
  size_t size() const { return views_.size(); }
  bool empty() const { return views_.empty(); }
  const MessageView& operator[](size_t i) const { return views_[i]; }
  const std::vector<MessageView>& views() const { return views_; }

 private:
  friend class Consumer;
  void add(rd_kafka_message_t* m);  // takes ownership
  std::vector<rd_kafka_message_t*> owned_;
  std::vector<MessageView> views_;
};

// What librdkafka's error callbacks said about reaching the cluster, shared by a producer
// and a consumer. Written from librdkafka callbacks (served inside poll/flush), read by
// whoever decides what an outage is (the runner): thread-safe, never blocks.
class BrokerHealth {
 public:
  // RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: no broker of the cluster is reachable.
  void report_all_down(std::string_view reason);
  // RD_KAFKA_RESP_ERR__TRANSPORT and friends: one connection failed (librdkafka reconnects).
  void report_transport_error(std::string_view reason);
  // Authentication (SASL, SSL) or authorisation (topic, group, cluster ACLs) refused: a
  // configuration problem, not an outage; librdkafka keeps retrying regardless.
  void report_auth_failure(std::string_view reason);
  uint64_t all_down_reports() const { return all_down_.load(std::memory_order_acquire); }
  uint64_t transport_errors() const { return transport_.load(std::memory_order_acquire); }
  uint64_t auth_failures() const { return auth_.load(std::memory_order_acquire); }
  std::string last_reason() const;
  std::string last_auth_reason() const;

 private:
  std::atomic<uint64_t> all_down_{0};
  std::atomic<uint64_t> transport_{0};
  std::atomic<uint64_t> auth_{0};
  mutable std::mutex mutex_;
  std::string last_reason_;
  std::string last_auth_reason_;
};

// A message the broker refused for good (message.timeout.ms=0 means nothing transient ends
// here): what the delivery report still holds of it, so an owner can send a smaller one.
struct FailedDelivery {
  std::string_view topic;
  std::string_view key;
  std::string_view payload;
  std::vector<std::pair<std::string, std::string>> headers;
  int error = 0;  // rd_kafka_resp_err_t
  std::string error_name;
  std::string reason;
};
// Returns true when it took care of the failure (it is then not counted in failed()).
// Runs on the thread that serves the producer's callbacks (inside poll/flush/produce); it
// may call Producer::try_produce, not produce (no nested polling).
using DeliveryFailureHandler = std::function<bool(const FailedDelivery&)>;

// Producer with delivery accounting: flush() returns only when every message produced
// so far was acknowledged by the broker (or failed, which it reports).
class Producer {
 public:
  static Result<std::unique_ptr<Producer>> Create(const Properties& properties,
                                                  std::shared_ptr<BrokerHealth> health = nullptr,
                                                  DeliveryFailureHandler on_failure = nullptr);
  ~Producer();

  // Blocks (serving delivery reports) while librdkafka's queue is full: backpressure.
  // `timestamp_ms` 0 = now (librdkafka's CreateTime).
  Status produce(std::string_view topic, std::string_view key, std::string_view value,
                 const std::vector<Header>& headers = {}, int32_t partition = -1, int64_t timestamp_ms = 0);
  // One attempt, never polls: for use inside a delivery callback.
  Status try_produce(std::string_view topic, std::string_view key, std::string_view value,
                     const std::vector<Header>& headers = {}, int32_t partition = -1, int64_t timestamp_ms = 0);
  // The producer's message.max.bytes: librdkafka refuses larger messages locally
  // (key + value + headers + record overhead must fit).
  size_t max_message_bytes() const;
  // Asks the cluster for metadata: true when a broker answered within `timeout_ms`.
  bool cluster_reachable(int timeout_ms) const;
  // Makes the topics known before the first message: librdkafka otherwise looks an unknown
  // topic up about once a second, so the first produce to each waited up to a second.
  // Asks for their metadata, waiting at most `timeout_ms` in all; kUnavailable when the
  // cluster did not answer in time (producing works anyway, only later).
  Status warm_up(const std::vector<std::string>& topics, int timeout_ms);
  // Waits until nothing is in flight or `timeout_ms` passed (kUnavailable then).
  Status flush(int timeout_ms);
  void poll() const;
  uint64_t in_flight() const;
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // Messages are numbered in the order produce() took them: produced() is the next number,
  // reported_below() the first whose delivery report (success or failure) has not been
  // served, so every message numbered below it is done with. A checkpoint cut at
  // produced() == n is safe to write once reported_below() >= n.
  uint64_t produced() const;
  uint64_t reported_below() const;
  // The first delivery error since the last call, empty when none.
  std::string take_delivery_error();

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t*, void* opaque);
  friend struct ClientCallbacks;
  friend class Transactions;  // transactions.cpp: the transactional calls on rk_
  Status produce_impl(std::string_view topic, std::string_view key, std::string_view value,
                      const std::vector<Header>& headers, int32_t partition, int64_t timestamp_ms, bool block);
  // The handle of `topic`, made on first use and kept: producing by name made librdkafka
  // take its client-wide write lock and compare the name with every known topic's per message.
  // nullptr when librdkafka refuses the name (produce then reports why). Produce calls come from
  // one thread (this class's contract), so the list needs no lock.
  rd_kafka_topic_t* topic_handle(std::string_view topic);
  rd_kafka_t* rk_ = nullptr;
  std::vector<rd_kafka_topic_t*> warm_topics_;  // held so librdkafka keeps their metadata fresh
  std::vector<std::pair<std::string, rd_kafka_topic_t*>> topics_;  // produced to, by name (held, destroyed at the end)
  size_t last_topic_ = 0;  // index in topics_ of the last one used: nearly every message goes where the last went
  std::shared_ptr<BrokerHealth> health_;
  DeliveryFailureHandler on_failure_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::string first_error_;
  void reported(uint64_t number);
  mutable std::mutex numbers_mutex_;  // produce() and delivery reports may run on two threads
  uint64_t next_number_ = 0;
  uint64_t reported_below_ = 0;
  std::deque<bool> reported_;  // from reported_below_ on: whether each report came
};

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // next offset to read; -1 = the group's committed offset or auto.offset.reset
};

// Called on the processing thread inside poll(): on_assign may set each partition's
// starting offset (from RocksDB); on_revoke runs before the partitions go away, so the
// caller can checkpoint what it processed from them.
struct RebalanceHooks {
  std::function<void(std::vector<PartitionOffset>& assigned)> on_assign;
  std::function<void(const std::vector<PartitionOffset>& revoked)> on_revoke;
};

// How poll() orders messages across the partitions it holds. kArrival: as librdkafka
// delivers them. kTimestamp (decided by TimestampMerge): the message with the smallest
// (timestamp, partition, offset) among the partitions' next messages, as Kafka Streams
// picks records: the order then depends only on the logs, not on fetch timing, so a restart
// that resumes from a checkpoint replays exactly the order of the first run. To know the
// smallest it must see every partition's next message: a partition with nothing buffered
// holds the others back until its data arrives, unless it is at its end (high watermark
// known and reached) and has been idle for `max_idle_ms` (Kafka Streams'
// max.task.idle.ms; 0 = do not wait for producers), or it is not at its end and has
// delivered nothing for `max_block_ms` (a stuck fetch: the others go on, logged).
// The merge reads each partition from its own librdkafka queue (forwarding to the
// consumer's queue turned off at assignment), taking at most max_buffered messages of a
// partition when the merge holds none of it: what waits stays in librdkafka, whose fetcher
// stops per partition at queued.min.messages / queued.max.messages.kbytes. A partition with
// more than `max_buffered` messages held here (only messages that reached the consumer's
// own queue can) is paused until half of them are processed.
struct MergeOptions {
  enum class Order { kArrival, kTimestamp };
  Order order = Order::kTimestamp;
  int max_idle_ms = 0;
  int max_block_ms = 5000;
  size_t max_buffered = 2000;
};

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> Create(const Properties& properties,
                                                  RebalanceHooks hooks,
                                                  std::shared_ptr<BrokerHealth> health = nullptr);
  ~Consumer();  // leaves the group

  Status subscribe(const std::vector<std::string>& topics);
  void set_merge(MergeOptions options);
  // Fills `batch` with up to `max_messages` in the MergeOptions order; waits up to
  // `timeout_ms` for the first one. Transient broker errors are logged and skipped; a fatal
  // error is returned.
  Status poll(size_t max_messages, int timeout_ms, MessageBatch* batch);
  // Messages fetched and held back by the timestamp merge, across partitions.
  size_t buffered() const;
  // Commits offsets to Kafka asynchronously (for lag monitoring; RocksDB is the truth).
  Status commit_async(const std::vector<PartitionOffset>& offsets);
  // Commits and waits for the answer: before a partition is handed over, so that its next
  // holder reads the offset this member reached (partition_reader.cpp).
  Status commit_sync(const std::vector<PartitionOffset>& offsets);
  // The group's committed offsets of `parts` (offset -1 where none), waiting at most
  // `timeout_ms` for the coordinator.
  Status committed(std::vector<PartitionOffset>& parts, int timeout_ms);
  // Sum over assigned partitions of (high watermark - position), from cached watermarks.
  int64_t lag() const;
  // The same, or nullopt while it is not known: no partition held, or a held partition whose
  // high watermark has not been fetched yet (a backlog is then unknown, not 0).
  std::optional<int64_t> known_lag() const;
  std::vector<PartitionOffset> assignment() const;
  Status close();

 private:
  Consumer();
  friend struct ConsumerCallbacks;  // librdkafka's C callbacks, defined in kafka.cpp
  friend struct ClientCallbacks;
  friend class Transactions;  // the group metadata that offsets in a transaction carry
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer's queue: rebalances, errors, arrival-order messages
  RebalanceHooks hooks_;
  // Where each held partition was told to start: librdkafka reports no position until the
  // first message arrives, and lag() must not count the whole partition meanwhile.
  std::map<std::pair<std::string, int32_t>, int64_t> assigned_at_;
  MergeOptions merge_;
  // Per-partition queues of held-back messages (owned here, freed when released or dropped),
  // created on assignment.
  TimestampMerge timestamp_merge_;
  Status fetch(int wait_ms, size_t max_messages, MessageBatch* arrival);
  // Takes what the consumer's queue holds (a batch from librdkafka) and hands it on:
  // messages to `arrival` or the merge; errors logged, a fatal one returned.
  Status take(rd_kafka_message_t** messages, size_t n, MessageBatch* arrival);
  // The timestamp merge's own queue per partition (forwarding off): split at assignment,
  // given back at revoke; `took` counts the messages handed to the merge.
  void split_partition(const char* topic, int32_t partition);
  void join_partition(const char* topic, int32_t partition);
  Status refill(const std::string_view* topic, int32_t partition, size_t* took);
  void release(size_t max_messages, MessageBatch* batch);
  struct SplitQueues;  // the partition queues and the wake-up their arrivals signal (kafka.cpp)
  std::unique_ptr<SplitQueues> split_;
  std::vector<rd_kafka_message_t*> scratch_;  // one batch from librdkafka
  std::shared_ptr<BrokerHealth> health_;
  int last_logged_error_ = 0;  // consumer errors are logged when they change, not per retry
  int64_t last_logged_ms_ = 0;
  bool closed_ = false;
  bool close_finished_ = false;
  // How long close() serves the group's goodbye before leaving anyway: above
  // session.timeout.ms (librdkafka's own bound for a healthy close) and the LeaveGroup's
  // request timeout.
  int64_t close_timeout_ms_ = 30000;
};

// librdkafka's mock cluster: a real Kafka protocol endpoint in memory, for the demo and
// tests only (random port, 5 MiB retention per partition: docs/testing.md).
class EmbeddedBroker {
 public:
  static Result<std::unique_ptr<EmbeddedBroker>> Start(int brokers = 1);
  ~EmbeddedBroker();
  const std::string& bootstrap_servers() const { return bootstrap_; }
  Status create_topic(const std::string& name, int partitions);
  // Fault injection: take every broker down or bring them back.
  Status set_brokers_up(bool up);
  bool brokers_up() const { return up_; }
  // Fault injection: the next `errors.size()` Produce requests fail with these
  // rd_kafka_resp_err_t codes (e.g. RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE = 10).
  Status push_produce_errors(const std::vector<int>& errors);
  // The same for requests of another Kafka API (e.g. 24 AddPartitionsToTxn, 26 EndTxn).
  Status push_request_errors(int api_key, const std::vector<int>& errors);

 private:
  EmbeddedBroker() = default;
  rd_kafka_t* host_ = nullptr;  // the mock cluster lives inside this handle
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  int brokers_ = 0;
  bool up_ = true;
  std::string bootstrap_;
};

// Reads one partition from its beginning to its end (the high watermark when called) with a
// short-lived consumer of its own (assigned, in no group): a changelog's restore.
// `visit(message, end)` sees every message in offset order; `end` is the offset it reads up to.
Status ReadPartition(const Properties& properties, const std::string& topic, int32_t partition, int timeout_ms,
                     const std::function<void(const MessageView& message, int64_t end)>& visit);

// Defaults for a consumer's local queues, set before the caller's properties (which win).
// librdkafka's queued.min.messages (100,000) is meant per partition, but a subscription's
// partitions share one queue, which is what it counts: a consumer that fell 100,000
// messages behind over all its partitions stopped fetching for about a second. 1,000,000,
// with room for them in queued.max.messages.kbytes (256 MB), keeps it fetching. The
// timestamp merge reads a queue per partition, where the limits count one partition:
// librdkafka's 100,000 messages and 8 MB each.
const Properties& ConsumerQueueDefaults(MergeOptions::Order order = MergeOptions::Order::kArrival);

// Topic metadata through a short-lived client: partition count, or NotFound.
Result<int> PartitionCount(const Properties& properties, const std::string& topic, int timeout_ms);

}  // namespace streamlearn::kafka

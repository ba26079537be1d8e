#pragma once
// The decisions of the Consumer's timestamp merge, without librdkafka: which held-back message
// goes next across partitions, when to wait for a partition with nothing buffered, when to
// pause and resume a partition's fetching. Time and log ends come in through functions, so
// tests decide them; messages are opaque handles the caller owns and frees.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace streamlearn::kafka {

// A partition's log as the client last saw it: messages at offsets [low, high); -1 = unknown.
struct Watermarks {
  int64_t low = -1;
  int64_t high = -1;
};

// A partition the merge went on without although its log may hold more (a stuck fetch):
// reported once per episode, the order of what follows may then differ from a replay.
struct StuckPartition {
  std::string_view topic;
  int32_t partition = -1;
  int64_t idle_ms = 0;
  int64_t next_offset = -1;
  int64_t high_watermark = -1;
};

// Across the partitions it holds, releases the message with the smallest (timestamp,
// partition, offset) among the queue heads; equal keys (several topics) go by topic name.
// A message without a timestamp (-1) sorts before every timestamped one. A partition with
// nothing queued holds all others back (its next message may be the smallest) unless
//  - it is at the end of its log (next offset >= high watermark; with the start offset
//    unknown and nothing fetched yet: the log is empty) and has had nothing queued for
//    `max_idle_ms` (since its assignment or since its queue ran dry), or
//  - it is not at its end and has had nothing queued for `max_block_ms` (reported as stuck).
// A partition with more than `max_buffered` queued messages is to be paused, and resumed
// once at most half of that is left.
class TimestampMerge {
 public:
  using Handle = void*;
  using Clock = std::function<int64_t()>;  // steady milliseconds
  using WatermarkSource = std::function<Watermarks(const std::string& topic, int32_t partition)>;
  using StuckHandler = std::function<void(const StuckPartition&)>;

  struct Limits {
    int max_idle_ms = 0;
    int max_block_ms = 5000;
    size_t max_buffered = 2000;
  };

  enum class Push {
    kQueued,
    kQueuedPause,  // queued, and the partition is now above max_buffered: pause its fetching
    kNotAssigned,  // not a partition held (a stale fetch): not queued, the caller frees it
  };

  struct Step {
    enum class Kind {
      kMessage,  // `message` goes next
      kWait,     // `topic`/`partition` has nothing queued and may not be passed yet
      kEmpty,    // nothing queued that may go, nothing to wait for
    };
    Kind kind = Kind::kEmpty;
    Handle message = nullptr;
    bool resume = false;     // kMessage: its partition was paused and is now drained to half
    std::string_view topic;  // the message's partition, or the one waited for
    int32_t partition = -1;
  };

  TimestampMerge(Clock now_ms, WatermarkSource watermarks, StuckHandler on_stuck = nullptr);
  ~TimestampMerge();
  TimestampMerge(const TimestampMerge&) = delete;
  TimestampMerge& operator=(const TimestampMerge&) = delete;

  void set_limits(const Limits& limits) { limits_ = limits; }
  const Limits& limits() const { return limits_; }

  // A partition now held, to be read from `start_offset` (negative = unknown: the group's
  // committed offset or auto.offset.reset). It counts as empty from now. One already held starts over:
  // its queued messages are appended to `dropped`. Returns whether it was paused (the
  // caller resumes it: librdkafka keeps an application's pause across a re-assignment).
  bool assign(std::string_view topic, int32_t partition, int64_t start_offset, std::vector<Handle>* dropped);
  // A partition given up: its queued messages (never processed, so never in a checkpoint)
  // are appended to `dropped`. Returns whether it was paused, as for assign.
  bool revoke(std::string_view topic, int32_t partition, std::vector<Handle>* dropped);
  // Gives up every partition (the caller's shutdown). `dropped` is never null.
  void clear(std::vector<Handle>* dropped);

  // A fetched message, in its partition's offset order. Allocation-free once the partition's
  // queue has reached its largest size.
  Push push(std::string_view topic, int32_t partition, int64_t offset, int64_t timestamp_ms, Handle message);
  // The next message in merge order, or why there is none.
  Step next();

  size_t buffered() const;
  size_t buffered(std::string_view topic, int32_t partition) const;
  bool paused(std::string_view topic, int32_t partition) const;
  size_t partitions() const { return partitions_.size(); }

 private:
  struct Partition;
  Partition* find(std::string_view topic, int32_t partition) const;
  bool may_pass(Partition& p, int64_t now_ms);
  void rebuild_heap();
  void sift_down_top();

  Clock now_ms_;
  WatermarkSource watermarks_;
  StuckHandler on_stuck_;
  Limits limits_;
  std::vector<std::unique_ptr<Partition>> partitions_;  // sorted by (topic, partition)
  // A partition with messages queued and its head's key, copied so that comparing two
  // entries reads neither partition nor queue.
  struct HeapEntry {
    int64_t timestamp_ms = -1;
    int64_t offset = -1;
    int32_t partition = -1;
    Partition* p = nullptr;
  };
  static HeapEntry head_of(Partition* p);
  // The partitions with messages queued, a binary heap on their heads' merge order: next()
  // costs O(log partitions) instead of a scan comparing every head.
  std::vector<HeapEntry> heap_;
  size_t empty_ = 0;  // partitions with nothing queued (next() judges them in order)
  mutable Partition* last_found_ = nullptr;  // find()'s last answer; reset when one is given up
};

}  // namespace streamlearn::kafka

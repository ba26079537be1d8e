#include "streamlearn/kafka/timestamp_merge.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace streamlearn::kafka {
namespace {

struct Entry {
  TimestampMerge::Handle message = nullptr;
  int64_t timestamp_ms = -1;
  int64_t offset = -1;
};

// A FIFO over a power-of-two ring: unlike std::deque it allocates only when it grows past
// its largest size so far, never in steady state.
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const Entry& front() const { return slots_[head_]; }
  void push_back(const Entry& e) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = e;
    ++size_;
  }
  Entry pop_front() {
    Entry e = slots_[head_];
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return e;
  }
  void drain_to(std::vector<TimestampMerge::Handle>* out) {
    while (size_ > 0) out->push_back(pop_front().message);
    head_ = 0;
  }

 private:
  void grow() {
    std::vector<Entry> bigger(std::max<size_t>(16, 2 * slots_.size()));
    for (size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & (slots_.size() - 1)];
    slots_.swap(bigger);
    head_ = 0;
  }
  std::vector<Entry> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

bool Precedes(std::string_view a_topic, int32_t a_partition, std::string_view b_topic, int32_t b_partition) {
  return std::tie(a_topic, a_partition) < std::tie(b_topic, b_partition);
}

}  // namespace

struct TimestampMerge::Partition {
  std::string topic;
  int32_t partition = -1;
  Ring queue;
  int64_t next_offset = -1;    // after the last message queued; -1 = unknown yet
  int64_t empty_since_ms = 0;  // when `queue` last became empty
  bool paused = false;
  bool stuck_reported = false;  // once per episode
};

namespace {

// Whether `a`'s head goes before `b`'s: the smaller (timestamp, partition, offset), and of
// equal keys (several topics) the smaller topic, as a scan in (topic, partition) order that
// keeps the first of equal keys would pick.
template <typename E>
bool HeadBefore(const E& a, const E& b) {
  if (a.timestamp_ms != b.timestamp_ms) return a.timestamp_ms < b.timestamp_ms;
  if (a.partition != b.partition) return a.partition < b.partition;
  if (a.offset != b.offset) return a.offset < b.offset;
  return a.p->topic < b.p->topic;
}

// std::push_heap and friends keep the largest on top: "larger" here is later in merge order.
struct HeadAfter {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return HeadBefore(b, a);
  }
};

}  // namespace

TimestampMerge::TimestampMerge(Clock now_ms, WatermarkSource watermarks, StuckHandler on_stuck)
    : now_ms_(std::move(now_ms)), watermarks_(std::move(watermarks)), on_stuck_(std::move(on_stuck)) {}

TimestampMerge::~TimestampMerge() = default;

TimestampMerge::Partition* TimestampMerge::find(std::string_view topic, int32_t partition) const {
  // Messages come a partition queue at a time: the last partition found is asked for again
  // and again, and one comparison replaces the binary search's.
  if (last_found_ && last_found_->partition == partition && last_found_->topic == topic) return last_found_;
  auto it = std::lower_bound(partitions_.begin(), partitions_.end(), std::pair(topic, partition),
                             [](const std::unique_ptr<Partition>& p, const std::pair<std::string_view, int32_t>& key) {
                               return Precedes(p->topic, p->partition, key.first, key.second);
                             });
  if (it == partitions_.end() || (*it)->topic != topic || (*it)->partition != partition) return nullptr;
  last_found_ = it->get();
  return last_found_;
}

bool TimestampMerge::assign(std::string_view topic, int32_t partition, int64_t start_offset,
                            std::vector<Handle>* dropped) {
  const bool was_paused = revoke(topic, partition, dropped);
  auto p = std::make_unique<Partition>();
  p->topic = std::string(topic);
  p->partition = partition;
  p->next_offset = start_offset >= 0 ? start_offset : -1;
  p->empty_since_ms = now_ms_();
  auto at = std::lower_bound(partitions_.begin(), partitions_.end(), p,
                             [](const std::unique_ptr<Partition>& a, const std::unique_ptr<Partition>& b) {
                               return Precedes(a->topic, a->partition, b->topic, b->partition);
                             });
  partitions_.insert(at, std::move(p));
  ++empty_;
  return was_paused;
}

TimestampMerge::HeapEntry TimestampMerge::head_of(Partition* p) {
  const Entry& head = p->queue.front();
  return {head.timestamp_ms, head.offset, p->partition, p};
}

void TimestampMerge::rebuild_heap() {
  heap_.clear();
  empty_ = 0;
  for (const auto& p : partitions_) {
    if (p->queue.empty()) {
      ++empty_;
    } else {
      heap_.push_back(head_of(p.get()));
    }
  }
  std::make_heap(heap_.begin(), heap_.end(), HeadAfter{});
}

bool TimestampMerge::revoke(std::string_view topic, int32_t partition, std::vector<Handle>* dropped) {
  Partition* p = find(topic, partition);
  if (!p) return false;
  const bool was_paused = p->paused;
  p->queue.drain_to(dropped);
  last_found_ = nullptr;
  partitions_.erase(std::find_if(partitions_.begin(), partitions_.end(),
                                 [p](const std::unique_ptr<Partition>& q) { return q.get() == p; }));
  rebuild_heap();
  return was_paused;
}

void TimestampMerge::clear(std::vector<Handle>* dropped) {
  for (auto& p : partitions_) p->queue.drain_to(dropped);
  partitions_.clear();
  last_found_ = nullptr;
  heap_.clear();
  empty_ = 0;
}

TimestampMerge::Push TimestampMerge::push(std::string_view topic, int32_t partition, int64_t offset,
                                          int64_t timestamp_ms, Handle message) {
  Partition* p = find(topic, partition);
  if (!p) return Push::kNotAssigned;
  p->next_offset = offset + 1;
  const bool was_empty = p->queue.empty();
  p->queue.push_back({message, timestamp_ms, offset});
  if (was_empty) {
    --empty_;
    heap_.push_back(head_of(p));
    std::push_heap(heap_.begin(), heap_.end(), HeadAfter{});
  }
  if (!p->paused && p->queue.size() > limits_.max_buffered) {
    p->paused = true;
    return Push::kQueuedPause;
  }
  return Push::kQueued;
}

// May the merge go on without this empty partition's next message?
bool TimestampMerge::may_pass(Partition& p, int64_t now_ms) {
  const int64_t idle = now_ms - p.empty_since_ms;
  const Watermarks marks = watermarks_(p.topic, p.partition);
  const bool known = marks.high >= 0;
  // At the end of its log: nothing else can come before what the others hold now, except
  // from a producer that has not written yet: max_idle_ms waits for it, however long that is
  // (max_block_ms is for a fetch that is late, not for a log that has no more).
  const bool at_end = known && (p.next_offset >= 0 ? p.next_offset >= marks.high : marks.low == marks.high);
  if (at_end) return idle >= limits_.max_idle_ms;
  if (idle < limits_.max_block_ms) return false;
  if (!p.stuck_reported) {
    p.stuck_reported = true;
    if (on_stuck_) on_stuck_({p.topic, p.partition, idle, p.next_offset, marks.high});
  }
  return true;
}

TimestampMerge::Step TimestampMerge::next() {
  // The clock is read at most once per step, and only when an empty partition is judged or
  // a queue runs dry.
  int64_t now = 0;
  bool now_read = false;
  auto clock = [&] {
    if (!now_read) {
      now = now_ms_();
      now_read = true;
    }
    return now;
  };
  // An empty partition that may not be passed holds everything back; they are judged in
  // (topic, partition) order, the first that holds is the one waited for.
  if (empty_ > 0) {
    for (auto& p : partitions_) {
      if (!p->queue.empty() || may_pass(*p, clock())) continue;
      Step wait;
      wait.kind = Step::Kind::kWait;
      wait.topic = p->topic;
      wait.partition = p->partition;
      return wait;
    }
  }
  Step step;
  if (heap_.empty()) return step;
  Partition* best = heap_.front().p;
  step.kind = Step::Kind::kMessage;
  step.message = best->queue.pop_front().message;
  step.topic = best->topic;
  step.partition = best->partition;
  if (best->queue.empty()) {
    // Off the heap: the top swaps with the last and sinks (the order among the others holds).
    std::swap(heap_.front(), heap_.back());
    heap_.pop_back();
    sift_down_top();
    ++empty_;
  } else {
    // At the top, whatever its next head, it can only sink: one pass instead of a pop and a
    // push, which on partitions interleaved message by message were most of the merge's time.
    heap_.front() = head_of(best);
    sift_down_top();
  }
  if (best->queue.empty()) {
    best->empty_since_ms = clock();
    best->stuck_reported = false;
  }
  if (best->paused && best->queue.size() <= limits_.max_buffered / 2) {
    best->paused = false;
    step.resume = true;
  }
  return step;
}

// Restores the heap after its top entry changed (its head, or the former last entry moved
// up): moves it down while a child goes before it.
void TimestampMerge::sift_down_top() {
  const size_t n = heap_.size();
  if (n < 2) return;
  const HeapEntry moving = heap_[0];
  size_t at = 0;
  for (;;) {
    size_t child = 2 * at + 1;
    if (child >= n) break;
    if (child + 1 < n && HeadBefore(heap_[child + 1], heap_[child])) ++child;
    if (!HeadBefore(heap_[child], moving)) break;
    heap_[at] = heap_[child];
    at = child;
  }
  heap_[at] = moving;
}

size_t TimestampMerge::buffered() const {
  size_t n = 0;
  for (const auto& p : partitions_) n += p->queue.size();
  return n;
}

size_t TimestampMerge::buffered(std::string_view topic, int32_t partition) const {
  const Partition* p = find(topic, partition);
  return p ? p->queue.size() : 0;
}

bool TimestampMerge::paused(std::string_view topic, int32_t partition) const {
  const Partition* p = find(topic, partition);
  return p && p->paused;
}

}  // namespace streamlearn::kafka

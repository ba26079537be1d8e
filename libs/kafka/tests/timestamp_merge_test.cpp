// The timestamp merge's decisions, with time and log ends set by the test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "streamlearn/kafka/timestamp_merge.hpp"

using namespace streamlearn::kafka;

namespace {

struct Message {
  std::string topic;
  int32_t partition;
  int64_t offset;
  int64_t timestamp_ms;
};

bool operator==(const Message& a, const Message& b) {
  return std::tie(a.topic, a.partition, a.offset) == std::tie(b.topic, b.partition, b.offset);
}

std::ostream& operator<<(std::ostream& os, const Message& m) {
  return os << m.topic << "-" << m.partition << "@" << m.offset << " ts " << m.timestamp_ms;
}

// A consumer around the merge: owns the messages, keeps the watermarks a client would cache,
// and a clock the test moves.
struct Harness {
  int64_t now_ms = 1000;
  std::map<std::pair<std::string, int32_t>, Watermarks> marks;
  std::vector<StuckPartition> stuck;
  std::vector<std::string> stuck_topics;  // StuckPartition's topic views the merge's copy
  std::deque<Message> store;              // stable addresses: the handles point here
  std::map<std::pair<std::string, int32_t>, int64_t> next_offset;
  TimestampMerge merge{[this] { return now_ms; },
                       [this](const std::string& topic, int32_t partition) {
                         auto it = marks.find({topic, partition});
                         return it == marks.end() ? Watermarks{} : it->second;
                       },
                       [this](const StuckPartition& s) {
                         stuck.push_back(s);
                         stuck_topics.emplace_back(s.topic);
                       }};

  explicit Harness(TimestampMerge::Limits limits = {}) { merge.set_limits(limits); }

  std::vector<TimestampMerge::Handle> assign(int32_t partition, int64_t start = 0, const std::string& topic = "t") {
    std::vector<TimestampMerge::Handle> dropped;
    merge.assign(topic, partition, start, &dropped);
    if (start >= 0) next_offset[{topic, partition}] = start;
    return dropped;
  }
  // The partition's log holds [low, high).
  void set_log(int32_t partition, int64_t low, int64_t high, const std::string& topic = "t") {
    marks[{topic, partition}] = {low, high};
  }
  // Fetches the partition's next message with this timestamp.
  TimestampMerge::Push fetch(int32_t partition, int64_t timestamp_ms, const std::string& topic = "t") {
    int64_t& offset = next_offset[{topic, partition}];
    store.push_back({topic, partition, offset++, timestamp_ms});
    return merge.push(topic, partition, store.back().offset, timestamp_ms, &store.back());
  }
  static const Message& Of(const TimestampMerge::Step& step) { return *static_cast<const Message*>(step.message); }
  // Releases until the merge waits or holds nothing.
  std::vector<Message> drain(TimestampMerge::Step* last = nullptr) {
    std::vector<Message> out;
    for (;;) {
      TimestampMerge::Step step = merge.next();
      if (step.kind != TimestampMerge::Step::Kind::kMessage) {
        if (last) *last = step;
        return out;
      }
      out.push_back(Of(step));
    }
  }
};

std::vector<std::pair<int32_t, int64_t>> PartitionOffsets(const std::vector<Message>& messages) {
  std::vector<std::pair<int32_t, int64_t>> out;
  for (const auto& m : messages) out.emplace_back(m.partition, m.offset);
  return out;
}

using Kind = TimestampMerge::Step::Kind;
using Pairs = std::vector<std::pair<int32_t, int64_t>>;

}  // namespace

TEST_CASE("the merge releases the smallest (timestamp, partition, offset) among the queue heads",
          "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1);
  h.assign(2);
  // Arrival: partition 2 first, then 1, then 0.
  for (int64_t ts : {5, 9}) h.fetch(2, ts);
  for (int64_t ts : {3, 5, 5}) h.fetch(1, ts);
  for (int64_t ts : {5, 7}) h.fetch(0, ts);
  TimestampMerge::Step last;
  // ts 3 first, then the 5s by partition and offset, until partition 1 runs dry: its next
  // message may be older than partition 2's 5, so the merge waits for it.
  CHECK(PartitionOffsets(h.drain(&last)) == Pairs{{1, 0}, {0, 0}, {1, 1}, {1, 2}});
  CHECK(last.kind == Kind::kWait);
  CHECK(last.partition == 1);
  h.fetch(1, 8);
  CHECK(PartitionOffsets(h.drain(&last)) == Pairs{{2, 0}, {0, 1}});
  CHECK(last.partition == 0);
}

TEST_CASE("ties at one timestamp go to the lower partition, then the lower offset", "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1);
  h.assign(2);
  for (int i = 0; i < 3; ++i) {
    h.fetch(2, 100);
    h.fetch(1, 100);
    h.fetch(0, 100);
  }
  for (int32_t p : {0, 1, 2}) h.fetch(p, 200);  // each partition's next is known to be later
  CHECK(PartitionOffsets(h.drain()) ==
        Pairs{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2}, {0, 3}});
}

TEST_CASE("equal keys in two topics go by topic name", "[merge]") {
  Harness h;
  h.assign(0, 0, "labels");
  h.assign(0, 0, "events");
  h.fetch(0, 50, "labels");
  h.fetch(0, 50, "events");
  h.fetch(0, 60, "labels");
  h.fetch(0, 60, "events");
  const auto out = h.drain();
  REQUIRE(out.size() == 3);  // then events' queue is dry
  CHECK(out[0].topic == "events");
  CHECK(out[1].topic == "labels");
  CHECK(out[1].offset == 0);
  CHECK(out[2].topic == "events");
}

TEST_CASE("a dry partition at the end of its log does not hold the others back with max_idle_ms 0",
          "[merge]") {
  Harness h;  // max_idle_ms 0
  h.assign(0);
  h.assign(1);
  h.set_log(1, 0, 0);  // empty log, started at 0: at its end
  for (int64_t ts : {10, 20, 30}) h.fetch(0, ts);
  h.set_log(0, 0, 3);
  TimestampMerge::Step last;
  CHECK(h.drain(&last).size() == 3);
  CHECK(last.kind == Kind::kEmpty);  // both at their end: nothing to wait for
  CHECK(h.stuck.empty());
}

TEST_CASE("a dry partition at its end holds the others back for max_idle_ms, then is passed", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_idle_ms = 200;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(1, 0, 0);
  h.fetch(0, 10);
  h.fetch(0, 20);
  TimestampMerge::Step last;
  CHECK(h.drain(&last).empty());
  CHECK(last.kind == Kind::kWait);
  CHECK(last.partition == 1);
  h.now_ms += 199;
  CHECK(h.drain().empty());
  h.now_ms += 1;  // empty since its assignment 200 ms ago
  CHECK(PartitionOffsets(h.drain(&last)) == Pairs{{0, 0}, {0, 1}});
  CHECK(h.stuck.empty());  // at its end: an idle pass, not a stuck one
  // Partition 0 ran dry just now and is not at its end (high watermark unknown): it is
  // waited for again.
  CHECK(last.kind == Kind::kWait);
  CHECK(last.partition == 0);
}

TEST_CASE("a dry partition that is not at its end holds the others back up to max_block_ms, then "
          "is passed and reported once", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_idle_ms = 0;
  limits.max_block_ms = 1000;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(0, 0, 100);
  h.set_log(1, 0, 50);  // data in the log, none fetched yet: in flight
  for (int64_t ts : {10, 20, 30}) h.fetch(0, ts);
  TimestampMerge::Step last;
  CHECK(h.drain(&last).empty());
  CHECK(last.kind == Kind::kWait);
  CHECK(last.partition == 1);
  h.now_ms += 999;
  CHECK(h.drain().empty());
  h.now_ms += 1;
  CHECK(h.drain().size() == 3);
  REQUIRE(h.stuck.size() == 1);
  CHECK(h.stuck_topics[0] == "t");
  CHECK(h.stuck[0].partition == 1);
  CHECK(h.stuck[0].idle_ms == 1000);
  CHECK(h.stuck[0].next_offset == 0);
  CHECK(h.stuck[0].high_watermark == 50);
  // Still stuck: passed again without a second report.
  h.fetch(0, 40);
  h.now_ms += 5;
  CHECK(h.drain().size() == 1);
  CHECK(h.stuck.size() == 1);
  // Its data arrives and is processed: the next dry spell is a new episode.
  h.fetch(1, 5);
  h.fetch(0, 50);
  CHECK(PartitionOffsets(h.drain()) == Pairs{{1, 0}});  // partition 1 dry again: wait
  h.now_ms += 1000;
  CHECK(PartitionOffsets(h.drain()) == Pairs{{0, 4}});
  CHECK(h.stuck.size() == 2);
}

TEST_CASE("a partition at its end is waited for the whole max_idle_ms, also beyond max_block_ms",
          "[merge]") {
  // max_block_ms is for a fetch that delivers nothing although the log goes on; a partition at
  // its end is waited for as long as kafka.max_idle_ms says (up to 10 min in the config).
  TimestampMerge::Limits limits;
  limits.max_idle_ms = 8000;
  limits.max_block_ms = 5000;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(1, 0, 0);
  h.fetch(0, 10);
  h.now_ms += 7999;
  TimestampMerge::Step last;
  CHECK(h.drain(&last).empty());
  CHECK(last.partition == 1);
  CHECK(h.stuck.empty());
  h.now_ms += 1;
  CHECK(h.drain().size() == 1);
  CHECK(h.stuck.empty());
}

TEST_CASE("a lagging partition's older messages that arrive within the wait go first", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_idle_ms = 500;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(0, 0, 3);
  h.set_log(1, 0, 0);  // at its end as far as the client knows
  for (int64_t ts : {100, 200, 300}) h.fetch(0, ts);
  CHECK(h.drain().empty());
  h.now_ms += 300;
  // A producer writes partition 1 with older timestamps; the fetch brings them in time.
  h.set_log(1, 0, 2);
  h.fetch(1, 50);
  h.fetch(1, 150);
  const auto out = h.drain();
  CHECK(PartitionOffsets(out) == Pairs{{1, 0}, {0, 0}, {1, 1}});  // then 1 is dry again
  // Idle since it ran dry, not since its assignment: max_idle_ms again from now.
  h.now_ms += 499;
  CHECK(h.drain().empty());
  h.now_ms += 1;
  CHECK(PartitionOffsets(h.drain()) == Pairs{{0, 1}, {0, 2}});
}

TEST_CASE("max_idle_ms 0 passes a partition at its end at once, even one that just ran dry", "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1);
  h.set_log(0, 0, 1);
  h.set_log(1, 0, 2);
  h.fetch(0, 10);
  h.fetch(1, 20);
  h.fetch(1, 30);
  // Partition 0 runs dry at its end after its only message: partition 1 goes on without a wait.
  CHECK(PartitionOffsets(h.drain()) == Pairs{{0, 0}, {1, 0}, {1, 1}});
}

TEST_CASE("before its first message a partition is at its end only when its log is empty", "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1, -1);  // start unknown: the group's committed offset or auto.offset.reset
  h.fetch(0, 10);
  h.set_log(0, 0, 1);
  TimestampMerge::Step last;
  CHECK(h.drain(&last).empty());  // watermarks of partition 1 unknown yet
  CHECK(last.partition == 1);
  h.set_log(1, 5, 9);  // messages 5..8 to come, from wherever the start is
  CHECK(h.drain(&last).empty());
  h.set_log(1, 9, 9);  // empty log
  CHECK(h.drain(&last).size() == 1);
  CHECK(last.kind == Kind::kEmpty);
  // A known start offset: at its end when it reached the high watermark.
  Harness g;
  g.assign(0);
  g.assign(1, 7);
  g.fetch(0, 10);
  g.set_log(0, 0, 1);
  g.set_log(1, 0, 8);
  CHECK(g.drain().empty());
  g.set_log(1, 0, 7);
  CHECK(g.drain().size() == 1);
}

TEST_CASE("a partition above max_buffered is paused once and resumed when drained to half", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_buffered = 4;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(1, 0, 0);
  for (int i = 0; i < 4; ++i) CHECK(h.fetch(0, 10 + i) == TimestampMerge::Push::kQueued);
  CHECK_FALSE(h.merge.paused("t", 0));
  CHECK(h.fetch(0, 14) == TimestampMerge::Push::kQueuedPause);  // 5 > 4
  CHECK(h.merge.paused("t", 0));
  CHECK(h.fetch(0, 15) == TimestampMerge::Push::kQueued);  // already paused: prefetched ones still come
  CHECK(h.merge.buffered() == 6);
  std::vector<bool> resumes;
  for (int i = 0; i < 6; ++i) {
    auto step = h.merge.next();
    REQUIRE(step.kind == Kind::kMessage);
    resumes.push_back(step.resume);
  }
  // 6 -> 5, 4, 3: still above 2; -> 2: resume, once.
  CHECK(resumes == std::vector<bool>{false, false, false, true, false, false});
  CHECK_FALSE(h.merge.paused("t", 0));
  CHECK(h.merge.buffered() == 0);
}

TEST_CASE("revoking a partition drops its queued messages and unblocks the others", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_buffered = 2;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.assign(2);
  h.set_log(1, 0, 100);
  h.fetch(0, 10);
  h.fetch(0, 30);
  h.fetch(2, 5);
  h.fetch(2, 6);
  CHECK(h.fetch(2, 7) == TimestampMerge::Push::kQueuedPause);
  TimestampMerge::Step last;
  CHECK(h.drain(&last).empty());  // partition 1 in flight
  CHECK(last.partition == 1);
  std::vector<TimestampMerge::Handle> dropped;
  CHECK_FALSE(h.merge.revoke("t", 1, &dropped));
  CHECK(dropped.empty());
  // The paused one: its three messages come back to the caller, who must resume it.
  CHECK(h.merge.revoke("t", 2, &dropped));
  REQUIRE(dropped.size() == 3);
  CHECK(static_cast<Message*>(dropped[0])->offset == 0);
  CHECK(static_cast<Message*>(dropped[2])->offset == 2);
  CHECK(h.merge.partitions() == 1);
  CHECK(h.merge.buffered() == 2);
  // A late fetch of a revoked partition is refused: the caller frees it.
  CHECK(h.fetch(1, 1) == TimestampMerge::Push::kNotAssigned);
  CHECK(PartitionOffsets(h.drain()) == Pairs{{0, 0}, {0, 1}});
}

TEST_CASE("a partition given up is not found again: not the one pushed to last, none after clear", "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1);
  h.set_log(0, 0, 1);
  h.set_log(1, 0, 100);
  CHECK(h.fetch(1, 5) == TimestampMerge::Push::kQueued);  // partition 1 is the last one found
  std::vector<TimestampMerge::Handle> dropped;
  h.merge.revoke("t", 1, &dropped);
  CHECK(dropped.size() == 1);
  CHECK(h.fetch(1, 6) == TimestampMerge::Push::kNotAssigned);
  CHECK(h.merge.buffered("t", 1) == 0);
  CHECK(h.fetch(0, 7) == TimestampMerge::Push::kQueued);
  h.merge.clear(&dropped);
  CHECK(h.fetch(0, 8) == TimestampMerge::Push::kNotAssigned);
  // Assigned again: a partition of its own, found from its first message.
  h.assign(1, 1);
  CHECK(h.fetch(1, 9) == TimestampMerge::Push::kQueued);
  CHECK(h.merge.buffered("t", 1) == 1);
  CHECK(PartitionOffsets(h.drain()) == Pairs{{1, 1}});
}

TEST_CASE("a re-assigned partition starts over: empty, its new start offset, idle from now", "[merge]") {
  TimestampMerge::Limits limits;
  limits.max_idle_ms = 100;
  Harness h(limits);
  h.assign(0);
  h.assign(1);
  h.set_log(0, 0, 10);
  h.set_log(1, 0, 10);
  for (int i = 0; i < 3; ++i) h.fetch(1, 10 + i);
  std::vector<TimestampMerge::Handle> none;
  CHECK_FALSE(h.merge.revoke("t", 0, &none));
  CHECK(none.empty());
  h.now_ms += 1000;
  // Partition 0 comes back at offset 10 (its end): idle counts from the assignment.
  h.assign(0, 10);
  CHECK(h.drain().empty());
  h.now_ms += 100;
  CHECK(h.drain().size() == 3);
  // Assigned again while held: its queue is handed back, and the caller learns that it was
  // paused (librdkafka would keep it paused).
  h.merge.set_limits({100, 5000, 1});
  h.fetch(0, 50);
  CHECK(h.fetch(0, 60) == TimestampMerge::Push::kQueuedPause);
  std::vector<TimestampMerge::Handle> dropped;
  CHECK(h.merge.assign("t", 0, 12, &dropped));
  CHECK(dropped.size() == 2);
  CHECK(h.merge.buffered("t", 0) == 0);
  CHECK_FALSE(h.merge.paused("t", 0));
  CHECK(h.merge.partitions() == 2);
}

TEST_CASE("a message without a timestamp (-1) goes before every timestamped one", "[merge]") {
  Harness h;
  h.assign(0);
  h.assign(1);
  h.fetch(0, 10);
  h.fetch(0, 20);
  h.fetch(1, -1);
  h.fetch(1, 15);
  CHECK(PartitionOffsets(h.drain()) == Pairs{{1, 0}, {0, 0}, {1, 1}});
}

TEST_CASE("with nothing assigned there is nothing to wait for", "[merge]") {
  Harness h;
  CHECK(h.merge.next().kind == Kind::kEmpty);
  CHECK(h.fetch(0, 1) == TimestampMerge::Push::kNotAssigned);
  h.assign(0);
  h.fetch(0, 1);
  std::vector<TimestampMerge::Handle> dropped;
  h.merge.clear(&dropped);
  CHECK(dropped.size() == 1);
  CHECK(h.merge.partitions() == 0);
  CHECK(h.merge.next().kind == Kind::kEmpty);
}

TEST_CASE("random arrivals of live partitions come out sorted by (timestamp, partition, offset)",
          "[merge][property]") {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 300; ++round) {
    const int partitions = 1 + static_cast<int>(rng() % 6);
    TimestampMerge::Limits limits;
    limits.max_idle_ms = static_cast<int>(rng() % 3) * 100;
    limits.max_block_ms = 1 << 30;  // no stuck passes
    limits.max_buffered = 1 + rng() % 20;
    Harness h(limits);
    // Per partition non-decreasing timestamps, with ties within and across partitions.
    std::vector<std::vector<int64_t>> logs(partitions);
    std::vector<Message> all;
    for (int p = 0; p < partitions; ++p) {
      h.assign(p);
      int64_t ts = static_cast<int64_t>(rng() % 5) - 1;  // -1 now and then: no timestamp
      const int n = 1 + static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        logs[p].push_back(ts);
        all.push_back({"t", p, i, ts});
        ts += static_cast<int64_t>(rng() % 3);
      }
      h.set_log(p, 0, n);  // the log is written; the fetches are what is in flight
    }
    std::vector<size_t> fetched(partitions, 0);
    std::vector<Message> out;
    size_t left = all.size();
    while (left > 0) {
      const int p = static_cast<int>(rng() % partitions);
      const size_t run = 1 + rng() % 8;
      for (size_t i = 0; i < run && fetched[p] < logs[p].size(); ++i, --left) h.fetch(p, logs[p][fetched[p]++]);
      if (rng() % 3 == 0) h.now_ms += static_cast<int64_t>(rng() % 300);
      // The consumer releases some now and then, at most a batch.
      const size_t batch = rng() % 10;
      for (size_t i = 0; i < batch; ++i) {
        auto step = h.merge.next();
        if (step.kind != Kind::kMessage) break;
        out.push_back(Harness::Of(step));
      }
    }
    // Every partition is at its end now: all may go, each after max_idle_ms once it runs dry.
    for (int wait = 0; wait <= partitions; ++wait) {
      TimestampMerge::Step last;
      for (const auto& m : h.drain(&last)) out.push_back(m);
      if (last.kind == Kind::kEmpty) break;
      h.now_ms += limits.max_idle_ms;
    }
    std::sort(all.begin(), all.end(), [](const Message& a, const Message& b) {
      return std::tie(a.timestamp_ms, a.partition, a.offset) < std::tie(b.timestamp_ms, b.partition, b.offset);
    });
    INFO("round " << round << ", " << partitions << " partitions");
    REQUIRE(out == all);
    CHECK(h.stuck.empty());
  }
}

TEST_CASE("random arrivals over two topics with equal keys come out by (timestamp, partition, offset, topic)",
          "[merge][property]") {
  std::mt19937 rng(7);
  const std::vector<std::string> topics = {"b", "a"};  // assigned out of name order
  for (int round = 0; round < 200; ++round) {
    const int partitions = 1 + static_cast<int>(rng() % 4);
    TimestampMerge::Limits limits;
    limits.max_block_ms = 1 << 30;
    Harness h(limits);
    std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> logs;
    std::vector<Message> all;
    for (const std::string& topic : topics) {
      for (int p = 0; p < partitions; ++p) {
        h.assign(p, 0, topic);
        // The same timestamps in both topics: every key is tied across them.
        std::mt19937 same(static_cast<unsigned>(round * 16 + p));
        const int n = 1 + static_cast<int>(same() % 30);
        int64_t ts = 0;
        for (int i = 0; i < n; ++i) {
          logs[{topic, p}].push_back(ts);
          all.push_back({topic, p, i, ts});
          ts += static_cast<int64_t>(same() % 3);
        }
        h.set_log(p, 0, n, topic);
      }
    }
    std::map<std::pair<std::string, int32_t>, size_t> fetched;
    std::vector<Message> out;
    size_t left = all.size();
    while (left > 0) {
      const std::string& topic = topics[rng() % topics.size()];
      const int p = static_cast<int>(rng() % partitions);
      const auto& log = logs[{topic, p}];
      size_t& at = fetched[{topic, p}];
      for (size_t i = 0, run = 1 + rng() % 6; i < run && at < log.size(); ++i, --left) h.fetch(p, log[at++], topic);
      for (size_t i = 0, batch = rng() % 8; i < batch; ++i) {
        auto step = h.merge.next();
        if (step.kind != Kind::kMessage) break;
        out.push_back(Harness::Of(step));
      }
    }
    for (const auto& m : h.drain()) out.push_back(m);
    std::sort(all.begin(), all.end(), [](const Message& a, const Message& b) {
      return std::tie(a.timestamp_ms, a.partition, a.offset, a.topic) <
             std::tie(b.timestamp_ms, b.partition, b.offset, b.topic);
    });
    INFO("round " << round << ", " << partitions << " partitions per topic");
    REQUIRE(out == all);
  }
}

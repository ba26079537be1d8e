#pragma once
// Replays never publish a second answer (docs/architecture.md, "Scaling out"). A prediction
// of an event from events partition p goes to predictions partition p (same partition
// count required; the key stays the entity), and each checkpoint records, beside partition
// p's events offset, the offset of predictions partition p that follows the predictions of
// the events it covers. When p is assigned (local resume or changelog restore), predictions
// partition p is read from that offset to its end: the predictions its previous holder, or
// this instance before a kill -9, already published after the checkpoint, in order. While
// the replay goes over those events again, an event that is the next one in that list is
// processed as usual (state, learning, label join) but its prediction is not produced again;
// the first event that is not (another id: something else wrote there) ends the list, so
// nothing is ever skipped that was not published. The list drains and the replay goes on as
// normal processing.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace prometheus {
class Counter;
}

namespace streamlearn::pipeline {

class Processor;
class PipelineProbe;

// The bytes a prediction on the predictions topic starts with, up to the end of its id
// (`{"id":"e-17"`): compared with the same prefix of a replayed event's prediction, so that
// no JSON is parsed and escapes match by construction. Empty when `payload` does not start
// like a prediction.
std::string_view PredictionIdPrefix(std::string_view payload);
// The prefix the encoder writes for `id`.
void AppendPredictionIdPrefix(std::string& out, std::string_view id);

// Per partition: which predictions a replay must not produce again and the predictions
// partition's next offset as of the events processed. Pure bookkeeping, no Kafka.
class ReplayLedger {
 public:
  struct Published {
    int64_t offset = -1;
    std::string key;        // the entity
    std::string id_prefix;  // PredictionIdPrefix of the payload
  };
  enum class Verdict {
    kProduce,   // not a replay of a published prediction (or no list)
    kSkip,      // the next one of the list: already published
    kSkipLast,  // the same, and the list is now drained
    kMismatch,  // a list was waiting for another prediction: the list ends, this one is produced
  };
  struct Summary {
    int32_t partition = -1;
    size_t listed = 0;
    uint64_t skipped = 0;
  };

  // Partition p is held from now on. `from`: the offset its checkpoint recorded (< 0: not
  // known, nothing is skipped); `published`: what predictions partition p holds from `from`
  // to `end`, its end when read.
  void begin(int32_t partition, int64_t from, std::vector<Published> published, int64_t end);
  // Held, but the predictions partition could not be read: nothing is skipped and the next
  // offset is unknown (recorded as -1, so a later replay skips nothing either).
  void begin_unknown(int32_t partition);
  // Called for each prediction about to be produced, in processing order.
  Verdict check(int32_t partition, std::string_view key, std::string_view id);
  // A prediction of the partition was produced (after kProduce or kMismatch).
  void produced(int32_t partition);
  // The partition is no longer held; its summary when a list was still waiting.
  std::optional<Summary> end(int32_t partition);
  // The predictions partition's next offset for the events of p processed so far: -1 when
  // not known; nullopt when p is not held.
  std::optional<int64_t> next_offset(int32_t partition) const;
  Summary summary(int32_t partition) const;
  // Whether any list is waiting: when none, check() is one branch.
  bool any_waiting() const { return waiting_ > 0; }
  std::vector<int32_t> held() const;
  // After kMismatch: the id prefix the list waited for.
  const std::string& mismatch_expected() const { return mismatch_expected_; }

 private:
  struct Part {
    bool known = false;
    std::deque<Published> waiting;  // the list, front first
    size_t listed = 0;
    uint64_t skipped = 0;
    int64_t cursor = -1;  // while a list waits: the offset after the last prediction skipped
    int64_t end = -1;     // where this holder's own predictions start
    uint64_t produced = 0;
  };
  std::map<int32_t, Part> parts_;
  // The part produced() found last (a map node: stable until erased, which forgets it):
  // predictions come a partition at a time, so most produced() calls look nothing up.
  Part* last_part_ = nullptr;
  int32_t last_partition_ = -1;
  size_t waiting_ = 0;
  std::string scratch_;
  std::string mismatch_expected_;
};

// The ledger with Kafka around it: the partition rule, reading a predictions partition on
// assignment, recording the offsets at checkpoints, the count and the log lines.
// The consumer properties of the read-back: `reader` with isolation.level read_committed,
// whatever kafka.properties says. With kafka.guarantee exactly_once a prediction is published
// when its transaction commits; one of a transaction that aborted, or that its writer never
// committed (kill -9), was never published: a read_committed read does not list it, so the
// replay produces it (within its own transaction). The read ends at the partition's last
// stable offset, so an open transaction of a dead writer does not hold it up. Without
// transactions read_committed reads everything.
kafka::Properties ReplayReaderProperties(kafka::Properties reader);

class ReplayDedup {
 public:
  // nullptr when off: scale.replay_dedup false, or the predictions topic's partitions do not
  // match the events topic's (one log line says why; predictions then go by the key's hash).
  static Result<std::unique_ptr<ReplayDedup>> Create(const PipelineConfig& config, const kafka::Properties& client,
                                                     kafka::Properties reader, PipelineProbe* probe);

  // The predictions partition for an event of events partition p, and whether to produce it.
  bool skip(int32_t partition, std::string_view entity, std::string_view id);
  void produced(int32_t partition) { ledger_.produced(partition); }
  // Before a checkpoint (and its changelog records): the predictions offsets go beside the
  // events offsets, into the processor's offsets that the checkpoint and the markers store.
  void record(Processor& processor) const;
  // After the assignment's offsets are decided (and restored): reads the predictions each
  // assigned partition's previous holder published after its checkpoint.
  Status on_assign(const std::vector<kafka::PartitionOffset>& parts, const Processor& processor,
                   const std::function<void(const std::string& waiting_for)>& progress);
  void on_revoke(const std::vector<kafka::PartitionOffset>& revoked);

  const ReplayLedger& ledger() const { return ledger_; }

 private:
  ReplayDedup(const PipelineConfig& config, kafka::Properties reader, PipelineProbe* probe);
  void finished(const ReplayLedger::Summary& s, std::string_view how) const;

  const PipelineConfig& config_;
  kafka::Properties reader_;
  ReplayLedger ledger_;
  prometheus::Counter* skipped_ = nullptr;
};

}  // namespace streamlearn::pipeline

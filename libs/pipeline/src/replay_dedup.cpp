#include "replay_dedup.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/kafka/range_reader.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/processor.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kIdField = R"({"id":)";
// Reading runs inside the rebalance callback: bounded well below max.poll.interval.ms.
constexpr int kReadTimeoutMs = 60000;

}  // namespace

std::string_view PredictionIdPrefix(std::string_view payload) {
  if (!payload.starts_with(kIdField) || payload.size() <= kIdField.size() || payload[kIdField.size()] != '"') {
    return {};
  }
  for (size_t i = kIdField.size() + 1; i < payload.size(); ++i) {
    if (payload[i] == '\\') {
      ++i;  // the escaped character, whatever it is
    } else if (payload[i] == '"') {
      return payload.substr(0, i + 1);
    }
  }
  return {};
}

void AppendPredictionIdPrefix(std::string& out, std::string_view id) {
  out.append(kIdField);
  AppendJsonString(out, id);
}

void ReplayLedger::begin(int32_t partition, int64_t from, std::vector<Published> published, int64_t end) {
  (void)this->end(partition);
  Part& part = parts_[partition];
  part.known = true;
  part.cursor = from;
  part.end = end;
  if (from >= 0 && !published.empty()) {
    part.listed = published.size();
    part.waiting.assign(std::make_move_iterator(published.begin()), std::make_move_iterator(published.end()));
    waiting_++;
  }
}

void ReplayLedger::begin_unknown(int32_t partition) {
  (void)this->end(partition);
  parts_[partition].known = false;
}

ReplayLedger::Verdict ReplayLedger::check(int32_t partition, std::string_view key, std::string_view id) {
  if (waiting_ == 0) return Verdict::kProduce;
  auto it = parts_.find(partition);
  if (it == parts_.end() || it->second.waiting.empty()) return Verdict::kProduce;
  Part& part = it->second;
  const Published& next = part.waiting.front();
  scratch_.clear();
  AppendPredictionIdPrefix(scratch_, id);
  if (next.key == key && next.id_prefix == scratch_) {
    part.cursor = next.offset + 1;
    part.skipped++;
    part.waiting.pop_front();
    if (!part.waiting.empty()) return Verdict::kSkip;
    waiting_--;
    return Verdict::kSkipLast;
  }
  mismatch_expected_ = next.id_prefix;
  part.waiting.clear();
  waiting_--;
  return Verdict::kMismatch;
}

void ReplayLedger::produced(int32_t partition) {
  if (last_part_ == nullptr || last_partition_ != partition) {
    auto it = parts_.find(partition);
    if (it == parts_.end()) return;
    last_part_ = &it->second;
    last_partition_ = partition;
  }
  last_part_->produced++;
}

std::optional<ReplayLedger::Summary> ReplayLedger::end(int32_t partition) {
  auto it = parts_.find(partition);
  if (it == parts_.end()) return std::nullopt;
  std::optional<Summary> waiting;
  if (!it->second.waiting.empty()) {
    waiting = summary(partition);
    waiting_--;
  }
  if (last_part_ == &it->second) last_part_ = nullptr;
  parts_.erase(it);
  return waiting;
}

std::optional<int64_t> ReplayLedger::next_offset(int32_t partition) const {
  auto it = parts_.find(partition);
  if (it == parts_.end()) return std::nullopt;
  const Part& part = it->second;
  if (!part.known) return -1;
  // While a list waits nothing of this partition has been produced: the next offset is the
  // one after the last prediction skipped. Then this holder's own, from where it read to.
  if (!part.waiting.empty()) return part.cursor;
  return part.end + static_cast<int64_t>(part.produced);
}

ReplayLedger::Summary ReplayLedger::summary(int32_t partition) const {
  auto it = parts_.find(partition);
  if (it == parts_.end()) return {partition, 0, 0};
  return {partition, it->second.listed, it->second.skipped};
}

std::vector<int32_t> ReplayLedger::held() const {
  std::vector<int32_t> out;
  out.reserve(parts_.size());
  for (const auto& [partition, part] : parts_) out.push_back(partition);
  return out;
}

kafka::Properties ReplayReaderProperties(kafka::Properties reader) {
  auto set = reader.find("isolation.level");
  if (set != reader.end() && set->second != "read_committed") {
    spdlog::warn("kafka.properties isolation.level {} is not used to read back published predictions: a "
                 "prediction of an uncommitted transaction was not published (read_committed)",
                 set->second);
  }
  reader["isolation.level"] = "read_committed";
  return reader;
}

ReplayDedup::ReplayDedup(const PipelineConfig& config, kafka::Properties reader, PipelineProbe* probe)
    : config_(config), reader_(ReplayReaderProperties(std::move(reader))) {
  if (!probe) return;
  skipped_ = &prometheus::BuildCounter()
                  .Name("streamlearn_replay_predictions_skipped_total")
                  .Help("Replayed events whose prediction was not produced again: it was already published")
                  .Register(*probe->registry())
                  .Add({});
}

Result<std::unique_ptr<ReplayDedup>> ReplayDedup::Create(const PipelineConfig& config,
                                                         const kafka::Properties& client, kafka::Properties reader,
                                                         PipelineProbe* probe) {
  const std::string& events = config.kafka.events_topic;
  const std::string& predictions = config.kafka.predictions_topic;
  if (!config.scale.replay_dedup) {
    spdlog::info("scale.replay_dedup is off: predictions go by their key's hash, and a replay produces again "
                 "what was published after the last checkpoint");
    return std::unique_ptr<ReplayDedup>();
  }
  auto inputs = kafka::PartitionCount(client, events, 5000);
  auto outputs = kafka::PartitionCount(client, predictions, 5000);
  if (!inputs.ok() || !outputs.ok() || *inputs != *outputs) {
    const std::string counts =
        !inputs.ok()    ? "the events topic's partitions are not known (" + inputs.status().message() + ")"
        : !outputs.ok() ? "the predictions topic's partitions are not known (" + outputs.status().message() + ")"
                        : fmt::format("{} has {} partition(s), {} {}", predictions, *outputs, events, *inputs);
    spdlog::warn("replays are not deduplicated: {}. Predictions go by their key's hash, and a replay after a "
                 "kill -9 produces again what was published after the last checkpoint (scored again, on another "
                 "instance by another model). Give {} as many partitions as {} to deduplicate",
                 counts, predictions, events);
    return std::unique_ptr<ReplayDedup>();
  }
  spdlog::info("a prediction goes to the partition of {} its event came from ({} partitions each); a replay does "
               "not produce again what was already published",
               predictions, *inputs);
  return std::unique_ptr<ReplayDedup>(new ReplayDedup(config, std::move(reader), probe));
}

bool ReplayDedup::skip(int32_t partition, std::string_view entity, std::string_view id) {
  if (!ledger_.any_waiting()) return false;
  switch (ledger_.check(partition, entity, id)) {
    case ReplayLedger::Verdict::kProduce:
      return false;
    case ReplayLedger::Verdict::kSkip:
      if (skipped_) skipped_->Increment();
      return true;
    case ReplayLedger::Verdict::kSkipLast:
      if (skipped_) skipped_->Increment();
      finished(ledger_.summary(partition), "");
      return true;
    case ReplayLedger::Verdict::kMismatch:
      finished(ledger_.summary(partition),
               fmt::format("; the replay's next prediction ({}) is not the next published one ({}), so the rest "
                           "are produced again",
                           QuoteForReason(id), QuoteForReason(ledger_.mismatch_expected())));
      return false;
  }
  return false;
}

void ReplayDedup::finished(const ReplayLedger::Summary& s, std::string_view how) const {
  const auto level = s.skipped == s.listed ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "partition {}-{}: {} of the {} prediction(s) published after its checkpoint were not produced "
              "again by the replay{}",
              config_.kafka.events_topic, s.partition, s.skipped, s.listed, how);
}

void ReplayDedup::record(Processor& processor) const {
  for (int32_t partition : ledger_.held()) {
    processor.set_next_offset(config_.kafka.predictions_topic, partition, *ledger_.next_offset(partition));
  }
}

Status ReplayDedup::on_assign(const std::vector<kafka::PartitionOffset>& parts, const Processor& processor,
                              const std::function<void(const std::string&)>& progress) {
  const std::string& topic = config_.kafka.predictions_topic;
  std::vector<kafka::ReadRange> ranges;
  for (const auto& p : parts) {
    if (p.topic != config_.kafka.events_topic) continue;
    auto it = processor.next_offsets().find({topic, p.partition});
    ranges.push_back({p.partition, it == processor.next_offsets().end() ? -1 : it->second, -1});
  }
  if (ranges.empty()) return Status::Ok();
  const auto began = std::chrono::steady_clock::now();
  progress(fmt::format("reading what {} received after the checkpoints of {} partition(s)", topic, ranges.size()));
  std::map<int32_t, std::vector<ReplayLedger::Published>> published;
  Status st = kafka::ReadRanges(reader_, topic, ranges, kReadTimeoutMs, [&](const kafka::MessageView& m) {
    published[m.partition].push_back({m.offset, std::string(m.key), std::string(PredictionIdPrefix(m.payload))});
  });
  progress("");
  if (!st.ok()) {
    spdlog::warn("replays of {} partition(s) are not deduplicated: {}", ranges.size(), st.message());
    for (const auto& r : ranges) ledger_.begin_unknown(r.partition);
    return Status::Ok();  // not a reason to stop: at worst a replay produces again
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  for (const auto& r : ranges) {
    std::vector<ReplayLedger::Published>& list = published[r.partition];
    if (!list.empty()) {
      spdlog::info("partition {}-{}: {} prediction(s) were published after its checkpoint ({}-{} offsets {} to {}, "
                   "read in {:.3f} s); their replays will not be produced again",
                   config_.kafka.events_topic, r.partition, list.size(), topic, r.partition, r.from, r.end, seconds);
    }
    ledger_.begin(r.partition, r.from, std::move(list), r.end);
  }
  return Status::Ok();
}

void ReplayDedup::on_revoke(const std::vector<kafka::PartitionOffset>& revoked) {
  for (const auto& p : revoked) {
    if (p.topic != config_.kafka.events_topic) continue;
    if (auto waiting = ledger_.end(p.partition)) finished(*waiting, "; revoked before its replay reached the rest");
  }
}

}  // namespace streamlearn::pipeline

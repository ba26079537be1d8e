#pragma once
// Reads partitions of one topic from given offsets to their ends (the high watermarks when
// called), with one short-lived consumer of its own (assigned, in no group): what a
// predictions partition holds after a checkpoint's recorded offset, a changelog partition
// whole (ReadPartition).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::kafka {

struct ReadRange {
  int32_t partition = -1;
  int64_t from = -1;  // the first offset to read; < 0: nothing is read, only `end` is wanted
  int64_t end = -1;   // set: the partition's high watermark when asked (0 for a topic never written)
  int64_t last = 0;   // with from < 0: read the last `last` messages instead
};

// Fills each range's `end` and shows `visit` every message in [from, end), in offset order
// per partition (partitions interleaved). A `from` below the low watermark reads from it.
Status ReadRanges(const Properties& properties, const std::string& topic, std::vector<ReadRange>& ranges,
                  int timeout_ms, const std::function<void(const MessageView& message)>& visit);

}  // namespace streamlearn::kafka

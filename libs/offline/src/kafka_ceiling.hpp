#pragma once
// librdkafka on its own, for `streamlearn bench`: the fastest a consume + produce loop runs
// on this broker, with none of our code in between, and a check that the embedded broker
// kept every message of a topic.

#include <cstdint>
#include <string>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::pipeline {

// Consumes `events` messages of `in` (a consumer group, batch consume from its queue) and
// produces each unchanged to `out`, keyed as it came. The output topic's metadata is
// fetched before the clock, which starts at the first message (after the group join) and
// stops when the last produced message is acknowledged. Returns events/s.
Result<double> KafkaCeiling(const kafka::Properties& consumer, const kafka::Properties& producer,
                            const std::string& in, const std::string& out, uint64_t events);

// kInvalid naming the loss when `topic`'s partitions hold fewer than `expected` messages
// from offset 0 on (the embedded broker keeps 5 MiB per partition and drops older batches).
Status CheckNothingEvicted(const std::string& bootstrap, const std::string& topic, int partitions,
                           uint64_t expected);

}  // namespace streamlearn::pipeline

#pragma once
// A librdkafka consumer that is assigned partitions and never subscribes: it joins no group
// and commits nothing (librdkafka still wants a group.id: the caller's group with `suffix`).
// Shared by the changelog's restore reader, the standby replicas' tailer and the topic reader.
#include <librdkafka/rdkafka.h>

#include <string>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::kafka {

// `properties`: the client's settings plus the caller's own; `what` names it in errors.
Result<rd_kafka_t*> NewAssignedConsumer(Properties properties, const std::string& suffix, const std::string& what);

}  // namespace streamlearn::kafka

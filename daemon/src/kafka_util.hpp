#pragma once
// Small librdkafka helpers shared by the daemon's Kafka code (kafka.cpp, handover.cpp).
// Private to the daemon library.
#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"

namespace logguard::daemon {

// Applies pass-through properties; each bad one is a ConfigError "<prefix><name>".
inline void apply(RdKafka::Conf& conf, const std::string& prefix, const std::map<std::string, std::string>& props) {
  for (const auto& [name, value] : props) {
    std::string err;
    if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) throw core::ConfigError(prefix + name, err);
  }
}

inline void set_or_throw(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string err;
  if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK)
    throw core::ConfigError("kafka", "cannot set librdkafka property " + name + ": " + err);
}

// Owns a librdkafka partition list.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> v;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(v); }
};

}  // namespace logguard::daemon

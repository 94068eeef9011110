#pragma once
// The `kafka:` section: brokers, topics, group and the librdkafka pass-through properties of
// the daemon's consumers and producers. validate() tries every pass-through property on a
// scratch librdkafka configuration, so that a typo is reported by name
// ("consumer.<name>" / "producer.<name>") at --check-config time.
#include <map>
#include <string>
#include <vector>

namespace logguard::daemon {

/// The `kafka:` section.
struct KafkaConfig {
  std::string brokers = "embedded";  // bootstrap servers, or "embedded" (mock cluster in-process)
  std::vector<std::string> topics;    // input topics
  std::string group_id = "logguard";
  std::string output_topic = "logguard-anomalies";
  std::map<std::string, std::string> consumer;  // passed through to the consumer
  std::map<std::string, std::string> producer;  // passed through to the producer
  /// Throws core::ConfigError naming the key (e.g. "group_id").
  void validate() const;
};

}  // namespace logguard::daemon

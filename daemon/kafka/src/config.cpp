// KafkaConfig::validate (see config.hpp).
#include "logguard/kafka/config.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <memory>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

namespace {

// Properties with a key of their own, or that the at-least-once design depends on.
void check_reserved(const std::string& section, const std::string& name, const std::string& value) {
  if (name == "bootstrap.servers" || name == "metadata.broker.list")
    throw ConfigError(section + "." + name, "set kafka.brokers instead");
  if (section == "consumer") {
    if (name == "group.id") throw ConfigError(section + "." + name, "set kafka.group_id instead");
    if (name == "enable.auto.offset.store" && value != "false")
      throw ConfigError(section + "." + name, "must stay false: offsets are stored only once their lines are done");
  } else if (name == "enable.idempotence" && value != "true") {
    throw ConfigError(section + "." + name, "must stay true: the anomaly producer is idempotent");
  }
}

}  // namespace

void KafkaConfig::validate() const {
  if (brokers.empty()) throw ConfigError("brokers", "must name bootstrap servers or be 'embedded'");
  if (group_id.empty()) throw ConfigError("group_id", "must not be empty");
  if (output_topic.empty()) throw ConfigError("output_topic", "must not be empty");
  for (std::size_t i = 0; i < topics.size(); ++i)
    if (topics[i].empty()) throw ConfigError("topics[" + std::to_string(i) + "]", "must not be empty");
  // Each pass-through property is tried on a scratch configuration, so that a typo is
  // reported by name at --check-config time, not when the daemon connects.
  for (const auto* section : {"consumer", "producer"}) {
    const auto& props = std::string(section) == "consumer" ? consumer : producer;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    for (const auto& [name, value] : props) check_reserved(section, name, value);
    apply(*conf, std::string(section) + ".", props);
  }
}

}  // namespace logguard::daemon

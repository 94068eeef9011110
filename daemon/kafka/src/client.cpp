// Shared librdkafka client code (see client.hpp).
#include "client.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace logguard::daemon {

using core::ConfigError;

void apply_tool_properties(RdKafka::Conf& conf, const std::map<std::string, std::string>& props) {
  for (const auto& [name, value] : props) {
    if (name == "bootstrap.servers" || name == "metadata.broker.list")
      throw ConfigError("--property " + name, "set --brokers instead");
    std::string err;
    if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) throw ConfigError("--property " + name, err);
  }
}

void set_consumer_defaults(RdKafka::Conf& conf) {
  set_or_throw(conf, "auto.offset.reset", "earliest");
  set_or_throw(conf, "queued.min.messages", "1000000");
  set_or_throw(conf, "max.partition.fetch.bytes", "8388608");
}

void ErrorEvents::event_cb(RdKafka::Event& e) {
  if (e.type() == RdKafka::Event::EVENT_STATS) return on_stats(e.str());
  if (e.type() != RdKafka::Event::EVENT_ERROR) return;
  if (e.err() == RdKafka::ERR__ALL_BROKERS_DOWN) brokers_up = 0;
  if (e.fatal()) {
    std::lock_guard lock(mu);
    if (fatal.empty()) fatal = RdKafka::err2str(e.err()) + ": " + e.str();
  } else {
    ++transient;
  }
}

std::string ErrorEvents::fatal_error() const {
  std::lock_guard lock(mu);
  return fatal;
}

void ErrorEvents::on_stats(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  if (auto b = j.find("brokers"); b != j.end() && b->is_object()) {
    int up = 0;
    for (const auto& [name, broker] : b->items()) {
      if (!broker.is_object() || broker.value("source", "") == "logical" || broker.value("source", "") == "internal")
        continue;
      if (broker.value("state", "") == "UP") ++up;
    }
    brokers_up = up;
  }
  if (auto t = j.find("topics"); t != j.end() && t->is_object()) {
    std::int64_t lag = 0;
    bool any = false;
    for (const auto& [topic, tj] : t->items()) {
      auto parts = tj.find("partitions");
      if (parts == tj.end() || !parts->is_object()) continue;
      for (const auto& [id, pj] : parts->items()) {
        if (id == "-1" || !pj.is_object()) continue;
        const std::string state = pj.value("fetch_state", "none");
        if (state == "none" || state == "stopped") continue;
        std::int64_t l = pj.value("consumer_lag", std::int64_t{-1});
        if (l < 0) continue;
        // librdkafka's lag runs from the committed offset to the partition's end (the high
        // watermark, or the last stable offset with read_committed). Measured from what was
        // read instead (app_offset), so that transaction markers after the last committed
        // line do not look like unread input.
        const std::int64_t committed = pj.value("committed_offset", std::int64_t{-1});
        const std::int64_t read = pj.value("app_offset", std::int64_t{-1});
        if (committed >= 0 && read >= 0) l = std::max<std::int64_t>(0, committed + l - read);
        lag += l;
        any = true;
      }
    }
    consumer_lag = any ? lag : (consumer_lag.load() < 0 ? -1 : 0);
  }
}

void assign_partitions(RdKafka::KafkaConsumer& c, std::vector<RdKafka::TopicPartition*>& parts) {
  if (c.rebalance_protocol() == "COOPERATIVE") delete c.incremental_assign(parts);
  else c.assign(parts);
}

void unassign_partitions(RdKafka::KafkaConsumer& c, std::vector<RdKafka::TopicPartition*>& parts) {
  if (c.rebalance_protocol() == "COOPERATIVE") delete c.incremental_unassign(parts);
  else c.unassign();
}

std::vector<TopicPartition> convert(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<TopicPartition> out;
  out.reserve(parts.size());
  for (const auto* p : parts) out.push_back(TopicPartition{p->topic(), p->partition()});
  return out;
}

}  // namespace logguard::daemon

#pragma once
// The one place for what every librdkafka client of the daemon shares (private to the kafka
// library): applying properties, the client callbacks (error and statistics events, the
// rebalance protocol), partition lists, and the admin calls (admin.cpp).
// librdkafka calls the callbacks on the thread that polls the client (consume()/poll()/flush()).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

// ---- properties --------------------------------------------------------------------------

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

// Registers a callback object (dr_cb, event_cb, rebalance_cb).
template <class Cb>
inline void set_cb(RdKafka::Conf& conf, const char* name, Cb* cb) {
  std::string err;
  if (conf.set(name, cb, err) != RdKafka::Conf::CONF_OK)
    throw core::ConfigError("kafka", std::string("cannot set ") + name + ": " + err);
}

// Tool properties (`--property`); a reserved or bad one is a ConfigError "--property <name>".
void apply_tool_properties(RdKafka::Conf& conf, const std::map<std::string, std::string>& props);

// Defaults of the daemon's consumers (the scoring source and the router), before the
// pass-through properties. Prefetch measured on a 2-partition HDFS topic (docs/daemon-bench.md,
// run 4): with librdkafka's queued.min.messages of 100000 the fetcher keeps backing off and the
// daemon idles at ~113k lines/s; 1M (bounded by queued.max.messages.kbytes, 64 MiB per
// partition) and 8 MiB partition fetches let it read 300k+ lines/s.
void set_consumer_defaults(RdKafka::Conf& conf);

// How often librdkafka reports statistics (broker states, consumer lag) unless configured.
constexpr const char* kStatsIntervalMs = "1000";

// ---- callbacks ---------------------------------------------------------------------------

// Error events: fatal ones are remembered, everything else is informational and counted.
// Statistics events (when statistics.interval.ms is set) update the broker and lag views.
// Thread-safety: the counters and fatal_error() may be read from any thread.
struct ErrorEvents : RdKafka::EventCb {
  void event_cb(RdKafka::Event& e) override;
  std::string fatal_error() const;
  // Brokers in state UP (the coordinator's logical entry aside) and the summed consumer lag
  // of the partitions being fetched, from the last statistics; -1 = not known yet.
  void on_stats(const std::string& text);
  mutable std::mutex mu;
  std::string fatal;
  std::atomic<std::uint64_t> transient{0};
  std::atomic<int> brokers_up{-1};
  std::atomic<std::int64_t> consumer_lag{-1};
};

// The rebalance protocol, for the consumers' rebalance callbacks: the partitions of an assign
// event are added (incrementally under the cooperative protocol, as a new assignment under
// the eager one), those of a revoke event taken away.
void assign_partitions(RdKafka::KafkaConsumer& c, std::vector<RdKafka::TopicPartition*>& parts);
void unassign_partitions(RdKafka::KafkaConsumer& c, std::vector<RdKafka::TopicPartition*>& parts);

// ---- partition lists ---------------------------------------------------------------------

// Owns a librdkafka partition list.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> v;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(v); }
};

std::vector<TopicPartition> convert(const std::vector<RdKafka::TopicPartition*>& parts);

// ---- admin (admin.cpp) -------------------------------------------------------------------

// The partition count of `topic` as the cluster reports it, or why not.
core::Expected<int> topic_partitions(RdKafka::Handle& h, const std::string& name, std::chrono::milliseconds timeout);

// Creates a topic through the Admin API (an existing one is fine); `config` are topic-level
// settings such as cleanup.policy.
core::Expected<bool> create_topic(rd_kafka_t* rk, const std::string& name, int partitions,
                                  const std::map<std::string, std::string>& config, std::chrono::milliseconds timeout);

}  // namespace logguard::daemon

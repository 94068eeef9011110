#pragma once
// The routing stage (issue #6, docs/scale-out.md): re-keys unkeyed input by session through a
// repartition topic, exactly once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/kafka/config.hpp"

namespace logguard::daemon {

/// The `routing:` section (issue #6): a stage that re-keys unkeyed input by session.
struct RoutingConfig {
  bool enabled = false;
  std::string topic = "logguard-by-session";  // repartition topic, keyed by session; created if missing
  int partitions = 0;                        // of a created topic; 0 = the input topics' largest count
  std::string group_id;                      // router consumer group; "" = kafka.group_id + "-router"
  std::int64_t transaction_interval_ms = 100;  // lines routed per transaction (and offset commit)
  /// Throws core::ConfigError naming the key below `routing.`.
  void validate() const;
};

/// Counters of the routing stage (router thread writes, anyone reads).
struct RouterStats {
  std::atomic<std::uint64_t> lines{0};          // lines re-produced to the repartition topic
  std::atomic<std::uint64_t> unkeyed{0};        // of which without a session key (unkeyed message)
  std::atomic<std::uint64_t> copies{0};         // extra copies of lines naming several sessions
  std::atomic<std::uint64_t> transactions{0};   // committed
  std::atomic<std::uint64_t> aborts{0};         // aborted (their lines are routed again)
};

/// Routing stage: consumes the input topics in its own consumer group and re-produces every
/// line to `routing.topic` keyed by its session key, once per distinct key `key_of` finds (a
/// line naming no session goes once, unkeyed), keeping the message timestamp, so that one
/// session's lines reach one partition and one scoring member. The scoring side then takes the
/// session from the message key.
/// Exactly once: lines and the consumer offsets go in one Kafka transaction
/// (consume-transform-produce, KIP-447 group fencing); the scoring consumer reads committed
/// data only (librdkafka's default isolation.level read_committed). A transaction that must be
/// aborted rewinds the consumer to its committed offsets, so nothing is lost or doubled.
/// Lifecycle: construct (ConfigError on bad properties), ensure_topic() at start-up, run() on
/// its own thread until `stop`; run() commits the open transaction before returning.
/// Thread-safety: run() on one thread; stats() from any thread.
class Router {
 public:
  using KeyOf = std::function<void(std::string_view line, std::vector<std::string_view>& keys)>;
  Router(const KafkaConfig& kafka, const RoutingConfig& routing, const std::string& bootstrap, KeyOf key_of);
  ~Router();
  /// Creates routing.topic when it does not exist (partitions as configured, else the input
  /// topics' largest count). Throws core::LoadError naming the topic.
  void ensure_topic(std::chrono::milliseconds timeout);
  /// Routes until `stop` is set; an error when Kafka fails fatally.
  core::Expected<bool> run(const std::atomic<bool>& stop);
  const RouterStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

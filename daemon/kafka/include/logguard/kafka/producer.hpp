#pragma once
// KafkaProducer: the plain producer of the tools (`logguard replay`, benchmarks).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "logguard/core/error.hpp"

namespace logguard::daemon {

/// Plain producer for tools (`logguard replay`, benchmarks): copies each message into
/// librdkafka's queue, counts delivery reports. Not used by the daemon (see KafkaSink).
/// Lifecycle: construct (throws core::ConfigError naming "--property <name>" for a bad
/// property), produce()/poll() in a loop, flush() before destruction (the destructor purges
/// what is still queued). Thread-safety: one thread.
class KafkaProducer {
 public:
  KafkaProducer(const std::string& bootstrap, const std::map<std::string, std::string>& properties);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;
  /// Partition count of `topic`, or an error (brokers unreachable within `timeout`, topic
  /// missing). Used to fail fast before producing.
  core::Expected<int> partitions(const std::string& topic, std::chrono::milliseconds timeout);
  /// Queues one message (an empty key means none; timestamp 0 means "now"). While the
  /// queue is full it serves delivery reports. False on a fatal error (see error()).
  bool produce(const std::string& topic, std::string_view key, std::string_view value, std::int64_t timestamp_ms = 0);
  void poll(std::chrono::milliseconds timeout);
  /// Waits for outstanding deliveries; returns how many are still pending.
  std::size_t flush(std::chrono::milliseconds timeout);
  std::uint64_t delivered() const noexcept;
  std::uint64_t failed() const noexcept;
  /// The first delivery or fatal error, empty if none.
  std::string error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

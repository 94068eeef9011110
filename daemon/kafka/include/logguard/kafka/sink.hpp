#pragma once
// KafkaSink: the daemon's anomaly-record Sink (logguard/pipeline/stages.hpp) over an
// idempotent librdkafka producer. Errors: construction fails fast with core::ConfigError
// ("kafka.producer.<name>"); a failed delivery completes its write with ok = false.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "logguard/core/error.hpp"
#include "logguard/kafka/config.hpp"
#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

/// Idempotent producer sink: one message per anomaly record to the output topic, keyed by
/// session, with the record id in the `logguard-id` header. When librdkafka's queue is full,
/// write() serves delivery reports until there is room (backpressure on the sink thread).
/// Lifecycle: construct, write()/poll() from the sink thread, flush() before destruction.
/// Thread-safety: one thread.
class KafkaSink : public Sink {
 public:
  KafkaSink(const KafkaConfig& config, const std::string& bootstrap, std::string topic);
  ~KafkaSink() override;
  void write(std::string_view key, std::string_view id, std::string_view json, Done done) override;
  void poll(std::chrono::milliseconds timeout) override;
  std::size_t flush(std::chrono::milliseconds timeout) override;
  /// Non-empty once librdkafka raised a fatal error (the sink cannot continue).
  std::string fatal_error() const;
  /// Brokers connected per the last statistics (served by poll()); -1 = not known yet.
  int brokers_up() const noexcept;
  /// Start-up check: the output topic exists (its partition count), or why not.
  core::Expected<int> check_topic(std::chrono::milliseconds timeout);
  std::uint64_t transient_errors() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

#pragma once
// KafkaSource: the daemon's consumer-group Source (logguard/pipeline/stages.hpp).
// librdkafka stays behind the class; its headers are not exposed.
//
// Errors: construction fails fast with core::ConfigError naming the key (each bad
// pass-through property is reported as "kafka.consumer.<name>"); in steady state librdkafka
// errors are counted and only fatal ones are reported (poll() returns fatal).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "logguard/kafka/config.hpp"
#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

/// Consumer-group source. Offsets are stored only through store_offsets()
/// (enable.auto.offset.store=false; a property that turns it on is rejected) and committed by
/// librdkafka's auto-commit and at close. On a rebalance, the revoke handler runs first (the
/// pipeline stores its final offsets there), stored offsets are committed, then the
/// partitions are handed back and reported by take_revoked(). Newly assigned partitions stay
/// paused while the source is paused.
/// Lifecycle: construct, poll() loop, close() (or the destructor) leaves the group.
/// Thread-safety: one thread (the consumer thread) for everything.
class KafkaSource : public Source {
 public:
  /// `bootstrap` overrides config.brokers (used for "embedded").
  KafkaSource(const KafkaConfig& config, const std::string& bootstrap);
  ~KafkaSource() override;

  PollStatus poll(std::vector<Record>& out, std::size_t max_records, std::chrono::milliseconds timeout) override;
  void pause() override;
  void resume() override;
  void store_offsets(std::span<const SourcePosition> next_offsets) override;
  std::vector<TopicPartition> take_revoked() override;
  std::string error() const override;

  void set_revoke_handler(RevokeHandler h) override;
  void set_assign_handler(AssignHandler h) override;
  /// The group's committed offsets of the currently assigned partitions (-1001: none).
  std::vector<SourcePosition> committed(std::chrono::milliseconds timeout);
  /// Partitions currently assigned to this member.
  std::vector<TopicPartition> assignment();
  bool paused() const noexcept;
  /// Non-fatal errors reported by librdkafka (informational; counted).
  std::uint64_t transient_errors() const noexcept;
  /// Brokers connected (state UP) per the last statistics (every second, served by poll());
  /// 0 after "all brokers down"; -1 before the first statistics. Any thread.
  int brokers_up() const noexcept;
  /// Messages behind the partitions' high watermarks, summed over the partitions being
  /// fetched (librdkafka's consumer_lag); -1 = not known yet. Any thread.
  std::int64_t consumer_lag() const noexcept;
  /// Leaves the group after committing stored offsets. Idempotent.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

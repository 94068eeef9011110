#pragma once
// FeedbackFollower: the Kafka store of operator feedback (issue #20; the record format and the
// book: logguard/pipeline/feedback.hpp). A compacted, single-partition topic
// (feedback.topic, default "<kafka.group_id>-feedback") that every logguardd instance of the
// consumer group reads from the beginning and then follows, applying each record to its
// FeedbackBook; `logguard feedback` writes to it. So marks survive restarts and every
// instance of the group suppresses the same patterns.
// Lifecycle: construct (ConfigError naming kafka.consumer.* for a bad pass-through property),
// ensure_topic() and catch_up() at start-up (LoadError naming feedback.topic), then poll() from
// one thread (the daemon's lg-feedback thread). Thread-safety: one thread; the book is
// thread-safe.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "logguard/kafka/config.hpp"
#include "logguard/pipeline/feedback.hpp"

namespace logguard::daemon {

class FeedbackFollower {
 public:
  /// `topic`: the feedback topic; `bootstrap` overrides kafka.brokers.
  FeedbackFollower(std::string topic, const KafkaConfig& kafka, const std::string& bootstrap, FeedbackBook& book);
  ~FeedbackFollower();
  FeedbackFollower(const FeedbackFollower&) = delete;
  FeedbackFollower& operator=(const FeedbackFollower&) = delete;

  const std::string& topic() const noexcept;
  /// Creates the topic (1 partition, cleanup.policy=compact) when missing. Throws
  /// core::LoadError naming feedback.topic.
  void ensure_topic(std::chrono::milliseconds timeout);
  /// Reads the topic to its end as of the call. Throws core::LoadError naming feedback.topic
  /// when the end is not reached in time. Returns the number of records read.
  std::size_t catch_up(std::chrono::milliseconds timeout);
  /// Applies records that arrived since the last call (at most `max` of them). Never throws.
  std::size_t poll(std::size_t max = 10000) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The client properties of `kafka` a tool or the follower may pass on (security and
/// connection settings; group, commit and offset settings are left out).
std::map<std::string, std::string> feedback_client_properties(const KafkaConfig& kafka);

}  // namespace logguard::daemon

#pragma once
// KafkaTopicReader: reads a whole topic without a consumer group (`logguard tail`, tests).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace logguard::daemon {

/// One message as read by KafkaTopicReader.
struct KafkaMessage {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = 0;
  bool log_append_time = false;  // timestamp set by the broker (topic message.timestamp.type)
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Reads every partition of one topic from the beginning without a consumer group (manual
/// assignment; nothing is committed). For tools (`logguard tail`) and tests.
/// Lifecycle: construct (throws core::LoadError when the topic's metadata cannot be fetched
/// within `timeout`, core::ConfigError for a bad property), then poll(). Thread-safety: one thread.
class KafkaTopicReader {
 public:
  KafkaTopicReader(const std::string& bootstrap, const std::string& topic,
                   const std::map<std::string, std::string>& properties, std::chrono::milliseconds timeout);
  ~KafkaTopicReader();
  KafkaTopicReader(const KafkaTopicReader&) = delete;
  KafkaTopicReader& operator=(const KafkaTopicReader&) = delete;
  /// Next message, waiting at most `timeout`. False on timeout; a fatal error throws nothing
  /// and is reported by error().
  bool poll(KafkaMessage& out, std::chrono::milliseconds timeout);
  /// True once every partition reported its end since its last message (a poll() that returned
  /// false may have seen the last end): everything written before that is read.
  bool at_end() const noexcept;
  std::string error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

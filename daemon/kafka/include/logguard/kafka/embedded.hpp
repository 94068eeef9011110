#pragma once
// EmbeddedKafka: librdkafka's mock cluster for `kafka.brokers: embedded` and the tests.
#include <memory>
#include <string>

namespace logguard::daemon {

/// librdkafka's mock cluster, in-process, for `kafka.brokers: embedded` and tests. Data lives
/// in memory and is lost with the object. Lifecycle: construct (throws core::LoadError),
/// use bootstrap_servers() for clients, destroy after every client is gone.
/// Thread-safety: create_topic() from one thread; the cluster itself serves clients on its
/// own threads.
class EmbeddedKafka {
 public:
  explicit EmbeddedKafka(int brokers = 1);
  ~EmbeddedKafka();
  EmbeddedKafka(const EmbeddedKafka&) = delete;
  EmbeddedKafka& operator=(const EmbeddedKafka&) = delete;
  const std::string& bootstrap_servers() const noexcept;
  /// Creates a topic (throws core::LoadError on failure).
  void create_topic(const std::string& name, int partitions, int replication = 1);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

#pragma once
// Kafka endpoints of the daemon (librdkafka): the consumer-group Source, the idempotent
// producer Sink, the embedded mock cluster used when `kafka.brokers: embedded`, and a plain
// producer and topic reader for the tools (`logguard replay` / `logguard tail`).
// librdkafka stays behind these classes; its headers are not exposed.
//
// Errors: construction fails fast with core::ConfigError naming the key (each bad
// pass-through property is reported as "kafka.consumer.<name>" / "kafka.producer.<name>");
// in steady state librdkafka errors are counted and only fatal ones are reported (poll()
// returns fatal, Sink::write() completes with ok = false).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/daemon/stages.hpp"

namespace logguard::daemon {

/// The `kafka:` section.
struct KafkaConfig {
  std::string brokers = "embedded";  // bootstrap servers, or "embedded" (mock cluster in-process)
  std::vector<std::string> topics;    // input topics
  std::string group_id = "logguard";
  std::string output_topic = "logguard-anomalies";
  std::map<std::string, std::string> consumer;  // passed through to the consumer
  std::map<std::string, std::string> producer;  // passed through to the producer
  /// Throws core::ConfigError naming the key (e.g. "group_id").
  void validate() const;
};

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

/// Makes sure `topic` exists: returns its partition count, creating it (with `partitions` and
/// the topic-level settings `topic_config`, e.g. cleanup.policy=compact) when it is missing.
/// `properties` are client properties (security settings). An error names what failed.
core::Expected<int> ensure_topic(const std::string& bootstrap, const std::map<std::string, std::string>& properties,
                                 const std::string& topic, int partitions,
                                 const std::map<std::string, std::string>& topic_config,
                                 std::chrono::milliseconds timeout);

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
  std::string error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

#pragma once
// The template registry (issue #6, "one template space"): a compacted, single-partition Kafka
// topic that every logguardd instance of a consumer group follows, so that a template first
// seen on one instance has the same text, id and bundle mapping on all of them, and a restarted
// instance rebuilds the set from the topic.
//
// Record (docs/scale-out.md): key "<model version>|<normalized template text>", value a JSON
// object, version 1:
//   {"v":1,"id":"<16 hex>","text":"<Drain template text>","bundle_id":N,"similarity":x,
//    "model":"<model version>","origin":"<hostname>:<pid>"}
// `id` is content-addressed: XXH64 (seed 0) of core::normalize_template_text(text), so every
// instance computes it without coordination. The key carries the model version because a
// mapping decision (bundle_id, similarity) belongs to one model: during a roll-out the old and
// the new model's decisions for a text live side by side and compaction keeps one per model.
// A null value (tombstone) deletes that model's decision. The last record of a key in the
// log wins (as compaction keeps it): an instance that published a conflicting decision
// concurrently ends up with the later one, like everybody else.
// Malformed records (bad JSON, wrong version or types, id or key not matching the text) are
// counted and skipped; fields beyond these are ignored (compatible additions within v1).
// Pinning: BundleMapper pins only generalised texts (with a "<*>") -- see logguard/service/bundle_mapper.hpp.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/kafka/config.hpp"

namespace logguard::daemon {

/// The `registry:` section.
struct RegistryConfig {
  bool enabled = false;
  std::string topic;                  // "" = <kafka.group_id>-templates
  std::int64_t poll_interval_ms = 200;  // how often the mapper looks for new entries
  /// Throws core::ConfigError naming the key below `registry.`.
  void validate() const;
  /// The topic to use: `topic`, or "<group_id>-templates" when empty.
  std::string effective_topic(const std::string& group_id) const;
};

/// Content-addressed registry id of a template: XXH64 of its normalized text.
std::uint64_t registry_id(std::string_view normalized_text) noexcept;
/// The id as 16 lower-case hex digits.
std::string registry_id_hex(std::uint64_t id);

/// A mapping decision found in the registry.
struct RegistryHit {
  std::uint32_t bundle_id = 0;  // 0 = unknown to the model
  double similarity = 0;
  std::uint64_t id = 0;         // registry_id(normalized text)
};

/// One entry received by poll(): a text new to this instance, or a decision that changed.
struct RegistryUpdate {
  std::string text;   // the Drain template text (as first registered)
  std::string model;  // the model version of the decision
  bool new_text = false;         // first record of this normalized text
  bool decision_changed = false;  // (text, model) decision added, changed or deleted
};

/// Counters (consumer thread writes, any thread reads).
struct RegistryStats {
  std::atomic<std::uint64_t> entries{0};            // distinct normalized texts known
  std::atomic<std::uint64_t> published{0};          // records produced by this instance
  std::atomic<std::uint64_t> adopted{0};            // mappings taken from the registry (note_adopted)
  std::atomic<std::uint64_t> received{0};           // well-formed records read (own ones included)
  std::atomic<std::uint64_t> malformed{0};          // records skipped as malformed
  std::atomic<std::uint64_t> delivery_failures{0};  // records that could not be produced
};

/// Follows and writes the registry topic. Its own idempotent producer (acks=all) and its own
/// consumer (manual assignment of partition 0 from the beginning, nothing committed).
/// Lifecycle: construct (ConfigError naming kafka.producer.* / kafka.consumer.* for a bad
/// pass-through property), ensure_topic() and catch_up() at start-up (LoadError naming
/// registry.topic), then poll()/find()/publish() on the consumer thread; flush() before
/// destruction (the destructor flushes for at most 1 s).
/// Thread-safety: one thread at a time for everything but stats() (atomics).
class TemplateRegistry {
 public:
  /// `kafka` supplies group_id (default topic), the brokers' security properties
  /// (kafka.producer / kafka.consumer pass-through); `bootstrap` overrides kafka.brokers;
  /// `origin` names this instance in published records ("" = "<hostname>:<pid>").
  TemplateRegistry(const RegistryConfig& config, const KafkaConfig& kafka, const std::string& bootstrap,
                   std::string origin = {});
  ~TemplateRegistry();
  TemplateRegistry(const TemplateRegistry&) = delete;
  TemplateRegistry& operator=(const TemplateRegistry&) = delete;

  const std::string& topic() const noexcept;
  std::chrono::milliseconds poll_interval() const noexcept;
  const std::string& origin() const noexcept;

  /// Creates the topic (1 partition, cleanup.policy=compact) when missing. Throws
  /// core::LoadError naming registry.topic.
  void ensure_topic(std::chrono::milliseconds timeout);
  /// Reads the topic up to its high watermark as of the call. Throws core::LoadError naming
  /// registry.topic when the broker cannot be reached or the end is not reached in time.
  /// Returns the number of records read.
  std::size_t catch_up(std::chrono::milliseconds timeout);
  /// Non-blocking: applies records that arrived since the last call (appending what changed
  /// to `out`) and serves delivery reports. Returns the number of records read.
  std::size_t poll(std::vector<RegistryUpdate>* out = nullptr) noexcept;

  /// The decision for a normalized text under a model version, if registered.
  std::optional<RegistryHit> find(std::string_view normalized_text, std::string_view model) const noexcept;
  /// Records this instance's decision: stored locally at once (find() sees it) and produced
  /// asynchronously. At most once per (text, model) per instance; false when skipped.
  bool publish(std::string_view text, std::string_view model, std::uint32_t bundle_id, double similarity) noexcept;
  /// Counts one mapping taken from the registry (the mapper calls it).
  void note_adopted() noexcept;

  /// Distinct normalized texts known.
  std::size_t entries() const noexcept;
  /// The Drain text of every known entry (for pinning after a parser restore or reload).
  std::vector<std::string> texts() const;
  /// Waits for outstanding deliveries; returns how many are still pending.
  std::size_t flush(std::chrono::milliseconds timeout) noexcept;
  const RegistryStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Encodes a registry record value (version 1). Exposed for tests and tools.
std::string encode_registry_record(std::string_view text, std::string_view model, std::uint32_t bundle_id,
                                   double similarity, std::string_view origin);
/// The record key: "<model>|<normalized text>".
std::string registry_key(std::string_view model, std::string_view normalized_text);

}  // namespace logguard::daemon

#pragma once
// Session handover between the members of a consumer group (issue #6): the open state of each
// input partition -- its position and the open sessions whose first event came from it -- saved
// in a compacted Kafka topic, so that whoever owns the partition next (after a rebalance, a
// crash, a restart) continues those sessions exactly where they were.
//
// Topic layout (docs/scale-out.md "Handover topic"): the state of input partition p goes to
// state partition p mod N (N = the state topic's partition count, by default the input's).
// A save writes one *generation* of a partition's state as chunks of at most chunk_bytes:
//   key   "<topic>|<partition>|<generation>|<chunk>|<chunks>"
//   value one checkpoint record (docs/checkpoint-format.md: versioned, checksummed) holding the
//         partition's position and the chunk's sessions; its meta names the model and carries the
//         template table, so another bundle re-maps by text as a checkpoint file would.
// A generation counts once all its chunks are there; load() takes the newest complete one.
// After a generation is delivered, the keys of older ones get tombstones (compaction drops them).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/kafka/config.hpp"
#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/pipeline/state_store.hpp"

namespace logguard::daemon {

/// The `handover:` section.
struct HandoverConfig {
  bool enabled = false;
  std::string topic;                          // "" = <kafka.group_id>-sessions
  std::int64_t interval_ms = 5000;            // periodic save of every owned partition
  std::int64_t timeout_ms = 10000;            // bound of one save / load / revoke
  std::size_t chunk_bytes = 512 * 1024;       // largest record value written
  /// Throws core::ConfigError naming the key below `handover.`.
  void validate() const;
};

/// Counters of the store (any thread).
struct HandoverStoreStats {
  std::atomic<std::uint64_t> saves{0};            // partition states written
  std::atomic<std::uint64_t> loads{0};            // partition states found and read
  std::atomic<std::uint64_t> records_written{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<std::uint64_t> corrupt_records{0};  // unreadable chunks (their generation is skipped)
};

/// The StateStore of partition handover. Lifecycle: construct (ConfigError for bad
/// properties), ensure_topic() at start-up, then save()/load() from the pipeline
/// (CheckpointOptions::handover). Thread-safety: save() and load() are serialized by an internal
/// mutex and may be called from any thread.
class KafkaStateStore : public StateStore {
 public:
  /// `topic` is the resolved handover topic; `window_mode` the running pipeline's (a state of
  /// another mode is refused).
  KafkaStateStore(const KafkaConfig& kafka, const HandoverConfig& config, std::string topic,
                  const std::string& bootstrap, StateModel model, std::string window_mode);
  ~KafkaStateStore() override;
  KafkaStateStore(const KafkaStateStore&) = delete;
  KafkaStateStore& operator=(const KafkaStateStore&) = delete;

  /// Makes sure the topic exists (compacted, `partitions` when created); learns its partition
  /// count. Throws core::LoadError naming handover.topic.
  void ensure_topic(int partitions, std::chrono::milliseconds timeout);
  /// Saves a new generation of every partition in `p.positions` with its sessions
  /// (Session::tp); returns the bytes written once all were delivered.
  core::Expected<std::uint64_t> save(const PipelineCheckpoint& p) override;
  /// The newest complete saved state of each of `tps` that has one, re-mapped to the running
  /// model; sessions carry their partition in Session::tp.
  core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>& tps) override;
  const HandoverStoreStats& stats() const noexcept;
  const std::string& topic() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

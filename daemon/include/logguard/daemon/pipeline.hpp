#pragma once
// Pipeline: the one place where the daemon's stages are wired into threads.
//
//   caller thread (consumer): Source::poll -> key + map -> Windower -> OffsetTracker::begin
//        │  BoundedQueue<Window> (block: Source::pause() while full; drop_oldest: counted)
//   scorer thread: Batcher (max_batch / max_wait_ms) -> Scorer::score
//        │  BoundedQueue<Scored> (blocking)
//   sink thread: anomalous -> JSON record -> Sink::write; InOrderReleaser -> OffsetTracker
//
// The consumer thread also runs the time-driven work every tick_ms: Windower::tick (idle
// sessions) and storing committable offsets (Source::store_offsets).
//
// Offsets. Without checkpoints, the stored offset of a partition is the OffsetTracker's:
// every line below it is scored and delivered. With checkpoints (enable_checkpoints), every
// interval_ms the consumer thread copies the open state (windower + per-partition positions)
// and hands the writer's job to a checkpoint thread, then goes on consuming. That thread waits
// until every window handed over before the copy is delivered, then runs the job (encode,
// write, fsync, atomic rename); back on the consumer thread, once it succeeded, the positions
// are stored: every line below them is either delivered or in the checkpoint. (The file is
// only replaced after those windows were delivered, so a file newer than the stored offsets is
// still complete.) The last checkpoint at shutdown runs the same steps on the consumer thread. A restarted pipeline restores the checkpoint and
// continues exactly where it was taken. Records below a partition's position (re-delivered
// after a restart or a rebalance) are skipped and counted, in both modes.
//
// Lifecycle: construct with references to stages that outlive it, run() once. run() returns
// when the source ends or `stop` is set (open sessions are then flushed, scored and
// delivered), or with an error when a stage fails fatally (nothing after the failure is
// committed). Thread-safety: run() from one thread; stats() from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "logguard/core/error.hpp"
#include "logguard/daemon/anomaly_record.hpp"
#include "logguard/daemon/batcher.hpp"
#include "logguard/daemon/bounded_queue.hpp"
#include "logguard/daemon/stages.hpp"
#include "logguard/daemon/windower.hpp"

namespace logguard::daemon {

struct PipelineConfig {
  WindowConfig window;
  BatcherConfig batcher;
  std::size_t queue_capacity = 1024;  // windows per queue
  Overflow overflow = Overflow::block;
  std::size_t poll_batch = 500;       // records per Source::poll
  std::int64_t tick_ms = 100;
  AnomalyRecordOptions record;
  /// Throws core::ConfigError naming the key ("window.length", "queue_capacity", ...).
  void validate() const;
};

/// The open state a checkpoint holds (besides the parser, which the writer adds).
struct PipelineCheckpoint {
  std::vector<SourcePosition> positions;  // per partition: the next offset to process
  WindowerState windows;
};
/// Encodes and durably writes one checkpoint; returns the bytes written or why not. Runs on
/// the checkpoint thread (periodic checkpoints) or the consumer thread (the last one).
using CheckpointJob = std::function<core::Expected<std::uint64_t>()>;
/// Called on the consumer thread at the moment of a checkpoint with a copy of the open state:
/// captures whatever only that thread may read (the parser) and returns the job.
using CheckpointWriter = std::function<CheckpointJob(PipelineCheckpoint)>;

/// Partition handover between the members of a consumer group (session mode, issue #6): where
/// a revoked partition's open sessions go and where an assigned partition's come from. Both
/// run on the consumer thread, inside the rebalance. With it, a revoked partition's sessions
/// leave this pipeline (instead of idling out here while the new owner re-reads them).
struct PartitionHandover {
  /// Durably saves the positions and sessions of some partitions (Session::tp says whose);
  /// returns the bytes written or why not.
  std::function<core::Expected<std::uint64_t>(PipelineCheckpoint)> save;
  /// The last saved state of these partitions; partitions never saved are absent.
  std::function<core::Expected<PipelineCheckpoint>(const std::vector<TopicPartition>&)> load;
  /// How long a revoke may wait for the windows in flight to be delivered.
  std::chrono::milliseconds timeout{10000};
};

/// Record -> template id (Drain parse + the encoder's vocabulary). Consumer thread only.
using Mapper = std::function<core::TemplateId(const Record&)>;

/// Counters, readable while running.
struct PipelineStats {
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> windows{0};          // scored windows
  std::atomic<std::uint64_t> anomalies{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> delivery_failures{0};
  std::atomic<std::uint64_t> dropped_windows{0};  // drop_oldest evictions
  std::atomic<std::uint64_t> pauses{0};           // times the source was paused
  std::atomic<std::uint64_t> offset_stores{0};
  std::atomic<std::uint64_t> redelivered{0};      // records below the partition's position, skipped
  std::atomic<std::uint64_t> checkpoints{0};
  std::atomic<std::uint64_t> checkpoint_failures{0};  // writer failed or no quiescent point in time
  std::atomic<std::uint64_t> checkpoint_bytes{0};     // size of the last checkpoint
  std::atomic<std::int64_t> checkpoint_ms{0};         // wall-clock ms since epoch of the last one
  std::atomic<std::uint64_t> checkpoint_stall_us{0};  // consumer stalled by the last one (quiesce + write)
  std::atomic<std::uint64_t> checkpoint_write_us{0};  // of which writing (state copy, encode, fsync)
  // Partition handover (enable_handover).
  std::atomic<std::uint64_t> handover_out_partitions{0};  // revoked partitions whose state was saved
  std::atomic<std::uint64_t> handover_out_sessions{0};
  std::atomic<std::uint64_t> handover_in_partitions{0};   // assigned partitions continued from a saved state
  std::atomic<std::uint64_t> handover_in_sessions{0};
  std::atomic<std::uint64_t> handover_failures{0};        // a save or load failed (the partition restarts
                                                          // from its last saved state and committed offset)
  // Sampled by the consumer thread every tick_ms.
  std::atomic<std::uint64_t> sessions_open{0};
  std::atomic<std::uint64_t> sessions_evicted{0};
  std::atomic<std::uint64_t> scorer_queue{0};     // windows waiting for the scorer
  std::atomic<std::uint64_t> sink_queue{0};       // scored windows waiting for the sink
};

class Pipeline {
 public:
  Pipeline(PipelineConfig config, Source& source, Mapper mapper, Scorer& scorer, Sink& sink,
           TemplateText template_text);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Runs to completion (see above). The error names the failed stage.
  core::Expected<bool> run(const std::atomic<bool>& stop);
  const PipelineStats& stats() const noexcept;
  /// Called on the sink thread when an anomaly record was delivered, with the timestamp
  /// (ms since epoch) of the window's last event. Set before run().
  void on_delivered(std::function<void(std::int64_t last_event_ms)> f);
  /// Called on the consumer thread every tick_ms (time-driven work of other stages, e.g. the
  /// mapper following the template registry). Set before run().
  void on_tick(std::function<void()> f);
  /// Checkpoints every `interval_ms` through `writer` (see the top of this file); at the end
  /// of run() a last checkpoint follows the final flush (`flush_at_stop`) or replaces it
  /// (open sessions stay open across the restart). Call before run().
  void enable_checkpoints(std::int64_t interval_ms, CheckpointWriter writer, bool flush_at_stop = true);
  /// Continues from a checkpoint (before run()): restores the open sessions and skips records
  /// below its positions.
  void restore(PipelineCheckpoint checkpoint);
  /// Hands sessions over on rebalances (see PartitionHandover). Needs enable_checkpoints() with
  /// a writer that saves through the same store, so that stored offsets always match a saved
  /// state. Call before run().
  void enable_handover(PartitionHandover handover);
  /// The windower's counters; valid after run() returned.
  WindowerStats windower_stats() const;
  /// Records still held (not yet done) by the offset tracker. Always 0 with checkpoints: offsets
  /// are then the checkpoints' positions and records are not tracked one by one.
  std::size_t held_records() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

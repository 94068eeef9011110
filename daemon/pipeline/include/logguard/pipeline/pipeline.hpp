#pragma once
// Pipeline: the one place where the daemon's stages are wired into threads.
//
//   caller thread (consumer): Source::poll -> [decode] -> key + map -> Windower -> OffsetTracker::begin
//        │  BoundedQueue<Window> (block: Source::pause() while full; drop_oldest: counted)
//   scorer thread: Batcher (max_batch / max_wait_ms) -> Scorer::score
//        │  BoundedQueue<Scored> (blocking)
//   sink thread: anomalous -> JSON record -> Sink::write; InOrderReleaser -> OffsetTracker
//
// The consumer thread also runs the time-driven work every tick_ms: Windower::tick (idle
// sessions) and storing committable offsets (Source::store_offsets).
//
// Offsets. Without checkpoints, the stored offset of a partition is the OffsetTracker's:
// every line below it is scored and delivered. With checkpoints (CheckpointOptions), every
// interval_ms the consumer thread copies the open state (windower + per-partition positions),
// has the StateStore prepare its job and hands the job to a checkpoint thread, then goes on
// consuming. That thread waits until every window handed over before the copy is delivered,
// then runs the job (encode, write, fsync, atomic rename); back on the consumer thread, once it
// succeeded, the positions are stored: every line below them is either delivered or in the
// checkpoint. (The file is only replaced after those windows were delivered, so a file newer
// than the stored offsets is still complete.) The last checkpoint at shutdown runs the same
// steps on the consumer thread. A restarted pipeline restores the checkpoint and
// continues exactly where it was taken. Records below a partition's position (re-delivered
// after a restart or a rebalance) are skipped and counted, in both modes.
//
// Lifecycle: construct with references to stages that outlive it and the options
// (PipelineOptions: clock, checkpoints, handover, a state to continue from, hooks), run() once.
// run() returns when the source ends or `stop` is set (open sessions are then flushed, scored
// and delivered), or with an error when a stage fails fatally (nothing after the failure is
// committed). Thread-safety: run() from one thread; stats() from any thread.
//
// Code: pipeline.cpp (run: the threads), consumer.cpp, scoring.cpp, delivery.cpp (one loop
// per thread), checkpoints.cpp and handover.cpp (the consumer thread's state saving).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "logguard/core/error.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/pipeline/anomaly_record.hpp"
#include "logguard/pipeline/batcher.hpp"
#include "logguard/pipeline/bounded_queue.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/feedback.hpp"
#include "logguard/pipeline/stages.hpp"
#include "logguard/pipeline/state_store.hpp"
#include "logguard/pipeline/windower.hpp"

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

/// Checkpoints and partition handover through a StateStore (off while `store` is null).
struct CheckpointOptions {
  StateStore* store = nullptr;  // must outlive the pipeline
  /// Checkpoints every `interval_ms` (0: none; see the top of this file); at the end of run() a
  /// last checkpoint follows the final flush (`flush_at_stop`) or replaces it (open sessions
  /// stay open across the restart).
  std::int64_t interval_ms = 0;
  bool flush_at_stop = true;
  /// Partition handover between the members of a consumer group (session mode, issue #6): a
  /// revoked partition's sessions leave this pipeline and are saved through the store with its
  /// position, inside the rebalance; an assigned partition's saved state is loaded and
  /// continued (instead of idling out here while the new owner re-reads them). Needs periodic
  /// checkpoints through the same store, so that stored offsets always match a saved state.
  bool handover = false;
  /// How long a revoke may wait for the windows in flight to be delivered.
  std::chrono::milliseconds handover_timeout{10000};
};

/// Everything about a pipeline besides its config and stages; fixed at construction.
struct PipelineOptions {
  /// Time of windows, ticks, batches and checkpoints; null: Clock::system(). Must outlive the
  /// pipeline. Waits for queues and deliveries stay real time.
  const Clock* clock = nullptr;
  CheckpointOptions checkpoints;
  /// Continue from a saved state: its open sessions are restored and records below its
  /// positions skipped.
  std::optional<PipelineCheckpoint> restore;
  /// Called on the sink thread when an anomaly record was delivered, with the timestamp (ms
  /// since epoch) of the window's last event.
  std::function<void(std::int64_t last_event_ms)> on_delivered;
  /// Called on the consumer thread every tick_ms (time-driven work of other stages, e.g. the
  /// mapper following the template registry).
  std::function<void()> on_tick;
  /// The decode stage (issue #20): each source record is decoded into the log records it
  /// carries (JSON / OTLP; streams of other values skipped), which are mapped, keyed and
  /// windowed with the source record's position; a record that yields none (rejected, other
  /// stream) is done at once and counted by the decoder. Null: records are raw lines.
  /// Used on the consumer thread only; must outlive the pipeline.
  core::RecordDecoder* decoder = nullptr;
  /// Operator feedback (issue #20): an anomalous window whose pattern (anomaly_pattern) the book
  /// marks a false alarm for this stream (config.record.stream) is not published (counted in
  /// PipelineStats::suppressed; its lines are done like a normal window's). Read on the sink
  /// thread; must outlive the pipeline. Null: none.
  const FeedbackBook* feedback = nullptr;
};

/// Record -> template id (Drain parse + the encoder's vocabulary). Consumer thread only.
using Mapper = std::function<core::TemplateId(const Record&)>;

/// Counters, readable while running.
struct PipelineStats {
  std::atomic<std::uint64_t> records{0};          // source records (lines, Kafka messages) processed
  std::atomic<std::uint64_t> log_records{0};      // log records windowed (= records for raw lines; decoded
                                                  // JSON/OTLP records otherwise)
  std::atomic<std::uint64_t> windows{0};          // scored windows
  std::atomic<std::uint64_t> anomalies{0};       // anomalous windows (published or suppressed)
  std::atomic<std::uint64_t> suppressed{0};      // anomalous windows of a pattern marked false alarm
  std::atomic<std::uint64_t> confirmed{0};       // anomalous windows of a confirmed pattern (published)
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
  // Partition handover (CheckpointOptions::handover).
  std::atomic<std::uint64_t> handover_out_partitions{0};  // revoked partitions whose state was saved
  std::atomic<std::uint64_t> handover_out_sessions{0};
  std::atomic<std::uint64_t> handover_in_partitions{0};   // assigned partitions continued from a saved state
  std::atomic<std::uint64_t> handover_in_sessions{0};
  std::atomic<std::uint64_t> handover_failures{0};        // a save or load failed (the partition restarts
                                                          // from its last saved state and committed offset)
  // Sampled by the consumer thread every tick_ms.
  std::atomic<std::uint64_t> sessions_open{0};
  std::atomic<std::uint64_t> sessions_evicted{0};
  std::atomic<std::uint64_t> sessions_suspended{0};  // open sessions now suspended (gauge)
  std::atomic<std::uint64_t> sessions_resumed{0};    // suspended sessions that received a line again
  std::atomic<std::uint64_t> pending_previews{0};    // count mode: open windows previewed when the stream went quiet
  std::atomic<std::uint64_t> sessions_returned{0};   // evicted sessions whose key came back and continued
  std::atomic<std::uint64_t> sessions_remembered{0}; // evicted sessions remembered (gauge)
  std::atomic<std::uint64_t> scorer_queue{0};     // windows waiting for the scorer
  std::atomic<std::uint64_t> sink_queue{0};       // scored windows waiting for the sink
};

class Pipeline {
 public:
  Pipeline(PipelineConfig config, Source& source, Mapper mapper, Scorer& scorer, Sink& sink,
           TemplateText template_text, PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Runs to completion (see above). The error names the failed stage.
  core::Expected<bool> run(const std::atomic<bool>& stop);
  const PipelineStats& stats() const noexcept;
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

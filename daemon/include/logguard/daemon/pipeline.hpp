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
// Lifecycle: construct with references to stages that outlive it, run() once. run() returns
// when the source ends or `stop` is set (open sessions are then flushed, scored and
// delivered), or with an error when a stage fails fatally (nothing after the failure is
// committed). Thread-safety: run() from one thread; stats() from any thread.
#include <atomic>
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
  /// The windower's counters; valid after run() returned.
  WindowerStats windower_stats() const;
  /// Records still held (not yet done) by the offset tracker.
  std::size_t held_records() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

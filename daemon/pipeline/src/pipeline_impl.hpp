#pragma once
// Pipeline::Impl (private): the state the pipeline's threads share and the work of each. The
// member functions are defined by thread: consumer.cpp (consumer loop, hand-over to the scorer,
// offsets), scoring.cpp (scorer thread), delivery.cpp (sink thread), checkpoints.cpp and
// handover.cpp (saving and loading state, on the consumer thread; the periodic checkpoint's job
// on its own thread). pipeline.cpp starts the threads.
//
// Ownership by thread: `windower`, `clock`, `keyer`, `positions`, `handed`, `pending_windows`
// and `running` belong to the consumer thread (the rebalance handlers run there too, inside
// Source::poll); the queues, `tracker` and `stats` are thread-safe; `failure` and `dropped` are
// guarded by `mu`; `done_windows` is written by the sink thread and waited for with `done_cv`.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "logguard/pipeline/offset_tracker.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/pipeline/session_key.hpp"
#include "stream_clock.hpp"

namespace logguard::daemon {

namespace detail {

// A window with its verdict, on its way to the sink thread.
struct Scored {
  Window window;
  Verdict verdict;
};

// The positions a window releases (its first `released` events).
std::vector<SourcePosition> released_positions(const Window& w);

}  // namespace detail

struct Pipeline::Impl {
  Impl(PipelineConfig c, Source& src, Mapper m, Scorer& sc, Sink& sk, TemplateText t, PipelineOptions o);

  PipelineConfig config;
  Source& source;
  Mapper mapper;
  Scorer& scorer;
  Sink& sink;
  TemplateText template_text;
  const Clock& time;  // options.clock or the system clock
  std::function<void(std::int64_t)> delivered_hook;
  std::function<void()> tick_hook;

  Windower windower;
  detail::StreamClock clock;  // the windower's time (consumer thread)
  SessionKeyExtractor keyer;
  bool key_from_field = false;            // sessions keyed by the decoded record's session field
  core::RecordDecoder* decoder = nullptr;  // options.decoder: JSON / OTLP input (null: raw lines)
  const FeedbackBook* feedback = nullptr;  // options.feedback: operator marks (sink thread)
  OffsetTracker tracker;
  BoundedQueue<Window> to_scorer;
  BoundedQueue<detail::Scored> to_sink;
  PipelineStats stats;

  std::mutex mu;                                     // guards the two members below
  std::string failure;                               // first fatal error
  std::vector<std::vector<SourcePosition>> dropped;  // releases of windows evicted by drop_oldest
  std::atomic<bool> failed{false};

  // Positions: the next offset to process per partition (consumer thread). Records below are
  // re-deliveries and skipped.
  std::map<TopicPartition, std::int64_t> positions;
  // Quiescence: windows handed to the scorer (consumer thread) vs. windows whose releases the
  // sink thread applied (InOrderReleaser::drained); equal = nothing in flight.
  std::uint64_t handed = 0;
  std::atomic<std::uint64_t> done_windows{0};
  std::condition_variable done_cv;  // with `mu`

  // Checkpoints (checkpoint_interval_ms 0 = off).
  StateStore* store = nullptr;
  std::int64_t checkpoint_interval_ms = 0;
  bool flush_at_stop = true;
  bool handover = false;  // partition handover through `store`
  std::chrono::milliseconds handover_timeout{10000};
  bool final_checkpoint_taken = false;
  // Whether the offset tracker follows every record (fixed at construction, read by the
  // consumer and sink threads). Only without checkpoints: with them, stored offsets are
  // checkpoint positions and the per-record bookkeeping (two locked map operations per event)
  // is waste.
  bool tracks_records() const { return checkpoint_interval_ms == 0; }
  // The periodic checkpoint in flight (consumer thread starts and finishes it; its thread
  // writes only `result`, then sets `done`).
  struct Running {
    std::thread thread;
    std::vector<SourcePosition> positions;
    std::chrono::steady_clock::duration stall{};
    core::Expected<std::uint64_t> result{std::uint64_t{0}};
    std::chrono::steady_clock::duration write{};
    std::atomic<bool> done{false};
    ~Running() {
      if (thread.joinable()) thread.join();  // an early return on failure: the job ends soon (failed is set)
    }
  };
  std::unique_ptr<Running> running;
  // Windows closed and not yet handed to the scorer (consumer thread; a member so that a
  // revoke inside poll() can hand them over first).
  std::vector<Window> pending_windows;
  std::size_t pending_next = 0;

  // Any thread: records the first fatal error and closes both queues.
  void fail(std::string why);

  // consumer.cpp
  void consume(const std::atomic<bool>& stop);
  std::uint32_t add_record(Record& r, std::int64_t now, std::vector<std::string_view>& keys,
                           std::vector<Window>& pending);
  bool offer(std::vector<Window>& pending, std::size_t& next, std::chrono::milliseconds wait);
  void store_offsets();
  void sample_windower_stats();  // the windower's counters into `stats` (consumer thread)
  std::vector<SourcePosition> position_list() const;

  // scoring.cpp
  void score_loop();
  void process(std::vector<Window> batch);

  // delivery.cpp
  void sink_loop();
  void publish_done(const InOrderReleaser& releaser);

  // checkpoints.cpp
  bool wait_delivered(std::uint64_t handed_at, std::chrono::steady_clock::duration timeout);
  core::Expected<std::uint64_t> run_job(const CheckpointJob& job, std::uint64_t handed_at);
  void checkpoint_done(const std::vector<SourcePosition>& saved, std::uint64_t bytes,
                       std::chrono::steady_clock::duration stall, std::chrono::steady_clock::duration write);
  void checkpoint_failed(const std::string& why);
  std::pair<std::vector<SourcePosition>, CheckpointJob> prepare_checkpoint();
  void start_checkpoint();
  bool finish_checkpoint(bool wait, bool& ok);
  bool final_checkpoint(std::vector<Window>& pending, std::size_t& next);
  void hold(const std::vector<WindowerState::Session>& sessions, const std::vector<Event>& stream);
  void restore(PipelineCheckpoint c);

  // handover.cpp
  void install_rebalance_handlers();
  void revoke_handover(const std::vector<TopicPartition>& tps);
  std::vector<SourcePosition> assign_handover(const std::vector<TopicPartition>& tps);
};

}  // namespace logguard::daemon

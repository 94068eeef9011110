#include "logguard/daemon/pipeline.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "clock_util.hpp"
#include "logguard/daemon/offset_tracker.hpp"
#include "logguard/daemon/session_key.hpp"

namespace logguard::daemon {
namespace {

using namespace std::chrono_literals;

// The windower's clock (steady milliseconds that pass while the consumer is caught up).
// While it is behind -- paused by backpressure, or the poll filled a whole batch with records
// produced more than kBehindMs ago, so a backlog is waiting -- the clock stands still: a
// session turns idle when no line of it arrived for idle_timeout_ms of input time, never
// because the consumer was busy or paused (a stall would otherwise close sessions whose next
// lines sit in the fetch queue, and those partial windows look anomalous). Records of file and
// stdin sources carry their read time, so a replay runs on the wall clock. Consumer thread only.
// The time since the previous poll counts only when this poll shows the consumer caught up, so
// a stall of any kind (a checkpoint, a slow batch) followed by a full poll is not input time.
struct StreamClock {
  std::int64_t now = steady_ms();
  std::int64_t last_wall = now;
  /// The clock's time if the consumer is caught up now (for the poll's wait).
  std::int64_t peek() const { return now + (steady_ms() - last_wall); }
  std::int64_t advance(bool caught_up) {
    const std::int64_t wall = steady_ms();
    if (caught_up) now += wall - last_wall;
    last_wall = wall;
    return now;
  }
};

// A full poll whose newest record is older than this means the consumer has a backlog.
constexpr std::int64_t kBehindMs = 500;

// How long a checkpoint waits for the windows in flight to be delivered before it gives up
// (and is retried at the next tick).
constexpr auto kQuiesceTimeout = 5s;

// Re-raises a nested config's error with its section in front.
template <class F>
void nested(const char* section, F&& f) {
  try {
    f();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(std::string(section) + "." + e.key(), e.message());
  }
}

// A window with its verdict, on its way to the sink thread.
struct Scored {
  Window window;
  Verdict verdict;
};

std::vector<SourcePosition> released_positions(const Window& w) {
  std::vector<SourcePosition> out;
  out.reserve(w.released);
  for (std::size_t i = 0; i < w.released && i < w.events.size(); ++i) out.push_back(w.events[i].pos);
  return out;
}

}  // namespace

void PipelineConfig::validate() const {
  nested("window", [&] { window.validate(); });
  nested("batcher", [&] { batcher.validate(); });
  if (queue_capacity == 0) throw core::ConfigError("queue_capacity", "must be >= 1");
  if (poll_batch == 0) throw core::ConfigError("poll_batch", "must be >= 1");
  if (tick_ms <= 0) throw core::ConfigError("tick_ms", "must be > 0");
}

struct Pipeline::Impl {
  PipelineConfig config;
  Source& source;
  Mapper mapper;
  Scorer& scorer;
  Sink& sink;
  TemplateText template_text;

  Windower windower;
  StreamClock clock;  // the windower's time (consumer thread)
  SessionKeyExtractor keyer;
  OffsetTracker tracker;
  BoundedQueue<Window> to_scorer;
  BoundedQueue<Scored> to_sink;
  PipelineStats stats;

  std::mutex mu;                                   // guards the two members below
  std::string failure;                             // first fatal error
  std::vector<std::vector<SourcePosition>> dropped;  // releases of windows evicted by drop_oldest
  std::atomic<bool> failed{false};
  std::function<void(std::int64_t)> delivered_hook;
  std::function<void()> tick_hook;

  // Positions: the next offset to process per partition (consumer thread). Records below are
  // re-deliveries and skipped.
  std::map<TopicPartition, std::int64_t> positions;
  // Quiescence: windows handed to the scorer (consumer thread) vs. windows whose releases the
  // sink thread applied (InOrderReleaser::drained); equal = nothing in flight.
  std::uint64_t handed = 0;
  std::atomic<std::uint64_t> done_windows{0};
  std::condition_variable done_cv;  // with `mu`
  // Checkpoints (0 = off).
  std::int64_t checkpoint_interval_ms = 0;
  // Whether the offset tracker follows every record (set before run(), read by the consumer
  // and sink threads). Only without checkpoints: with them, stored offsets are checkpoint
  // positions and the per-record bookkeeping (two locked map operations per event) is waste.
  bool tracks_records() const { return checkpoint_interval_ms == 0; }
  CheckpointWriter checkpoint_writer;
  bool flush_at_stop = true;
  bool final_checkpoint_taken = false;
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
  // Partition handover (empty functions = off).
  PartitionHandover handover;

  Impl(PipelineConfig c, Source& src, Mapper m, Scorer& sc, Sink& sk, TemplateText t)
      : config((c.validate(), std::move(c))),
        source(src),
        mapper(std::move(m)),
        scorer(sc),
        sink(sk),
        template_text(std::move(t)),
        windower(config.window),
        keyer(config.window),
        to_scorer(config.queue_capacity, config.overflow),
        to_sink(config.queue_capacity, Overflow::block) {}

  void fail(std::string why) {
    {
      std::lock_guard lock(mu);
      if (failure.empty()) failure = std::move(why);
      failed = true;
    }
    done_cv.notify_all();
    to_scorer.close();
    to_sink.close();
  }

  // Consumer side: hands windows to the scorer. Returns false while the queue stays full
  // (the caller pauses the source and retries later); windows not handed over stay in `pending`.
  bool offer(std::vector<Window>& pending, std::size_t& next, std::chrono::milliseconds wait) {
    while (next < pending.size()) {
      std::optional<Window> evicted;
      auto r = to_scorer.push(pending[next], wait, &evicted);
      if (r == BoundedQueue<Window>::PushResult::timeout) return false;
      if (r == BoundedQueue<Window>::PushResult::closed) return true;  // failing; nothing to do
      ++handed;
      if (evicted) {
        ++stats.dropped_windows;
        std::lock_guard lock(mu);
        dropped.push_back(tracks_records() ? released_positions(*evicted) : std::vector<SourcePosition>{});
      }
      ++next;
    }
    pending.clear();
    next = 0;
    return true;
  }

  // Partitions are not forgotten when revoked: their sessions stay open here, and if the
  // partition comes back, records below its position are skipped.
  void store_offsets() {
    (void)source.take_revoked();
    if (checkpoint_interval_ms > 0) return;  // offsets are stored with checkpoints
    auto offsets = tracker.take_committable();
    if (offsets.empty()) return;
    source.store_offsets(offsets);
    ++stats.offset_stores;
  }

  std::vector<SourcePosition> position_list() const {
    std::vector<SourcePosition> out;
    out.reserve(positions.size());
    for (const auto& [tp, next] : positions) out.push_back({tp, next});
    return out;
  }

  // Waits until every window handed over before `handed_at` was delivered (or failed / timed out).
  bool wait_delivered(std::uint64_t handed_at, std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(mu);
    return done_cv.wait_for(lock, timeout, [&] { return failed.load() || done_windows.load() >= handed_at; }) &&
           !failed;
  }

  // Runs a checkpoint job once the windows handed before it are delivered.
  core::Expected<std::uint64_t> run_job(const CheckpointJob& job, std::uint64_t handed_at) {
    if (!wait_delivered(handed_at, kQuiesceTimeout))
      return core::Error{failed ? std::string("pipeline failed") : std::string("windows still in flight after 5 s")};
    return job();
  }

  // After a checkpoint succeeded: store its positions (consumer thread).
  void checkpoint_done(const std::vector<SourcePosition>& saved, std::uint64_t bytes,
                       std::chrono::steady_clock::duration stall, std::chrono::steady_clock::duration write) {
    if (!saved.empty()) {
      source.store_offsets(saved);
      ++stats.offset_stores;
    }
    ++stats.checkpoints;
    stats.checkpoint_bytes = bytes;
    stats.checkpoint_ms = wall_ms();
    using us = std::chrono::microseconds;
    stats.checkpoint_stall_us = static_cast<std::uint64_t>(std::chrono::duration_cast<us>(stall).count());
    stats.checkpoint_write_us = static_cast<std::uint64_t>(std::chrono::duration_cast<us>(write).count());
  }

  void checkpoint_failed(const std::string& why) {
    ++stats.checkpoint_failures;
    if (!failed) std::fprintf(stderr, "logguardd: checkpoint not taken: %s\n", why.c_str());
  }

  // The positions and the writer's job for the open state now (consumer thread).
  std::pair<std::vector<SourcePosition>, CheckpointJob> prepare_checkpoint() {
    auto now_at = position_list();
    CheckpointJob job = checkpoint_writer(PipelineCheckpoint{now_at, windower.state(clock.now)});
    return {std::move(now_at), std::move(job)};
  }

  // Starts a periodic checkpoint on its own thread (consumer thread; none may be running).
  void start_checkpoint() {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = std::make_unique<Running>();
    auto [saved, job] = prepare_checkpoint();
    r->positions = std::move(saved);
    r->stall = std::chrono::steady_clock::now() - t0;
    Running* rp = r.get();
    const std::uint64_t handed_at = handed;
    r->thread = std::thread([this, rp, handed_at, job = std::move(job)] {
      pthread_setname_np(pthread_self(), "lg-checkpoint");
      const auto t = std::chrono::steady_clock::now();
      rp->result = run_job(job, handed_at);
      rp->write = std::chrono::steady_clock::now() - t;
      rp->done.store(true, std::memory_order_release);
    });
    running = std::move(r);
  }

  // Finishes the periodic checkpoint if its thread is done (or waits for it with `wait`).
  // Returns whether one finished, and sets `ok` to its success.
  bool finish_checkpoint(bool wait, bool& ok) {
    if (!running || (!wait && !running->done.load(std::memory_order_acquire))) return false;
    running->thread.join();
    ok = running->result.has_value();
    if (ok)
      checkpoint_done(running->positions, *running->result, running->stall, running->write);
    else
      checkpoint_failed(running->result.error().message);
    running.reset();
    return true;
  }

  // The last checkpoint (shutdown), on the consumer thread: waits for the windows in flight.
  bool final_checkpoint(std::vector<Window>& pending, std::size_t& next) {
    bool ok = false;
    finish_checkpoint(true, ok);
    const auto t0 = std::chrono::steady_clock::now();
    if (!pending.empty() && !offer(pending, next, 100ms)) return false;
    const auto [saved, job] = prepare_checkpoint();
    const auto t1 = std::chrono::steady_clock::now();
    auto written = run_job(job, handed);
    if (!written) {
      checkpoint_failed(written.error().message);
      return false;
    }
    const auto t2 = std::chrono::steady_clock::now();
    checkpoint_done(saved, *written, t2 - t0, t2 - t1);
    return true;
  }

  // Registers the events of restored sessions with the offset tracker, once per session
  // that holds them.
  void hold(const std::vector<WindowerState::Session>& sessions, const std::vector<Event>& stream) {
    if (!tracks_records()) return;
    std::vector<const SourcePosition*> held;
    for (const auto& s : sessions)
      for (const auto& e : s.events) held.push_back(&e.pos);
    for (const auto& e : stream) held.push_back(&e.pos);
    std::sort(held.begin(), held.end(), [](const SourcePosition* a, const SourcePosition* b) {
      return std::tie(a->tp, a->offset) < std::tie(b->tp, b->offset);
    });
    for (std::size_t i = 0; i < held.size();) {
      std::size_t j = i + 1;
      while (j < held.size() && held[j]->tp == held[i]->tp && held[j]->offset == held[i]->offset) ++j;
      tracker.begin(*held[i], static_cast<std::uint32_t>(j - i));
      i = j;
    }
  }

  // Revoke with handover (consumer thread, inside poll): the partitions' sessions leave this
  // pipeline and are saved with their positions once every window closed before is delivered;
  // then the positions are stored (committed by the source right after). If that fails, the
  // partitions' last saved state and committed offsets still match: the new owner re-reads.
  void revoke_handover(const std::vector<TopicPartition>& tps) {
    bool ok = false;
    finish_checkpoint(true, ok);  // an older periodic state must not be saved after this one
    const auto deadline = std::chrono::steady_clock::now() + handover.timeout;
    while (!failed && !pending_windows.empty() && !offer(pending_windows, pending_next, 100ms) &&
           std::chrono::steady_clock::now() < deadline) {
    }
    const std::set<TopicPartition> gone(tps.begin(), tps.end());
    PipelineCheckpoint out;
    out.windows.sessions = windower.take_sessions([&](const TopicPartition& tp) { return gone.count(tp) > 0; }, clock.now);
    for (const auto& tp : tps)
      if (auto it = positions.find(tp); it != positions.end()) out.positions.push_back({tp, it->second});
    const std::size_t sessions = out.windows.sessions.size();
    std::string problem;
    if (pending_windows.empty() && wait_delivered(handed, std::max<std::chrono::steady_clock::duration>(
                                                      deadline - std::chrono::steady_clock::now(), 0ms))) {
      if (!out.positions.empty()) {
        const auto stored = out.positions;
        auto saved = handover.save(std::move(out));
        if (saved) {
          source.store_offsets(stored);
          ++stats.offset_stores;
          stats.handover_out_partitions += stored.size();
          stats.handover_out_sessions += sessions;
        } else {
          problem = saved.error().message;
        }
      }
    } else if (!failed) {
      problem = "windows still in flight after " + std::to_string(handover.timeout.count()) + " ms";
    }
    if (!problem.empty()) {
      ++stats.handover_failures;
      std::fprintf(stderr, "logguardd: handover of %zu revoked partition(s) not saved (%s); the new owner continues "
                   "from the last saved state\n", tps.size(), problem.c_str());
    }
    for (const auto& tp : tps) {
      positions.erase(tp);
      tracker.forget(tp);
    }
  }

  // Assign with handover: continues the partitions' saved sessions; reading starts at their
  // saved positions.
  std::vector<SourcePosition> assign_handover(const std::vector<TopicPartition>& tps) {
    auto loaded = handover.load(tps);
    if (!loaded) {
      ++stats.handover_failures;
      std::fprintf(stderr, "logguardd: handover state of %zu assigned partition(s) not loaded (%s); starting at the "
                   "committed offsets without their open sessions\n", tps.size(), loaded.error().message.c_str());
      return {};
    }
    for (const auto& pos : loaded->positions) {
      tracker.forget(pos.tp);
      positions[pos.tp] = pos.offset;
    }
    hold(loaded->windows.sessions, {});
    const std::size_t n = loaded->windows.sessions.size();
    const std::size_t added = windower.adopt_sessions(std::move(loaded->windows.sessions), clock.now);
    if (added != n)
      std::fprintf(stderr, "logguardd: handover: %zu session(s) were already open here; kept ours\n", n - added);
    stats.handover_in_partitions += loaded->positions.size();
    stats.handover_in_sessions += added;
    return loaded->positions;
  }

  void consume(const std::atomic<bool>& stop) {
    std::vector<Record> records;
    std::vector<Window>& pending = pending_windows;
    std::size_t& next = pending_next;
    std::vector<std::string_view> keys;
    bool paused = false;
    std::int64_t last_tick = steady_ms();  // steady time: ticks and checkpoints run on the wall clock
    std::int64_t last_checkpoint = last_tick;
    bool ended = false;
    const bool tracks = tracks_records();
    while (!failed && !stop && !ended) {
      if (!pending.empty() && !offer(pending, next, 10ms)) {
        if (!paused) {
          source.pause();
          paused = true;
          ++stats.pauses;
        }
      } else if (paused) {
        source.resume();
        paused = false;
      }
      records.clear();
      // Wait for input at most until the next session turns idle, so idle windows close on
      // time rather than on the next tick.
      auto wait = paused ? 0ms : 100ms;
      if (const std::int64_t idle_at = windower.next_idle_ms(); idle_at >= 0 && !paused)
        wait = std::clamp(std::chrono::milliseconds(idle_at - clock.peek()), 0ms, 100ms);
      const auto status = source.poll(records, config.poll_batch, wait);
      if (status == Source::PollStatus::fatal) {
        fail("source: " + source.error());
        return;
      }
      ended = status == Source::PollStatus::end_of_stream;
      bool behind = paused;
      if (!behind && records.size() >= config.poll_batch) {
        std::int64_t newest = 0;
        for (const Record& r : records) newest = std::max(newest, r.timestamp_ms);
        behind = wall_ms() - newest > kBehindMs;
      }
      const std::int64_t now = clock.advance(!behind);  // window time
      const std::int64_t wall = steady_ms();
      for (Record& r : records) {
        auto [at, fresh] = positions.try_emplace(r.pos.tp, r.pos.offset + 1);
        if (!fresh) {
          if (r.pos.offset < at->second) {
            ++stats.redelivered;
            continue;
          }
          at->second = r.pos.offset + 1;
        }
        Event e;
        e.template_id = mapper(r);
        e.pos = r.pos;
        e.timestamp_ms = r.timestamp_ms;
        e.line = std::move(r.line);  // the source's one allocation; every copy shares it
        keyer.extract(e.line, r.key, keys);  // views into e.line's shared bytes: valid while any copy lives
        const auto holders = static_cast<std::uint32_t>(windower.add(std::move(e), keys, now, pending));
        if (tracks) tracker.begin(r.pos, holders);
        ++stats.records;
      }
      if (const std::int64_t idle_at = windower.next_idle_ms(); idle_at >= 0 && now >= idle_at)
        windower.tick(now, pending);
      if (wall - last_tick >= config.tick_ms) {
        if (tick_hook) tick_hook();
        store_offsets();
        stats.sessions_open = windower.open_sessions();
        stats.sessions_evicted = windower.stats().sessions_evicted;
        stats.scorer_queue = to_scorer.size();
        stats.sink_queue = to_sink.size();
        last_tick = wall;
        if (checkpoint_interval_ms > 0 && !running && wall - last_checkpoint >= checkpoint_interval_ms) {
          start_checkpoint();
          last_checkpoint = wall;
        }
      }
      if (bool ok = false; finish_checkpoint(false, ok) && !ok)
        last_checkpoint = wall - checkpoint_interval_ms * 9 / 10;  // retry after a tenth of the interval
    }
    bool last_ok = false;
    finish_checkpoint(true, last_ok);  // a failure was counted and reported; the next one retries
    if (failed) return;
    // Stop with checkpoints that keep sessions open: the final checkpoint replaces the flush.
    if (!ended && checkpoint_interval_ms > 0 && !flush_at_stop) {
      if (paused) source.resume();
      if (final_checkpoint(pending, next)) {
        final_checkpoint_taken = true;
        return;
      }
      std::fprintf(stderr, "logguardd: final checkpoint failed; closing the open sessions instead\n");
    }
    // End of input or stop: close every session and hand everything over.
    windower.flush(pending);
    if (paused) source.resume();
    while (!failed && !offer(pending, next, 100ms)) {
    }
  }

  void process(std::vector<Window> batch) {
    std::vector<const Window*> to_score;
    for (const auto& w : batch)
      if (!w.release_only) to_score.push_back(&w);
    std::vector<Verdict> verdicts;
    if (!to_score.empty()) {
      auto r = scorer.score(to_score);
      if (!r) return fail("scorer: " + r.error().message);
      if (r->size() != to_score.size()) return fail("scorer: returned a wrong number of verdicts");
      verdicts = std::move(*r);
      stats.windows += to_score.size();
    }
    std::size_t v = 0;
    for (auto& w : batch) {
      Scored s{std::move(w), {}};
      if (!s.window.release_only) s.verdict = std::move(verdicts[v++]);
      while (true) {
        auto r = to_sink.push(s, 100ms);
        if (r != BoundedQueue<Scored>::PushResult::timeout) break;
      }
      if (failed) return;
    }
  }

  void score_loop() {
    Batcher batcher(config.batcher);
    std::vector<Window> got;
    while (!failed) {
      const std::int64_t now = steady_ms();
      auto deadline = batcher.next_deadline();
      auto wait = deadline ? std::chrono::milliseconds(std::max<std::int64_t>(0, *deadline - now)) : 100ms;
      got.clear();
      const std::size_t n = to_scorer.pop_many(got, config.batcher.max_batch, wait);
      for (auto& w : got)
        if (auto b = batcher.add(std::move(w), steady_ms())) process(std::move(*b));
      if (auto b = batcher.tick(steady_ms())) process(std::move(*b));
      if (n == 0 && to_scorer.closed_and_empty()) break;
    }
    if (!failed)
      if (auto b = batcher.flush()) process(std::move(*b));
    to_sink.close();
  }

  void publish_done(const InOrderReleaser& releaser) {
    const std::uint64_t d = releaser.drained();
    if (d == done_windows.load(std::memory_order_relaxed)) return;
    {
      std::lock_guard lock(mu);
      done_windows = d;
    }
    done_cv.notify_all();
  }

  void sink_loop() {
    InOrderReleaser releaser(tracker);
    const bool tracks = tracks_records();
    std::vector<Scored> got;
    const std::string version = scorer.model_version();
    // Delivery callbacks still pending when this loop ends (flush timed out) may run later,
    // from the sink's destructor: they must not touch `releaser` or the pipeline then.
    auto alive = std::make_shared<bool>(true);
    while (!failed) {
      got.clear();
      const std::size_t n = to_sink.pop_many(got, 64, 50ms);
      {
        std::lock_guard lock(mu);
        for (auto& d : dropped) releaser.add(std::move(d), false);
        dropped.clear();
      }
      for (const auto& s : got) {
        const bool anomalous = !s.window.release_only && s.verdict.anomalous;
        auto ticket = releaser.add(tracks ? released_positions(s.window) : std::vector<SourcePosition>{}, anomalous);
        publish_done(releaser);
        if (!anomalous) continue;
        const std::int64_t last_ms = s.window.events.empty() ? 0 : s.window.events.back().timestamp_ms;
        ++stats.anomalies;
        sink.write(s.window.key, anomaly_record_id(s.window, version),
                   anomaly_record_json(s.window, s.verdict, version, template_text, config.record),
                   [this, &releaser, ticket, alive, last_ms](bool ok, std::string_view error) {
                     if (!*alive) return;
                     if (ok) {
                       ++stats.delivered;
                       if (delivered_hook) delivered_hook(last_ms);
                       releaser.complete(ticket);
                     } else {
                       ++stats.delivery_failures;
                       fail("sink: " + std::string(error));
                     }
                   });
      }
      sink.poll(0ms);
      publish_done(releaser);
      if (n == 0 && to_sink.closed_and_empty()) break;
    }
    if (sink.flush(30s) != 0) fail("sink: records still undelivered at shutdown");
    *alive = false;
  }
};

Pipeline::Pipeline(PipelineConfig config, Source& source, Mapper mapper, Scorer& scorer, Sink& sink,
                   TemplateText template_text)
    : impl_(std::make_unique<Impl>(std::move(config), source, std::move(mapper), scorer, sink,
                                   std::move(template_text))) {}

Pipeline::~Pipeline() = default;

core::Expected<bool> Pipeline::run(const std::atomic<bool>& stop) {
  Impl& p = *impl_;
  // Before a rebalance takes partitions away: store what is done (without checkpoints; with
  // them the last checkpoint's positions stay stored). A new owner re-reads from there.
  p.source.set_revoke_handler([&p](const std::vector<TopicPartition>& tps) {
    if (p.handover.save) return p.revoke_handover(tps);
    if (p.checkpoint_interval_ms > 0) return;
    auto offsets = p.tracker.take_committable();
    if (!offsets.empty()) p.source.store_offsets(offsets);
  });
  if (p.handover.load)
    p.source.set_assign_handler([&p](const std::vector<TopicPartition>& tps) { return p.assign_handover(tps); });
  // Named for top -H / per-thread CPU in the benchmarks (the consumer is the calling thread,
  // left with the process name so that pgrep/pidof still find the daemon).
  std::thread scorer([&] {
    pthread_setname_np(pthread_self(), "lg-scorer");
    p.score_loop();
  });
  std::thread sinker([&] {
    pthread_setname_np(pthread_self(), "lg-sink");
    p.sink_loop();
  });
  p.consume(stop);
  p.to_scorer.close();
  scorer.join();
  sinker.join();
  p.source.set_revoke_handler({});
  p.source.set_assign_handler({});
  if (p.failed) {
    std::lock_guard lock(p.mu);
    return core::Error{p.failure};
  }
  if (p.checkpoint_interval_ms > 0) {
    if (!p.final_checkpoint_taken) {
      // Everything was flushed and delivered: the checkpoint holds the parser and positions.
      const auto [positions, job] = p.prepare_checkpoint();
      auto written = job();
      if (!written) return core::Error{"checkpoint at shutdown: " + written.error().message};
      p.checkpoint_done(positions, *written, {}, {});
    }
    return true;
  }
  p.store_offsets();  // everything is done now
  return true;
}

void Pipeline::enable_checkpoints(std::int64_t interval_ms, CheckpointWriter writer, bool flush_at_stop) {
  impl_->checkpoint_interval_ms = interval_ms > 0 && writer ? interval_ms : 0;
  impl_->checkpoint_writer = std::move(writer);
  impl_->flush_at_stop = flush_at_stop;
}

void Pipeline::restore(PipelineCheckpoint c) {
  Impl& p = *impl_;
  for (const auto& pos : c.positions) p.positions[pos.tp] = pos.offset;
  p.hold(c.windows.sessions, c.windows.stream);
  p.windower.restore(std::move(c.windows), p.clock.now);
}

void Pipeline::enable_handover(PartitionHandover handover) { impl_->handover = std::move(handover); }

const PipelineStats& Pipeline::stats() const noexcept { return impl_->stats; }
void Pipeline::on_delivered(std::function<void(std::int64_t)> f) { impl_->delivered_hook = std::move(f); }
void Pipeline::on_tick(std::function<void()> f) { impl_->tick_hook = std::move(f); }
WindowerStats Pipeline::windower_stats() const { return impl_->windower.stats(); }
std::size_t Pipeline::held_records() const { return impl_->tracker.held(); }

}  // namespace logguard::daemon

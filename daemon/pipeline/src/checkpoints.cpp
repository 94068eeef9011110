// Checkpoints (see pipeline_impl.hpp and the top of pipeline.hpp): the consumer thread copies
// the open state and has the StateStore prepare its job; the job runs on a checkpoint thread
// once every window handed over before the copy was delivered; then the positions are stored.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "logguard/pipeline/log.hpp"
#include "pipeline_impl.hpp"

namespace logguard::daemon {

using namespace std::chrono_literals;

namespace {

// How long a checkpoint waits for the windows in flight to be delivered before it gives up
// (and is retried at the next tick).
constexpr auto kQuiesceTimeout = 5s;

}  // namespace

// Waits until every window handed over before `handed_at` was delivered (or failed / timed out).
bool Pipeline::Impl::wait_delivered(std::uint64_t handed_at, std::chrono::steady_clock::duration timeout) {
  std::unique_lock lock(mu);
  return done_cv.wait_for(lock, timeout, [&] { return failed.load() || done_windows.load() >= handed_at; }) &&
         !failed;
}

// Runs a checkpoint job once the windows handed before it are delivered.
core::Expected<std::uint64_t> Pipeline::Impl::run_job(const CheckpointJob& job, std::uint64_t handed_at) {
  if (!wait_delivered(handed_at, kQuiesceTimeout))
    return core::Error{failed ? std::string("pipeline failed") : std::string("windows still in flight after 5 s")};
  return job();
}

// After a checkpoint succeeded: store its positions (consumer thread).
void Pipeline::Impl::checkpoint_done(const std::vector<SourcePosition>& saved, std::uint64_t bytes,
                     std::chrono::steady_clock::duration stall, std::chrono::steady_clock::duration write) {
  if (!saved.empty()) {
    source.store_offsets(saved);
    ++stats.offset_stores;
  }
  ++stats.checkpoints;
  stats.checkpoint_bytes = bytes;
  stats.checkpoint_ms = time.wall_ms();
  using us = std::chrono::microseconds;
  stats.checkpoint_stall_us = static_cast<std::uint64_t>(std::chrono::duration_cast<us>(stall).count());
  stats.checkpoint_write_us = static_cast<std::uint64_t>(std::chrono::duration_cast<us>(write).count());
}

void Pipeline::Impl::checkpoint_failed(const std::string& why) {
  ++stats.checkpoint_failures;
  if (!failed) log_warning("checkpoint not taken: %s", why.c_str());
}

// The positions and the store's job for the open state now (consumer thread).
std::pair<std::vector<SourcePosition>, CheckpointJob> Pipeline::Impl::prepare_checkpoint() {
  auto now_at = position_list();
  CheckpointJob job = store->prepare(PipelineCheckpoint{now_at, windower.state(clock.now)});
  return {std::move(now_at), std::move(job)};
}

// Starts a periodic checkpoint on its own thread (consumer thread; none may be running).
void Pipeline::Impl::start_checkpoint() {
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
bool Pipeline::Impl::finish_checkpoint(bool wait, bool& ok) {
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
bool Pipeline::Impl::final_checkpoint(std::vector<Window>& pending, std::size_t& next) {
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
void Pipeline::Impl::hold(const std::vector<WindowerState::Session>& sessions, const std::vector<Event>& stream) {
  if (!tracks_records()) return;
  std::vector<const SourcePosition*> held;
  for (const auto& s : sessions)  // a suspended session's context was released before
    for (std::size_t i = std::min(s.context, s.events.size()); i < s.events.size(); ++i) held.push_back(&s.events[i].pos);
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

// Continues from a saved state (construction): restores the open sessions and skips records
// below its positions.
void Pipeline::Impl::restore(PipelineCheckpoint c) {
  for (const auto& pos : c.positions) positions[pos.tp] = pos.offset;
  hold(c.windows.sessions, c.windows.stream);
  windower.restore(std::move(c.windows), clock.now);
}

}  // namespace logguard::daemon

// The consumer thread (see pipeline_impl.hpp): poll -> key + map -> windower -> the scorer
// queue, pausing the source while that queue stays full; ticks, offsets and checkpoints.
#include <algorithm>
#include <chrono>

#include "logguard/pipeline/log.hpp"
#include "pipeline_impl.hpp"

namespace logguard::daemon {

using namespace std::chrono_literals;

// Consumer side: hands windows to the scorer. Returns false while the queue stays full
// (the caller pauses the source and retries later); windows not handed over stay in `pending`.
bool Pipeline::Impl::offer(std::vector<Window>& pending, std::size_t& next, std::chrono::milliseconds wait) {
  while (next < pending.size()) {
    std::optional<Window> evicted;
    auto r = to_scorer.push(pending[next], wait, &evicted);
    if (r == BoundedQueue<Window>::PushResult::timeout) return false;
    if (r == BoundedQueue<Window>::PushResult::closed) return true;  // failing; nothing to do
    ++handed;
    if (evicted) {
      ++stats.dropped_windows;
      std::lock_guard lock(mu);
      dropped.push_back(tracks_records() ? detail::released_positions(*evicted) : std::vector<SourcePosition>{});
    }
    ++next;
  }
  pending.clear();
  next = 0;
  return true;
}

// Partitions are not forgotten when revoked: their sessions stay open here, and if the
// partition comes back, records below its position are skipped.
void Pipeline::Impl::store_offsets() {
  (void)source.take_revoked();
  if (checkpoint_interval_ms > 0) return;  // offsets are stored with checkpoints
  auto offsets = tracker.take_committable();
  if (offsets.empty()) return;
  source.store_offsets(offsets);
  ++stats.offset_stores;
}

void Pipeline::Impl::sample_windower_stats() {
  const auto& w = windower.stats();
  stats.sessions_open = windower.open_sessions();
  stats.sessions_evicted = w.sessions_evicted;
  stats.sessions_suspended = windower.suspended_sessions();
  stats.sessions_resumed = w.sessions_resumed;
  stats.pending_previews = w.pending_previews;
  stats.sessions_returned = w.sessions_returned;
  stats.sessions_remembered = windower.evicted_sessions();
}

std::vector<SourcePosition> Pipeline::Impl::position_list() const {
  std::vector<SourcePosition> out;
  out.reserve(positions.size());
  for (const auto& [tp, next] : positions) out.push_back({tp, next});
  return out;
}

// One log record: map, key, window. Returns the windows that will release it.
std::uint32_t Pipeline::Impl::add_record(Record& r, std::int64_t now, std::vector<std::string_view>& keys,
                                         std::vector<Window>& pending) {
  Event e;
  e.template_id = mapper(r);
  e.pos = r.pos;
  e.timestamp_ms = r.timestamp_ms;
  e.line = std::move(r.line);  // the source's one allocation; every copy shares it
  // Views into e.line's shared bytes (valid while any copy lives) or into r's key / session
  // field (the windower copies a new session's key).
  keyer.extract(e.line, key_from_field ? std::string_view(r.session) : std::string_view(r.key), keys);
  ++stats.log_records;
  return static_cast<std::uint32_t>(windower.add(std::move(e), keys, now, pending));
}

void Pipeline::Impl::consume(const std::atomic<bool>& stop) {
  std::vector<Record> records;
  std::vector<core::DecodedRecord> decoded;
  Record one;
  std::vector<Window>& pending = pending_windows;
  std::size_t& next = pending_next;
  std::vector<std::string_view> keys;
  bool paused = false;
  std::int64_t last_tick = time.steady_ms();  // steady time: ticks and checkpoints run on the wall clock
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
      behind = time.wall_ms() - newest > detail::kBehindMs;
    }
    const std::int64_t now = clock.advance(!behind);  // window time
    const std::int64_t wall = time.steady_ms();
    for (Record& r : records) {
      auto [at, fresh] = positions.try_emplace(r.pos.tp, r.pos.offset + 1);
      if (!fresh) {
        if (r.pos.offset < at->second) {
          ++stats.redelivered;
          continue;
        }
        at->second = r.pos.offset + 1;
      }
      std::uint32_t holders = 0;
      if (decoder == nullptr) {
        holders = add_record(r, now, keys, pending);
      } else {
        // Decode stage (issue #20): the input record's log records, each with the record's
        // position; a rejected record joins no window (its position is done at once).
        decoder->decode(r.line.view(), decoded, r.truncated);
        for (const auto& d : decoded) {
          one.line = SharedLine(d.message);
          one.key = r.key;
          one.pos = r.pos;
          one.timestamp_ms = d.timestamp_ms.value_or(r.timestamp_ms);
          one.session.assign(d.session);
          holders += add_record(one, now, keys, pending);
        }
      }
      if (tracks) tracker.begin(r.pos, holders);
      ++stats.records;
    }
    if (const std::int64_t idle_at = windower.next_idle_ms(); idle_at >= 0 && now >= idle_at)
      windower.tick(now, pending);
    if (wall - last_tick >= config.tick_ms) {
      if (tick_hook) tick_hook();
      store_offsets();
      sample_windower_stats();
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
    log_warning("final checkpoint failed; closing the open sessions instead");
  }
  // End of input or stop: close every session and hand everything over (at a stop the sessions
  // are cut: their events are scored, their end is not judged).
  windower.flush(pending, ended ? CloseReason::end_of_input : CloseReason::shutdown);
  sample_windower_stats();
  if (paused) source.resume();
  while (!failed && !offer(pending, next, 100ms)) {
  }
}

}  // namespace logguard::daemon

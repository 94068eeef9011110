#include "logguard/pipeline/windower.hpp"

#include <algorithm>
#include <iterator>
#include <optional>

namespace logguard::daemon {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool by_time(const Event& a, const Event& b) { return a.timestamp_ms < b.timestamp_ms; }

}  // namespace

const char* to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::max_length: return "max_length";
    case CloseReason::idle: return "idle";
    case CloseReason::suspended: return "suspended";
    case CloseReason::evicted: return "evicted";
    case CloseReason::shutdown: return "shutdown";
    case CloseReason::time: return "time";
    case CloseReason::end_of_input: return "end_of_input";
    case CloseReason::pending: return "pending";
  }
  return "unknown";
}

const char* to_string(WindowConfig::Mode m) noexcept {
  switch (m) {
    case WindowConfig::Mode::session: return "session";
    case WindowConfig::Mode::count: return "count";
    case WindowConfig::Mode::time: return "time";
  }
  return "unknown";
}

void WindowConfig::validate() const {
  using core::ConfigError;
  if (idle_timeout_ms < 0) throw ConfigError("idle_timeout_ms", "must be >= 0 (0 = never)");
  if (end_timeout_ms < 0) throw ConfigError("end_timeout_ms", "must be >= 0 (0 = sessions end at idle_timeout_ms)");
  if (end_timeout_ms > 0 && end_timeout_ms < idle_timeout_ms)
    throw ConfigError("end_timeout_ms", "must be 0 or >= idle_timeout_ms (" + std::to_string(idle_timeout_ms) + ")");
  if (mode == Mode::time) {
    if (window_ms <= 0) throw ConfigError("window_ms", "must be > 0");
    if (stride_ms < 0 || stride_ms > window_ms)
      throw ConfigError("stride_ms", "must be between 0 (= window_ms) and window_ms");
    return;
  }
  if (length == 0) throw ConfigError("length", "must be >= 1");
  if (length > 1'000'000) throw ConfigError("length", "must be <= 1000000");
  if (stride > length) throw ConfigError("stride", "must be between 0 (= length) and length");
  if (mode == Mode::session) {
    if (max_open_sessions == 0) throw ConfigError("max_open_sessions", "must be >= 1");
    if (key_from == KeyFrom::pattern && key_pattern.empty())
      throw ConfigError("key_pattern", "must not be empty when key is 'pattern'");
    if (key_from == KeyFrom::entity && !entity.enabled())
      throw ConfigError("key", "'entity' needs the entity settings of the bundle (model.data.entity at training)");
  }
}

Windower::Windower(WindowConfig config) : config_(std::move(config)) { config_.validate(); }

std::size_t Windower::add(const Event& e, std::span<const std::string_view> keys, std::int64_t now_ms,
                          std::vector<Window>& out) {
  return add_impl(e, keys, now_ms, out);
}

std::size_t Windower::add(Event&& e, std::span<const std::string_view> keys, std::int64_t now_ms,
                          std::vector<Window>& out) {
  return add_impl(std::move(e), keys, now_ms, out);
}

template <class E>
std::size_t Windower::add_impl(E&& e, std::span<const std::string_view> keys, std::int64_t now_ms,
                               std::vector<Window>& out) {
  ++stats_.events;
  switch (config_.mode) {
    case WindowConfig::Mode::time:
      add_timed(e, now_ms, out);
      return 1;
    case WindowConfig::Mode::count:
      add_to_session(std::forward<E>(e), std::string_view(), now_ms, out);
      return 1;
    case WindowConfig::Mode::session: break;
  }
  // The last distinct key gets the event itself (moved when E is an rvalue), earlier ones a copy.
  std::size_t last = keys.size();
  for (std::size_t i = keys.size(); i-- > 0;)
    if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) ==
        keys.begin() + static_cast<std::ptrdiff_t>(i)) {
      last = i;
      break;
    }
  // Keys may be views into e.line's shared bytes: they stay valid while any copy of the event lives.
  std::size_t joined = 0;
  for (std::size_t i = 0; i < keys.size() && i <= last; ++i) {
    if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) !=
        keys.begin() + static_cast<std::ptrdiff_t>(i))
      continue;  // duplicate key in the same line
    if (i == last)
      add_to_session(std::forward<E>(e), keys[i], now_ms, out);
    else
      add_to_session(static_cast<const Event&>(e), keys[i], now_ms, out);
    ++joined;
  }
  if (joined == 0) ++stats_.unkeyed_events;
  return joined;
}

template <class E>
void Windower::add_to_session(E&& e, std::string_view key, std::int64_t now_ms, std::vector<Window>& out) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    // An evicted session that comes back is taken out of the remembered ones first, so that
    // the eviction below cannot push it out.
    std::optional<Evicted> back;
    if (!evicted_.empty())
      if (auto ev = evicted_.find(std::hash<std::string_view>{}(key)); ev != evicted_.end()) {
        back = std::move(ev->second);
        evicted_.erase(ev);
      }
    if (sessions_.size() >= config_.max_open_sessions && !(lru_.empty() && parked_.empty())) {
      // A suspended session goes first: it holds no pending event.
      evict_session(sessions_.find((parked_.empty() ? lru_ : parked_).front()->first), out);
    }
    it = sessions_.emplace(std::string(key), Session{}).first;
    lru_.push_back(&*it);
    it->second.lru = std::prev(lru_.end());
    it->second.tp = e.pos.tp;
    ++stats_.sessions_opened;
    if (back) {  // continue it where it was evicted, its last events' templates as context
      Session& s = it->second;
      s.start = back->start;
      s.judged = back->judged;
      s.next_sequence = back->next_sequence;
      s.events.reserve(back->context.size() + 1);
      for (const auto id : back->context) {
        Event c;
        c.template_id = id;
        s.events.push_back(std::move(c));
      }
      s.context = s.events.size();
      ++stats_.sessions_returned;
    }
  } else if (it->second.suspended) {
    lru_.splice(lru_.end(), parked_, it->second.lru);
    it->second.suspended = false;
    if (config_.mode == WindowConfig::Mode::session) ++stats_.sessions_resumed;
  } else {
    lru_.splice(lru_.end(), lru_, it->second.lru);
  }
  Session& s = it->second;
  s.last_seen_ms = now_ms;
  s.events.push_back(std::forward<E>(e));
  // Events not yet in any window are kept in timestamp order (stable): lines of one session
  // that reach us through several partitions (unkeyed input, the routing stage) arrive
  // interleaved by fetch batches, not in the order they were produced.
  if (const std::int64_t ts = s.events.back().timestamp_ms; ts > 0 && s.unscored > 0) {
    const auto tail = s.events.end() - 1 - static_cast<std::ptrdiff_t>(s.unscored);
    if ((tail + static_cast<std::ptrdiff_t>(s.unscored) - 1)->timestamp_ms > ts) {
      const auto at = std::upper_bound(tail, s.events.end() - 1, ts,
                                       [](std::int64_t t, const Event& x) { return t < x.timestamp_ms; });
      std::rotate(at, s.events.end() - 1, s.events.end());
    }
  }
  ++s.unscored;
  ++s.unpreviewed;
  ++buffered_;
  if (s.events.size() >= config_.length) emit_full(it, out);
}

void Windower::emit_full(Map::iterator it, std::vector<Window>& out) {
  Session& s = it->second;
  const std::size_t n = config_.length;
  const std::size_t stride = config_.effective_stride();
  // Exactly `n` events here, except after a restore or adopt with a shorter window length:
  // then the session is cut into windows of `n` as this stride would have cut it.
  while (s.events.size() >= n) {
    Window w;
    w.key = it->first;
    w.sequence = s.next_sequence++;
    w.reason = CloseReason::max_length;
    w.start = s.start;
    w.judged = s.judged;
    const std::size_t after = s.events.size() - n;  // events beyond this window
    if (stride >= s.events.size()) {
      w.events = std::move(s.events);
      s.events.clear();
    } else {
      w.events.assign(s.events.begin(), s.events.begin() + static_cast<std::ptrdiff_t>(n));
      s.events.erase(s.events.begin(), s.events.begin() + static_cast<std::ptrdiff_t>(stride));
    }
    w.released = std::min(stride, w.events.size());
    w.context = std::min(s.context, w.released);
    buffered_ -= w.released - w.context;
    s.context -= w.context;
    s.unscored = std::min(s.unscored, after);
    s.unpreviewed = std::min(s.unpreviewed, s.unscored);
    s.judged = s.start + w.events.size();
    s.start += w.released;
    ++stats_.windows;
    out.push_back(std::move(w));
  }
}

bool Windower::emit_closing(Map::iterator it, CloseReason reason, bool keep_events, std::vector<Window>& out) {
  Session& s = it->second;
  Window w;
  w.key = it->first;
  w.sequence = s.next_sequence++;
  w.reason = reason;
  w.start = s.start;
  w.judged = s.judged;
  w.context = s.context;
  // With score_closing the model windows up to the last event are judged even when a full chunk
  // scored every event: the grid of model windows may end before it.
  w.release_only = s.unscored == 0 && !config_.score_closing;
  if (keep_events)
    w.events = s.events;
  else
    w.events = std::move(s.events);
  w.released = w.events.size();
  buffered_ -= w.released - w.context;
  ++(w.release_only ? stats_.release_only_windows : stats_.windows);
  const bool scored = !w.release_only;
  out.push_back(std::move(w));
  return scored;
}

void Windower::close_session(Map::iterator it, CloseReason reason, std::vector<Window>& out) {
  Session& s = it->second;
  if (s.events.size() > config_.length) emit_full(it, out);  // restored with a longer length
  // A suspended session holds context only: there is something to do only when its end is judged.
  if (!s.events.empty() && (s.context < s.events.size() || ends_session(reason)))
    emit_closing(it, reason, false, out);
  (s.suspended ? parked_ : lru_).erase(s.lru);
  sessions_.erase(it);
}

void Windower::evict_session(Map::iterator it, std::vector<Window>& out) {
  ++stats_.sessions_evicted;
  if (config_.max_evicted_sessions == 0 || config_.mode != WindowConfig::Mode::session) {
    close_session(it, CloseReason::evicted, out);
    return;
  }
  Session& s = it->second;
  const std::size_t keep = score_pending(it, CloseReason::evicted, out);
  Evicted ev;
  ev.start = s.start + (s.events.size() - keep);
  ev.judged = s.judged;
  ev.next_sequence = s.next_sequence;
  ev.generation = ++evicted_generation_;
  ev.context.reserve(keep);
  for (std::size_t i = s.events.size() - keep; i < s.events.size(); ++i) ev.context.push_back(s.events[i].template_id);
  const std::uint64_t h = std::hash<std::string_view>{}(it->first);
  evicted_order_.emplace_back(h, ev.generation);
  evicted_[h] = std::move(ev);
  // Bounded: the oldest go first (entries of keys that came back, or were evicted again, are skipped).
  while (evicted_.size() > config_.max_evicted_sessions && !evicted_order_.empty()) {
    const auto [oh, gen] = evicted_order_.front();
    evicted_order_.pop_front();
    if (auto o = evicted_.find(oh); o != evicted_.end() && o->second.generation == gen) evicted_.erase(o);
  }
  if (evicted_order_.size() > 2 * evicted_.size() + 1024) {  // drop stale order entries
    std::deque<std::pair<std::uint64_t, std::uint64_t>> live;
    for (const auto& [oh, gen] : evicted_order_)
      if (auto o = evicted_.find(oh); o != evicted_.end() && o->second.generation == gen) live.emplace_back(oh, gen);
    evicted_order_.swap(live);
  }
  (s.suspended ? parked_ : lru_).erase(s.lru);
  sessions_.erase(it);
}

std::size_t Windower::score_pending(Map::iterator it, CloseReason reason, std::vector<Window>& out) {
  Session& s = it->second;
  if (s.events.size() > config_.length) emit_full(it, out);  // restored with a longer length
  // Pending events are scored now (the end is not judged); events scored by a full window but
  // still held as its overlap are released.
  if (s.context < s.events.size() && emit_closing(it, reason, true, out)) s.judged = s.start + s.events.size();
  // The last `length - stride` events (>= the model's window, checked by the scorer) are the
  // context of the session's next window.
  return std::min(s.events.size(), config_.length - config_.effective_stride());
}

void Windower::suspend_session(Map::iterator it, std::vector<Window>& out) {
  Session& s = it->second;
  const std::size_t keep = score_pending(it, CloseReason::suspended, out);  // kept without their lines
  const std::size_t drop = s.events.size() - keep;
  s.events.erase(s.events.begin(), s.events.begin() + static_cast<std::ptrdiff_t>(drop));
  s.start += drop;
  for (auto& e : s.events) e.line = SharedLine();
  s.context = s.events.size();
  s.unscored = 0;
  s.suspended = true;
  parked_.splice(parked_.end(), lru_, s.lru);
  ++stats_.sessions_suspended;
}

void Windower::hold_count_window(Map::iterator it, std::vector<Window>& out) {
  Session& s = it->second;
  if (s.events.size() >= config_.length) emit_full(it, out);  // restored with a longer length
  if (s.unpreviewed > 0 && !s.events.empty()) {
    Window w;
    w.key = it->first;
    w.sequence = s.next_sequence;  // the window these events will be judged in
    w.reason = CloseReason::pending;
    w.start = s.start;
    w.judged = s.judged;
    w.events = s.events;
    w.context = s.events.size() - std::min(s.unpreviewed, s.events.size());  // shown before
    w.released = 0;
    s.unpreviewed = 0;
    ++stats_.pending_previews;
    out.push_back(std::move(w));
  }
  s.suspended = true;
  parked_.splice(parked_.end(), lru_, s.lru);
}

void Windower::add_timed(const Event& e, std::int64_t now_ms, std::vector<Window>& out) {
  const std::int64_t ts = e.timestamp_ms;
  const std::int64_t stride = config_.effective_stride_ms();
  if (!window_open_) {
    window_start_ = floor_div(ts, stride) * stride;
    window_open_ = true;
  } else if (ts < window_start_) {
    ++stats_.late_events;  // kept: it joins the open window
  } else {
    emit_time_windows_before(ts, out);
  }
  stream_.push_back(e);
  ++stream_unscored_;
  ++buffered_;
  stream_last_seen_ms_ = now_ms;
}

// Emits every window that ends at or before `ts`, skipping windows without events.
void Windower::emit_time_windows_before(std::int64_t ts, std::vector<Window>& out) {
  const std::int64_t stride = config_.effective_stride_ms();
  while (ts >= window_start_ + config_.window_ms) {
    const std::int64_t end = window_start_ + config_.window_ms;
    if (!std::is_sorted(stream_.begin(), stream_.end(), by_time))
      std::stable_sort(stream_.begin(), stream_.end(), by_time);
    auto in_end = std::partition_point(stream_.begin(), stream_.end(),
                                       [&](const Event& x) { return x.timestamp_ms < end; });
    const auto n_in = static_cast<std::size_t>(in_end - stream_.begin());
    if (n_in > 0) {
      auto rel_end = std::partition_point(stream_.begin(), in_end, [&](const Event& x) {
        return x.timestamp_ms < window_start_ + stride;
      });
      Window w;
      w.sequence = stream_sequence_++;
      w.reason = CloseReason::time;
      w.events.assign(stream_.begin(), in_end);
      w.released = static_cast<std::size_t>(rel_end - stream_.begin());
      stream_.erase(stream_.begin(), rel_end);
      buffered_ -= w.released;
      stream_unscored_ = stream_.size() - (n_in - w.released);
      ++stats_.windows;
      out.push_back(std::move(w));
    }
    std::int64_t next = window_start_ + stride;
    // Jump over empty windows: the next window worth looking at contains the oldest event
    // still buffered, or else `ts`.
    const std::int64_t oldest = stream_.empty() ? ts : std::min(ts, stream_.front().timestamp_ms);
    const std::int64_t first_covering = (floor_div(oldest - config_.window_ms, stride) + 1) * stride;
    window_start_ = std::max(next, first_covering);
  }
}

void Windower::close_stream(CloseReason reason, std::vector<Window>& out) {
  window_open_ = false;
  if (stream_.empty()) return;
  Window w;
  w.sequence = stream_sequence_++;
  w.reason = reason;
  w.release_only = stream_unscored_ == 0;
  w.events = std::move(stream_);
  stream_.clear();
  std::stable_sort(w.events.begin(), w.events.end(), by_time);
  w.released = w.events.size();
  buffered_ -= w.released;
  stream_unscored_ = 0;
  ++(w.release_only ? stats_.release_only_windows : stats_.windows);
  out.push_back(std::move(w));
}

void Windower::tick(std::int64_t now_ms, std::vector<Window>& out) {
  if (config_.idle_timeout_ms == 0) return;
  if (config_.mode == WindowConfig::Mode::time) {
    if (window_open_ && now_ms - stream_last_seen_ms_ >= config_.idle_timeout_ms)
      close_stream(CloseReason::idle, out);
    return;
  }
  const bool suspend = config_.suspends();
  const bool hold = config_.holds_count_windows();
  while (!lru_.empty() && now_ms - lru_.front()->second.last_seen_ms >= config_.idle_timeout_ms) {
    const auto it = sessions_.find(lru_.front()->first);
    if ((suspend || hold) && now_ms - it->second.last_seen_ms < config_.end_timeout_ms) {
      if (suspend)
        suspend_session(it, out);
      else
        hold_count_window(it, out);
    } else {
      ++stats_.sessions_idle_closed;
      close_session(it, CloseReason::idle, out);
    }
  }
  while (!parked_.empty() && now_ms - parked_.front()->second.last_seen_ms >= config_.end_timeout_ms) {
    ++stats_.sessions_idle_closed;
    close_session(sessions_.find(parked_.front()->first), CloseReason::idle, out);
  }
}

std::int64_t Windower::next_idle_ms() const noexcept {
  if (config_.idle_timeout_ms == 0) return -1;
  if (config_.mode == WindowConfig::Mode::time)
    return window_open_ ? stream_last_seen_ms_ + config_.idle_timeout_ms : -1;
  std::int64_t next = lru_.empty() ? -1 : lru_.front()->second.last_seen_ms + config_.idle_timeout_ms;
  if (!parked_.empty()) {
    const std::int64_t end = parked_.front()->second.last_seen_ms + config_.end_timeout_ms;
    next = next < 0 ? end : std::min(next, end);
  }
  return next;
}

void Windower::flush(std::vector<Window>& out, CloseReason reason) {
  if (config_.mode == WindowConfig::Mode::time) {
    close_stream(reason, out);
    return;
  }
  if (reason == CloseReason::shutdown && config_.suspends()) {
    // A stop is a pause: pending events are scored and every session stays, suspended, for the
    // final checkpoint to carry over the restart.
    while (!lru_.empty()) suspend_session(sessions_.find(lru_.front()->first), out);
    return;
  }
  while (!parked_.empty()) close_session(sessions_.find(parked_.front()->first), reason, out);
  while (!lru_.empty()) close_session(sessions_.find(lru_.front()->first), reason, out);
}

WindowerState Windower::state(std::int64_t now_ms) const {
  WindowerState st;
  st.sessions.reserve(sessions_.size());
  for (const auto* list : {&parked_, &lru_})
    for (const Node* n : *list) {
      const Session& s = n->second;
      st.sessions.push_back({n->first, s.events, s.unscored, s.next_sequence,
                             std::max<std::int64_t>(0, now_ms - s.last_seen_ms), s.tp, true, s.start, s.judged,
                             s.context, s.suspended});
    }
  st.evicted.reserve(evicted_.size());
  st.evicted_context.reserve(evicted_.size() * (config_.length - config_.effective_stride()));
  for (const auto& [h, gen] : evicted_order_)
    if (auto o = evicted_.find(h); o != evicted_.end() && o->second.generation == gen) {
      const Evicted& e = o->second;
      st.evicted.push_back({h, e.start, e.judged, e.next_sequence, e.context.size()});
      st.evicted_context.insert(st.evicted_context.end(), e.context.begin(), e.context.end());
    }
  st.stream = stream_;
  st.stream_unscored = stream_unscored_;
  st.stream_sequence = stream_sequence_;
  st.window_start = window_start_;
  st.window_open = window_open_;
  st.stream_idle_ms = std::max<std::int64_t>(0, now_ms - stream_last_seen_ms_);
  return st;
}

void Windower::restore(WindowerState st, std::int64_t now_ms) {
  sessions_.clear();
  lru_.clear();
  parked_.clear();
  evicted_.clear();
  evicted_order_.clear();
  buffered_ = 0;
  adopt_sessions(std::move(st.sessions), now_ms);  // a duplicate key cannot come from state()
  if (config_.mode == WindowConfig::Mode::session && config_.max_evicted_sessions > 0) {
    const std::size_t skip = st.evicted.size() > config_.max_evicted_sessions
                                 ? st.evicted.size() - config_.max_evicted_sessions : 0;  // oldest first
    std::size_t at = 0;
    for (std::size_t i = 0; i < st.evicted.size(); ++i) {
      const auto& in = st.evicted[i];
      const std::size_t from = std::min(at, st.evicted_context.size());
      at = std::min(at + in.context, st.evicted_context.size());
      if (i < skip) continue;
      Evicted ev;
      ev.start = in.start;
      ev.judged = in.judged;
      ev.next_sequence = in.next_sequence;
      ev.context.assign(st.evicted_context.begin() + static_cast<std::ptrdiff_t>(from),
                        st.evicted_context.begin() + static_cast<std::ptrdiff_t>(at));
      ev.generation = ++evicted_generation_;
      evicted_order_.emplace_back(in.key_hash, ev.generation);
      evicted_[in.key_hash] = std::move(ev);
    }
  }
  stream_ = std::move(st.stream);
  stream_unscored_ = std::min(st.stream_unscored, stream_.size());
  stream_sequence_ = st.stream_sequence;
  window_start_ = st.window_start;
  window_open_ = st.window_open;
  stream_last_seen_ms_ = now_ms - st.stream_idle_ms;
  buffered_ += stream_.size();
}

std::vector<WindowerState::Session> Windower::take_sessions(
    const std::function<bool(const TopicPartition&)>& belongs, std::int64_t now_ms) {
  std::vector<WindowerState::Session> out;
  for (auto* list : {&parked_, &lru_})
    for (auto n = list->begin(); n != list->end();) {
      Node* node = *n;
      if (!belongs(node->second.tp)) {
        ++n;
        continue;
      }
      Session& s = node->second;
      buffered_ -= s.events.size() - s.context;
      out.push_back({node->first, std::move(s.events), s.unscored, s.next_sequence,
                     std::max<std::int64_t>(0, now_ms - s.last_seen_ms), s.tp, true, s.start, s.judged, s.context,
                     s.suspended});
      n = list->erase(n);
      sessions_.erase(sessions_.find(out.back().key));
    }
  return out;
}

std::size_t Windower::adopt_sessions(std::vector<WindowerState::Session> sessions, std::int64_t now_ms) {
  std::size_t added = 0;
  for (auto& in : sessions) {
    auto [it, fresh] = sessions_.emplace(std::move(in.key), Session{});
    if (!fresh) continue;  // already open here: keep ours
    Session& s = it->second;
    s.tp = in.tp.topic.empty() && !in.events.empty() ? in.events.front().pos.tp : std::move(in.tp);
    s.events = std::move(in.events);
    s.unscored = std::min(in.unscored, s.events.size());
    s.unpreviewed = s.unscored;  // previews are not checkpointed: a quiet stream previews again
    s.next_sequence = in.next_sequence;
    s.last_seen_ms = now_ms - in.idle_ms;
    if (in.positioned) {
      s.start = in.start;
      s.judged = in.judged;
      s.context = std::min(in.context, s.events.size() - s.unscored);
      s.suspended = in.suspended && config_.suspends() && s.unscored == 0;
    } else if (s.next_sequence > 0) {  // as chunk k = next_sequence of this layout
      const std::size_t stride = config_.effective_stride();
      s.start = s.next_sequence * stride;
      s.judged = s.start - stride + config_.length;
    }
    auto& list = s.suspended ? parked_ : lru_;
    list.push_back(&*it);
    s.lru = std::prev(list.end());
    buffered_ += s.events.size() - s.context;
    ++added;
  }
  return added;
}

}  // namespace logguard::daemon

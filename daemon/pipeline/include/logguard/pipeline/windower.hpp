#pragma once
// Windower: groups events into the windows the scorer judges.
//
//  * session mode: one open session per key (HDFS `blk_…` taken from the line, or the Kafka
//    message key). A session emits a window when it holds `length` events and then slides
//    by `stride` (stride == length: tumbling), and closes on idle timeout, on eviction (the
//    open-session limit was reached: the least recently active session closes, counted) or
//    at flush(). A closing session emits its remaining events. An evicted session is
//    remembered compactly (up to max_evicted_sessions: its position and the templates of its
//    last `length - stride` events, not its lines), so that a later line of its key continues
//    it like a suspended session instead of starting a new one.
//    With `end_timeout_ms` (> idle_timeout_ms; not for entity keys) idle time does not end a
//    session: after idle_timeout_ms it is *suspended* -- its pending events are emitted in a
//    `suspended` window (scored, the end not judged) and its last `length - stride` events stay,
//    without their lines, as the context of the session's next window, so a later line of the
//    same key continues the session instead of starting a new one. It ends (a closing window
//    that judges the end) after end_timeout_ms without an event. Sessions of real systems
//    pause for hours (an HDFS block is written, then verified and deleted hours later).
//  * count mode: the same, over one stream without keys (BGL style). With end_timeout_ms
//    (> idle_timeout_ms) a quiet stream does not cut the open window: after idle_timeout_ms its
//    new events are previewed in a `pending` window (judged on their templates alone, nothing
//    released) and the window waits for its remaining lines, so it is judged whole, as
//    `logguard detect` and the calibration judge count windows; after end_timeout_ms without a
//    line it is cut (`idle`). With end_timeout_ms 0 idle time cuts it (the behaviour before).
//  * time mode: windows of `window_ms` of event time that slide by `stride_ms`.
//
// Every event is released (made "done" for offset tracking) by exactly one window per
// session it joined: Window::events[0, released). A session whose remaining events were
// all scored already closes with a release_only window.
//
// Pure logic: time is passed in (`now_ms`, any monotonic clock). Lifecycle: constructed from
// a validated WindowConfig; add()/tick() in steady state; flush() at shutdown. Never throws
// after construction except std::bad_alloc. Thread-safety: none (one owner thread).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <span>
#include <string>

#include "logguard/core/event_time.hpp"
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

struct WindowConfig {
  enum class Mode { session, count, time };
  enum class KeyFrom { pattern, message_key, entity, field };
  Mode mode = Mode::session;
  KeyFrom key_from = KeyFrom::pattern;     // session mode: where the session key comes from (field:
                                          // the decoded record's session field, Record::session)
  std::string key_pattern = R"(blk_-?\d+)";  // RE2; every match in a line is a session key
  core::EntityWindows entity;             // key entity: a header field and event-time windows ...
  std::string log_format;                 // ... read with this log format (the parser's)
  std::size_t length = 100;               // W: events per window (session/count mode)
  std::size_t stride = 0;                 // events a full window slides by; 0 = length
  std::int64_t idle_timeout_ms = 30000;   // close a session (or the stream) after this; 0 = never
                                          // (session mode with end_timeout_ms: suspend it)
  std::int64_t end_timeout_ms = 86'400'000;  // session mode: a session ends after this long
                                          // without an event (suspended from idle_timeout_ms
                                          // on); 0 = at idle_timeout_ms (no suspension)
  std::size_t max_open_sessions = 100000;  // open sessions, suspended ones included
  std::size_t max_evicted_sessions = 1000000;  // session mode: evicted sessions remembered (their
                                          // position and last events' templates, ~170 bytes
                                          // each) so that a later line continues them; 0 = none
  std::int64_t window_ms = 60000;         // time mode: window span of event time
  std::int64_t stride_ms = 0;             // time mode: slide; 0 = window_ms
  bool score_closing = false;             // a closing window is scored even when all its events
                                          // were scored before (the model judges the session's end)

  /// Throws core::ConfigError naming the key (e.g. "stride") of the first problem.
  void validate() const;
  /// Whether idle sessions are suspended rather than ended (session mode, end_timeout_ms set).
  bool suspends() const {
    return mode == Mode::session && key_from != KeyFrom::entity && idle_timeout_ms > 0 &&
           end_timeout_ms > idle_timeout_ms;
  }
  /// Whether a quiet stream keeps its count window open (previewed) until end_timeout_ms.
  bool holds_count_windows() const {
    return mode == Mode::count && idle_timeout_ms > 0 && end_timeout_ms > idle_timeout_ms;
  }
  std::size_t effective_stride() const { return stride == 0 ? length : stride; }
  std::int64_t effective_stride_ms() const { return stride_ms == 0 ? window_ms : stride_ms; }
};
const char* to_string(WindowConfig::Mode m) noexcept;

struct WindowerStats {
  std::uint64_t events = 0;
  std::uint64_t unkeyed_events = 0;        // session mode: the line named no session
  std::uint64_t late_events = 0;           // time mode: event older than the open window
  std::uint64_t windows = 0;               // scored windows emitted
  std::uint64_t release_only_windows = 0;
  std::uint64_t sessions_opened = 0;
  std::uint64_t sessions_idle_closed = 0;   // ended by idle_timeout_ms (end_timeout_ms when suspending)
  std::uint64_t sessions_evicted = 0;
  std::uint64_t sessions_suspended = 0;
  std::uint64_t sessions_resumed = 0;      // a suspended session received a line again
  std::uint64_t pending_previews = 0;      // count mode: `pending` windows of a quiet stream
  std::uint64_t sessions_returned = 0;     // an evicted session's key came back: it continued
};

/// A Windower's open state, for checkpoints: plain data, `idle_ms` relative to the moment
/// it was taken (the windower's clock is monotonic, not comparable across processes).
struct WindowerState {
  struct Session {
    std::string key;
    std::vector<Event> events;
    std::size_t unscored = 0;
    std::uint64_t next_sequence = 0;
    std::int64_t idle_ms = 0;  // time since its last event
    TopicPartition tp;         // the partition the session belongs to (its first event's)
    // Position in the session (Window::start / judged / context). positioned == false (state
    // of an older checkpoint): derived from next_sequence and the window layout.
    bool positioned = false;
    std::uint64_t start = 0, judged = 0;
    std::size_t context = 0;
    bool suspended = false;
  };
  std::vector<Session> sessions;  // least recently active first (session/count mode)
  // Evicted sessions remembered (session mode; max_evicted_sessions), oldest first.
  struct Evicted {
    std::uint64_t key_hash = 0;  // std::hash of the key
    std::uint64_t start = 0, judged = 0, next_sequence = 0;
    std::size_t context = 0;     // template ids of the session's last events: the next
                                 // `context` of evicted_context (one array: one allocation)
  };
  std::vector<Evicted> evicted;
  std::vector<std::uint32_t> evicted_context;
  // time mode
  std::vector<Event> stream;
  std::size_t stream_unscored = 0;
  std::uint64_t stream_sequence = 0;
  std::int64_t window_start = 0;
  bool window_open = false;
  std::int64_t stream_idle_ms = 0;
};

class Windower {
 public:
  explicit Windower(WindowConfig config);  // validates; throws ConfigError
  Windower(const Windower&) = delete;
  Windower& operator=(const Windower&) = delete;

  /// Adds `e` to the sessions named by `keys` (session mode; duplicates ignored) or to the
  /// stream (count/time mode; `keys` ignored). Windows that became complete are appended to
  /// `out`. Returns how many sessions the event joined: the number of windows that will
  /// release it (0: it belongs to no window and is done at once).
  std::size_t add(const Event& e, std::span<const std::string_view> keys, std::int64_t now_ms,
                  std::vector<Window>& out);
  /// As above, but takes the event over (moved into the last session it joins). `keys` may
  /// point into e.line's shared bytes, which stay where they are while any copy of the event
  /// lives (moving the handle does not move them).
  std::size_t add(Event&& e, std::span<const std::string_view> keys, std::int64_t now_ms,
                  std::vector<Window>& out);
  /// Closes sessions idle for idle_timeout_ms at `now_ms`.
  void tick(std::int64_t now_ms, std::vector<Window>& out);
  /// When the next session (or the time stream) becomes idle, if any: tick() at or after
  /// this moment closes it. -1 when nothing can become idle.
  std::int64_t next_idle_ms() const noexcept;
  /// Closes everything: `shutdown` at a stop (sessions cut; when suspending, every session is
  /// suspended instead and stays, for the final checkpoint), `end_of_input` when a finite
  /// source ended (sessions complete).
  void flush(std::vector<Window>& out, CloseReason reason = CloseReason::shutdown);

  /// A copy of the open state at `now_ms` (checkpoints).
  WindowerState state(std::int64_t now_ms) const;
  /// Replaces the open state with `s` (checkpoint restore; the windower must be empty).
  /// Sessions keep their keys, sequences and idle times as of when the state was taken.
  void restore(WindowerState s, std::int64_t now_ms);
  /// Takes the sessions of the partitions for which `belongs(tp)` is true out of the windower
  /// (partition handover: they are continued elsewhere), least recently active first.
  std::vector<WindowerState::Session> take_sessions(const std::function<bool(const TopicPartition&)>& belongs,
                                                    std::int64_t now_ms);
  /// Adds sessions taken elsewhere (handover) to the open ones. A key that is already open
  /// here keeps its session and the incoming one is dropped; returns how many were added.
  std::size_t adopt_sessions(std::vector<WindowerState::Session> sessions, std::int64_t now_ms);

  std::size_t open_sessions() const noexcept { return sessions_.size(); }
  /// Open sessions that are suspended (idle, kept as context until end_timeout_ms).
  std::size_t suspended_sessions() const noexcept {
    return config_.mode == WindowConfig::Mode::count ? 0 : parked_.size();
  }
  /// Events held in open sessions / the time stream.
  std::size_t buffered_events() const noexcept { return buffered_; }
  /// Evicted sessions remembered (kept in checkpoints, not in handovers).
  std::size_t evicted_sessions() const noexcept { return evicted_.size(); }
  const WindowerStats& stats() const noexcept { return stats_; }
  const WindowConfig& config() const noexcept { return config_; }

 private:
  struct Session;
  // Heterogeneous: find(string_view) without a std::string temporary. Deliberately not
  // noexcept: libstdc++ then stores each node's hash, so a lookup walking a bucket compares
  // stored hashes instead of re-hashing every key it passes (5 % of the consumer's time with
  // 100k open sessions).
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  using Map = std::unordered_map<std::string, Session, KeyHash, std::equal_to<>>;
  using Node = Map::value_type;
  struct Session {
    std::vector<Event> events;
    std::size_t unscored = 0;       // events in no emitted window yet
    std::uint64_t next_sequence = 0;
    std::uint64_t start = 0;        // index in the session of events[0]
    std::uint64_t judged = 0;       // model windows ending at or before this index were judged
    std::size_t context = 0;        // leading events released already (kept after a suspension)
    std::size_t unpreviewed = 0;    // count mode: trailing unscored events no `pending` window showed
    bool suspended = false;         // suspended session, or a count window held open (in parked_)
    std::int64_t last_seen_ms = 0;
    std::list<Node*>::iterator lru;  // position in lru_, or parked_ when suspended (front = least
                                     // recently active)
    TopicPartition tp;               // of the session's first event (partition handover)
  };

  template <class E>
  void add_to_session(E&& e, std::string_view key, std::int64_t now_ms, std::vector<Window>& out);
  template <class E>
  std::size_t add_impl(E&& e, std::span<const std::string_view> keys, std::int64_t now_ms, std::vector<Window>& out);
  void close_session(Map::iterator it, CloseReason reason, std::vector<Window>& out);
  // Closes the session to make room; remembers it when max_evicted_sessions allows.
  void evict_session(Map::iterator it, std::vector<Window>& out);
  // Scores the pending events of a session that pauses or is evicted (its end not judged) and
  // returns how many of its last events are the context of its next window.
  std::size_t score_pending(Map::iterator it, CloseReason reason, std::vector<Window>& out);
  // Scores the pending events of an idle session and keeps its last events as context.
  void suspend_session(Map::iterator it, std::vector<Window>& out);
  // Count mode, quiet stream: previews the open window's new events and parks it until a line
  // comes or end_timeout_ms passes.
  void hold_count_window(Map::iterator it, std::vector<Window>& out);
  // Emits the session's buffered events as its closing (or suspension) window, moving them out
  // or copying them (`keep_events`). Returns whether the window is scored (not release-only).
  bool emit_closing(Map::iterator it, CloseReason reason, bool keep_events, std::vector<Window>& out);
  // Emits the session's full windows (length events each, sliding by the stride).
  void emit_full(Map::iterator it, std::vector<Window>& out);
  void add_timed(const Event& e, std::int64_t now_ms, std::vector<Window>& out);
  void emit_time_windows_before(std::int64_t ts, std::vector<Window>& out);
  void close_stream(CloseReason reason, std::vector<Window>& out);

  WindowConfig config_;
  Map sessions_;
  std::list<Node*> lru_;     // active sessions, least recently active first
  std::list<Node*> parked_;  // suspended sessions, least recently active first
  // Evicted sessions, by the hash of their key (a collision of 64-bit hashes among the
  // remembered keys is negligible), oldest first in evicted_order_ with a generation, so a
  // key evicted again after it came back is not dropped by its older entry.
  struct Evicted {
    std::uint64_t start = 0, judged = 0, next_sequence = 0, generation = 0;
    std::vector<std::uint32_t> context;  // template ids of the last `length - stride` events
  };
  std::unordered_map<std::uint64_t, Evicted> evicted_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> evicted_order_;  // (key hash, generation)
  std::uint64_t evicted_generation_ = 0;
  // time mode
  std::vector<Event> stream_;
  std::size_t stream_unscored_ = 0;
  std::uint64_t stream_sequence_ = 0;
  std::int64_t window_start_ = 0;
  bool window_open_ = false;
  std::int64_t stream_last_seen_ms_ = 0;

  std::size_t buffered_ = 0;
  WindowerStats stats_;
};

}  // namespace logguard::daemon

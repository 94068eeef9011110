#pragma once
// The data that flows through the streaming daemon and the interfaces of its stages:
//
//   Source ─Record─▶ parse/map ─Event─▶ Windower ─Window─▶ Batcher ─batch─▶ Scorer ─Verdict─▶ Sink
//        ▲                                                                            │
//        └──────────── OffsetTracker (stores offsets once every line is done) ◀───────┘
//
// Per-record stages are plain functions of their input; time-driven stages (Windower,
// Batcher) take the current time as an argument and own tick()/flush(). The concrete
// stages are wired together in one place (the pipeline); these interfaces let tests plug in
// fakes. Steady-state calls return error values and never throw.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"

namespace logguard::daemon {

/// A partition of a source: a Kafka (topic, partition), or a replayed file (path, 0).
struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

/// Where a line came from. `offset` is the Kafka offset, or the 0-based line number of a file.
struct SourcePosition {
  TopicPartition tp;
  std::int64_t offset = -1;
};


/// An immutable raw log line shared by every copy of the Event that holds it: copying or
/// destroying one costs an atomic reference-count step, whatever the line's length (the
/// windower copies events into every session a line names, into sliding windows, and into
/// checkpoint/handover state). One heap block holds the count, the size and the bytes
/// (NUL-terminated); the empty line allocates nothing. Building one copies the bytes once.
/// The bytes never move or change while any copy lives, so string_views into them (session
/// keys) stay valid as long as one copy does, also across moves of the handle.
/// Thread-safety: as std::shared_ptr — copies of one line may be made and dropped
/// concurrently on any threads; one SharedLine object is not itself synchronised.
class SharedLine {
 public:
  SharedLine() noexcept = default;
  explicit SharedLine(std::string_view s) : b_(make(s)) {}
  SharedLine(const std::string& s) : b_(make(s)) {}  // implicit: `e.line = some_string;`
  SharedLine(const char* s) : b_(make(s)) {}
  SharedLine(const SharedLine& o) noexcept : b_(o.b_) {
    if (b_ != nullptr) b_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedLine(SharedLine&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  SharedLine& operator=(const SharedLine& o) noexcept {
    SharedLine(o).swap(*this);
    return *this;
  }
  SharedLine& operator=(SharedLine&& o) noexcept {
    SharedLine(std::move(o)).swap(*this);
    return *this;
  }
  ~SharedLine() { release(); }
  void swap(SharedLine& o) noexcept { std::swap(b_, o.b_); }

  std::string_view view() const noexcept { return b_ != nullptr ? std::string_view(chars(b_), b_->size) : std::string_view(); }
  operator std::string_view() const noexcept { return view(); }
  const char* data() const noexcept { return b_ != nullptr ? chars(b_) : ""; }
  std::size_t size() const noexcept { return b_ != nullptr ? b_->size : 0; }
  bool empty() const noexcept { return size() == 0; }
  std::string str() const { return std::string(view()); }
  /// Copies sharing these bytes (0 for the empty line); for tests.
  std::uint32_t use_count() const noexcept { return b_ != nullptr ? b_->refs.load(std::memory_order_relaxed) : 0; }

  // By content.
  friend bool operator==(const SharedLine& a, const SharedLine& b) noexcept { return a.b_ == b.b_ || a.view() == b.view(); }
  friend bool operator==(const SharedLine& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const SharedLine& a, const std::string& b) noexcept { return a.view() == b; }
  friend bool operator==(const SharedLine& a, const char* b) noexcept { return a.view() == b; }

 private:
  struct Block {
    std::atomic<std::uint32_t> refs;
    std::size_t size;
    // the bytes and a NUL follow
  };
  static const char* chars(const Block* b) noexcept { return reinterpret_cast<const char*>(b + 1); }
  static Block* make(std::string_view s) {
    if (s.empty()) return nullptr;
    void* p = ::operator new(sizeof(Block) + s.size() + 1);
    auto* b = ::new (p) Block{{1}, s.size()};
    char* c = reinterpret_cast<char*>(b + 1);
    std::memcpy(c, s.data(), s.size());
    c[s.size()] = '\0';
    return b;
  }
  void release() noexcept {
    if (b_ != nullptr && b_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      b_->~Block();
      ::operator delete(static_cast<void*>(b_));
    }
  }
  Block* b_ = nullptr;
};

/// One raw log line as read by a Source (or, after the decode stage, one log record of a JSON /
/// OTLP input record: its message, with the input record's position).
struct Record {
  SharedLine line;             // without the line terminator; becomes the Event's line as is
  std::string key;             // Kafka message key (empty if none / not Kafka)
  SourcePosition pos;
  std::int64_t timestamp_ms = 0;  // Kafka message timestamp or read time (ms since epoch); a decoded
                                  // record's own time when its format names a timestamp field
  std::string session;         // decoded records: the session field's value (input.session), else empty
  bool truncated = false;      // the source cut the record at its size limit (decoded: rejected)
};

/// A parsed and mapped line as the windower sees it. Copies share the raw line.
struct Event {
  core::TemplateId template_id = core::kNoTemplate;
  SourcePosition pos;
  std::int64_t timestamp_ms = 0;
  SharedLine line;  // raw line, for the few raw lines quoted in an anomaly record
};

/// Why a window was emitted.
enum class CloseReason : std::uint8_t {
  max_length,    // a session (or the count stream) reached the window length W
  idle,          // no event for idle_timeout_ms (session mode with end_timeout_ms: for end_timeout_ms)
  suspended,     // session mode: no event for idle_timeout_ms; its pending events are scored, the
                 // session stays resumable (its last events kept as context) until end_timeout_ms
  evicted,       // the open-session limit was reached; the least recently active session closed
  shutdown,      // flush() at a stop (SIGTERM): the session was cut, it did not end
  time,          // a time window's end passed
  end_of_input,  // flush() after a finite source (file, stdin) ended: every session ended
  pending,       // count mode: the stream went quiet (idle_timeout_ms) before the window filled;
                 // a preview of its new events, judged on their templates alone (an unknown or
                 // abnormal template), releasing nothing -- the window stays open
};
const char* to_string(CloseReason r) noexcept;
/// Whether a window closed this way ends its session, so that the scorer judges the end (the
/// end token; a session shorter than every normal training session). A session cut by a stop
/// or an eviction has its events scored but no end: judged as ended, nearly every normal
/// session still in flight at a restart would look truncated. A suspended session has not
/// ended either: it only paused.
constexpr bool ends_session(CloseReason r) noexcept {
  return r == CloseReason::idle || r == CloseReason::time || r == CloseReason::end_of_input;
}

/// A window of events, emitted by the Windower. Events [context, released) appear in no later
/// window; they are done once this window is scored and (if anomalous) delivered. Events
/// [0, context) were released by an earlier window of the session (a suspended session's last
/// events, kept as the model's context without their lines).
/// A `release_only` window holds events that were already scored in an earlier window of
/// the same session: it is not scored again, it only carries their completion through the
/// pipeline in order.
struct Window {
  std::string key;             // session key ("" for count/time windows)
  std::uint64_t sequence = 0;  // 0,1,2... per session (per stream for count/time windows)
  std::vector<Event> events;
  std::size_t released = 0;
  std::size_t context = 0;     // leading events released before (see above); <= released
  /// Session mode: the index in the session of events[0], and how far model windows were
  /// judged by earlier windows (every model window ending at or before that event index).
  /// kUnset (windows not made by a Windower): derived from `sequence` and the chunk layout.
  static constexpr std::uint64_t kUnset = ~std::uint64_t{0};
  std::uint64_t start = kUnset;
  std::uint64_t judged = 0;
  CloseReason reason = CloseReason::max_length;
  bool release_only = false;
};

/// One position of a window where the model disagrees with the observed template.
struct FailingPosition {
  std::size_t index = 0;                    // into Window::events
  core::TemplateId observed = core::kNoTemplate;
  std::vector<core::TemplateId> expected;   // top-K predictions, best first
};

/// The scorer's judgement of one window.
struct Verdict {
  bool anomalous = false;
  double score = 0.0;                       // higher = more anomalous; scorer-specific scale (nats)
  double threshold = 0.0;                   // the scorer's threshold: anomalous when score > threshold
  std::vector<FailingPosition> failing;
  std::vector<std::size_t> unknown;         // indices of events whose template the model never saw
  std::vector<std::size_t> abnormal;        // indices of events of templates labelled abnormal
};

/// Produces records. Lifecycle: constructed (start-up errors throw ConfigError/LoadError),
/// then poll() in a loop on one thread until it returns end_of_stream or the daemon stops.
/// Thread-safety: poll/pause/resume/store_offsets from the consumer thread only.
class Source {
 public:
  enum class PollStatus { ok, end_of_stream, fatal };
  virtual ~Source() = default;
  /// Appends up to `max_records` records to `out`, waiting at most `timeout` for the first.
  /// `fatal` means the source cannot continue; error() says why.
  virtual PollStatus poll(std::vector<Record>& out, std::size_t max_records,
                          std::chrono::milliseconds timeout) = 0;
  /// Backpressure: stop fetching (Kafka pauses its assigned partitions) / fetch again.
  virtual void pause() = 0;
  virtual void resume() = 0;
  /// Records that every line before `offset` (exclusive) of each partition is done.
  virtual void store_offsets(std::span<const SourcePosition> next_offsets) = 0;
  /// Partitions taken away by a rebalance since the last call (their state must be dropped).
  virtual std::vector<TopicPartition> take_revoked() { return {}; }
  /// Called from inside poll() just before partitions are taken away, so the owner can store
  /// their final offsets. An empty function removes the handler.
  using RevokeHandler = std::function<void(const std::vector<TopicPartition>&)>;
  virtual void set_revoke_handler(RevokeHandler) {}
  /// Called from inside poll() when partitions are assigned, before they are fetched; returns
  /// where to start reading some of them (partition handover: the saved position). Others
  /// start at the group's committed offset. An empty function removes the handler.
  using AssignHandler = std::function<std::vector<SourcePosition>(const std::vector<TopicPartition>&)>;
  virtual void set_assign_handler(AssignHandler) {}
  virtual std::string error() const { return {}; }
};

/// Scores windows in batches. Lifecycle: loaded at start-up (LoadError), then score() from
/// the scorer thread. Thread-safety: one caller at a time.
class Scorer {
 public:
  virtual ~Scorer() = default;
  /// One verdict per window, in order. Windows are never release_only. An error (e.g. the
  /// device failed) leaves the whole batch unscored.
  virtual core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) = 0;
  /// Identifies the model in anomaly records (e.g. "msmass-hdfs-3f2a91c0").
  virtual std::string model_version() const = 0;
};

/// Writes anomaly records. write() may complete asynchronously: `done(ok, error)` is called
/// exactly once, from poll() or from write() itself, once the record is durable (or failed).
/// Lifecycle: constructed at start-up, write()/poll() from the sink thread, flush() at
/// shutdown. Thread-safety: one thread.
class Sink {
 public:
  using Done = std::function<void(bool ok, std::string_view error)>;
  virtual ~Sink() = default;
  /// `key` is the session key, `id` the record's deterministic id, `json` its body.
  virtual void write(std::string_view key, std::string_view id, std::string_view json, Done done) = 0;
  /// Serves completions; waits at most `timeout`.
  virtual void poll(std::chrono::milliseconds timeout) = 0;
  /// Waits until every write completed or `timeout` passed; returns the number still pending.
  virtual std::size_t flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace logguard::daemon

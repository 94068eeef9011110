#pragma once
// OffsetTracker: per-partition watermark for at-least-once delivery. A record is "held"
// from the moment it is consumed until every window that contains it has been scored and,
// if anomalous, delivered (or it is held in a checkpoint). The committable offset of a
// partition is the lowest offset still held, or one past the last record seen if none is
// held: every record below it is done, whatever order the work completed in.
//
// Lifecycle: begin() when a record enters the pipeline (in offset order per partition),
// release() once per holder, take_committable() by the consumer to store offsets,
// forget() when a partition is revoked. Thread-safety: all members are safe to call from
// any thread (one internal mutex; each call is O(log held records)).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

class OffsetTracker {
 public:
  /// Registers the record at `pos` with `holders` outstanding releases (0: done at once).
  /// Offsets must increase per partition; an offset at or below one already seen means the
  /// partition was rewound (re-delivery): its state restarts there and the rewind is counted.
  void begin(const SourcePosition& pos, std::uint32_t holders);
  /// One holder of `pos` is done. Returns false (and counts it) when the record is not held:
  /// its partition was forgotten/rewound, or it was released too often.
  bool release(const SourcePosition& pos);
  /// For each partition whose committable offset changed since the last call: (partition,
  /// next offset to commit). The Kafka convention: the committed offset is the next to read.
  std::vector<SourcePosition> take_committable();
  /// The committable offset of `tp`, or -1 if the partition is unknown.
  std::int64_t committable(const TopicPartition& tp) const;
  /// Drops a partition's state (revoked by a rebalance); later releases for it are ignored.
  void forget(const TopicPartition& tp);

  /// Records begun and not yet done, over all partitions.
  std::size_t held() const;
  std::uint64_t unknown_releases() const;
  std::uint64_t rewinds() const;

 private:
  struct Partition {
    std::deque<std::pair<std::int64_t, std::uint32_t>> held;  // (offset, holders left), by offset
    std::int64_t next = -1;         // one past the last offset begun
    std::int64_t last_taken = -1;   // committable offset returned by the last take_committable()
    std::int64_t committable() const { return held.empty() ? next : held.front().first; }
  };
  mutable std::mutex mu_;
  std::map<TopicPartition, Partition> partitions_;
  std::size_t held_ = 0;
  std::uint64_t unknown_releases_ = 0;
  std::uint64_t rewinds_ = 0;
};

/// InOrderReleaser: applies windows' releases to an OffsetTracker in the order the windows
/// reached the sink stage. A window whose anomaly record is still being delivered holds back
/// the releases of every later window: windows of one session overlap and may span
/// partitions, so releasing a later window first could commit offsets whose lines an
/// undelivered anomaly still needs after a crash.
/// Lifecycle: add() per window (in order), complete() per delivered record.
/// Thread-safety: none (the sink thread; delivery callbacks run there).
class InOrderReleaser {
 public:
  using Ticket = std::uint64_t;
  explicit InOrderReleaser(OffsetTracker& tracker) : tracker_(tracker) {}
  /// Registers the positions a window releases. wait_for_delivery = false: releasable as soon
  /// as every earlier window is. Returns the ticket to complete() a waiting window with.
  Ticket add(std::vector<SourcePosition> released, bool wait_for_delivery);
  /// The record of window `ticket` was delivered. Unknown tickets are ignored.
  void complete(Ticket ticket);
  /// Windows registered and not yet released.
  std::size_t waiting() const noexcept { return entries_.size(); }
  /// Windows released so far (every window before this count is done).
  Ticket drained() const noexcept { return first_ticket_; }

 private:
  void drain();
  struct Entry {
    std::vector<SourcePosition> released;
    bool done = false;
  };
  OffsetTracker& tracker_;
  std::deque<Entry> entries_;  // entries_[i] has ticket first_ticket_ + i
  Ticket first_ticket_ = 0;
};

}  // namespace logguard::daemon

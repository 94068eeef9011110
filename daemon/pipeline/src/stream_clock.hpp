#pragma once
// The windower's clock (private to the pipeline): steady milliseconds that pass while the
// consumer is caught up. While it is behind -- paused by backpressure, or the poll filled a
// whole batch with records produced more than kBehindMs ago, so a backlog is waiting -- the
// clock stands still: a session turns idle when no line of it arrived for idle_timeout_ms of
// input time, never because the consumer was busy or paused (a stall would otherwise close
// sessions whose next lines sit in the fetch queue, and those partial windows look anomalous).
// Records of file and stdin sources carry their read time, so a replay runs on the wall clock.
// The time since the previous poll counts only when this poll shows the consumer caught up, so
// a stall of any kind (a checkpoint, a slow batch) followed by a full poll is not input time.
// Thread-safety: the consumer thread only.
#include <cstdint>

#include "logguard/pipeline/clock.hpp"

namespace logguard::daemon::detail {

struct StreamClock {
  explicit StreamClock(const Clock& c) : clock(c), now(c.steady_ms()), last_wall(now) {}
  const Clock& clock;
  std::int64_t now;
  std::int64_t last_wall;
  /// The clock's time if the consumer is caught up now (for the poll's wait).
  std::int64_t peek() const { return now + (clock.steady_ms() - last_wall); }
  std::int64_t advance(bool caught_up) {
    const std::int64_t wall = clock.steady_ms();
    if (caught_up) now += wall - last_wall;
    last_wall = wall;
    return now;
  }
};

/// A full poll whose newest record is older than this means the consumer has a backlog.
inline constexpr std::int64_t kBehindMs = 500;

}  // namespace logguard::daemon::detail

#pragma once
// Time for the daemon's stages, in milliseconds: the wall clock (times people read and records
// carry) and a monotonic clock (intervals and timeouts). Time-driven code takes a Clock so that
// tests run it on a ManualClock instead of sleeping; wall_ms() / steady_ms() read the system's.
// Thread-safety: every Clock may be read from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace logguard::daemon {

/// Wall-clock time in ms since the Unix epoch (system clock).
inline std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Monotonic time in ms (system steady clock).
inline std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic ms: ticks, idle timeouts, batch waits, checkpoint intervals.
  virtual std::int64_t steady_ms() const = 0;
  /// Wall-clock ms since the epoch: compared with record timestamps, reported in stats.
  virtual std::int64_t wall_ms() const = 0;
  /// The system's clocks (a process-wide instance).
  static const Clock& system();
};

/// A clock that moves only when told to (tests). Both readings advance together.
class ManualClock : public Clock {
 public:
  explicit ManualClock(std::int64_t steady_start_ms = 0, std::int64_t wall_start_ms = 1'700'000'000'000)
      : steady_(steady_start_ms), wall_(wall_start_ms) {}
  std::int64_t steady_ms() const override { return steady_.load(); }
  std::int64_t wall_ms() const override { return wall_.load(); }
  void advance(std::int64_t ms) {
    steady_ += ms;
    wall_ += ms;
  }

 private:
  std::atomic<std::int64_t> steady_, wall_;
};

}  // namespace logguard::daemon

#pragma once
// Millisecond clocks for the daemon's sources (private header).
#include <chrono>
#include <cstdint>

namespace logguard::daemon {

/// Wall-clock time in ms since the Unix epoch: times people read and records carry.
inline std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Monotonic time in ms: intervals and timeouts.
inline std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace logguard::daemon

// The system clock (see clock.hpp).
#include "logguard/pipeline/clock.hpp"

namespace logguard::daemon {
namespace {

class SystemClock final : public Clock {
 public:
  std::int64_t steady_ms() const override { return daemon::steady_ms(); }
  std::int64_t wall_ms() const override { return daemon::wall_ms(); }
};

}  // namespace

const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

}  // namespace logguard::daemon

#pragma once
// The signal thread of logguardd (private): SIGTERM/SIGINT/SIGHUP are blocked in every thread
// (block_daemon_signals() before any thread starts; threads inherit the mask) and taken here
// with sigtimedwait. TERM/INT set the stop flag and send STOPPING=1 (if the pipeline has not
// returned within shutdown_timeout_ms the process exits 1); HUP reloads the bundle (applied
// between batches). The same thread sends sd_notify WATCHDOG=1 at half of WATCHDOG_USEC.
// Lifecycle: started by the constructor; finish() (or the destructor) ends it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "logguard/service/model_holder.hpp"

namespace logguard::daemon::detail {

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads it starts later).
void block_daemon_signals();

class SignalThread {
 public:
  /// `on_reload(ok)` is called after each SIGHUP reload.
  SignalThread(std::atomic<bool>& stop, ModelHolder& model, std::function<void(bool ok)> on_reload,
               std::int64_t shutdown_timeout_ms);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;
  void finish();

 private:
  void loop();
  std::atomic<bool>& stop_;
  ModelHolder& model_;
  std::function<void(bool)> on_reload_;
  std::int64_t timeout_ms_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace logguard::daemon::detail

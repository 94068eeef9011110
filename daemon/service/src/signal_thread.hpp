#pragma once
// The signal thread of logguardd (private): SIGTERM/SIGINT/SIGHUP are blocked in every thread
// (block_daemon_signals() before any thread starts; threads inherit the mask) and taken here
// with sigtimedwait. TERM/INT set the stop flag and send STOPPING=1 (if the pipeline has not
// returned within shutdown_timeout_ms the process exits 1); HUP reloads every stream's bundle
// (each applied between its own batches; a stream whose reload fails keeps its model). The same thread sends sd_notify WATCHDOG=1 at half of WATCHDOG_USEC.
// Lifecycle: started by the constructor; finish() (or the destructor) ends it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "logguard/service/model_holder.hpp"

namespace logguard::daemon::detail {

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads it starts later).
void block_daemon_signals();

class SignalThread {
 public:
  /// `on_reload(i, ok)` is called after each SIGHUP reload of models[i].
  SignalThread(std::atomic<bool>& stop, std::vector<ModelHolder*> models,
               std::function<void(std::size_t i, bool ok)> on_reload, std::int64_t shutdown_timeout_ms);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;
  void finish();

 private:
  void loop();
  std::atomic<bool>& stop_;
  std::vector<ModelHolder*> models_;
  std::function<void(std::size_t, bool)> on_reload_;
  std::int64_t timeout_ms_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace logguard::daemon::detail

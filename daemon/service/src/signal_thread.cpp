// The signal thread (see signal_thread.hpp).
#include "signal_thread.hpp"

#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstdlib>
#include <optional>

#include "logguard/config/exit_codes.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon::detail {
namespace {

using SteadyClock = std::chrono::steady_clock;

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void block_daemon_signals() {
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalThread::SignalThread(std::atomic<bool>& stop, std::vector<ModelHolder*> models,
                           std::function<void(std::size_t, bool)> on_reload, std::int64_t shutdown_timeout_ms)
    : stop_(stop), models_(std::move(models)), on_reload_(std::move(on_reload)), timeout_ms_(shutdown_timeout_ms) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "lg-signals");
    loop();
  });
}

SignalThread::~SignalThread() { finish(); }

void SignalThread::finish() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

void SignalThread::loop() {
  const sigset_t set = daemon_signals();
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  auto last_ping = SteadyClock::now();
  std::optional<SteadyClock::time_point> stopping_since;
  while (!done_) {
    timespec ts{0, 100'000'000};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      if (!stopping_since) {
        log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        sd_notify(0, "STOPPING=1");
        stop_ = true;
        stopping_since = SteadyClock::now();
      }
    } else if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      for (std::size_t i = 0; i < models_.size(); ++i) {
        ModelHolder& model = *models_[i];
        log_info("SIGHUP: reloading %s", model.dir().c_str());
        auto r = model.reload();
        if (on_reload_) on_reload_(i, r.has_value());
        if (r)
          log_info("model %s loaded", model.current()->version.c_str());
        else
          log_warning("%s", r.error().message.c_str());
      }
      sd_notify(0, "READY=1");
    }
    if (watchdog && SteadyClock::now() - last_ping >= std::chrono::microseconds(watchdog_usec / 2)) {
      sd_notify(0, "WATCHDOG=1");
      last_ping = SteadyClock::now();
    }
    if (stopping_since && SteadyClock::now() - *stopping_since > std::chrono::milliseconds(timeout_ms_)) {
      log_error("shutdown took longer than shutdown_timeout_ms=%lld; exiting", static_cast<long long>(timeout_ms_));
      std::_Exit(kRuntimeError);
    }
  }
}

}  // namespace logguard::daemon::detail

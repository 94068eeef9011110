#pragma once
// The one place where logguardd's config becomes running threads (private; see wiring.cpp).
#include <string>

namespace logguard::daemon::detail {

/// Runs the daemon of config file `path` until its source ends, SIGTERM/SIGINT, or a fatal
/// error; returns the exit code. Start-up errors are thrown (core::ConfigError / LoadError).
int run_daemon(const std::string& path);

}  // namespace logguard::daemon::detail

#pragma once
// Exit codes of both executables, `logguard` and `logguardd` (documented in docs/cli.md):
//   0 success, 1 runtime failure (I/O, data), 2 bad usage, 3 bad configuration,
//   4 unreadable/corrupt input file (snapshot, model bundle, data file, checkpoint).
// Start-up errors map onto them by type: core::ConfigError -> 3, core::LoadError -> 4.
namespace logguard::daemon {

enum ExitCode : int { kOk = 0, kRuntimeError = 1, kUsageError = 2, kConfigError = 3, kLoadError = 4 };

}  // namespace logguard::daemon

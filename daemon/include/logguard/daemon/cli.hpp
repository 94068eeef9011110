#pragma once
// Entry point of the `logguard` command-line tool (parse, train, detect, evaluate, ...).
// Exit codes (documented in docs/cli.md):
//   0 success, 1 runtime failure (I/O, data), 2 bad usage, 3 bad configuration,
//   4 unreadable/corrupt input file (snapshot, model bundle, data file).
namespace logguard::daemon {

enum ExitCode : int { kOk = 0, kRuntimeError = 1, kUsageError = 2, kConfigError = 3, kLoadError = 4 };

/// Parses argv, runs the chosen subcommand, maps errors to exit codes with a one-line
/// reason on stderr. Never throws.
int run_cli(int argc, char** argv);

/// The same with only the `parse` command: what the `logguard` executable runs for
/// `logguard parse` without loading the model libraries (apps/logguard/main.cpp).
int run_parse_cli(int argc, char** argv);

}  // namespace logguard::daemon

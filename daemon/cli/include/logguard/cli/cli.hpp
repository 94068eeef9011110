#pragma once
// Entry point of the `logguard` command-line tool (parse, train, detect, evaluate, noise, map,
// replay, tail). Exit codes: logguard/config/exit_codes.hpp (docs/cli.md).
#include "logguard/config/exit_codes.hpp"

namespace logguard::daemon {

/// Parses argv, runs the chosen subcommand, maps errors to exit codes with a one-line
/// reason on stderr. Never throws.
int run_cli(int argc, char** argv);

/// The same with only the `parse` command: what the `logguard` executable runs for
/// `logguard parse` without loading the model libraries (apps/logguard/main.cpp).
int run_parse_cli(int argc, char** argv);

}  // namespace logguard::daemon

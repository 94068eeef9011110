#pragma once
// Entry point of the `logguardd` executable: parses the command line, runs the daemon
// (--config) or checks a config (--check-config), and maps start-up errors to the exit codes
// of docs/cli.md (logguard/config/exit_codes.hpp). Call once, from main().
namespace logguard::daemon {

int run_logguardd(int argc, char** argv);

}  // namespace logguard::daemon

#pragma once
// Entry point of the `logguardd` executable (daemon/src/daemon_main.cpp): parses the command
// line, runs the daemon or checks a config, and maps start-up errors to the exit codes of
// docs/cli.md. Call once, from main().
namespace logguard::daemon {

int run_logguardd(int argc, char** argv);

}  // namespace logguard::daemon

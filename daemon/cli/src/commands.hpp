#pragma once
// Registration of the `logguard` subcommands. Each command file adds its CLI11 subcommand
// to the root app and, when chosen, its runner to `action`. The table in cli.cpp lists them.
#include <CLI/CLI.hpp>

#include <functional>

namespace logguard::daemon::detail {

/// Set by the chosen subcommand's callback; returns the process exit code.
using Action = std::function<int()>;
using Registrar = void (*)(CLI::App& root, Action& action);

void register_parse(CLI::App& root, Action& action);
void register_train(CLI::App& root, Action& action);
void register_detect(CLI::App& root, Action& action);
void register_evaluate(CLI::App& root, Action& action);
void register_noise(CLI::App& root, Action& action);
void register_replay(CLI::App& root, Action& action);  // cmd_replay.cpp
void register_tail(CLI::App& root, Action& action);    // cmd_replay.cpp
void register_map(CLI::App& root, Action& action);     // cmd_map.cpp

}  // namespace logguard::daemon::detail

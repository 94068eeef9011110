#pragma once
// Registration of the `logguard` subcommands. Each command file adds its CLI11 subcommand
// to the root app and, when chosen, its runner to `action`. The table in cli.cpp lists them.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <functional>
#include <string>

#include "logguard/core/record_format.hpp"
#include "logguard/core/session_reader.hpp"

namespace logguard::daemon::detail {

/// Set by the chosen subcommand's callback; returns the process exit code.
using Action = std::function<int()>;
using Registrar = void (*)(CLI::App& root, Action& action);

/// Parses argv with the given subcommands and runs the chosen one, mapping errors to exit
/// codes (cli_runner.cpp; run_cli() passes every command, run_parse_cli() only `parse`).
int run_commands(int argc, char** argv, const Registrar* commands, std::size_t count);

void register_parse(CLI::App& root, Action& action);
void register_train(CLI::App& root, Action& action);
void register_detect(CLI::App& root, Action& action);
void register_evaluate(CLI::App& root, Action& action);
void register_noise(CLI::App& root, Action& action);
void register_replay(CLI::App& root, Action& action);  // cmd_replay.cpp
void register_tail(CLI::App& root, Action& action);    // cmd_replay.cpp
void register_map(CLI::App& root, Action& action);     // cmd_map.cpp
void register_feedback(CLI::App& root, Action& action);  // cmd_feedback.cpp

// Input records of `train` / `detect --input` (input_records.cpp): `base` (a config's `input:`
// or a bundle's recorded format) with its kind replaced by --format when given.
core::RecordFormat record_format(core::RecordFormat base, const std::string& format_flag);
/// Prints what JSON / OTLP input left out (rejected records per reason, other streams).
void report_rejected(const char* command, const core::SessionInput& in);

}  // namespace logguard::daemon::detail

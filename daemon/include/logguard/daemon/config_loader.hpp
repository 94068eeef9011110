#pragma once
// The one place where YAML becomes configuration. Each module owns a plain config struct
// with validate(); this loader maps YAML sections onto them, rejects unknown keys (listing
// the valid ones) and reports every problem as ConfigError("<file>: <yaml.path>: ...").
//
// Lifecycle: called once at start-up (and on reload); never on the hot path.
// Thread-safety: pure functions.
#include <filesystem>
#include <string>
#include <string_view>

#include "logguard/core/parser_config.hpp"

namespace logguard::daemon {

/// Everything a `logguard` command or the daemon reads from one YAML file. Sections a
/// file does not contain keep their defaults.
struct AppConfig {
  core::ParserConfig parser;   // `parser:` section
  std::string source;          // file the config came from (for messages)
};

/// Reads and validates a YAML config file. Throws core::ConfigError naming the file and
/// the YAML path of the first problem (e.g. "a.yaml: parser.drain.depth: must be >= 3").
AppConfig load_app_config(const std::filesystem::path& path);

/// Same, from YAML text; `source` names it in messages.
AppConfig parse_app_config(std::string_view yaml_text, const std::string& source);

}  // namespace logguard::daemon

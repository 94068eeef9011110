#pragma once
// The `parser:` section of a config file: read by config_loader.cpp (with every other section)
// and, alone, by `logguard parse` (load_parser_config), which needs nothing else and so runs
// without the model libraries (see apps/logguard/main.cpp).
// Thread-safety: pure functions.
#include "logguard/core/parser_config.hpp"
#include "yaml_reader.hpp"

namespace logguard::daemon::detail {

/// Maps a `parser:` mapping onto a validated ParserConfig (`preset:` first, then the keys
/// given beside it); throws ConfigError with the YAML path of the problem.
core::ParserConfig read_parser_section(YamlSection s);

}  // namespace logguard::daemon::detail

#pragma once
// Reading only the `parser:` section of a config file (what `logguard parse` needs).
// Thread-safety: pure function.
#include <filesystem>

#include "logguard/core/parser_config.hpp"

namespace logguard::daemon {

/// The validated `parser:` section of a YAML config file (other top-level sections are not
/// read). A file without one gives the plain ParserConfig defaults. Throws ConfigError naming
/// the file and the YAML path (`c.yaml: parser.drain.depth: ...`).
core::ParserConfig load_parser_config(const std::filesystem::path& path);

}  // namespace logguard::daemon

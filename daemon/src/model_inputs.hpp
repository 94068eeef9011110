#pragma once
// Inputs of `logguard train` / `detect`: session sequence files with a template table, or
// raw log files parsed by core::LineParser and keyed into sessions by an RE2 pattern.
#include <string>
#include <vector>

#include "logguard/core/parser_config.hpp"
#include "logguard/core/sequences.hpp"

namespace logguard::daemon::detail {

struct SessionInput {
  std::vector<core::Session> sessions;       // in order of first appearance
  std::vector<core::TemplateEntry> templates;
  std::size_t lines = 0, unkeyed_lines = 0;  // raw input: lines read / without a session key
};

/// Parses RAW.log line by line; a line joins the session named by the first match of
/// `session_key` (its group 1 if it has one). With `count_window_lines` N > 0 there is no key:
/// input lines k*N+1 .. (k+1)*N (1-based, every line counted) form session "lines:<first>-<last>".
/// `pinned` (detect: the bundle's templates) are pinned in the parser before the first line
/// (pin_templates), so live lines map onto them as the daemon's parser does.
/// Throws ConfigError/LoadError naming the problem.
SessionInput read_raw_sessions(const std::string& path, const core::ParserConfig& parser,
                               const std::string& session_key, int count_window_lines = 0,
                               const std::vector<core::TemplateEntry>& pinned = {});

}  // namespace logguard::daemon::detail

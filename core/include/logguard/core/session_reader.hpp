#pragma once
// Raw logs as model input: a log file parsed by core::LineParser and keyed into sessions by an
// RE2 pattern (or cut into windows of N lines), and the pinning of a model's templates in a
// parser. Used by `logguard train` / `detect` (sessions of a file) and by the daemon's mapper
// (pin_templates), so that both map live lines onto the templates a model was trained on.
// Start-up code: errors are thrown (ConfigError / LoadError naming the key or file).
// Thread-safety: free functions without shared state.
#include <cstddef>
#include <string>
#include <vector>

#include "logguard/core/line_parser.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/sequences.hpp"

namespace logguard::core {

/// Pins `templates` (Drain texts, e.g. a model bundle's) in the parser (LineParser::pin) so
/// that lines map onto exactly those templates and an abnormal variant ("... Interrupted"
/// beside "... terminating") cannot generalise one of them. Skipped when the parser writes
/// another template_style (its texts are not Drain texts). Returns how many were pinned.
std::size_t pin_templates(LineParser& parser, const std::vector<TemplateEntry>& templates);

/// The sessions of a raw log file.
struct SessionInput {
  std::vector<Session> sessions;             // in order of first appearance
  std::vector<TemplateEntry> templates;
  std::size_t lines = 0, unkeyed_lines = 0;  // raw input: lines read / without a session key
};

/// Parses RAW.log line by line; a line joins the session named by the first match of
/// `session_key` (its group 1 if it has one). With `count_window_lines` N > 0 there is no key:
/// input lines k*N+1 .. (k+1)*N (1-based, every line counted) form session "lines:<first>-<last>".
/// `pinned` (detect: the bundle's templates) are pinned in the parser before the first line
/// (pin_templates), so live lines map onto them as the daemon's parser does.
/// Throws ConfigError/LoadError naming the problem.
SessionInput read_raw_sessions(const std::string& path, const ParserConfig& parser, const std::string& session_key,
                               int count_window_lines = 0, const std::vector<TemplateEntry>& pinned = {});

}  // namespace logguard::core

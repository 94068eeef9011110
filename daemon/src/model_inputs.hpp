#pragma once
// Inputs of `logguard train` / `detect`: session sequence files with a template table, or
// raw log files parsed by core::LineParser and cut into sessions: by an RE2 session key, into
// windows of N lines, or per entity (a header field) and window of event time; with the
// log's own labels when a header field carries them.
#include <string>
#include <vector>

#include "logguard/core/event_time.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/sequences.hpp"

namespace logguard::daemon::detail {

struct SessionInput {
  std::vector<core::Session> sessions;       // in order of first appearance
  std::vector<core::TemplateEntry> templates;
  std::size_t lines = 0, unkeyed_lines = 0;  // raw input: lines read / without a session (no key,
                                             // no entity field or no readable time)
  bool labelled = false;                     // sessions carry label and event_labels
  std::size_t unlabelled_lines = 0;          // labelled input: lines whose label field is missing or
                                             // names no known value (counted as normal)
};

/// How raw lines become sessions (mirrors models::RawInputSettings).
struct RawSessionOptions {
  core::ParserConfig parser;
  std::string session_key;      // RE2: the first match (its group 1 if any) names the session
  int count_window_lines = 0;   // > 0: input lines k*N+1 .. (k+1)*N form "lines:<first>-<last>"
  core::EntityWindows entity;   // enabled: "<entity>@<window start ms>" sessions
  core::LabelSettings label;    // enabled: per-line labels from a header field
};

/// Parses RAW.log line by line into sessions (see RawSessionOptions; exactly one of key,
/// count and entity applies, in the order count, entity, key). `pinned` (detect: the bundle's
/// templates) are pinned in the parser before the first line (pin_templates), so live lines
/// map onto them as the daemon's parser does. A session is labelled anomalous when one of its
/// lines is. Throws ConfigError/LoadError naming the problem.
SessionInput read_raw_sessions(const std::string& path, const RawSessionOptions& options,
                               const std::vector<core::TemplateEntry>& pinned = {});

}  // namespace logguard::daemon::detail

#pragma once
// Raw logs as model input: a log file parsed by core::LineParser and cut into sessions (by an
// RE2 session key, into windows of N lines, or per entity -- a header field -- and window of
// event time), with the log's own labels when a header field carries them; and the pinning of
// a model's templates in a parser. Used by `logguard train` / `detect` (sessions of a file) and by the daemon's mapper
// (pin_templates), so that both map live lines onto the templates a model was trained on.
// Start-up code: errors are thrown (ConfigError / LoadError naming the key or file).
// Thread-safety: free functions without shared state.
#include <cstddef>
#include <string>
#include <vector>

#include "logguard/core/event_time.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/core/sequences.hpp"

namespace logguard::core {

/// Pins `templates` (Drain texts, e.g. a model bundle's) in the parser (LineParser::pin) so
/// that lines map onto exactly those templates and an abnormal variant ("... Interrupted"
/// beside "... terminating") cannot generalise one of them. Skipped when the parser writes
/// another template_style (its texts are not Drain texts). A table's wildcards glued to the ends
/// of a token are dropped first ("<*>PacketResponder <*> ... terminating<*>" is pinned as
/// "PacketResponder <*> ... terminating"); a text with a wildcard inside a token is not pinned.
/// Returns how many were pinned.
std::size_t pin_templates(LineParser& parser, const std::vector<TemplateEntry>& templates);

/// The sessions of a raw log file.
struct SessionInput {
  std::vector<Session> sessions;             // in order of first appearance
  std::vector<TemplateEntry> templates;
  std::size_t lines = 0, unkeyed_lines = 0;  // raw input: lines read / without a session (no key,
                                             // no entity field or no readable time)
  bool labelled = false;                     // sessions carry label and event_labels
  std::size_t unlabelled_lines = 0;          // labelled input: lines whose label field is missing or
                                             // names no known value (counted as normal)
  // JSON / OTLP input (RawSessionOptions::record): input lines and log records left out.
  std::size_t rejected = 0;                  // input lines or OTLP log records rejected (below)
  std::size_t other_stream = 0;              // records of streams not selected
  std::vector<std::pair<std::string, std::size_t>> rejected_by_reason;  // (RejectReason name, count), non-zero only
};

/// How raw lines become sessions (mirrors models::RawInputSettings).
struct RawSessionOptions {
  ParserConfig parser;
  std::string session_key;      // RE2: the first match (its group 1 if any) names the session
  int count_window_lines = 0;   // > 0: input lines k*N+1 .. (k+1)*N form "lines:<first>-<last>"
  EntityWindows entity;         // enabled: "<entity>@<window start ms>" sessions
  LabelSettings label;          // enabled: per-line labels from a header field
  bool emit_time_templates = false;  // events carry the template as it was when their line was
                                     // parsed (a new id per template text), as a streaming parser
                                     // (logguardd) sees them; false: every event of a parser
                                     // template carries its final text (training)
  RecordFormat record;               // how input lines are read: raw lines, or JSON / OTLP records
                                     // (their message parsed; session key and label from their
                                     // fields when the format names them)
  std::vector<std::string> streams;  // non-empty: only records whose stream field has one of these
};

/// Parses RAW.log line by line into sessions (see RawSessionOptions; exactly one of key,
/// count and entity applies, in the order count, entity, the record's session field, key; a
/// line naming several keys joins each of their sessions, as logguardd's windower does). JSON
/// and OTLP input: each line is one input record (JSON lines; an OTLP request per line, as the
/// collector's file exporter writes), decoded by core::RecordDecoder as logguardd decodes them;
/// rejected records are counted and left out; a count window counts log records. `pinned` (detect: the bundle's
/// templates) are pinned in the parser before the first line (pin_templates), so live lines
/// map onto them as the daemon's parser does. A session is labelled anomalous when one of its
/// lines is. Throws ConfigError/LoadError naming the problem.
SessionInput read_raw_sessions(const std::string& path, const RawSessionOptions& options,
                               const std::vector<TemplateEntry>& pinned = {});

}  // namespace logguard::core

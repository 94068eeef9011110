#pragma once
// LineParser: raw log line -> (template id, template text, parameters), online Drain.
//
// Lifecycle: constructed from a validated ParserConfig (throws ConfigError on a bad config
// or mask regex), then parse() per line. State can be snapshotted and restored; a restored
// parser continues with the same ids and templates.
// Thread-safety: none. One LineParser per thread; match() is const and may run
// concurrently with other match() calls (it uses thread-local buffers) but not with
// parse(). last_parameters()/last_header() build their results lazily: call them only
// from the thread that parses. How it works: docs/parser.md.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/core/parser_config.hpp"

namespace logguard::core {

using TemplateId = std::uint32_t;
inline constexpr TemplateId kNoTemplate = 0;  // ids start at 1

enum class ChangeKind : std::uint8_t { none, created, template_changed };
const char* to_string(ChangeKind k) noexcept;

/// Result of parsing one line. Views point into the parser and stay valid until the
/// next non-const call on it.
struct ParseResult {
  TemplateId template_id = kNoTemplate;
  ChangeKind change = ChangeKind::none;
  std::string_view template_text;   // tokens joined by single spaces, variables as "<*>"
  bool header_matched = true;        // false: line did not fit log_format; parsed whole as content
  bool truncated = false;            // line was longer than max_line_bytes
  bool invalid_utf8 = false;         // invalid sequences were replaced by U+FFFD before parsing
};

/// Counters since construction (restored from snapshots as well).
struct ParserStats {
  std::uint64_t lines = 0;
  std::uint64_t header_mismatches = 0;
  std::uint64_t truncated_lines = 0;
  std::uint64_t invalid_utf8_lines = 0;
  std::uint64_t empty_lines = 0;
  std::uint64_t clusters_created = 0;
  std::uint64_t templates_changed = 0;
  std::uint64_t clusters_evicted = 0;
  std::uint64_t similarity_scans = 0;   // lines not resolved by the exact-template index
  std::uint64_t candidates_scored = 0;  // templates compared during those scans
};

/// Header fields of the last parsed line, by log_format field name (e.g. "Date").
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

class LineParser {
 public:
  explicit LineParser(ParserConfig config);
  ~LineParser();
  LineParser(LineParser&&) noexcept;
  LineParser& operator=(LineParser&&) noexcept;

  /// Parses one line (without its line terminator; a trailing '\r' is ignored). Never throws.
  ParseResult parse(std::string_view line) noexcept;

  /// Inference only: the id of the best-matching existing template, or kNoTemplate.
  /// Never creates or changes clusters.
  TemplateId match(std::string_view line) const noexcept;

  /// Pins a known template, given as its Drain text (tokens joined by single spaces, variables
  /// "<*>"; not masked again): from now on it takes exactly the lines that are its instances
  /// (every constant equal, similarity threshold met), ahead of any unpinned cluster; it is
  /// never generalised and never evicted, and a line that differs from it in a constant opens
  /// or joins another cluster. Used to keep a model's templates fixed while parsing live input
  /// (without it, one abnormal "... Interrupted" line generalises the normal "... terminating"
  /// template into "... <*>"). An identical existing cluster is pinned in place (keeping its
  /// id), else a new cluster is made. Returns its id; kNoTemplate for a text without tokens.
  /// Pins are not part of snapshots: pin again after load().
  TemplateId pin(std::string_view template_text);

  /// Variable values of the last parsed line against its template (in template order).
  std::vector<std::string> last_parameters() const;
  /// Header fields of the last parsed line.
  const std::vector<HeaderField>& last_header() const noexcept;
  /// Content part of the last parsed line (after header extraction, before masking).
  std::string_view last_content() const noexcept;

  /// Current template text of a live cluster; empty if the id is unknown or evicted.
  std::string_view template_text(TemplateId id) const noexcept;
  /// Every live template, ordered by id.
  std::vector<std::pair<TemplateId, std::string>> templates() const;
  std::size_t cluster_count() const noexcept;
  const ParserStats& stats() const noexcept;
  const ParserConfig& config() const noexcept;

  /// Versioned binary snapshot of the full state (format in docs/snapshot-format.md).
  void save(std::ostream& out) const;
  /// Restores a snapshot. Throws LoadError naming `source` (e.g. a file name) on a
  /// corrupt, truncated or foreign snapshot, or one whose config differs from `config`.
  static LineParser load(std::istream& in, ParserConfig config, const std::string& source);

  /// Approximate heap bytes held by the parse tree and templates.
  std::size_t memory_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::core

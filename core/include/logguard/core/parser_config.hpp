#pragma once
// Plain configuration structs of the parser stage. Filled by the application layer
// (daemon/ reads YAML); validate() throws ConfigError naming the offending key, relative
// to the parser section (e.g. "drain.depth", "masks[2].regex").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/template_style.hpp"

namespace logguard::core {

/// One masking rule, applied to the content before Drain, in configured order.
/// Exactly one of `builtin` or `regex` is set.
///   builtin: one of "ipv4", "ipv6", "hex", "number", "hdfs_block", "hdfs_block_list", "uuid", "path",
///            "url", "mac", "datetime" (fast hand-written scanners, no regex)
///   regex:   an RE2 pattern; every match is replaced by `replacement`.
struct MaskRule {
  std::string name;
  std::string builtin;
  std::string regex;
  std::string replacement = "<*>";
  bool operator==(const MaskRule&) const = default;
};

enum class WildcardMatch : std::uint8_t { masked, never, any, typed };
/// Name <-> value for config files ("masked", "never", "any", "typed"); false if unknown.
bool wildcard_match_from_name(const std::string& name, WildcardMatch* out) noexcept;
const char* to_string(WildcardMatch m) noexcept;

struct DrainConfig {
  int depth = 4;                        // parse-tree depth in [3, 32]: root, token-count level, (depth-3)
                                        // levels keyed by leading tokens, leaf (Drain3 semantics)
  double similarity_threshold = 0.5;    // in (0, 1]
  int max_children = 100;               // per internal node (>= 2)
  std::size_t max_clusters = 0;         // 0 = unlimited; else evicts the cluster least recently parsed into
  std::string extra_delimiters;         // characters split like spaces, e.g. "=,"
  std::string punctuation_tokens;       // characters that are tokens of their own, e.g. ",;:=()[]{}|\"'":
                                        // "a=1,b=2" is a = 1 , b = 2 and a template keeps them
                                        // (empty = off; the default preset sets it)
  bool parametrize_numeric_tokens = true;  // tokens with digits never become tree keys
  // How a template's "<*>" position counts in the similarity (docs/parser.md):
  //   masked (default, the fix): it matches a line token that is itself "<*>" (a masked
  //          variable): similarity = (equal constants + <*>/<*> positions) / tokens.
  //   never: classic Drain3: it never matches, so a mostly-masked line can never reach
  //          the threshold and keeps creating duplicate clusters.
  //   any:   it matches any token; similarity = equal constants / template constants.
  //   typed: as masked, and a template token that looks variable ("<*>" or a token with a
  //          digit) also matches a line token that looks variable: variables match variables,
  //          words must be equal (the default preset's mode).
  WildcardMatch wildcard_match = WildcardMatch::masked;
  // typed mode: a position where lines differ in one word (all else equal) becomes a variable
  // once this many distinct words were seen there; until then each word is its own template
  // ("VM Started" / "VM Stopped" stay apart, "user alice/bob/carol" merge). >= 2.
  int distinct_words = 3;
  // How template text is written out (ParseResult::template_text, template_text(),
  // templates()); display only: clustering, ids and parameters do not depend on it.
  TemplateStyle template_style = TemplateStyle::drain;
  void validate() const;
  bool operator==(const DrainConfig&) const = default;
};

struct ParserConfig {
  std::string log_format;               // e.g. "<Date> <Time> <Pid> <Level> <Component>: <Content>"; empty = whole line is content
  std::vector<MaskRule> masks;
  DrainConfig drain;
  std::size_t max_line_bytes = 1 << 20; // longer lines are truncated (and counted)
  void validate() const;
  bool operator==(const ParserConfig&) const = default;  // same settings: same parse of every line
};

/// Built-in parser presets, the starting point of a `parser:` section with `preset: NAME`
/// (keys given beside it override the preset's; a `masks` list replaces its masks).
///   "default": settings for logs nobody tuned for (docs/parser.md "The default preset"):
///              built-in masks for the common variable shapes, typed wildcard matching,
///              Loghub-2.0 template style; log_format empty (give one when the header is known).
/// Returns false for an unknown name.
bool parser_preset(std::string_view name, ParserConfig* out);
/// The names parser_preset() accepts.
std::vector<std::string> parser_preset_names();

}  // namespace logguard::core

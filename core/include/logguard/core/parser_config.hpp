#pragma once
// Plain configuration structs of the parser stage. Filled by the application layer
// (daemon/ reads YAML); validate() throws ConfigError naming the offending key, relative
// to the parser section (e.g. "drain.depth", "masks[2].regex").
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace logguard::core {

/// One masking rule, applied to the content before Drain, in configured order.
/// Exactly one of `builtin` or `regex` is set.
///   builtin: one of "ipv4", "ipv6", "hex", "number", "hdfs_block", "uuid", "path",
///            "url", "mac", "datetime" (fast hand-written scanners, no regex)
///   regex:   an RE2 pattern; every match is replaced by `replacement`.
struct MaskRule {
  std::string name;
  std::string builtin;
  std::string regex;
  std::string replacement = "<*>";
};

struct DrainConfig {
  int depth = 4;                        // parse-tree depth (>= 3): root + length + (depth-2) token levels
  double similarity_threshold = 0.5;    // in (0, 1]
  int max_children = 100;               // per internal node (>= 2)
  std::size_t max_clusters = 0;         // 0 = unlimited; else LRU eviction of the least recently matched
  std::string extra_delimiters;         // characters split like spaces, e.g. "=,"
  bool parametrize_numeric_tokens = true;  // tokens with digits never become tree keys
  void validate() const;
};

struct ParserConfig {
  std::string log_format;               // e.g. "<Date> <Time> <Pid> <Level> <Component>: <Content>"; empty = whole line is content
  std::vector<MaskRule> masks;
  DrainConfig drain;
  std::size_t max_line_bytes = 1 << 20; // longer lines are truncated (and counted)
  void validate() const;
};

}  // namespace logguard::core

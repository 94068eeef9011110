#pragma once
// Template tables written by other parsers (Loghub ground truth, preprocessed sequence data
// sets) spell templates as literal text with `<*>` wildcards ("<*>Deleting block<*>file<*>").
// A TemplatePatternSet reads such a table as patterns and finds, for a template text produced
// by this project's parser ("Deleting block <*> file /mnt/hadoop/dfs/data/current/<*>"), the
// most specific pattern it fits: every literal part of the pattern appears in the text in
// order (whitespace-insensitive at the part edges), anchored at the text's start/end where
// the pattern has no wildcard there. The most specific pattern is the one with the most literal
// characters; ties go to the earlier one. Patterns without any letter match nothing (they
// would match everything).
//
// Lifecycle: built once from the table; match() is const and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::core {

class TemplatePatternSet {
 public:
  TemplatePatternSet() = default;
  explicit TemplatePatternSet(const std::vector<std::string>& templates);

  /// Index (into the constructor's vector) of the most specific pattern `text` fits, or -1.
  long match(std::string_view text) const;
  std::size_t size() const noexcept { return patterns_.size(); }

 private:
  struct Pattern {
    std::vector<std::string> parts;  // literal parts, trimmed, in order
    bool anchored_start = false, anchored_end = false;
    std::size_t literal_chars = 0;
    bool usable = false;
  };
  static bool fits(const Pattern& p, std::string_view text);
  std::vector<Pattern> patterns_;
};

}  // namespace logguard::core

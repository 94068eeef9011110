// validate() of the parser configuration structs.
#include <cmath>
#include <set>

#include "log_format.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/parser_config.hpp"
#include "masker.hpp"

namespace logguard::core {

bool wildcard_match_from_name(const std::string& name, WildcardMatch* out) noexcept {
  if (name == "masked") *out = WildcardMatch::masked;
  else if (name == "never") *out = WildcardMatch::never;
  else if (name == "any") *out = WildcardMatch::any;
  else return false;
  return true;
}

const char* to_string(WildcardMatch m) noexcept {
  switch (m) {
    case WildcardMatch::masked: return "masked";
    case WildcardMatch::never: return "never";
    case WildcardMatch::any: return "any";
  }
  return "unknown";
}

void DrainConfig::validate() const {
  if (depth < 3 || depth > 32)
    throw ConfigError("drain.depth", "must be in [3, 32], got " + std::to_string(depth));
  if (!(similarity_threshold > 0.0 && similarity_threshold <= 1.0))
    throw ConfigError("drain.similarity_threshold",
                      "must be in (0, 1], got " + std::to_string(similarity_threshold));
  if (max_children < 2)
    throw ConfigError("drain.max_children", "must be >= 2, got " + std::to_string(max_children));
  if (max_clusters > 0xFFFFFFF0u)
    throw ConfigError("drain.max_clusters", "must be < 2^32 (0 = unlimited)");
  if (wildcard_match != WildcardMatch::masked && wildcard_match != WildcardMatch::never &&
      wildcard_match != WildcardMatch::any)
    throw ConfigError("drain.wildcard_match", "must be masked, never or any");
  for (char c : extra_delimiters)
    if (c == '<' || c == '*' || c == '>')
      throw ConfigError("drain.extra_delimiters",
                        std::string("must not contain '") + c + "' (it would split the \"<*>\" wildcard)");
}

void ParserConfig::validate() const {
  drain.validate();
  if (max_line_bytes == 0 || max_line_bytes > (std::size_t{1} << 30))
    throw ConfigError("max_line_bytes", "must be in [1, 2^30], got " + std::to_string(max_line_bytes));
  (void)detail::LogFormat(log_format);  // throws ConfigError("log_format", ...)
  std::set<std::string> names;
  for (std::size_t i = 0; i < masks.size(); ++i) {
    const MaskRule& m = masks[i];
    const std::string key = "masks[" + std::to_string(i) + "]";
    if (m.name.empty()) throw ConfigError(key + ".name", "must not be empty");
    if (!names.insert(m.name).second) throw ConfigError(key + ".name", "duplicate mask name \"" + m.name + "\"");
    if (m.builtin.empty() == m.regex.empty())
      throw ConfigError(key, "set exactly one of \"builtin\" and \"regex\" (mask \"" + m.name + "\")");
  }
  (void)detail::Masker(masks);  // throws ConfigError("masks[i].builtin" / "masks[i].regex", ...)
}

}  // namespace logguard::core

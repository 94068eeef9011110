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
  else if (name == "typed") *out = WildcardMatch::typed;
  else return false;
  return true;
}

const char* to_string(WildcardMatch m) noexcept {
  switch (m) {
    case WildcardMatch::masked: return "masked";
    case WildcardMatch::never: return "never";
    case WildcardMatch::any: return "any";
    case WildcardMatch::typed: return "typed";
  }
  return "unknown";
}

bool parser_preset(std::string_view name, ParserConfig* out) {
  if (name != "default") return false;
  ParserConfig c;
  // One built-in pass. At a position the first rule that matches wins, an earlier start always
  // wins: quoted text first (its inside is one variable), then the shapes that contain
  // characters the later ones would split at, numbers last.
  c.masks = {
      {"quoted", "quoted", "", "<*>"},      // inside of "..." / '...'
      {"url", "url", "", "<*>"},            // scheme://...
      {"uuid", "uuid", "", "<*>"},
      {"mac", "mac", "", "<*>"},
      {"ipv6", "ipv6", "", "<*>"},
      {"datetime", "datetime", "", "<*>"},  // 2024-01-31, 12:00:01.5, ...
      {"textdate", "textdate", "", "<*>"},  // Jun 14, Fri Jun 17 20:55:06 2005
      {"hostport", "hostport", "", "<*>"},  // host.example.com:8080 (one variable)
      {"hostname", "hostname", "", "<*>"},  // proxy.cse.example.edu, example.com
      {"ipv4", "ipv4", "", "<*>"},          // 10.0.0.1 and 10.0.0.1:50010 (one variable)
      {"path", "path", "", "<*>"},          // /a/b, /a?x=1, ./x, C:\x
      {"hex", "hex", "", "<*>"},            // 0x1f, deadbeef01, ffffffff
      {"empty", "empty_value", "", "<*>"},  // a stand-alone () [] {} "" '' -> (<*>) ...
      {"numeric", "numeric", "", "<*>"},    // 42, -1.5, 64MB, 5.2 KB, 250 ms, 3f2a (digit-led words)
      {"lists", "value_list", "", "<*>"},   // 10.0.0.1,10.0.0.2 -> one <*>
  };
  // Chosen by bench/parser_cv.py on the 16 Loghub systems (docs/parser-accuracy.md): with
  // typed matching only a word difference can keep a line from its template; similarity 1.0
  // leaves the decision to distinct_words (a position takes any word after 6 distinct ones).
  c.drain.depth = 4;
  c.drain.similarity_threshold = 1.0;
  c.drain.distinct_words = 6;
  c.drain.wildcard_match = WildcardMatch::typed;
  c.drain.punctuation_tokens = ",;:=()[]{}|\"'";
  c.drain.template_style = TemplateStyle::loghub2;
  *out = std::move(c);
  return true;
}

std::vector<std::string> parser_preset_names() { return {"default"}; }

void DrainConfig::validate() const {
  if (depth < 3 || depth > 32)
    throw ConfigError("drain.depth", "must be in [3, 32], got " + std::to_string(depth));
  if (!(similarity_threshold > 0.0 && similarity_threshold <= 1.0))
    throw ConfigError("drain.similarity_threshold",
                      "must be in (0, 1], got " + std::to_string(similarity_threshold));
  if (distinct_words < 2 || distinct_words > 1000)
    throw ConfigError("drain.distinct_words", "must be in [2, 1000], got " + std::to_string(distinct_words));
  if (max_children < 2)
    throw ConfigError("drain.max_children", "must be >= 2, got " + std::to_string(max_children));
  if (max_clusters > 0xFFFFFFF0u)
    throw ConfigError("drain.max_clusters", "must be < 2^32 (0 = unlimited)");
  if (wildcard_match != WildcardMatch::masked && wildcard_match != WildcardMatch::never &&
      wildcard_match != WildcardMatch::any && wildcard_match != WildcardMatch::typed)
    throw ConfigError("drain.wildcard_match", "must be masked, never, any or typed");
  for (char c : punctuation_tokens) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
        c == '<' || c == '*' || c == '>')
      throw ConfigError("drain.punctuation_tokens",
                        std::string("must hold ASCII punctuation other than '<', '*', '>' (got '") + c + "')");
    if (extra_delimiters.find(c) != std::string::npos)
      throw ConfigError("drain.punctuation_tokens", std::string("'") + c + "' is also in drain.extra_delimiters");
  }
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

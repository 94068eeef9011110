#include "parser_section.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <fstream>
#include <sstream>

#include "logguard/core/error.hpp"
#include "logguard/config/parser_loader.hpp"

namespace logguard::daemon {
namespace detail {

core::ParserConfig read_parser_section(YamlSection s) {
  core::ParserConfig c;
  if (s.has("preset")) {  // start from a built-in preset; the keys below override it
    std::string name;
    s.get("preset", name);
    if (!core::parser_preset(name, &c)) {
      std::string list;
      for (const auto& n : core::parser_preset_names()) list += (list.empty() ? "" : ", ") + n;
      s.fail("preset", "unknown preset '" + name + "' (known: " + list + ")");
    }
  }
  s.get("log_format", c.log_format);
  s.get("max_line_bytes", c.max_line_bytes);
  if (s.has("masks")) c.masks.clear();  // a masks list replaces the preset's
  for (auto& m : s.list("masks")) {
    core::MaskRule r;
    m.require("name", r.name);
    m.get("builtin", r.builtin);
    m.get("regex", r.regex);
    m.get("replacement", r.replacement);
    m.finish();
    c.masks.push_back(std::move(r));
  }
  YamlSection d = s.child("drain");
  d.get("depth", c.drain.depth);
  d.get("similarity_threshold", c.drain.similarity_threshold);
  d.get("max_children", c.drain.max_children);
  d.get("max_clusters", c.drain.max_clusters);
  d.get("extra_delimiters", c.drain.extra_delimiters);
  d.get("punctuation_tokens", c.drain.punctuation_tokens);
  d.get("distinct_words", c.drain.distinct_words);
  d.get("parametrize_numeric_tokens", c.drain.parametrize_numeric_tokens);
  // Enumerators in declaration order (core/parser_config.hpp, core/template_style.hpp).
  int wildcard = static_cast<int>(c.drain.wildcard_match);
  read_choice(d, "wildcard_match", std::array{"masked", "never", "any", "typed"}, wildcard);
  c.drain.wildcard_match = static_cast<core::WildcardMatch>(wildcard);
  int style = static_cast<int>(c.drain.template_style);
  read_choice(d, "template_style", std::array{"drain", "loghub2"}, style);
  c.drain.template_style = static_cast<core::TemplateStyle>(style);
  d.finish();
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

}  // namespace detail

core::ParserConfig load_parser_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::ConfigError("", "cannot open config file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw core::ConfigError("", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg, path.string());
  }
  try {
    const YAML::Node p = root.IsDefined() && root.IsMap() ? root["parser"] : YAML::Node();
    return detail::read_parser_section(detail::YamlSection(p, "parser"));
  } catch (const core::ConfigError& e) {
    throw e.in_file(path.string());
  }
}

}  // namespace logguard::daemon

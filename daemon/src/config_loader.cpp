#include "logguard/daemon/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "logguard/core/error.hpp"
#include "yaml_reader.hpp"

namespace logguard::daemon {
namespace {

using detail::YamlSection;

// Re-raises a module's validate() error with the YAML path of its section in front.
template <class F>
void validated(const std::string& section, F&& validate) {
  try {
    validate();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(section + "." + e.key(), e.message());
  }
}

core::ParserConfig read_parser(YamlSection s) {
  core::ParserConfig c;
  s.get("log_format", c.log_format);
  s.get("max_line_bytes", c.max_line_bytes);
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
  d.get("parametrize_numeric_tokens", c.drain.parametrize_numeric_tokens);
  d.finish();
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

AppConfig read_app(const YAML::Node& root, const std::string& source) {
  AppConfig app;
  app.source = source;
  YamlSection top(root, "");
  app.parser = read_parser(top.child("parser"));
  top.finish();
  return app;
}

}  // namespace

AppConfig parse_app_config(std::string_view yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw core::ConfigError("", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg, source);
  }
  try {
    return read_app(root, source);
  } catch (const core::ConfigError& e) {
    throw e.in_file(source);
  }
}

AppConfig load_app_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::ConfigError("", "cannot open config file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_app_config(text.str(), path.string());
}

}  // namespace logguard::daemon

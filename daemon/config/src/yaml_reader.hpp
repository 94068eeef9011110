#pragma once
// YamlSection: strict reader of one YAML mapping. Every get()/child() marks its key as
// known; finish() rejects any key that was not asked for, listing the valid ones. Errors
// are core::ConfigError whose key is the dotted YAML path (e.g. "parser.masks[2].regex").
// Used only by config_loader.cpp; not thread-safe (a reader is a short-lived local).
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"

namespace logguard::daemon::detail {

class YamlSection {
 public:
  /// `node` may be undefined/null (the section is absent: every get() keeps defaults).
  YamlSection(YAML::Node node, std::string path);

  const std::string& path() const { return path_; }
  /// The mapping itself (undefined when absent), for readers that look at raw keys.
  const YAML::Node& node() const { return node_; }
  bool present() const { return node_.IsDefined() && !node_.IsNull(); }
  bool has(const char* key);

  /// Reads an optional scalar into `out` (unchanged when absent). Supported: bool, int,
  /// std::int64_t, std::size_t, double, std::string, std::vector<std::string>.
  template <class T>
  void get(const char* key, T& out);
  /// Like get(), but the key must be present.
  template <class T>
  void require(const char* key, T& out);

  /// A nested mapping (absent → an empty, non-present section).
  YamlSection child(const char* key);
  /// The elements of a sequence of mappings under `key` (absent → empty).
  std::vector<YamlSection> list(const char* key);

  /// Throws if the mapping holds keys nobody asked for.
  void finish() const;

  /// A ConfigError for `key` inside this section.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  std::string key_path(const std::string& key) const;
  YAML::Node node_;
  std::string path_;
  std::vector<std::string> known_;
};

// Re-raises a module's validate() error with the YAML path of its section in front.
template <class F>
inline void validated(const std::string& section, F&& validate) {
  try {
    validate();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(section + "." + e.key(), e.message());
  }
}

// Reads a string key that must be one of `choices`; returns its index (unchanged if absent).
template <std::size_t N>
inline void read_choice(YamlSection& s, const char* key, const std::array<const char*, N>& choices, int& out) {
  if (!s.has(key)) return;
  std::string v;
  s.get(key, v);
  for (std::size_t i = 0; i < N; ++i)
    if (v == choices[i]) {
      out = static_cast<int>(i);
      return;
    }
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  s.fail(key, "must be one of " + list + " (got '" + v + "')");
}

}  // namespace logguard::daemon::detail

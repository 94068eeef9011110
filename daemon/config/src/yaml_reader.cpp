#include "yaml_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace logguard::daemon::detail {
namespace {

std::string where(const YAML::Node& n) {
  const auto m = n.Mark();
  if (m.line < 0) return {};
  return " (line " + std::to_string(m.line + 1) + ")";
}

std::string scalar_text(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

template <class T>
const char* type_name();
template <> const char* type_name<bool>() { return "true or false"; }
template <> const char* type_name<int>() { return "an integer"; }
template <> const char* type_name<std::int64_t>() { return "an integer"; }
template <> const char* type_name<std::size_t>() { return "a non-negative integer"; }
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<std::string>() { return "a string"; }
template <> const char* type_name<std::vector<std::string>>() { return "a list of strings"; }

template <class T>
bool convert(const YAML::Node& n, T& out) {
  if (!n.IsScalar()) return false;
  if constexpr (std::is_same_v<T, std::size_t>) {
    // yaml-cpp happily converts "-1" to a huge unsigned value; refuse negatives.
    const std::string& s = n.Scalar();
    if (s.empty() || s[0] == '-') return false;
  }
  try {
    out = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

template <>
bool convert(const YAML::Node& n, std::vector<std::string>& out) {
  if (!n.IsSequence()) return false;
  std::vector<std::string> v;
  for (const auto& e : n) {
    if (!e.IsScalar()) return false;
    v.push_back(e.Scalar());
  }
  out = std::move(v);
  return true;
}

}  // namespace

YamlSection::YamlSection(YAML::Node node, std::string path) : node_(std::move(node)), path_(std::move(path)) {
  if (present() && !node_.IsMap()) {
    throw core::ConfigError(path_.empty() ? "(top level)" : path_,
                            "expected a mapping of keys, got " + scalar_text(node_) + where(node_));
  }
}

std::string YamlSection::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void YamlSection::fail(const std::string& key, const std::string& message) const {
  throw core::ConfigError(key_path(key), message);
}

bool YamlSection::has(const char* key) {
  known_.emplace_back(key);
  return present() && node_[key].IsDefined() && !node_[key].IsNull();
}

template <class T>
void YamlSection::get(const char* key, T& out) {
  if (!has(key)) return;
  const YAML::Node v = node_[key];
  if (!convert(v, out)) fail(key, std::string("expected ") + type_name<T>() + ", got " + scalar_text(v) + where(v));
}

template <class T>
void YamlSection::require(const char* key, T& out) {
  if (!has(key)) fail(key, "is required");
  get(key, out);
}

YamlSection YamlSection::child(const char* key) {
  known_.emplace_back(key);
  if (!present()) return YamlSection(YAML::Node(), key_path(key));
  return YamlSection(node_[key], key_path(key));
}

std::vector<YamlSection> YamlSection::list(const char* key) {
  std::vector<YamlSection> out;
  if (!has(key)) return out;
  const YAML::Node seq = node_[key];
  if (!seq.IsSequence()) fail(key, "expected a list, got " + scalar_text(seq) + where(seq));
  for (std::size_t i = 0; i < seq.size(); ++i) {
    out.emplace_back(seq[i], key_path(key) + "[" + std::to_string(i) + "]");
  }
  return out;
}

void YamlSection::finish() const {
  if (!present()) return;
  for (const auto& kv : node_) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
    std::vector<std::string> valid = known_;
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
    throw core::ConfigError(key_path(k), "unknown key" + where(kv.first) + "; valid keys here: " + list);
  }
}

template void YamlSection::get(const char*, bool&);
template void YamlSection::get(const char*, int&);
template void YamlSection::get(const char*, std::int64_t&);
template void YamlSection::get(const char*, std::size_t&);
template void YamlSection::get(const char*, double&);
template void YamlSection::get(const char*, std::string&);
template void YamlSection::get(const char*, std::vector<std::string>&);
template void YamlSection::require(const char*, bool&);
template void YamlSection::require(const char*, int&);
template void YamlSection::require(const char*, std::int64_t&);
template void YamlSection::require(const char*, std::size_t&);
template void YamlSection::require(const char*, double&);
template void YamlSection::require(const char*, std::string&);
template void YamlSection::require(const char*, std::vector<std::string>&);

}  // namespace logguard::daemon::detail

// Raw log -> sessions, and template pinning (see session_reader.hpp).
#include "logguard/core/session_reader.hpp"

#include <re2/re2.h>

#include <fstream>
#include <unordered_map>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"

namespace logguard::core {

std::size_t pin_templates(LineParser& parser, const std::vector<TemplateEntry>& templates) {
  if (parser.config().drain.template_style != TemplateStyle::drain) return 0;
  std::size_t n = 0;
  for (const auto& t : templates) n += parser.pin(t.text) != kNoTemplate;
  return n;
}

namespace {

SessionInput read_count_windows(const std::string& path, const core::ParserConfig& parser, int n,
                                const std::vector<core::TemplateEntry>& pinned) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::LoadError(path + ": cannot open file");
  core::LineParser lp(parser);
  pin_templates(lp, pinned);
  SessionInput out;
  std::string line;
  const auto un = static_cast<std::size_t>(n);
  while (std::getline(in, line)) {
    const std::size_t k = out.lines++ / un;
    if (k == out.sessions.size())
      out.sessions.push_back({"lines:" + std::to_string(k * un + 1) + "-" + std::to_string((k + 1) * un), {}, -1});
    const auto r = lp.parse(line);
    if (r.template_id != core::kNoTemplate) out.sessions.back().events.push_back(r.template_id);
  }
  // The last window names the lines it really holds.
  if (!out.sessions.empty() && out.lines % un != 0)
    out.sessions.back().id = "lines:" + std::to_string((out.sessions.size() - 1) * un + 1) + "-" + std::to_string(out.lines);
  for (auto& [tid, text] : lp.templates()) out.templates.push_back({tid, text});
  return out;
}

}  // namespace

SessionInput read_raw_sessions(const std::string& path, const core::ParserConfig& parser,
                               const std::string& session_key, int count_window_lines,
                               const std::vector<core::TemplateEntry>& pinned) {
  if (count_window_lines > 0) return read_count_windows(path, parser, count_window_lines, pinned);
  if (session_key.empty())
    throw core::ConfigError("model.data.session_key",
                            "needed to read raw logs into sessions (or set model.data.count_window_lines)");
  const RE2 probe(session_key);
  if (!probe.ok()) throw core::ConfigError("model.data.session_key", "invalid RE2 pattern: " + probe.error());
  // Capture group 1 keys the session; a pattern without groups is captured whole.
  const RE2 key(probe.NumberOfCapturingGroups() > 0 ? session_key : "(" + session_key + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::LoadError(path + ": cannot open file");
  core::LineParser lp(parser);
  pin_templates(lp, pinned);
  SessionInput out;
  std::unordered_map<std::string, std::size_t> index;
  std::string line, id;
  while (std::getline(in, line)) {
    ++out.lines;
    const auto r = lp.parse(line);
    if (r.template_id == core::kNoTemplate) continue;
    if (!RE2::PartialMatch(line, key, &id)) {
      ++out.unkeyed_lines;
      continue;
    }
    auto [it, fresh] = index.emplace(id, out.sessions.size());
    if (fresh) out.sessions.push_back({id, {}, -1});
    out.sessions[it->second].events.push_back(r.template_id);
  }
  for (auto& [tid, text] : lp.templates()) out.templates.push_back({tid, text});
  return out;
}

}  // namespace logguard::core

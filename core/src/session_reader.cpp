// Raw log -> sessions, and template pinning (see session_reader.hpp).
#include "logguard/core/session_reader.hpp"

#include <re2/re2.h>

#include <fstream>
#include <memory>
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

std::string_view field_value(const std::vector<core::HeaderField>& header, std::string_view name) {
  for (const auto& f : header)
    if (f.name == name) return f.value;
  return {};
}

}  // namespace

SessionInput read_raw_sessions(const std::string& path, const RawSessionOptions& o,
                               const std::vector<core::TemplateEntry>& pinned) {
  const bool count_mode = o.count_window_lines > 0;
  const bool entity_mode = !count_mode && o.entity.enabled();
  std::unique_ptr<RE2> key;
  if (!count_mode && !entity_mode) {
    if (o.session_key.empty())
      throw core::ConfigError("model.data.session_key",
                              "needed to read raw logs into sessions (or set model.data.count_window_lines / entity)");
    const RE2 probe(o.session_key);
    if (!probe.ok()) throw core::ConfigError("model.data.session_key", "invalid RE2 pattern: " + probe.error());
    // Capture group 1 keys the session; a pattern without groups is captured whole.
    key = std::make_unique<RE2>(probe.NumberOfCapturingGroups() > 0 ? o.session_key : "(" + o.session_key + ")");
  }
  core::TimeFormat time_format;
  if (entity_mode) {
    o.entity.validate("model.data.entity");
    time_format = core::TimeFormat(o.entity.time_format, "model.data.entity.time_format");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::LoadError(path + ": cannot open file");
  core::LineParser lp(o.parser);
  pin_templates(lp, pinned);
  SessionInput out;
  out.labelled = o.label.enabled();
  std::unordered_map<std::string, std::size_t> index;
  std::string line, id, when;
  const auto n = static_cast<std::size_t>(std::max(1, o.count_window_lines));
  auto join = [&](const std::string& session_id) -> core::Session& {
    auto [it, fresh] = index.emplace(session_id, out.sessions.size());
    if (fresh) out.sessions.push_back({session_id, {}, out.labelled ? 0 : -1, {}});
    return out.sessions[it->second];
  };
  while (std::getline(in, line)) {
    const std::size_t line_no = out.lines++;
    const auto r = lp.parse(line);
    const auto& header = lp.last_header();
    core::Session* s = nullptr;
    if (count_mode) {
      const std::size_t k = line_no / n;
      if (k == out.sessions.size())
        out.sessions.push_back({"lines:" + std::to_string(k * n + 1) + "-" + std::to_string((k + 1) * n), {},
                                out.labelled ? 0 : -1, {}});
      s = &out.sessions.back();
    } else if (entity_mode) {
      const auto entity = r.header_matched ? field_value(header, o.entity.field) : std::string_view{};
      when.clear();
      for (const auto& f : o.entity.time_fields) {
        if (!when.empty()) when += ' ';
        when += field_value(header, f);
      }
      const auto t = entity.empty() ? std::nullopt : time_format.parse(when);
      if (!t) {
        ++out.unkeyed_lines;
        continue;
      }
      const auto start = (*t >= 0 ? *t / o.entity.window_ms : (*t - o.entity.window_ms + 1) / o.entity.window_ms) *
                         o.entity.window_ms;
      id.assign(entity);
      id += '@';
      id += std::to_string(start);
      s = &join(id);
    } else {
      if (!RE2::PartialMatch(line, *key, &id)) {
        ++out.unkeyed_lines;
        continue;
      }
      s = &join(id);
    }
    int label = 0;
    if (out.labelled) {
      label = r.header_matched ? o.label.classify(field_value(header, o.label.field)) : -1;
      if (label < 0) {
        ++out.unlabelled_lines;
        label = 0;
      }
      if (label == 1) s->label = 1;
    }
    if (r.template_id == core::kNoTemplate) continue;
    s->events.push_back(r.template_id);
    if (out.labelled) s->event_labels.push_back(static_cast<std::uint8_t>(label));
  }
  // The last count window names the lines it really holds.
  if (count_mode && !out.sessions.empty() && out.lines % n != 0)
    out.sessions.back().id = "lines:" + std::to_string((out.sessions.size() - 1) * n + 1) + "-" + std::to_string(out.lines);
  for (auto& [tid, text] : lp.templates()) out.templates.push_back({tid, text});
  return out;
}

}  // namespace logguard::core

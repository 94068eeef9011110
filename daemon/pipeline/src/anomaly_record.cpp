#include "logguard/pipeline/anomaly_record.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace logguard::daemon {
namespace {

// FNV-1a, 64 bit: stable across builds and platforms (std::hash is not).
struct Fnv {
  std::uint64_t h = 1469598103934665603ULL;
  void bytes(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // field separator
    h *= 1099511628211ULL;
  }
  void number(std::int64_t v) { bytes(std::to_string(v)); }
};

// Pseudo template ids the model uses, by name (models/scorer.hpp; pipeline does not link models).
constexpr core::TemplateId kEndOfSessionId = 0xFFFFFFFFu, kAbnormalId = 0xFFFFFFFDu, kStartOfSessionId = 0xFFFFFFFEu;

// A template id as records print it: a number, or the name of a pseudo template.
nlohmann::json template_ref(core::TemplateId id) {
  switch (id) {
    case core::kNoTemplate: return "<unknown>";
    case kEndOfSessionId: return "<end-of-session>";
    case kStartOfSessionId: return "<start-of-session>";
    case kAbnormalId: return "<abnormal>";
    default: return id;
  }
}

// A template as patterns name it: its text, or the pseudo template's name.
std::string template_name(core::TemplateId id, const TemplateText& text) {
  switch (id) {
    case core::kNoTemplate: return "<unknown>";
    case kEndOfSessionId: return "<end-of-session>";
    case kStartOfSessionId: return "<start-of-session>";
    case kAbnormalId: return "<abnormal>";
    default: {
      std::string t = text ? text(id) : std::string();
      return t.empty() ? "<template " + std::to_string(id) + ">" : t;
    }
  }
}

nlohmann::json position(const Event& e) {
  return {{"topic", e.pos.tp.topic},
          {"partition", e.pos.tp.partition},
          {"offset", e.pos.offset},
          {"timestamp_ms", e.timestamp_ms}};
}

}  // namespace

std::string anomaly_record_id(const Window& w, std::string_view model_version) {
  Fnv f;
  f.bytes(model_version);
  f.bytes(w.key);
  f.number(static_cast<std::int64_t>(w.events.size()));
  if (!w.events.empty()) {
    for (const Event* e : {&w.events.front(), &w.events.back()}) {
      f.bytes(e->pos.tp.topic);
      f.number(e->pos.tp.partition);
      f.number(e->pos.offset);
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  return buf;
}

AnomalyPattern anomaly_pattern(const Window& w, const Verdict& v, std::string_view stream, const TemplateText& text) {
  AnomalyPattern p;
  auto context = [&](std::size_t i) {
    return i == 0 || i > w.events.size() ? std::string("<window-start>") : template_name(w.events[i - 1].template_id, text);
  };
  for (const auto& f : v.failing) p.transitions.emplace_back(context(f.index), template_name(f.observed, text));
  if (p.transitions.empty())
    for (std::size_t i = 0; i < w.events.size(); ++i) p.transitions.emplace_back(context(i), template_name(w.events[i].template_id, text));
  std::sort(p.transitions.begin(), p.transitions.end());
  p.transitions.erase(std::unique(p.transitions.begin(), p.transitions.end()), p.transitions.end());
  Fnv f;
  f.bytes(stream);
  for (const auto& [c, o] : p.transitions) {
    f.bytes(c);
    f.bytes(o);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  p.id = buf;
  return p;
}

std::string anomaly_record_json(const Window& w, const Verdict& v, std::string_view model_version,
                                const TemplateText& text, const AnomalyRecordOptions& options,
                                const AnomalyPattern* pattern) {
  using nlohmann::json;
  json j;
  j["schema"] = "logguard.anomaly/v3";
  j["id"] = anomaly_record_id(w, model_version);
  j["stream"] = options.stream;
  j["session"] = w.key;
  j["window_sequence"] = w.sequence;
  j["close_reason"] = to_string(w.reason);
  j["context_events"] = w.context;
  j["model_version"] = std::string(model_version);
  j["score"] = v.score;
  j["threshold"] = v.threshold;

  // Template references: bundle ids as numbers, pseudo templates by name; `templates` holds
  // the text of every real template id the record mentions.
  json ids = json::array();
  std::set<core::TemplateId> distinct;
  auto mention = [&](core::TemplateId id) {
    const json r = template_ref(id);
    if (r.is_number()) distinct.insert(id);
    return r;
  };
  for (const auto& e : w.events) ids.push_back(mention(e.template_id));
  j["template_ids"] = ids;
  json failing = json::array();
  for (const auto& f : v.failing) {
    json expected = json::array();
    for (auto id : f.expected) expected.push_back(mention(id));
    failing.push_back({{"position", f.index}, {"observed", mention(f.observed)}, {"expected", expected}});
  }
  json texts = json::object();
  for (auto id : distinct) texts[std::to_string(id)] = text ? text(id) : std::string();
  j["templates"] = texts;
  j["failing"] = failing;
  json unknown = json::array();
  for (auto i : v.unknown)
    if (i < w.events.size()) unknown.push_back({{"position", i}});
  j["unknown"] = unknown;
  json abnormal = json::array();
  for (auto i : v.abnormal)
    if (i < w.events.size()) abnormal.push_back({{"position", i}});
  j["abnormal"] = abnormal;
  {
    const AnomalyPattern computed = pattern ? AnomalyPattern{} : anomaly_pattern(w, v, options.stream, text);
    const AnomalyPattern& p = pattern ? *pattern : computed;
    json t = json::array();
    for (const auto& [c, o] : p.transitions) t.push_back({c, o});
    j["pattern"] = {{"id", p.id}, {"transitions", t}};
  }

  if (w.context < w.events.size()) {
    j["first"] = position(w.events[w.context]);
    j["last"] = position(w.events.back());
  }
  // Raw lines: failing positions first, then the window's first lines (context events, kept
  // without their lines, are left out).
  std::vector<std::size_t> pick;
  for (const auto& f : v.failing)
    if (pick.size() < options.raw_lines && f.index >= w.context && f.index < w.events.size()) pick.push_back(f.index);
  for (std::size_t i = w.context; i < w.events.size() && pick.size() < options.raw_lines; ++i)
    if (std::find(pick.begin(), pick.end(), i) == pick.end()) pick.push_back(i);
  json raw = json::array();
  for (auto i : pick) raw.push_back({{"position", i}, {"line", w.events[i].line.view()}});
  j["raw_lines"] = raw;
  // Invalid UTF-8 in log lines is replaced, never thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace logguard::daemon

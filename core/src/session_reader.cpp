// Raw log -> sessions, and template pinning (see session_reader.hpp).
#include "logguard/core/session_reader.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"

namespace logguard::core {

namespace {

// A template table's text as a Drain text: the wildcards that tables glue to the ends of a
// token ("<*>PacketResponder <*> for block <*> terminating<*>", ait-aecid's HDFS table) are
// dropped, since Drain's tokens never carry them. Empty when a wildcard sits inside a token
// ("<*>PacketResponder<*>for block<*>Interrupted<*>"): no Drain text says that.
std::string drain_text(const std::string& text) {
  static constexpr std::string_view kWild = "<*>";
  if (text.find(kWild) == std::string::npos) return text;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t j = std::min(text.find(' ', i), text.size());
    std::string_view tok(text.data() + i, j - i);
    i = j + 1;
    if (tok.empty()) continue;
    if (tok != kWild) {
      while (tok.size() > kWild.size() && tok.substr(0, kWild.size()) == kWild) tok.remove_prefix(kWild.size());
      while (tok.size() > kWild.size() && tok.substr(tok.size() - kWild.size()) == kWild) tok.remove_suffix(kWild.size());
      if (tok != kWild && tok.find(kWild) != std::string_view::npos) return {};
    }
    if (!out.empty()) out += ' ';
    out += tok;
  }
  return out;
}

}  // namespace

std::size_t pin_templates(LineParser& parser, const std::vector<TemplateEntry>& templates) {
  if (parser.config().drain.template_style != TemplateStyle::drain) return 0;
  std::size_t n = 0;
  for (const auto& t : templates) {
    const std::string text = drain_text(t.text);
    if (!text.empty()) n += parser.pin(text) != kNoTemplate;
  }
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
  const bool field_mode = !count_mode && !entity_mode && !o.record.session.empty();
  const bool raw = o.record.raw();
  if (!raw) o.record.validate("input");
  std::unique_ptr<RE2> key;
  if (!count_mode && !entity_mode && !field_mode) {
    if (o.session_key.empty())
      throw core::ConfigError("model.data.session_key",
                              "needed to read raw logs into sessions (or set model.data.count_window_lines / entity, or "
                              "input.session)");
    const RE2 probe(o.session_key);
    if (!probe.ok()) throw core::ConfigError("model.data.session_key", "invalid RE2 pattern: " + probe.error());
    // Capture group 1 keys the session; a pattern without groups is captured whole.
    key = std::make_unique<RE2>(probe.NumberOfCapturingGroups() > 0 ? o.session_key : "(" + o.session_key + ")");
  }
  if (entity_mode && !raw && !o.record.parse_header)
    throw core::ConfigError("input.parse_header",
                            "entity sessions read the message's header: needs parse_header: true with json/otlp input");
  std::unique_ptr<core::EntityKeyer> entity;
  if (entity_mode) entity = std::make_unique<core::EntityKeyer>(o.entity, o.parser.log_format, "model.data.entity");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::LoadError(path + ": cannot open file");
  core::LineParser lp(message_parser(o.parser, o.record));
  pin_templates(lp, pinned);
  std::unique_ptr<RecordDecoder> decoder;
  if (!raw) {
    decoder = std::make_unique<RecordDecoder>(o.record);
    decoder->select_streams(o.streams);
  }
  const bool record_label = !raw && !o.record.label.empty();
  SessionInput out;
  out.labelled = o.label.enabled() || record_label;
  std::unordered_map<std::string, std::size_t> index;
  std::string line, id;
  std::vector<std::string> keys;
  std::vector<std::size_t> also;  // indices of the sessions a line joins
  std::unordered_map<TemplateId, std::uint32_t> version;  // emit_time_templates: parser id -> current id
  const auto n = static_cast<std::size_t>(std::max(1, o.count_window_lines));
  auto join = [&](const std::string& session_id) {
    auto [it, fresh] = index.emplace(session_id, out.sessions.size());
    if (fresh) out.sessions.push_back({session_id, {}, out.labelled ? 0 : -1, {}});
    return it->second;
  };
  // One log record: a raw line, or a decoded record's message (with its fields).
  auto take = [&](std::string_view message, const DecodedRecord* rec) {
    const std::size_t line_no = out.lines++;
    const auto r = lp.parse(message);
    const auto& header = lp.last_header();
    // The sessions the line joins (indices into out.sessions).
    also.clear();
    if (count_mode) {
      const std::size_t k = line_no / n;
      if (k == out.sessions.size())
        out.sessions.push_back({"lines:" + std::to_string(k * n + 1) + "-" + std::to_string((k + 1) * n), {},
                                out.labelled ? 0 : -1, {}});
      also.push_back(out.sessions.size() - 1);
    } else if (entity) {
      if (!entity->key(message, id)) {
        ++out.unkeyed_lines;
        return;
      }
      also.push_back(join(id));
    } else if (field_mode) {
      if (rec == nullptr || rec->session.empty()) {
        ++out.unkeyed_lines;
        return;
      }
      also.push_back(join(std::string(rec->session)));
    } else {
      // Every distinct key the line names (HDFS: a line naming two blocks belongs to both).
      keys.clear();
      re2::StringPiece input(message.data(), message.size());
      for (const char* before = input.data(); RE2::FindAndConsume(&input, *key, &id); before = input.data()) {
        if (!id.empty() && std::find(keys.begin(), keys.end(), id) == keys.end()) keys.push_back(id);
        if (input.data() == before) {  // an empty match: step past it
          if (input.empty()) break;
          input.remove_prefix(1);
        }
      }
      if (keys.empty()) {
        ++out.unkeyed_lines;
        return;
      }
      for (const auto& k : keys) also.push_back(join(k));
    }
    int label = 0;
    if (out.labelled) {
      if (record_label)
        label = rec != nullptr ? o.label.classify(rec->label) : -1;
      else
        label = r.header_matched ? o.label.classify(field_value(header, o.label.field)) : -1;
      if (label < 0) {
        ++out.unlabelled_lines;
        label = 0;
      }
    }
    std::uint32_t event = r.template_id;
    if (event != core::kNoTemplate && o.emit_time_templates) {
      // A new id for every text a parser template takes (the daemon maps each anew).
      auto [it, fresh] = version.try_emplace(r.template_id, 0);
      if (fresh || r.change != core::ChangeKind::none) {
        out.templates.push_back({static_cast<std::uint32_t>(out.templates.size() + 1), std::string(r.template_text)});
        it->second = out.templates.back().id;
      }
      event = it->second;
    }
    for (auto i : also) {
      auto& sess = out.sessions[i];
      if (label == 1) sess.label = 1;
      if (event == core::kNoTemplate) continue;
      sess.events.push_back(event);
      if (out.labelled) sess.event_labels.push_back(static_cast<std::uint8_t>(label));
    }
  };
  std::vector<DecodedRecord> records;
  while (std::getline(in, line)) {
    if (!decoder) {
      take(line, nullptr);
      continue;
    }
    decoder->decode(line, records);
    for (const auto& rec : records) take(rec.message, &rec);
  }
  if (decoder) {
    const auto& st = decoder->stats();
    out.rejected = static_cast<std::size_t>(st.rejected_total());
    out.other_stream = static_cast<std::size_t>(st.other_stream.load());
    for (std::size_t i = 0; i < kRejectReasons; ++i)
      if (const auto c = st.rejected[i].load()) out.rejected_by_reason.emplace_back(to_string(static_cast<RejectReason>(i)), c);
  }
  // The last count window names the lines it really holds.
  if (count_mode && !out.sessions.empty() && out.lines % n != 0)
    out.sessions.back().id = "lines:" + std::to_string((out.sessions.size() - 1) * n + 1) + "-" + std::to_string(out.lines);
  if (!o.emit_time_templates)
    for (auto& [tid, text] : lp.templates()) out.templates.push_back({tid, text});
  return out;
}

}  // namespace logguard::core

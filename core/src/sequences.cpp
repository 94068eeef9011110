// Session sequence, template table and label file readers (see sequences.hpp).
#include "logguard/core/sequences.hpp"

#include <cctype>
#include <charconv>
#include <fstream>

#include "logguard/core/csv.hpp"
#include "logguard/core/error.hpp"

namespace logguard::core {
namespace {

std::ifstream open_or_throw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path + ": cannot open file");
  return in;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad_line(const std::string& path, std::size_t line_no, const std::string& what) {
  throw LoadError(path + ":" + std::to_string(line_no) + ": " + what);
}

// Parses space-separated unsigned ids; returns false on anything else.
bool parse_ids(std::string_view s, std::vector<std::uint32_t>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc()) return false;
    i = static_cast<std::size_t>(p - s.data());
    if (i < s.size() && s[i] != ' ' && s[i] != '\t') return false;
    out.push_back(v);
  }
  return true;
}

bool parse_event_id(std::string_view s, std::uint32_t& v) {
  s = trim(s);
  while (!s.empty() && std::isalpha(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// One CSV record as fields; a malformed record (unbalanced quotes) yields no fields.
std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> f;
  if (!split_csv_record(line, f)) f.clear();
  return f;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

std::vector<Session> read_sequences(const std::string& path) {
  auto in = open_or_throw(path);
  enum class Fmt { unknown, keyed, plain, labelled } fmt = Fmt::unknown;
  std::vector<Session> out;
  std::string line;
  std::size_t line_no = 0, row = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view t = trim(line);
    if (t.empty()) continue;
    if (fmt == Fmt::unknown) {
      const auto comma = t.find(',');
      if (comma == std::string_view::npos) {
        fmt = Fmt::plain;
      } else if (lower(trim(t.substr(0, comma))) == "sequence") {
        fmt = Fmt::labelled;
        continue;  // header
      } else {
        fmt = Fmt::keyed;
      }
    }
    Session s;
    switch (fmt) {
      case Fmt::plain:
        s.id = std::to_string(line_no);
        if (!parse_ids(t, s.events)) bad_line(path, line_no, "expected space-separated event ids");
        break;
      case Fmt::keyed: {
        const auto comma = t.find(',');
        if (comma == std::string_view::npos) bad_line(path, line_no, "expected `session_id,ids`");
        s.id = std::string(trim(t.substr(0, comma)));
        if (s.id.empty() || !parse_ids(t.substr(comma + 1), s.events))
          bad_line(path, line_no, "expected `session_id,space-separated event ids`");
        break;
      }
      case Fmt::labelled: {
        const auto comma = t.rfind(',');
        if (comma == std::string_view::npos) bad_line(path, line_no, "expected `ids,label`");
        ++row;
        s.id = std::to_string(row);
        const auto lab = trim(t.substr(comma + 1));
        if (lab == "0") s.label = 0;
        else if (lab == "1") s.label = 1;
        else bad_line(path, line_no, "label must be 0 or 1");
        if (!parse_ids(t.substr(0, comma), s.events)) bad_line(path, line_no, "expected space-separated event ids");
        break;
      }
      case Fmt::unknown:
        break;
    }
    out.push_back(std::move(s));
  }
  if (in.bad()) throw LoadError(path + ": read error");
  return out;
}

std::vector<TemplateEntry> read_templates(const std::string& path) {
  auto in = open_or_throw(path);
  std::vector<TemplateEntry> out;
  std::string line;
  std::size_t line_no = 0;
  bool header = false, first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first) {
      first = false;
      const auto f = csv_fields(line);
      if (f.size() >= 2 && lower(trim(f[0])) == "eventid") {
        header = true;
        continue;
      }
    }
    if (header) {
      if (trim(line).empty()) continue;
      const auto f = csv_fields(line);
      TemplateEntry e;
      if (f.size() < 2 || !parse_event_id(f[0], e.id) || e.id == 0)
        bad_line(path, line_no, "expected `EventId,EventTemplate` with a positive id");
      e.text = f[1];
      out.push_back(std::move(e));
    } else {
      out.push_back({static_cast<std::uint32_t>(line_no), line});
    }
  }
  if (out.empty()) throw LoadError(path + ": no templates");
  return out;
}

std::unordered_map<std::string, int> read_labels(const std::string& path) {
  auto in = open_or_throw(path);
  std::unordered_map<std::string, int> out;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto f = csv_fields(line);
    if (f.size() < 2) bad_line(path, line_no, "expected `session,label`");
    const std::string lab = lower(trim(f[1]));
    int v;
    if (lab == "1" || lab == "anomaly" || lab == "anomalous") v = 1;
    else if (lab == "0" || lab == "normal") v = 0;
    else if (line_no == 1) continue;  // header
    else bad_line(path, line_no, "label must be 0/1 or Normal/Anomaly");
    out[std::string(trim(f[0]))] = v;
  }
  return out;
}

std::string normalize_template_text(std::string_view text) {
  std::string out;
  bool sep = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 3) == "<*>") {
      sep = true;
      i += 2;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      if (sep && !out.empty()) out += ' ';
      sep = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      sep = true;
    }
  }
  return out;
}

}  // namespace logguard::core

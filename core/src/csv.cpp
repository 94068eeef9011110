#include "logguard/core/csv.hpp"

namespace logguard::core::csv {

void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

namespace {

// Parses fields from text[pos...] until an unquoted line end or end of text.
// Returns false if a quoted field was left open at end of text.
bool parse(std::string_view text, std::size_t& pos, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  bool ok = true;
  std::size_t i = pos;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      break;
    } else {
      field.push_back(c);
    }
  }
  if (quoted) ok = false;
  fields.push_back(std::move(field));
  // Skip the terminator: "\r\n", "\n" or "\r".
  if (i < text.size() && text[i] == '\r') ++i;
  if (i < text.size() && text[i] == '\n') ++i;
  pos = i;
  return ok;
}

}  // namespace

bool split_record(std::string_view record, std::vector<std::string>& fields) {
  std::size_t pos = 0;
  return parse(record, pos, fields);
}

bool next_record(std::string_view text, std::size_t& pos, std::vector<std::string>& fields) {
  if (pos >= text.size()) return false;
  parse(text, pos, fields);
  return true;
}

}  // namespace logguard::core::csv

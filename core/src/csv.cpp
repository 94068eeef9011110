#include "logguard/core/csv.hpp"

namespace logguard::core {

void append_csv_field(std::string& out, std::string_view field) {
  bool quote = false;
  for (char c : field)
    if (c == ',' || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  if (!quote) {
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

std::string csv_field(std::string_view field) {
  std::string out;
  append_csv_field(out, field);
  return out;
}

std::string csv_record(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_csv_field(out, fields[i]);
  }
  return out;
}

bool split_csv_record(std::string_view rec, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < rec.size() && rec[i] == '"') {
      ++i;
      while (true) {
        if (i >= rec.size()) return false;  // unterminated
        if (rec[i] == '"') {
          if (i + 1 < rec.size() && rec[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(rec[i++]);
      }
      if (i < rec.size() && rec[i] != ',') return false;  // text after closing quote
    } else {
      const std::size_t end = rec.find(',', i);
      const std::size_t stop = end == std::string_view::npos ? rec.size() : end;
      field.assign(rec.substr(i, stop - i));
      i = stop;
    }
    fields.push_back(std::move(field));
    if (i >= rec.size()) return true;
    ++i;  // the comma
    if (i == rec.size()) {  // trailing comma: one more empty field
      fields.emplace_back();
      return true;
    }
  }
}

Expected<std::vector<std::string>> split_csv_record(std::string_view record) {
  std::vector<std::string> fields;
  if (!split_csv_record(record, fields))
    return Error{"malformed CSV record (unterminated quote or text after a closing quote)"};
  return fields;
}

namespace csv {

namespace {

// Parses fields from text[pos...] until an unquoted line end or end of text; advances pos
// past the terminator. Returns false if a quoted field was left open.
bool parse(std::string_view text, std::size_t& pos, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
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
  fields.push_back(std::move(field));
  if (i < text.size() && text[i] == '\r') ++i;
  if (i < text.size() && text[i] == '\n') ++i;
  pos = i;
  return !quoted;
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

}  // namespace csv
}  // namespace logguard::core

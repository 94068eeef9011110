#include "log_format.hpp"

#include <cctype>
#include <cstring>

#include "logguard/core/error.hpp"
#include "swar.hpp"

namespace logguard::core::detail {

LogFormat::LogFormat(const std::string& spec) {
  if (spec.empty()) return;
  auto add_char = [](std::vector<Piece>& lit, char c) {
    const bool ws = is_space_byte(static_cast<unsigned char>(c));
    if (lit.empty() || lit.back().whitespace != ws) lit.push_back(Piece{ws, {}});
    if (!ws) lit.back().text.push_back(c);
  };
  Literal current;
  bool have_field = false;
  std::size_t i = 0;
  while (i < spec.size()) {
    const char c = spec[i];
    if (c == '<') {
      const std::size_t close = spec.find('>', i + 1);
      if (close == std::string::npos)
        throw ConfigError("log_format", "unterminated '<' at offset " + std::to_string(i) +
                                            " in \"" + spec + "\"");
      std::string name = spec.substr(i + 1, close - i - 1);
      if (name.empty()) throw ConfigError("log_format", "empty field name in \"" + spec + "\"");
      for (char n : name)
        if (!(std::isalnum(static_cast<unsigned char>(n)) || n == '_' || n == '-' || n == '.'))
          throw ConfigError("log_format", "bad field name <" + name + "> in \"" + spec + "\"");
      for (const auto& f : fields_)
        if (f == name) throw ConfigError("log_format", "duplicate field <" + name + ">");
      if (have_field) {
        if (current.empty())
          throw ConfigError("log_format", "fields <" + fields_.back() + "> and <" + name +
                                              "> need a separator between them");
        after_.push_back(std::move(current));
      } else {
        prefix_ = std::move(current);
      }
      current.clear();
      fields_.push_back(std::move(name));
      have_field = true;
      i = close + 1;
    } else {
      add_char(current, c);
      ++i;
    }
  }
  if (!have_field) throw ConfigError("log_format", "no <Field> in \"" + spec + "\"");
  after_.push_back(std::move(current));
  for (const Literal& lit : after_) ws_only_.push_back(lit.size() == 1 && lit[0].whitespace ? 1 : 0);
  bool found = false;
  for (std::size_t f = 0; f < fields_.size(); ++f)
    if (fields_[f] == "Content") {
      content_index_ = f;
      found = true;
    }
  if (!found) throw ConfigError("log_format", "has no <Content> field: \"" + spec + "\"");
}

std::size_t LogFormat::match_at(const Literal& lit, std::string_view line, std::size_t pos) noexcept {
  for (const Piece& p : lit) {
    if (p.whitespace) {
      if (pos >= line.size() || !is_space_byte(static_cast<unsigned char>(line[pos])))
        return std::string_view::npos;
      while (pos < line.size() && is_space_byte(static_cast<unsigned char>(line[pos]))) ++pos;
    } else {
      if (line.size() - pos < p.text.size() ||
          std::memcmp(line.data() + pos, p.text.data(), p.text.size()) != 0)
        return std::string_view::npos;
      pos += p.text.size();
    }
  }
  return pos;
}

std::size_t LogFormat::find(const Literal& lit, std::string_view line, std::size_t pos,
                            std::size_t* end) noexcept {
  const Piece& first = lit.front();
  while (pos < line.size()) {
    // Jump to the next candidate start.
    if (first.whitespace) {
      pos = find_ctl_or_space(line.data(), pos, line.size());
      while (pos < line.size() && !is_space_byte(static_cast<unsigned char>(line[pos])))
        pos = find_ctl_or_space(line.data(), pos + 1, line.size());
    } else {
      const void* hit = std::memchr(line.data() + pos, first.text[0], line.size() - pos);
      if (hit == nullptr) return std::string_view::npos;
      pos = static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
    }
    if (pos >= line.size()) return std::string_view::npos;
    const std::size_t e = match_at(lit, line, pos);
    if (e != std::string_view::npos) {
      *end = e;
      return pos;
    }
    ++pos;
  }
  return std::string_view::npos;
}

bool LogFormat::match(std::string_view line, std::vector<std::string_view>& values) const noexcept {
  if (values.size() != fields_.size()) values.resize(fields_.size());
  std::size_t pos = 0;
  if (!prefix_.empty()) {
    pos = match_at(prefix_, line, 0);
    if (pos == std::string_view::npos) return false;
  }
  const std::size_t last = fields_.size() - 1;
  const std::size_t n = line.size();
  for (std::size_t f = 0; f < last; ++f) {
    if (ws_only_[f]) {  // the field ends at the first whitespace byte; skip the run
      std::size_t e = find_ctl_or_space(line.data(), pos, n);
      while (e < n && !is_space_byte(static_cast<unsigned char>(line[e])))
        e = find_ctl_or_space(line.data(), e + 1, n);
      if (e >= n) return false;
      values[f] = line.substr(pos, e - pos);
      ++e;
      while (e < n && is_space_byte(static_cast<unsigned char>(line[e]))) ++e;
      pos = e;
      continue;
    }
    std::size_t end = 0;
    const std::size_t at = find(after_[f], line, pos, &end);
    if (at == std::string_view::npos) return false;
    values[f] = line.substr(pos, at - pos);
    pos = end;
  }
  const Literal& tail = after_[last];
  if (tail.empty()) {
    values[last] = line.substr(pos);
    return true;
  }
  // Trailing literal: the first occurrence that ends exactly at the end of the line.
  std::size_t from = pos;
  while (true) {
    std::size_t end = 0;
    const std::size_t at = find(tail, line, from, &end);
    if (at == std::string_view::npos) return false;
    if (end == line.size()) {
      values[last] = line.substr(pos, at - pos);
      return true;
    }
    from = at + 1;
  }
}

}  // namespace logguard::core::detail

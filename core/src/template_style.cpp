#include "logguard/core/template_style.hpp"

#include <array>

namespace logguard::core {
namespace {

constexpr std::string_view kVar = "<*>";

bool is_space(unsigned char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Byte classes. Path delimiters split a template into pieces that may be paths; token
// delimiters (a superset) split it into the pieces the remaining rules look at. '/', '_',
// '*', '<', '>' are deliberately NOT delimiters.
struct Classes {
  std::array<bool, 256> path{};
  std::array<bool, 256> token{};
  constexpr Classes() {
    for (unsigned char c : std::string_view(" \t\n\v\f\r,!;:=|\"'[](){}")) path[c] = token[c] = true;
    for (unsigned char c : std::string_view(".-+@#$%&")) token[c] = true;
  }
};
constexpr Classes kC;

// "/a", "/a/b.c" — one or more '/'-led non-empty segments.
bool is_path(std::string_view p) noexcept {
  if (p.size() < 2 || p.front() != '/' || p.back() == '/') return false;
  return p.find("//") == std::string_view::npos;
}

bool is_all_digits(std::string_view p) noexcept {
  if (p.empty()) return false;
  for (unsigned char c : p)
    if (c < '0' || c > '9') return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (x != static_cast<unsigned char>(b[i])) return false;
  }
  return true;
}

bool is_value_word(std::string_view p) noexcept {
  for (std::string_view w : {"true", "false", "null", "root", "admin"})
    if (iequals(p, w)) return true;
  return false;
}

// Calls f(piece) for every maximal run of non-delimiter bytes and appends the result,
// copying delimiters through unchanged.
template <class F>
std::string map_pieces(std::string_view s, const std::array<bool, 256>& delim, F f) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    while (j < s.size() && !delim[static_cast<unsigned char>(s[j])]) ++j;
    f(s.substr(i, j - i), out);
    if (j == s.size()) break;
    out.push_back(s[j]);
    i = j + 1;
  }
  return out;
}

// Repeatedly replaces `pattern` by "<*>" until it no longer occurs.
void collapse(std::string& s, std::string_view pattern) {
  for (std::size_t pos = s.find(pattern); pos != std::string::npos; pos = s.find(pattern, pos > 2 ? pos - 3 : 0))
    s.replace(pos, pattern.size(), kVar);
}

}  // namespace

bool template_style_from_name(std::string_view name, TemplateStyle* out) noexcept {
  if (name == "drain") {
    *out = TemplateStyle::drain;
    return true;
  }
  if (name == "loghub2") {
    *out = TemplateStyle::loghub2;
    return true;
  }
  return false;
}

std::string loghub2_template(std::string_view in) {
  // 1. Trim; every whitespace run becomes one space.
  std::string s;
  s.reserve(in.size());
  bool pending_space = false;
  for (unsigned char c : in) {
    if (is_space(c)) {
      pending_space = !s.empty();
      continue;
    }
    if (pending_space) s.push_back(' ');
    pending_space = false;
    s.push_back(static_cast<char>(c));
  }

  // 2. Path-like pieces become variables.
  s = map_pieces(s, kC.path, [](std::string_view p, std::string& out) {
    if (is_path(p))
      out.append(kVar);
    else
      out.append(p);
  });

  // 3. Booleans and default user names, digit-only pieces, and pieces glued to a variable.
  s = map_pieces(s, kC.token, [](std::string_view p, std::string& out) {
    if (is_value_word(p) || is_all_digits(p) ||
        (p.find(kVar) != std::string_view::npos && p.find('/') == std::string_view::npos))
      out.append(kVar);
    else
      out.append(p);
  });

  // 4. Dot-separated variables, then 5. directly adjacent variables, merge.
  collapse(s, "<*>.<*>");
  collapse(s, "<*><*>");
  return s;
}

}  // namespace logguard::core

// Wildcard template patterns of foreign template tables (see template_pattern.hpp).
#include "logguard/core/template_pattern.hpp"

#include <cctype>

namespace logguard::core {

namespace {

constexpr std::string_view kWildcard = "<*>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

TemplatePatternSet::TemplatePatternSet(const std::vector<std::string>& templates) {
  patterns_.reserve(templates.size());
  for (const auto& t : templates) {
    Pattern p;
    const std::string_view text = trim(t);
    p.anchored_start = text.substr(0, kWildcard.size()) != kWildcard;
    p.anchored_end = text.size() < kWildcard.size() || text.substr(text.size() - kWildcard.size()) != kWildcard;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      const auto next = text.find(kWildcard, pos);
      const auto part = trim(text.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
      if (!part.empty()) {
        p.parts.emplace_back(part);
        p.literal_chars += part.size();
        for (char c : part) p.usable = p.usable || std::isalpha(static_cast<unsigned char>(c));
      }
      if (next == std::string_view::npos) break;
      pos = next + kWildcard.size();
    }
    patterns_.push_back(std::move(p));
  }
}

bool TemplatePatternSet::fits(const Pattern& p, std::string_view text) {
  text = trim(text);
  std::size_t at = 0;
  for (std::size_t i = 0; i < p.parts.size(); ++i) {
    const auto& part = p.parts[i];
    const bool first = i == 0, last = i + 1 == p.parts.size();
    if (first && p.anchored_start) {
      if (text.substr(0, part.size()) != part) return false;
      at = part.size();
    } else if (last && p.anchored_end) {
      if (text.size() < at + part.size() || text.substr(text.size() - part.size()) != part) return false;
      at = text.size();
    } else {
      const auto found = text.find(part, at);
      if (found == std::string_view::npos) return false;
      at = found + part.size();
    }
  }
  // A pattern anchored at both ends with one part must be the whole text.
  if (p.parts.size() == 1 && p.anchored_start && p.anchored_end) return text == p.parts[0];
  return true;
}

long TemplatePatternSet::match(std::string_view text) const {
  long best = -1;
  std::size_t best_chars = 0;
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    const auto& p = patterns_[i];
    if (!p.usable || (best >= 0 && p.literal_chars <= best_chars)) continue;
    if (fits(p, text)) {
      best = static_cast<long>(i);
      best_chars = p.literal_chars;
    }
  }
  return best;
}

}  // namespace logguard::core

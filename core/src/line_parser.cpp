#include <algorithm>
#include <cstring>
#include <utility>

#include "hash.hpp"
#include "line_parser_impl.hpp"

namespace logguard::core {

using detail::kNil;

const char* to_string(ChangeKind k) noexcept {
  switch (k) {
    case ChangeKind::none: return "none";
    case ChangeKind::created: return "created";
    case ChangeKind::template_changed: return "template_changed";
  }
  return "unknown";
}

namespace {

bool all_ascii(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (w & 0x8080808080808080ULL) return false;
    p += 8;
    n -= 8;
  }
  for (; n > 0; --n, ++p)
    if (static_cast<unsigned char>(*p) & 0x80) return false;
  return true;
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF).
std::size_t utf8_seq(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](std::size_t k) { return (b(k) & 0xC0u) == 0x80u; };
  const unsigned c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Copies `in` to `out` with every invalid byte replaced by U+FFFD; returns whether any was.
bool repair_utf8(std::string_view in, std::string& out) {
  out.clear();
  bool bad = false;
  std::size_t i = 0, copied = 0;
  while (i < in.size()) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_seq(in, i);
    if (len != 0) {
      i += len;
      continue;
    }
    out.append(in.data() + copied, i - copied);
    out.append("\xEF\xBF\xBD");
    bad = true;
    ++i;
    copied = i;
  }
  out.append(in.data() + copied, in.size() - copied);
  return bad;
}

}  // namespace

LineParser::Impl::Impl(ParserConfig c)
    : cfg((c.validate(), std::move(c))),
      format(cfg.log_format),
      masker(cfg.masks),
      drain(cfg.drain),
      tokenizer(cfg.drain),
      digest(config_digest(cfg)) {
  // Space, NUL and every other ASCII control byte separate tokens (so none of them ever
  // reaches a template), plus the configured extra delimiters (detail::Tokenizer).
  header.reserve(format.field_names().size());
}

void LineParser::Impl::prepare(std::string_view line, LineScratch& s) const {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  s.truncated = line.size() > cfg.max_line_bytes;
  if (s.truncated) {
    std::size_t cut = cfg.max_line_bytes;
    // Do not split a multi-byte character: back up to its lead byte.
    std::size_t k = cut;
    while (k > 0 && cut - k < 3 && (static_cast<unsigned char>(line[k]) & 0xC0u) == 0x80u) --k;
    if (static_cast<unsigned char>(line[k]) >= 0xC0u) cut = k;
    line = line.substr(0, cut);
  }
  s.line.assign(line.data(), line.size());
  std::string_view v = s.line;
  s.invalid_utf8 = false;
  if (!all_ascii(v) && repair_utf8(v, s.utf8)) {
    s.invalid_utf8 = true;
    v = s.utf8;
  }
  if (format.empty()) {
    s.header_matched = true;
    s.content = v;
  } else {
    s.header_matched = format.match(v, s.values);
    s.content = s.header_matched ? s.values[format.content_index()] : v;
  }
  s.masked = masker.empty() ? s.content : masker.apply(s.content, s.mask);
  s.seq_key = tokenizer.tokenize(s.masked, s.tokens);
  s.empty = false;
  if (s.tokens.empty()) {  // rare: decide whether the whole line is blank
    s.empty = true;
    for (char ch : v)
      if (static_cast<unsigned char>(ch) > 0x20) {
        s.empty = false;
        break;
      }
  }
}

LineParser::LineParser(ParserConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
LineParser::~LineParser() = default;
LineParser::LineParser(LineParser&&) noexcept = default;
LineParser& LineParser::operator=(LineParser&&) noexcept = default;

ParseResult LineParser::parse(std::string_view line) noexcept {
  Impl& m = *impl_;
  LineScratch& s = m.scratch;
  m.prepare(line, s);
  ParserStats& st = m.stats;
  ++st.lines;
  st.header_mismatches += !s.header_matched;
  st.truncated_lines += s.truncated;
  st.invalid_utf8_lines += s.invalid_utf8;
  st.empty_lines += s.empty;

  const detail::Drain::Outcome out = m.drain.add(s.masked, s.tokens, s.seq_key);
  st.clusters_evicted += out.evicted;
  st.similarity_scans += out.scanned;
  st.candidates_scored += out.scored;
  st.clusters_created += out.change == ChangeKind::created;
  st.templates_changed += (out.change == ChangeKind::template_changed) + out.retired;
  m.last_slot = out.slot;

  m.header_valid = false;
  const detail::Cluster& c = m.drain.slots[out.slot];
  ParseResult r;
  r.template_id = c.id;
  r.change = out.change;
  r.template_text = c.display();
  r.header_matched = s.header_matched;
  r.truncated = s.truncated;
  r.invalid_utf8 = s.invalid_utf8;
  return r;
}

TemplateId LineParser::pin(std::string_view template_text) {
  Impl& m = *impl_;
  std::vector<detail::Token> toks;
  const std::uint64_t key = m.tokenizer.tokenize(template_text, toks);
  if (toks.empty()) return kNoTemplate;
  const auto [slot, created] = m.drain.pin(template_text, toks, key);
  m.stats.clusters_created += created;
  return m.drain.slots[slot].id;
}

TemplateId LineParser::match(std::string_view line) const noexcept {
  thread_local LineScratch s;
  impl_->prepare(line, s);
  return impl_->drain.match(s.masked, s.tokens, s.seq_key);
}

std::vector<std::string> LineParser::last_parameters() const {
  std::vector<std::string> params;
  const Impl& m = *impl_;
  if (m.last_slot == kNil) return params;
  const detail::Cluster& c = m.drain.slots[m.last_slot];
  const LineScratch& s = m.scratch;
  if (c.id == kNoTemplate || c.tokens.size() != s.tokens.size()) return params;
  std::vector<detail::Token> ttoks;
  m.tokenizer.tokenize(c.text, ttoks);
  for (std::size_t i = 0; i < c.tokens.size() && i < ttoks.size(); ++i) {
    const std::string_view tok = std::string_view(c.text).substr(ttoks[i].off, ttoks[i].len);
    if (tok.find(detail::kWildcard) == std::string_view::npos) continue;
    std::size_t b = s.tokens[i].off, e = b + s.tokens[i].len;
    detail::Masker::map_back(s.mask, &b, &e);
    if (m.masker.empty() || b > e || e > s.content.size()) {
      b = s.tokens[i].off;
      e = b + s.tokens[i].len;
      if (!m.masker.empty()) {  // defensive: mapping failed, report the masked token
        params.emplace_back(s.masked.substr(b, e - b));
        continue;
      }
    }
    params.emplace_back(s.content.substr(b, e - b));
  }
  return params;
}

const std::vector<HeaderField>& LineParser::last_header() const noexcept {
  Impl& m = *impl_;
  if (!m.header_valid) {  // built on demand: most callers never ask
    m.header.clear();
    if (m.stats.lines > 0 && m.scratch.header_matched && !m.format.empty()) {
      const auto& names = m.format.field_names();
      for (std::size_t i = 0; i < names.size(); ++i) m.header.push_back(HeaderField{names[i], m.scratch.values[i]});
    }
    m.header_valid = true;
  }
  return m.header;
}
std::string_view LineParser::last_content() const noexcept { return impl_->scratch.content; }

std::string_view LineParser::template_text(TemplateId id) const noexcept {
  const std::uint32_t s = impl_->drain.slot_of(id);
  return s == kNil ? std::string_view{} : impl_->drain.slots[s].display();
}

std::vector<std::pair<TemplateId, std::string>> LineParser::templates() const {
  std::vector<std::pair<TemplateId, std::string>> out;
  out.reserve(impl_->drain.live);
  for (const detail::Cluster& c : impl_->drain.slots)
    if (c.id != kNoTemplate) out.emplace_back(c.id, std::string(c.display()));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::size_t LineParser::cluster_count() const noexcept { return impl_->drain.live; }
const ParserStats& LineParser::stats() const noexcept { return impl_->stats; }
const ParserConfig& LineParser::config() const noexcept { return impl_->cfg; }

std::size_t LineParser::memory_bytes() const noexcept { return impl_->drain.memory_bytes(); }

}  // namespace logguard::core

#include "masker.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "logguard/core/error.hpp"
#include "swar.hpp"

namespace logguard::core::detail {

namespace {

struct CharTables {
  std::array<bool, 256> word{};   // [A-Za-z0-9]
  std::array<bool, 256> digit{};
  std::array<bool, 256> hex{};
  std::array<bool, 256> alpha{};
  std::array<bool, 256> path{};   // bytes a path may contain
  constexpr CharTables() {
    for (int c = 0; c < 256; ++c) {
      const bool d = c >= '0' && c <= '9';
      const bool a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      digit[c] = d;
      alpha[c] = a;
      word[c] = d || a;
      hex[c] = d || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      path[c] = d || a || c == '.' || c == '_' || c == '-' || c == '/' || c == '~' || c == '+' ||
                c == '@' || c == '%' || c == '$' || c == '#';
    }
  }
};
constexpr CharTables kT;

inline unsigned char at(std::string_view t, std::size_t i) noexcept {
  return i < t.size() ? static_cast<unsigned char>(t[i]) : 0;
}
inline bool is_word(unsigned char c) noexcept { return kT.word[c]; }
inline bool is_digit(unsigned char c) noexcept { return kT.digit[c]; }
inline bool is_hex(unsigned char c) noexcept { return kT.hex[c]; }
inline bool boundary(std::string_view t, std::size_t end) noexcept {
  return end >= t.size() || !is_word(static_cast<unsigned char>(t[end]));
}
inline std::size_t digits(std::string_view t, std::size_t i) noexcept {
  std::size_t j = i;
  while (is_digit(at(t, j))) ++j;
  return j - i;
}
inline std::size_t hexes(std::string_view t, std::size_t i) noexcept {
  std::size_t j = i;
  while (is_hex(at(t, j))) ++j;
  return j - i;
}
inline std::size_t done(std::string_view t, std::size_t pos, std::size_t end) noexcept {
  return end > pos && boundary(t, end) ? end - pos : 0;
}

// -?\d+(\.\d+)*  (a dotted run such as a version or an unmasked IP is one number)
[[gnu::always_inline]] inline std::size_t scan_number(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = pos;
  if (at(t, i) == '-') ++i;
  const std::size_t d = digits(t, i);
  if (d == 0) return 0;
  i += d;
  // At most 16 dotted groups, so a failing scan costs O(1) per start (no quadratic blowup).
  for (int groups = 0; groups < 16 && at(t, i) == '.' && is_digit(at(t, i + 1)); ++groups)
    i += 1 + digits(t, i + 1);
  return done(t, pos, i);
}

// a.b.c.d (each <= 255) with an optional :port
[[gnu::always_inline]] inline std::size_t scan_ipv4_end(std::string_view t, std::size_t pos) noexcept {  // 0 = no match, else end
  std::size_t i = pos;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (at(t, i) != '.') return 0;
      ++i;
    }
    const std::size_t d = digits(t, i);
    if (d == 0 || d > 3) return 0;
    int v = 0;
    for (std::size_t k = 0; k < d; ++k) v = v * 10 + (t[i + k] - '0');
    if (v > 255) return 0;
    i += d;
  }
  return i;
}
[[gnu::always_inline]] inline std::size_t scan_ipv4(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = scan_ipv4_end(t, pos);
  if (i == 0) return 0;
  if (at(t, i) == ':') {
    const std::size_t d = digits(t, i + 1);
    if (d >= 1 && d <= 5 && boundary(t, i + 1 + d)) i += 1 + d;
  }
  return done(t, pos, i);
}

// Full, compressed ("::") and IPv4-tailed forms; "[addr]:port" as well.
[[gnu::always_inline]] inline std::size_t scan_ipv6(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = pos;
  const bool bracket = at(t, i) == '[';
  if (bracket) ++i;
  int groups = 0;
  bool compressed = false;
  if (at(t, i) == ':' && at(t, i + 1) == ':') {
    compressed = true;
    i += 2;
  }
  while (true) {
    const std::size_t h = hexes(t, i);
    if (h == 0) break;
    if (at(t, i + h) == '.') {  // IPv4 tail, counts as two groups
      const std::size_t e = scan_ipv4_end(t, i);
      if (e == 0 || groups > 6) return 0;
      groups += 2;
      i = e;
      break;
    }
    if (h > 4 || groups >= 8) return 0;
    ++groups;
    i += h;
    if (at(t, i) != ':') break;
    if (at(t, i + 1) == ':') {
      if (compressed) return 0;
      compressed = true;
      i += 2;
      continue;
    }
    if (!is_hex(at(t, i + 1))) break;
    ++i;
  }
  if (groups == 0 || groups > 8) return 0;
  if (compressed ? groups > 7 : groups != 8) return 0;
  if (bracket) {
    if (at(t, i) != ']') return 0;
    ++i;
    if (at(t, i) == ':') {
      const std::size_t d = digits(t, i + 1);
      if (d >= 1 && d <= 5) i += 1 + d;
    }
  }
  return done(t, pos, i);
}

// 0x1f2e / 0X.. or a bare run of >= 8 hex digits with at least one digit and one letter
[[gnu::always_inline]] inline std::size_t scan_hex(std::string_view t, std::size_t pos) noexcept {
  if (at(t, pos) == '0' && (at(t, pos + 1) == 'x' || at(t, pos + 1) == 'X')) {
    const std::size_t h = hexes(t, pos + 2);
    return h > 0 ? done(t, pos, pos + 2 + h) : 0;
  }
  const std::size_t h = hexes(t, pos);
  if (h < 8) return 0;
  bool digit = false, letter = false;
  for (std::size_t k = pos; k < pos + h; ++k) (is_digit(at(t, k)) ? digit : letter) = true;
  return digit && letter ? done(t, pos, pos + h) : 0;
}

// blk_123 / blk_-123
[[gnu::always_inline]] inline std::size_t scan_hdfs_block(std::string_view t, std::size_t pos) noexcept {
  if (t.substr(pos, 4) != "blk_") return 0;
  std::size_t i = pos + 4;
  if (at(t, i) == '-') ++i;
  const std::size_t d = digits(t, i);
  return d > 0 ? done(t, pos, i + d) : 0;
}

// One or more block ids separated by single spaces: a list of blocks (its length varies) is
// one variable.
[[gnu::always_inline]] inline std::size_t scan_hdfs_block_list(std::string_view t, std::size_t pos) noexcept {
  std::size_t end = pos + scan_hdfs_block(t, pos);
  if (end == pos) return 0;
  while (at(t, end) == ' ') {
    const std::size_t m = scan_hdfs_block(t, end + 1);
    if (m == 0) break;
    end += 1 + m;
  }
  return end - pos;
}

// 8-4-4-4-12 hex
[[gnu::always_inline]] inline std::size_t scan_uuid(std::string_view t, std::size_t pos) noexcept {
  static constexpr int kLen[5] = {8, 4, 4, 4, 12};
  std::size_t i = pos;
  for (int g = 0; g < 5; ++g) {
    if (g > 0) {
      if (at(t, i) != '-') return 0;
      ++i;
    }
    if (hexes(t, i) != static_cast<std::size_t>(kLen[g])) return 0;
    i += kLen[g];
  }
  return done(t, pos, i);
}

// aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff
[[gnu::always_inline]] inline std::size_t scan_mac(std::string_view t, std::size_t pos) noexcept {
  const unsigned char sep = at(t, pos + 2);
  if (sep != ':' && sep != '-') return 0;
  std::size_t i = pos;
  for (int g = 0; g < 6; ++g) {
    if (g > 0) {
      if (at(t, i) != sep) return 0;
      ++i;
    }
    if (!is_hex(at(t, i)) || !is_hex(at(t, i + 1))) return 0;
    i += 2;
  }
  return done(t, pos, i);
}

// hh:mm:ss([.,]frac)?(Z|[+-]hh:?mm)?  -> end or 0
[[gnu::always_inline]] inline std::size_t time_end(std::string_view t, std::size_t i) noexcept {
  const std::size_t h = digits(t, i);
  if (h < 1 || h > 2) return 0;
  i += h;
  for (int k = 0; k < 2; ++k) {
    if (at(t, i) != ':' || digits(t, i + 1) != 2) return 0;
    i += 3;
  }
  if ((at(t, i) == '.' || at(t, i) == ',') && digits(t, i + 1) > 0) i += 1 + digits(t, i + 1);
  if (at(t, i) == 'Z') {
    ++i;
  } else if ((at(t, i) == '+' || at(t, i) == '-') && digits(t, i + 1) == 2) {
    if (at(t, i + 3) == ':' && digits(t, i + 4) == 2) {
      i += 6;
    } else if (digits(t, i + 1) == 4) {
      i += 5;
    }
  }
  return i;
}
// yyyy-mm-dd / yyyy/mm/dd, optionally 'T' + time; or a time alone. A space-separated
// date and time are two tokens and masked separately (token counts stay stable).
[[gnu::always_inline]] inline std::size_t scan_datetime(std::string_view t, std::size_t pos) noexcept {
  if (digits(t, pos) == 4) {
    const unsigned char sep = at(t, pos + 4);
    if ((sep == '-' || sep == '/') && digits(t, pos + 5) == 2 && at(t, pos + 7) == sep &&
        digits(t, pos + 8) == 2) {
      std::size_t i = pos + 10;
      if (at(t, i) == 'T') {
        const std::size_t e = time_end(t, i + 1);
        if (e != 0) i = e;
      }
      return done(t, pos, i);
    }
    return 0;
  }
  const std::size_t e = time_end(t, pos);
  return e != 0 ? done(t, pos, e) : 0;
}

// /abs/path, ~/p, ./p, ../p, C:\win\path ; a trailing '.' (end of sentence) is not included
[[gnu::always_inline]] inline std::size_t scan_path(std::string_view t, std::size_t pos) noexcept {
  const unsigned char c = at(t, pos);
  // Only the first byte of a run of path bytes may start a path: a later start would
  // scan a subset of the same run (and rescanning every position would be quadratic).
  if (pos > 0 && (kT.path[static_cast<unsigned char>(t[pos - 1])] || t[pos - 1] == '\\')) return 0;
  std::size_t i = pos;
  if (kT.alpha[c] && at(t, pos + 1) == ':' && at(t, pos + 2) == '\\') {
    i = pos + 3;
    while (i < t.size() && (kT.path[static_cast<unsigned char>(t[i])] || t[i] == '\\')) ++i;
  } else {
    if (c == '/') {
      i = pos + 1;
    } else if (c == '~' && at(t, pos + 1) == '/') {
      i = pos + 2;
    } else if (c == '.' && at(t, pos + 1) == '/') {
      i = pos + 2;
    } else if (c == '.' && at(t, pos + 1) == '.' && at(t, pos + 2) == '/') {
      i = pos + 3;
    } else {
      return 0;
    }
    const std::size_t body = i;
    while (i < t.size() && kT.path[static_cast<unsigned char>(t[i])]) ++i;
    bool has_name = false;
    for (std::size_t k = body; k < i; ++k) has_name |= is_word(static_cast<unsigned char>(t[k]));
    if (!has_name) return 0;
  }
  while (i > pos + 1 && t[i - 1] == '.') --i;
  return done(t, pos, i);
}

// scheme://rest  (up to whitespace or a quote/angle bracket; trailing punctuation excluded)
[[gnu::always_inline]] inline std::size_t scan_url(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = pos;
  if (!kT.alpha[at(t, i)]) return 0;
  while (i - pos < 32 && (is_word(at(t, i)) || at(t, i) == '+' || at(t, i) == '.' || at(t, i) == '-')) ++i;
  if (t.substr(i, 3) != "://") return 0;
  i += 3;
  const std::size_t body = i;
  while (i < t.size()) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    if (c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == 0x7f) break;
    ++i;
  }
  while (i > body && (t[i - 1] == '.' || t[i - 1] == ',' || t[i - 1] == ';' || t[i - 1] == ':' ||
                      t[i - 1] == ')' || t[i - 1] == ']'))
    --i;
  return i > body ? done(t, pos, i) : 0;
}

void mark_starts(Builtin k, bool* s) {
  auto set = [&](bool (*pred)(unsigned char)) {
    for (int c = 0; c < 256; ++c)
      if (pred(static_cast<unsigned char>(c))) s[c] = true;
  };
  switch (k) {
    case Builtin::number:
      set(is_digit);
      s[static_cast<unsigned char>('-')] = true;
      break;
    case Builtin::ipv4:
    case Builtin::datetime:
      set(is_digit);
      break;
    case Builtin::ipv6:
      set(is_hex);
      s[static_cast<unsigned char>(':')] = s[static_cast<unsigned char>('[')] = true;
      break;
    case Builtin::hex:
    case Builtin::uuid:
    case Builtin::mac:
      set(is_hex);
      break;
    case Builtin::hdfs_block:
    case Builtin::hdfs_block_list:
      s[static_cast<unsigned char>('b')] = true;
      break;
    case Builtin::path:
      set([](unsigned char c) { return kT.alpha[c]; });
      s[static_cast<unsigned char>('/')] = s[static_cast<unsigned char>('~')] =
          s[static_cast<unsigned char>('.')] = true;
      break;
    case Builtin::url:
      set([](unsigned char c) { return kT.alpha[c]; });
      break;
  }
}

}  // namespace

bool builtin_from_name(std::string_view name, Builtin* out) noexcept {
  static constexpr std::pair<std::string_view, Builtin> kNames[] = {
      {"ipv4", Builtin::ipv4}, {"ipv6", Builtin::ipv6},   {"hex", Builtin::hex},
      {"number", Builtin::number}, {"hdfs_block", Builtin::hdfs_block},
      {"hdfs_block_list", Builtin::hdfs_block_list}, {"uuid", Builtin::uuid},
      {"path", Builtin::path}, {"url", Builtin::url},     {"mac", Builtin::mac},
      {"datetime", Builtin::datetime}};
  for (const auto& [n, k] : kNames)
    if (n == name) {
      *out = k;
      return true;
    }
  return false;
}

[[gnu::always_inline]] inline std::size_t scan_one(Builtin kind, std::string_view text, std::size_t pos) noexcept {
  switch (kind) {
    case Builtin::ipv4: return scan_ipv4(text, pos);
    case Builtin::ipv6: return scan_ipv6(text, pos);
    case Builtin::hex: return scan_hex(text, pos);
    case Builtin::number: return scan_number(text, pos);
    case Builtin::hdfs_block: return scan_hdfs_block(text, pos);
    case Builtin::hdfs_block_list: return scan_hdfs_block_list(text, pos);
    case Builtin::uuid: return scan_uuid(text, pos);
    case Builtin::path: return scan_path(text, pos);
    case Builtin::url: return scan_url(text, pos);
    case Builtin::mac: return scan_mac(text, pos);
    case Builtin::datetime: return scan_datetime(text, pos);
  }
  return 0;
}

std::size_t scan_builtin(Builtin kind, std::string_view text, std::size_t pos) noexcept {
  return scan_one(kind, text, pos);
}

Masker::Masker() = default;
Masker::~Masker() = default;
Masker::Masker(Masker&&) noexcept = default;
Masker& Masker::operator=(Masker&&) noexcept = default;

Masker::Masker(const std::vector<MaskRule>& rules) {
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const MaskRule& rule = rules[r];
    max_replacement_ = std::max(max_replacement_, rule.replacement.size());
    const std::string key = "masks[" + std::to_string(r) + "]";
    if (!rule.builtin.empty()) {
      Builtin kind{};
      if (!builtin_from_name(rule.builtin, &kind))
        throw ConfigError(key + ".builtin", "unknown built-in mask \"" + rule.builtin + "\"");
      if (passes_.empty() || passes_.back().builtins.empty()) passes_.emplace_back();
      Pass& p = passes_.back();
      BuiltinRule b{kind, rule.replacement, {}};
      mark_starts(kind, b.can_start);
      mark_starts(kind, p.can_start);
      // These scanners only ever match text that contains a digit (and no byte <= 0x20).
      p.digit_gated = p.digit_gated && (kind == Builtin::number || kind == Builtin::ipv4 ||
                                        kind == Builtin::hdfs_block || kind == Builtin::hdfs_block_list ||
                                        kind == Builtin::hex ||
                                        kind == Builtin::datetime);
      p.builtins.push_back(std::move(b));
    } else {
      RE2::Options opt;
      opt.set_log_errors(false);
      auto re = std::make_shared<RE2>(rule.regex, opt);
      if (!re->ok()) throw ConfigError(key + ".regex", "invalid RE2 pattern: " + re->error());
      Pass p;
      p.regex = std::move(re);
      p.replacement = rule.replacement;
      passes_.push_back(std::move(p));
    }
  }
}

// Tries the rules at every sub-token start in [i, end) (matches may extend past `end`).
void Masker::scan_range(const Pass& p, std::string_view in, std::size_t i, std::size_t end,
                        std::size_t& copied, char* out, std::size_t& olen, std::vector<Replacement>& reps) {
  while (i < end) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (p.can_start[c] && (i == 0 || !is_word(static_cast<unsigned char>(in[i - 1])))) {
      std::size_t mlen = 0;
      const BuiltinRule* hit = nullptr;
      for (const BuiltinRule& b : p.builtins) {
        if (!b.can_start[c]) continue;
        mlen = scan_one(b.kind, in, i);
        if (mlen != 0) {
          hit = &b;
          break;
        }
      }
      if (hit != nullptr) {
        std::memcpy(out + olen, in.data() + copied, i - copied);
        olen += i - copied;
        const std::size_t ob = olen;
        std::memcpy(out + olen, hit->replacement.data(), hit->replacement.size());
        olen += hit->replacement.size();
        reps.push_back(Replacement{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + mlen),
                                   static_cast<std::uint32_t>(ob), static_cast<std::uint32_t>(olen)});
        i += mlen;
        copied = i;
        continue;
      }
    }
    // No match here: the rest of a word cannot start a match (no left boundary).
    ++i;
    if (is_word(c))
      while (i < end && is_word(static_cast<unsigned char>(in[i]))) ++i;
  }
}

void Masker::run_builtins(const Pass& p, std::string_view in, char* out, std::size_t& len,
                          std::vector<Replacement>& reps) const {
  const std::size_t n = in.size();
  std::size_t copied = 0;
  if (!p.digit_gated) {
    scan_range(p, in, 0, n, copied, out, len, reps);
  } else {
    // Only space-separated chunks containing a digit can hold a match; skip the rest
    // eight bytes at a time. Chunk starts follow a byte <= 0x20, a sub-token boundary, so
    // the result equals a full scan.
    const char* d = in.data();
    std::size_t i = 0;
    while (i < n) {
      const std::size_t dig = find_digit(d, i, n);
      if (dig >= n) break;
      std::size_t start = dig;
      while (start > i && static_cast<unsigned char>(d[start - 1]) > 0x20) --start;
      if (start < copied) start = copied;
      const std::size_t stop = find_ctl_or_space(d, dig, n);
      scan_range(p, in, start, stop, copied, out, len, reps);
      i = stop > copied ? stop : copied;
    }
  }
  std::memcpy(out + len, in.data() + copied, n - copied);
  len += n - copied;
}

void Masker::run_regex(const Pass& p, std::string_view in, char* out, std::size_t& len,
                       std::vector<Replacement>& reps) const {
  const re2::StringPiece text(in.data(), in.size());
  const std::size_t n = in.size();
  std::size_t copied = 0;
  std::size_t pos = 0;
  re2::StringPiece m;
  while (pos <= n && p.regex->Match(text, pos, n, RE2::UNANCHORED, &m, 1)) {
    const std::size_t b = static_cast<std::size_t>(m.data() - in.data());
    const std::size_t e = b + m.size();
    if (e == b) {  // empty matches are not replaced
      pos = b + 1;
      continue;
    }
    std::memcpy(out + len, in.data() + copied, b - copied);
    len += b - copied;
    const std::size_t ob = len;
    std::memcpy(out + len, p.replacement.data(), p.replacement.size());
    len += p.replacement.size();
    reps.push_back(Replacement{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e),
                               static_cast<std::uint32_t>(ob), static_cast<std::uint32_t>(len)});
    copied = pos = e;
  }
  std::memcpy(out + len, in.data() + copied, n - copied);
  len += n - copied;
}

std::string_view Masker::apply(std::string_view text, MaskScratch& s) const {
  s.reps.clear();
  s.pass_begin.clear();
  std::string_view cur = text;
  int which = 0;
  for (const Pass& p : passes_) {
    std::string& buf = s.buf[which];
    // Every replaced match is >= 1 byte, so the output is at most this long.
    const std::size_t need = cur.size() * max_replacement_ + 1;
    if (buf.size() < need) buf.resize(need);
    std::size_t len = 0;
    s.pass_begin.push_back(static_cast<std::uint32_t>(s.reps.size()));
    if (p.regex)
      run_regex(p, cur, buf.data(), len, s.reps);
    else
      run_builtins(p, cur, buf.data(), len, s.reps);
    cur = std::string_view(buf.data(), len);
    which ^= 1;
  }
  return cur;
}

void Masker::map_back(const MaskScratch& s, std::size_t* begin, std::size_t* end) noexcept {
  // Passes are undone last to first; within a pass replacements are sorted by position.
  for (std::size_t k = s.pass_begin.size(); k-- > 0;) {
    const Replacement* first = s.reps.data() + s.pass_begin[k];
    const Replacement* last = s.reps.data() + (k + 1 < s.pass_begin.size() ? s.pass_begin[k + 1] : s.reps.size());
    const std::size_t b = *begin, e = *end;
    // Last replacement starting at or before b.
    const Replacement* rb = std::upper_bound(first, last, b, [](std::size_t x, const Replacement& r) {
      return x < r.out_begin;
    });
    if (rb != first) {
      const Replacement& r = rb[-1];
      *begin = b < r.out_end ? r.in_begin : b - r.out_end + r.in_end;
    }
    // Last replacement starting before e.
    const Replacement* re = std::lower_bound(first, last, e, [](const Replacement& r, std::size_t x) {
      return r.out_begin < x;
    });
    if (re != first) {
      const Replacement& r = re[-1];
      *end = e <= r.out_end ? r.in_end : e - r.out_end + r.in_end;
    }
  }
}

}  // namespace logguard::core::detail

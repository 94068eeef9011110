#include "masker.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "logguard/core/error.hpp"
#include "shape_scanners.hpp"
#include "swar.hpp"

namespace logguard::core::detail {

namespace {

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
    case Builtin::numeric:
      set(is_digit);
      s[static_cast<unsigned char>('-')] = true;
      break;
    case Builtin::hostport:
    case Builtin::hostname:
      set(is_word);
      break;
    case Builtin::quoted:
      for (int c = 0x20; c < 256; ++c) s[c] = true;
      break;
    case Builtin::textdate:
      for (unsigned char c : std::string_view("MTWFSJAOND")) s[c] = true;
      break;
    case Builtin::empty_value:
      for (unsigned char c : std::string_view("([{\"'")) s[c] = true;
      break;
    case Builtin::value_list:
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
      {"datetime", Builtin::datetime}, {"numeric", Builtin::numeric}, {"hostport", Builtin::hostport},
      {"hostname", Builtin::hostname}, {"quoted", Builtin::quoted}, {"textdate", Builtin::textdate},
      {"empty_value", Builtin::empty_value}, {"value_list", Builtin::value_list}};
  for (const auto& [n, k] : kNames)
    if (n == name) {
      *out = k;
      return true;
    }
  return false;
}

// A cheap necessary condition for scan_one(kind, t, pos) != 0, from the byte at pos, the length
// of the [A-Za-z0-9] run there and the byte after it: most words fail it for every rule, so
// the scanners run only where their shape can start.
[[gnu::always_inline]] inline bool possible(Builtin kind, std::string_view t, std::size_t pos, unsigned char c,
                                            std::size_t run, unsigned char after) noexcept {
  switch (kind) {
    case Builtin::ipv4: return run <= 3 && after == '.';
    case Builtin::ipv6: return c == ':' || c == '[' || after == ':';
    case Builtin::hex: return run >= 8 || (c == '0' && (at(t, pos + 1) == 'x' || at(t, pos + 1) == 'X'));
    case Builtin::hdfs_block:
    case Builtin::hdfs_block_list: return run == 3 && after == '_';
    case Builtin::uuid: return run == 8 && after == '-';
    case Builtin::mac: return run == 2 && (after == ':' || after == '-');
    case Builtin::datetime: return (run == 4 && (after == '-' || after == '/')) || (run <= 2 && after == ':');
    case Builtin::path: return !kT.alpha[c] || (run == 1 && after == ':');
    case Builtin::url: return after == ':' || after == '+' || after == '.' || after == '-';
    case Builtin::hostport: return after == '.' || after == '-' || after == ':';
    case Builtin::hostname: return after == '.' || after == '-';
    case Builtin::quoted: return pos > 0 && (t[pos - 1] == '"' || t[pos - 1] == '\'');
    case Builtin::textdate: return run >= 3 && c >= 'A' && c <= 'Z';
    case Builtin::number:
    case Builtin::numeric:
    case Builtin::empty_value: return true;
    case Builtin::value_list: return false;
  }
  return true;
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
    case Builtin::numeric: return scan_numeric(text, pos);
    case Builtin::hostport: return scan_hostport(text, pos);
    case Builtin::hostname: return scan_hostname(text, pos);
    case Builtin::quoted: return scan_quoted(text, pos);
    case Builtin::textdate: return scan_textdate(text, pos);
    case Builtin::empty_value: return scan_empty_value(text, pos);
    case Builtin::value_list: return 0;
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
      if (passes_.empty() || passes_.back().regex) passes_.emplace_back();
      Pass& p = passes_.back();
      if (kind == Builtin::value_list) {
        p.merge_lists = true;
        continue;
      }
      BuiltinRule b{kind, rule.replacement, {}};
      mark_starts(kind, b.can_start);
      mark_starts(kind, p.can_start);
      // These scanners only ever match text that contains a digit (and no byte <= 0x20).
      p.digit_gated = p.digit_gated && (kind == Builtin::number || kind == Builtin::ipv4 ||
                                        kind == Builtin::hdfs_block || kind == Builtin::hdfs_block_list ||
                                        kind == Builtin::numeric || kind == Builtin::hostport ||
                                        kind == Builtin::datetime);
      p.builtins.push_back(std::move(b));
      // The shape pre-filter pays off for passes with many or costly scanners (the default
      // preset's); a few digit-gated rules (the HDFS config's) are tried directly.
      p.prefilter = !p.digit_gated || p.builtins.size() > 4;
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
                        std::size_t& copied, char* out, std::size_t& olen, std::vector<Replacement>& reps,
                        std::size_t p_first) {
  while (i < end) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (p.can_start[c] && (i == 0 || !is_word(static_cast<unsigned char>(in[i - 1])))) {
      std::size_t mlen = 0;
      const BuiltinRule* hit = nullptr;
      std::size_t run = 0;
      if (p.prefilter) {
        while (is_word(at(in, i + run))) ++run;
        const unsigned char after = at(in, i + run);
        // Fast path: a plain lowercase word (short, not after a quote, followed by none of the
        // bytes that continue a compound shape) can start no built-in match: see possible().
        if (kT.alpha[c] && run < 8 && !(c >= 'A' && c <= 'Z' && run >= 3) && after != '.' && after != '-' &&
            after != ':' && after != '+' && after != '_' && !(i > 0 && (in[i - 1] == '"' || in[i - 1] == '\''))) {
          i = std::min(end, i + run);
          continue;
        }
        for (const BuiltinRule& b : p.builtins) {
          if (!b.can_start[c] || !possible(b.kind, in, i, c, run, after)) continue;
          mlen = scan_one(b.kind, in, i);
          if (mlen != 0) {
            hit = &b;
            break;
          }
        }
      } else {  // few cheap rules: trying them costs less than the pre-filter
        for (const BuiltinRule& b : p.builtins) {
          if (!b.can_start[c]) continue;
          mlen = scan_one(b.kind, in, i);
          if (mlen != 0) {
            hit = &b;
            break;
          }
        }
      }
      if (hit != nullptr) {
        // A comma-separated list of masked values ("10.0.0.1,10.0.0.2") is one variable: the
        // previous replacement of this pass ends right before ",", so it takes this match too.
        if (p.merge_lists && !reps.empty() && reps.size() > p_first && reps.back().in_end + 1 == i &&
            in[i - 1] == ',' && copied == i - 1 && hit->kind != Builtin::empty_value) {
          reps.back().in_end = static_cast<std::uint32_t>(i + mlen);
          i += mlen;
          copied = i;
          continue;
        }
        std::memcpy(out + olen, in.data() + copied, i - copied);
        olen += i - copied;
        const std::size_t ob = olen;
        if (hit->kind == Builtin::empty_value) out[olen++] = in[i];
        std::memcpy(out + olen, hit->replacement.data(), hit->replacement.size());
        olen += hit->replacement.size();
        if (hit->kind == Builtin::empty_value) out[olen++] = in[i + 1];
        reps.push_back(Replacement{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + mlen),
                                   static_cast<std::uint32_t>(ob), static_cast<std::uint32_t>(olen)});
        i += mlen;
        copied = i;
        continue;
      }
      if (run > 0) {
        i = std::min(end, i + run);  // the rest of the word cannot start a match
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
  const std::size_t first = reps.size();
  std::size_t copied = 0;
  if (!p.digit_gated) {
    scan_range(p, in, 0, n, copied, out, len, reps, first);
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
      scan_range(p, in, start, stop, copied, out, len, reps, first);
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
    // Every replaced match is >= 1 byte and adds at most 2 bytes (an empty pair keeps its
    // brackets), so the output is at most this long.
    const std::size_t need = cur.size() * (max_replacement_ + 1) + 1;
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

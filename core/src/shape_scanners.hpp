#pragma once
// The built-in shape scanners of the masker (Builtin in masker.hpp): each returns the end of
// the shape starting at `pos` of the text (0 = no match). Header-only so that Masker's scan
// loop inlines them; included by masker.cpp only. Thread-safety: pure functions.
#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "masker.hpp"
#include "swar.hpp"

namespace logguard::core::detail {

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
inline constexpr CharTables kT;

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

// End of -?\d+(\.\d+)* at pos, or pos when there is none. At most 16 dotted groups, so a
// failing scan costs O(1) per start (no quadratic blowup).
[[gnu::always_inline]] inline std::size_t number_end(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = pos;
  if (at(t, i) == '-') ++i;
  const std::size_t d = digits(t, i);
  if (d == 0) return pos;
  i += d;
  for (int groups = 0; groups < 16 && at(t, i) == '.' && is_digit(at(t, i + 1)); ++groups)
    i += 1 + digits(t, i + 1);
  return i;
}

// -?\d+(\.\d+)*  (a dotted run such as a version or an unmasked IP is one number)
[[gnu::always_inline]] inline std::size_t scan_number(std::string_view t, std::size_t pos) noexcept {
  return done(t, pos, number_end(t, pos));
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

// 0x1f2e / 0X.. or a bare run of >= 8 hex digits with at least one digit and one letter, or
// of letters of one case only ("ffffffff")
[[gnu::always_inline]] inline std::size_t scan_hex(std::string_view t, std::size_t pos) noexcept {
  if (at(t, pos) == '0' && (at(t, pos + 1) == 'x' || at(t, pos + 1) == 'X')) {
    const std::size_t h = hexes(t, pos + 2);
    return h > 0 ? done(t, pos, pos + 2 + h) : 0;
  }
  const std::size_t h = hexes(t, pos);
  if (h < 8) return 0;
  bool digit = false, lower = false, upper = false;
  for (std::size_t k = pos; k < pos + h; ++k) {
    const unsigned char ch = at(t, k);
    (is_digit(ch) ? digit : ch >= 'a' ? lower : upper) = true;
  }
  // Digits and letters, or letters of one case only ("ffffffff": no word is 8+ letters a-f).
  return (digit && (lower || upper)) || (!digit && lower != upper) ? done(t, pos, pos + h) : 0;
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

// hh:mm:ss([.,]frac)?(Z|[+-]hh:?mm)?  -> end or 0; with `short_ok` also mm:ss / hh:mm (two
// digits each, as in durations "00:02")
[[gnu::always_inline]] inline std::size_t time_end(std::string_view t, std::size_t i, bool short_ok = false) noexcept {
  const std::size_t h = digits(t, i);
  if (h < 1 || h > 2) return 0;
  i += h;
  for (int k = 0; k < 2; ++k) {
    if (at(t, i) != ':' || digits(t, i + 1) != 2) {
      if (k == 1 && short_ok && h == 2) return boundary(t, i) ? i : 0;
      return 0;
    }
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
  const std::size_t e = time_end(t, pos, true);
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
    // "/10.0.0.1" (or "/10.0.0.1:port") is an address behind a slash, not a path.
    if (c == '/' && i > body && is_digit(at(t, body))) {
      const std::size_t e = scan_ipv4_end(t, body);
      if (e == i) return 0;
    }
    // "/a/b?x=1&y=2": the query string is part of the path.
    if (c == '/' && at(t, i) == '?') {
      ++i;
      while (i < t.size()) {
        const auto q = static_cast<unsigned char>(t[i]);
        if (q <= ' ' || q == '"' || q == '\'' || q == '<' || q == '>' || q == 0x7f) break;
        ++i;
      }
    }
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

// A digit-led word: -?\d+(\.\d+)* followed by any letters/digits, i.e. a number, a number
// with a unit glued to it ("64MB", "250ms", "3.5GHz") or a digit-led id ("3f2a9c", "1st").
[[gnu::always_inline]] inline std::size_t scan_numeric(std::string_view t, std::size_t pos) noexcept {
  std::size_t i = number_end(t, pos);
  if (i == pos) return 0;
  while (is_word(at(t, i))) ++i;
  // An abbreviated unit after one space belongs to the number: "5.2 KB", "250 ms", "3 GHz".
  // Spelled-out units ("bytes", "seconds") stay words of the template.
  if (at(t, i) == ' ' && kT.alpha[at(t, i + 1)]) {
    static constexpr std::string_view kUnits[] = {"B",  "KB",  "MB",  "GB",  "TB",  "PB", "kB",  "KiB", "MiB",
                                                  "GiB", "TiB", "Kb", "Mb", "Gb", "ms",  "us",  "ns",  "s",
                                                  "sec", "secs", "min", "Hz", "kHz", "MHz", "GHz", "KB/s", "MB/s"};
    std::size_t e = i + 1;
    while (kT.alpha[at(t, e)] || at(t, e) == '/') ++e;
    const std::string_view unit = t.substr(i + 1, e - i - 1);
    for (std::string_view u : kUnits)
      if (unit == u && boundary(t, e)) return done(t, pos, e);
  }
  return done(t, pos, i);
}

inline bool host_byte(unsigned char c) noexcept { return is_word(c) || c == '-'; }

// Extensions of source and data files: "Foo.java:42" is a file and line, not a host and port.
inline bool file_extension(std::string_view ext) noexcept {
  static constexpr std::string_view kExt[] = {"c", "h", "cc", "cpp", "cxx", "hpp", "hh", "java", "py", "go",
                                              "rs", "js", "ts", "rb", "pl", "pm", "php", "cs", "kt", "scala",
                                              "m", "mm", "swift", "lua", "sh", "log", "txt", "conf", "cfg",
                                              "xml", "json", "yaml", "yml", "ini", "properties", "jsp", "so"};
  for (std::string_view e : kExt)
    if (e.size() == ext.size()) {
      bool same = true;
      for (std::size_t k = 0; k < e.size() && same; ++k)
        same = (static_cast<unsigned char>(ext[k]) | 0x20) == static_cast<unsigned char>(e[k]);
      if (same) return true;
    }
  return false;
}

// Dotted host name: labels of [A-Za-z0-9-] separated by single dots. Returns the end (0 = no
// match), the number of labels and where the last label starts. Not preceded by a byte that
// would continue a name ('.', '_', '-', '@' or a word byte).
[[gnu::always_inline]] inline std::size_t dotted_name_end(std::string_view t, std::size_t pos, int* labels,
                                                          std::size_t* last) noexcept {
  if (pos > 0) {
    const unsigned char p = static_cast<unsigned char>(t[pos - 1]);
    if (p == '.' || p == '_' || p == '-' || p == '@' || is_word(p)) return 0;
  }
  std::size_t i = pos;
  *labels = 0;
  while (true) {
    const std::size_t b = i;
    while (i - b < 64 && host_byte(at(t, i))) ++i;
    if (i == b) return 0;  // empty label
    if (*labels == 64) return 0;
    ++*labels;
    *last = b;
    if (at(t, i) == '.' && host_byte(at(t, i + 1))) {
      ++i;
      continue;
    }
    return i;
  }
}

// host:port with a dotted host name ("proxy.example.com:5070", "node-3.rack2:8020") or
// "localhost:port"; the last label must hold a letter (an IPv4 address is the ipv4 mask's) and
// two-label names whose last label is a file extension ("Foo.java:42") are left alone.
[[gnu::always_inline]] inline std::size_t scan_hostport(std::string_view t, std::size_t pos) noexcept {
  int labels = 0;
  std::size_t last = 0;
  const std::size_t e = dotted_name_end(t, pos, &labels, &last);
  if (e == 0) return 0;
  const std::string_view tail = t.substr(last, e - last);
  if (labels == 1) {
    if (tail != "localhost") return 0;
  } else {
    bool letter = false;
    for (unsigned char c : tail) letter |= kT.alpha[c];
    if (!letter || (labels == 2 && file_extension(tail))) return 0;
  }
  if (at(t, e) != ':') return 0;
  const std::size_t d = digits(t, e + 1);
  if (d == 0 || d > 5) return 0;
  return done(t, pos, e + 1 + d);
}

// A bare host name: lowercase labels ending in an alphabetic top-level label of 2-12 letters,
// at least three labels ("proxy.cse.example.edu", "ip-10-0-0-1.ec2.internal") or two with a
// common top-level domain ("example.com"), and not a Java-style package name (first label
// org/com/net/java/javax/android/...).
inline bool common_tld(std::string_view tld) noexcept {
  static constexpr std::string_view kTlds[] = {"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz",
                                               "io",  "co",  "uk",  "de",  "cn",  "jp",  "ru",  "fr",   "nl",
                                               "br",  "in",  "it",  "au",  "ca",  "kr",  "us",  "local", "lan",
                                               "internal", "localdomain"};
  for (std::string_view d : kTlds)
    if (d == tld) return true;
  return false;
}
[[gnu::always_inline]] inline std::size_t scan_hostname(std::string_view t, std::size_t pos) noexcept {
  int labels = 0;
  std::size_t last = 0;
  const std::size_t e = dotted_name_end(t, pos, &labels, &last);
  if (e == 0 || labels < 2 || e - last < 2 || e - last > 12) return 0;
  if (labels == 2 && !common_tld(t.substr(last, e - last))) return 0;
  for (std::size_t k = pos; k < e; ++k)
    if (at(t, k) >= 'A' && at(t, k) <= 'Z') return 0;
  for (std::size_t k = last; k < e; ++k)
    if (!kT.alpha[at(t, k)]) return 0;
  std::size_t first = pos;
  while (at(t, first) != '.') ++first;
  static constexpr std::string_view kPackageRoots[] = {"org", "com", "net", "java", "javax", "sun", "android",
                                                       "io", "jdk", "kotlin", "scala"};
  const std::string_view head = t.substr(pos, first - pos);
  for (std::string_view r : kPackageRoots)
    if (head == r) return 0;
  return done(t, pos, e);
}

// The inside of a quoted string of several words, "..." or '...': the opening quote follows
// a non-word byte (or starts the text), the closing one is the next same quote and is
// followed by a non-word byte, and the inside holds a space. The quotes stay: 'a b' -> '<*>'.
// A single quoted word ('safety', "Inactive") is left to Drain: it is as often a constant
// as a value. An HTTP request line ("GET /path HTTP/1.1") keeps its method (the path and
// version are masked by the other rules). Never spans a control byte; one memchr per try.
[[gnu::always_inline]] inline std::size_t scan_quoted(std::string_view t, std::size_t pos) noexcept {
  if (pos == 0) return 0;
  const char q = t[pos - 1];
  if (q != '"' && q != '\'') return 0;
  if (pos >= 2 && is_word(static_cast<unsigned char>(t[pos - 2]))) return 0;
  const void* hit = std::memchr(t.data() + pos, q, t.size() - pos);
  if (hit == nullptr) return 0;
  const std::size_t close = static_cast<std::size_t>(static_cast<const char*>(hit) - t.data());
  if (close == pos || is_word(at(t, close + 1))) return 0;
  bool space = false;
  for (std::size_t k = pos; k < close; ++k) {
    const auto c = static_cast<unsigned char>(t[k]);
    if (c < 0x20) return 0;
    space |= c == ' ';
  }
  if (!space) return 0;
  static constexpr std::string_view kMethods[] = {"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "PATCH ", "OPTIONS "};
  for (std::string_view m : kMethods)
    if (t.substr(pos, m.size()) == m) return 0;
  return close - pos;
}

// A stand-alone empty pair "()", "[]", "{}", "\"\"", "''" (after a space or the start, before a
// space, ',', ';' or the end): a value that happens to be empty. Emitted as the pair around the
// replacement ("()" -> "(<*>)") so it lines up with the non-empty values of the same field.
[[gnu::always_inline]] inline std::size_t scan_empty_value(std::string_view t, std::size_t pos) noexcept {
  const unsigned char o = at(t, pos), c = at(t, pos + 1);
  if (!((o == '(' && c == ')') || (o == '[' && c == ']') || (o == '{' && c == '}') || (o == '"' && c == '"') ||
        (o == '\'' && c == '\'')))
    return 0;
  if (pos > 0 && at(t, pos - 1) > ' ') return 0;
  const unsigned char n = at(t, pos + 2);
  return pos + 2 >= t.size() || n <= ' ' || n == ',' || n == ';' ? 2 : 0;
}

// Calendar dates written with words: an optional weekday, a month name and a day, optionally
// followed by a clock time and a year ("Jun 14", "Fri Jun 17 20:55:06 2005", "June 3, 2021").
// One variable, so the month of a date never becomes a template word.
[[gnu::always_inline]] inline std::size_t word_at(std::string_view t, std::size_t i, const std::string_view* list,
                                                  std::size_t n) noexcept {
  for (std::size_t k = 0; k < n; ++k) {
    const std::string_view w = list[k];
    if (t.substr(i, 3) != w.substr(0, 3)) continue;
    if (t.substr(i, w.size()) == w && !kT.alpha[at(t, i + w.size())]) return w.size();
    if (!kT.alpha[at(t, i + 3)]) return 3;
  }
  return 0;
}
[[gnu::always_inline]] inline std::size_t scan_textdate(std::string_view t, std::size_t pos) noexcept {
  if (!(at(t, pos + 1) >= 'a' && at(t, pos + 1) <= 'z' && at(t, pos + 2) >= 'a' && at(t, pos + 2) <= 'z')) return 0;
  static constexpr std::string_view kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};
  static constexpr std::string_view kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                                 "July",    "August",   "September", "October", "November", "December"};
  std::size_t i = pos;
  if (const std::size_t w = word_at(t, i, kDays, 7)) {
    std::size_t j = i + w;
    if (at(t, j) == ',') ++j;
    if (at(t, j) != ' ') return 0;
    i = j + 1;
  }
  const std::size_t m = word_at(t, i, kMonths, 12);
  if (m == 0) return 0;
  i += m;
  std::size_t j = i;
  while (at(t, j) == ' ' && j - i < 2) ++j;  // "Jun  4" (padded day)
  const std::size_t d = digits(t, j);
  if (j == i || d == 0 || d > 2) return 0;
  i = j + d;
  if (at(t, i) == ',' && at(t, i + 1) == ' ' && digits(t, i + 2) == 4) {
    i += 6;  // "June 3, 2021"
  } else if (at(t, i) == ' ') {
    const std::size_t e = time_end(t, i + 1);
    if (e != 0 && boundary(t, e)) {
      i = e;
      if (at(t, i) == ' ' && digits(t, i + 1) == 4 && boundary(t, i + 5)) i += 5;
    }
  }
  return done(t, pos, i);
}

}  // namespace logguard::core::detail

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
  std::size_t i = pos;
  if (at(t, i) == '-') ++i;
  const std::size_t d = digits(t, i);
  if (d == 0) return 0;
  i += d;
  for (int groups = 0; groups < 16 && at(t, i) == '.' && is_digit(at(t, i + 1)); ++groups)
    i += 1 + digits(t, i + 1);
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
bool file_extension(std::string_view ext) noexcept {
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
bool common_tld(std::string_view tld) noexcept {
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

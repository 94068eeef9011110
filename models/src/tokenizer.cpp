// BERT uncased basic tokenization + WordPiece (see tokenizer.hpp).
#include "logguard/models/tokenizer.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include "logguard/core/error.hpp"

namespace logguard::models {
namespace {

// Decodes one UTF-8 code point at s[i], advancing i; an invalid byte decodes as U+FFFD.
char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  const std::size_t n = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
  if (n == 0 || i + n >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = c & (0x3F >> n);
  for (std::size_t k = 1; k <= n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 2) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += n + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xFFFD || c == 0 || (c >= 0x200B && c <= 0x200F);
}
bool is_punct(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return (c >= 0x2010 && c <= 0x205E) || (c >= 0x3000 && c <= 0x303F && c != 0x3000) || c == 0xA1 || c == 0xA7 ||
         c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF;
}
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Lower-case + accent strip (ASCII, Latin-1 Supplement; Greek/Cyrillic capitals lower-cased).
char32_t fold(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7) {
    static const char* const kBase = "aaaaaaaceeeeiiiidnooooo_ouuuuyts" "aaaaaaaceeeeiiiidnooooo_ouuuuyty";
    const char b = kBase[c - 0xC0];
    if (c == 0xC6 || c == 0xE6) return 0xE6;                 // æ has no base letter
    if (c == 0xDE || c == 0xFE) return 0xFE;                 // þ
    if (c == 0xDF) return 0xDF;                              // ß
    if (c == 0xD0 || c == 0xF0) return 0xF0;                 // ð
    if (c == 0xD8 || c == 0xF8) return 0xF8;                 // ø keeps its stroke (not a combining mark)
    return static_cast<char32_t>(b);
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek capitals
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic capitals
  if (c >= 0x300 && c <= 0x36F) return 0;                     // combining marks: stripped
  return c;
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_file(const std::string& vocab_path) {
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) throw core::LoadError(vocab_path + ": cannot open vocabulary");
  std::vector<std::string> v;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    v.push_back(line);
  }
  return WordPieceTokenizer(std::move(v), vocab_path);
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, const std::string& source)
    : vocab_(std::move(vocab)) {
  for (std::size_t i = 0; i < vocab_.size(); ++i) index_.emplace(vocab_[i], static_cast<std::int64_t>(i));
  for (auto [name, slot] : {std::pair{"[PAD]", &pad_}, {"[CLS]", &cls_}, {"[SEP]", &sep_}, {"[UNK]", &unk_}}) {
    const auto i = id(name);
    if (i < 0) throw core::LoadError(source + ": vocabulary has no " + std::string(name) + " token");
    *slot = i;
  }
}

std::int64_t WordPieceTokenizer::id(const std::string& token) const {
  auto it = index_.find(token);
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t raw = next_cp(text, i);
    if (is_control(raw)) continue;
    if (is_whitespace(raw)) {
      flush();
      continue;
    }
    if (is_cjk(raw) || is_punct(raw)) {
      flush();
      std::string p;
      append_utf8(p, raw);
      out.push_back(std::move(p));
      continue;
    }
    const char32_t c = fold(raw);
    if (c == 0) continue;
    append_utf8(cur, c);
  }
  flush();
  return out;
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<std::string>& out) const {
  std::size_t chars = 0;
  for (unsigned char c : word) chars += (c >> 6) != 2;
  if (chars > 100) {
    out.push_back("[UNK]");
    return;
  }
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::string found;
    while (end > start) {
      std::string cand = (start > 0 ? "##" : "") + word.substr(start, end - start);
      if (index_.count(cand)) {
        found = std::move(cand);
        break;
      }
      do --end;  // step back one code point
      while (end > start && (static_cast<unsigned char>(word[end]) >> 6) == 2);
    }
    if (found.empty()) {
      out.push_back("[UNK]");
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (const auto& w : basic_tokens(text)) wordpiece(w, out);
  return out;
}

std::vector<std::int64_t> WordPieceTokenizer::encode(std::string_view text, int max_length) const {
  const std::size_t cap = static_cast<std::size_t>(std::max(2, max_length));
  std::vector<std::int64_t> ids{cls_};
  for (const auto& p : tokenize(text)) {
    if (ids.size() + 1 >= cap) break;
    ids.push_back(index_.at(p));
  }
  ids.push_back(sep_);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::build_vocab(const std::vector<std::string>& corpus, std::size_t max_words) {
  std::vector<std::string> v{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 33; c < 127; ++c) v.push_back(std::string(1, c));
  for (char c = 33; c < 127; ++c) v.push_back("##" + std::string(1, c));
  const WordPieceTokenizer basic(v);
  std::map<std::string, std::size_t> freq;
  for (const auto& t : corpus)
    for (const auto& w : basic.basic_tokens(t))
      if (w.size() > 1) ++freq[w];
  std::vector<std::pair<std::string, std::size_t>> words(freq.begin(), freq.end());
  std::stable_sort(words.begin(), words.end(), [](auto& a, auto& b) { return a.second > b.second; });
  if (words.size() > max_words) words.resize(max_words);
  for (auto& [w, n] : words) {
    v.push_back(w);
    v.push_back("##" + w);
  }
  return v;
}

}  // namespace logguard::models

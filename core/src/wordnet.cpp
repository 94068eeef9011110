// WordNet database reader (see wordnet.hpp). File formats: wndb(5WN) of WordNet 3.0.
//   data.POS:  offset lex_filenum ss_type w_cnt(2 hex) {word lex_id(1 hex)} p_cnt ... | gloss
//              the 8-digit offset is the line's byte offset in the file (checked).
//   index.POS: lemma pos synset_cnt p_cnt {ptr_symbol} sense_cnt tagsense_cnt {synset_offset}
//              offsets in sense order (most frequent first).
// Lines starting with a space are the licence header.
#include "logguard/core/wordnet.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "logguard/core/error.hpp"

namespace logguard::core {

const char* to_string(PartOfSpeech pos) noexcept {
  switch (pos) {
    case PartOfSpeech::noun: return "noun";
    case PartOfSpeech::verb: return "verb";
    case PartOfSpeech::adj: return "adj";
    case PartOfSpeech::adv: return "adv";
  }
  return "?";
}

namespace {

// One part of speech. Synset s: words[begin[s] .. begin[s+1]); an empty string marks a word
// dropped by clean_word (kept so that positions stay meaningful).
struct Part {
  std::vector<std::string> words;
  std::vector<std::uint32_t> begin{0};
  std::vector<std::uint32_t> sense_pool;  // synset indices, per lemma a contiguous range
  std::unordered_map<std::string, std::pair<std::uint32_t, std::uint32_t>> lemmas;  // -> [first, count)
  std::unordered_map<std::string, std::vector<std::string>> base_of, forms_of;     // from <pos>.exc
};

}  // namespace

struct WordNet::Impl {
  std::array<Part, kPartsOfSpeech> parts;
};

namespace {

// WordNet word -> our form: adjective markers "(a)", "(p)", "(ip)" removed, '_' -> ' ',
// lower case. Empty if the word is a proper noun or holds characters other than letters,
// spaces, '-' and '\''.
std::string clean_word(std::string_view w) {
  if (const auto paren = w.find('('); paren != std::string_view::npos) w = w.substr(0, paren);
  std::string out;
  out.reserve(w.size());
  for (char c : w) {
    if (c >= 'a' && c <= 'z') out += c;
    else if (c == '_') out += ' ';
    else if (c == '-' || c == '\'') out += c;
    else return {};  // upper case (proper noun), digits, dots, ...
  }
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

// Splits on spaces (runs of them) into views.
void split_fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
}

template <class T>
bool parse_num(std::string_view s, T& v, int base = 10) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path + ": cannot open WordNet file (Debian package wordnet-base)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw LoadError(path + ": read error");
  return std::move(ss).str();
}

// Walks the lines of a whole-file buffer: the line (without '\n'), its 1-based number and
// its byte offset (data files name synsets by byte offset).
struct Lines {
  std::string_view text;
  std::size_t pos = 0, start = 0, line_no = 0;
  explicit Lines(std::string_view t) : text(t) {}
  bool next(std::string_view& line) {
    if (pos >= text.size()) return false;
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    line = text.substr(pos, end - pos);
    start = pos;
    pos = end + 1;
    ++line_no;
    return true;
  }
};

[[noreturn]] void corrupt(const std::string& path, std::size_t line_no, const std::string& what) {
  throw LoadError(path + ":" + std::to_string(line_no) + ": corrupt WordNet file: " + what);
}

// Reads data.POS into `part`; returns the synset byte offsets (sorted, as in the file).
std::vector<std::uint32_t> load_data(const std::string& path, Part& part) {
  const std::string text = read_file(path);
  std::vector<std::uint32_t> offsets;
  std::vector<std::string_view> f;
  Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_no = lines.line_no, line_start = lines.start;
    if (line.empty() || line[0] == ' ') continue;  // licence header
    const auto bar = line.find(" | ");
    split_fields(line.substr(0, bar), f);
    std::uint32_t off = 0;
    unsigned wcnt = 0;
    if (f.size() < 6 || f[0].size() != 8 || !parse_num(f[0], off)) corrupt(path, line_no, "expected an 8-digit synset offset");
    if (off != line_start) corrupt(path, line_no, "synset offset " + std::string(f[0]) + " is not the line's byte offset");
    if (!parse_num(f[3], wcnt, 16) || wcnt == 0 || f.size() < 4 + 2 * std::size_t{wcnt} + 1)
      corrupt(path, line_no, "bad word count '" + std::string(f[3]) + "'");
    for (unsigned w = 0; w < wcnt; ++w) part.words.push_back(clean_word(f[4 + 2 * w]));
    part.begin.push_back(static_cast<std::uint32_t>(part.words.size()));
    offsets.push_back(off);
  }
  if (offsets.empty()) corrupt(path, lines.line_no, "no synsets");
  return offsets;
}

void load_index(const std::string& path, char pos_char, const std::vector<std::uint32_t>& offsets,
                Part& part) {
  const std::string text = read_file(path);
  std::vector<std::string_view> f;
  Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_no = lines.line_no;
    if (line.empty() || line[0] == ' ') continue;
    split_fields(line, f);
    std::size_t synset_cnt = 0, p_cnt = 0;
    if (f.size() < 6 || f[1].size() != 1 || f[1][0] != pos_char || !parse_num(f[2], synset_cnt) ||
        !parse_num(f[3], p_cnt) || f.size() != 4 + p_cnt + 2 + synset_cnt)
      corrupt(path, line_no, "expected `lemma pos synset_cnt p_cnt ptrs sense_cnt tagsense_cnt offsets`");
    const std::string lemma = clean_word(f[0]);
    if (lemma.empty()) continue;
    const auto first = static_cast<std::uint32_t>(part.sense_pool.size());
    for (std::size_t k = 0; k < synset_cnt; ++k) {
      std::uint32_t off = 0;
      const auto s = f[4 + p_cnt + 2 + k];
      if (s.size() != 8 || !parse_num(s, off)) corrupt(path, line_no, "bad synset offset '" + std::string(s) + "'");
      const auto it = std::lower_bound(offsets.begin(), offsets.end(), off);
      if (it == offsets.end() || *it != off)
        corrupt(path, line_no, "synset offset " + std::string(s) + " is not in the data file");
      part.sense_pool.push_back(static_cast<std::uint32_t>(it - offsets.begin()));
    }
    part.lemmas[lemma] = {first, static_cast<std::uint32_t>(synset_cnt)};
  }
  if (part.lemmas.empty()) corrupt(path, lines.line_no, "no lemmas");
}

// <pos>.exc: `inflected base [base...]`.
void load_exceptions(const std::string& path, Part& part) {
  const std::string text = read_file(path);
  std::vector<std::string_view> f;
  Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_no = lines.line_no;
    split_fields(line, f);
    if (f.empty()) continue;
    if (f.size() < 2) corrupt(path, line_no, "expected `inflected base`");
    const std::string infl = clean_word(f[0]);
    if (infl.empty()) continue;
    for (std::size_t k = 1; k < f.size(); ++k) {
      const std::string base = clean_word(f[k]);
      if (base.empty()) continue;
      part.base_of[infl].push_back(base);
      part.forms_of[base].push_back(infl);
    }
  }
}

}  // namespace

WordNet::WordNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WordNet::WordNet(WordNet&&) noexcept = default;
WordNet& WordNet::operator=(WordNet&&) noexcept = default;
WordNet::~WordNet() = default;

WordNet WordNet::load(const std::string& dir) {
  static constexpr std::array<const char*, kPartsOfSpeech> kNames = {"noun", "verb", "adj", "adv"};
  static constexpr std::array<char, kPartsOfSpeech> kChars = {'n', 'v', 'a', 'r'};
  auto impl = std::make_unique<Impl>();
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  for (std::size_t p = 0; p < kPartsOfSpeech; ++p) {
    const auto offsets = load_data(base + "data." + kNames[p], impl->parts[p]);
    load_index(base + "index." + kNames[p], kChars[p], offsets, impl->parts[p]);
    load_exceptions(base + kNames[p] + ".exc", impl->parts[p]);
  }
  return WordNet(std::move(impl));
}

WordNet WordNet::from_synsets(const std::vector<Synset>& synsets) {
  auto impl = std::make_unique<Impl>();
  std::array<std::vector<std::pair<std::string, std::uint32_t>>, kPartsOfSpeech> senses;
  for (const auto& s : synsets) {
    auto& part = impl->parts[static_cast<std::size_t>(s.pos)];
    const auto idx = static_cast<std::uint32_t>(part.begin.size() - 1);
    for (const auto& w : s.words) {
      part.words.push_back(clean_word(lower_ascii(w)));
      if (!part.words.back().empty()) senses[static_cast<std::size_t>(s.pos)].emplace_back(part.words.back(), idx);
    }
    part.begin.push_back(static_cast<std::uint32_t>(part.words.size()));
  }
  for (std::size_t p = 0; p < kPartsOfSpeech; ++p) {
    auto& part = impl->parts[p];
    auto& list = senses[p];
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < list.size();) {
      const auto first = static_cast<std::uint32_t>(part.sense_pool.size());
      std::size_t j = i;
      for (; j < list.size() && list[j].first == list[i].first; ++j)
        if (j == i || list[j].second != list[j - 1].second) part.sense_pool.push_back(list[j].second);
      part.lemmas[list[i].first] = {first, static_cast<std::uint32_t>(part.sense_pool.size() - first)};
      i = j;
    }
  }
  return WordNet(std::move(impl));
}

bool WordNet::contains(std::string_view lemma, PartOfSpeech pos) const {
  const auto& part = impl_->parts[static_cast<std::size_t>(pos)];
  return part.lemmas.find(std::string(lemma)) != part.lemmas.end();
}

std::vector<std::string> WordNet::synonyms(std::string_view lemma, PartOfSpeech pos, std::size_t max_senses) const {
  std::vector<std::string> out;
  const auto& part = impl_->parts[static_cast<std::size_t>(pos)];
  const auto it = part.lemmas.find(std::string(lemma));
  if (it == part.lemmas.end()) return out;
  auto [first, count] = it->second;
  if (max_senses > 0 && count > max_senses) count = static_cast<std::uint32_t>(max_senses);
  for (std::uint32_t k = 0; k < count; ++k) {
    const auto s = part.sense_pool[first + k];
    for (auto w = part.begin[s]; w < part.begin[s + 1]; ++w) {
      const auto& word = part.words[w];
      if (word.empty() || word == lemma || std::find(out.begin(), out.end(), word) != out.end()) continue;
      out.push_back(word);
    }
  }
  return out;
}

std::vector<std::string> WordNet::base_forms(std::string_view inflected, PartOfSpeech pos) const {
  const auto& m = impl_->parts[static_cast<std::size_t>(pos)].base_of;
  const auto it = m.find(std::string(inflected));
  return it == m.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> WordNet::irregular_forms(std::string_view lemma, PartOfSpeech pos) const {
  const auto& m = impl_->parts[static_cast<std::size_t>(pos)].forms_of;
  const auto it = m.find(std::string(lemma));
  return it == m.end() ? std::vector<std::string>{} : it->second;
}

std::size_t WordNet::synset_count() const noexcept {
  std::size_t n = 0;
  for (const auto& p : impl_->parts) n += p.begin.size() - 1;
  return n;
}

std::size_t WordNet::synset_count(PartOfSpeech pos) const noexcept {
  return impl_->parts[static_cast<std::size_t>(pos)].begin.size() - 1;
}

std::vector<std::string> WordNet::synset_words(PartOfSpeech pos, std::size_t index) const {
  const auto& part = impl_->parts[static_cast<std::size_t>(pos)];
  std::vector<std::string> out;
  if (index + 1 >= part.begin.size()) return out;
  for (auto w = part.begin[index]; w < part.begin[index + 1]; ++w)
    if (!part.words[w].empty()) out.push_back(part.words[w]);
  return out;
}

std::size_t WordNet::lemma_count() const noexcept {
  std::size_t n = 0;
  for (const auto& p : impl_->parts) n += p.lemmas.size();
  return n;
}

}  // namespace logguard::core

// Template noise: synonym replacement, insertion, deletion (see noise.hpp).
#include "logguard/core/noise.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "logguard/core/error.hpp"

namespace logguard::core {
namespace {

// ---- hashing and the PRNG (platform independent) ----

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix64(std::uint64_t z) noexcept {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : s_(seed) {}
  std::uint64_t next() noexcept { return mix64(s_ += 0x9e3779b97f4a7c15ULL); }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  std::size_t index(std::size_t n) noexcept {  // [0, n), n > 0
    const auto i = static_cast<std::size_t>(uniform() * static_cast<double>(n));
    return i < n ? i : n - 1;
  }

 private:
  std::uint64_t s_;
};

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return r;
}

// ---- tokens ----

enum class Kind : unsigned char { placeholder, word, ident, space, other };

struct Token {
  Kind kind;
  std::string_view text;
};

// A plain word: letters (with inner '-' or '\''), all lower case or Capitalised.
bool plain_word(std::string_view w) {
  if (w.empty() || !is_alpha(w[0])) return false;
  for (std::size_t i = 1; i < w.size(); ++i)
    if (!(is_lower(w[i]) || w[i] == '-' || w[i] == '\'')) return false;
  return w.size() == 1 || !is_upper(w[0]) || is_lower(w[1]);
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '<' || c == '{') {
      const char close = c == '<' ? '>' : '}';
      const auto j = s.find(close, i + 1);
      if (j != std::string_view::npos && is_placeholder(s.substr(i, j - i + 1))) {
        out.push_back({Kind::placeholder, s.substr(i, j - i + 1)});
        i = j + 1;
        continue;
      }
    }
    const std::size_t b = i;
    if (is_space(c)) {
      while (i < s.size() && is_space(s[i])) ++i;
      out.push_back({Kind::space, s.substr(b, i - b)});
    } else if (is_alpha(c) || is_digit(c) || c == '_') {
      while (i < s.size()) {
        const char d = s[i];
        if (is_alpha(d) || is_digit(d) || d == '_') ++i;
        else if ((d == '-' || d == '\'') && i + 1 < s.size() && is_alpha(s[i + 1]) && is_alpha(s[i - 1])) ++i;
        else break;
      }
      const auto w = s.substr(b, i - b);
      out.push_back({plain_word(w) ? Kind::word : Kind::ident, w});
    } else {
      ++i;
      out.push_back({Kind::other, s.substr(b, 1)});
    }
  }
  return out;
}

// Function words are never replaced (WordNet would offer "indium" for "in").
bool stop_word(std::string_view w) {
  static const std::unordered_set<std::string_view> kStop = {
      "a", "an", "the", "to", "of", "for", "from", "in", "on", "at", "by", "with", "is", "are", "was", "were", "be",
      "been", "not", "no", "and", "or", "as", "it", "its", "this", "that", "into", "but", "if", "so", "than", "there",
      "has", "have", "had", "does", "do", "did", "can", "will", "would", "should", "may", "might", "must", "any", "all",
      "some", "such", "which", "who", "what", "when", "while", "out", "up", "down", "off", "over", "via", "per"};
  return kStop.count(w) > 0;
}

// Filler words for insertion; each belongs to the flavour flavour_of_word() gives it.
const std::vector<std::string_view>& filler_words() {
  static const std::vector<std::string_view> kWords = {
      "now", "again", "already", "successfully", "remote", "local", "current", "new", "pending", "internal",
      "requested", "still", "just", "finally", "then", "also", "actually", "currently", "temporarily", "partially",
      "completely", "safely", "quickly", "immediately", "automatically", "explicitly", "asynchronously", "remotely",
      "locally", "recently", "normally", "correctly", "properly", "target", "source", "data", "replica", "primary",
      "secondary", "given", "specified", "corresponding", "existing", "active", "selected", "the", "this", "one",
      "some", "next", "previous", "last", "first", "single", "whole", "entire", "same", "other", "further", "routine"};
  return kWords;
}

// ---- inflection ----

enum class Form : unsigned char { base, plural, past, gerund };

struct Morph {
  std::string_view suffix, replacement;
  PartOfSpeech pos;
  Form form;
};

// WordNet's morphy detachment rules (the -s / -ed / -ing ones).
constexpr Morph kMorphs[] = {
    {"ses", "s", PartOfSpeech::noun, Form::plural},   {"xes", "x", PartOfSpeech::noun, Form::plural},
    {"zes", "z", PartOfSpeech::noun, Form::plural},   {"ches", "ch", PartOfSpeech::noun, Form::plural},
    {"shes", "sh", PartOfSpeech::noun, Form::plural}, {"ies", "y", PartOfSpeech::noun, Form::plural},
    {"s", "", PartOfSpeech::noun, Form::plural},      {"ies", "y", PartOfSpeech::verb, Form::plural},
    {"es", "e", PartOfSpeech::verb, Form::plural},    {"es", "", PartOfSpeech::verb, Form::plural},
    {"s", "", PartOfSpeech::verb, Form::plural},      {"ed", "e", PartOfSpeech::verb, Form::past},
    {"ed", "", PartOfSpeech::verb, Form::past},       {"ing", "e", PartOfSpeech::verb, Form::gerund},
    {"ing", "", PartOfSpeech::verb, Form::gerund},
};

bool vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }
bool ends_with(std::string_view s, std::string_view t) { return s.size() >= t.size() && s.substr(s.size() - t.size()) == t; }

std::string inflect_word(std::string w, Form form) {
  if (w.empty()) return w;
  const char last = w.back();
  const bool cons_y = last == 'y' && w.size() >= 2 && !vowel(w[w.size() - 2]);
  switch (form) {
    case Form::base: return w;
    case Form::plural:
      if (ends_with(w, "s") || ends_with(w, "x") || ends_with(w, "z") || ends_with(w, "ch") || ends_with(w, "sh"))
        return w + "es";
      if (cons_y) return w.substr(0, w.size() - 1) + "ies";
      return w + "s";
    case Form::past:
      if (last == 'e') return w + "d";
      if (cons_y) return w.substr(0, w.size() - 1) + "ied";
      return w + "ed";
    case Form::gerund:
      if (ends_with(w, "ie")) return w.substr(0, w.size() - 2) + "ying";
      if (last == 'e' && !ends_with(w, "ee") && !ends_with(w, "ye") && !ends_with(w, "oe") && w.size() > 2)
        return w.substr(0, w.size() - 1) + "ing";
      return w + "ing";
  }
  return w;
}

// The irregular form of `word` (WordNet's .exc files, in reverse) for `form`, or "".
std::string irregular(const WordNet& wn, const std::string& word, Form form, PartOfSpeech pos) {
  for (const auto& f : wn.irregular_forms(word, pos)) {
    const bool ing = ends_with(f, "ing"), s = ends_with(f, "s");
    if ((form == Form::gerund && ing) || (form == Form::plural && s && !ing) || (form == Form::past && !ing && !s))
      return f;
  }
  return {};
}

// Inflects a (possibly multi-word) lemma: verbs on their first word, nouns on their last;
// irregular forms from WordNet first, else the regular spelling rules.
std::string inflect(const WordNet& wn, const std::string& lemma, Form form, PartOfSpeech pos) {
  if (form == Form::base) return lemma;
  auto one = [&](const std::string& w) {
    auto irr = irregular(wn, w, form, pos);
    return irr.empty() ? inflect_word(w, form) : irr;
  };
  const auto sp = pos == PartOfSpeech::noun ? lemma.rfind(' ') : lemma.find(' ');
  if (sp == std::string::npos) return one(lemma);
  if (pos == PartOfSpeech::noun) return lemma.substr(0, sp + 1) + one(lemma.substr(sp + 1));
  return one(lemma.substr(0, sp)) + lemma.substr(sp);
}

// The form of an inflected word, judged by its ending.
Form form_of(std::string_view w, PartOfSpeech pos) {
  if (ends_with(w, "ing") && pos == PartOfSpeech::verb) return Form::gerund;
  if (ends_with(w, "s")) return Form::plural;
  return pos == PartOfSpeech::verb ? Form::past : Form::plural;
}

std::string match_case(std::string_view original, std::string replacement) {
  if (!original.empty() && is_upper(original[0]) && !replacement.empty() && is_lower(replacement[0]))
    replacement[0] = static_cast<char>(replacement[0] - 'a' + 'A');
  return replacement;
}

}  // namespace

// ---- public helpers ----

bool noise_flavour_from_name(std::string_view name, NoiseFlavour* out) noexcept {
  if (name == "training") *out = NoiseFlavour::training;
  else if (name == "evaluation") *out = NoiseFlavour::evaluation;
  else return false;
  return true;
}

const char* to_string(NoiseFlavour flavour) noexcept {
  return flavour == NoiseFlavour::training ? "training" : "evaluation";
}

NoiseFlavour flavour_of_word(std::string_view word) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : word) {
    const auto u = static_cast<unsigned char>(is_upper(c) ? c - 'A' + 'a' : c);
    h ^= u;
    h *= 0x100000001b3ULL;
  }
  return (mix64(h) & 1U) ? NoiseFlavour::evaluation : NoiseFlavour::training;
}

bool is_placeholder(std::string_view t) noexcept {
  if (t.size() < 2 || t.size() > 34) return false;
  const char open = t.front(), close = t.back();
  if (!((open == '<' && close == '>') || (open == '{' && close == '}'))) return false;
  for (std::size_t i = 1; i + 1 < t.size(); ++i) {
    const char c = t[i];
    if (is_space(c) || c == '<' || c == '>' || c == '{' || c == '}') return false;
  }
  return true;
}

void NoiseConfig::validate() const {
  auto rate = [](double v, const char* key) {
    if (!(v >= 0.0 && v <= 1.0)) throw ConfigError(key, "must be in [0, 1], got " + std::to_string(v));
  };
  rate(replace_rate, "noise.replace_rate");
  rate(insert_rate, "noise.insert_rate");
  rate(delete_rate, "noise.delete_rate");
  if (min_edits > 16) throw ConfigError("noise.min_edits", "must be <= 16");
}

// ---- NoiseGenerator ----

NoiseGenerator::NoiseGenerator(std::shared_ptr<const WordNet> wordnet, NoiseConfig config)
    : wordnet_(std::move(wordnet)), config_(config) {
  if (!wordnet_) throw ConfigError("noise", "no WordNet database");
  config_.validate();
}

std::vector<std::string> NoiseGenerator::synonym_candidates(std::string_view word) const {
  std::vector<std::string> out;
  const std::string w = lower(word);
  if (w.size() < 3 || stop_word(w)) return out;
  auto add = [&](const std::string& lemma, PartOfSpeech pos, Form form) {
    for (const auto& syn : wordnet_->synonyms(lemma, pos, config_.max_senses)) {
      if (syn == lemma || flavour_of_word(syn) != config_.flavour) continue;
      std::string s = inflect(*wordnet_, syn, form, pos);
      if (s == w || std::find(out.begin(), out.end(), s) != out.end()) continue;
      out.push_back(std::move(s));
    }
  };
  for (std::size_t p = 0; p < kPartsOfSpeech; ++p) add(w, static_cast<PartOfSpeech>(p), Form::base);
  for (const auto pos : {PartOfSpeech::verb, PartOfSpeech::noun})  // irregular: "got" -> "get"
    for (const auto& base : wordnet_->base_forms(w, pos)) add(base, pos, form_of(w, pos));
  for (const auto& m : kMorphs) {
    if (w.size() <= m.suffix.size() + 1 || !ends_with(w, m.suffix)) continue;
    const std::string base = w.substr(0, w.size() - m.suffix.size()) + std::string(m.replacement);
    if (wordnet_->contains(base, m.pos)) add(base, m.pos, m.form);
  }
  return out;
}

std::string NoiseGenerator::corrupt(std::string_view text, std::uint64_t seed,
                                    const std::vector<std::string>& pool) const {
  const auto toks = tokenize(text);
  std::vector<std::size_t> content;
  for (std::size_t i = 0; i < toks.size(); ++i)
    if (toks[i].kind == Kind::word && toks[i].text.size() >= 3 && !stop_word(lower(toks[i].text))) content.push_back(i);
  if (content.empty()) return std::string(text);
  Rng rng(mix64(seed ^ fnv1a(text) ^ 0x6a09e667f3bcc909ULL));
  const auto at = content[rng.index(content.size())];
  const std::string w = lower(toks[at].text);

  // The word's readings (lemma, part of speech, form) and everything that means the same.
  struct Reading {
    std::string lemma;
    PartOfSpeech pos;
    Form form;
  };
  std::vector<Reading> readings;
  for (std::size_t p = 0; p < kPartsOfSpeech; ++p)
    if (wordnet_->contains(w, static_cast<PartOfSpeech>(p))) readings.push_back({w, static_cast<PartOfSpeech>(p), Form::base});
  for (const auto pos : {PartOfSpeech::verb, PartOfSpeech::noun})
    for (const auto& base : wordnet_->base_forms(w, pos)) readings.push_back({base, pos, form_of(w, pos)});
  for (const auto& m : kMorphs) {
    if (w.size() <= m.suffix.size() + 1 || !ends_with(w, m.suffix)) continue;
    const std::string base = w.substr(0, w.size() - m.suffix.size()) + std::string(m.replacement);
    if (wordnet_->contains(base, m.pos)) readings.push_back({base, m.pos, m.form});
  }
  std::unordered_set<std::string> same{w};
  for (const auto& r : readings) {
    same.insert(r.lemma);
    for (const auto& syn : wordnet_->synonyms(r.lemma, r.pos, 0)) {
      same.insert(syn);
      same.insert(inflect(*wordnet_, syn, r.form, r.pos));
    }
  }
  const Reading fallback{w, PartOfSpeech::noun, Form::base};  // not in WordNet: any noun
  std::string pick;
  for (int attempt = 0; attempt < 64 && pick.empty(); ++attempt) {
    std::string cand;
    if (!pool.empty() && (rng.next() & 1U)) {
      cand = lower(pool[rng.index(pool.size())]);
      if (!plain_word(cand) || cand.size() < 3 || stop_word(cand)) continue;
    } else {
      const auto& r = readings.empty() ? fallback : readings[rng.index(readings.size())];
      const auto n = wordnet_->synset_count(r.pos);
      if (n == 0) continue;
      const auto words = wordnet_->synset_words(r.pos, rng.index(n));
      if (words.empty()) continue;
      const auto& base = words[rng.index(words.size())];
      if (base.size() < 3 || base.find(' ') != std::string::npos || same.count(base)) continue;
      cand = inflect(*wordnet_, base, r.form, r.pos);
    }
    if (!same.count(cand)) pick = std::move(cand);
  }
  if (pick.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < toks.size(); ++i) out += i == at ? match_case(toks[i].text, pick) : std::string(toks[i].text);
  return out;
}

bool NoiseGenerator::deletable(std::string_view word) const {
  return plain_word(word) && flavour_of_word(word) == config_.flavour;
}

const std::vector<std::string>& NoiseGenerator::insertion_vocabulary() const noexcept {
  static const auto kByFlavour = [] {
    std::array<std::vector<std::string>, 2> v;
    for (auto w : filler_words()) v[static_cast<std::size_t>(flavour_of_word(w))].emplace_back(w);
    return v;
  }();
  return kByFlavour[static_cast<std::size_t>(config_.flavour)];
}

std::string NoiseGenerator::reword(std::string_view template_text, std::uint64_t seed) const {
  return reword_detailed(template_text, seed).text;
}

Rewording NoiseGenerator::reword_detailed(std::string_view text, std::uint64_t seed) const {
  Rewording r;
  const auto toks = tokenize(text);
  const std::size_t n = toks.size();
  Rng rng(mix64(seed ^ fnv1a(text)));
  const auto& fillers = insertion_vocabulary();

  std::vector<std::string> replacement(n);   // non-empty: the token's new text
  std::vector<char> deleted(n, 0);
  std::vector<std::string> inserted(n);      // a filler word before token i
  std::vector<std::vector<std::string>> cands(n);
  std::vector<char> can_delete(n, 0), gap(n, 0);

  std::size_t word_tokens = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = toks[i].kind;
    if (k == Kind::word || k == Kind::ident) ++word_tokens;
    if (k == Kind::word) {
      cands[i] = synonym_candidates(toks[i].text);
      // Only a word with a space beside it: deleting "file" from "<*>file<*>" would merge
      // two variables.
      const bool spaced = (i > 0 && toks[i - 1].kind == Kind::space) || (i + 1 < n && toks[i + 1].kind == Kind::space);
      can_delete[i] = spaced && deletable(toks[i].text);
      r.replaceable += !cands[i].empty();
      r.deletable += can_delete[i];
    }
    // Insertion points: before a word after a space, and at the start of the text.
    gap[i] = i == 0 ? k != Kind::space : (k == Kind::word || k == Kind::ident) && toks[i - 1].kind == Kind::space;
  }
  r.words = word_tokens;
  std::size_t remaining = word_tokens;

  // One pass in token order; every decision draws from the same stream.
  for (std::size_t i = 0; i < n; ++i) {
    if (gap[i] && !fillers.empty() && rng.uniform() < config_.insert_rate) {
      inserted[i] = fillers[rng.index(fillers.size())];
      ++r.inserted;
    }
    if (toks[i].kind != Kind::word) continue;
    if (!cands[i].empty() && rng.uniform() < config_.replace_rate) {
      replacement[i] = match_case(toks[i].text, cands[i][rng.index(cands[i].size())]);
      ++r.replaced;
    } else if (can_delete[i] && remaining > 1 && rng.uniform() < config_.delete_rate) {
      deleted[i] = 1;
      --remaining;
      ++r.deleted;
    }
  }
  // Forced edits up to min_edits: replace an untouched replaceable word, else insert.
  while (r.edits() < config_.min_edits) {
    std::vector<std::size_t> free_words, free_gaps;
    for (std::size_t i = 0; i < n; ++i) {
      if (!cands[i].empty() && replacement[i].empty() && !deleted[i]) free_words.push_back(i);
      if (gap[i] && inserted[i].empty()) free_gaps.push_back(i);
    }
    if (!free_words.empty()) {
      const auto i = free_words[rng.index(free_words.size())];
      replacement[i] = match_case(toks[i].text, cands[i][rng.index(cands[i].size())]);
      ++r.replaced;
    } else if (!free_gaps.empty() && !fillers.empty()) {
      const auto i = free_gaps[rng.index(free_gaps.size())];
      inserted[i] = fillers[rng.index(fillers.size())];
      ++r.inserted;
    } else {
      break;
    }
  }

  // Rebuild. A deleted word takes one neighbouring space with it: the one before it, else (at
  // the start of the text) the one after it; a word glued to a placeholder keeps its spaces.
  // A deleted word that also got a filler before it is simply replaced by the filler.
  std::vector<char> drop(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (!deleted[i] || !inserted[i].empty()) continue;
    drop[i] = 1;
    if (i > 0 && toks[i - 1].kind == Kind::space && !drop[i - 1]) drop[i - 1] = 1;
    else if (i == 0 && i + 1 < n && toks[i + 1].kind == Kind::space) drop[i + 1] = 1;
  }
  std::string out;
  out.reserve(text.size() + 32);
  for (std::size_t i = 0; i < n; ++i) {
    if (deleted[i] && !inserted[i].empty()) {
      out += inserted[i];
      continue;
    }
    if (!inserted[i].empty()) out += inserted[i] + ' ';
    if (drop[i]) continue;
    out += replacement[i].empty() ? std::string(toks[i].text) : replacement[i];
  }
  r.text = std::move(out);
  return r;
}

std::vector<std::string> NoiseGenerator::variants(std::string_view text, std::size_t n, std::uint64_t seed) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen{std::string(text)};
  const std::size_t tries = n * 20 + 20;
  for (std::size_t k = 0; k < tries && out.size() < n; ++k) {
    auto v = reword(text, mix64(seed + 0x9e3779b97f4a7c15ULL * (k + 1)));
    if (seen.insert(v).second) out.push_back(std::move(v));
  }
  return out;
}

std::array<NoisySegment, 2> noisy_segments(const NoiseGenerator& noise, std::span<const std::uint32_t> segment,
                                           std::size_t i, const std::function<std::string(std::uint32_t)>& text_of,
                                           std::uint64_t seed) {
  if (i + 1 >= segment.size()) throw ConfigError("noise", "noisy_segments: position " + std::to_string(i) +
                                                              " needs a successor in a segment of " +
                                                              std::to_string(segment.size()));
  std::string text = noise.reword(text_of(segment[i]), seed);
  std::array<NoisySegment, 2> out;
  for (std::size_t v = 0; v < 2; ++v) {
    out[v].events.assign(segment.begin(), segment.end());
    out[v].events[i + 1] = segment[i];
    out[v].reworded = v == 0 ? i + 1 : i;
    out[v].reworded_text = text;
  }
  return out;
}

}  // namespace logguard::core

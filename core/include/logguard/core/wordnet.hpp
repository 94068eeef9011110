#pragma once
// WordNet 3.0 synonym database (the Debian package `wordnet-base`, /usr/share/wordnet).
//
// WordNet::load() reads data.{noun,verb,adj,adv} (synsets: the words of one sense) and
// index.{noun,verb,adj,adv} (lemma -> its synsets, most frequent sense first) and keeps, per
// part of speech, each lemma's senses; {noun,verb,adj,adv}.exc give irregular forms
// ("got" -> "get"). synonyms() returns the other words of a lemma's first
// senses. Words are lower case ASCII; multi-word lemmas use spaces ("take away"); proper
// nouns (capitalised WordNet words), words with digits or other characters are dropped.
//
// Lifecycle: load once at start-up (about 0.5 s, ~40 MB); a missing or corrupt file throws
// core::LoadError naming the file (and line). Thread-safety: immutable after load; const
// members may be called from any thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::core {

enum class PartOfSpeech : unsigned char { noun = 0, verb = 1, adj = 2, adv = 3 };
inline constexpr std::size_t kPartsOfSpeech = 4;

/// "noun", "verb", "adj", "adv".
const char* to_string(PartOfSpeech pos) noexcept;

class WordNet {
 public:
  /// Where Debian's wordnet-base installs the database.
  static constexpr const char* kDefaultDir = "/usr/share/wordnet";

  /// Loads the database from `dir`. Throws LoadError naming the file on a missing file or a
  /// malformed line ("<dir>/data.noun:1234: ...").
  static WordNet load(const std::string& dir = kDefaultDir);

  /// A database from in-memory synsets (tests, tools): each synset is (part of speech,
  /// words); a lemma's senses are the synsets that contain it, in the given order.
  struct Synset {
    PartOfSpeech pos = PartOfSpeech::noun;
    std::vector<std::string> words;
  };
  static WordNet from_synsets(const std::vector<Synset>& synsets);

  WordNet(WordNet&&) noexcept;
  WordNet& operator=(WordNet&&) noexcept;
  ~WordNet();

  /// True if `lemma` (lower case) has at least one sense in `pos`.
  bool contains(std::string_view lemma, PartOfSpeech pos) const;

  /// The other words of `lemma`'s first `max_senses` senses in `pos` (0 = all senses), in
  /// sense order then synset order, without duplicates and without `lemma` itself.
  std::vector<std::string> synonyms(std::string_view lemma, PartOfSpeech pos, std::size_t max_senses = 0) const;

  /// Base forms of an irregular inflected word (`<pos>.exc`: "got" -> "get"); empty if none.
  std::vector<std::string> base_forms(std::string_view inflected, PartOfSpeech pos) const;
  /// Irregular inflected forms of `lemma` in file order ("get" -> "getting", "got", "gotten").
  std::vector<std::string> irregular_forms(std::string_view lemma, PartOfSpeech pos) const;

  std::size_t synset_count() const noexcept;
  /// Synsets of one part of speech, and the words of synset `index` (< synset_count(pos)), in
  /// file order without dropped words: random draws of "some other word" (hard negatives).
  std::size_t synset_count(PartOfSpeech pos) const noexcept;
  std::vector<std::string> synset_words(PartOfSpeech pos, std::size_t index) const;
  std::size_t lemma_count() const noexcept;  // (lemma, part of speech) pairs

 private:
  struct Impl;
  explicit WordNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::core

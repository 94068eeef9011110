#pragma once
// Noise injection for log templates: reworded variants of a template text (the positives of
// contrastive fine-tuning, and the "reworded log messages" of the robustness evaluation).
//
// NoiseGenerator::reword() applies, word by word, with configurable rates:
//   * synonym replacement from WordNet (inflection kept for -s/-ed/-ing forms: "Receiving"
//     -> "Getting"; capitalisation kept),
//   * word insertion from a fixed filler vocabulary ("now", "remote", "successfully", ...),
//   * word deletion.
// Masked variables are never touched: `<...>` and `{...}` tokens without spaces ("<*>",
// "<IP>", "{}") stay exactly as they are, as do identifiers (camelCase, ALLCAPS, words with
// digits or underscores such as "addStoredBlock", "BLOCK*", "blk_") and punctuation.
//
// Flavours: `training` and `evaluation` never overlap. Every synonym, every insertion word
// and every deletable word belongs to exactly one flavour (a fixed hash of the word decides),
// so evaluation noise is made by "a noise generator different from the one used in
// training": other synonyms, other inserted words, other deleted words.
//
// Determinism: reword(text, seed) is a pure function of (text, seed, config, database): the
// same seed gives the same output on every platform and in any call order (own PRNG, no
// <random> distributions).
//
// Sequence-level positives (Wang et al. 2022): a normal segment (k1 k2 k3 k4) becomes
// (k1 k1* k3 k4) and (k1* k1 k3 k4), k1* a reworded k1; see noisy_segments().
//
// Lifecycle: build once with a loaded WordNet (shared, immutable). Thread-safety: all const
// members are safe to call concurrently.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/wordnet.hpp"

namespace logguard::core {

enum class NoiseFlavour : unsigned char { training = 0, evaluation = 1 };

/// "training" / "evaluation"; false if unknown.
bool noise_flavour_from_name(std::string_view name, NoiseFlavour* out) noexcept;
const char* to_string(NoiseFlavour flavour) noexcept;

/// Plain settings of a NoiseGenerator. validate() throws ConfigError with keys
/// "noise.replace_rate" etc.
struct NoiseConfig {
  NoiseFlavour flavour = NoiseFlavour::training;
  double replace_rate = 0.3;  // P(replace) for each word that has a synonym in this flavour
  double insert_rate = 0.1;   // P(insert a filler word) at each gap before a word token
  double delete_rate = 0.1;   // P(delete) for each deletable word of this flavour not replaced
  std::size_t max_senses = 2; // synonyms come from a lemma's first N WordNet senses (0 = all)
  std::size_t min_edits = 1;  // if the random pass made fewer edits, force edits up to this
                              // many (replace, else insert); 0 = rates only (may return the input)
  void validate() const;
};

/// What one reword() did; `text` is the reworded template.
struct Rewording {
  std::string text;
  std::size_t words = 0;        // word tokens in the input (identifiers included)
  std::size_t replaceable = 0;  // words with a synonym in this flavour
  std::size_t deletable = 0;    // words deletable in this flavour
  std::size_t replaced = 0, inserted = 0, deleted = 0;
  std::size_t edits() const noexcept { return replaced + inserted + deleted; }
};

class NoiseGenerator {
 public:
  /// `wordnet` must not be null. Throws ConfigError if `config` is invalid.
  NoiseGenerator(std::shared_ptr<const WordNet> wordnet, NoiseConfig config);

  /// A reworded variant of `template_text` (deterministic in text and seed).
  std::string reword(std::string_view template_text, std::uint64_t seed) const;
  /// The same, with counts of what was done.
  Rewording reword_detailed(std::string_view template_text, std::uint64_t seed) const;

  /// Up to `n` distinct variants, each different from `template_text` (fewer if the template
  /// offers too little to vary, e.g. only placeholders and identifiers after many tries).
  std::vector<std::string> variants(std::string_view template_text, std::size_t n, std::uint64_t seed) const;

  /// A hard negative of `template_text`: one content word (a plain word of >= 3 letters, not a
  /// function word) replaced by a word of another meaning -- with probability 1/2 a word of
  /// `pool` (when not empty; e.g. the other templates' words), else a random single-word WordNet
  /// lemma of the word's part of speech, inflected like it -- never the word itself nor any of
  /// its WordNet synonyms (all senses, both flavours). Deterministic in (text, seed, pool);
  /// returns the text unchanged when it has no content word.
  std::string corrupt(std::string_view template_text, std::uint64_t seed,
                      const std::vector<std::string>& pool = {}) const;

  /// Replacement candidates of `word` in this flavour (inflected like `word`, lower case).
  std::vector<std::string> synonym_candidates(std::string_view word) const;
  /// True if `word` may be deleted in this flavour.
  bool deletable(std::string_view word) const;
  /// The filler words this flavour inserts.
  const std::vector<std::string>& insertion_vocabulary() const noexcept;

  const NoiseConfig& config() const noexcept { return config_; }

 private:
  std::shared_ptr<const WordNet> wordnet_;
  NoiseConfig config_;
};

/// Which flavour owns `word` (lower-cased before hashing): a fixed, platform-independent hash.
NoiseFlavour flavour_of_word(std::string_view word) noexcept;

/// True for a masked-variable token: "<...>" or "{...}" with no whitespace or nested brackets
/// inside, at most 32 characters between the brackets ("<*>", "<IP>", "{}").
bool is_placeholder(std::string_view token) noexcept;

/// One sequence-level positive: `events` is the segment with one template replaced (see
/// noisy_segments); `events[reworded]` is the id whose text was reworded into `reworded_text`.
struct NoisySegment {
  std::vector<std::uint32_t> events;
  std::size_t reworded = 0;
  std::string reworded_text;
};

/// The two positives of a normal segment at position i (needs i + 1 < segment.size()):
/// (.., k_i, k_i*, k_{i+2} ..) and (.., k_i*, k_i, k_{i+2} ..), i.e. k_{i+1} is replaced by a
/// copy of k_i and one of the two copies is the reworded text. `text_of` gives a template's
/// text; both positives share one rewording (same seed).
std::array<NoisySegment, 2> noisy_segments(const NoiseGenerator& noise, std::span<const std::uint32_t> segment,
                                           std::size_t i,
                                           const std::function<std::string(std::uint32_t)>& text_of,
                                           std::uint64_t seed);

}  // namespace logguard::core

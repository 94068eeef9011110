#pragma once
// WordPiece tokenizer of BERT uncased models (as used by all-MiniLM-L6-v2).
//
// Basic tokenization: drop control characters and U+FFFD, whitespace -> split, lower-case,
// strip accents (Latin-1 Supplement letters map to their base letter;
// other code points are kept as they are), every punctuation character (ASCII punctuation
// and the General Punctuation block) and CJK ideograph is its own word. Then greedy
// longest-match-first WordPiece per word ("##" continuation pieces; a word longer than 100
// characters or with no match becomes [UNK]). encode() wraps the pieces in [CLS] ... [SEP]
// and truncates to max_length. Differences from the Python reference are limited to
// non-Latin accents (documented in docs/semantic-mapping.md).
// Lifecycle: built once from vocab.txt (one token per line, id = line number) or a list.
// Thread-safety: immutable after construction; encode() may be called concurrently.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace logguard::models {

class WordPieceTokenizer {
 public:
  /// Reads vocab.txt; core::LoadError naming the file if missing or without [CLS]/[SEP]/[UNK]/[PAD].
  static WordPieceTokenizer from_file(const std::string& vocab_path);
  /// `source` names the vocabulary in errors.
  explicit WordPieceTokenizer(std::vector<std::string> vocab, const std::string& source = "vocabulary");

  /// Basic tokenization only (lower-cased words and punctuation).
  std::vector<std::string> basic_tokens(std::string_view text) const;
  /// WordPiece pieces of `text` (without [CLS]/[SEP]).
  std::vector<std::string> tokenize(std::string_view text) const;
  /// [CLS] pieces... [SEP] as ids, at most max_length ids (>= 2).
  std::vector<std::int64_t> encode(std::string_view text, int max_length) const;

  std::int64_t id(const std::string& token) const;  // -1 if absent
  const std::vector<std::string>& vocab() const noexcept { return vocab_; }
  std::int64_t pad_id() const noexcept { return pad_; }
  std::int64_t cls_id() const noexcept { return cls_; }
  std::int64_t sep_id() const noexcept { return sep_; }
  std::int64_t unk_id() const noexcept { return unk_; }

  /// A small vocabulary for an encoder trained from scratch: the special tokens, every
  /// ASCII printable character alone and as "##c", and the `max_words` most frequent basic
  /// tokens of `corpus` (ties by text), each also as a "##" piece.
  static std::vector<std::string> build_vocab(const std::vector<std::string>& corpus, std::size_t max_words);

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int64_t> index_;
  std::int64_t pad_ = 0, cls_ = 0, sep_ = 0, unk_ = 0;
  void wordpiece(const std::string& word, std::vector<std::string>& out) const;
};

}  // namespace logguard::models

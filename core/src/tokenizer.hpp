#pragma once
// Tokenizer: splits masked content into hashed tokens (the Drain input).
//
// Delimiters (dropped): space, NUL and every other byte <= 0x20, plus
// DrainConfig::extra_delimiters. Punctuation (DrainConfig::punctuation_tokens, off by
// default): each such byte is a token of its own, so "ready=true,mode=3" is
// ready = true , mode = 3 and a template keeps its punctuation when a value next to it
// becomes "<*>". An apostrophe between two letters or digits ("don't") stays in its word.
//
// A token is "glued" when no delimiter precedes it; template text joins tokens with one
// space unless glued, so tokenizing a template's text again gives the same tokens.
// Without punctuation tokens and extra delimiters the delimiters are exactly the bytes
// <= 0x20 and token ends are found 8 bytes at a time.
// Lifecycle: built from the config, then immutable; thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hash.hpp"

namespace logguard::core {
struct DrainConfig;
}

namespace logguard::core::detail {

/// One token of the masked content: byte range and hash.
struct Token {
  std::uint32_t off;
  std::uint32_t len;
  std::uint64_t hash;
};

class Tokenizer {
 public:
  enum : std::uint8_t { kWord = 0, kDelim = 1, kPunct = 2 };
  Tokenizer();
  explicit Tokenizer(const DrainConfig& cfg);

  /// Tokens of `text` into `out`; returns SequenceKey of their hashes (Drain::exact_key).
  std::uint64_t tokenize(std::string_view text, std::vector<Token>& out) const;
  /// Whether the token at `off` directly follows a non-delimiter byte.
  bool glued(std::string_view text, std::uint32_t off) const noexcept {
    return off > 0 && cls_[static_cast<unsigned char>(text[off - 1])] != kDelim;
  }
  /// Appends `token` to a template text being built, with a space unless it was glued, and
  /// also when gluing would run two tokens together (a "<*>" that replaced a punctuation
  /// token, before a word): the text must tokenize back to the same tokens.
  void join(std::string& out, bool first, bool glued, std::string_view token) const {
    if (!first && (!glued || (!out.empty() && !token.empty() &&
                              cls_[static_cast<unsigned char>(out.back())] == kWord &&
                              cls_[static_cast<unsigned char>(token.front())] == kWord)))
      out.push_back(' ');
    out.append(token);
  }

 private:
  std::array<std::uint8_t, 256> cls_{};
  bool simple_ = true;  // delimiters are exactly the bytes <= 0x20, no punctuation
  bool apostrophe_ = false;  // '\'' is punctuation (but not between two word bytes)
};

}  // namespace logguard::core::detail

#include "tokenizer.hpp"

#include <cstring>

#include "logguard/core/parser_config.hpp"

namespace logguard::core::detail {

namespace {
inline bool word_byte(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace

Tokenizer::Tokenizer() {
  for (int ch = 0; ch <= 0x20; ++ch) cls_[static_cast<std::size_t>(ch)] = kDelim;
}

Tokenizer::Tokenizer(const DrainConfig& cfg) : Tokenizer() {
  for (char ch : cfg.extra_delimiters) cls_[static_cast<unsigned char>(ch)] = kDelim;
  for (char ch : cfg.punctuation_tokens)
    if (cls_[static_cast<unsigned char>(ch)] == kWord) cls_[static_cast<unsigned char>(ch)] = kPunct;
  apostrophe_ = cls_[static_cast<unsigned char>('\'')] == kPunct;
  simple_ = cfg.extra_delimiters.empty() && cfg.punctuation_tokens.empty();
}

std::uint64_t Tokenizer::tokenize(std::string_view text, std::vector<Token>& out) const {
  out.clear();
  SequenceKey key;
  const std::size_t n = text.size();
  const char* p = text.data();
  auto emit = [&](std::size_t b, std::size_t e) {
    const std::uint64_t h = token_hash(p + b, e - b);
    key.add(h);
    out.push_back(Token{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e - b), h});
  };
  std::size_t i = 0;
  if (simple_) {
    while (true) {
      while (i < n && static_cast<unsigned char>(p[i]) <= 0x20) ++i;
      if (i >= n) break;
      const std::size_t b = i;
      constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
      while (true) {
        if (n - i >= 8) {
          std::uint64_t w;
          std::memcpy(&w, p + i, 8);
          // Flags bytes < 0x21; the lowest flagged byte is exact (borrows only create
          // false flags above a true one).
          const std::uint64_t m = (w - kOnes * 0x21) & ~w & kHigh;
          if (m == 0) {
            i += 8;
            continue;
          }
          i += static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
          break;
        }
        while (i < n && static_cast<unsigned char>(p[i]) > 0x20) ++i;
        break;
      }
      emit(b, i);
    }
    return key.finish(out.size());
  }
  // An apostrophe between two word bytes belongs to the word ("don't").
  auto inner_apostrophe = [&](std::size_t k) {
    return apostrophe_ && p[k] == '\'' && k > 0 && k + 1 < n && word_byte(static_cast<unsigned char>(p[k - 1])) &&
           word_byte(static_cast<unsigned char>(p[k + 1]));
  };
  while (i < n) {
    const std::uint8_t t = cls_[static_cast<unsigned char>(p[i])];
    if (t == kDelim) {
      ++i;
      continue;
    }
    if (t == kPunct && !inner_apostrophe(i)) {
      emit(i, i + 1);
      ++i;
      continue;
    }
    const std::size_t b = i++;
    while (true) {
      while (i < n && cls_[static_cast<unsigned char>(p[i])] == kWord) ++i;
      if (i < n && inner_apostrophe(i)) {
        ++i;
        continue;
      }
      break;
    }
    emit(b, i);
  }
  return key.finish(out.size());
}

}  // namespace logguard::core::detail

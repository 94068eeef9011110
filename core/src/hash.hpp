#pragma once
// Hashing helpers for the parser: XXH3 (inlined) for token bytes and a 64-bit mixer.
// Stateless and thread-safe. Token hashes are persisted implicitly (recomputed from
// template text on snapshot load), so the seed must never change.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace logguard::core::detail {

inline std::uint64_t hash_bytes(const void* data, std::size_t size) noexcept {
  return XXH3_64bits(data, size);
}
inline std::uint64_t hash_sv(std::string_view s) noexcept { return XXH3_64bits(s.data(), s.size()); }

/// Finalizer of MurmurHash3 (a bijection on 64 bits): spreads keys over hash-table slots.
inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/// Hash of one token's bytes (the tree keys and template comparisons use it). A small
/// multiply-xorshift over 8-byte words, cheaper than XXH3 for the 1-30 byte tokens of log
/// lines. Not collision-resistant against crafted input (see docs/parser.md).
inline std::uint64_t token_hash(const char* p, std::size_t n) noexcept {
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ (static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ULL);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w;
    if (n >= 4) {  // two overlapping 4-byte loads cover all n bytes
      std::uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      w = a | (static_cast<std::uint64_t>(b) << 32);
    } else {
      w = static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) |
          (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n >> 1])) << 8) |
          (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
    }
    h = (h ^ w) * 0x94d049bb133111ebULL;
  }
  return mix64(h);
}
inline std::uint64_t token_hash(std::string_view s) noexcept { return token_hash(s.data(), s.size()); }

/// Key of a whole token sequence (the per-leaf exact-template index), built one token
/// hash at a time so the tokenizer can compute it on the fly.
struct SequenceKey {
  std::uint64_t h = 0x13198A2E03707344ULL;
  void add(std::uint64_t token) noexcept {
    h = (h ^ token) * 0x9E3779B97F4A7C15ULL;
    h = (h << 29) | (h >> 35);
  }
  std::uint64_t finish(std::size_t n) const noexcept { return mix64(h ^ n); }
};

/// The wildcard token every variable position shows in a template.
inline constexpr std::string_view kWildcard = "<*>";

}  // namespace logguard::core::detail

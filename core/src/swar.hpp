#pragma once
// Eight-bytes-at-a-time scans used on the hot path. Stateless, thread-safe.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace logguard::core::detail {

inline constexpr std::uint64_t kOnes8 = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHigh8 = 0x8080808080808080ULL;

/// Flags (high bit) bytes of w below n (n <= 128); the lowest flagged byte is exact.
inline std::uint64_t bytes_below(std::uint64_t w, std::uint8_t n) noexcept {
  return (w - kOnes8 * n) & ~w & kHigh8;
}

/// First index >= i with p[index] <= 0x20 (space or control byte), or n.
inline std::size_t find_ctl_or_space(const char* p, std::size_t i, std::size_t n) noexcept {
  while (n - i >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    const std::uint64_t m = bytes_below(w, 0x21);
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
    i += 8;
  }
  while (i < n && static_cast<unsigned char>(p[i]) > 0x20) ++i;
  return i;
}

/// First index >= i with an ASCII digit, or n.
inline std::size_t find_digit(const char* p, std::size_t i, std::size_t n) noexcept {
  while (n - i >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    const std::uint64_t m = bytes_below(w ^ (kOnes8 * 0x30), 10);
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
    i += 8;
  }
  while (i < n && !(p[i] >= '0' && p[i] <= '9')) ++i;
  return i;
}

}  // namespace logguard::core::detail

#pragma once
// FlatMap: open-addressing hash table (linear probing, backward-shift deletion) mapping
// (scope, 64-bit key) -> 32-bit value. Used for the Drain tree's child links
// (scope = parent node) and the per-leaf exact-template index (scope = leaf node).
// No allocation on lookup; insert allocates only when growing. Not thread-safe for
// writers; concurrent const lookups are fine.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hash.hpp"

namespace logguard::core::detail {

class FlatMap {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;  // "not found"; also marks empty slots

  /// Value stored for (scope, key), or kNone. `scope` must be < kNone.
  std::uint32_t find(std::uint32_t scope, std::uint64_t key) const noexcept {
    if (size_ == 0) return kNone;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home(scope, key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.scope == kNone) return kNone;
      if (s.scope == scope && s.key == key) return s.value;
    }
  }

  /// Inserts or overwrites.
  void assign(std::uint32_t scope, std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home(scope, key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.scope == kNone) {
        s = Slot{key, scope, value};
        ++size_;
        return;
      }
      if (s.scope == scope && s.key == key) {
        s.value = value;
        return;
      }
    }
  }

  /// Removes (scope, key) if present; returns whether it was.
  bool erase(std::uint32_t scope, std::uint64_t key) noexcept {
    if (size_ == 0) return false;
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home(scope, key) & mask;
    for (;; i = (i + 1) & mask) {
      if (slots_[i].scope == kNone) return false;
      if (slots_[i].scope == scope && slots_[i].key == key) break;
    }
    // Backward-shift: move later members of the probe run into the hole.
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & mask; slots_[j].scope != kNone; j = (j + 1) & mask) {
      const std::size_t h = home(slots_[j].scope, slots_[j].key) & mask;
      // Entry j may move to `hole` if its home is not in the cyclic range (hole, j].
      const bool in_range = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (!in_range) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].scope = kNone;
    --size_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }
  void clear() noexcept {
    slots_.clear();
    size_ = 0;
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t scope = kNone;
    std::uint32_t value = 0;
  };

  static std::uint64_t home(std::uint32_t scope, std::uint64_t key) noexcept {
    return mix64(key ^ (static_cast<std::uint64_t>(scope) * 0x9E3779B97F4A7C15ULL));
  }

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.scope != kNone) assign(s.scope, s.key, s.value);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace logguard::core::detail

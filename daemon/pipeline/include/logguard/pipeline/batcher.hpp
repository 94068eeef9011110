#pragma once
// Batcher: collects windows for the scorer. A batch is ready when it holds `max_batch`
// windows to score, or when its oldest window has waited `max_wait_ms`. release_only
// windows ride along (they keep their place in the order) but do not count toward
// max_batch and never wait on their own: a batch of only release_only windows is ready at once.
//
// Pure logic: time is passed in. Lifecycle: add() per window, tick() when the scorer thread
// wakes (next_deadline() says when), flush() at shutdown. Thread-safety: none (scorer thread).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

struct BatcherConfig {
  std::size_t max_batch = 32;
  std::int64_t max_wait_ms = 50;
  /// Throws core::ConfigError naming the key.
  void validate() const;
};

class Batcher {
 public:
  explicit Batcher(BatcherConfig config);  // validates
  /// Adds a window; returns the batch if it became full.
  std::optional<std::vector<Window>> add(Window w, std::int64_t now_ms);
  /// Returns the pending batch if its oldest scored window waited max_wait_ms, or if it
  /// holds only release_only windows.
  std::optional<std::vector<Window>> tick(std::int64_t now_ms);
  /// Returns whatever is pending (shutdown).
  std::optional<std::vector<Window>> flush();
  /// When tick() will next return a batch (nullopt: nothing pending).
  std::optional<std::int64_t> next_deadline() const;
  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  std::optional<std::vector<Window>> take();
  BatcherConfig config_;
  std::vector<Window> pending_;
  std::size_t to_score_ = 0;
  std::int64_t oldest_ms_ = 0;  // arrival of the first scored window of the pending batch
};

}  // namespace logguard::daemon

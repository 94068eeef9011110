#pragma once
// BundleScorer, the daemon's Scorer over the reloadable bundle (models::Scorer): each window
// of the pipeline is a chunk of a session, scored on exactly the offline model windows that
// plan_chunk (logguard/models/chunk_plan.hpp) picks, so that a session's windows OR to the
// verdict `logguard detect` gives the whole session.
// Thread-safety: the scorer thread (its counters are atomics readable from any thread).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/models/chunk_plan.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/pipeline/stages.hpp"
#include "logguard/service/model_holder.hpp"

namespace logguard::daemon {

/// The model windows of a pipeline window (a chunk of its session; see chunk_plan.hpp).
/// `event_of_token` indexes Window::events.
models::ChunkPlan plan_window(const Window& w, const models::ModelShape& m, const models::ChunkLayout& layout);

/// The verdict on a `pending` window (count mode, a quiet stream, the window not yet full):
/// anomalous when one of its new events (from Window::context on) is of a template labelled
/// abnormal, or unknown while a single unknown event already scores above the threshold --
/// evidence the whole window will carry too, so a preview never fires where the window, judged
/// whole, would not. Other evidence waits for the window to fill. No model runs.
Verdict preview_verdict(const Window& w, const models::Detection& det);

/// Scorer adapter counters.
struct ScorerStats {
  std::atomic<std::uint64_t> model_windows{0};   // model windows judged (cache hits included)
  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> cache_misses{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> reloads_seen{0};
};

/// Scorer over models::Scorer with a bounded verdict cache keyed by the model window's token
/// sequence (cleared when the model changes). The model is taken from the holder once per
/// batch, so a reload takes effect between batches.
class BundleScorer : public Scorer {
 public:
  BundleScorer(std::shared_ptr<ModelHolder> model, models::ChunkLayout layout, std::size_t cache_capacity);
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override;
  std::string model_version() const override;
  const ScorerStats& stats() const noexcept { return stats_; }
  /// Called after each batch with (windows in batch, model windows, seconds); optional.
  /// Called with each window's (score, threshold) on the scorer thread; optional.
  std::function<void(double, double)> on_verdict;
  std::function<void(std::size_t, std::size_t, double)> on_batch;

 private:
  struct Key {
    std::vector<std::uint32_t> tokens;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  std::shared_ptr<ModelHolder> model_;
  models::ChunkLayout layout_;
  std::size_t capacity_;
  std::uint64_t generation_ = 0;
  std::unordered_map<Key, models::WindowVerdict, KeyHash> cache_;
  std::vector<Key> fifo_;  // insertion order ring for eviction
  std::size_t fifo_next_ = 0;
  ScorerStats stats_;
};

}  // namespace logguard::daemon

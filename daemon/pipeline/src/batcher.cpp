#include "logguard/pipeline/batcher.hpp"

namespace logguard::daemon {

void BatcherConfig::validate() const {
  if (max_batch == 0 || max_batch > 65536) throw core::ConfigError("max_batch", "must be between 1 and 65536");
  if (max_wait_ms < 0) throw core::ConfigError("max_wait_ms", "must be >= 0");
}

Batcher::Batcher(BatcherConfig config) : config_(config) { config_.validate(); }

std::optional<std::vector<Window>> Batcher::take() {
  if (pending_.empty()) return std::nullopt;
  std::vector<Window> batch = std::move(pending_);
  pending_.clear();
  to_score_ = 0;
  return batch;
}

std::optional<std::vector<Window>> Batcher::add(Window w, std::int64_t now_ms) {
  const bool scored = !w.release_only;
  pending_.push_back(std::move(w));
  if (scored) {
    if (to_score_++ == 0) oldest_ms_ = now_ms;
    if (to_score_ >= config_.max_batch) return take();
  }
  return std::nullopt;
}

std::optional<std::vector<Window>> Batcher::tick(std::int64_t now_ms) {
  if (pending_.empty()) return std::nullopt;
  if (to_score_ == 0 || now_ms - oldest_ms_ >= config_.max_wait_ms) return take();
  return std::nullopt;
}

std::optional<std::vector<Window>> Batcher::flush() { return take(); }

std::optional<std::int64_t> Batcher::next_deadline() const {
  if (pending_.empty()) return std::nullopt;
  if (to_score_ == 0) return std::int64_t{0};
  return oldest_ms_ + config_.max_wait_ms;
}

}  // namespace logguard::daemon

// Partition handover on rebalances (see CheckpointOptions::handover): the consumer thread,
// inside Source::poll, saves a revoked partition's sessions through the StateStore and loads
// an assigned partition's.
#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include "logguard/pipeline/log.hpp"
#include "pipeline_impl.hpp"

namespace logguard::daemon {

using namespace std::chrono_literals;

// The rebalance handlers the source calls inside poll() (consumer thread). Before a rebalance
// takes partitions away: store what is done (without checkpoints; with them the last
// checkpoint's positions stay stored), or hand the partitions' sessions over. A new owner
// re-reads from there.
void Pipeline::Impl::install_rebalance_handlers() {
  source.set_revoke_handler([this](const std::vector<TopicPartition>& tps) {
    if (handover) return revoke_handover(tps);
    if (checkpoint_interval_ms > 0) return;
    auto offsets = tracker.take_committable();
    if (!offsets.empty()) source.store_offsets(offsets);
  });
  if (handover)
    source.set_assign_handler([this](const std::vector<TopicPartition>& tps) { return assign_handover(tps); });
}

// Revoke with handover (consumer thread, inside poll): the partitions' sessions leave this
// pipeline and are saved with their positions once every window closed before is delivered;
// then the positions are stored (committed by the source right after). If that fails, the
// partitions' last saved state and committed offsets still match: the new owner re-reads.
void Pipeline::Impl::revoke_handover(const std::vector<TopicPartition>& tps) {
  bool ok = false;
  finish_checkpoint(true, ok);  // an older periodic state must not be saved after this one
  const auto deadline = std::chrono::steady_clock::now() + handover_timeout;
  while (!failed && !pending_windows.empty() && !offer(pending_windows, pending_next, 100ms) &&
         std::chrono::steady_clock::now() < deadline) {
  }
  const std::set<TopicPartition> gone(tps.begin(), tps.end());
  PipelineCheckpoint out;
  out.windows.sessions = windower.take_sessions([&](const TopicPartition& tp) { return gone.count(tp) > 0; }, clock.now);
  for (const auto& tp : tps)
    if (auto it = positions.find(tp); it != positions.end()) out.positions.push_back({tp, it->second});
  const std::size_t sessions = out.windows.sessions.size();
  std::string problem;
  if (pending_windows.empty() && wait_delivered(handed, std::max<std::chrono::steady_clock::duration>(
                                                    deadline - std::chrono::steady_clock::now(), 0ms))) {
    if (!out.positions.empty()) {
      const auto stored = out.positions;
      auto saved = store->save(out);
      if (saved) {
        source.store_offsets(stored);
        ++stats.offset_stores;
        stats.handover_out_partitions += stored.size();
        stats.handover_out_sessions += sessions;
      } else {
        problem = saved.error().message;
      }
    }
  } else if (!failed) {
    problem = "windows still in flight after " + std::to_string(handover_timeout.count()) + " ms";
  }
  if (!problem.empty()) {
    ++stats.handover_failures;
    log_warning("handover of %zu revoked partition(s) not saved (%s); the new owner continues from the last "
                "saved state", tps.size(), problem.c_str());
  }
  for (const auto& tp : tps) {
    positions.erase(tp);
    tracker.forget(tp);
  }
}

// Assign with handover: continues the partitions' saved sessions; reading starts at their
// saved positions.
std::vector<SourcePosition> Pipeline::Impl::assign_handover(const std::vector<TopicPartition>& tps) {
  auto loaded = store->load(tps);
  if (!loaded) {
    ++stats.handover_failures;
    log_warning("handover state of %zu assigned partition(s) not loaded (%s); starting at the committed offsets "
                "without their open sessions", tps.size(), loaded.error().message.c_str());
    return {};
  }
  for (const auto& pos : loaded->positions) {
    tracker.forget(pos.tp);
    positions[pos.tp] = pos.offset;
  }
  hold(loaded->windows.sessions, {});
  const std::size_t n = loaded->windows.sessions.size();
  const std::size_t added = windower.adopt_sessions(std::move(loaded->windows.sessions), clock.now);
  if (added != n)
    log_warning("handover: %zu session(s) were already open here; kept ours", n - added);
  stats.handover_in_partitions += loaded->positions.size();
  stats.handover_in_sessions += added;
  return loaded->positions;
}

}  // namespace logguard::daemon

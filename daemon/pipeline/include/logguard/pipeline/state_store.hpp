#pragma once
// StateStore: where the pipeline's open state -- each partition's position (the next offset to
// process) and the open sessions -- is saved and loaded. The pipeline saves through it at its
// periodic checkpoints and at shutdown (every partition at once), and with partition handover
// inside a rebalance (the revoked partitions; on assign it loads the assigned ones).
// Implementations: FileStateStore (file_state_store.hpp, `state.dir`: one file for the whole
// pipeline) and KafkaStateStore (logguard/kafka/state_store.hpp, `handover:`: a compacted
// topic, one generation per partition).
#include <cstdint>
#include <functional>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/stages.hpp"
#include "logguard/pipeline/windower.hpp"

namespace logguard::daemon {

/// The open state a store saves (besides what the store adds itself, e.g. the parser).
struct PipelineCheckpoint {
  std::vector<SourcePosition> positions;  // per partition: the next offset to process
  WindowerState windows;                  // sessions carry their partition (Session::tp)
};

/// Encodes and durably writes one state; returns the bytes written or why not.
using CheckpointJob = std::function<core::Expected<std::uint64_t>()>;

/// Lifecycle: constructed (and loaded from) at start-up, then used by one pipeline.
/// Thread-safety: prepare() is called on the pipeline's consumer thread; the job it returns,
/// save() and load() run on one thread at a time (the checkpoint thread or the consumer thread).
class StateStore {
 public:
  virtual ~StateStore() = default;
  /// At the moment of a checkpoint, on the consumer thread, with a copy of the open state:
  /// captures whatever only that thread may read and returns the job that saves `state`.
  /// Default: a job that calls save().
  virtual CheckpointJob prepare(PipelineCheckpoint state) {
    return [this, s = std::move(state)] { return save(s); };
  }
  /// Durably saves the positions in `state.positions` with the sessions of those partitions;
  /// returns the bytes written or why not.
  virtual core::Expected<std::uint64_t> save(const PipelineCheckpoint& state) = 0;
  /// The last saved state of `partitions` (every saved partition when empty), re-mapped to the
  /// running model; partitions never saved are absent.
  virtual core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>& partitions) = 0;
};

}  // namespace logguard::daemon

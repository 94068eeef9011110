#pragma once
// FileStateStore: the pipeline's checkpoints in `<state.dir>/checkpoint.lgc`
// (docs/checkpoint-format.md): the whole pipeline's open state, the parser's snapshot and the
// model's template texts, replaced atomically at each checkpoint (checkpoint.hpp).
//
// Lifecycle: construct at start-up (creates the directory), restore() once before the pipeline
// is built (its result is PipelineOptions::restore), then the pipeline calls prepare() at each
// checkpoint. Thread-safety: prepare() on the consumer thread (it reads the parser there and
// binds the running model); the job it returns, save() and load() on one thread at a time.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/pipeline/state_store.hpp"

namespace logguard::daemon {

/// The parser's part of a checkpoint (the consumer thread's parser): optional.
struct ParserState {
  /// Serializes the parser (core::LineParser::save); called on the consumer thread.
  std::function<std::string()> save;
  /// Replaces the parser with a saved one; throws core::LoadError naming `source`.
  std::function<void(const std::string& snapshot, const std::string& source)> load;
};

class FileStateStore : public StateStore {
 public:
  /// Throws core::LoadError ("state.dir: cannot create ...") when `dir` cannot be created.
  /// `window_mode` (to_string(WindowConfig::Mode)): a checkpoint of another mode is refused.
  FileStateStore(std::string dir, std::string window_mode, StateModel model, ParserState parser = {});

  CheckpointJob prepare(PipelineCheckpoint state) override;
  core::Expected<std::uint64_t> save(const PipelineCheckpoint& state) override;
  /// The checkpoint's state (only `partitions` when not empty), re-mapped to the running model;
  /// empty without a checkpoint. Does not touch the parser.
  core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>& partitions) override;

  /// Start-up: the checkpoint to continue from, nullopt when there is none. Restores the
  /// parser (ParserState::load) and re-maps the events to the running model; logs what it
  /// restored. Throws core::LoadError naming the file when it is corrupt or was made with
  /// another window mode.
  std::optional<PipelineCheckpoint> restore();
  const std::string& dir() const noexcept { return dir_; }

 private:
  std::optional<CheckpointFile> read_checked();
  std::string dir_;
  std::string mode_;
  StateModel model_;
  ParserState parser_;
};

}  // namespace logguard::daemon

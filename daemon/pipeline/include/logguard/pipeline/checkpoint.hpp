#pragma once
// The checkpoint format: the parser state, the pipeline's open state (sessions and
// per-partition positions) and what is needed to reuse them with another model bundle
// (StateModel). Format: docs/checkpoint-format.md (versioned, little-endian, checksummed).
// Written as a file by FileStateStore and as Kafka records by KafkaStateStore.
//
// write_checkpoint() replaces `<dir>/checkpoint.lgc` atomically (temporary file, fsync,
// rename, fsync of the directory), so a crash leaves either the old or the new checkpoint.
// read_checkpoint() returns nullopt when there is none and throws core::LoadError naming the
// file when it is corrupt, truncated or of another format version.
// Thread-safety: free functions without shared state.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/state_store.hpp"

namespace logguard::daemon {

/// Everything but the pipeline's open state.
struct CheckpointMeta {
  std::string model_version;   // the bundle whose template ids the events carry
  std::string window_mode;     // "session" / "count" / "time": restore refuses another mode
  std::int64_t created_ms = 0; // wall clock, informational
  std::string parser_snapshot; // core::LineParser::save() bytes
  /// Text of every bundle template id the events use, to re-map them when the bundle changed.
  std::vector<std::pair<std::uint32_t, std::string>> templates;
};

struct CheckpointFile {
  CheckpointMeta meta;
  PipelineCheckpoint pipeline;
};

/// What saved states need of the running model: the text of the template ids they use, so that
/// a state saved under one model continues under another (re-mapped by text). The service
/// builds it over the reloadable bundle (bundle_state_model); tests use fixed ones.
struct StateModel {
  /// A model's description of a saved state: the meta's model_version and template texts for
  /// the template ids the state uses.
  using Describe = std::function<CheckpointMeta(const std::set<core::TemplateId>& used)>;
  /// The running model's Describe, taken at the moment of a checkpoint.
  std::function<Describe()> current;
  /// Re-maps the events of a state saved under `meta`'s model to the running model; returns
  /// (events re-mapped, of which now unknown), (0, 0) when the model is the same.
  std::function<std::pair<std::size_t, std::size_t>(const CheckpointMeta& meta, PipelineCheckpoint&)> adapt;
};

/// Adds the template ids of `events` to `used` (cheap on long runs of one id).
void add_used_templates(const std::vector<Event>& events, std::set<core::TemplateId>& used);

/// Re-maps the events of a checkpoint made with another bundle onto `by_text` (normalized
/// template text -> id of the running bundle) through the checkpoint's template table;
/// templates the running bundle lacks become unknown (0). Returns (events re-mapped, of which
/// now unknown). Does nothing when the versions are equal.
std::pair<std::size_t, std::size_t> remap_templates(const CheckpointMeta& meta, PipelineCheckpoint& p,
                                                    const std::string& model_version,
                                                    const std::unordered_map<std::string, core::TemplateId>& by_text);

/// The checkpoint's path inside a state directory.
std::string checkpoint_path(const std::string& dir);
/// Serializes (exposed for tests and size estimates).
std::string encode_checkpoint(const CheckpointMeta& m, const PipelineCheckpoint& p);
/// Parses; throws core::LoadError("<source>: ...") on any defect.
CheckpointFile decode_checkpoint(const std::string& bytes, const std::string& source);
/// Writes atomically; returns the bytes written or the reason (with the path) it failed.
core::Expected<std::uint64_t> write_checkpoint(const std::string& dir, const CheckpointMeta& m,
                                               const PipelineCheckpoint& p);
/// Reads `<dir>/checkpoint.lgc` if present.
std::optional<CheckpointFile> read_checkpoint(const std::string& dir);

}  // namespace logguard::daemon

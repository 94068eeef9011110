// Checkpoints in a state directory (see file_state_store.hpp).
#include "logguard/pipeline/file_state_store.hpp"

#include <filesystem>
#include <set>
#include <system_error>

#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {

FileStateStore::FileStateStore(std::string dir, std::string window_mode, StateModel model, ParserState parser)
    : dir_(std::move(dir)), mode_(std::move(window_mode)), model_(std::move(model)), parser_(std::move(parser)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw core::LoadError("state.dir: cannot create " + dir_ + ": " + ec.message());
}

CheckpointJob FileStateStore::prepare(PipelineCheckpoint p) {
  // On the consumer thread: the model running now and the parser as it is now.
  StateModel::Describe describe = model_.current();
  const std::int64_t created_ms = wall_ms();
  std::string snapshot = parser_.save ? parser_.save() : std::string();
  // The rest of the work (template table, encoding, writing) runs in the job.
  return [dir = dir_, mode = mode_, describe = std::move(describe), created_ms, snapshot = std::move(snapshot),
          p = std::move(p)]() mutable {
    std::set<core::TemplateId> used;
    for (const auto& s : p.windows.sessions) add_used_templates(s.events, used);
    add_used_templates(p.windows.stream, used);
    CheckpointMeta m = describe(used);
    m.window_mode = mode;
    m.created_ms = created_ms;
    m.parser_snapshot = std::move(snapshot);
    return write_checkpoint(dir, m, p);
  };
}

core::Expected<std::uint64_t> FileStateStore::save(const PipelineCheckpoint& state) { return prepare(state)(); }

std::optional<CheckpointFile> FileStateStore::read_checked() {
  auto file = read_checkpoint(dir_);
  if (!file) return std::nullopt;
  if (file->meta.window_mode != mode_)
    throw core::LoadError(checkpoint_path(dir_) + ": made with pipeline.window.mode " + file->meta.window_mode +
                          ", configured " + mode_ + " (move the file away to start afresh)");
  return file;
}

core::Expected<PipelineCheckpoint> FileStateStore::load(const std::vector<TopicPartition>& partitions) {
  std::optional<CheckpointFile> file;
  try {
    file = read_checked();
  } catch (const core::LoadError& e) {
    return core::Error{e.what()};
  }
  if (!file) return PipelineCheckpoint{};
  if (model_.adapt) model_.adapt(file->meta, file->pipeline);
  if (partitions.empty()) return std::move(file->pipeline);
  const std::set<TopicPartition> wanted(partitions.begin(), partitions.end());
  PipelineCheckpoint out;
  for (const auto& pos : file->pipeline.positions)
    if (wanted.count(pos.tp)) out.positions.push_back(pos);
  for (auto& s : file->pipeline.windows.sessions)
    if (wanted.count(s.tp)) out.windows.sessions.push_back(std::move(s));
  return out;
}

std::optional<PipelineCheckpoint> FileStateStore::restore() {
  auto file = read_checked();
  if (!file) {
    log_info("no checkpoint in %s: starting afresh", dir_.c_str());
    return std::nullopt;
  }
  const std::string path = checkpoint_path(dir_);
  if (parser_.load) parser_.load(file->meta.parser_snapshot, path + " (parser state)");
  const std::string running = model_.current ? model_.current()({}).model_version : file->meta.model_version;
  if (file->meta.model_version != running && model_.adapt) {
    // Another bundle: carry the events' templates over by text (the checkpoint's table).
    const auto [remapped, lost] = model_.adapt(file->meta, file->pipeline);
    log_info("checkpoint made with model %s, running %s: %zu events re-mapped by text, %zu now unknown",
             file->meta.model_version.c_str(), running.c_str(), remapped, lost);
  }
  std::size_t events = 0;
  for (const auto& s : file->pipeline.windows.sessions) events += s.events.size();
  events += file->pipeline.windows.stream.size();
  log_info("restored %s: %zu open sessions, %zu events, %zu partitions", path.c_str(),
           file->pipeline.windows.sessions.size(), events, file->pipeline.positions.size());
  return std::move(file->pipeline);
}

}  // namespace logguard::daemon

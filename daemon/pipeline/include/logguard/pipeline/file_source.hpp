#pragma once
// FileSource: replays a log file (or stdin) through the same pipeline as Kafka. The file
// is one partition (topic = the path, or "stdin"); a record's offset is its 0-based line
// number; its timestamp is the time it was read. Offsets stored by the pipeline are kept
// (stored_offset()) for a later checkpoint/resume. While paused, poll() returns no records.
// Lifecycle: construct (throws core::LoadError if the file cannot be opened), poll() until
// end_of_stream. Thread-safety: one thread. poll() waits at most its timeout (capped at 1 s)
// for input on a quiet pipe (stdin fed by `tail -f`), so idle sessions close and a stop is
// seen; a partial line stays buffered until its newline (or end of input) arrives.
#include <cstdio>
#include <memory>
#include <string>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

class FileSource : public Source {
 public:
  /// `path` "-" reads stdin. Lines longer than `max_line_bytes` are cut (see LineReader).
  FileSource(const std::string& path, std::size_t max_line_bytes);
  ~FileSource() override;

  PollStatus poll(std::vector<Record>& out, std::size_t max_records, std::chrono::milliseconds timeout) override;
  void pause() override { paused_ = true; }
  void resume() override { paused_ = false; }
  void store_offsets(std::span<const SourcePosition> next_offsets) override;
  std::string error() const override { return error_; }

  /// The last stored offset (next line to read), -1 before any.
  std::int64_t stored_offset() const noexcept { return stored_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
  std::int64_t stored_ = -1;
  bool paused_ = false;
};

}  // namespace logguard::daemon

#include "logguard/pipeline/file_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "logguard/pipeline/line_reader.hpp"

namespace logguard::daemon {

struct FileSource::Impl {
  std::FILE* file = nullptr;
  bool owned = false;
  std::string topic;
  std::int64_t next_offset = 0;
  bool eof = false;
  std::unique_ptr<detail::LineReader> reader;
};

FileSource::FileSource(const std::string& path, std::size_t max_line_bytes) : impl_(std::make_unique<Impl>()) {
  if (path == "-") {
    impl_->file = stdin;
    impl_->topic = "stdin";
  } else {
    impl_->file = std::fopen(path.c_str(), "rb");
    if (!impl_->file) throw core::LoadError(path + ": cannot open: " + std::strerror(errno));
    impl_->owned = true;
    impl_->topic = path;
  }
  impl_->reader = std::make_unique<detail::LineReader>(impl_->file, max_line_bytes);
}

FileSource::~FileSource() {
  if (impl_->owned) std::fclose(impl_->file);
}

Source::PollStatus FileSource::poll(std::vector<Record>& out, std::size_t max_records, std::chrono::milliseconds wait) {
  if (impl_->eof) return PollStatus::end_of_stream;
  if (paused_) return PollStatus::ok;
  // A quiet stdin must not block the consumer thread: idle sessions close and SIGTERM is seen.
  impl_->reader->set_wait(static_cast<int>(std::min<std::int64_t>(wait.count(), 1000)));
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::string_view line;
  bool cut = false;
  for (std::size_t n = 0; n < max_records; ++n) {
    if (!impl_->reader->next(line, cut)) {
      if (impl_->reader->starved()) return PollStatus::ok;
      if (impl_->reader->failed()) {
        error_ = impl_->topic + ": read error";
        return PollStatus::fatal;
      }
      impl_->eof = true;
      return n == 0 ? PollStatus::end_of_stream : PollStatus::ok;
    }
    Record& r = out.emplace_back();  // in place: no temporary to move
    r.line = SharedLine(std::string_view(line));
    r.pos.tp.topic = impl_->topic;
    r.pos.offset = impl_->next_offset++;
    r.timestamp_ms = now_ms;
    r.truncated = cut;
  }
  return PollStatus::ok;
}

void FileSource::store_offsets(std::span<const SourcePosition> next_offsets) {
  for (const auto& p : next_offsets)
    if (p.tp.topic == impl_->topic) stored_ = p.offset;
}

}  // namespace logguard::daemon

#pragma once
// StreamSink: writes anomaly records as JSON lines to stdout or a file (appending). A record
// is complete once written and flushed. Lifecycle: construct (throws core::LoadError if the
// file cannot be opened), write() from the sink thread. Thread-safety: one thread.
#include <cstdio>
#include <string>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

class StreamSink : public Sink {
 public:
  /// `path` "-" writes stdout.
  explicit StreamSink(const std::string& path);
  ~StreamSink() override;
  StreamSink(const StreamSink&) = delete;
  StreamSink& operator=(const StreamSink&) = delete;

  void write(std::string_view key, std::string_view id, std::string_view json, Done done) override;
  void poll(std::chrono::milliseconds) override {}
  std::size_t flush(std::chrono::milliseconds) override;

 private:
  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::string name_;
};

}  // namespace logguard::daemon

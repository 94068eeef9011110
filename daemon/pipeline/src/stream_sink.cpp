#include "logguard/pipeline/stream_sink.hpp"

#include <cerrno>
#include <cstring>

namespace logguard::daemon {

StreamSink::StreamSink(const std::string& path) : name_(path == "-" ? "stdout" : path) {
  if (path == "-") {
    out_ = stdout;
    return;
  }
  out_ = std::fopen(path.c_str(), "ab");
  if (!out_) throw core::LoadError(path + ": cannot open for writing: " + std::strerror(errno));
  owned_ = true;
}

StreamSink::~StreamSink() {
  if (owned_) std::fclose(out_);
}

void StreamSink::write(std::string_view, std::string_view, std::string_view json, Done done) {
  const bool ok = std::fwrite(json.data(), 1, json.size(), out_) == json.size() &&
                  std::fputc('\n', out_) != EOF && std::fflush(out_) == 0;
  const std::string error = ok ? std::string() : "write to " + name_ + " failed";
  if (done) done(ok, error);
}

std::size_t StreamSink::flush(std::chrono::milliseconds) {
  std::fflush(out_);
  return 0;
}

}  // namespace logguard::daemon

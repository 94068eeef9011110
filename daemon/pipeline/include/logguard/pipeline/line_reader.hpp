#pragma once
// LineReader: buffered reader of '\n'-terminated lines from a FILE* (file or stdin).
// Strips "\n" and a preceding "\r". A line longer than `max_bytes` is cut to max_bytes+1
// bytes (so the parser still sees, and counts, that it is over its limit) and the rest of
// it is skipped without being buffered: memory stays bounded on hostile input.
// With set_wait(ms) a read waits at most that long for input (a quiet pipe: stdin fed by
// `tail -f`); next() then returns false with starved() set and resumes where it stopped.
// Lifecycle: owns the buffer, not the FILE*. Not thread-safe.
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::daemon::detail {

class LineReader {
 public:
  LineReader(std::FILE* in, std::size_t max_bytes);

  /// Next line, valid until the next call. False at end of input (a final line without
  /// terminator is still returned). `cut` is set when the line was longer than max_bytes.
  bool next(std::string_view& line, bool& cut);
  /// True if reading failed with an I/O error (as opposed to end of file).
  bool failed() const { return read_error_ || std::ferror(in_) != 0; }
  /// How long a read may wait for input; negative: until input or end of file (the default).
  void set_wait(int ms) { wait_ms_ = ms; }
  /// True if the last next() returned false because no input came within the wait (the
  /// input is not at its end; call next() again later).
  bool starved() const { return starved_; }

 private:
  bool fill(bool may_wait);
  std::FILE* in_;
  std::size_t max_bytes_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool read_error_ = false;
  bool starved_ = false;
  int wait_ms_ = -1;
  std::string long_line_;
};

}  // namespace logguard::daemon::detail

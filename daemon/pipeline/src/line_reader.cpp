#include "logguard/pipeline/line_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace logguard::daemon::detail {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

LineReader::LineReader(std::FILE* in, std::size_t max_bytes)
    : in_(in), max_bytes_(max_bytes == 0 ? 1 : max_bytes), buf_(kChunk) {}

bool LineReader::fill(bool may_wait) {
  if (eof_) return false;
  if (begin_ > 0) {  // compact
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) return false;  // full without a newline: caller handles
  if (may_wait && wait_ms_ >= 0) {
    pollfd p{::fileno(in_), POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, wait_ms_);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {  // nothing yet; readable, hang-up or error are all left to read(2)
      starved_ = true;
      return false;
    }
  }
  // read(2), not fread: on a pipe (logguardd's stdin source) it returns what is there
  // instead of waiting for a full buffer.
  ssize_t n;
  do {
    n = ::read(::fileno(in_), buf_.data() + end_, buf_.size() - end_);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0) read_error_ = true;
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line, bool& cut) {
  cut = false;
  starved_ = false;
  long_line_.clear();
  bool in_long = false;  // collecting a line longer than the buffer
  std::size_t scanned = 0;
  for (;;) {
    const char* base = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* nl = avail > scanned ? std::memchr(base + scanned, '\n', avail - scanned) : nullptr;
    if (nl != nullptr) {
      std::size_t len = static_cast<const char*>(nl) - base;
      begin_ += len + 1;
      if (in_long) {
        const std::size_t room = max_bytes_ + 1 > long_line_.size() ? max_bytes_ + 1 - long_line_.size() : 0;
        if (len > room) cut = true;
        long_line_.append(base, std::min(len, room));
        if (!long_line_.empty() && long_line_.back() == '\r' && !cut) long_line_.pop_back();
        line = long_line_;
        return true;
      }
      if (len > 0 && base[len - 1] == '\r') --len;
      if (len > max_bytes_ + 1) {
        len = max_bytes_ + 1;
        cut = true;
      }
      line = std::string_view(base, len);
      return true;
    }
    scanned = avail;
    if (avail == buf_.size() || (eof_ && avail > 0)) {
      // No newline in a full buffer (or at end of input): move what we have aside.
      const std::size_t room = max_bytes_ + 1 > long_line_.size() ? max_bytes_ + 1 - long_line_.size() : 0;
      if (avail > room) cut = true;
      long_line_.append(base, std::min(avail, room));
      begin_ = end_ = 0;
      scanned = 0;
      in_long = true;
      if (eof_) {
        if (!cut && !long_line_.empty() && long_line_.back() == '\r') long_line_.pop_back();
        line = long_line_;
        return true;
      }
    }
    // A line longer than the buffer is being collected in long_line_: finish it without a
    // time limit (returning now would lose it).
    if (!fill(!in_long)) {
      if (starved_) return false;  // the partial line stays buffered for the next call
      if (eof_ && end_ == begin_) {
        if (in_long) {
          line = long_line_;
          return true;
        }
        return false;
      }
    }
  }
}

}  // namespace logguard::daemon::detail

// The daemon's log (see log.hpp).
#include "logguard/pipeline/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <vector>

namespace logguard::daemon {
namespace {

struct LogState {
  std::mutex mu;
  LogSink sink;
  std::string program = "logguardd";
};

LogState& state() {
  static LogState s;
  return s;
}

void write(LogLevel level, const char* format, std::va_list args) {
  std::va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  std::vector<char> text(n > 0 ? static_cast<std::size_t>(n) + 1 : 1, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size(), format, again);
  va_end(again);
  const std::string_view message(text.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.sink) return s.sink(level, message);
  const std::string line = s.program + ": " + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void set_log_sink(LogSink sink) {
  std::lock_guard lock(state().mu);
  state().sink = std::move(sink);
}

void set_log_program(std::string name) {
  std::lock_guard lock(state().mu);
  state().program = std::move(name);
}

#define LOGGUARD_LOG_FUNCTION(name, level) \
  void name(const char* format, ...) {     \
    std::va_list args;                     \
    va_start(args, format);                \
    write(level, format, args);            \
    va_end(args);                          \
  }

LOGGUARD_LOG_FUNCTION(log_info, LogLevel::info)
LOGGUARD_LOG_FUNCTION(log_warning, LogLevel::warning)
LOGGUARD_LOG_FUNCTION(log_error, LogLevel::error)

#undef LOGGUARD_LOG_FUNCTION

}  // namespace logguard::daemon

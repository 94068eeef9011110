#pragma once
// The daemon's log: one line per message on stderr, "<program>: <message>" (the program name
// defaults to "logguardd"), printf-style. Library code logs through it instead of writing to
// stderr itself, so that tests can capture the lines (set_log_sink) and every line is written
// whole, also from several threads.
// Thread-safety: every function may be called from any thread; set_log_sink() and
// set_log_program() are meant for start-up and tests.
#include <functional>
#include <string>
#include <string_view>

namespace logguard::daemon {

enum class LogLevel { info, warning, error };

/// Where lines go; the default writes "<program>: <message>\n" to stderr. An empty function
/// restores the default.
using LogSink = std::function<void(LogLevel, std::string_view message)>;
void set_log_sink(LogSink sink);
void set_log_program(std::string name);

/// Start-up and shutdown steps, state changes (model loaded, checkpoint restored).
void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));
/// Something did not work and the daemon goes on (a checkpoint not taken, a handover lost).
void log_warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
/// The daemon stops because of it.
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace logguard::daemon

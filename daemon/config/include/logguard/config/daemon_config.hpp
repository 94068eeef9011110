#pragma once
// Settings of the `logguardd` process itself (YAML `source:`, `sink:`, `state:`,
// `shutdown_timeout_ms`, `metrics:`); the stages' own settings live in their config structs
// (pipeline, kafka, parser, model). Plain values; validate() throws core::ConfigError keyed
// by the YAML path below the top level (e.g. "source.path") or below the section ("port").
#include <cstdint>
#include <string>

namespace logguard::daemon {

struct DaemonConfig {
  enum class SourceKind { kafka, file, stdin_ };
  enum class SinkKind { kafka, stdout_, file };
  SourceKind source = SourceKind::kafka;
  std::string source_path;                  // source.path (file)
  SinkKind sink = SinkKind::kafka;
  std::string sink_path;                    // sink.path (file; appended)
  std::string state_dir;                    // state.dir: checkpoints; empty = none
  std::int64_t checkpoint_interval_ms = 10000;  // state.checkpoint_interval_ms
  bool flush_at_shutdown = true;            // state.flush_at_shutdown: false = open sessions stay in
                                            // the final checkpoint and continue after a restart
  std::int64_t shutdown_timeout_ms = 30000;     // SIGTERM: finish, flush and commit within this
  // Set by the loader: the pipeline.window keys absent from the file (the daemon then takes
  // the chunk length from the bundle: length = 4 W, stride = length - W).
  bool window_length_set = false;
  bool window_stride_set = false;
  // pipeline.window.mode absent: the daemon cuts sessions as the bundle's training did
  // (count windows of N lines, entity sessions, or sessions by the bundle's session key).
  bool window_mode_set = false;

  void validate() const;
};

/// The `metrics:` section: where the metrics / health endpoint (service's HttpServer) listens.
struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";  // loopback by default; "0.0.0.0" exposes it
  int port = 9464;
  /// Throws core::ConfigError naming the key.
  void validate() const;
};

}  // namespace logguard::daemon

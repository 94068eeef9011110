// Validation of the logguardd process settings (see daemon_config.hpp).
#include "logguard/config/daemon_config.hpp"

#include <arpa/inet.h>

#include "logguard/core/error.hpp"

namespace logguard::daemon {
namespace {

// An IPv4 or IPv6 literal, as Boost.Asio's make_address reads one (which the metrics server
// binds with): an IPv6 address may carry a "%scope" suffix.
bool is_ip_address(const std::string& text) {
  unsigned char buf[16];
  const std::string v6 = text.substr(0, text.find('%'));
  return ::inet_pton(AF_INET6, v6.c_str(), buf) == 1 || ::inet_pton(AF_INET, text.c_str(), buf) == 1;
}

}  // namespace

void DaemonConfig::validate() const {
  using core::ConfigError;
  if (source == SourceKind::file && source_path.empty()) throw ConfigError("source.path", "required for type file");
  if (source != SourceKind::file && !source_path.empty())
    throw ConfigError("source.path", "only for type file");
  if (sink == SinkKind::file && sink_path.empty()) throw ConfigError("sink.path", "required for type file");
  if (sink != SinkKind::file && !sink_path.empty()) throw ConfigError("sink.path", "only for type file");
  if (checkpoint_interval_ms <= 0) throw ConfigError("state.checkpoint_interval_ms", "must be > 0");
  if (shutdown_timeout_ms <= 0) throw ConfigError("shutdown_timeout_ms", "must be > 0");
}

void MetricsConfig::validate() const {
  if (address.empty()) throw core::ConfigError("address", "must not be empty");
  if (!is_ip_address(address)) throw core::ConfigError("address", "not an IP address: " + address);
  if (port < 0 || port > 65535) throw core::ConfigError("port", "must be between 0 and 65535");
}

}  // namespace logguard::daemon

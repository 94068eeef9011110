#pragma once
// Metrics: the daemon's Prometheus registry (prometheus-cpp) and the small HTTP server that
// exposes it with the health endpoints.
//
// Naming rules, enforced when a metric is created: `logguard_<noun>_<unit>` (unit one of
// total, bytes, seconds, ratio, count, info), and only low-cardinality labels: label names
// that would carry per-session or per-line values are refused.
#include <atomic>
#include <cstdint>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace logguard::daemon {

struct PipelineStats;
struct WindowerStats;

/// Wraps a prometheus::Registry. Lifecycle: created at start-up; metrics are added at
/// start-up (throws std::invalid_argument on a name or label that breaks the rules), then
/// updated from any thread; refresh hooks run before each scrape to copy counters that live
/// elsewhere (pipeline stats). Thread-safety: all members thread-safe.
class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;
  Metrics();
  ~Metrics();
  prometheus::Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  prometheus::Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  /// `bounds`: the buckets' upper bounds, ascending (+Inf is implicit).
  prometheus::Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                                   const Labels& labels = {});
  /// Runs before every serialization (scrape).
  void on_scrape(std::function<void()> refresh);
  /// The Prometheus text exposition format (version 0.0.4).
  std::string serialize();
  /// Sets a counter to `value` (counters only move up; a lower value is ignored).
  static void advance(prometheus::Counter& c, double value);

  /// Checks the naming rules (for tests and the metric builders).
  static bool valid_name(const std::string& name);
  static bool valid_label(const std::string& label);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::vector<std::function<void()>> hooks_;
};

/// Registers the pipeline's counters (records, windows, anomalies, drops, pauses ...) so that
/// each scrape reads them from `stats` (which must outlive `metrics`' scrapes).
void export_pipeline_metrics(Metrics& metrics, const PipelineStats& stats);

/// The `metrics:` section: where HttpServer listens.
struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";  // loopback by default; "0.0.0.0" exposes it
  int port = 9464;
  /// Throws core::ConfigError naming the key.
  void validate() const;
};

/// Minimal HTTP/1.1 server (Boost.Asio) for GET /metrics, /healthz and /readyz; every
/// response closes the connection. /healthz answers 200 while the process serves requests;
/// /readyz 200 once ready() returns true (model loaded, source assigned), else 503.
/// Lifecycle: the constructor binds and starts one I/O thread (throws std::runtime_error
/// naming the address if binding fails); the destructor stops it. Thread-safety: the
/// callbacks run on the I/O thread.
class HttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;
    std::function<bool()> ready;
  };
  /// `port` 0 picks a free port (see port()). A client gets `connection_timeout` to send its
  /// request head and read the answer, then it is disconnected; at most 64 at a time.
  HttpServer(const std::string& address, std::uint16_t port, Handlers handlers,
             std::chrono::milliseconds connection_timeout = std::chrono::milliseconds(5000));
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  std::uint16_t port() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon

#pragma once
// Metrics: the daemon's Prometheus registry (prometheus-cpp). What is registered: probes.hpp;
// the HTTP endpoint that serves it: http_server.hpp.
//
// Naming rules, enforced when a metric is created: `logguard_<noun>_<unit>` (unit one of
// total, bytes, seconds, ratio, info, windows, sessions, templates, messages, brokers, nats,
// patterns), and only low-cardinality labels: label names
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

/// Wraps a prometheus::Registry. Lifecycle: created at start-up; metrics are added at
/// start-up (throws std::invalid_argument on a name or label that breaks the rules), then
/// updated from any thread; refresh hooks run before each scrape to copy counters that live
/// elsewhere (pipeline stats). A labelled() view shares the registry and adds its labels to
/// every metric registered through it (one view per stream: `stream="hdfs"`).
/// Thread-safety: all members thread-safe.
class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = default;
  Metrics& operator=(const Metrics&) = default;
  /// A view of the same registry whose metrics all carry `labels` too (low-cardinality ones:
  /// checked like any label).
  Metrics labelled(const Labels& labels) const;
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
  /// A counter / gauge that every scrape sets from `value`, a counter kept elsewhere (stage
  /// statistics); `value` must outlive the scrapes.
  void counter_of(const std::string& name, const std::string& help, const std::atomic<std::uint64_t>& value,
                  const Labels& labels = {});
  void gauge_of(const std::string& name, const std::string& help, const std::atomic<std::uint64_t>& value,
                const Labels& labels = {});

  /// Checks the naming rules (for tests and the metric builders).
  static bool valid_name(const std::string& name);
  static bool valid_label(const std::string& label);

 private:
  struct Shared {
    std::shared_ptr<prometheus::Registry> registry;
    std::mutex mu;
    std::vector<std::function<void()>> hooks;
  };
  Labels with_base(const Labels& labels) const;
  std::shared_ptr<Shared> s_;
  Labels base_;
};

}  // namespace logguard::daemon
